/**
 * The probe's gradients against central finite differences, on tiny models of every layer kind it
 * builds, on the cpu and the wasm backend (wasm uses the probe's own convolution filter gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { buildNodes, type ProbeNode } from '../../src/probe/layers';
import { planModel } from '../../src/probe/plan';
import { Rng } from '../../src/probe/rng';
import { probeOptions } from '../../src/shared/probe';
import type { ModelIR } from '../../src/shared/ir';
import { initializer, keras, torch } from './ir-builder';

const cases: [string, () => ModelIR][] = [
  ['dense + sigmoid (keras)', () => keras().input([5]).dense(4, 'sigmoid').dense(3, 'tanh').build()],
  ['linear + relu6/elu/selu/gelu/swish/mish/softplus/softsign (torch)', () => {
    const b = torch().input([4]);
    for (const a of ['elu', 'selu', 'gelu', 'swish', 'mish', 'softplus', 'softsign', 'leaky_relu'] as const) b.layer({ kind: 'dense', units: 4, inFeatures: 4 }).layer({ kind: 'activation', activation: a });
    return b.build();
  }],
  ['prelu + hard_sigmoid + softmax', () => keras().input([4]).dense(4).layer({ kind: 'activation', activation: 'prelu' }).dense(4, 'hard_sigmoid').dense(3, 'softmax').build()],
  ['conv2d same + stride 2 + maxpool + flatten', () =>
    keras().input([7, 7, 2]).layer({ kind: 'conv2d', units: 3, kernelSize: [3, 3], activation: 'tanh', detail: { conv: { padding: 'same', strides: [2] } } }).layer({ kind: 'maxpool', kernelSize: [2, 2] }).layer({ kind: 'flatten' }).dense(2).build()],
  // 8 rows into a kernel of 3 at stride 2 (and 9 columns into 2): the last row and column are never read, so its input gradient is zero (wasm computes
  // the input gradient as a forward convolution that must pad for it).
  ['conv2d valid stride 2 leaving a row and column unread', () =>
    keras().input([9, 10, 2]).layer({ kind: 'conv2d', units: 3, kernelSize: [2, 2], activation: 'tanh' }).layer({ kind: 'conv2d', units: 2, kernelSize: [3, 2], activation: 'tanh', detail: { conv: { strides: [2] } } }).layer({ kind: 'flatten' }).dense(2).build()],
  // Kernels bigger than the data around them: wasm flips the data for the input gradient, not the kernel (see conv.ts).
  ['conv2d kernels bigger than their data (stride 1 and stride 2)', () =>
    keras()
      .input([3, 3, 96])
      .layer({ kind: 'conv2d', units: 4, kernelSize: [3, 3], activation: 'tanh', detail: { conv: { strides: [2] } } })
      .layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [2, 2, 1] } } })
      .layer({ kind: 'conv2d', units: 24, kernelSize: [1, 1], activation: 'tanh' })
      .layer({ kind: 'conv2d', units: 8, kernelSize: [2, 2], activation: 'tanh' })
      .layer({ kind: 'flatten' })
      .dense(2)
      .build()],
  // Operands big enough that wasm computes the products as (bᵀ·aᵀ)ᵀ (see matmul.ts): a wide Dense, and a
  // recurrent kernel whose input gradient is swapped while its forward product is not.
  ['wide dense (2048 -> 64) and an LSTM of 160 units', () =>
    keras().input([2048]).dense(64, 'sigmoid').layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [4, 16] } } }).layer({ kind: 'lstm', units: 160 }).dense(2).build()],
  ['conv2d torch padding=1 + avgpool + global pool', () =>
    torch().input([2, 6, 6]).layer({ kind: 'conv2d', units: 3, inFeatures: 2, kernelSize: [3], detail: { conv: { padding: [1] } } }).layer({ kind: 'avgpool', kernelSize: [2] }).layer({ kind: 'global-pool', className: 'nn.AdaptiveAvgPool2d' }).layer({ kind: 'dense', units: 2, inFeatures: 3 }).build()],
  ['torch padded average pool (count_include_pad)', () =>
    torch()
      .input([2, 7, 7])
      .layer({ kind: 'conv2d', units: 2, inFeatures: 2, kernelSize: [2], activation: 'tanh' })
      .layer({ kind: 'avgpool', kernelSize: [3], detail: { pool: { strides: [2], padding: [1] } } })
      .layer({ kind: 'flatten' })
      .layer({ kind: 'dense', units: 2, inFeatures: 18 })
      .build()],
  // Max pooling straight on the input: finite differences on the weights after it see no ties.
  ['torch padded and ceil_mode max pools', () =>
    torch()
      .input([5, 5, 2]) // read channels-last: only a leading conv2d makes the probe transpose a (C, H, W) input
      .layer({ kind: 'maxpool', kernelSize: [3], detail: { pool: { strides: [2], padding: [1] } } })
      .layer({ kind: 'maxpool', kernelSize: [2], detail: { pool: { strides: [2], ceilMode: true } } })
      .layer({ kind: 'flatten' })
      .layer({ kind: 'dense', units: 2, inFeatures: 8 })
      .build()],
  // Zero padding goes into the convolution on wasm: the input gradient of a padded convolution that is not the first
  // (stride 1, stride 2, and a pad as wide as the kernel, whose gradient is cropped), then a BatchNorm over images.
  ['padded convolutions after the first (pad 1, stride 2, pad 2 = kernel 2) + BatchNorm2d', () =>
    torch()
      .input([2, 7, 7])
      .layer({ kind: 'conv2d', units: 3, inFeatures: 2, kernelSize: [3], activation: 'tanh', detail: { conv: { padding: [1] } } })
      .layer({ kind: 'conv2d', units: 3, inFeatures: 3, kernelSize: [3], activation: 'tanh', detail: { conv: { padding: [1], strides: [2] } } })
      .layer({ kind: 'conv2d', units: 2, inFeatures: 3, kernelSize: [2], activation: 'tanh', detail: { conv: { padding: [2] } } })
      .layer({ kind: 'batchnorm', className: 'nn.BatchNorm2d' })
      .layer({ kind: 'flatten' })
      .layer({ kind: 'dense', units: 2, inFeatures: 98 })
      .build()],
  // Kernels bigger than what reaches the data: a 4x4 kernel padded by 1 on a 2x2 map and a 3x3 one padded by 1 on a 1x1
  // map convolve with the taps that read data only (conv.ts tapsReadingData); their input gradients matter here.
  ['kernel taps that read only padding left out (4x4 on 2x2, 3x3 on 1x1)', () =>
    torch()
      .input([2, 6, 6])
      .layer({ kind: 'conv2d', units: 3, inFeatures: 2, kernelSize: [3], activation: 'tanh', detail: { conv: { strides: [2] } } })
      .layer({ kind: 'conv2d', units: 4, inFeatures: 3, kernelSize: [4], activation: 'tanh', detail: { conv: { padding: [1] } } })
      .layer({ kind: 'conv2d', units: 3, inFeatures: 4, kernelSize: [3], activation: 'tanh', detail: { conv: { padding: [1] } } })
      .layer({ kind: 'flatten' })
      .layer({ kind: 'dense', units: 2, inFeatures: 3 })
      .build()],
  ['conv1d + batchnorm + layernorm', () => keras().input([8, 3]).layer({ kind: 'conv1d', units: 4, kernelSize: [3], activation: 'sigmoid' }).layer({ kind: 'batchnorm' }).layer({ kind: 'layernorm' }).build()],
  ['embedding + lstm', () => keras().input([5]).layer({ kind: 'embedding', units: 3, inFeatures: 7 }).layer({ kind: 'lstm', units: 4 }).dense(2).build()],
  ['gru (torch, 2 layers) + simple rnn', () => torch().input([4, 3]).layer({ kind: 'gru', units: 3, inFeatures: 3, detail: { recurrent: { numLayers: 2, returnSequences: true } } }).layer({ kind: 'simple-rnn', units: 2, inFeatures: 3 }).build()],
  ['reshape, zero padding, upsampling, permute, cropping, repeat vector', () =>
    keras()
      .input([12])
      .layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [2, 3, 2] } } })
      .layer({ kind: 'reshape', className: 'layers.ZeroPadding2D', detail: { reshape: { op: 'zero-padding', pads: [[1, 1], [2, 2]] } } })
      .layer({ kind: 'conv2d', units: 3, kernelSize: [2, 2], activation: 'tanh' })
      .layer({ kind: 'reshape', className: 'layers.UpSampling2D', detail: { reshape: { op: 'upsampling', factors: [2] } } })
      .layer({ kind: 'reshape', className: 'layers.Permute', detail: { reshape: { op: 'permute', dims: [2, 1, 3] } } })
      .layer({ kind: 'reshape', className: 'layers.Cropping2D', detail: { reshape: { op: 'cropping', crops: [[1, 0], [0, 1]] } } })
      .layer({ kind: 'flatten' })
      .dense(4, 'sigmoid')
      .layer({ kind: 'reshape', className: 'layers.RepeatVector', detail: { reshape: { op: 'repeat-vector', n: 3 } } })
      .layer({ kind: 'simple-rnn', units: 2 })
      .build()],
  ['torch ConvTranspose2d (stride 2, padding 1, output_padding 1) + ConvTranspose1d', () =>
    torch()
      .input([2, 4, 4]) // (C, H, W): a leading torch convolution reads its input channels-first
      .layer({ kind: 'conv-transpose', units: 3, inFeatures: 2, kernelSize: [3, 3], activation: 'tanh', detail: { conv: { strides: [2], padding: [1], outputPadding: [1] } } })
      .layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [8, 24] } } })
      .layer({ kind: 'conv-transpose', units: 2, inFeatures: 24, kernelSize: [4], detail: { conv: { strides: [3], padding: [2] } } })
      .build()],
  ["Keras Conv2DTranspose 'same' stride 2, Conv1DTranspose 'valid' stride 2", () =>
    keras()
      .input([3, 3, 2])
      .layer({ kind: 'conv-transpose', units: 2, kernelSize: [3, 3], activation: 'sigmoid', detail: { conv: { strides: [2], padding: 'same' } } })
      .layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [6, 12] } } })
      .layer({ kind: 'conv-transpose', units: 2, kernelSize: [3], detail: { conv: { strides: [2], padding: 'valid' } } })
      .build()],
  ['torch GroupNorm, InstanceNorm (no affine), grouped and dilated convolutions', () =>
    torch()
      .input([4, 7, 7])
      .layer({ kind: 'conv2d', units: 4, inFeatures: 4, kernelSize: [3], detail: { conv: { groups: 2, dilation: [2], padding: [2] } } })
      .layer({ kind: 'groupnorm', className: 'nn.GroupNorm', detail: { norm: { groups: 2 } } })
      .layer({ kind: 'conv2d', units: 4, inFeatures: 4, kernelSize: [3], activation: 'tanh', detail: { conv: { dilation: [2], strides: [2] } } })
      .layer({ kind: 'groupnorm', className: 'nn.InstanceNorm2d', detail: { norm: { affine: false } } })
      .layer({ kind: 'flatten' })
      .layer({ kind: 'dense', units: 2, inFeatures: 16 })
      .build()],
  ['Keras DepthwiseConv2D, SeparableConv2D, causal dilated Conv1D, GroupNormalization', () =>
    keras()
      .input([6, 6, 3])
      .layer({ kind: 'conv2d', kernelSize: [3, 3], activation: 'tanh', detail: { conv: { variant: 'depthwise', depthMultiplier: 2 } } })
      .layer({ kind: 'conv2d', units: 4, kernelSize: [2, 2], detail: { conv: { variant: 'separable', depthMultiplier: 1, pointwise: { init: initializer('glorot_uniform'), fanIn: null, fanOut: null } } } })
      .layer({ kind: 'groupnorm', className: 'layers.GroupNormalization', detail: { norm: { groups: 2 } } })
      .layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [9, 4] } } })
      .layer({ kind: 'conv1d', units: 3, kernelSize: [2], activation: 'tanh', detail: { conv: { padding: 'causal', dilation: [2] } } })
      .build()],
  ['torch ReflectionPad2d, ReplicationPad1d, PixelShuffle, Upsample', () =>
    torch()
      .input([2, 4, 4])
      .layer({ kind: 'conv2d', units: 8, inFeatures: 2, kernelSize: [3], activation: 'tanh' })
      .layer({ kind: 'reshape', className: 'nn.ReflectionPad2d', detail: { reshape: { op: 'edge-padding', mode: 'reflect', pads: [[1, 1], [1, 0]] } } })
      .layer({ kind: 'reshape', className: 'nn.PixelShuffle', detail: { reshape: { op: 'pixel-shuffle', factor: 2 } } })
      .layer({ kind: 'reshape', className: 'nn.Upsample', detail: { reshape: { op: 'upsampling', factors: [2] } } })
      .layer({ kind: 'conv2d', units: 2, inFeatures: 2, kernelSize: [3], detail: { conv: { strides: [3] } } })
      .layer({ kind: 'reshape', className: 'layers.Reshape', detail: { reshape: { op: 'reshape', target: [10, 4] } } })
      .layer({ kind: 'reshape', className: 'nn.ReplicationPad1d', detail: { reshape: { op: 'edge-padding', mode: 'replicate', pads: [[2, 1]] } } })
      .layer({ kind: 'conv1d', units: 2, inFeatures: 4, kernelSize: [3] })
      .build()],
  ['bidirectional torch LSTM, 2 layers, read at the last step', () =>
    torch().input([4, 3]).layer({ kind: 'lstm', units: 3, inFeatures: 3, detail: { recurrent: { numLayers: 2, bidirectional: true } } }).layer({ kind: 'dense', units: 2, inFeatures: 6 }).build()],
  ['Keras Bidirectional GRU sum (sequences) then SimpleRNN ave (last step)', () =>
    keras()
      .input([4, 3])
      .layer({ kind: 'gru', units: 3, detail: { recurrent: { bidirectional: true, mergeMode: 'sum', returnSequences: true } } })
      .layer({ kind: 'simple-rnn', units: 2, detail: { recurrent: { bidirectional: true, mergeMode: 'ave' } } })
      .build()],
  ['LSTM over a single time step (the unstack crash)', () => keras().input([1, 3]).layer({ kind: 'lstm', units: 4, detail: { recurrent: { returnSequences: true } } }).layer({ kind: 'lstm', units: 3 }).dense(2).build()],
  ['residual add + concat graph', () =>
    keras()
      .asGraph()
      .input([4])
      .layer({ kind: 'input', name: 'inp' })
      .layer({ kind: 'dense', name: 'a', units: 4, activation: 'tanh', inputs: ['inp'] })
      .layer({ kind: 'dense', name: 'b', units: 4, activation: 'sigmoid', inputs: ['a'] })
      .layer({ kind: 'add', name: 'res', inputs: ['a', 'b'] })
      .layer({ kind: 'concat', name: 'cat', inputs: ['res', 'inp'] })
      .layer({ kind: 'dense', name: 'out', units: 2, inputs: ['cat'] })
      .build()],
  ['torch self-attention (causal, 2 heads) + learned positions + GELU MLP, pre-LN residuals', () =>
    torch()
      .asGraph()
      .input([5, 4])
      .layer({ kind: 'input', name: 'x' })
      .layer({ kind: 'position-embedding', name: 'pos', units: 4, detail: { positions: 6 }, kernelInit: initializer('random_normal', { mean: 0, std: 0.5 }, 'torch'), inputs: ['x'] })
      .layer({ kind: 'layernorm', name: 'ln', inputs: ['pos'] })
      .layer({ kind: 'attention', name: 'attn', units: 4, inFeatures: 4, detail: { attention: { heads: 2, keyDim: 2, valueDim: 2, causal: true } }, inputs: ['ln'] })
      .layer({ kind: 'add', name: 'res', inputs: ['pos', 'attn'] })
      .layer({ kind: 'dense', name: 'up', units: 6, inFeatures: 4, inputs: ['res'] })
      .layer({ kind: 'activation', name: 'gelu', activation: 'gelu', inputs: ['up'] })
      .layer({ kind: 'dense', name: 'down', units: 4, inFeatures: 6, inputs: ['gelu'] })
      .build()],
  ['keras cross-attention: query, key and value from three tensors, output_shape 3', () =>
    keras()
      .asGraph()
      .input([4, 3])
      .layer({ kind: 'input', name: 'x' })
      .layer({ kind: 'dense', name: 'q', units: 3, activation: 'tanh', inputs: ['x'] })
      .layer({ kind: 'dense', name: 'k', units: 2, inputs: ['x'] })
      .layer({ kind: 'attention', name: 'mha', units: 3, detail: { attention: { heads: 2, keyDim: 3, valueDim: 2 } }, inputs: ['q', 'k', 'x'] })
      .build()],
];

function lossOf(nodes: ProbeNode[], x: tf.Tensor, probe: tf.Tensor): tf.Scalar {
  const outputs: tf.Tensor[] = [];
  for (const node of nodes) outputs.push(node.apply(node.planned.inputs.map((i) => (i < 0 ? x : outputs[i]!)), { training: false, rng: new Rng(0) }));
  return tf.sum<tf.Scalar>(tf.mul(outputs[outputs.length - 1]!, probe));
}

/** Largest relative disagreement between analytic and finite-difference gradients over sampled entries. */
function maxError(model: ModelIR): { worst: number; checked: number } {
  const options = probeOptions({ batchSize: 3 });
  const plan = planModel(model, options);
  const nodes = buildNodes(plan.layers, model.framework, new Rng(1), []);
  const rng = new Rng(2);
  const batchShape = [3, ...plan.inputShape];
  const count = batchShape.reduce((a, b) => a * b, 1);
  const x = plan.input.kind === 'tokens' ? tf.tensor(Int32Array.from({ length: count }, () => rng.int(7)), batchShape, 'int32') : tf.tensor(rng.fill(count, () => rng.normal()), batchShape);
  const outShape = [3, ...plan.layers[plan.layers.length - 1]!.outShape];
  const probe = tf.tensor(rng.fill(outShape.reduce((a, b) => a * b, 1), () => rng.normal()), outShape);
  const vars = nodes.flatMap((n) => n.vars);
  const { grads } = tf.variableGrads(() => lossOf(nodes, x, probe), vars);
  let worst = 0;
  let checked = 0;
  const eps = 1e-2;
  for (const v of vars) {
    const analytic = grads[v.name]!.dataSync();
    const base = v.dataSync().slice();
    for (let k = 0; k < Math.min(4, base.length); k++) {
      const index = (k * 7919) % base.length;
      const at = (delta: number) => {
        const values = base.slice();
        values[index] = values[index]! + delta;
        v.assign(tf.tensor(values, v.shape));
        return tf.tidy(() => lossOf(nodes, x, probe).dataSync()[0]!);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      worst = Math.max(worst, Math.abs(analytic[index]! - numeric) / (1e-2 + Math.abs(numeric)));
      checked++;
    }
  }
  tf.dispose([x, probe, ...vars, ...Object.values(grads)]);
  return { worst, checked };
}

describe.each(['cpu', 'wasm'] as const)('gradients on %s match finite differences', (backend) => {
  it.each(cases)('%s', async (_name, make) => {
    await selectBackend(backend);
    const { worst, checked } = maxError(make());
    expect(checked).toBeGreaterThan(0);
    expect(worst).toBeLessThan(0.05);
  });
});
