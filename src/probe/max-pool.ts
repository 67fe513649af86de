/**
 * Max pooling whose gradient is right on every backend. The wasm backend's MaxPoolGrad and
 * MaxPool3DGrad (tfjs-backend-wasm 4.22) start each window's running maximum at FLT_MIN, the smallest
 * positive float, instead of at minus infinity: a window whose values are all <= 0 passes no gradient
 * back (in PyTorch and Keras its largest value gets it). Pooling after a tanh, a BatchNorm or a linear
 * layer has such windows in every batch. The forward pooling (XNNPACK) is right.
 *
 * On wasm the gradient is therefore computed here, in one pass over the windows in JavaScript: each
 * window's first largest value (in PyTorch's scan order, a NaN taking over) receives the window's
 * output gradient. The backend's kernel is also slow: a 2x2 pooling of a [32, 32, 32, 32] batch took
 * 18 ms per MaxPoolGrad, and the two passes that worked around its start value 36 ms; this loop,
 * with the copies out of and into the wasm heap, 5 ms (CPU time); it now reads and writes the heap in place.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type PoolTensor = tf.Tensor4D | tf.Tensor5D;

/** tfjs pooling padding: 'valid' or 'same'. */
type PoolPad = 'valid' | 'same';

function forward(x: tf.Tensor, size: number[], strides: number[], pad: PoolPad): PoolTensor {
  if (x.rank === 4) return tf.maxPool(x as tf.Tensor4D, [size[0]!, size[1]!], [strides[0]!, strides[1]!], pad);
  return tf.maxPool3d(x as tf.Tensor5D, [size[0]!, size[1]!, size[2]!], [strides[0]!, strides[1]!, strides[2]!], pad);
}

/** A pooling's geometry as 3-D (a 2-D pooling has depth 1): sides in, out, window, stride, leading pad. */
interface Windows {
  batch: number;
  channels: number;
  inSides: [number, number, number];
  outSides: [number, number, number];
  size: [number, number, number];
  strides: [number, number, number];
  pads: [number, number, number];
}

function windowsOf(shape: number[], size: number[], strides: number[], pad: PoolPad): Windows {
  if (shape.length === 4) {
    const info = tf.backend_util.computePool2DInfo(shape as [number, number, number, number], [size[0]!, size[1]!], [strides[0]!, strides[1]!], 1, pad);
    return {
      batch: info.batchSize,
      channels: info.inChannels,
      inSides: [1, info.inHeight, info.inWidth],
      outSides: [1, info.outHeight, info.outWidth],
      size: [1, info.filterHeight, info.filterWidth],
      strides: [1, info.strideHeight, info.strideWidth],
      pads: [0, info.padInfo.top, info.padInfo.left],
    };
  }
  const info = tf.backend_util.computePool3DInfo(shape as [number, number, number, number, number], [size[0]!, size[1]!, size[2]!], [strides[0]!, strides[1]!, strides[2]!], 1, pad);
  return {
    batch: info.batchSize,
    channels: info.inChannels,
    inSides: [info.inDepth, info.inHeight, info.inWidth],
    outSides: [info.outDepth, info.outHeight, info.outWidth],
    size: [info.filterDepth, info.filterHeight, info.filterWidth],
    strides: [info.strideDepth, info.strideHeight, info.strideWidth],
    pads: [info.padInfo.front, info.padInfo.top, info.padInfo.left],
  };
}

/**
 * dL/dx into `dx` (zeros, the input's size): each window's output gradient goes to its first largest
 * value (channels-last, flat). The offsets of a window's positions are listed once per window, then
 * each channel scans them: no per-value index arithmetic. A window's bounds are plain numbers: as
 * [from, to) pairs (an array and its destructuring per output position), V8 deoptimized this loop and
 * compiled it four times in a fresh process (~210 ms of compiler time; now ~45 ms), and the first call
 * on a [32, 32, 32, 32] batch took ~90 ms instead of ~25.
 */
function maxPoolGradient(dy: Float32Array, x: Float32Array, dx: Float32Array, w: Windows): void {
  const c = w.channels;
  const [inD, inH, inW] = w.inSides;
  const [outD, outH, outW] = w.outSides;
  const [sizeD, sizeH, sizeW] = w.size;
  const [strideD, strideH, strideW] = w.strides;
  const [padD, padH, padW] = w.pads;
  if (sizeD === 1 && strideD === 1 && padD === 0 && sizeH === 2 && sizeW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    halvingGradient(dy, new Int32Array(x.buffer, x.byteOffset, x.length), dx, w.batch * inD, inH, inW, outH, outW, c);
    return;
  }
  const offsets = new Int32Array(sizeD * sizeH * sizeW);
  let o = 0;
  for (let b = 0; b < w.batch; b++) {
    for (let od = 0; od < outD; od++) {
      const startD = od * strideD - padD;
      const d0 = Math.max(startD, 0);
      const d1 = Math.min(startD + sizeD, inD);
      for (let oh = 0; oh < outH; oh++) {
        const startH = oh * strideH - padH;
        const h0 = Math.max(startH, 0);
        const h1 = Math.min(startH + sizeH, inH);
        for (let ow = 0; ow < outW; ow++) {
          const startW = ow * strideW - padW;
          const w0 = Math.max(startW, 0);
          const w1 = Math.min(startW + sizeW, inW);
          // PyTorch's scan order: depth, then rows, then columns.
          let count = 0;
          for (let d = d0; d < d1; d++) for (let h = h0; h < h1; h++) for (let col = w0; col < w1; col++) offsets[count++] = (((b * inD + d) * inH + h) * inW + col) * c;
          if (count > 0) scanChannels(dy, x, dx, offsets, count, c, o);
          o += c;
        }
      }
    }
  }
}

/** For each of a window's `c` channels, its output gradient dy[o + k] added where its first largest value is. */
function scanChannels(dy: Float32Array, x: Float32Array, dx: Float32Array, offsets: Int32Array, count: number, c: number, o: number): void {
  for (let k = 0; k < c; k++) {
    let at = offsets[0]! + k;
    let best = x[at]!;
    for (let p = 1; p < count; p++) {
      const i = offsets[p]! + k;
      const v = x[i]!;
      // PyTorch: `val > maxval || isnan(val)`, starting at the window's first value.
      if (v > best || v !== v) {
        best = v;
        at = i;
      }
    }
    dx[at] = dx[at]! + dy[o + k]!;
  }
}

/**
 * maxPoolGradient of the 2x2 pooling at stride 2 without padding (the usual one, every window inside
 * the map): the four positions of each window read directly in PyTorch's scan order, no offset list
 * (a [32, 32, 32, 32] batch: ~9 -> ~6.5 ms a call, the first in a fresh process ~25 -> ~14 ms). The
 * values are compared as their bits (`bits`: x's memory as int32), see halvingWindow.
 */
function halvingGradient(dy: Float32Array, bits: Int32Array, dx: Float32Array, images: number, inH: number, inW: number, outH: number, outW: number, c: number): void {
  const rowStride = inW * c;
  let o = 0;
  for (let image = 0; image < images; image++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o += c) {
        const p0 = ((image * inH + 2 * oh) * inW + 2 * ow) * c;
        halvingWindow(dy, bits, dx, p0, p0 + rowStride, c, o);
      }
    }
  }
}

/** A float32's bits above this (sign cleared) are a NaN's. */
const INFINITY_BITS = 0x7f800000;

/**
 * One window of halvingGradient, all its channels: top-left at `top`, bottom-left at `bottom`, the
 * PyTorch rule (`val > maxval || isnan(val)`, from the window's first value) without a branch on the
 * values. Which of a window's values is largest is a coin toss after a ReLU or a BatchNorm, and the
 * branches it took were mispredicted: 4 ms a call on a [32, 32, 32, 32] batch where predictable values
 * take under 1. Here each value's bits become an integer key in the floats' order (the magnitude, negated
 * for a negative value, so -0 and +0 tie as they compare equal), and each step of the scan takes the
 * next value by masks: a comparison's 0 or 1, negated. A small function of its own, optimized after a
 * few windows, where the loop nest waited for on-stack replacement.
 */
function halvingWindow(dy: Float32Array, bits: Int32Array, dx: Float32Array, top: number, bottom: number, c: number, o: number): void {
  // Unrolled: as a loop over the three later positions it took 2.2 ms a call instead of 1.6.
  for (let k = 0; k < c; k++) {
    let at = top + k;
    let key = keyOf(bits[at]!);
    let nan = nanOf(bits[at]!);
    let i = top + c + k;
    let next = keyOf(bits[i]!);
    let isNan = nanOf(bits[i]!);
    let take = -(isNan | ((nan ^ 1) & +(next > key)));
    at ^= (at ^ i) & take;
    key ^= (key ^ next) & take;
    nan ^= (nan ^ isNan) & take;
    i = bottom + k;
    next = keyOf(bits[i]!);
    isNan = nanOf(bits[i]!);
    take = -(isNan | ((nan ^ 1) & +(next > key)));
    at ^= (at ^ i) & take;
    key ^= (key ^ next) & take;
    nan ^= (nan ^ isNan) & take;
    i = bottom + c + k;
    take = -(nanOf(bits[i]!) | ((nan ^ 1) & +(keyOf(bits[i]!) > key)));
    at ^= (at ^ i) & take;
    dx[at] = dx[at]! + dy[o + k]!;
  }
}

/** A float32's order as an integer (its bits: the magnitude, negated for a negative value; -0 is +0). */
function keyOf(bits: number): number {
  const sign = bits >> 31;
  return ((bits & 0x7fffffff) ^ sign) - sign;
}

/** 1 for a float32 NaN's bits, else 0. */
function nanOf(bits: number): number {
  return +((bits & 0x7fffffff) > INFINITY_BITS);
}

/** A wasm tensor's values in place in the backend's heap (valid until the next allocation there). */
function heapValues(t: tf.Tensor): Float32Array {
  const backend = tf.backend();
  if (!(backend instanceof BackendWasm)) throw new Error(`max pooling's gradient in JavaScript needs the wasm backend, not ${tf.getBackend()}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function withGradientInJs(size: number[], strides: number[], pad: PoolPad): (x: PoolTensor) => PoolTensor {
  const pool = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [PoolTensor, tf.GradSaveFunc];
    const value = forward(x, size, strides, pad);
    save([x]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const input = saved[0]!;
      const windows = windowsOf(input.shape, size, strides, pad);
      // Read and written in the wasm heap, without copies: the zeros are allocated before any view is
      // taken, by the backend's Fill (tf.zeros fills an array in JavaScript, then copies it into the heap).
      const dx = tf.fill(input.shape, 0, 'float32');
      maxPoolGradient(heapValues(dy), heapValues(input), heapValues(dx), windows);
      return dx;
    };
    return { value, gradFunc };
  });
  return (x) => pool(x);
}

/**
 * Max pooling of an NHWC (rank 4) or NDHWC (rank 5) tensor with the gradient PyTorch and Keras give:
 * the backend's own where its gradient kernel is right, the one computed here on wasm.
 */
export function maxPool(x: PoolTensor, size: number[], strides: number[], pad: PoolPad): PoolTensor {
  if (tf.getBackend() !== 'wasm') return forward(x, size, strides, pad);
  return withGradientInJs(size, strides, pad)(x);
}
