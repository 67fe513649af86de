/** The verdict rules on hand-made numbers: each threshold, and the guards against false alarms. */
import { describe, expect, it } from 'vitest';
import { judge } from '../../src/probe/verdicts';
import { DEFAULT_THRESHOLDS, type ProbeLayerResult } from '../../src/shared/probe';
import { defined } from '../defined';

function layer(name: string, gradNorm: number[], extra: Partial<ProbeLayerResult> = {}): ProbeLayerResult {
  return { id: name, name, kind: 'dense', line: 1, params: 10, gradNorm, actMean: gradNorm.map(() => 0), actStd: gradNorm.map(() => 1), saturated: null, dead: null, weightNorm: gradNorm.map(() => 1), updateRatio: gradNorm.map(() => 1e-3), nonFinite: gradNorm.map(() => 0), ...extra };
}

function verdicts(layers: ProbeLayerResult[], thresholds = DEFAULT_THRESHOLDS, loss = layers[0]!.gradNorm.map(() => 1)) {
  return judge({ layers, loss, symmetry: new Map(), thresholds });
}

describe('verdicts', () => {
  it('grades the first layer against the last hidden layer: vanishing, attenuated, healthy', () => {
    // The output layer (last) is not the reference: its gradient depends on the loss.
    expect(verdicts([layer('a', [1e-7, 1e-7]), layer('b', [1e-3, 1e-3]), layer('c', [1, 1])]).map((v) => v.kind)).toEqual(['vanishing']);
    const [mild] = verdicts([layer('a', [1e-2, 1e-2]), layer('b', [1, 1]), layer('c', [10, 10])]);
    expect(mild).toMatchObject({ kind: 'attenuated', severity: 'information', layers: ['a'] });
    expect(verdicts([layer('a', [0.3, 0.3]), layer('b', [1, 1]), layer('c', [1e-4, 1e-4])])).toEqual([]);
    // One hidden layer: first and last hidden are the same layer, nothing to compare.
    expect(verdicts([layer('a', [1e-3, 1e-3]), layer('c', [10, 10])])).toEqual([]);
  });

  it('judges only the gradient-flow path: the gamma/beta gradient of a BatchNorm is neither the reference nor a starved layer', () => {
    const bn = (name: string, gradNorm: number[]) => layer(name, gradNorm, { kind: 'batchnorm' });
    const [v] = verdicts([layer('a', [1e-7]), bn('bn1', [1e-9]), layer('b', [1]), bn('bn2', [1e-9]), layer('c', [0.5])]);
    expect(v).toMatchObject({ kind: 'vanishing', layers: ['a'] });
    expect(defined(v).evidence.lastHiddenNorm).toBe(1);
  });

  it('names the starved layers and carries the numbers', () => {
    const v = verdicts([layer('a', [1e-7]), layer('b', [1e-5]), layer('c', [1]), layer('d', [0.5])])[0]!;
    expect(v.layers).toEqual(['a', 'b']);
    expect(v.evidence.firstLastRatio).toBeCloseTo(1e-7);
  });

  it('exploding by depth ratio or by growth over training, but not for a layer waking up from ~0', () => {
    expect(verdicts([layer('a', [100, 100]), layer('b', [1, 1]), layer('c', [1, 1])]).map((v) => v.kind)).toEqual(['exploding']);
    expect(verdicts([layer('a', [1, 5e3]), layer('b', [1, 1])]).map((v) => v.kind)).toEqual(['exploding']);
    expect(verdicts([layer('a', [1e-9, 1e-5]), layer('b', [1e-5, 1e-5])])).toEqual([]);
  });

  it('non-finite is an error naming where it started', () => {
    const v = verdicts([layer('a', [1, NaN], { nonFinite: [0, 1] }), layer('b', [1, 1])], DEFAULT_THRESHOLDS, [1, NaN])[0]!;
    expect(v).toMatchObject({ kind: 'non-finite', severity: 'error', layers: ['a'] });
    expect(v.message).toMatch(/step 2/);
  });

  it('dead units at >= 70% and saturation above 50%, with configurable thresholds', () => {
    const dead = layer('r', [1, 1], { dead: [0.7, 0.8] });
    const sat = layer('s', [1, 1], { saturated: [0.45, 0.45] });
    expect(verdicts([dead, sat]).map((v) => v.kind)).toEqual(['dead-units']);
    expect(verdicts([dead, sat], { ...DEFAULT_THRESHOLDS, deadFraction: 0.9, saturatedFraction: 0.4 }).map((v) => v.kind)).toEqual(['saturation']);
  });

  it('symmetry from the duplicate-unit fractions', () => {
    const layers = [layer('a', [1, 1]), layer('b', [1, 1])];
    const found = judge({ layers, loss: [1, 1], symmetry: new Map([['a', 1], ['b', 0.1]]), thresholds: DEFAULT_THRESHOLDS });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: 'symmetry', layers: ['a'] });
  });
});
