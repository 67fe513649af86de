/**
 * On wasm, a softmax output's gradient and the categorical cross-entropy run as single kernels
 * (src/probe/crossentropy.ts): the loss and the gradient reaching the logits are tfjs' ops' numbers,
 * bit for bit, with probabilities clipped at both ends, a learning-rate scale, positions as well as
 * examples, and a row of NaN.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { softmax } from '../../src/probe/crossentropy';
import { computeLoss } from '../../src/probe/loss';
import { Rng } from '../../src/probe/rng';

/** Logits of classifiers at several confidences; a row of 200s and -200s saturates the softmax to exactly 0 and 1. */
function logits(shape: number[], seed: number): tf.Tensor {
  const values = new Rng(seed).normalInto(new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const classes = shape[shape.length - 1]!;
  values.forEach((v, i) => {
    const row = Math.floor(i / classes);
    values[i] = row % 4 === 0 ? v : row % 4 === 1 ? v * 8 : row % 4 === 2 ? (i % classes === 0 ? 200 : -200) : v * 0.01;
  });
  return tf.tensor(values, shape);
}

/** Targets: one-hot rows (the probe's own) and, every other row, soft ones (label smoothing: every class weighs). */
function targets(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const classes = shape[shape.length - 1]!;
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let row = 0; row < values.length / classes; row++) {
    // A one-hot row of a saturated softmax is most often its zero-probability class: a clipped log.
    if (row % 2 === 0) values[row * classes + rng.int(classes)] = 1;
    else for (let c = 0; c < classes; c++) values[row * classes + c] = (0.1 + rng.next()) / classes;
  }
  return tf.tensor(values, shape);
}

/** The loss as tfjs' ops compute it (the probe's formula before the kernels), times the scale. */
function opsLoss(z: tf.Tensor, target: tf.Tensor, scale: number): tf.Scalar {
  const p = tf.softmax(z);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(tf.clipByValue(p, 1e-7, 1))), z.rank - 1)));
  return (scale === 1 ? loss : tf.mul(loss, scale)) as tf.Scalar;
}

function valueAndGradient(f: (z: tf.Tensor) => tf.Scalar, z: tf.Tensor): { value: number[]; grad: number[] } {
  const { value, grad } = tf.valueAndGrad(f)(z);
  const result = { value: Array.from(value.dataSync()), grad: Array.from(grad.dataSync()) };
  tf.dispose([value, grad]);
  return result;
}

describe('softmax and categorical cross-entropy as kernels on wasm', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each([
    ['a batch of 64 examples over 10 classes, scaled by a learning rate', [64, 10], 0.01],
    ['positions as well as examples, unscaled', [6, 5, 7], 1],
    ['a wide output, scaled', [8, 1000], 0.37],
  ] as const)('%s: the loss and the logits’ gradient of the ops, bit for bit', (_name, shape, scale) => {
    const z = logits([...shape], 1);
    const target = targets([...shape], 2);
    const fused = valueAndGradient((x) => computeLoss('categorical-crossentropy', softmax(x), target, scale) as tf.Scalar, z);
    const ops = valueAndGradient((x) => opsLoss(x, target, scale), z);
    expect(fused.value).toEqual(ops.value);
    expect(fused.grad).toEqual(ops.grad);
    // The saturated rows clip: some gradients are zero where the ops zero them, and the loss is finite.
    expect(fused.grad.some((g) => g === 0)).toBe(true);
    expect(Number.isFinite(fused.value[0])).toBe(true);
    tf.dispose([z, target]);
  });

  it('a row of NaN logits gives the ops’ NaN and zeros', () => {
    const z = tf.tidy(() => tf.concat([logits([3, 4], 3), tf.fill([1, 4], NaN)]));
    const target = targets([4, 4], 4);
    const fused = valueAndGradient((x) => computeLoss('categorical-crossentropy', softmax(x), target, 0.5) as tf.Scalar, z);
    const ops = valueAndGradient((x) => opsLoss(x, target, 0.5), z);
    expect(fused.value).toEqual(ops.value);
    expect(fused.grad).toEqual(ops.grad);
    tf.dispose([z, target]);
  });

  it('runs the loss and both gradients in three kernels besides the softmax', async () => {
    const z = logits([16, 10], 5);
    const target = targets([16, 10], 6);
    const profile = await tf.profile(() => {
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => computeLoss('categorical-crossentropy', softmax(x), target, 0.01) as tf.Scalar)(z);
      tf.dispose([value, grad]);
    });
    const names = profile.kernels.map((k) => k.name).filter((n) => n !== 'Identity' && n !== 'forward');
    expect([...names].sort()).toEqual(['GradientLensCrossentropy', 'GradientLensCrossentropyBackward', 'GradientLensSoftmaxBackward', 'Softmax'].sort());
    tf.dispose([z, target]);
  });
});
