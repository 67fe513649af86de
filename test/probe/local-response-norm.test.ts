/**
 * The probe's nn.LocalResponseNorm against PyTorch's own numbers (torch 1.13,
 * `nn.LocalResponseNorm(...)(x)` on the five channels below), on both backends and on a 2-D, 4-D and
 * 5-D tensor: the window of `size` channels around each one, alpha divided by the size, zeros past the
 * edges, the channels last as the probe keeps them. The gradient-profile case in
 * scripts/reference/cases/layers.py checks training; this checks the values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { localResponseNorm } from '../../src/probe/layers';

const CHANNELS = [1, 2, 3, 4, -2];
/** torch.nn.LocalResponseNorm(3, alpha=0.6, beta=0.75, k=1.0) and (5, alpha=2.0, beta=0.5, k=2.0) of CHANNELS. */
const TORCH = [
  { lrn: { size: 3, alpha: 0.6, beta: 0.75, k: 1 }, out: [0.594604, 0.734839, 0.712426, 0.949901, -0.59814] },
  { lrn: { size: 5, alpha: 2, beta: 0.5, k: 2 }, out: [0.362738, 0.534522, 0.759555, 1.025978, -0.542326] },
];

describe.each(['cpu', 'wasm'] as const)('local response normalization on %s', (backend) => {
  it.each(TORCH)('matches PyTorch for size $lrn.size, alpha $lrn.alpha, beta $lrn.beta, k $lrn.k on every rank', async ({ lrn, out }) => {
    await selectBackend(backend);
    for (const shape of [[1, 5], [2, 3, 2, 5], [1, 2, 2, 2, 5]]) {
      const positions = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: positions }, () => CHANNELS).flat(), shape);
      const y = localResponseNorm(x, lrn);
      expect(y.shape).toEqual(shape);
      const values = Array.from(await y.data());
      for (let p = 0; p < positions; p++) values.slice(p * 5, p * 5 + 5).forEach((v, c) => {
        expect(v).toBeCloseTo(out[c]!, 5);
      });
      tf.dispose([x, y]);
    }
  });
});
