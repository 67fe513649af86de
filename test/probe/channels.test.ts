/**
 * Per-channel means, scale-and-shift and bias on wasm through XNNPACK pooling and depthwise kernels
 * (src/probe/channels.ts), against tfjs' own ops; and the shared values of the wasm Identity (backend.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { addChannelBias, channelSums, scaleShift } from '../../src/probe/channels';
import { finiteChannelMeans } from '../../src/probe/reduce';
import { Rng } from '../../src/probe/rng';

function tensor(rng: Rng, shape: number[], mean = 0, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalInto(new Float32Array(n), mean, std), shape);
}

function maxRelativeGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let gap = 0;
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i]! - b[i]!) / scale);
  return gap;
}

// [8, 16, 16, 24]: 49,152 values, above the size from which the pooled kernels run.
const SHAPE = [8, 16, 16, 24];

describe('per-channel kernels on wasm', () => {
  it('channel sums equal tf.sum over the leading axes, and say the input was finite', async () => {
    await selectBackend('wasm');
    const x = tensor(new Rng(1), SHAPE, 3, 2);
    const { sums, finite } = channelSums(x);
    expect(finite).toBe(true);
    expect(maxRelativeGap(sums.dataSync(), tf.sum(x, [0, 1, 2]).dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, sums]);
  });

  it('a NaN or an infinity makes the pooled means unavailable, and the sums keep NaN as tf.sum does', async () => {
    await selectBackend('wasm');
    for (const bad of [NaN, Infinity, -Infinity]) {
      const values = new Rng(2).normalInto(new Float32Array(SHAPE.reduce((a, b) => a * b, 1)), 0, 1);
      values[5 * 24 + 3] = bad;
      const x = tf.tensor(values, SHAPE);
      expect(finiteChannelMeans(x)).toBeNull();
      const { sums, finite } = channelSums(x);
      expect(finite).toBe(false);
      expect(Array.from(sums.dataSync())).toEqual(Array.from(tf.sum(x, [0, 1, 2]).dataSync()));
      tf.dispose([x, sums]);
    }
  });

  it('scale and shift give exactly tf.add(tf.mul(x, scale), shift), and fall back to them for a non-finite scale', async () => {
    await selectBackend('wasm');
    const rng = new Rng(3);
    const x = tensor(rng, SHAPE);
    const scale = tensor(rng, [24]) as tf.Tensor1D;
    const shift = tensor(rng, [24]) as tf.Tensor1D;
    expect(Array.from(scaleShift(x, scale, shift, true).dataSync())).toEqual(Array.from(tf.add(tf.mul(x, scale), shift).dataSync()));
    expect(Array.from(scaleShift(x, scale, null, true).dataSync())).toEqual(Array.from(tf.mul(x, scale).dataSync()));
    // XNNPACK would clamp the NaN products to -Infinity; the fallback keeps NaN.
    const nanScale = tf.tensor1d(Array.from({ length: 24 }, (_, i) => (i === 0 ? NaN : 1)));
    const scaled = scaleShift(x, nanScale, null, true).dataSync();
    expect(Number.isNaN(scaled[0])).toBe(true);
    expect(scaled[1]).toBe(x.dataSync()[1]);
    tf.dispose([x, scale, shift, nanScale]);
  });

  it('a channel bias has the value and the gradients of tf.add', async () => {
    await selectBackend('wasm');
    const rng = new Rng(4);
    const x = tensor(rng, SHAPE);
    const bias = tensor(rng, [24]);
    const probe = tensor(rng, SHAPE);
    const run = (add: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(add(a, b), probe)))([x, bias]);
      return [add(x, bias), ...grads].map((t) => Array.from(t.dataSync()));
    };
    const [value, dx, dBias] = run(addChannelBias);
    const [plainValue, plainDx, plainDBias] = run((a, b) => tf.add(a, b));
    expect(value).toEqual(plainValue);
    expect(dx).toEqual(plainDx);
    expect(maxRelativeGap(dBias ?? [], plainDBias ?? [NaN])).toBeLessThan(1e-5);
    tf.dispose([x, bias, probe]);
  });

  it('Identity shares the values: a clone outlives its original and gradients through saved tensors hold', async () => {
    await selectBackend('wasm');
    const x = tf.tensor([1, 2, 3, 4]);
    const copy = tf.clone(x);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4]);
    // Mul saves both inputs through Identity for its gradient.
    const a = tf.tensor([1, 2, 3]);
    const b = tf.tensor([4, 5, 6]);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(p, q)))([a, b]);
    expect(grads.map((g) => Array.from(g.dataSync()))).toEqual([[4, 5, 6], [1, 2, 3]]);
    tf.dispose([copy, a, b, ...grads]);
  });
});
