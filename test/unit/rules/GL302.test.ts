import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/normalization/bias-before-batchnorm';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}) => rule.check(model, contextFor(rule, {}, sources));

describe('GL302 bias-before-batchnorm (IR)', () => {
  it('reports a biased conv directly before BatchNorm, at the conv, with a set-use-bias what-if', () => {
    const model = buildModel({ layers: [layerOf('conv2d', { units: 64 }), layerOf('batchnorm'), act('relu')] });
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).range.start.line).toBe(0);
    expect(defined(finding).related[0]!.location.range.start.line).toBe(1);
    expect(defined(finding).message).toContain('use_bias=False');
    expect(defined(defined(finding).whatIf).ops).toEqual([{ op: 'set-use-bias', layerId: 'L0', value: false }]);
  });

  it('is silent without bias, with an activation in between, or with something between', () => {
    expect(check(buildModel({ layers: [dense(64, { useBias: false }), layerOf('batchnorm')] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(64, { activation: 'relu' }), layerOf('batchnorm')] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(64), act('relu'), layerOf('batchnorm')] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(64), layerOf('layernorm')] }))).toEqual([]);
  });

  it('is silent for a Keras BatchNorm over another axis unless it matches channels_first', () => {
    expect(check(buildModel({ layers: [layerOf('conv2d'), layerOf('batchnorm', { detail: { norm: { axis: 1 } } })] }))).toEqual([]);
    const channelsFirst = buildModel({ layers: [layerOf('conv2d', { dataFormat: 'channels_first' }), layerOf('batchnorm', { detail: { norm: { axis: 1 } } })] });
    expect(check(channelsFirst)).toHaveLength(1);
  });

  it('counts the last axis written as its index (axis=3 after a Conv2D, axis=1 after a Dense) as the feature axis', () => {
    expect(check(buildModel({ layers: [layerOf('conv2d'), layerOf('batchnorm', { detail: { norm: { axis: 3 } } })] }))).toHaveLength(1);
    expect(check(buildModel({ layers: [dense(8), layerOf('batchnorm', { detail: { norm: { axis: 1 } } })] }))).toHaveLength(1);
    // Axis 2 of a channels-last Conv2D is a spatial axis; axis 3 of a channels-first one too.
    expect(check(buildModel({ layers: [layerOf('conv2d'), layerOf('batchnorm', { detail: { norm: { axis: 2 } } })] }))).toEqual([]);
    expect(check(buildModel({ layers: [layerOf('conv2d', { dataFormat: 'channels_first' }), layerOf('batchnorm', { detail: { norm: { axis: 3 } } })] }))).toEqual([]);
  });

  it('adds bias=False in PyTorch and replaces use_bias=True in Keras (safe)', () => {
    const torch = 'self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)\nself.bn1 = nn.BatchNorm2d(64)';
    const torchModel = buildModel({
      framework: 'torch',
      style: 'torch-module',
      layers: [
        { kind: 'conv2d', range: findRange(torch, 'nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)') },
        { kind: 'batchnorm', range: findRange(torch, 'nn.BatchNorm2d(64)') },
      ],
    });
    const [torchFinding] = check(torchModel, { [FILE]: torch });
    expect(defined(torchFinding).fixes[0]!.safety).toBe('safe');
    expect(applyEdits(torch, defined(torchFinding).fixes[0]!.edits)).toBe('self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)\nself.bn1 = nn.BatchNorm2d(64)');

    const keras = 'x = layers.Dense(\n    128,\n    use_bias=True,  # default\n)(x)\nx = layers.BatchNormalization()(x)';
    const kerasModel = buildModel({
      style: 'keras-functional',
      layers: [
        { kind: 'dense', range: findRange(keras, 'layers.Dense(\n    128,\n    use_bias=True,  # default\n)') },
        { kind: 'batchnorm', range: findRange(keras, 'layers.BatchNormalization()') },
      ],
    });
    const [kerasFinding] = check(kerasModel, { [FILE]: keras });
    expect(applyEdits(keras, defined(kerasFinding).fixes[0]!.edits)).toBe('x = layers.Dense(\n    128,\n    use_bias=False,  # default\n)(x)\nx = layers.BatchNormalization()(x)');
  });

  it('gives no text fix when the bias flag is passed positionally or through **kwargs', () => {
    const source = 'a = nn.Linear(10, 20, True)\nb = nn.Linear(10, 20, **opts)\nnn.BatchNorm1d(20)';
    const model = (call: string) =>
      buildModel({ framework: 'torch', style: 'torch-module', layers: [{ kind: 'dense', range: findRange(source, call) }, { kind: 'batchnorm', range: findRange(source, 'nn.BatchNorm1d(20)') }] });
    expect(check(model('nn.Linear(10, 20, True)'), { [FILE]: source })[0]!.fixes).toEqual([]);
    expect(check(model('nn.Linear(10, 20, **opts)'), { [FILE]: source })[0]!.fixes).toEqual([]);
  });

  it('reports a loop-made layer once and fixes it only when every copy is followed by BatchNorm', () => {
    const source = 'for _ in range(2):\n    model.add(layers.Conv2D(32, 3))\n    model.add(layers.BatchNormalization())\n    model.add(layers.ReLU())';
    const conv = findRange(source, 'layers.Conv2D(32, 3)');
    const copy = (index: number, count: number) => layerOf('conv2d', { range: conv, unrolled: { index, count } });
    const bn = (index: number, count: number) => layerOf('batchnorm', { line: 2, unrolled: { index, count } });
    const everyCopy = buildModel({ style: 'keras-add', layers: [copy(0, 2), bn(0, 2), act('relu', { line: 3 }), copy(1, 2), bn(1, 2), act('relu', { line: 3 })] });
    const findings = check(everyCopy, { [FILE]: source });
    expect(findings).toHaveLength(1);
    expect(defined(findings[0]!.whatIf).ops).toHaveLength(2);
    expect(applyEdits(source, findings[0]!.fixes[0]!.edits)).toContain('layers.Conv2D(32, 3, use_bias=False)');
    const lastCopyDiffers = buildModel({ style: 'keras-add', layers: [copy(0, 2), bn(0, 2), act('relu', { line: 3 }), copy(1, 2), act('relu', { line: 3 })] });
    const [partial] = check(lastCopyDiffers, { [FILE]: source });
    expect(defined(partial).fixes).toEqual([]);
  });
});

describeRuleFixtures('GL302');
