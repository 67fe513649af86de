/**
 * Max pooling's gradient on wasm: the backend's MaxPoolGrad kernels drop windows whose values are all
 * <= 0; the probe's two-pass gradient gives those windows' largest value the gradient, as PyTorch, Keras
 * and the cpu backend do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { maxPool } from '../../src/probe/max-pool';

// 4x4 single-channel image: windows (2x2, stride 2) with a positive maximum, and one whose values are all negative.
const image = [0.47, 0.15, -1.39, -0.82, 0.79, -0.17, -0.8, 0.39, 0.08, -0.44, -0.17, -0.78, -0.05, -1.46, -0.83, -0.64];
// Each window's largest value is at 4, 7, 8 and (the all-negative window) 10.
const expected = image.map((_, i) => ([4, 7, 8, 10].includes(i) ? 1 : 0));

function gradient(x: tf.Tensor4D | tf.Tensor5D, size: number[], strides: number[], pad: 'valid' | 'same', weights: tf.Tensor | null = null): number[] {
  return tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => {
    const y = maxPool(t as tf.Tensor4D | tf.Tensor5D, size, strides, pad);
    return tf.sum(weights ? tf.mul(y, weights) : y);
  })(x).dataSync()));
}

/**
 * dL/dx of sum(maxPool2x2(x) * weights) by PyTorch's rule: each window's gradient goes to its first
 * value that is larger than every earlier one or NaN (scan order: rows, then columns).
 */
function firstLargestReference(values: number[], weights: number[], [n, height, width, channels]: [number, number, number, number]): number[] {
  const reference = new Array<number>(values.length).fill(0);
  const at = (b: number, r: number, c: number, ch: number) => ((b * height + r) * width + c) * channels + ch;
  const [outH, outW] = [Math.floor(height / 2), Math.floor(width / 2)];
  for (let b = 0; b < n; b++) for (let i = 0; i < outH; i++) for (let j = 0; j < outW; j++) for (let ch = 0; ch < channels; ch++) {
    let best = at(b, 2 * i, 2 * j, ch);
    for (const [r, c] of [[2 * i, 2 * j + 1], [2 * i + 1, 2 * j], [2 * i + 1, 2 * j + 1]] as const) {
      const v = values[at(b, r, c, ch)]!;
      if (v > values[best]! || Number.isNaN(v)) best = at(b, r, c, ch);
    }
    reference[best] = reference[best]! + Math.fround(weights[((b * outH + i) * outW + j) * channels + ch]!);
  }
  return reference.map(Math.fround);
}

describe('max pooling gradient on wasm with NaN', () => {
  it('passes the gradient of a window holding NaN to its last NaN, as PyTorch scans', async () => {
    await selectBackend('wasm');
    const [n, height, width, channels]: [number, number, number, number] = [2, 4, 6, 3];
    const values = Array.from({ length: n * height * width * channels }, (_, i) => (i % 7 === 3 ? NaN : Math.sin(i)));
    const weights = Array.from({ length: n * 2 * 3 * channels }, (_, i) => i + 1);
    const pooled = gradient(tf.tensor4d(values, [n, height, width, channels]), [2, 2], [2, 2], 'valid', tf.tensor4d(weights, [n, 2, 3, channels]));
    expect(pooled).toEqual(firstLargestReference(values, weights, [n, height, width, channels]));
  });

  it('does so for NaNs with the sign bit set (x86’s default NaN, as 0 * Infinity gives)', async () => {
    await selectBackend('wasm');
    // The windows' NaNs come first, second, third and last, larger values after them.
    const values = new Float32Array([NaN, 1, 2, NaN, 1, 2, 5, 2, 4, 0, -1, 3, NaN, 9, 8, NaN]);
    // Their sign bits set.
    const bits = new Int32Array(values.buffer);
    bits.forEach((b, i) => { if (Number.isNaN(values[i])) bits[i] = b | (1 << 31); });
    const weights = [1, 2, 3, 4];
    const pooled = gradient(tf.tensor4d(values, [1, 4, 4, 1]), [2, 2], [2, 2], 'valid', tf.tensor4d(weights, [1, 2, 2, 1]));
    expect(pooled).toEqual(firstLargestReference(Array.from(values), weights, [1, 4, 4, 1]));
  });
});

describe.each(['cpu', 'wasm'] as const)('max pooling gradient on %s', (backend) => {
  it('reaches the largest value of a window whose values are all negative', async () => {
    await selectBackend(backend);
    expect(gradient(tf.tensor4d(image, [1, 4, 4, 1]), [2, 2], [2, 2], 'valid')).toEqual(expected);
    // The same windows as a 3-D pooling of depth 1.
    expect(gradient(tf.tensor5d(image, [1, 1, 4, 4, 1]), [1, 2, 2], [1, 2, 2], 'valid')).toEqual(expected);
  });

  it('shifted to positive values, the same windows pass the same gradient (no window is all <= 0)', async () => {
    await selectBackend(backend);
    expect(gradient(tf.tensor4d(image.map((v) => v + 10), [1, 4, 4, 1]), [2, 2], [2, 2], 'valid')).toEqual(expected);
  });

  it('passes a 2x2, stride-2 pooling\'s gradient to each window\'s first largest value on odd sides, with ties', async () => {
    await selectBackend(backend);
    // Five levels only, so windows hold ties; the odd sides leave a last row and column no window reads.
    const [n, height, width, channels]: [number, number, number, number] = [3, 5, 7, 4];
    const values = Array.from({ length: n * height * width * channels }, (_, i) => Math.floor(((i * 0.6180339887) % 1) * 5) - 2);
    const [outH, outW] = [2, 3];
    const weights = Array.from({ length: n * outH * outW * channels }, (_, i) => Math.cos(i + 1));
    const pooled = gradient(tf.tensor4d(values, [n, height, width, channels]), [2, 2], [2, 2], 'valid', tf.tensor4d(weights, [n, outH, outW, channels]));
    expect(pooled).toEqual(firstLargestReference(values, weights, [n, height, width, channels]));
  });

  it('treats -0 and +0 as equal, and infinities as the largest and smallest values, in a 2x2 pooling at stride 2', async () => {
    await selectBackend(backend);
    // Windows (two channels each): zeros of both signs first in either order, a -0 after -1 (larger),
    // -Infinity against finite values, two +Infinity (the first keeps the gradient).
    const values = [-0, 0, -1, -Infinity, 0, -0, -0, -2, -1, 5, 0, -0, 3, Infinity, Infinity, -0, 4, 7, Infinity, -Infinity, 2, 1, Infinity, 1, -Infinity, -Infinity, -5, -6, -Infinity, -7, -3, 2];
    const weights = Array.from({ length: 8 }, (_, i) => i + 1);
    const pooled = gradient(tf.tensor4d(values, [1, 4, 4, 2]), [2, 2], [2, 2], 'valid', tf.tensor4d(weights, [1, 2, 2, 2]));
    expect(pooled).toEqual(firstLargestReference(values, weights, [1, 4, 4, 2]));
  });

  it('gives each overlapping same-padded window\'s first largest value its gradient, as PyTorch does', async () => {
    await selectBackend(backend);
    // Values in (-1, 0]: the windows are all <= 0, several have a zero as their maximum.
    const [n, side, channels] = [2, 5, 3];
    const values = Array.from({ length: n * side * side * channels }, (_, i) => -((i * 0.6180339887) % 1));
    const weights = Array.from({ length: n * 3 * 3 * channels }, (_, i) => Math.sin(i + 1));
    const pooled = gradient(tf.tensor4d(values, [n, side, side, channels]), [3, 3], [2, 2], 'same', tf.tensor4d(weights, [n, 3, 3, channels]));
    // 'same' padding of 5 by a 3-window at stride 2 pads 1 on each side: windows start at rows -1, 1, 3.
    const reference = new Array<number>(values.length).fill(0);
    const at = (b: number, r: number, c: number, ch: number) => ((b * side + r) * side + c) * channels + ch;
    for (let b = 0; b < n; b++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let ch = 0; ch < channels; ch++) {
      let best = -1;
      for (let r = 2 * i - 1; r < 2 * i + 2; r++) for (let c = 2 * j - 1; c < 2 * j + 2; c++) {
        if (r < 0 || c < 0 || r >= side || c >= side) continue;
        if (best < 0 || values[at(b, r, c, ch)]! > values[best]!) best = at(b, r, c, ch);
      }
      reference[best] = reference[best]! + weights[((b * 3 + i) * 3 + j) * channels + ch]!;
    }
    expect(pooled.map((v) => Math.round(v * 1e5))).toEqual(reference.map((v) => Math.round(v * 1e5)));
  });
});
