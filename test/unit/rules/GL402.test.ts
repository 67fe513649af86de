import { describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import type { OptimizerIR } from '../../../src/shared/ir';
import { expectFixture, fixturesOf } from './fixture-harness';
import { expectFixesResolve } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/optimization/learning-rate-too-high';
import { applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const SOURCE = `model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")\n`;

function optimizer(name: string, learningRate: number | null, extra: Partial<OptimizerIR> = {}): OptimizerIR {
  return {
    name,
    spelling: `keras.optimizers.${name}`,
    file: FILE,
    range: findRange(SOURCE, 'keras.optimizers.Adam(learning_rate=0.05)'),
    learningRate,
    learningRateRange: learningRate === null ? null : findRange(SOURCE, '0.05'),
    momentum: null,
    clipnorm: null,
    clipvalue: null,
    globalClipnorm: null,
    ...extra,
  };
}

function modelWith(o: OptimizerIR) {
  const model = buildModel({ layers: [dense(32, { activation: 'relu' }), dense(1)] });
  model.training.optimizer = o;
  return model;
}

const check = (o: OptimizerIR, thresholds: Record<string, number> = {}) => rule.check(modelWith(o), contextFor(rule, { thresholds }, { [FILE]: SOURCE }));

describe('GL402 learning-rate-too-high (IR)', () => {
  it('reports an Adam rate above 0.01 with the value and the threshold, and offers 1e-3', () => {
    const [finding] = check(optimizer('adam', 0.05));
    expect(defined(finding).message).toMatch(/^Learning rate 0\.05 is above 0\.01, the limit for keras\.optimizers\.adam \(max-lr-adaptive\)/);
    expect(defined(finding).range).toEqual(findRange(SOURCE, '0.05'));
    expect(applyEdits(SOURCE, defined(finding).fixes[0]!.edits)).toContain('Adam(learning_rate=1e-3)');
    expect(defined(finding).fixes[0]!.safety).toBe('unsafe');
    expect(defined(finding).whatIf?.ops).toEqual([{ op: 'set-optimizer', patch: { learningRate: 0.001 } }]);
  });

  it('accepts the threshold itself, default rates and unknown rates', () => {
    expect(check(optimizer('adam', 0.01))).toEqual([]);
    expect(check(optimizer('adam', null))).toEqual([]);
    expect(check(optimizer('lbfgs', 1))).toEqual([]);
  });

  it('uses per-family thresholds that settings can change', () => {
    expect(check(optimizer('sgd', 0.5))).toEqual([]);
    expect(check(optimizer('sgd', 2))).toHaveLength(1);
    expect(check(optimizer('sgd', 0.5), { 'max-lr-sgd': 0.2 })).toHaveLength(1);
    expect(check(optimizer('adam', 0.05), { 'max-lr-adaptive': 0.1 })).toEqual([]);
    expect(check(optimizer('lion', 0.003))).toHaveLength(1);
    expect(check(optimizer('adagrad', 0.05))).toEqual([]);
  });

  it('does not report SGD whose gradients are norm-clipped', () => {
    expect(check(optimizer('sgd', 20, { clipnorm: 0.25 }))).toEqual([]);
    expect(check(optimizer('adam', 0.05, { clipnorm: 1 }))).toHaveLength(1);
  });

  it('reports in the optimizer’s file when the model lives elsewhere', () => {
    const o = optimizer('adam', 0.05, { file: '/project/train.py' });
    const model = modelWith(o);
    model.layers.push(...buildModel({ layers: [layerOf('dropout')] }).layers);
    const [finding] = rule.check(model, contextFor(rule, {}, { '/project/train.py': SOURCE }));
    expect(defined(finding).file).toBe('/project/train.py');
    expect(defined(finding).fixes[0]!.edits[0]!.file).toBe('/project/train.py');
  });
});

describe('GL402 fixtures (real analyzer)', () => {
  const { bad, clean } = fixturesOf('GL402');

  it.each([...bad, ...clean].map((p) => [basename(p), p]))('%s', async (_name, path) => {
    await expectFixture(path);
  });

  it('offers fixes that remove their finding when applied', async () => {
    let checked = 0;
    for (const path of bad) checked += await expectFixesResolve('GL402', path);
    expect(checked).toBe(bad.length);
  });
});
