/** Shape propagation (src/shared/shapes.ts): fans and features the source leaves implicit, for both layouts. */
import { describe, expect, it } from 'vitest';
import type { ConvConfig, LayerIR } from '../../../src/shared/ir';
import { makeLayer, makeModel, type LayerFields } from '../../../src/analysis/extract/builders';
import { defaultConv, defaultRecurrent } from '../../../src/shared/layers';
import { kerasDefaultKernel } from '../../../src/analysis/extract/defaults';
import { broadcastShapes, propagateShapes, windowOutput } from '../../../src/shared/shapes';
import { extractFrom, modelNamed } from '../extract/extract-helper';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const at = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };

type Fields = LayerFields extends infer F ? (F extends unknown ? Omit<F, 'className' | 'range'> : never) : never;
const conv = (settings: Partial<ConvConfig> = {}): ConvConfig => ({ ...defaultConv(settings.variant), ...settings });

/** A chain of layers with ids and inputs as makeModel assigns them. */
function chain(...fields: Fields[]): LayerIR[] {
  const model = makeModel({
    name: 'm',
    framework: 'keras',
    style: 'keras-sequential',
    file: 'm.py',
    range: at,
    nameRange: at,
    layers: fields.map((f) => makeLayer({ className: 'X', range: at, ...f })),
  });
  return model.layers.map((l, i) => ({ ...l, inputs: i === 0 ? [] : [`L${i - 1}`] }));
}

describe('propagateShapes, channels_last (Keras)', () => {
  it('computes conv fans from in_channels and the receptive field, and output sizes from padding and strides', () => {
    const layers = chain(
      { kind: 'conv2d', units: 32, kernelSize: [3, 3], conv: conv({ padding: 'same', strides: [2] }) },
      { kind: 'conv2d', units: 64, kernelSize: [5, 5] },
      { kind: 'maxpool', kernelSize: [2, 2] },
      { kind: 'flatten' },
      { kind: 'dense', units: 10 },
    );
    const shapes = propagateShapes(layers, [32, 32, 3]);
    expect(shapes.get('L0')).toEqual([16, 16, 32]);
    expect(shapes.get('L1')).toEqual([12, 12, 64]);
    expect(shapes.get('L2')).toEqual([6, 6, 64]);
    expect(shapes.get('L3')).toEqual([6 * 6 * 64]);
    expect(layers.map((l) => [l.inFeatures, l.fanIn, l.fanOut])).toEqual([
      [3, 27, 288],
      [32, 800, 1600],
      [null, null, null],
      [null, null, null],
      [2304, 2304, 10],
    ]);
  });

  it('swaps the channel roles for transposed convs and uses the depthwise kernel for depthwise / separable convs', () => {
    const layers = chain(
      { kind: 'conv-transpose', units: 16, kernelSize: [4, 4], conv: conv({ variant: 'transpose', strides: [2], padding: 'same' }) },
      { kind: 'conv2d', units: null, kernelSize: [3, 3], conv: conv({ variant: 'depthwise', depthMultiplier: 2, padding: 'same' }) },
      { kind: 'conv2d', units: 8, kernelSize: [3, 3], conv: conv({ variant: 'separable', pointwise: { init: kerasDefaultKernel(), fanIn: null, fanOut: null } }) },
    );
    const shapes = propagateShapes(layers, [8, 8, 4]);
    expect(shapes.get('L0')).toEqual([16, 16, 16]);
    expect([layers[0]!.fanIn, layers[0]!.fanOut]).toEqual([16 * 16, 4 * 16]);
    expect(shapes.get('L1')).toEqual([16, 16, 32]);
    expect([layers[1]!.fanIn, layers[1]!.fanOut]).toEqual([16 * 9, 2 * 9]);
    expect(shapes.get('L2')).toEqual([14, 14, 8]);
    expect([layers[2]!.fanIn, layers[2]!.fanOut]).toEqual([32 * 9, 9]);
    expect(layers[2]).toMatchObject({ conv: { pointwise: { fanIn: 32, fanOut: 8 } } });
  });

  it('follows graph edges: concatenation sums the axis, add keeps the shape', () => {
    const layers = chain({ kind: 'input' }, { kind: 'dense', units: 8 }, { kind: 'dense', units: 24 }, { kind: 'concat', merge: { op: 'concatenate', axis: -1 } }, { kind: 'dense', units: 1 });
    layers[2]!.inputs = ['L0'];
    layers[3]!.inputs = ['L1', 'L2'];
    propagateShapes(layers, [5]);
    expect(layers[4]!.fanIn).toBe(32);
    expect(layers[2]!.fanIn).toBe(5);
  });

  it('leaves everything unknown when the input shape is unknown, except what units imply', () => {
    const layers = chain({ kind: 'dense', units: 64 }, { kind: 'dense', units: 32 }, { kind: 'flatten' }, { kind: 'dense', units: 1 });
    const shapes = propagateShapes(layers, null);
    expect(layers.map((l) => l.fanIn)).toEqual([null, 64, null, null]);
    // Flatten of a tensor whose leading dimensions are unknown: no guess.
    expect(shapes.get('L2')).toBeNull();
  });

  it('keeps values a framework wrote explicitly', () => {
    const layers = chain({ kind: 'dense', units: 10, inFeatures: 100, fanIn: 100, fanOut: 10 });
    propagateShapes(layers, [7]);
    expect([layers[0]!.inFeatures, layers[0]!.fanIn]).toEqual([100, 100]);
  });
});

describe('propagateShapes, channels_first (PyTorch)', () => {
  it('reads channels from the first axis and numeric padding', () => {
    const layers = chain(
      { kind: 'conv2d', units: 16, kernelSize: [3, 3], conv: conv({ padding: [1], strides: [1] }) },
      { kind: 'batchnorm' },
      { kind: 'maxpool', kernelSize: [2, 2] },
      { kind: 'flatten' },
      { kind: 'dense', units: 10 },
    );
    const shapes = propagateShapes(layers, [3, 28, 28], { framework: 'torch' });
    expect(shapes.get('L0')).toEqual([16, 28, 28]);
    expect(layers[0]!.fanIn).toBe(27);
    expect(layers[1]!.inFeatures).toBe(16);
    expect(shapes.get('L2')).toEqual([16, 14, 14]);
    expect(layers[4]!.fanIn).toBe(16 * 14 * 14);
  });

  it('uses an explicit in_channels when the input shape is unknown', () => {
    const layers = chain({ kind: 'conv2d', units: 8, inFeatures: 4, kernelSize: [3, 3], conv: conv({ groups: 2 }) });
    propagateShapes(layers, null, { framework: 'torch' });
    expect([layers[0]!.fanIn, layers[0]!.fanOut]).toEqual([2 * 9, 8 * 9]);
  });

  it('gives recurrent kernels gates * units fan-out and bidirectional outputs twice the units', () => {
    const layers = chain(
      { kind: 'lstm', units: 32, recurrent: { ...defaultRecurrent('lstm'), returnSequences: true, bidirectional: true } },
      { kind: 'gru', units: 16 },
      { kind: 'dense', units: 2 },
    );
    const shapes = propagateShapes(layers, [20, 8]);
    expect(shapes.get('L0')).toEqual([20, 64]);
    expect([layers[0]!.fanIn, layers[0]!.fanOut]).toEqual([8, 128]);
    expect([layers[1]!.fanIn, layers[1]!.fanOut]).toEqual([64, 48]);
    expect(layers[2]!.fanIn).toBe(16);
  });
});

describe('propagateShapes in a graph: a layer is read by the layer that lists it', () => {
  it('keeps torch\'s order in the views of q, k and v that an einsum reads, though the next view is listed after each', async () => {
    const source = readFileSync(join(__dirname, '../../fixtures/probe/torch_attention_wide.py'), 'utf8');
    const model = modelNamed(await extractFrom(source), 'EinsumEncoderBlock');
    const layers = structuredClone(model.layers);
    const shapes = propagateShapes(layers, [20, 512], { framework: 'torch', layout: 'channels_last' });
    const views = layers.filter((l) => l.kind === 'reshape').slice(0, 3);
    expect(views.map((l) => shapes.get(l.id))).toEqual([[20, 8, 64], [20, 8, 64], [20, 8, 64]]);
    const scores = layers.find((l) => l.kind === 'tensor-op' && l.op?.op === 'matmul');
    expect(shapes.get(scores?.id ?? '')).toEqual([8, 20, 20]);
  });
});

describe('windowOutput, the frameworks\' sliding-window formulas', () => {
  it.each([
    ['valid 3 on 28', 28, { kernel: 3, stride: 1, dilation: 1, padding: 'valid' as const }, 26],
    ["Keras 'same' stride 2 on 32", 32, { kernel: 3, stride: 2, dilation: 1, padding: 'same' as const }, 16],
    ["Keras 'same' stride 2 on 33 (rounds up)", 33, { kernel: 3, stride: 2, dilation: 1, padding: 'same' as const }, 17],
    ['torch padding=1 stride 2 on 32', 32, { kernel: 3, stride: 2, dilation: 1, padding: 1 }, 16],
    ['torch dilation=2 on 10', 10, { kernel: 3, stride: 1, dilation: 2, padding: 0 }, 6],
    ['torch ceil_mode pool 2/2 on 7', 7, { kernel: 2, stride: 2, dilation: 1, padding: 0, ceilMode: true }, 4],
    ['torch floor pool 2/2 on 7', 7, { kernel: 2, stride: 2, dilation: 1, padding: 0 }, 3],
    // ceil_mode's last window would start in the right padding only: dropped (torch rule).
    ['torch ceil_mode pool 2/2 pad 1 on 5', 5, { kernel: 2, stride: 2, dilation: 1, padding: 1, ceilMode: true }, 3],
    ['torch ConvTranspose2d(k=4, s=2, p=1) on 8', 8, { kernel: 4, stride: 2, dilation: 1, padding: 1, transpose: true }, 16],
    ['torch ConvTranspose2d(k=3, s=2, p=1, output_padding=1) on 8', 8, { kernel: 3, stride: 2, dilation: 1, padding: 1, transpose: true, outputPadding: 1 }, 16],
    ["Keras Conv2DTranspose 'same' stride 2 on 7", 7, { kernel: 3, stride: 2, dilation: 1, padding: 'same' as const, transpose: true }, 14],
    ["Keras Conv2DTranspose 'valid' k=5 stride 2 on 7", 7, { kernel: 5, stride: 2, dilation: 1, padding: 'valid' as const, transpose: true }, 17],
    ['a kernel larger than the input', 2, { kernel: 3, stride: 1, dilation: 1, padding: 'valid' as const }, null],
  ])('%s', (_name, input, window, expected) => {
    expect(windowOutput(input, window)).toBe(expected);
  });
});

describe('broadcastShapes (elementwise products)', () => {
  it('stretches sides of 1 as the frameworks do, and refuses sides that differ', () => {
    // A squeeze-and-excitation gate over a feature map, both layouts; a spatial attention map over the channels.
    expect(broadcastShapes([[32, 12, 12], [32, 1, 1]])).toEqual([32, 12, 12]);
    expect(broadcastShapes([[1, 1, 32], [12, 12, 32]])).toEqual([12, 12, 32]);
    expect(broadcastShapes([[32, 12, 12], [1, 12, 12]])).toEqual([32, 12, 12]);
    // Ranks aligned on the last axis; an unknown side takes the known one.
    expect(broadcastShapes([[8, 16], [16]])).toEqual([8, 16]);
    expect(broadcastShapes([[null, 16], [4, 1]])).toEqual([4, 16]);
    expect(broadcastShapes([[32, 12, 12], [16, 1, 1]])).toBeNull();
  });
});
