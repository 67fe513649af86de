/**
 * The probe's optimizers step as the frameworks do: Adam's update against the formulas of PyTorch
 * (epsilon added to the bias-corrected root) and Keras (epsilon added to the raw root), over several
 * steps, with gradients small enough that the epsilon matters.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { buildOptimizer } from '../../src/probe/optimizer';
import { keras, torch } from './ir-builder';

const weights = [0.5, -0.25, 0.1, 2];
// Per step, per weight: ordinary gradients, and vanishing ones (1e-7) where epsilon is of their size.
const gradients = [
  [0.3, -1e-7, 2e-7, 0.01],
  [0.1, -2e-7, 1e-7, -0.02],
  [-0.2, -1e-7, 3e-7, 0.005],
];

/** Adam in double precision, as written in torch.optim.Adam and keras.optimizers.Adam. */
function reference(framework: 'torch' | 'keras', lr: number, eps: number): number[] {
  const w = [...weights];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  gradients.forEach((g, step) => {
    const t = step + 1;
    const bc1 = 1 - 0.9 ** t;
    const bc2 = 1 - 0.999 ** t;
    w.forEach((_, i) => {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
      if (framework === 'torch') w[i] = w[i]! - (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps));
      else w[i] = w[i]! - ((lr * Math.sqrt(bc2)) / bc1) * (m[i] / (Math.sqrt(v[i]) + eps));
    });
  });
  return w;
}

function probed(model: ReturnType<ReturnType<typeof torch>['build']>): number[] {
  const optimizer = buildOptimizer(model, []);
  const variable = tf.variable(tf.tensor1d(weights));
  for (const g of gradients) {
    const grad = tf.tensor1d(g);
    optimizer.step([variable], [grad]);
    grad.dispose();
  }
  const out = Array.from(variable.dataSync());
  optimizer.dispose();
  variable.dispose();
  return out;
}

function expectClose(actual: number[], expected: number[]): void {
  actual.forEach((a, i) => { expect(Math.abs(a - expected[i]!), `weight ${i}: ${a} vs ${expected[i]!}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected[i]!))); });
}

describe('Adam', () => {
  it('steps as torch.optim.Adam (eps 1e-8 on the bias-corrected root)', () => {
    const model = torch().input([4]).layer({ kind: 'dense', units: 4, inFeatures: 4 }).withOptimizer('adam', { learningRate: 0.01 }).build();
    expectClose(probed(model), reference('torch', 0.01, 1e-8));
  });

  it('steps as keras.optimizers.Adam (eps 1e-7 on the raw root), which moves vanishing gradients less', () => {
    const model = keras().input([4]).dense(4).withOptimizer('adam', { learningRate: 0.01 }).build();
    const result = probed(model);
    expectClose(result, reference('keras', 0.01, 1e-7));
    // The torch placement of the same epsilon moves the vanishing-gradient weights several times more.
    const torchPlaced = reference('torch', 0.01, 1e-7);
    expect(Math.abs(torchPlaced[1]! - weights[1]!)).toBeGreaterThan(3 * Math.abs(result[1]! - weights[1]!));
  });

  it('with clipping, the moments outlive the step (a later step still uses them)', () => {
    const model = torch().input([4]).layer({ kind: 'dense', units: 4, inFeatures: 4 }).withOptimizer('adam', { learningRate: 0.01, clipvalue: 10 }).build();
    expectClose(probed(model), reference('torch', 0.01, 1e-8));
  });
});
