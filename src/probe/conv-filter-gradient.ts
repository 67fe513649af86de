/**
 * A convolution's filter gradient on the wasm backend as one matrix product: dW = Pᵀ·dy, Pᵀ the
 * input's patches laid out by channel ([taps·in, positions]: row (tap, channel) holds what that tap
 * reads of that channel at every output position) and dy the output gradient as [positions, out].
 * The backend has no Conv2DBackpropFilter; as a forward convolution of the transposed input with dy
 * as its filter (conv.ts), XNNPACK packs that filter anew in its convolution layout, which costs more
 * than the arithmetic (a [32, 32, 32, 32] -> 32 channel 3x3 convolution: ~49 ms per step), and both
 * operands are transposed by the backend's slow Transpose first. As a product, dy is packed once as
 * the product's right operand (gemm packing) and the patches are written by one pass over the heap
 * (~25 ms for the same gradient). The same sums, in another order: equal to float32 rounding
 * (test/probe/conv-filter-gradient.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { SpatialPads } from './conv';
import { transposeInto } from './wasm-kernels';

const PATCHES_BY_CHANNEL = 'GradientLensPatchesByChannel';

/**
 * The most patch values written for one gradient (64 MB): a larger one (a wide kernel over a large
 * map) keeps the convolution-based gradient rather than hold the patches.
 */
const MAX_PATCH_VALUES = 1 << 24;

type Info = tf.TensorInfo;

let scratch = new Float32Array(0);

/** A reused buffer of at least `size` values (the channel-major copy of the input, rewritten each call). */
function scratchOf(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(size);
  return scratch;
}

/** Geometry of one call, flat for the kernel's attributes: kernel, strides, dilation, top and left pads, output sides. */
interface PatchGeometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dilation: number;
  top: number;
  left: number;
  oh: number;
  ow: number;
}

/**
 * [kh·kw·channels, batch·oh·ow] patches of x ([batch, height, width, channels]), row (tap, channel),
 * zero where a tap reads padding. x is first copied channel-major, so each row is filled from one
 * channel's plane with unit strides (at stride 1) and written in order.
 */
function patchesByChannelKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: Info };
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const { kh, kw, sh, sw, dilation, top, left, oh, ow } = attrs as unknown as PatchGeometry;
  const result = wasm.makeOutput([kh * kw * channels, batch * oh * ow], 'float32');
  // Views taken after the allocation above, which may grow (and detach) the heap.
  const xv = wasm.typedArrayFromHeap(x) as Float32Array;
  const pv = wasm.typedArrayFromHeap(result) as Float32Array;
  const spots = batch * height * width;
  const byChannel = scratchOf(spots * channels);
  // Channel-major: x as a [positions, channels] matrix, transposed.
  transposeInto(byChannel, xv, spots, channels);
  const plane = height * width;
  // At stride 1 with as many output columns as input columns, the rows a tap reads of one image are a
  // run of the channel's plane shifted by the column offset: one copy, then the pad columns zeroed.
  const runs = sw === 1 && ow === width;
  let dst = 0;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const colShift = b * dilation - left;
      // Output columns whose input column lies inside the map: [first, end).
      const first = Math.min(ow, Math.max(0, Math.ceil(-colShift / sw)));
      const end = Math.max(first, Math.min(ow, Math.floor((width - 1 - colShift) / sw) + 1));
      // Output rows whose input row lies inside the map: [top0, bottom).
      const rowShift = a * dilation - top;
      const firstRow = Math.min(oh, Math.max(0, Math.ceil(-rowShift / sh)));
      const endRow = Math.max(firstRow, Math.min(oh, Math.floor((height - 1 - rowShift) / sh) + 1));
      for (let c = 0; c < channels; c++) {
        for (let n = 0; n < batch; n++, dst += oh * ow) {
          const image = (c * batch + n) * plane;
          pv.fill(0, dst, dst + firstRow * ow);
          pv.fill(0, dst + endRow * ow, dst + oh * ow);
          if (first === end || firstRow === endRow) {
            pv.fill(0, dst + firstRow * ow, dst + endRow * ow);
            continue;
          }
          if (runs && sh === 1) {
            const from = image + (firstRow + rowShift) * width + colShift;
            pv.set(byChannel.subarray(from + first, from + (endRow - firstRow - 1) * width + end), dst + firstRow * ow + first);
            for (let i = firstRow; i < endRow; i++) {
              const row = dst + i * ow;
              for (let j = 0; j < first; j++) pv[row + j] = 0;
              for (let j = end; j < ow; j++) pv[row + j] = 0;
            }
            continue;
          }
          for (let i = firstRow; i < endRow; i++) {
            const row = dst + i * ow;
            const src = image + (i * sh + rowShift) * width + colShift;
            for (let j = 0; j < first; j++) pv[row + j] = 0;
            for (let j = first; j < end; j++) pv[row + j] = byChannel[src + j * sw]!;
            for (let j = end; j < ow; j++) pv[row + j] = 0;
          }
        }
      }
    }
  }
  return result;
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: PATCHES_BY_CHANNEL, backendName: 'wasm', kernelFunc: patchesByChannelKernel });
}

/**
 * dL/dw of y = conv(pad(x), w) (valid; strides, dilation) from dy, as Pᵀ·dy on wasm: [kh, kw, in, out].
 * Null off wasm, for other dtypes, and where the patches would exceed MAX_PATCH_VALUES.
 */
export function filterGradientByProduct(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: [number, number], strides: [number, number], dilation: number, pads: SpatialPads): tf.Tensor4D | null {
  const [batch, oh, ow, outChannels] = dy.shape;
  const channels = x.shape[3];
  const [kh, kw] = kernel;
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  if (kh * kw * channels * batch * oh * ow > MAX_PATCH_VALUES) return null;
  register();
  const geometry: PatchGeometry = { kh, kw, sh: strides[0], sw: strides[1], dilation, top: pads[0][0], left: pads[1][0], oh, ow };
  return tf.tidy(() => {
    const patches = tf.engine().runKernel<tf.Tensor2D>(PATCHES_BY_CHANNEL, { x }, geometry as unknown as tf.NamedAttrMap);
    const dw = tf.matMul(patches, tf.reshape<tf.Rank.R2>(dy, [batch * oh * ow, outChannels]));
    return tf.reshape<tf.Rank.R4>(dw, [kh, kw, channels, outChannels]);
  });
}
