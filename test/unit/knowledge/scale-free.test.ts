/**
 * Scale-free weights (src/shared/gradient-flow.ts, scaleFreeLayers) on whole files: which kernels a
 * normalization makes scale-free, each positive case beside a twin that is not, and the measure the
 * prediction then judges the flow in (docs/probe.md, "Scale-free layers").
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { flowMeasure, judgeFlowProfile, scaleFreeLayers } from '../../../src/shared/gradient-flow';
import { modelPrediction, type PropagatedModel } from '../../../src/shared/knowledge/propagation';
import type { ModelIR } from '../../../src/shared/ir';
import { analyzeFixture } from '../project-helper';
import { defined } from '../../defined';

const FIXTURES = join(__dirname, '../../fixtures');

async function modelsOf(path: string): Promise<FileResult['models']> {
  return (await analyzeFixture(join(FIXTURES, path))).models;
}

function named(models: ModelIR[], name: string): ModelIR {
  return defined(models.find((m) => m.name === name || m.name.startsWith(`${name}(`)), `model ${name}`);
}

/** The names of the scale-free kernels. */
function freeNames(model: ModelIR): string[] {
  return [...scaleFreeLayers(model)].map((i) => model.layers[i]!.name);
}

function predicted(model: ModelIR): PropagatedModel {
  const p = modelPrediction(model);
  if (!p.ok) throw new Error(p.reason);
  return p;
}

describe('scale-free kernels', () => {
  it('a conv without bias before BatchNorm, and a Linear whose default bias the BatchNorm removes', async () => {
    const models = await modelsOf('scale-free/torch_conv_bn.py');
    const conv = named(models, 'ConvBnNet');
    expect(freeNames(conv)).toEqual(['features.0', 'features.3', 'features.7']);
    expect(predicted(conv).measure).toBe('unit-weight');
    const linear = named(models, 'BiasedLinearBn');
    expect(freeNames(linear)).toEqual(['body.0', 'body.3', 'body.6']);
    expect(predicted(linear).measure).toBe('unit-weight');
  });

  it('not with a bias before a ReLU, a tanh before the norm, a LayerNorm after a bias; a plain head keeps raw norms', async () => {
    const models = await modelsOf('scale-free/torch_not_scale_free.py');
    expect(freeNames(named(models, 'BiasBeforeRelu'))).toEqual([]);
    expect(freeNames(named(models, 'TanhBeforeNorm'))).toEqual([]);
    expect(freeNames(named(models, 'LayerNormAfterBias'))).toEqual([]);
    const head = named(models, 'PlainHead');
    // The trunk is scale-free, the head's hidden Linear is not: the profile stays on raw norms.
    expect(freeNames(head)).toEqual(['features.0', 'features.3']);
    for (const model of models) expect(predicted(model).measure, model.name).toBe('gradient');
  });

  it('Keras: a fused ReLU with the zero bias before BatchNormalization; not with a constant bias of 0.1', async () => {
    const models = await modelsOf('scale-free/keras_bn.py');
    const zero = named(models, 'dense_bn');
    expect(freeNames(zero)).toHaveLength(3);
    expect(predicted(zero).measure).toBe('unit-weight');
    const shifted = named(models, 'shifted_bias');
    expect(freeNames(shifted)).toEqual([]);
    expect(predicted(shifted).measure).toBe('gradient');
  });

  it('the output layer is never scale-free, nor a kernel read by anything besides the normalization', async () => {
    const models = await modelsOf('torchvision/backbones.py');
    const resnet = named(models, 'Resnet50');
    const free = scaleFreeLayers(resnet);
    const kernels = resnet.layers.flatMap((l, i) => (l.kind === 'conv2d' || l.kind === 'dense' ? [i] : []));
    // Every conv of the ResNet feeds a BatchNorm (the residual sum comes after it); the fc is the output.
    expect(kernels.filter((i) => !free.has(i)).map((i) => resnet.layers[i]!.name)).toEqual(['body.fc']);
  });
});

describe('kernel norms at initialization', () => {
  it('a depthwise conv (groups = channels) has channels x k x k weights: the prediction at equal weight norm is PyTorch\'s', async () => {
    const model = named(await modelsOf('scale-free/torch_depthwise.py'), 'DepthwiseFirst');
    const p = predicted(model);
    expect(p.measure).toBe('unit-weight');
    // scripts/reference/scale_free.txt: log10 -0.78 in PyTorch 1.13 (8 seeds). Counting the depthwise kernel as a
    // full 8 x 8 x 3 x 3 one would read 0.45 decades higher.
    expect(Math.abs(defined(p.log10FirstLastRatio) - -0.78)).toBeLessThan(0.15);
  });
});

describe('the measure of a profile', () => {
  it('is at equal weight norm only when every layer up to the last hidden one is scale-free', () => {
    expect(flowMeasure(4, () => true)).toBe('unit-weight');
    expect(flowMeasure(4, (i) => i !== 3)).toBe('unit-weight');
    expect(flowMeasure(4, (i) => i !== 2)).toBe('gradient');
    expect(flowMeasure(4, (i) => i !== 0)).toBe('gradient');
    // A head of several outputs is not judged: it need not be scale-free.
    expect(flowMeasure(4, (i) => i !== 2, (i) => i >= 2)).toBe('unit-weight');
    expect(flowMeasure(1, () => true)).toBe('gradient');
  });

  it('ResNet-50: exploding on raw gradient norms at initialization, healthy at equal weight norm (PyTorch: ~480x and ~36x)', async () => {
    const resnet = named(await modelsOf('torchvision/backbones.py'), 'Resnet50');
    const p = predicted(resnet);
    expect(p.measure).toBe('unit-weight');
    expect(p.grade).toBe('healthy');
    // scripts/reference/scale_free.txt: log10 1.56 at equal weight norm; a decade's tolerance, as the probe's agreement check.
    expect(Math.abs(defined(p.log10FirstLastRatio) - 1.56)).toBeLessThan(1);
    const first = defined(p.first);
    const hidden = defined(p.lastHidden);
    const raw = defined(first.log10GradRatio) - defined(hidden.log10GradRatio);
    expect(judgeFlowProfile([10 ** raw, 1, 1])?.grade).toBe('exploding');
  });
});
