/**
 * Per-channel sums, scale-and-shift and bias of channels-last tensors on the wasm backend through
 * XNNPACK kernels, which run over the channels in SIMD: the sums as an average pooling
 * (finiteChannelMeans in reduce.ts), x·a + b as a 1x1 depthwise convolution with a bias (2.1 ms as the
 * backend's broadcast Mul and Add on a [32, 32, 32, 32] activation, 0.57 ms so; the same numbers, one
 * product and one sum per value either way; CPU time, tfjs-backend-wasm 4.22).
 *
 * XNNPACK clamps its outputs, which turns NaN into -Infinity. So these kernels run only on tensors
 * known finite (their channel means were): with a non-finite input the caller takes tfjs' own ops, and
 * NaN spreads as the framework spreads it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { finiteChannelMeans, reduceLeading } from './reduce';

function finite(t: tf.Tensor): boolean {
  return (t.dataSync() as Float32Array).every(Number.isFinite);
}

/**
 * x·scale + shift per channel (scale and shift: [channels]), as one depthwise 1x1 convolution when x
 * is known finite (`xFinite`: its channel means were, see finiteChannelMeans) and so are scale and
 * shift; else as tfjs' broadcast product and sum, which keep NaN. The same numbers either way.
 */
export function scaleShift(x: tf.Tensor, scale: tf.Tensor1D, shift: tf.Tensor1D | null, xFinite: boolean): tf.Tensor {
  if (!xFinite || tf.getBackend() !== 'wasm' || !finite(scale) || (shift && !finite(shift))) {
    const scaled = tf.mul(x, scale);
    return shift ? tf.add(scaled, shift) : scaled;
  }
  const channels = x.shape[x.rank - 1]!;
  const rows = x.size / channels;
  return tf.tidy(() => {
    const filter = tf.reshape<tf.Rank.R4>(scale, [1, 1, channels, 1]);
    const view = tf.reshape<tf.Rank.R4>(x, [1, rows, 1, channels]);
    return tf.reshape(tf.fused.depthwiseConv2d({ x: view, filter, strides: 1, pad: 'valid', bias: shift ?? undefined }), x.shape);
  });
}

/** Each channel's sum over every other axis, and whether x is known finite (the sums were pooled). */
export function channelSums(x: tf.Tensor): { sums: tf.Tensor1D; finite: boolean } {
  const means = finiteChannelMeans(x);
  if (!means) return { sums: reduceLeading(x, 'sum') as tf.Tensor1D, finite: false };
  const sums = tf.mul<tf.Tensor1D>(means, x.size / means.size);
  means.dispose();
  return { sums, finite: true };
}

/**
 * x + bias per channel. On wasm its gradient's channel sums are pooled: tfjs' own gradient of the
 * broadcast Add sums dy with Sum (2.9 ms on a [32, 32, 32, 32] convolution's output, 0.3 pooled).
 */
export function addChannelBias(x: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.add(x, bias);
  const add = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, b] = args as [tf.Tensor, tf.Tensor];
    return { value: tf.add(input, b), gradFunc: (dy: tf.Tensor) => [dy, channelSums(dy).sums] };
  });
  return add(x, bias);
}
