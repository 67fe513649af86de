/**
 * The filter gradient as a product of the input's channel-major patches and the output gradient
 * (src/probe/conv-filter-gradient.ts) equals the cpu backend's own Conv2DBackpropFilter, for odd
 * sizes, 'same' and 'valid' padding, uneven pads, strides and dilation; and a convolution built by
 * makeConv2d on wasm (whose filter gradient takes this path) differentiates as the cpu backend does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { insertZeros, makeConv2d, samePadding, type SpatialPads } from '../../src/probe/conv';
import { filterGradientByProduct } from '../../src/probe/conv-filter-gradient';
import { Rng } from '../../src/probe/rng';

type Shape4 = [number, number, number, number];

function randomData(shape: number[], seed: number): Float32Array {
  return new Rng(seed).normalInto(new Float32Array(shape.reduce((a, b) => a * b, 1)));
}

/** Largest difference relative to the largest magnitude of the reference. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale);
  return worst;
}

const same = (side: number[], kernel: number[], strides: [number, number], dilation: number): SpatialPads => [samePadding(side[0]!, kernel[0]!, strides[0], dilation), samePadding(side[1]!, kernel[1]!, strides[1], dilation)];

/** [name, x shape, kernel shape, strides, dilation, pads] */
const cases: [string, Shape4, Shape4, [number, number], number, SpatialPads][] = [
  ["3x3 'same' (the CIFAR block)", [2, 8, 8, 5], [3, 3, 5, 6], [1, 1], 1, same([8, 8], [3, 3], [1, 1], 1)],
  ["3x3 'valid' on an odd map", [3, 7, 9, 2], [3, 3, 2, 4], [1, 1], 1, [[0, 0], [0, 0]]],
  ["5x3 kernel, 'same', stride 2 on odd sides", [2, 9, 11, 3], [5, 3, 3, 7], [2, 2], 1, same([9, 11], [5, 3], [2, 2], 1)],
  ['3x3 kernel, stride 1x2, uneven pads', [2, 6, 7, 3], [3, 3, 3, 5], [1, 2], 1, [[2, 1], [0, 2]]],
  ['3x3 kernel at dilation 2, pads 2', [1, 9, 8, 4], [3, 3, 4, 3], [1, 1], 2, [[2, 2], [2, 2]]],
  ['1x1 kernel, stride 2', [2, 5, 5, 6], [1, 1, 6, 4], [2, 2], 1, [[0, 0], [0, 0]]],
  ['pads wider than the kernel reaches (a tap reads only padding)', [1, 2, 3, 2], [3, 3, 2, 2], [1, 1], 1, [[3, 1], [1, 3]]],
  ["5x5 'same' on a 2x3 map (output sides the input's; taps that read only padding)", [3, 2, 3, 2], [5, 5, 2, 3], [1, 1], 1, same([2, 3], [5, 5], [1, 1], 1)],
];

/** dL/dx and dL/dw of sum(conv(x, w) * probe) with tfjs' conv2d on the cpu backend (native gradients). */
async function reference(xData: Float32Array, xShape: Shape4, wData: Float32Array, wShape: Shape4, strides: [number, number], dilation: number, pads: SpatialPads): Promise<{ probe: Float32Array; dx: Float32Array; dw: Float32Array }> {
  await selectBackend('cpu');
  return tf.tidy(() => {
    const x = tf.tensor4d(xData, xShape);
    const w = tf.tensor4d(wData, wShape);
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, insertZeros(insertZeros(b, 0, dilation - 1), 1, dilation - 1) as tf.Tensor4D, strides, [[0, 0], pads[0], pads[1], [0, 0]]);
    const outShape = conv(x, w).shape;
    const probe = tf.tensor4d(randomData(outShape, 3), outShape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), probe)))([x, w]) as [tf.Tensor, tf.Tensor];
    return { probe: probe.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

describe('the filter gradient as a product on wasm', () => {
  it.each(cases)('%s: equals the cpu backend’s filter gradient', async (_name, xShape, wShape, strides, dilation, pads) => {
    const xData = randomData(xShape, 1);
    const wData = randomData(wShape, 2);
    const expected = await reference(xData, xShape, wData, wShape, strides, dilation, pads);
    await selectBackend('wasm');
    const xw = tf.tensor4d(xData, xShape);
    const outSide = (side: number, kernel: number, stride: number, [before, after]: [number, number]) => Math.floor((side + before + after - ((kernel - 1) * dilation + 1)) / stride) + 1;
    const dyShape: Shape4 = [xShape[0], outSide(xShape[1], wShape[0], strides[0], pads[0]), outSide(xShape[2], wShape[1], strides[1], pads[1]), wShape[3]];
    const dy = tf.tensor4d(expected.probe, dyShape);
    const dw = filterGradientByProduct(xw, dy, [wShape[0], wShape[1]], strides, dilation, pads);
    if (!dw) throw new Error('no product on wasm');
    expect(dw.shape).toEqual(wShape);
    expect(relativeError(dw.dataSync(), expected.dw)).toBeLessThan(1e-5);
    tf.dispose([xw, dy, dw]);
  });

  it.each(cases.filter(([, , , , dilation]) => dilation === 1))('%s: makeConv2d differentiates as the cpu backend', async (_name, xShape, wShape, strides, dilation, pads) => {
    const xData = randomData(xShape, 4);
    const wData = randomData(wShape, 5);
    const expected = await reference(xData, xShape, wData, wShape, strides, dilation, pads);
    await selectBackend('wasm');
    const [dx, dw] = tf.tidy(() => {
      const conv = makeConv2d(strides, dilation, pads);
      const x = tf.tensor4d(xData, xShape);
      const w = tf.tensor4d(wData, wShape);
      const probe = tf.tensor(expected.probe, conv(x, w).shape);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), probe)))([x, w]).map((g) => g.dataSync()) as [tf.TypedArray, tf.TypedArray];
    });
    expect(relativeError(dw, expected.dw)).toBeLessThan(1e-5);
    expect(relativeError(dx, expected.dx)).toBeLessThan(1e-5);
  });

  it('is null off wasm (the backend’s own gradient runs there)', async () => {
    await selectBackend('cpu');
    const x = tf.tensor4d(randomData([1, 4, 4, 2], 6), [1, 4, 4, 2]);
    const dy = tf.tensor4d(randomData([1, 4, 4, 3], 7), [1, 4, 4, 3]);
    expect(filterGradientByProduct(x, dy, [3, 3], [1, 1], 1, [[1, 1], [1, 1]])).toBeNull();
    tf.dispose([x, dy]);
  });
});
