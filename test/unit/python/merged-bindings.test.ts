/**
 * How the forks of an `if` of unknown condition merge back (evaluator.ts, mergedBindings): only the
 * names some fork rebound are merged, so an `if` costs what its branches change, not the size of
 * every value the frame holds (a script's constant lists compared at every unrolled iteration).
 */
import { describe, expect, it } from 'vitest';
import { mergedBindings } from '../../../src/analysis/python/evaluator';

interface Value {
  t: string;
  v?: number;
}

const MISSING: Value = { t: 'missing' };

/** A merge that keeps one value all forks share and records what it was asked to merge. */
function recordingMerge(): { merge: (values: Value[]) => Value; asked: Value[][] } {
  const asked: Value[][] = [];
  return {
    asked,
    merge: (values) => {
      asked.push(values);
      return values.every((v) => v === values[0]) ? values[0]! : { t: 'merged' };
    },
  };
}

describe('mergedBindings', () => {
  it('merges only the names a fork rebound, however many the frame holds', () => {
    const before = new Map<string, Value>();
    for (let i = 0; i < 500; i++) before.set(`name_${i}`, { t: 'const', v: i });
    const changed: Value = { t: 'const', v: -1 };
    const taken = new Map(before).set('name_7', changed);
    const skipped = new Map(before);
    const { merge, asked } = recordingMerge();
    const out = mergedBindings(before, [taken, skipped], merge, MISSING);
    expect(asked).toEqual([[changed, before.get('name_7')]]);
    expect([...out.keys()]).toEqual(['name_7']);
    expect(out.get('name_7')?.t).toBe('merged');
  });

  it('gives a name only one fork binds the missing value for the other forks', () => {
    const before = new Map<string, Value>([['x', { t: 'const', v: 1 }]]);
    const made: Value = { t: 'layer' };
    const { merge, asked } = recordingMerge();
    const out = mergedBindings(before, [new Map(before).set('y', made), new Map(before)], merge, MISSING);
    expect(asked).toEqual([[made, MISSING]]);
    expect([...out.keys()]).toEqual(['y']);
  });

  it('keeps the value every fork rebound a name to, and leaves out names no fork changed', () => {
    const before = new Map<string, Value>([
      ['kept', { t: 'const', v: 1 }],
      ['both', { t: 'const', v: 2 }],
    ]);
    const same: Value = { t: 'const', v: 3 };
    const { merge } = recordingMerge();
    const out = mergedBindings(before, [new Map(before).set('both', same), new Map(before).set('both', same)], merge, MISSING);
    expect([...out]).toEqual([['both', same]]);
  });

  it('merges nothing when no fork changed anything', () => {
    const before = new Map<string, Value>([['x', { t: 'const', v: 1 }]]);
    const { merge, asked } = recordingMerge();
    expect(mergedBindings(before, [new Map(before), new Map(before), new Map(before)], merge, MISSING).size).toBe(0);
    expect(asked).toEqual([]);
  });
});
