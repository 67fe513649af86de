/**
 * Keras' probability losses on values that are not probabilities (a `Dense(10)` with no activation under
 * `'sparse_categorical_crossentropy'`): the probe computes what Keras computes (keras/src/backend/
 * tensorflow/nn.py): the values clipped to [1e-7, 1 - 1e-7] before the log, divided by their sum first
 * for `categorical_crossentropy`, taken as logits after the log for the sparse one. The expected numbers
 * are worked by hand from those formulas.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { computeLoss, makeTargets } from '../../src/probe/loss';
import { Rng } from '../../src/probe/rng';
import { runProbe } from '../../src/probe/run';
import type { LossKind } from '../../src/shared/losses';
import { probeOptions } from '../../src/shared/probe';
import { extractedModels, modelNamed } from '../unit/extract/extract-helper';

/** One example of three classes, its class 0, one value below zero. */
const values = [0.5, -0.2, 0.3];
const target = [1, 0, 0];

function lossAndGradient(kind: LossKind): { loss: number; gradient: number[] } {
  const output = tf.tensor2d([values]);
  const f = (o: tf.Tensor) => computeLoss(kind, o, tf.tensor2d([target])) as tf.Scalar;
  const gradient = tf.grad(f)(output);
  return { loss: f(output).dataSync()[0]!, gradient: [...gradient.dataSync()] };
}

describe.each(['cpu', 'wasm'] as const)("Keras' probability losses on values (%s)", (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('sparse_categorical_crossentropy: the clipped values normalized; no gradient reaches a value below zero', () => {
    // c = [0.5, 1e-7, 0.3]: -log(0.5 / 0.8); d/dc_j = 1/Σc - [j = class]/c_class, 0 where clipped.
    const { loss, gradient } = lossAndGradient('sparse-crossentropy-clipped');
    expect(loss).toBeCloseTo(-Math.log(0.5 / 0.8), 5);
    expect(gradient[0]).toBeCloseTo(1 / 0.8 - 1 / 0.5, 4);
    expect(gradient[1]).toBe(0);
    expect(gradient[2]).toBeCloseTo(1 / 0.8, 4);
  });

  it('categorical_crossentropy: the values divided by their sum, then clipped', () => {
    // p = o / 0.6 = [0.833, -0.333, 0.5]: -log(0.833); d/do_j = 1/Σo - [j = class]/o_class through the sum.
    const { loss, gradient } = lossAndGradient('categorical-crossentropy-clipped');
    expect(loss).toBeCloseTo(-Math.log(0.5 / 0.6), 5);
    expect(gradient.map((g) => Number(g.toFixed(4)))).toEqual([Number((1 / 0.6 - 1 / 0.5).toFixed(4)), Number((1 / 0.6).toFixed(4)), Number((1 / 0.6).toFixed(4))]);
  });

  it('on a softmax the clipped losses are plain cross-entropy (clean twin)', () => {
    const probabilities = tf.softmax(tf.tensor2d([values]));
    const plain = computeLoss('categorical-crossentropy', probabilities, tf.tensor2d([target])).dataSync()[0]!;
    for (const kind of ['sparse-crossentropy-clipped', 'categorical-crossentropy-clipped'] as const) expect(computeLoss(kind, probabilities, tf.tensor2d([target])).dataSync()[0]).toBeCloseTo(plain, 5);
  });
});

/** A Keras classifier whose last Dense has the activation given (none: logits) under a probability loss. */
const classifier = (activation: string) => `
from tensorflow import keras
from tensorflow.keras import layers
model = keras.Sequential([keras.Input(shape=(20,)), layers.Dense(64, activation="relu"), layers.Dense(5${activation})])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
`;

describe("the probe on a Keras probability loss that reads logits", () => {
  it('notes the share of the values the loss clipped at step 1, and nothing of the kind on a softmax (clean twin)', async () => {
    const noted = async (activation: string) => {
      const outcome = await runProbe(modelNamed(await extractedModels(classifier(activation)), 'model'), probeOptions({ steps: 2, backend: 'cpu', seed: 3 }));
      if (!outcome.ok) throw new Error(outcome.error.message);
      return outcome.result.notices.map((n) => n.message).join('\n');
    };
    const logits = await noted('');
    const share = /At step 1, (\d+) % of dense_1's values fell outside \[1e-7, 1 - 1e-7\]/.exec(logits);
    // Zero-mean logits: about half are negative, more are clipped above 1.
    expect(Number(share?.[1])).toBeGreaterThan(40);
    expect(Number(share?.[1])).toBeLessThan(100);
    expect(await noted(', activation="softmax"')).not.toMatch(/clip/);
  });
});

describe('targets', () => {
  it('are one-hot rows for a softmax under binary cross-entropy (the softmax allows no other labels), independent 0/1 labels elsewhere', () => {
    const rowSums = (activation: 'softmax' | 'sigmoid') => [...tf.sum(makeTargets('binary-crossentropy', activation, [10], 64, new Rng(5)), 1).dataSync()];
    expect(new Set(rowSums('softmax'))).toEqual(new Set([1]));
    expect(new Set(rowSums('sigmoid')).size).toBeGreaterThan(1);
  });
});
