/**
 * BatchNorm's written-out gradient (src/probe/batch-norm.ts) against tfjs differentiating the same
 * normalization op by op, on images and on feature vectors, on the cpu and the wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { makeBatchNorm } from '../../src/probe/batch-norm';
import { Rng } from '../../src/probe/rng';

/** The normalization as tfjs differentiates it op by op (what the probe ran before). */
function opByOp(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

function tensor(rng: Rng, shape: number[], mean = 0, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalInto(new Float32Array(n), mean, std), shape);
}

/** Gradients of sum(norm(x) * probe) with respect to x, gamma and beta, and the output. */
function gradients(norm: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, probe: tf.Tensor): number[][] {
  return tf.tidy(() => {
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(norm(a, g, b), probe));
    const grads = tf.grads(f)([x, gamma, beta]);
    return [norm(x, gamma, beta), ...grads].map((t) => Array.from(t.dataSync()));
  });
}

function maxRelativeGap(a: number[], b: number[]): number {
  const scale = Math.max(...b.map(Math.abs), 1e-6);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / scale));
}

describe.each(['cpu', 'wasm'] as const)('BatchNorm gradient on %s', (backend) => {
  it.each([
    ['images [4, 6, 5, 3], offset and scaled', [4, 6, 5, 3], 2.5, 3],
    ['features [16, 7] (BatchNorm1d)', [16, 7], 0, 1],
    // 2 x 64 x 64 x 8 values: big enough that the reductions run on the 3-D view of the rows.
    ['big images [2, 64, 64, 8]', [2, 64, 64, 8], -1, 0.5],
  ] as const)('%s: output and gradients equal op-by-op differentiation', async (_name, shape, mean, std) => {
    await selectBackend(backend);
    const rng = new Rng(7);
    const channels = shape[shape.length - 1]!;
    const x = tensor(rng, [...shape], mean, std);
    const gamma = tensor(rng, [channels], 1, 0.3);
    const beta = tensor(rng, [channels]);
    const probe = tensor(rng, [...shape]);
    const epsilon = 1e-5;
    const written = gradients(makeBatchNorm(epsilon), x, gamma, beta, probe);
    const reference = gradients((a, g, b) => opByOp(a, g, b, epsilon), x, gamma, beta, probe);
    for (let k = 0; k < reference.length; k++) expect(maxRelativeGap(written[k]!, reference[k]!)).toBeLessThan(1e-4);
    tf.dispose([x, gamma, beta, probe]);
  });

  it('a NaN in the input or in the incoming gradient spreads as in op-by-op differentiation', async () => {
    await selectBackend(backend);
    const rng = new Rng(5);
    // Big enough for the pooled kernels on wasm, which would turn NaN into -Infinity.
    const shape = [2, 64, 64, 8];
    const values = rng.normalInto(new Float32Array(2 * 64 * 64 * 8), 0, 1);
    values[8 * 100 + 2] = NaN;
    const x = tf.tensor(values, shape);
    const clean = tensor(rng, shape);
    const gamma = tensor(rng, [8], 1, 0.3);
    const beta = tensor(rng, [8]);
    const probe = tensor(rng, shape);
    const nanProbe = tf.tensor(Float32Array.from(probe.dataSync(), (v, i) => (i === 8 * 7 + 5 ? NaN : v)), shape);
    for (const [input, weights] of [[x, probe], [clean, nanProbe]] as const) {
      const written = gradients(makeBatchNorm(1e-5), input, gamma, beta, weights);
      const reference = gradients((a, g, b) => opByOp(a, g, b, 1e-5), input, gamma, beta, weights);
      for (let k = 0; k < reference.length; k++) expect(written[k]!.map(Number.isNaN)).toEqual(reference[k]!.map(Number.isNaN));
      expect(reference.some((r) => r.some(Number.isNaN))).toBe(true);
    }
    tf.dispose([x, clean, gamma, beta, probe, nanProbe]);
  });

  it('a wrong epsilon shows: the comparison can fail', async () => {
    await selectBackend(backend);
    const rng = new Rng(3);
    // A small variance, so that epsilon matters.
    const x = tensor(rng, [8, 4, 4, 2], 0, 0.01);
    const gamma = tensor(rng, [2], 1, 0.3);
    const beta = tensor(rng, [2]);
    const probe = tensor(rng, [8, 4, 4, 2]);
    const written = gradients(makeBatchNorm(1e-3), x, gamma, beta, probe);
    const reference = gradients((a, g, b) => opByOp(a, g, b, 1e-5), x, gamma, beta, probe);
    expect(maxRelativeGap(written[1]!, reference[1]!)).toBeGreaterThan(1e-2);
    tf.dispose([x, gamma, beta, probe]);
  });
});
