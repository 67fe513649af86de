/**
 * The calls of a file's model names, found again only around an edit (extract/instantiation.ts): after
 * any sequence of edits, the calls kept and moved from the text before plus those searched again around
 * the change equal a search of the whole new text (a property, fast-check, over edits that type and
 * delete names, dots, parentheses, blank space, line breaks and `def`/`class` keywords near calls).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { callsOfNames, instantiatedModels, type CallScan } from '../../../src/analysis/extract/instantiation';
import { extractedModels } from './extract-helper';

const SOURCE = `import torch.nn as nn
from tensorflow import keras


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(64), Block (64))

    def forward(self, x):
        return self.blocks(x)


def build_model(units=32):
    model = keras.Sequential([keras.layers.Dense(units, activation="sigmoid")])
    return model


net = Net()
encoder = build_model
model = build_model(
    64)
other = helpers.Net()  # an attribute, not this file's Net
"""Net() in a docstring counts too."""
`;

const NAMES = ['Block', 'Net', 'build_model', 'model', 'encoder'];

/** Pieces typed where calls are: names, their neighbours and what turns a call into a definition. */
const FRAGMENTS = ['Net', 'Net(', 'Block', 'build_model', '(', ')', '.', ' ', '  ', '\n', '\n\n', 'def ', 'class ', '_', 'x', '#', '"""', '\\'];

/** Where: a fraction of the text, or (most edits) a few characters around one of its parentheses, where calls are. */
const editArb = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  paren: fc.option(fc.nat(), { freq: 1, nil: null }),
  offset: fc.integer({ min: -8, max: 2 }),
  remove: fc.nat({ max: 6 }),
  insert: fc.constantFrom(...FRAGMENTS),
});

function placeOf(text: string, edit: { at: number; paren: number | null; offset: number }): number {
  const parens = [...text.matchAll(/\(/g)].map((m) => m.index);
  if (edit.paren === null || parens.length === 0) return Math.floor(edit.at * text.length);
  return Math.max(0, Math.min(text.length, parens[edit.paren % parens.length]! + edit.offset));
}

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const files: PyFile[] = [];
afterAll(() => {
  for (const f of files) f.dispose();
});

function parsed(text: string): PyFile {
  const file = PyFile.parse(parser, 'model.py', text);
  files.push(file);
  return file;
}

describe('calls of model names after edits', () => {
  it('are those a search of the whole new text finds, after any sequence of edits', () => {
    fc.assert(
      fc.property(fc.array(editArb, { minLength: 1, maxLength: 12 }), (edits) => {
        const memo: { calls?: CallScan | null } = {};
        let text = SOURCE;
        callsOfNames(parsed(text), NAMES, memo);
        for (const edit of edits) {
          const at = placeOf(text, edit);
          text = text.slice(0, at) + edit.insert + text.slice(Math.min(text.length, at + edit.remove));
          const file = parsed(text);
          expect(callsOfNames(file, NAMES, memo)).toEqual(callsOfNames(file, NAMES));
        }
        for (const f of files.splice(0)) f.dispose();
      }),
      { seed: 20261205, numRuns: 300 },
    );
  });

  it('reads a name cut by the edit, a dot typed before a call and a `def` typed before it', () => {
    const memo: { calls?: CallScan | null } = {};
    const names = (text: string) => callsOfNames(parsed(text), NAMES, memo).map((c) => `${c.name}@${String(c.row)}${c.definition ? ' def' : ''}`);
    expect(names(SOURCE)).toContain('Net@24');
    // `Net()` at line 25 (row 24) cut into `Ne t()`: no call of Net there any more.
    expect(names(SOURCE.replace('net = Net()', 'net = Ne t()'))).not.toContain('Net@24');
    expect(names(SOURCE.replace('net = Net()', 'net = x.Net()'))).not.toContain('Net@24');
    expect(names(SOURCE.replace('net = Net()', 'def Net()'))).toContain('Net@24 def');
    // Blank space between a name and its parenthesis: the parenthesis deleted, then typed again.
    expect(names(SOURCE).filter((c) => c === 'Block@13')).toHaveLength(2);
    expect(names(SOURCE.replace('Block (64)', 'Block  64)')).filter((c) => c === 'Block@13')).toHaveLength(1);
    expect(names(SOURCE).filter((c) => c === 'Block@13')).toHaveLength(2);
    // A line typed above moves every call below by a row.
    const moved = names(SOURCE.replace('net = Net()', '\nnet = Net()'));
    expect(moved).toContain('Net@25');
    expect(moved).toContain('build_model@27');
  });

  it('gives the models the instantiation a fresh search gives, edit after edit', async () => {
    const models = await extractedModels(SOURCE);
    const memo: { calls?: CallScan | null } = {};
    const fresh = (text: string) => instantiatedModels(parsed(text), models);
    const kept = (text: string) => instantiatedModels(parsed(text), models, memo);
    const first = kept(SOURCE);
    expect(first).toEqual(fresh(SOURCE));
    // Net is built at module level; removing that call leaves only the docstring's.
    for (const text of [SOURCE.replace('net = Net()', 'net = None'), SOURCE.replace('"""Net() in a docstring counts too."""', ''), SOURCE]) {
      expect(kept(text)).toEqual(fresh(text));
    }
  });
});
