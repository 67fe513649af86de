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
let shiftedScratch = new Float32Array(0);

/** A reused buffer of at least `size` values (the channel-major copy of the input, rewritten each call). */
function scratchOf(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(size);
  return scratch;
}

/**
 * The input copied channel-major, copied on into the patches by runs. Once the backend runs threads its
 * heap is shared memory, which V8 copies into a word at a time where source and destination are 8-byte
 * aligned alike and a byte at a time where they are not: a run shifted by an odd number of values (a
 * tap one column off) took 4x as long (a CIFAR layer's patches, 6.7 ms instead of 1.7). Such a run is
 * copied from a second copy of the values, one position further on, made when first needed.
 */
class ChannelMajor {
  private shifted: Float32Array | null = null;

  constructor(
    readonly values: Float32Array,
    private readonly size: number,
  ) {}

  /** Copies values [from, from + count) into `out` at `to`. */
  copyTo(out: Float32Array, to: number, from: number, count: number): void {
    if (alignedAlike(out, to, this.values, from)) {
      out.set(this.values.subarray(from, from + count), to);
      return;
    }
    if (!this.shifted) {
      if (shiftedScratch.length < this.size + 1) shiftedScratch = new Float32Array(this.size + 1);
      this.shifted = shiftedScratch;
      this.shifted.set(this.values.subarray(0, this.size), 1);
    }
    out.set(this.shifted.subarray(from + 1, from + 1 + count), to);
  }
}

/** Whether element `i` of `a` and element `j` of `b` sit at addresses equal modulo 8 bytes. */
function alignedAlike(a: Float32Array, i: number, b: Float32Array, j: number): boolean {
  return (a.byteOffset + 4 * i - (b.byteOffset + 4 * j)) % 8 === 0;
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
  const planes = new ChannelMajor(byChannel, spots * channels);
  // Channel-major: x as a [positions, channels] matrix, transposed.
  transposeInto(byChannel, xv, spots, channels);
  const plane = height * width;
  // At stride 1 with as many output columns as input columns, the rows a tap reads of one image are a
  // run of the channel's plane shifted by the column offset: one copy, then the pad columns zeroed.
  const runs = sw === 1 && ow === width;
  const samePlane = runs && sh === 1 && oh === height;
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
      if (samePlane) {
        // Output and input planes of one layout: the tap's row of a channel is the channel's planes
        // (every image) shifted by one offset, then zeroed where the shift crosses a side.
        planesShifted(pv, dst, planes, channels, batch, height, width, rowShift * width + colShift, { firstRow, endRow, first, end });
        dst += channels * batch * plane;
        continue;
      }
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
            planes.copyTo(pv, dst + firstRow * ow + first, from + first, (endRow - firstRow - 1) * width + end - first);
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

/** The output rows [firstRow, endRow) and columns [first, end) of a tap whose input lies inside the map. */
interface InsideMap {
  firstRow: number;
  endRow: number;
  first: number;
  end: number;
}

/**
 * A tap's rows of the patches where output and input planes have one layout (stride 1, output sides
 * the input's): per channel, its planes of every image (`from`, channel-major) shifted by `shift` values
 * into `out` at `at`, then zeroed where the tap reads outside the map. One copy per channel, where one
 * per image took a view and a call each (~9,000 a step for one CIFAR layer). A position the copy leaves
 * out (before the first image or past the last) reads outside the map, so it is zeroed with the rest.
 */
function planesShifted(out: Float32Array, at: number, from: ChannelMajor, channels: number, batch: number, height: number, width: number, shift: number, inside: InsideMap): void {
  const { firstRow, endRow, first, end } = inside;
  const plane = height * width;
  const span = batch * plane;
  for (let c = 0, to = at, source = 0; c < channels; c++, to += span, source += span) {
    if (firstRow === endRow || first === end) {
      out.fill(0, to, to + span);
      continue;
    }
    const lo = Math.max(0, -shift);
    const hi = Math.min(span, span - shift);
    from.copyTo(out, to + lo, source + lo + shift, hi - lo);
    for (let image = to; image < to + span; image += plane) {
      if (firstRow > 0) out.fill(0, image, image + firstRow * width);
      if (endRow < height) out.fill(0, image + endRow * width, image + plane);
      if (first === 0 && end === width) continue;
      for (let row = image + firstRow * width; row < image + endRow * width; row += width) {
        for (let j = 0; j < first; j++) out[row + j] = 0;
        for (let j = end; j < width; j++) out[row + j] = 0;
      }
    }
  }
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
