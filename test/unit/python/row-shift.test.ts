/**
 * Rows of an older text of a file to those of its newer text (src/analysis/row-shift.ts): the lines
 * before and after an edit map, the changed ones do not, and moved results spell their new lines.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byRows, knowSharedEnds, moveRows, rowShift, sharedEnds, shiftRows, uniformMoveOf } from '../../../src/analysis/row-shift';
import { defined } from '../../defined';

const BEFORE = ['import torch.nn as nn', '', 'def build():', '    return nn.Sequential(nn.Linear(4, 4), nn.Sigmoid())', '', 'def other():', '    pass', ''].join('\n');

describe('rowShift', () => {
  it('maps the lines above and below two inserted blank lines, and back', () => {
    const after = BEFORE.replace('\ndef build', '\n\n\ndef build');
    const { forward, backward } = rowShift(BEFORE, after);
    expect([0, 1, 2, 3, 5, 6].map(forward)).toEqual([0, 1, 4, 5, 7, 8]);
    expect([0, 1, 4, 5, 7, 8].map(backward)).toEqual([0, 1, 2, 3, 5, 6]);
    // The inserted lines have no row before the edit.
    expect([2, 3].map(backward)).toEqual([null, null]);
  });

  it('does not map a changed line, and keeps the rows around it', () => {
    const after = BEFORE.replace('nn.Sigmoid()', 'nn.ReLU()');
    const { forward } = rowShift(BEFORE, after);
    expect([0, 1, 2, 3, 4, 5].map(forward)).toEqual([0, 1, 2, null, 4, 5]);
  });

  it('maps every row of an unchanged text to itself', () => {
    const { forward, backward } = rowShift(BEFORE, BEFORE);
    expect([0, 3, 7].map(forward)).toEqual([0, 3, 7]);
    expect([0, 3, 7].map(backward)).toEqual([0, 3, 7]);
  });
});

describe('shiftRows', () => {
  const down = (row: number) => (row >= 2 ? row + 2 : row);

  it('moves positions, model ids and the lines messages name, and leaves paths and other numbers', () => {
    const model = {
      id: 'build@2',
      file: '/w/line 3/models.py',
      name: 'Block (line 3)',
      range: { start: { line: 2, character: 4 }, end: { line: 3, character: 10 } },
      notes: [{ what: 'layers built at line 4 are read once', range: { start: { line: 3, character: 0 }, end: { line: 3, character: 1 } } }],
      width: 3,
    };
    expect(shiftRows(model, model.file, () => down)).toEqual({
      id: 'build@4',
      file: '/w/line 3/models.py',
      name: 'Block (line 5)',
      range: { start: { line: 4, character: 4 }, end: { line: 5, character: 10 } },
      notes: [{ what: 'layers built at line 6 are read once', range: { start: { line: 5, character: 0 }, end: { line: 5, character: 1 } } }],
      width: 3,
    });
  });

  it('refuses what names a line in the changed rows, and what is not plain data', () => {
    const changed = (row: number) => (row === 3 ? null : row);
    expect(shiftRows({ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 2 } } }, '/w/m.py', () => changed)).toBeNull();
    expect(shiftRows({ what: 'the loop at line 4' }, '/w/m.py', () => changed)).toBeNull();
    expect(shiftRows({ seen: new Set([1]) }, '/w/m.py', () => down)).toBeNull();
    // A `line` that is not a position is refused outside input-shape evidence, where it is 1-based.
    expect(shiftRows({ what: 'x', line: 3 }, '/w/m.py', () => down)).toBeNull();
    expect(shiftRows({ what: 'x', line: 3, at: 2 * 2 ** 24 + 7 }, '/w/m.py', () => down, true)).toEqual({ what: 'x', line: 5, at: 4 * 2 ** 24 + 7 });
  });

  it('knows a copy whose every row moved by the same number of lines as moved; a copy of a wider edit is not', () => {
    const items = [
      { what: 'at line 3', range: { start: { line: 2, character: 0 }, end: { line: 3, character: 1 } } },
      { what: 'x', range: { start: { line: 6, character: 0 }, end: { line: 6, character: 1 } } },
    ];
    const moved = defined(shiftRows(items, '/w/m.py', () => down));
    expect(uniformMoveOf(moved)).toEqual({ from: items, rows: 2 });
    // Replaying the move on an item gives the same copy.
    expect(shiftRows(items[0], '', byRows(2))).toEqual(moved[0]);
    // Rows on both sides of the edit moved by different numbers: no uniform move.
    const across = defined(shiftRows([{ range: { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } } }], '/w/m.py', () => down));
    expect(uniformMoveOf(across)).toBeUndefined();
  });
});

describe('moveRows', () => {
  const down = (row: number) => (row >= 2 ? row + 2 : row);
  const up = (row: number) => (row >= 4 ? row - 2 : row >= 2 ? null : row);
  const layer = (line: number, act: string) => ({
    kind: 'dense',
    activation: { name: act, range: { start: { line, character: 30 }, end: { line, character: 36 } } },
    kernelInit: { name: 'glorot_uniform', params: {}, range: null },
    range: { start: { line, character: 8 }, end: { line, character: 40 } },
    inputs: ['L0'],
  });
  const model = {
    id: 'build@2',
    file: '/w/m.py',
    name: 'build',
    range: { start: { line: 2, character: 0 }, end: { line: 9, character: 16 } },
    layers: [layer(3, 'relu'), layer(4, 'sigmoid'), layer(5, 'tanh')],
    training: { optimizer: { name: 'adam', file: '/w/train.py', range: { start: { line: 1, character: 0 }, end: { line: 1, character: 9 } } }, loops: [] },
    notes: [{ what: 'the loop at line 7 is read once', range: { start: { line: 6, character: 0 }, end: { line: 6, character: 3 } } }],
    exports: ['build'],
  };
  const mapOf = (file: string) => (file === '/w/train.py' ? (row: number) => row : down);

  it('gives what shiftRows gives, read field by field, and other files by their own maps', () => {
    const moved = defined(moveRows(model, model.file, mapOf));
    // Read in part first: a field read alone is the moved field.
    expect(defined(moved.layers[1]).activation.range.start.line).toBe(6);
    expect(moved.training.optimizer.range.start.line).toBe(1);
    expect(moved).toEqual(shiftRows(model, model.file, mapOf));
    expect(JSON.parse(JSON.stringify(moved))).toEqual(shiftRows(model, model.file, mapOf));
    expect(model.layers[1]!.activation.range.start.line).toBe(4);
  });

  it('moves a copy again from its original, and knows each copy as a uniform move of the one before', () => {
    const once = defined(moveRows(model, model.file, () => byRows(3)('')));
    const twice = defined(moveRows(once, model.file, () => byRows(-1)('')));
    expect(uniformMoveOf(once)).toEqual({ from: model, rows: 3 });
    expect(uniformMoveOf(twice)).toEqual({ from: once, rows: -1 });
    expect(twice).toEqual(shiftRows(model, model.file, byRows(2)));
    // Across an edit: rows above stay, rows below move, and the copy is not a uniform move.
    const across = defined(moveRows({ ...model, range: { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } } }, model.file, () => down));
    expect(across.range).toEqual({ start: { line: 0, character: 0 }, end: { line: 11, character: 0 } });
    expect(uniformMoveOf(across)).toBeUndefined();
  });

  it('keeps no earlier copy alive through the copies moved from it: a line typed and removed many times holds one copy per model', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    // Enter and Backspace typed above the model, 20 times: each copy moved from the one before.
    const copies: WeakRef<object>[] = [];
    let copy: typeof model = model;
    for (let i = 0; i < 20; i++) {
      copy = defined(moveRows(copy, model.file, () => byRows(i % 2 === 0 ? 1 : -1)('')));
      copies.push(new WeakRef(copy));
    }
    // A WeakRef keeps its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(copies.filter((c) => c.deref() !== undefined).length).toBe(1);
    expect(copies.at(-1)?.deref()).toBe(copy);
    expect(copy).toEqual(shiftRows(model, model.file, byRows(0)));
  });

  it('gives back a value that holds no rows: a part with no models, notes or training facts is its own move', () => {
    const rest = { external: [], passes: [], notes: [], fileNotes: [], wholeFileFact: null };
    expect(moveRows(rest, model.file, () => byRows(3)(''))).toBe(rest);
    // A position is a row: a value holding one is copied.
    const withNote = { ...rest, notes: [{ what: 'a loop read once', range: { start: { line: 6, character: 0 }, end: { line: 6, character: 3 } } }] };
    expect(moveRows(withNote, model.file, () => byRows(3)(''))).toEqual(shiftRows(withNote, model.file, byRows(3)));
    expect(moveRows(withNote, model.file, () => byRows(3)(''))).not.toBe(withNote);
  });

  it('shares with the original what holds no rows, and copies what spells or holds one', () => {
    const moved = defined(moveRows(model, model.file, mapOf));
    // Names, initializers without ranges, exports: the same objects (a copy costs memory and time per keystroke).
    expect(moved.exports).toBe(model.exports);
    expect(defined(moved.layers[0]).kernelInit).toBe(model.layers[0]!.kernelInit);
    expect(defined(moved.layers[0]).inputs).toBe(model.layers[0]!.inputs);
    // A range, and a note whose message spells a line, are moved copies.
    expect(moved.range).not.toBe(model.range);
    expect(defined(moved.notes[0]).what).toBe('the loop at line 9 is read once');
    expect(moved).toEqual(shiftRows(model, model.file, mapOf));
  });

  it('refuses at once what shiftRows refuses: a row in the changed lines, a line a message names there, what is not plain data', () => {
    expect(moveRows(model, model.file, () => up)).toBeNull();
    expect(moveRows({ what: 'the loop at line 3', at: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } }, '/w/m.py', () => up)).toBeNull();
    expect(moveRows({ seen: new Set([1]) }, '/w/m.py', () => down)).toBeNull();
    expect(moveRows({ what: 'x', line: 3 }, '/w/m.py', () => down)).toBeNull();
    // A copy whose rows an earlier move placed in lines a later edit changed.
    const moved = defined(moveRows(model, model.file, () => byRows(-2)('')));
    expect(moveRows(moved, model.file, () => (row: number) => (row === 1 ? null : row))).toBeNull();
  });

  it('refuses an object two files reach when its row lies in the changed lines of the second', () => {
    // One range object under the model's file and again under a training file's record: its row is that
    // file's too, where the edit changed it.
    const shared = { start: { line: 2, character: 0 }, end: { line: 2, character: 5 } };
    const value = { file: '/w/m.py', range: shared, training: { file: '/w/train.py', range: shared } };
    const changedInTraining = (file: string) => (file === '/w/train.py' ? up : down);
    expect(moveRows(value, value.file, changedInTraining)).toBeNull();
    expect(moveRows(value, value.file, (file) => (file === '/w/train.py' ? (row: number) => row : down))).not.toBeNull();
  });
});

describe('sharedEnds told by the edit', () => {
  /** What two texts share, compared character by character. */
  function compared(before: string, after: string): { start: number; same: number } {
    let start = 0;
    while (start < Math.min(before.length, after.length) && before[start] === after[start]) start++;
    let same = 0;
    while (same < Math.min(before.length, after.length) - start && before[before.length - 1 - same] === after[after.length - 1 - same]) same++;
    return { start, same };
  }

  it('are what comparing the texts gives, for edits told exactly or wider than they are', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '\n', ' '), maxLength: 40, size: 'large' });
    fc.assert(
      fc.property(text, fc.nat(), fc.nat({ max: 6 }), text, (before, at, remove, written) => {
        const startIndex = at % (before.length + 1);
        const oldEndIndex = Math.min(before.length, startIndex + remove);
        // Copies, so that no comparison remembered for other strings is taken for these.
        const after = `${before.slice(0, startIndex)}${written}${before.slice(oldEndIndex)}`.split('').join('');
        knowSharedEnds(before, after, { startIndex, oldEndIndex, newEndIndex: startIndex + written.length });
        expect(sharedEnds(before, after)).toEqual(compared(before, after));
      }),
      { numRuns: 800, seed: 20261204 },
    );
  });
});
