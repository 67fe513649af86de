/** The torch.nn layer catalog: kinds, sizes, fans, parameters and defaults per constructor. */
import { describe, expect, it } from 'vitest';
import type { LayerIR } from '../../../src/shared/ir';
import { extractTorchFrom } from './torch-fixture';
import { defined } from '../../defined';

/** The one layer `nn.Sequential(<constructor>)` yields. */
async function layer(constructor: string): Promise<LayerIR> {
  const models = await extractTorchFrom(`import torch\nimport torch.nn as nn\nm = nn.Sequential(${constructor})\n`);
  expect(models).toHaveLength(1);
  expect(models[0]!.layers).toHaveLength(1);
  return models[0]!.layers[0]!;
}

describe('torch layer catalog', () => {
  it.each<[string, Record<string, unknown>]>([
    ['nn.Linear(128, 64)', { kind: 'dense', inFeatures: 128, units: 64, fanIn: 128, fanOut: 64, useBias: true }],
    ['nn.Linear(in_features=10, out_features=3, bias=False)', { kind: 'dense', inFeatures: 10, units: 3, useBias: false, biasInit: null }],
    ['nn.LazyLinear(32)', { kind: 'dense', inFeatures: null, units: 32, fanIn: null, fanOut: 32 }],
    ['nn.Bilinear(20, 30, 40)', { kind: 'dense', inFeatures: 20, units: 40, fanIn: 600, fanOut: 1200, in2Features: 30 }],
    ['nn.Conv1d(16, 33, 3, stride=2)', { kind: 'conv1d', inFeatures: 16, units: 33, kernelSize: [3], fanIn: 48, fanOut: 99, conv: { strides: [2], padding: [0], dilation: [1], groups: 1 } }],
    ['nn.Conv2d(3, 64, kernel_size=(3, 5), padding=1)', { kind: 'conv2d', kernelSize: [3, 5], fanIn: 45, fanOut: 960, conv: { strides: [1], padding: [1] } }],
    ['nn.Conv2d(64, 64, 3, 1, 1, 1, 4, False)', { kind: 'conv2d', fanIn: 144, fanOut: 576, useBias: false, conv: { strides: [1], padding: [1], dilation: [1], groups: 4 } }],
    ['nn.Conv3d(1, 8, 3)', { kind: 'conv3d', kernelSize: [3, 3, 3], fanIn: 27, fanOut: 216 }],
    ['nn.ConvTranspose2d(64, 32, 4, 2, 1)', { kind: 'conv-transpose', inFeatures: 64, units: 32, fanIn: 512, fanOut: 1024, conv: { variant: 'transpose', strides: [2], padding: [1], outputPadding: [0] } }],
    ['nn.MaxPool2d(2)', { kind: 'maxpool', kernelSize: [2, 2] }],
    ['nn.AvgPool1d(kernel_size=4, stride=2)', { kind: 'avgpool', kernelSize: [4], pool: { strides: [2], padding: [0], ceilMode: false } }],
    ['nn.AdaptiveAvgPool2d((1, 1))', { kind: 'global-pool', reduce: 'avg', keepdims: true }],
    ['nn.AdaptiveAvgPool2d((7, 7))', { kind: 'avgpool', pool: { adaptiveOutput: [7, 7] } }],
    ['nn.Flatten()', { kind: 'flatten' }],
    ['nn.BatchNorm1d(256, momentum=0.01)', { kind: 'batchnorm', units: 256, useBias: true, norm: { momentum: 0.01, affine: true } }],
    ['nn.BatchNorm2d(32, affine=False)', { kind: 'batchnorm', useBias: false, kernelInit: null, biasInit: null, norm: { affine: false } }],
    ['nn.LayerNorm(512, eps=1e-6)', { kind: 'layernorm', units: 512, norm: { epsilon: 1e-6, affine: true } }],
    ['nn.GroupNorm(4, 64)', { kind: 'groupnorm', units: 64, norm: { groups: 4, affine: true } }],
    ['nn.InstanceNorm2d(16)', { kind: 'groupnorm', units: 16, useBias: false, kernelInit: null, norm: { affine: false } }],
    ['nn.LocalResponseNorm(5)', { kind: 'local-response-norm', lrn: { size: 5, alpha: 1e-4, beta: 0.75, k: 1 } }],
    ['nn.LocalResponseNorm(size=3, alpha=0.5, beta=0.5, k=2.0)', { kind: 'local-response-norm', lrn: { size: 3, alpha: 0.5, beta: 0.5, k: 2 } }],
    ['nn.Dropout()', { kind: 'dropout', rate: 0.5 }],
    ['nn.Dropout2d(p=0.1)', { kind: 'dropout', rate: 0.1, noise: 'spatial' }],
    ['nn.AlphaDropout(0.05)', { kind: 'alpha-dropout', rate: 0.05 }],
    ['nn.Embedding(1000, 64, padding_idx=0)', { kind: 'embedding', inFeatures: 1000, units: 64, fanIn: 64, fanOut: 1000, useBias: false }],
    ['nn.LSTM(input_size=32, hidden_size=64, num_layers=3, batch_first=True)', { kind: 'lstm', inFeatures: 32, units: 64, fanIn: 32, fanOut: 256, recurrent: { numLayers: 3, batchFirst: true, bidirectional: false, returnSequences: null } }],
    ['nn.GRU(10, 20, 2, False)', { kind: 'gru', fanOut: 60, useBias: false, biasInit: null, recurrent: { numLayers: 2 } }],
    ["nn.RNN(10, 20, 1, 'relu')", { kind: 'simple-rnn', fanOut: 20, recurrent: { numLayers: 1 }, activation: { name: 'relu' } }],
    ['nn.LSTMCell(8, 16)', { kind: 'lstm', inFeatures: 8, units: 16, fanOut: 64 }],
    ['nn.Upsample(scale_factor=2)', { kind: 'reshape', reshape: { op: 'upsampling', factors: [2] } }],
    ["nn.Upsample(scale_factor=2, mode='bilinear')", { kind: 'reshape', reshape: { op: 'upsampling', factors: [2], mode: 'bilinear', alignCorners: false } }],
    ['nn.Upsample(size=(64, 64))', { kind: 'reshape', reshape: { op: 'upsampling', factors: null, size: [64, 64], mode: 'nearest' } }],
    ["nn.Upsample(scale_factor=2, mode='bicubic')", { kind: 'reshape', reshape: { op: 'other', className: 'Upsample' } }],
    ['nn.UpsamplingNearest2d(scale_factor=3)', { kind: 'reshape', reshape: { op: 'upsampling', factors: [3] } }],
    ['nn.PixelShuffle(2)', { kind: 'reshape', reshape: { op: 'pixel-shuffle', factor: 2 } }],
    // (left, right, top, bottom) -> [before, after] per spatial dimension, height first.
    ['nn.ReflectionPad2d((1, 2, 3, 4))', { kind: 'reshape', reshape: { op: 'edge-padding', mode: 'reflect', pads: [[3, 4], [1, 2]] } }],
    ['nn.ReplicationPad1d(2)', { kind: 'reshape', reshape: { op: 'edge-padding', mode: 'replicate', pads: [[2, 2]] } }],
    ['nn.ZeroPad2d(1)', { kind: 'reshape', reshape: { op: 'zero-padding', pads: [[1, 1], [1, 1]] } }],
    ['nn.ConstantPad2d(1, 0.0)', { kind: 'reshape', reshape: { op: 'zero-padding', pads: [[1, 1], [1, 1]] } }],
    ['nn.ConstantPad2d(1, 3.5)', { kind: 'reshape', reshape: { op: 'other' } }],
  ])('%s', async (constructor, expected) => {
    const l = await layer(constructor);
    expect(l).toMatchObject(expected);
    expect(l.className).toBe(constructor.slice(0, constructor.indexOf('(')));
    expect(l.range.start).toEqual({ line: 2, character: 'm = nn.Sequential('.length });
  });

  it.each<[string, string, Record<string, number>]>([
    ['nn.ReLU(inplace=True)', 'relu', {}],
    ['nn.ReLU6()', 'relu6', {}],
    ['nn.LeakyReLU(0.2, inplace=True)', 'leaky_relu', { negative_slope: 0.2 }],
    ['nn.LeakyReLU()', 'leaky_relu', { negative_slope: 0.01 }],
    // A bool is an int in Python: nn.LeakyReLU(True), copied from nn.ReLU(True), has the slope 1.0 (the identity).
    ['nn.LeakyReLU(True)', 'leaky_relu', { negative_slope: 1 }],
    ['nn.LeakyReLU(False)', 'leaky_relu', { negative_slope: 0 }],
    ['nn.PReLU()', 'prelu', { init: 0.25 }],
    ['nn.ELU(alpha=0.5)', 'elu', { alpha: 0.5 }],
    ['nn.SELU()', 'selu', {}],
    ['nn.GELU()', 'gelu', {}],
    ['nn.SiLU()', 'swish', {}],
    ['nn.Mish()', 'mish', {}],
    ['nn.Sigmoid()', 'sigmoid', {}],
    ['nn.Tanh()', 'tanh', {}],
    ['nn.Softmax(dim=-1)', 'softmax', { dim: -1 }],
    ['nn.LogSoftmax(1)', 'log_softmax', { dim: 1 }],
    ['nn.Hardsigmoid()', 'hard_sigmoid', {}],
    ['nn.Softsign()', 'softsign', {}],
    ['nn.Softplus(beta=2)', 'softplus', { beta: 2, threshold: 20 }],
    ['nn.Identity()', 'linear', {}],
    ['nn.Hardswish()', 'unknown', {}],
  ])('activation module %s', async (constructor, name, params) => {
    const l = await layer(constructor);
    expect(l.kind).toBe('activation');
    expect(l.activation).toEqual({ name, spelling: constructor, range: l.range, source: 'layer', params });
  });

  it('records torch defaults for weights and biases', async () => {
    const conv = await layer('nn.Conv2d(3, 8, 3)');
    expect(conv.kernelInit).toEqual({ name: 'kaiming_uniform', params: { a: Math.sqrt(5) }, options: { mode: 'fan_in', nonlinearity: 'leaky_relu' }, spelling: '(default)', range: null, explicit: false, framework: 'torch' });
    expect(conv.biasInit).toMatchObject({ name: 'torch_default_bias', explicit: false });
    const bn = await layer('nn.BatchNorm2d(8)');
    expect([bn.kernelInit?.name, bn.biasInit?.name]).toEqual(['ones', 'zeros']);
    const lstm = await layer('nn.LSTM(4, 25)');
    expect(lstm.kernelInit).toMatchObject({ name: 'random_uniform', params: { a: -0.2, b: 0.2 }, explicit: false });
    expect(lstm.recurrentInit).toEqual(lstm.kernelInit);
  });

  it('keeps sizes it cannot evaluate as null', async () => {
    const l = await layer('nn.Linear(cfg.hidden, 10)');
    expect(l).toMatchObject({ inFeatures: null, units: 10, fanIn: null, fanOut: 10 });
  });

  it('reports torch.nn classes outside the catalog as unknown and unsupported', async () => {
    const [m] = await extractTorchFrom('import torch.nn as nn\nm = nn.Sequential(nn.Linear(4, 4), nn.TransformerEncoder(None, 2))\n');
    expect(defined(m).layers.map((l) => l.kind)).toEqual(['dense', 'unknown']);
    expect(defined(m).layers[1]!.className).toBe('nn.TransformerEncoder');
    expect(defined(m).unsupported).toEqual([{ what: 'nn.TransformerEncoder of a layer that is not an nn.TransformerEncoderLayer', range: defined(m).layers[1]!.range }]);
  });
});

describe('torch sizes left implicit', () => {
  it('fills LazyLinear in_features and fans from the layer before it', async () => {
    const [m] = await extractTorchFrom('import torch.nn as nn\nm = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.LazyLinear(8))\n');
    expect(defined(m).layers[2]).toMatchObject({ kind: 'dense', inFeatures: 32, units: 8, fanIn: 32, fanOut: 8 });
  });
});
