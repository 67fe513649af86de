import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/selu-without-self-normalization';
import type { InitializerIR } from '../../../src/shared/ir';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

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
    expect(defined(findings[0]!.whatIf).ops).toEqual([{ op: 'set-kernel-init', layerId: 'L0', init: { name: 'lecun_normal', params: {}, options: {} } }]);
    expect(defined(findings[1]!.whatIf).ops).toEqual([{ op: 'replace-kind', layerId: 'L1', kind: 'alpha-dropout' }]);
    expect(defined(findings[2]!.whatIf).ops).toEqual([{ op: 'remove-layer', layerId: 'L3' }]);
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
    expect(defined(init).fixes[0]!.safety).toBe('safe');
    expect(defined(dropout).fixes[0]!.safety).toBe('unsafe');
    expect(applyEdits(source, [...defined(init).fixes[0]!.edits, ...defined(dropout).fixes[0]!.edits])).toBe(
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
    expect(defined(finding).fixes[0]!.safety).toBe('unsafe');
    expect(applyEdits(source, defined(finding).fixes[0]!.edits)).toBe("model.add(layers.Dense(64, activation='selu', kernel_initializer='lecun_normal'))\nmodel.add(layers.Dense(1))\n");
    const [subclassed] = check(buildModel({ style: 'keras-subclass', layers }), { [FILE]: source });
    expect(defined(subclassed).fixes).toEqual([]);
  });
});

describeRuleFixtures('GL104');

describe('GL104 severity from the predicted gradient flow (issue 9)', () => {
  /** `depth` SELU layers of width 128 after 100 inputs, initialized with `init`, then a softmax output. */
  function sized(depth: number, init: string, fanIn = 100, sigmoidAfter = 0) {
    const hidden = Array.from({ length: depth }, (_, i) => dense(128, { activation: 'selu', kernelInit: init as unknown as InitializerIR, fanIn: i === 0 ? fanIn : 128, fanOut: 128 }));
    const sigmoids = Array.from({ length: sigmoidAfter }, () => dense(128, { activation: 'sigmoid', fanIn: 128, fanOut: 128 }));
    const model = buildModel({ layers: [...hidden, ...sigmoids, dense(10, { activation: 'softmax', fanIn: 128, fanOut: 10 })] });
    model.inputShape = [fanIn];
    return model;
  }

  it('is information on a shallow SELU net predicted healthy, with the SELU layer\'s predicted std against its fixed point', () => {
    const findings = check(sized(2, 'glorot_uniform', 400));
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) expect(f.severity).toBe('information');
    expect(findings[0]!.message).toMatch(/Predicted output std [\d.]+ after SELU \(its fixed point is 1\)\. Predicted healthy: the first layer gets ~[\d.]+ of the last hidden layer's gradient at initialization\.$/);
  });

  it('stays information where the prediction stays healthy: He weights grow the SELU signal, not the gradient ratio', () => {
    const findings = check(sized(20, 'he_normal'));
    expect(findings).toHaveLength(20);
    for (const f of findings) expect(f.severity).toBe('information');
    expect(defined(findings.at(-1)).message).toMatch(/Predicted output std [4-9]\.\d+ after SELU/);
  });

  it('warns when the model\'s prediction crosses a threshold: the SELU layers feed a deep sigmoid stack that vanishes', () => {
    const findings = check(sized(2, 'glorot_uniform', 400, 10));
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      expect(f.severity).toBe('warning');
      expect(f.message).toMatch(/Predicted vanishing: the first layer gets ~\de-\d+ of the last hidden layer's gradient at initialization\.$/);
    }
  });

  it('falls back to the structure, a warning that says so, when the model cannot be propagated', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'selu' }), dense(64, { activation: 'selu' }), dense(10)] });
    const findings = check(model);
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      expect(f.severity).toBe('warning');
      expect(f.message).toMatch(/\(No prediction: .*judged by the structure alone\.\)$/);
    }
  });
});
