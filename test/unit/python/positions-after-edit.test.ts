/**
 * What an edit carries from the version before (issue 10): a keystroke in a long file does not search
 * all of it for line breaks again, nor read every top-level statement again. The carried line starts must
 * be those a search of the new text gives, whatever the edit writes or deletes (line breaks included), and
 * positions and top-level statements read from an incrementally parsed file must be those of the same text
 * parsed whole.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { topLevelStatements } from '../../../src/analysis/python/top-level';
import { carryLineStarts, lineStarts } from '../../../src/analysis/rules/helpers/text-offsets';
import { diffEdit, pointAt } from '../../../src/server/sourceEdit';
import { defined } from '../../defined';

/** Line starts by splitting, as the reference. */
function splitStarts(text: string): number[] {
  const starts = [0];
  text.split('\n').slice(0, -1).reduce((at, line) => (starts.push(at + line.length + 1), at + line.length + 1), 0);
  return starts;
}

const textArb = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '\n', 'é', '#'), maxLength: 120, size: 'large' });

describe('line starts carried through an edit', () => {
  it('equal those of the new text searched whole (any edit, line breaks written or deleted)', () => {
    fc.assert(
      fc.property(textArb, fc.nat(), fc.nat({ max: 12 }), textArb, (before, at, remove, insert) => {
        const start = at % (before.length + 1);
        const oldEnd = Math.min(before.length, start + remove);
        const after = before.slice(0, start) + insert + before.slice(oldEnd);
        // The table of the text before is known (an analysis read it), as it is in the editor.
        lineStarts(before);
        carryLineStarts(before, after, {
          startIndex: start,
          oldEndIndex: oldEnd,
          newEndIndex: start + insert.length,
          startPosition: pointAt(before, start),
          oldEndPosition: pointAt(before, oldEnd),
          newEndPosition: pointAt(after, start + insert.length),
        });
        expect(lineStarts(after)).toEqual(splitStarts(after));
      }),
      { numRuns: 600, seed: 20261204 },
    );
  });

  it('leave an unknown text to be searched whole', () => {
    const before = 'a\nb\n';
    const after = 'a\nxy\nb\n';
    carryLineStarts(`${before}# never read\n`, after, { startIndex: 2, oldEndIndex: 2, newEndIndex: 5, startPosition: { row: 1, column: 0 }, oldEndPosition: { row: 1, column: 0 }, newEndPosition: { row: 2, column: 0 } });
    expect(lineStarts(after)).toEqual([0, 2, 5, 7]);
  });
});

describe('positions in a file parsed incrementally', () => {
  let parser: Parser;
  beforeAll(async () => {
    parser = await createPythonParser();
  });

  it('are those of the same text parsed whole, after lines are typed and deleted above', () => {
    let text = 'import torch.nn as nn\n\n\ndef build():\n    return nn.Sequential(nn.Linear(4, 8), nn.ReLU())\n\n\nnet = build()\n';
    let file = PyFile.parse(parser, 'net.py', text);
    file.root.tree.position(0);
    for (const next of [text.replace('\n\ndef', '\n\n# a note\n\ndef'), text.replace('nn.ReLU()', 'nn.Tanh(),\n        nn.ReLU()'), text.replace('\n\n\nnet', '\nnet')]) {
      const edited = PyFile.parse(parser, 'net.py', next, file, defined(diffEdit(text, next)));
      const whole = PyFile.parse(parser, 'net.py', next);
      for (const index of [0, next.indexOf('def'), next.indexOf('ReLU'), next.indexOf('net ='), next.length]) {
        expect(edited.root.tree.position(index)).toEqual(whole.root.tree.position(index));
      }
      whole.dispose();
      file.dispose();
      [file, text] = [edited, next];
    }
    file.dispose();
  });
});

describe('top-level statements of a file parsed incrementally', () => {
  let parser: Parser;
  beforeAll(async () => {
    parser = await createPythonParser();
  });

  const SOURCE = `import torch.nn as nn
# a comment between statements


def build(width):
    layers = [nn.Linear(4, width), nn.ReLU()]
    return nn.Sequential(*layers)


@decorated
def helper():
    return 1

net = build(8)
print(net)
`;

  /** Edits inside a definition (lines typed, deleted, the last line changed), and some that change the statements around it. */
  const EDITS: [string, string][] = [
    ['nn.ReLU()]', 'nn.ReLU(), nn.Linear(width, 2)]'],
    ['    return nn.Sequential(*layers)', '    layers.append(nn.Tanh())\n    return nn.Sequential(*layers)'],
    ['(*layers)', '(*layers[:1])'],
    ['    return 1', '    return 1\n\n    x = 2'],
    ['    layers.append(nn.Tanh())\n', ''],
    ['    return nn.Sequential(*layers[:1])', 'return nn.Sequential(*layers[:1])'],
    ['return nn.Sequential(*layers[:1])', '    return nn.Sequential(*layers[:1])'],
    ['    layers = [', '    layers = """['],
    ['    layers = """[', '    layers = ['],
  ];

  it('are those of the same text parsed whole, after each edit in turn', () => {
    let text = SOURCE;
    let file = PyFile.parse(parser, 'net.py', text);
    for (const [from, to] of EDITS) {
      const next = text.replace(from, to);
      expect(next).not.toBe(text);
      const edited = PyFile.parse(parser, 'net.py', next, file, defined(diffEdit(text, next)));
      const whole = PyFile.parse(parser, 'net.py', next);
      expect(topLevelStatements(edited.root)).toEqual(topLevelStatements(whole.root));
      whole.dispose();
      file.dispose();
      [file, text] = [edited, next];
    }
    file.dispose();
  });
});
