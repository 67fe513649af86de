import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/selu-without-self-normalization';
import type { InitializerIR } from '../../../src/shared/ir';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}) => rule.check(model, contextFor(rule, {}, sources));
const lines = (model: ReturnType<typeof buildModel>) => check(model).map((f) => f.range.start.line);

const torchInit = (name: InitializerIR['name'], options: Record<string, string>, params: Record<string, number> = {}): InitializerIR => ({
  name,
  params,
  options,
  spelling: `nn.init.${name}_`,
  range: null,
  explicit: true,
  framework: 'torch',
});

describe('GL104 selu-without-self-normalization (IR)', () => {
  it('is silent for models without SELU', () => {
    expect(check(buildModel({ layers: [dense(64, { activation: 'relu' }), layerOf('dropout'), layerOf('batchnorm'), dense(1)] }))).toEqual([]);
  });

  it('accepts lecun_normal SELU layers with AlphaDropout', () => {
    const model = buildModel({
      layers: [dense(256, { activation: 'selu', kernelInit: 'lecun_normal' }), layerOf('alpha-dropout'), dense(256, { activation: 'selu', kernelInit: 'lecun_normal' }), dense(10, { activation: 'softmax' })],
    });
    expect(check(model)).toEqual([]);
  });

  it('reports the Keras default glorot_uniform on non-square SELU layers, plain Dropout and BatchNorm in the stack', () => {
    const model = buildModel({
      layers: [
        dense(256, { activation: 'selu', fanIn: 100, fanOut: 256 }),
        layerOf('dropout', { detail: { rate: 0.2 } }),
        dense(256, { activation: 'selu', fanIn: 256, fanOut: 256 }),
        layerOf('batchnorm'),
        dense(128, { activation: 'selu', kernelInit: 'he_normal', fanIn: 256, fanOut: 128 }),
        dense(10, { activation: 'softmax' }),
      ],
    });
    const findings = check(model);
    expect(findings.map((f) => f.range.start.line)).toEqual([0, 1, 3, 4]);
    expect(findings[0]!.message).toContain('glorot_uniform, the Keras default');
    expect(findings[0]!.whatIf!.ops).toEqual([{ op: 'set-kernel-init', layerId: 'L0', init: { name: 'lecun_normal', params: {}, options: {} } }]);
    expect(findings[1]!.whatIf!.ops).toEqual([{ op: 'replace-kind', layerId: 'L1', kind: 'alpha-dropout' }]);
    expect(findings[2]!.whatIf!.ops).toEqual([{ op: 'remove-layer', layerId: 'L3' }]);
  });

  it('judges PyTorch initializers by their variance: default and selu gain are wrong, linear gain is right', () => {
    const layers = (init: InitializerIR | undefined) => [
      dense(64, { kernelInit: init, fanIn: 32, fanOut: 64 }),
      act('selu'),
      dense(64, { kernelInit: init, fanIn: 64, fanOut: 64 }),
      act('selu'),
      dense(1),
    ];
    expect(lines(buildModel({ framework: 'torch', layers: layers(undefined) }))).toEqual([0, 2]);
    expect(lines(buildModel({ framework: 'torch', layers: layers(torchInit('kaiming_normal', { nonlinearity: 'selu' })) }))).toEqual([0, 2]);
    expect(lines(buildModel({ framework: 'torch', layers: layers(torchInit('kaiming_normal', { nonlinearity: 'linear' })) }))).toEqual([]);
    expect(lines(buildModel({ framework: 'torch', layers: layers(torchInit('random_normal', {}, { mean: 0, std: 0.125 })) }))).toEqual([0]);
  });

  it('has no verdict on initializers whose scale is unknown', () => {
    const unknown: InitializerIR = { name: 'unknown', params: {}, options: {}, spelling: 'my_init', range: null, explicit: true, framework: 'keras' };
    const normalNoFan: InitializerIR = { ...unknown, name: 'random_normal', params: { stddev: 0.1 } };
    expect(check(buildModel({ layers: [dense(64, { activation: 'selu', kernelInit: unknown }), dense(64, { activation: 'selu', kernelInit: normalNoFan }), dense(1)] }))).toEqual([]);
  });

  it('leaves dropout and BatchNorm of a ReLU part alone in a mixed model', () => {
    const model = buildModel({
      layers: [
        layerOf('conv2d', { units: 32 }),
        layerOf('batchnorm'),
        act('relu'),
        layerOf('dropout'),
        layerOf('flatten'),
        dense(64, { activation: 'selu', kernelInit: 'lecun_normal' }),
        dense(10, { activation: 'softmax' }),
      ],
    });
    expect(check(model)).toEqual([]);
  });

  it('reports BatchNorm that normalizes the input of a separate SELU activation', () => {
    const model = buildModel({ framework: 'torch', layers: [dense(64, { kernelInit: torchInit('kaiming_normal', { nonlinearity: 'linear' }) }), layerOf('batchnorm'), act('selu'), dense(1)] });
    expect(lines(model)).toEqual([1]);
  });

  it('fixes Keras init with lecun_normal (safe) and Dropout with AlphaDropout (unsafe)', () => {
    const source = "model.add(layers.Dense(128, activation='selu'))\nmodel.add(layers.Dropout(0.1))\nmodel.add(layers.Dense(10, activation='softmax'))";
    const model = buildModel({
      style: 'keras-add',
      layers: [
        { kind: 'dense', units: 128, activation: 'selu', range: findRange(source, "layers.Dense(128, activation='selu')"), fanIn: 64, fanOut: 128 },
        { kind: 'dropout', className: 'layers.Dropout', range: findRange(source, 'layers.Dropout(0.1)') },
        { kind: 'dense', units: 10, activation: 'softmax', range: findRange(source, "layers.Dense(10, activation='softmax')") },
      ],
    });
    const [init, dropout] = check(model, { [FILE]: source });
    expect(init!.fixes[0]!.safety).toBe('safe');
    expect(dropout!.fixes[0]!.safety).toBe('unsafe');
    expect(applyEdits(source, [...init!.fixes[0]!.edits, ...dropout!.fixes[0]!.edits])).toBe(
      "model.add(layers.Dense(128, activation='selu', kernel_initializer='lecun_normal'))\nmodel.add(layers.AlphaDropout(0.1))\nmodel.add(layers.Dense(10, activation='softmax'))",
    );
  });
});

describe('GL104 BatchNorm removal fix', () => {
  it('deletes a one-line BatchNorm in call order, but not in a subclassed model', () => {
    const source = "model.add(layers.Dense(64, activation='selu', kernel_initializer='lecun_normal'))\nmodel.add(layers.BatchNormalization())  # norm\nmodel.add(layers.Dense(1))\n";
    const layers = [
      { kind: 'dense' as const, units: 64, activation: 'selu' as const, kernelInit: 'lecun_normal' as const, range: findRange(source, "layers.Dense(64, activation='selu', kernel_initializer='lecun_normal')") },
      { kind: 'batchnorm' as const, range: findRange(source, 'layers.BatchNormalization()') },
      { kind: 'dense' as const, units: 1, range: findRange(source, 'layers.Dense(1)') },
    ];
    const [finding] = check(buildModel({ style: 'keras-add', layers }), { [FILE]: source });
    expect(finding!.fixes[0]!.safety).toBe('unsafe');
    expect(applyEdits(source, finding!.fixes[0]!.edits)).toBe("model.add(layers.Dense(64, activation='selu', kernel_initializer='lecun_normal'))\nmodel.add(layers.Dense(1))\n");
    const [subclassed] = check(buildModel({ style: 'keras-subclass', layers }), { [FILE]: source });
    expect(subclassed!.fixes).toEqual([]);
  });
});

describeRuleFixtures('GL104');
