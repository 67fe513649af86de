/**
 * 2-D convolution with explicit padding whose gradients are fast on every backend: the wasm backend
 * has no Conv2DBackpropFilter kernel, and its Conv2DBackpropInput runs about 13x slower than its
 * forward convolution (0.55 vs 7.5 G multiply-adds/s here). So on wasm both gradients are forward
 * convolutions: the filter gradient convolves the input with the output gradient (batch and channel
 * axes swapped), the input gradient convolves the spread, padded output gradient with the flipped kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { filterGradientByProduct } from './conv-filter-gradient';
import { flippedSwapped } from './wasm-kernels';

/** TensorFlow's 'same' padding of one spatial dimension: [before, after]. */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/** Zero padding of the two spatial axes, [before, after] each (never negative). */
export type SpatialPads = [[number, number], [number, number]];

const NO_PADS: SpatialPads = [[0, 0], [0, 0]];

/** tfjs' explicit padding of an NHWC convolution: none as 'valid', so an unpadded one runs as before. */
function explicit(pads: SpatialPads): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return pads.every(([a, b]) => a === 0 && b === 0) ? 'valid' : [[0, 0], pads[0], pads[1], [0, 0]];
}

/**
 * dL/dx of y = conv(pad(x), w) (valid) as one forward convolution: dy spread by the strides, padded by
 * the effective kernel side - 1 (plus the rows and columns the strides never reached) less the input's
 * own padding, convolved with w flipped in space and with its channel axes swapped. Where the input's
 * padding is wider than that (a pad side >= the kernel), the padded input's gradient is cropped.
 */
function inputGradByConvolution(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number], strides: [number, number], dilation: number, inputPads: SpatialPads): tf.Tensor4D {
  const dilated = dilation > 1 ? (insertZeros(insertZeros(w, 0, dilation - 1), 1, dilation - 1) as tf.Tensor4D) : w;
  const [kh, kw] = dilated.shape;
  const spread = insertZeros(insertZeros(dy, 1, strides[0] - 1), 2, strides[1] - 1) as tf.Tensor4D;
  const padded = [xShape[1] + inputPads[0][0] + inputPads[0][1], xShape[2] + inputPads[1][0] + inputPads[1][1]];
  const full = [kh, kw].map((k, i): [number, number] => {
    const reached = spread.shape[i + 1]! - 1 + k;
    return [k - 1, k - 1 + padded[i]! - reached];
  });
  // The input's own padding, taken off the gradient's borders: straight from the pads where they allow.
  const within = full.map(([a, b], i): [number, number] => [a - inputPads[i]![0], b - inputPads[i]![1]]);
  const direct = within.every(([a, b]) => a >= 0 && b >= 0);
  const pads = (direct ? within : full) as SpatialPads;
  const outSides = direct ? [xShape[1], xShape[2]] : padded;
  let dx: tf.Tensor4D;
  // Flipping is slow on wasm (~70 ns per value): flip whichever is smaller, the kernel or the data.
  // A correlation with a flipped kernel is the flipped correlation of the flipped input.
  if (size(spread.shape) + xShape[0] * outSides[0]! * outSides[1]! * xShape[3] < dilated.size) {
    const flippedPads: SpatialPads = [[pads[0][1], pads[0][0]], [pads[1][1], pads[1][0]]];
    dx = tf.reverse(tf.conv2d(tf.reverse(spread, [1, 2]), tf.transpose<tf.Tensor4D>(dilated, [0, 1, 3, 2]), 1, explicit(flippedPads)), [1, 2]);
  } else {
    dx = tf.conv2d(spread, flippedSwapped(dilated), 1, explicit(pads));
  }
  return direct ? dx : tf.slice(dx, [0, inputPads[0][0], inputPads[1][0], 0], xShape);
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function withFilterGradByConvolution(strides: [number, number], dilation: number, pads: SpatialPads, inputGradient: boolean): Conv {
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, filter, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const value = tf.conv2d(input, filter, strides, explicit(pads), 'NHWC', [dilation, dilation]);
    // Keep the inputs alive for the backward pass (the tape may dispose them otherwise).
    save([input, filter]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [x, w] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      // A model input needs no gradient: a customGrad returns every input's, so it is a cheap zero here.
      const dx = inputGradient ? inputGradByConvolution(dy4, w, x.shape, strides, dilation, pads) : tf.zerosLike(x);
      const [kh, kw] = w.shape;
      const product = filterGradientByProduct(x, dy4, [kh, kw], strides, dilation, pads);
      if (product) return [dx, product];
      // dW[kh,kw,ci,co] = sum_b,i,j xp[b, i*s + kh*d, j*s + kw*d, ci] * dy[b,i,j,co] (xp: x padded): a
      // convolution of x as [ci, H, W, batch], padded, with dy as a [Ho, Wo, batch, co] filter, stride d, dilation s.
      const xT = tf.transpose<tf.Tensor4D>(x, [3, 1, 2, 0]);
      const dyT = tf.transpose<tf.Tensor4D>(dy4, [1, 2, 0, 3]);
      const full = tf.conv2d(xT, dyT, [dilation, dilation], explicit(pads), 'NHWC', strides);
      // The convolution's output is the kernel's size unless the padding or the strides left rows over (a copy on wasm).
      const fits = full.shape[1] === kh && full.shape[2] === kw;
      const dw = tf.transpose(fits ? full : tf.slice(full, [0, 0, 0, 0], [-1, kh, kw, -1]), [1, 2, 0, 3]);
      return [dx, dw];
    };
    return { value, gradFunc };
  });
  return (x, w) => conv(x, w);
}

/**
 * A 2-D convolution of an input padded by `pads` (zeros; pad or crop beforehand for anything else).
 * Uses the backend's own gradient where it has Conv2DBackpropFilter, else the convolution-based one,
 * which skips the input's gradient when `inputGradient` is false (the input is the model's).
 */
export function makeConv2d(strides: [number, number], dilation: number, pads: SpatialPads = NO_PADS, inputGradient = true): Conv {
  // tfjs types getKernel as always returning a kernel; it returns undefined when the backend has none.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  const native = tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
  if (native) return (x, w) => tf.conv2d(x, w, strides, explicit(pads), 'NHWC', [dilation, dilation]);
  return withFilterGradByConvolution(strides, dilation, pads, inputGradient);
}

/** The kernel taps of one spatial axis a convolution needs: `count` from `first`, with the pads left. */
export interface TapSpan {
  first: number;
  count: number;
  pads: [number, number];
}

/**
 * The taps of one spatial axis that ever read the input rather than only its zero padding. A network
 * scaled down to a small image by the probe's size budget, or a bottleneck reading a 2x2 map with a
 * 4x4 kernel, multiplies mostly pads (a 3x3 kernel on a 1x1 map: 8 of its 9 taps). Without the other
 * taps, and as much padding, the output and the gradients are the same, with fewer multiply-adds and
 * a smaller filter for the backend to pack. All taps when the cut would need a negative pad.
 */
export function tapsReadingData(side: number, kernel: number, stride: number, dilation: number, pads: [number, number]): TapSpan {
  const [before, after] = pads;
  const outSide = Math.floor((side + before + after - ((kernel - 1) * dilation + 1)) / stride) + 1;
  const reads = (tap: number) => {
    for (let o = 0; o < outSide; o++) {
      const row = o * stride + tap * dilation - before;
      if (row >= 0 && row < side) return true;
    }
    return false;
  };
  const used = Array.from({ length: kernel }, (_, t) => t).filter(reads);
  const all: TapSpan = { first: 0, count: kernel, pads };
  const first = used[0];
  const last = used[used.length - 1];
  if (first === undefined || last === undefined) return all;
  const cut: [number, number] = [before - first * dilation, after - (kernel - 1 - last) * dilation];
  return cut[0] < 0 || cut[1] < 0 ? all : { first, count: last - first + 1, pads: cut };
}

/**
 * Zeros between the entries of `axis`: n entries become (n - 1) * (gap + 1) + 1. Written with reshape,
 * pad and slice, so it is differentiable on every backend. Used to dilate kernels (dilation d: gap
 * d - 1) and to spread a transposed convolution's input (stride s: gap s - 1).
 */
export function insertZeros(t: tf.Tensor, axis: number, gap: number): tf.Tensor {
  if (gap === 0) return t;
  const shape = t.shape;
  const n = shape[axis]!;
  const before = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const after = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const spread = tf.pad(tf.reshape(t, [before, n, 1, after]), [[0, 0], [0, 0], [0, gap], [0, 0]]);
  const length = (n - 1) * (gap + 1) + 1;
  const cut = tf.slice(tf.reshape(spread, [before, n * (gap + 1), after]), [0, 0, 0], [-1, length, -1]);
  return tf.reshape(cut, shape.map((d, i) => (i === axis ? length : d)));
}

/** Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor by [before, after] each. */
export function padOrCrop(x: tf.Tensor4D, pads: [number, number][]): tf.Tensor4D {
  const grow = pads.map(([a, b]): [number, number] => [Math.max(a, 0), Math.max(b, 0)]);
  let y = grow.some(([a, b]) => a > 0 || b > 0) ? tf.pad(x, [[0, 0], ...grow, [0, 0]]) : x;
  if (pads.some(([a, b]) => a < 0 || b < 0)) {
    const begin = [0, ...pads.map(([a]) => Math.max(-a, 0)), 0];
    const size = [-1, ...pads.map(([a, b], i) => y.shape[i + 1]! - Math.max(-a, 0) - Math.max(-b, 0)), -1];
    y = tf.slice(y, begin, size);
  }
  return y;
}

/**
 * A 2-D convolution of an NHWC input padded by `pads` with a [kh, kw, in/groups, out] kernel, on every
 * backend: channel groups as separate convolutions joined on the channel axis (a depthwise convolution
 * is `groups` = input channels), and dilation as a kernel with zeros between its taps (tfjs has no
 * gradient of a dilated convolution on any backend, and no dilated convolution with strides).
 */
export function makeGroupedConv2d(strides: [number, number], dilation: number, groups: number, pads: SpatialPads = NO_PADS, inputGradient = true): Conv {
  // tfjs differentiates no dilated convolution (cpu included), and runs none with strides.
  const spreadKernel = dilation > 1;
  const conv = makeConv2d(strides, spreadKernel ? 1 : dilation, pads, inputGradient);
  const single: Conv = spreadKernel ? (x, w) => conv(x, insertZeros(insertZeros(w, 0, dilation - 1), 1, dilation - 1) as tf.Tensor4D) : conv;
  if (groups === 1) return single;
  return (x, w) => {
    const xs = tf.split(x, groups, 3);
    const ws = tf.split(w, groups, 3);
    return tf.concat(xs.map((xi, i) => single(xi as tf.Tensor4D, ws[i] as tf.Tensor4D)), 3);
  };
}

/**
 * A valid 3-D convolution of an already padded NDHWC input with a [kd, kh, kw, in, out] kernel, as a
 * sum over the kernel's depth of 2-D convolutions of the input's depth slices (depths k, k + s, ...
 * folded into the batch). tf.conv3d's gradients are wrong on the wasm backend (the filter gradient of a
 * strided convolution, NaN input gradients), so every backend takes this path.
 */
export function makeConv3d(strides: [number, number, number]): (x: tf.Tensor5D, w: tf.Tensor5D) => tf.Tensor5D {
  const [sd, sh, sw] = strides;
  const conv = makeConv2d([sh, sw], 1);
  return (x, w) => {
    const [batch, depth, height, width, channels] = x.shape;
    const [kd, kh, kw, , filters] = w.shape;
    const outDepth = Math.floor((depth - kd) / sd) + 1;
    const plane = height * width * channels;
    let sum: tf.Tensor4D | null = null;
    for (let k = 0; k < kd; k++) {
      // Depths k, k + sd, ..., padded to outDepth * sd rows so that every sd-th one is a column of a reshape.
      const span = tf.slice(x, [0, k, 0, 0, 0], [batch, (outDepth - 1) * sd + 1, height, width, channels]);
      const rows = tf.reshape(sd === 1 ? span : tf.pad(span, [[0, 0], [0, sd - 1], [0, 0], [0, 0], [0, 0]]), [batch, outDepth, sd * plane]);
      const slices = tf.reshape<tf.Rank.R4>(sd === 1 ? rows : tf.slice(rows, [0, 0, 0], [batch, outDepth, plane]), [batch * outDepth, height, width, channels]);
      const filter = tf.reshape<tf.Rank.R4>(tf.slice(w, [k, 0, 0, 0, 0], [1, kh, kw, channels, filters]), [kh, kw, channels, filters]);
      const out = conv(slices, filter);
      sum = sum ? tf.add<tf.Tensor4D>(sum, out) : out;
    }
    if (!sum) throw new Error('a 3-D kernel without depth');
    const [, outHeight, outWidth] = sum.shape;
    return tf.reshape(sum, [batch, outDepth, outHeight, outWidth, filters]);
  };
}
