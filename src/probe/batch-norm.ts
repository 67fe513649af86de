/**
 * BatchNorm in training mode (batch statistics over every axis but the channels, biased variance, as
 * Keras and PyTorch normalize) with its gradient written out. Differentiated op by op, tfjs reduces
 * every broadcast term of the mean, the variance and the scale separately: about twenty passes over
 * the activations per layer and step, a sixth of a CIFAR CNN's step on wasm. Written out:
 *   y = x̂ γ + β, x̂ = (x - μ) r, r = 1 / sqrt(σ² + ε);
 *   dβ = Σ dy, dγ = Σ dy x̂, dx = γ r (dy - dβ / n - x̂ dγ / n)   (n values per channel).
 * On wasm, the channel sums and per-channel products of finite tensors run as XNNPACK pooling and
 * depthwise kernels (channels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelSums, scaleShift } from './channels';

export type BatchNorm = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;

export function makeBatchNorm(epsilon: number): BatchNorm {
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const n = x.size / x.shape[x.rank - 1]!;
    const { sums, finite } = channelSums(x);
    const mean = tf.div<tf.Tensor1D>(sums, n);
    // x - μ as x·1 - μ: the same number.
    const centered = finite ? scaleShift(x, tf.onesLike(mean), tf.neg(mean), true) : tf.sub(x, mean);
    const variance = tf.div<tf.Tensor1D>(channelSums(tf.square(centered)).sums, n);
    const inverse = tf.rsqrt<tf.Tensor1D>(tf.add<tf.Tensor1D>(variance, epsilon));
    const normalized = scaleShift(centered, inverse, null, finite);
    const value = scaleShift(normalized, gamma, beta, finite);
    save([normalized, inverse, gamma]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xHat, r, g] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
      const { sums: dBeta, finite: dyFinite } = channelSums(dy);
      const dGamma = channelSums(tf.mul(dy, xHat)).sums;
      const scale = tf.mul<tf.Tensor1D>(g, r);
      // dx = dy·(γr) + x̂·(-γr dγ / n) + (-γr dβ / n): two per-channel products and a sum.
      const shift = tf.mul<tf.Tensor1D>(scale, tf.div(dBeta, -n));
      const xHatScale = tf.mul<tf.Tensor1D>(scale, tf.div(dGamma, -n));
      // Pooled sums mean wasm and finite tensors (the order of the sum is XNNPACK's: dy·(γr) + shift first).
      const dx = dyFinite && finite ? tf.add(scaleShift(dy, scale, shift, true), scaleShift(xHat, xHatScale, null, true)) : tf.add(tf.add(tf.mul(dy, scale), tf.mul(xHat, xHatScale)), shift);
      return [dx, dGamma, dBeta];
    };
    return { value, gradFunc };
  });
  return (x, gamma, beta) => norm(x, gamma, beta);
}
