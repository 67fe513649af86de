import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/saturating-activation-stack';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, thresholds: Record<string, number> = {}, sources: Record<string, string> = {}) =>
  rule.check(model, contextFor(rule, { thresholds }, sources));

describe('GL101 saturating-activation-stack (IR)', () => {
  it('reports three hidden tanh layers in a row, with every layer as a related range', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'tanh' }), dense(128, { activation: 'tanh' }), dense(64, { activation: 'tanh' }), dense(10, { activation: 'softmax' })] });
    const findings = check(model);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(0);
    expect(findings[0]!.message).toMatch(/^3 consecutive hidden tanh layers/);
    expect(findings[0]!.related.map((r) => r.location.range.start.line)).toEqual([0, 1, 2]);
    expect(findings[0]!.severity).toBe('warning');
  });

  it('does not count the output layer and respects the configurable length', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'sigmoid' }), dense(64, { activation: 'sigmoid' }), dense(1, { activation: 'sigmoid' })] });
    expect(check(model)).toEqual([]);
    const findings = check(model, { 'saturating-stack-length': 2 });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/^2 consecutive hidden sigmoid/);
  });

  it('is broken by normalization between the layers', () => {
    const model = buildModel({
      layers: [dense(64, { activation: 'tanh' }), layerOf('batchnorm'), dense(64, { activation: 'tanh' }), dense(64, { activation: 'tanh' }), dense(10)],
    });
    expect(check(model)).toEqual([]);
  });

  it('is not broken by dropout or linear layers', () => {
    const model = buildModel({
      layers: [dense(64, { activation: 'tanh' }), layerOf('dropout'), dense(64, { activation: 'tanh' }), dense(32), dense(64, { activation: 'tanh' }), dense(10)],
    });
    expect(check(model)).toHaveLength(1);
  });

  it('is broken by a residual connection in a functional graph', () => {
    const model = buildModel({
      isGraph: true,
      style: 'keras-functional',
      layers: [
        layerOf('input'),
        dense(64, { activation: 'tanh' }),
        dense(64, { activation: 'tanh' }),
        layerOf('add', { inputs: [1, 2] }),
        dense(64, { activation: 'tanh' }),
        dense(10, { activation: 'softmax' }),
      ],
    });
    expect(check(model)).toEqual([]);
  });

  it('follows separate activation layers in PyTorch and proposes ReLU + Kaiming what-if edits', () => {
    const model = buildModel({
      framework: 'torch',
      layers: [dense(128, { className: 'nn.Linear' }), act('tanh'), dense(64), act('tanh'), dense(32), act('sigmoid'), dense(10)],
    });
    const [finding] = check(model);
    expect(defined(finding).range.start.line).toBe(1);
    expect(defined(finding).message).toMatch(/3 consecutive hidden saturating \(tanh, sigmoid\) layers/);
    expect(defined(defined(finding).whatIf).ops).toEqual([
      { op: 'set-activation', layerId: 'L1', activation: 'relu' },
      { op: 'set-kernel-init', layerId: 'L0', init: expect.objectContaining({ name: 'kaiming_normal', options: expect.objectContaining({ nonlinearity: 'relu' }) }) },
      { op: 'set-activation', layerId: 'L3', activation: 'relu' },
      { op: 'set-kernel-init', layerId: 'L2', init: expect.objectContaining({ name: 'kaiming_normal' }) },
      { op: 'set-activation', layerId: 'L5', activation: 'relu' },
      { op: 'set-kernel-init', layerId: 'L4', init: expect.objectContaining({ name: 'kaiming_normal' }) },
    ]);
  });

  it('ignores the gated activations inside recurrent layers', () => {
    const model = buildModel({ layers: [layerOf('lstm', { units: 64 }), layerOf('lstm', { units: 64 }), dense(32, { activation: 'tanh' }), dense(1, { activation: 'sigmoid' })] });
    expect(check(model)).toEqual([]);
  });

  it('treats an unresolved activation as a break, not as saturating', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'tanh' }), dense(64, { activation: 'unknown' }), dense(64, { activation: 'tanh' }), dense(64, { activation: 'tanh' }), dense(1)] });
    expect(check(model)).toEqual([]);
  });

  it('reports a loop-unrolled stack once, counting every copy', () => {
    const copy = (index: number) => dense(64, { activation: 'tanh', line: 3, unrolled: { index, count: 4 } });
    const model = buildModel({ layers: [copy(0), copy(1), copy(2), copy(3), dense(10, { activation: 'softmax', line: 4 })] });
    const findings = check(model);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/^4 consecutive/);
    expect(findings[0]!.related).toHaveLength(1);
  });

  it('offers an unsafe fix that rewrites Keras activations and initializers in the source', () => {
    const source = [
      'model = keras.Sequential([',
      '    layers.Dense(256, activation="sigmoid", input_shape=(784,)),',
      "    layers.Dense(128, activation='tanh', kernel_initializer='glorot_uniform'),",
      '    layers.Dense(64, activation=tf.nn.tanh),',
      "    layers.Dense(10, activation='softmax'),",
      '])',
    ].join('\n');
    const layer = (call: string, activation: string, name: 'sigmoid' | 'tanh') => ({
      kind: 'dense' as const,
      range: findRange(source, call),
      activation: { name, spelling: activation, range: findRange(source, activation), source: 'kwarg' as const, params: {} },
    });
    const model = buildModel({
      layers: [
        layer('layers.Dense(256, activation="sigmoid", input_shape=(784,))', '"sigmoid"', 'sigmoid'),
        layer("layers.Dense(128, activation='tanh', kernel_initializer='glorot_uniform')", "'tanh'", 'tanh'),
        layer('layers.Dense(64, activation=tf.nn.tanh)', 'tf.nn.tanh', 'tanh'),
        { kind: 'dense', units: 10, range: findRange(source, "layers.Dense(10, activation='softmax')"), activation: 'softmax' },
      ],
    });
    const [finding] = check(model, {}, { [FILE]: source });
    const fix = defined(finding).fixes[0]!;
    expect(fix.safety).toBe('unsafe');
    expect(applyEdits(source, fix.edits)).toBe(
      [
        'model = keras.Sequential([',
        '    layers.Dense(256, activation="relu", input_shape=(784,), kernel_initializer="he_normal"),',
        "    layers.Dense(128, activation='relu', kernel_initializer='he_normal'),",
        "    layers.Dense(64, activation=tf.nn.relu, kernel_initializer='he_normal'),",
        "    layers.Dense(10, activation='softmax'),",
        '])',
      ].join('\n'),
    );
  });

  it('rewrites PyTorch activation modules and functional calls to their ReLU spelling', () => {
    const source = 'net = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Hardsigmoid(), nn.Linear(8, 8), torch.nn.Softsign(), nn.Linear(8, 1))';
    const activationLayer = (text: string, name: 'tanh' | 'hard_sigmoid' | 'softsign') => ({
      kind: 'activation' as const,
      range: findRange(source, text),
      activation: { name, spelling: text, range: findRange(source, text), source: 'layer' as const, params: {} },
    });
    const linear = (nth: number) => ({ kind: 'dense' as const, range: findRange(source, 'nn.Linear(8, 8)', nth) });
    const model = buildModel({
      framework: 'torch',
      layers: [linear(0), activationLayer('nn.Tanh()', 'tanh'), linear(1), activationLayer('nn.Hardsigmoid()', 'hard_sigmoid'), linear(2), activationLayer('torch.nn.Softsign()', 'softsign'), { kind: 'dense', range: findRange(source, 'nn.Linear(8, 1)') }],
    });
    const [finding] = check(model, {}, { [FILE]: source });
    expect(applyEdits(source, defined(finding).fixes[0]!.edits)).toBe(
      'net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), torch.nn.ReLU(), nn.Linear(8, 1))',
    );
  });

  it('offers no text fix when a reused activation module is also the output activation', () => {
    const source = 'self.sigmoid = nn.Sigmoid()';
    const shared = { kind: 'activation' as const, range: findRange(source, 'nn.Sigmoid()'), activation: { name: 'sigmoid' as const, spelling: 'nn.Sigmoid()', range: findRange(source, 'nn.Sigmoid()'), source: 'layer' as const, params: {} } };
    const model = buildModel({ framework: 'torch', style: 'torch-module', layers: [dense(32, { line: 1 }), shared, dense(32, { line: 2 }), shared, dense(32, { line: 3 }), shared, dense(1, { line: 4 }), shared] });
    const [finding] = check(model, {}, { [FILE]: source });
    expect(defined(finding).message).toMatch(/^3 consecutive hidden sigmoid/);
    expect(defined(finding).fixes).toEqual([]);
    expect(defined(defined(finding).whatIf).ops.filter((o) => o.op === 'set-activation').map((o) => o.layerId)).toEqual(['L1', 'L3', 'L5']);
  });

  it('applies the severity override from settings', () => {
    const model = buildModel({ layers: [dense(8, { activation: 'tanh' }), dense(8, { activation: 'tanh' }), dense(8, { activation: 'tanh' }), dense(1)] });
    const [finding] = rule.check(model, contextFor(rule, { severity: { GL101: 'error' } }));
    expect(defined(finding).severity).toBe('error');
  });
});

describe('GL101 decides from the predicted gradient flow', () => {
  const unitNormal = { name: 'random_normal' as const, params: { mean: 0, stddev: 1 }, options: {}, spelling: 'RandomNormal(stddev=1.0)', range: null, explicit: true, framework: 'keras' as const };
  /** `depth` square hidden layers of `activation`, with their fans known (as the extractor gives them). */
  function sized(depth: number, activation: 'tanh' | 'sigmoid', kernelInit?: typeof unitNormal) {
    const hidden = Array.from({ length: depth }, () => dense(128, { activation, fanIn: 128, fanOut: 128, ...(kernelInit ? { kernelInit } : {}) }));
    const model = buildModel({ layers: [...hidden, dense(10, { activation: 'softmax', fanIn: 128, fanOut: 10 })] });
    model.inputShape = [128];
    return model;
  }

  it('warns with the predicted ratio when the stack vanishes', () => {
    const [finding] = check(sized(10, 'sigmoid'));
    expect(defined(finding).severity).toBe('warning');
    expect(defined(finding).message).toMatch(/predicted: the first layer gets ~\de-\d+ of the last hidden layer's gradient at initialization \(vanishing/);
    expect(defined(finding).message).toMatch(/sigmoid: at most 0\.25/);
  });

  it('is information when the stack is predicted healthy at initialization, and does not claim sigmoid numbers for tanh', () => {
    const [finding] = check(sized(3, 'tanh'));
    expect(defined(finding).severity).toBe('information');
    expect(defined(finding).message).toMatch(/predicted healthy at initialization with Glorot\/Xavier: the first layer gets ~[\d.]+ of the last hidden layer's gradient at initialization; tanh stacks saturate as weights grow/);
    expect(defined(finding).message).not.toMatch(/sigmoid/);
  });

  it('leaves an exploding tanh stack at N(0, 1) to GL203: it is a scale problem, not vanishing', () => {
    expect(check(sized(5, 'tanh', unitNormal))).toEqual([]);
  });

  it('falls back to the structure, and says so, when the model cannot be propagated', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'tanh' }), dense(64, { activation: 'tanh' }), dense(64, { activation: 'tanh' }), dense(1)] });
    const [finding] = check(model);
    expect(defined(finding).severity).toBe('warning');
    expect(defined(finding).message).toMatch(/No prediction: the fan_in of dense .*judged by the structure alone/);
    expect(defined(finding).message).toMatch(/tanh: 1 at 0, less as soon as units leave 0/);
  });
});

describeRuleFixtures('GL101');
