/**
 * Per-channel means and scale-and-shift of channels-last tensors through the wasm backend's XNNPACK
 * pooling and depthwise kernels, which run over the channels in SIMD. Its Sum reduces one channel at
 * a time (moving it innermost with a transpose first) and its broadcast Multiply and Add take the
 * generic path: on a [32, 32, 32, 32] activation (CPU time, tfjs-backend-wasm 4.22), per-channel sums
 * 2.9 ms as Sum, 0.25 ms as one average pooling; x·a + b 2.1 ms as Mul and Add, 0.57 ms as a 1x1
 * depthwise convolution with a bias (the same numbers: one product and one sum per value either way).
 *
 * Both XNNPACK kernels clamp their output, which turns NaN into -Infinity. So they are used only on
 * tensors whose means came out finite here (a NaN or an infinity in the input makes its channel's mean
 * NaN or infinite): with a non-finite input the caller takes tfjs' own ops, and NaN spreads as the
 * framework spreads it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reduceLeading } from './reduce';

/** Below this many values a plain op costs as little (per-op overhead dominates). */
const POOLED_FROM = 1 << 14;

/**
 * The mean of each channel over every other axis, [channels], through one average pooling of x viewed
 * as [1, rows, 1, channels]; null off wasm, for small tensors, and when a mean is not finite.
 */
export function finiteChannelMeans(x: tf.Tensor): tf.Tensor1D | null {
  if (tf.getBackend() !== 'wasm' || x.size < POOLED_FROM || x.rank < 2) return null;
  const channels = x.shape[x.rank - 1]!;
  const rows = x.size / channels;
  const means = tf.tidy(() => tf.reshape<tf.Rank.R1>(tf.avgPool(tf.reshape<tf.Rank.R4>(x, [1, rows, 1, channels]), [rows, 1], 1, 'valid'), [channels]));
  // A read of `channels` numbers; the wasm backend has computed them already (it runs synchronously).
  if ((means.dataSync() as Float32Array).every(Number.isFinite)) return means;
  means.dispose();
  return null;
}

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
