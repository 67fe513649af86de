/**
 * An edited file's older versions are let go (issue 10). The editor's project caches what it read of
 * each statement between analyses; a cache that kept a word or a statement cut from the file's text
 * kept that whole version of the file (V8 makes substrings views into their string), and a closure
 * that kept the previous version's ids kept every version before it: each keystroke in a 5,000-line
 * file held about 230 kB more, 250 MB after 1,000 keystrokes. Here a long file is edited with a new
 * text each time, as typing does, and the heap after a full collection must stay near where it began.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import { editAt, generateFile } from '../../../bench/generate.mjs';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

function heapMb(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed / 1048576;
}

const EDITS = 150;

/** Where typing happens (after the marker), and the text there after the n-th keystroke (each one new; the digits written there before the first). */
const SITES: [string, string, number, (n: number) => string][] = [
  ['a layer width in a Keras builder', 'layers.Dense(128, activation=', 'layers.Dense('.length, (n) => String(128 + n)],
  ['a default argument of a PyTorch module', '    def __init__(self, width=', '    def __init__(self, width='.length, (n) => String(1000 + n)],
  ['a line above a model (every definition below moves)', '\ndef build_keras', 1, (n) => `seed_${String(n)} = ${String(n)}\n`],
];

describe('incremental analysis memory', () => {
  for (const [what, marker, offset, typed] of SITES) {
    it(`keeps no older version of a 5,000-line file while ${what} is typed`, async () => {
      const text = generateFile(5000, 'dense');
      const path = '/workspace/dense.py';
      const project = await Project.create({ incremental: true });
      try {
        project.setFile(path, text);
        project.analyzeFile(path);
        const index = text.indexOf(marker, Math.floor(text.length / 2)) + offset;
        let current = text;
        let written = /^\d*/.exec(text.slice(index))?.[0] ?? '';
        const edit = (n: number) => {
          const from = written;
          const to = (written = typed(n));
          const next = current.slice(0, index) + to + current.slice(index + from.length);
          project.setFile(path, next, editAt(current, index, from, to));
          const result = project.analyzeFile(path);
          current = next;
          return result;
        };
        // Warm the caches first: what they hold of the newest text is not what is measured.
        for (let n = 0; n < 10; n++) edit(n);
        const before = heapMb();
        for (let n = 10; n < 10 + EDITS; n++) {
          const result = edit(n);
          // Each text still parses: the models are read in groups, as when typing.
          expect(result.notices.filter((notice) => /syntax/i.test(notice.message))).toEqual([]);
          expect(result.models.length).toBeGreaterThan(100);
        }
        const grown = heapMb() - before;
        // A version of this file is ~0.2 MB: keeping each would grow the heap by ~30 MB here.
        expect(grown).toBeLessThan(8);
      } finally {
        project.dispose();
      }
    });
  }
});
