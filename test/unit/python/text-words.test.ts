/**
 * text-words.ts answers what the regexes it replaces answered: on every example and fixture of the
 * repository and on hand-made edge cases, the words a WordSet accepts (and their order) are those of
 * `matchAll(/\w+/g)` that are in the set, and writtenBare is `(?<!\.\s*)(?<!\w)word(?!\w)`.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { WordSet, writtenBare } from '../../../src/analysis/python/text-words';
import { collectInputs } from '../../../src/cli/inputs';
import { readInput } from '../../../src/cli/read-source';
import { REPO_ROOT } from '../cli/run-cli';

const NAMES = ['nn', 'F', 'Dense', 'Sequential', 'Linear', 'self', 'x', 'forward', 'model', 'layers', 'torch', 'keras', 'init', 'relu', '_', 'Conv2d', 'fit'];

const EDGES = [
  'Dense',
  'Dense(3)',
  'layers.Dense(3)',
  'layers. Dense(3)',
  'layers.\n    Dense(3)',
  'x = Dense_(3); Dense',
  'MyDense(3) Dense2 _Dense',
  '.Dense',
  '  \n Dense',
  'a.b\u00a0Dense',
  'é Dense',
  'model.fit(x); fit(x)',
  '',
];

function sources(): string[] {
  const inputs = collectInputs(['examples', 'test/fixtures'].map((p) => join(REPO_ROOT, p)));
  return inputs.files.flatMap((path) => {
    const source = readInput(path);
    return source.error === null ? [source.text] : [];
  });
}

describe('text words', () => {
  const texts = [...sources(), ...EDGES];

  it('accepts the words of the set in the order matchAll(/\\w+/g) meets them', () => {
    expect(texts.length).toBeGreaterThan(100);
    const set = new WordSet(NAMES);
    const known = new Set(NAMES);
    for (const text of texts) {
      const seen: string[] = [];
      expect(set.someIn(text, (word) => (seen.push(word), false))).toBe(false);
      expect(seen).toEqual([...text.matchAll(/\w+/g)].map((m) => m[0]).filter((w) => known.has(w)));
      // It stops at the first word accepted.
      const first = seen[0];
      if (first !== undefined) {
        let asked = 0;
        expect(set.someIn(text, () => (asked++, true))).toBe(true);
        expect(asked).toBe(1);
      }
    }
  });

  it('finds a word written without a dot before it as the regex with a lookbehind does', () => {
    for (const text of texts) {
      for (const word of NAMES.filter((w) => /^\w+$/.test(w))) {
        expect({ text: text.slice(0, 40), word, bare: writtenBare(text, word) }).toEqual({ text: text.slice(0, 40), word, bare: new RegExp(`(?<!\\.\\s*)(?<![\\w])${word}(?![\\w])`).test(text) });
      }
    }
  });
});
