import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/missing-nonlinearity';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, thresholds: Record<string, boolean> = {}, sources: Record<string, string> = {}) =>
  rule.check(model, contextFor(rule, { thresholds }, sources));

describe('GL103 missing-nonlinearity (IR)', () => {
  it('reports Dense layers stacked without activations, once per chain, at its first layer', () => {
    const model = buildModel({ layers: [layerOf('flatten'), dense(256), dense(128), dense(10, { activation: 'softmax' })] });
    const findings = check(model);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(1);
    expect(findings[0]!.message).toContain('(3 layers in a row)');
    expect(findings[0]!.related.map((r) => r.location.range.start.line)).toEqual([2, 3]);
    expect(defined(findings[0]!.whatIf).ops).toEqual([
      { op: 'set-activation', layerId: 'L1', activation: 'relu' },
      { op: 'set-activation', layerId: 'L2', activation: 'relu' },
    ]);
  });

  it('does not count dropout, pooling, flatten or batchnorm as a nonlinearity', () => {
    const model = buildModel({
      layers: [layerOf('conv2d', { units: 32 }), layerOf('batchnorm'), layerOf('maxpool'), layerOf('dropout'), layerOf('flatten'), dense(10)],
    });
    expect(check(model).map((f) => f.range.start.line)).toEqual([0]);
  });

  it('accepts a linear output layer and activations between layers', () => {
    expect(check(buildModel({ layers: [dense(64, { activation: 'relu' }), dense(64, { activation: 'relu' }), dense(1)] }))).toEqual([]);
    const torch = buildModel({ framework: 'torch', layers: [dense(64), act('relu'), dense(64), layerOf('batchnorm'), act('gelu'), dense(10)] });
    expect(check(torch)).toEqual([]);
  });

  it('accepts a narrower linear bottleneck followed by a nonlinearity, unless the option is off', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu' }), dense(32), dense(256, { activation: 'relu' }), dense(784, { activation: 'sigmoid' })] });
    expect(check(model)).toEqual([]);
    expect(check(model, { 'allow-linear-bottleneck': false })).toHaveLength(1);
  });

  it('accepts the linear bottleneck of an inverted residual block (1x1 project -> BN -> 1x1 expand -> BN -> ReLU6)', () => {
    const model = buildModel({
      framework: 'torch',
      layers: [layerOf('conv2d', { units: 24 }), layerOf('batchnorm'), layerOf('conv2d', { units: 144 }), layerOf('batchnorm'), act('relu6'), layerOf('conv2d', { units: 144 })],
    });
    expect(check(model)).toEqual([]);
  });

  it('reports a wider linear layer before a nonlinear one, and stays silent when sizes are unknown', () => {
    expect(check(buildModel({ layers: [dense(128), dense(64, { activation: 'relu' }), dense(10)] }))).toHaveLength(1);
    expect(check(buildModel({ layers: [dense(128), { kind: 'dense', units: null, activation: 'relu' }, dense(10)] }))).toEqual([]);
  });

  it('does not treat a merge or an unknown layer as part of a chain', () => {
    const model = buildModel({
      isGraph: true,
      layers: [layerOf('input'), dense(64, { activation: 'relu' }), dense(64, { inputs: [1] }), layerOf('add', { inputs: [1, 2] }), dense(10, { inputs: [3] })],
    });
    expect(check(model)).toEqual([]);
    expect(check(buildModel({ layers: [dense(64), layerOf('unknown'), dense(10)] }))).toEqual([]);
  });

  it('treats an unresolved activation as a possible nonlinearity', () => {
    expect(check(buildModel({ layers: [dense(64, { activation: 'unknown' }), dense(10)] }))).toEqual([]);
  });

  it('reports unrolled copies of one loop call once', () => {
    const copy = (index: number) => dense(64, { line: 2, unrolled: { index, count: 3 } });
    expect(check(buildModel({ layers: [copy(0), copy(1), copy(2), dense(10, { line: 3 })] }))).toHaveLength(1);
  });

  it('adds activation="relu" in Keras and nn.ReLU() in nn.Sequential', () => {
    const keras = 'layers.Dense(256),\nlayers.Dense(128, activation=None),\nlayers.Dense(10)';
    const kerasModel = buildModel({
      layers: [
        { kind: 'dense', units: 256, range: findRange(keras, 'layers.Dense(256)') },
        { kind: 'dense', units: 128, range: findRange(keras, 'layers.Dense(128, activation=None)'), activation: 'linear' },
        { kind: 'dense', units: 10, range: findRange(keras, 'layers.Dense(10)') },
      ],
    });
    const [kerasFinding] = check(kerasModel, {}, { [FILE]: keras });
    expect(applyEdits(keras, defined(kerasFinding).fixes[0]!.edits)).toBe("layers.Dense(256, activation='relu'),\nlayers.Dense(128, activation='relu'),\nlayers.Dense(10)");

    const torch = 'net = nn.Sequential(\n    nn.Linear(784, 128),  # hidden\n    nn.Linear(128, 10)\n)';
    const torchModel = buildModel({
      framework: 'torch',
      layers: [
        { kind: 'dense', units: 128, className: 'nn.Linear', range: findRange(torch, 'nn.Linear(784, 128)') },
        { kind: 'dense', units: 10, className: 'nn.Linear', range: findRange(torch, 'nn.Linear(128, 10)') },
      ],
    });
    torchModel.range = { start: { line: 0, character: 6 }, end: { line: 3, character: 1 } };
    const [torchFinding] = check(torchModel, {}, { [FILE]: torch });
    expect(applyEdits(torch, defined(torchFinding).fixes[0]!.edits)).toBe('net = nn.Sequential(\n    nn.Linear(784, 128), nn.ReLU(),  # hidden\n    nn.Linear(128, 10)\n)');
    expect(defined(defined(torchFinding).whatIf).ops).toEqual([{ op: 'insert-after', afterLayerId: 'L0', kind: 'activation', activation: 'relu' }]);
  });
});

describeRuleFixtures('GL103');
