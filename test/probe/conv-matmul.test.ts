/**
 * The convolution as a product of patches and kernel (src/probe/conv-matmul.ts): its output, filter
 * gradient and input gradient equal tfjs' convolution and the cpu backend's own gradients, for padded,
 * strided and dilated kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { insertZeros, type SpatialPads } from '../../src/probe/conv';
import { makeConvAsProduct, productIsCheaper } from '../../src/probe/conv-matmul';
import { Rng } from '../../src/probe/rng';

function random(shape: number[], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normalInto(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape as [number, number, number, number]);
}

/** Output, dL/dx and dL/dw of sum(conv(x, w) * probe). */
function run(conv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D, x: tf.Tensor4D, w: tf.Tensor4D, probe: tf.Tensor): number[][] {
  return tf.tidy(() => {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), probe));
    return [conv(x, w), ...tf.grads(f)([x, w])].map((t) => Array.from(t.dataSync()));
  });
}

const cases: [string, number[], number[], [number, number], number, SpatialPads][] = [
  ['4x4 kernel, stride 2, pad 1 on a 4x4 map (a discriminator head)', [2, 4, 4, 6], [4, 4, 6, 9], [2, 2], 1, [[1, 1], [1, 1]]],
  ['3x3 kernel, pad 1 on a 1x1 map', [3, 1, 1, 5], [3, 3, 5, 7], [1, 1], 1, [[1, 1], [1, 1]]],
  ['1x1 kernel, no padding', [2, 3, 3, 4], [1, 1, 4, 10], [1, 1], 1, [[0, 0], [0, 0]]],
  ['3x3 kernel at dilation 2, uneven pads, stride 1x2', [2, 6, 7, 3], [3, 3, 3, 8], [1, 2], 2, [[2, 1], [0, 2]]],
];

describe.each(['cpu', 'wasm'] as const)('convolution as a product on %s', (backend) => {
  it.each(cases)('%s: output and gradients equal the convolution', async (_name, xShape, wShape, strides, dilation, pads) => {
    await selectBackend('cpu');
    const x = random(xShape, 1);
    const w = random(wShape, 2);
    // The reference: tfjs' convolution and the cpu backend's native gradients, dilation spread into the kernel
    // (tfjs neither differentiates a dilated convolution nor runs one with strides).
    const referenceConv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, insertZeros(insertZeros(b, 0, dilation - 1), 1, dilation - 1) as tf.Tensor4D, strides, [[0, 0], pads[0], pads[1], [0, 0]]);
    const probe = random(referenceConv(x, w).shape, 3);
    const reference = run(referenceConv, x, w, probe);
    await selectBackend(backend);
    const product = run(makeConvAsProduct(strides, dilation, pads, true), x, w, probe);
    for (let k = 0; k < 3; k++) {
      const scale = Math.max(...reference[k]!.map(Math.abs));
      product[k]!.forEach((v, i) => {
        expect(Math.abs(v - reference[k]![i]!) / scale).toBeLessThan(1e-5);
      });
    }
    // Without the input gradient (a model input): zeros, the same filter gradient.
    const noInput = run(makeConvAsProduct(strides, dilation, pads, false), x, w, probe);
    expect(noInput[1]!.every((v) => v === 0)).toBe(true);
    expect(noInput[2]).toEqual(product[2]);
    expect(reference[1]!.some((v) => v !== 0)).toBe(true);
    tf.dispose([x, w, probe]);
  });
});

describe('when a convolution runs as a product', () => {
  it('with fewer output positions than output channels, not with more', () => {
    expect(productIsCheaper(16, 2048)).toBe(true);
    expect(productIsCheaper(32 * 32 * 32, 32)).toBe(false);
  });
});
