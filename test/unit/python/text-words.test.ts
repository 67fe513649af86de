/**
 * text-words.ts answers what the regexes it replaces answered: on every example and fixture of the
 * repository and on hand-made edge cases, the words a WordSet accepts (and their order) are those of
 * `matchAll(/\w+/g)` that are in the set, writtenBare is `(?<!\.\s*)(?<!\w)word(?!\w)`, callsInText finds the
 * calls (grouped by what is called: read back in text order here) `(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(` and `(?<!\w)\w+(?=\s*\()` find, and the words it
 * lists that `^(?:P)$` accepts are where `(?<!\w)(?:P)(?=\s*\()` matches, for alternations P of words.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { callsInText, WordSet, writtenBare, type OffsetsByWord, type WordAt } from '../../../src/analysis/python/text-words';
import { collectInputs } from '../../../src/cli/inputs';
import { readInput } from '../../../src/cli/read-source';
import { REPO_ROOT } from '../cli/run-cli';

/** A name longer than the lengths WordSet tells apart, and words of its first letter as long or longer. */
const LONG = `L${'o'.repeat(69)}ng`;

const NAMES = ['nn', 'F', 'Dense', 'Sequential', 'Linear', 'self', 'x', 'forward', 'model', 'layers', 'torch', 'keras', 'init', 'relu', '_', 'Conv2d', 'fit', LONG];

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
  'fit (x) fit\n(x) fit\u00a0(x) fit\u2028(x) fit.(x) fit_(x) 2fit(x) _fit(x) é fit(x)',
  'ResnetBuilder.build(3) ResnetBuilder .build(3) ResnetBuilder. build(3) ResnetBuilder.build.x(3) a.ResnetBuilder.build(3) ResnetBuilder.2build(3)',
  'Dense(Dense(3))Dense(',
  `${LONG} ${LONG}x L${'o'.repeat(80)} ${LONG.slice(0, -1)}g(${LONG}) ${LONG.slice(1)}`,
  '',
];

/** Offsets by word as one list in text order. */
function inTextOrder(byWord: OffsetsByWord): WordAt[] {
  return [...byWord].flatMap(([word, offsets]) => offsets.map((index) => ({ word, index }))).sort((a, b) => a.index - b.index);
}

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

  it('lists the calls of plain and dotted names, and the words before a (, that the regexes find, in order', () => {
    let names = 0;
    let words = 0;
    for (const text of texts) {
      const calls = callsInText(text);
      const found = { names: inTextOrder(calls.names), words: inTextOrder(calls.words) };
      const expectedNames = [...text.matchAll(/(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(/g)].map((m) => ({ word: m[1]!, index: m.index }));
      const expectedWords = [...text.matchAll(/(?<!\w)\w+(?=\s*\()/g)].map((m) => ({ word: m[0], index: m.index }));
      expect({ text: text.slice(0, 40), ...found }).toEqual({ text: text.slice(0, 40), names: expectedNames, words: expectedWords });
      names += expectedNames.filter((c) => c.word.includes('.')).length;
      words += expectedWords.length;
    }
    expect({ dotted: names > 100, words: words > 1000 }).toEqual({ dotted: true, words: true });
  });

  it('finds the words an alternation of words accepts where its regex with a lookbehind finds them', () => {
    const patterns = ['backward|manual_backward|gradient|step|apply_gradients|clamp_?|\\w*[cC][lL][iI][pP]\\w*', 'fit|fit_generator|train_on_batch', 'Dense|Sequential', 'reshape|view|rand|randn', 'x'];
    let found = 0;
    for (const text of texts) {
      const words = inTextOrder(callsInText(text).words);
      for (const pattern of patterns) {
        const expected = [...text.matchAll(new RegExp(`(?<![\\w])(?:${pattern})(?=\\s*\\()`, 'g'))].map((m) => ({ word: m[0], index: m.index }));
        const accepts = new RegExp(`^(?:${pattern})$`);
        expect(words.filter((c) => accepts.test(c.word))).toEqual(expected);
        found += expected.length;
      }
    }
    expect(found).toBeGreaterThan(300);
  });

  it('finds a word written without a dot before it as the regex with a lookbehind does', () => {
    for (const text of texts) {
      for (const word of NAMES.filter((w) => /^\w+$/.test(w))) {
        expect({ text: text.slice(0, 40), word, bare: writtenBare(text, word) }).toEqual({ text: text.slice(0, 40), word, bare: new RegExp(`(?<!\\.\\s*)(?<![\\w])${word}(?![\\w])`).test(text) });
      }
    }
  });
});
