/**
 * Kernels of our own on the wasm backend, where a small model's step is bound by per-op overhead
 * (engine bookkeeping, the tape, a copy of every tensor saved for the backward pass), not by
 * arithmetic: a 64-unit sigmoid Dense layer took ~15 kernels per step, the SGD update one per weight,
 * the saturation count of a stack of outputs six (a comparison with a scalar alone ~0.6 ms for 80k values).
 *
 * A Dense layer's forward pass and its gradient run as one kernel each. They call the wasm backend's
 * own kernel functions (the same XNNPACK code, so the same numbers, without the engine's bookkeeping)
 * for the products, the bias and the activation, and compute the activation's gradient, the bias
 * gradient and the transposes in passes over the wasm heap, rounding to float32 after every operation as the
 * backend's kernels do (a store into a Float32Array rounds). The results are bit-identical to the ops they replace
 * (test/probe/wasm-kernels.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { FusableActivation } from './matmul';

const FORWARD = 'GradientLensDenseForward';
const BACKWARD = 'GradientLensDenseBackward';
const SUBTRACT_EACH = 'GradientLensSubtractEach';
const REDUCTIONS = 'GradientLensMemberReductions';

type Info = tf.TensorInfo;

/** The wasm backend's kernel functions by name, looked up once (the registry lookup is per call otherwise). */
const kernelFunctions = new Map<string, tf.KernelFunc>();

/** One of the wasm backend's kernels, called directly (no engine bookkeeping). */
export function backendKernel(name: string, inputs: tf.NamedTensorInfoMap, backend: BackendWasm, attrs: tf.NamedAttrMap = {}): Info {
  let kernelFunc = kernelFunctions.get(name);
  if (!kernelFunc) {
    kernelFunc = tf.getKernel(name, 'wasm').kernelFunc;
    kernelFunctions.set(name, kernelFunc);
  }
  return kernelFunc({ inputs, backend, attrs }) as Info;
}

const fround = Math.fround;

/** What `product` uses of the backend's Emscripten module: its product function (what the BatchMatMul kernel calls), malloc, the heap. */
interface ProductModule {
  _BatchMatMul(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, transposeA: number, transposeB: number, outId: number): void;
  _malloc(bytes: number): number;
  HEAP32: Int32Array;
}

/** Per module, the heap offset of the two [1, rows, columns] shapes the product function reads, allocated once. */
const productShapes = new WeakMap<ProductModule, number>();

/**
 * a·b ([m, k]·[k, n]) by the backend's own product function (XNNPACK), called directly: the kernel's
 * wrapper reshapes both operands (two kernels' bookkeeping) and copies the shapes onto the stack through
 * ccall on every call, 60 times in a 20-layer MLP's step. The same function on the same data: the same numbers.
 */
function product(a: Info, b: Info, wasm: BackendWasm): Info {
  const module = wasm.wasm as unknown as ProductModule;
  let shapes = productShapes.get(module);
  if (shapes === undefined) {
    shapes = module._malloc(6 * 4);
    productShapes.set(module, shapes);
  }
  const out = wasm.makeOutput([a.shape[0]!, b.shape[1]!], 'float32');
  // After the allocation above: HEAP32 is the heap's current view.
  module.HEAP32.set([1, a.shape[0]!, a.shape[1]!, 1, b.shape[0]!, b.shape[1]!], shapes / 4);
  const id = (t: Info) => wasm.dataIdMap.get(t.dataId).id;
  module._BatchMatMul(id(a), shapes, 3, id(b), shapes + 12, 3, 0, 0, id(out));
  return out;
}

/** y = act(x·w + bias), with the kernels tfjs' fused.matMul runs while gradients are recorded. */
function denseForwardKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const wasm = backend as BackendWasm;
  const { x, w, bias } = inputs as { x: Info; w: Info; bias?: Info };
  const activation = attrs?.activation as FusableActivation;
  if (activation === 'linear') {
    // A linear product is fused even then: the bias goes into the product's accumulator.
    const out = backendKernel('_FusedMatMul', { a: asBatch(x), b: asBatch(w), ...(bias ? { bias } : {}) }, wasm, { transposeA: false, transposeB: false, activation: 'linear' });
    return { ...out, shape: [x.shape[0]!, w.shape[1]!] };
  }
  const z = product(x, w, wasm);
  // The product is this kernel's own: the bias goes into it in place (a Float32Array store rounds the
  // sum as the backend's Add does), and no Add kernel runs (or gets compiled) in an MLP's step.
  if (bias) addRowsInto(wasm.typedArrayFromHeap(z) as Float32Array, wasm.typedArrayFromHeap(bias) as Float32Array);
  const y = backendKernel(activation === 'relu' ? 'Relu' : 'Sigmoid', { x: z }, wasm);
  wasm.disposeData(z.dataId);
  return y;
}

/** m[r, c] += row[c] for every row of a [rows, columns] matrix m. */
function addRowsInto(m: Float32Array, row: Float32Array): void {
  const columns = row.length;
  for (let from = 0; from < m.length; from += columns) {
    for (let c = 0; c < columns; c++) m[from + c] = m[from + c]! + row[c]!;
  }
}

/** A matrix seen as a batch of one (the shape _FusedMatMul takes); no copy. */
function asBatch(m: Info): Info {
  return { dataId: m.dataId, shape: [1, ...m.shape], dtype: m.dtype };
}

// The loops over the heap are functions of their own, small and free of calls: V8 compiles each in
// well under a millisecond, where the kernel holding them inlined the backend's kernels into its loops'
// on-stack replacement and took ~270 ms of compiler time in the probe's first run.

/** dz = dy·(y·(1 - y)): a sigmoid's gradient written with its output, rounded as tfjs' three ops round. */
function sigmoidGradientInto(dz: Float32Array, dy: Float32Array, y: Float32Array): void {
  for (let i = 0; i < dz.length; i++) {
    const yi = y[i]!;
    dz[i] = dy[i]! * fround(yi * fround(1 - yi));
  }
}

/** dz = dy·step(y): a relu's gradient (NaN where y is NaN, as tf.step). */
function reluGradientInto(dz: Float32Array, dy: Float32Array, y: Float32Array): void {
  for (let i = 0; i < dz.length; i++) {
    const yi = y[i]!;
    dz[i] = dy[i]! * (yi > 0 ? 1 : yi !== yi ? NaN : 0);
  }
}

/** Each column of a [rows, columns] matrix summed over the rows in order; a Float32Array store rounds each partial sum. */
function columnSumsInto(sums: Float32Array, m: Float32Array, columns: number): void {
  sums.fill(0);
  for (let from = 0; from < m.length; from += columns) {
    for (let c = 0; c < columns; c++) sums[c] = sums[c]! + m[from + c]!;
  }
}

/** Rows per tile of a transpose: a column's values in the tile are read while the tile is in cache. */
const TILE = 64;

/** Columns written per pass over a tile: four values side by side in a row are read together. */
const COLUMNS_PER_PASS = 4;

/**
 * The [columns, rows] transpose of a [rows, columns] matrix: per tile of rows, four columns at a time
 * written in order (twice as fast as 32x32 blocks for [32768, 32] and [4096, 256]; four columns a pass,
 * 0.9 ns a value, twice as fast as one for shapes from [7, 13] to [256, 4096]).
 */
export function transposeInto(out: Float32Array, m: Float32Array, rows: number, columns: number): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    let c = 0;
    for (; c + COLUMNS_PER_PASS <= columns; c += COLUMNS_PER_PASS) {
      const to0 = c * rows;
      const to1 = to0 + rows;
      const to2 = to1 + rows;
      const to3 = to2 + rows;
      for (let r = r0, from = r0 * columns + c; r < r1; r++, from += columns) {
        out[to0 + r] = m[from]!;
        out[to1 + r] = m[from + 1]!;
        out[to2 + r] = m[from + 2]!;
        out[to3 + r] = m[from + 3]!;
      }
    }
    for (; c < columns; c++) {
      const to = c * rows;
      for (let r = r0, from = r0 * columns + c; r < r1; r++, from += columns) out[to + r] = m[from]!;
    }
  }
}

/**
 * A matrix's transpose by a loop over the heap, not the backend's Transpose kernel: V8 compiles that
 * kernel's wasm with TurboFan once it is hot, ~230 ms of compiler time in the probe's first run (node
 * --trace-wasm-compilation-times), for the 64x64 matrices of a small MLP where a loop takes
 * microseconds. The values are moved, not computed: the same numbers.
 */
function transposed(m: Info, wasm: BackendWasm): Info {
  const [rows, columns] = m.shape as [number, number];
  const out = wasm.makeOutput([columns, rows], 'float32');
  transposeInto(wasm.typedArrayFromHeap(out) as Float32Array, wasm.typedArrayFromHeap(m) as Float32Array, rows, columns);
  return out;
}

/**
 * [dx, dw, dbias?] from dy, the layer's output y, its input x and kernel w: dz = dy·act'(z) written
 * with y, as tfjs computes it (sigmoid: dy·(y·(1 - y)); relu: dy·step(y)); dbias sums dz over the
 * rows in order (the backend's Sum does the same); dx = dz·wᵀ and dw = xᵀ·dz as plain products.
 * Without `inputGradient` (x is the model's input, whose gradient nobody reads) dx is zeros, as the
 * convolutions' (conv.ts), and its transpose and product are skipped.
 */
function denseBackwardKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info[] {
  const wasm = backend as BackendWasm;
  const { dy, y, x, w } = inputs as { dy: Info; y: Info; x: Info; w: Info };
  const activation = attrs?.activation as FusableActivation;
  const withBias = attrs?.withBias === true;
  const inputGradient = attrs?.inputGradient !== false;
  const units = w.shape[1]!;
  // Every output is allocated before any heap view is taken: an allocation may grow (and detach) the heap.
  const dz = activation === 'linear' ? dy : wasm.makeOutput(dy.shape, 'float32');
  const db = withBias ? wasm.makeOutput([units], 'float32') : null;
  const zeros = inputGradient ? null : wasm.makeOutput(x.shape, 'float32');
  const dzv = wasm.typedArrayFromHeap(dz) as Float32Array;
  if (activation === 'sigmoid') sigmoidGradientInto(dzv, wasm.typedArrayFromHeap(dy) as Float32Array, wasm.typedArrayFromHeap(y) as Float32Array);
  else if (activation === 'relu') reluGradientInto(dzv, wasm.typedArrayFromHeap(dy) as Float32Array, wasm.typedArrayFromHeap(y) as Float32Array);
  if (db) columnSumsInto(wasm.typedArrayFromHeap(db) as Float32Array, dzv, units);
  if (zeros) (wasm.typedArrayFromHeap(zeros) as Float32Array).fill(0);
  // The heap views above are not read after the allocations below.
  const xT = transposed(x, wasm);
  const dw = product(xT, dz, wasm);
  wasm.disposeData(xT.dataId);
  let dx = zeros;
  if (!dx) {
    const wT = transposed(w, wasm);
    dx = product(dz, wT, wasm);
    wasm.disposeData(wT.dataId);
  }
  if (dz !== dy) wasm.disposeData(dz.dataId);
  return db ? [dx, dw, db] : [dx, dw];
}

/**
 * Values up to which a difference is taken by a loop over the heap rather than the backend's Sub: its
 * binary kernels pass the shapes through ccall (arrays copied onto the stack, ~10 µs a call), and with
 * them hot in every step V8 optimizes that path too (~100 ms of compiler time in a 20-layer MLP's
 * first run). Past this size the backend's loop is the faster.
 */
const SUBTRACT_IN_JS_UP_TO = 1 << 14;

/** out = a - b elementwise; a Float32Array store rounds the difference once, as float32 subtraction does. */
function differenceInto(out: Float32Array, a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! - b[i]!;
}

/** Inputs a0, b0, a1, b1, ...: outputs a_i - b_i (same shapes, float32), small ones in place here, larger by the backend's own Sub. */
function subtractEachKernel({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info[] {
  const wasm = backend as BackendWasm;
  const pairs = Object.keys(inputs)
    .filter((name) => name.startsWith('a'))
    .map((name) => [inputs[name]!, inputs[`b${name.slice(1)}`]!] as const);
  const outs = pairs.map(([a, b]) => (sizeOf(a) <= SUBTRACT_IN_JS_UP_TO ? wasm.makeOutput(a.shape, 'float32') : backendKernel('Sub', { a, b }, wasm)));
  // Heap views only after every allocation above (an allocation may grow the heap and detach older views).
  pairs.forEach(([a, b], i) => {
    if (sizeOf(a) <= SUBTRACT_IN_JS_UP_TO) differenceInto(wasm.typedArrayFromHeap(outs[i]!) as Float32Array, wasm.typedArrayFromHeap(a) as Float32Array, wasm.typedArrayFromHeap(b) as Float32Array);
  });
  return outs;
}

function sizeOf(t: Info): number {
  return t.shape.reduce((n, d) => n * d, 1);
}

/**
 * What memberReductions computes of a member: its first value, its sum, its sum of squares, its sum of
 * squared differences from its first value, its values in a sigmoid's or a tanh's flat tails.
 */
export type MemberReduction = 'first' | 'sum' | 'squares' | 'squares-about-first' | 'sigmoid-tails' | 'tanh-tails';

const REDUCTION_CODES: Record<MemberReduction, number> = { first: 0, sum: 1, squares: 2, 'squares-about-first': 3, 'sigmoid-tails': 4, 'tanh-tails': 5 };

/** Each value's term of a sum: itself (code 1), its square (2), its squared difference from `shift` (3); float32 as the backend's Square and SquaredDifference. */
function termsOf(values: Float32Array, code: number, shift: number): Float32Array {
  if (code === 1) return values;
  const terms = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const d = code === 2 ? values[i]! : fround(values[i]! - shift);
    terms[i] = d * d;
  }
  return terms;
}

/** A sum over a member's values in one level, in order: of its terms (squares of the values' differences from `shift`, or the values), into `slot`. */
interface Chain {
  values: Float32Array;
  square: boolean;
  shift: number;
  slot: number;
}

/** Chains summed side by side: a float32 sum in order waits on an addition and a rounding per value; four independent ones overlap. */
const LANES = 4;

/**
 * Every chain's sum into `results`, each over its values in order with a float32 rounding after every
 * operation, as the backend's Square, SquaredDifference and Sum round (the same numbers, bit for bit).
 * Chains of one length and kind go four at a time (the last quad filled with copies of its last chain,
 * whose sums are not kept): one chain at a time took ~2.5 ns a value, four ~1.3 ns (a 20-layer MLP's
 * step sums ~350 k values). This replaced copying the chains into a stack for the backend's Sum kernel.
 */
function chainSums(chains: Chain[], results: Float32Array): void {
  const groups = new Map<string, Chain[]>();
  for (const chain of chains) {
    const key = `${chain.square} ${chain.values.length}`;
    const group = groups.get(key);
    if (group) group.push(chain);
    else groups.set(key, [chain]);
  }
  const sums = new Float32Array(LANES);
  for (const group of groups.values()) {
    for (let from = 0; from < group.length; from += LANES) {
      const lane = (k: number) => group[Math.min(from + k, group.length - 1)]!;
      const [a, b, c, d] = [lane(0), lane(1), lane(2), lane(3)];
      if (a.square) squareSumsOfFour(sums, a.values, b.values, c.values, d.values, a.shift, b.shift, c.shift, d.shift);
      else sumsOfFour(sums, a.values, b.values, c.values, d.values);
      for (let k = 0; k < LANES && from + k < group.length; k++) results[group[from + k]!.slot] = sums[k]!;
    }
  }
}

/** Σ (v - shift)² over four arrays of one length, each in order: the difference rounded to float32, then its square, then the sum. */
function squareSumsOfFour(sums: Float32Array, a: Float32Array, b: Float32Array, c: Float32Array, d: Float32Array, sa: number, sb: number, sc: number, sd: number): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < a.length; i++) {
    const d0 = fround(a[i]! - sa);
    const d1 = fround(b[i]! - sb);
    const d2 = fround(c[i]! - sc);
    const d3 = fround(d[i]! - sd);
    s0 = fround(s0 + fround(d0 * d0));
    s1 = fround(s1 + fround(d1 * d1));
    s2 = fround(s2 + fround(d2 * d2));
    s3 = fround(s3 + fround(d3 * d3));
  }
  sums[0] = s0;
  sums[1] = s1;
  sums[2] = s2;
  sums[3] = s3;
}

/** Σ v over four arrays of one length, each in order, rounded to float32 after every addition. */
function sumsOfFour(sums: Float32Array, a: Float32Array, b: Float32Array, c: Float32Array, d: Float32Array): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < a.length; i++) {
    s0 = fround(s0 + a[i]!);
    s1 = fround(s1 + b[i]!);
    s2 = fround(s2 + c[i]!);
    s3 = fround(s3 + d[i]!);
  }
  sums[0] = s0;
  sums[1] = s1;
  sums[2] = s2;
  sums[3] = s3;
}

/**
 * The sum of `terms` viewed as `dims`: its innermost axis summed in order, then the next, ..., each in
 * float32 as the backend's Sum kernel does (its loop over the reduced axis, innermost here): the same
 * numbers, bit for bit.
 */
function nestedSum(terms: Float32Array, dims: number[]): number {
  let level = terms;
  for (let axis = dims.length - 1; axis >= 0; axis--) {
    const width = dims[axis]!;
    const next = new Float32Array(level.length / width);
    for (let g = 0; g < next.length; g++) {
      let sum = 0;
      for (let j = g * width; j < (g + 1) * width; j++) sum = fround(sum + level[j]!);
      next[g] = sum;
    }
    level = next;
  }
  return level[0]!;
}

/** Whether a value is in the upper (`sign` 1) or lower (-1) flat tail: |2y - 1| for a sigmoid, |y| for a tanh, computed and compared in float32 as tailCounts' ops do. */
function inTail(y: number, level: number, sigmoid: boolean, sign: 1 | -1): boolean {
  const t = sigmoid ? fround(fround(y * 2) - 1) : y;
  return sign === 1 ? t > level : t < -level;
}

/** The float32 value at position `i` of their order (-0x7f800000: -Infinity, 0: +0, 0x7f800000: +Infinity). */
function float32At(i: number): number {
  const bits = new Uint32Array([i >= 0 ? i : (0x80000000 | -i) >>> 0]);
  return new Float32Array(bits.buffer)[0]!;
}

/**
 * The least float32 value for which `holds` (NaN when none does), a test that once true stays
 * true for every larger value. Binary search over the float32 values in their order.
 */
function leastHolding(holds: (y: number) => boolean): number {
  let [lo, hi] = [-0x7f800000, 0x7f800000];
  if (!holds(float32At(hi))) return NaN;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (holds(float32At(mid))) hi = mid;
    else lo = mid + 1;
  }
  return float32At(lo);
}

/**
 * The tails as two bounds on the float32 values themselves: y in the upper tail exactly when y >= upper,
 * in the lower exactly when y < lower. The test is monotone in y (doubling, rounding and subtracting
 * keep the order), so the bounds give the same counts as testing each value, without its float32
 * roundings (4x faster on a 20-layer MLP's outputs).
 */
function tailBounds(level: number, sigmoid: boolean): { upper: number; lower: number } {
  const key = `${sigmoid ? 'sigmoid' : 'tanh'} ${level}`;
  let bounds = tailBoundsCache.get(key);
  if (!bounds) {
    bounds = { upper: leastHolding((y) => inTail(y, level, sigmoid, 1)), lower: leastHolding((y) => !inTail(y, level, sigmoid, -1)) };
    tailBoundsCache.set(key, bounds);
  }
  return bounds;
}

const tailBoundsCache = new Map<string, { upper: number; lower: number }>();

/** Values in the flat tails past `level` (NaN in neither). */
function tailCountOf(values: Float32Array, level: number, sigmoid: boolean): number {
  const { upper, lower } = tailBounds(level, sigmoid);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i]!;
    if (y >= upper || y < lower) count++;
  }
  return count;
}

/**
 * Inputs m0, m1, ...: per member the reduction its code in `reductions` names (REDUCTION_CODES), as a
 * [k] vector; sums over the member viewed as its `ranks[k]` dimensions, in `dims` one member after another.
 */
function memberReductionsKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const wasm = backend as BackendWasm;
  const codes = attrs?.reductions as number[];
  const ranks = attrs?.ranks as number[];
  const dims = attrs?.dims as number[];
  const level = fround(attrs?.level as number);
  const results = new Float32Array(codes.length);
  const chains: Chain[] = [];
  let at = 0;
  codes.forEach((code, k) => {
    const values = wasm.typedArrayFromHeap(inputs[`m${k}`]!) as Float32Array;
    const memberDims = dims.slice(at, at + ranks[k]!);
    at += ranks[k]!;
    if (code === 0) results[k] = values[0]!;
    else if (code <= 3 && memberDims.length === 1) chains.push({ values, square: code !== 1, shift: code === 3 ? values[0]! : 0, slot: k });
    else if (code <= 3) results[k] = nestedSum(termsOf(values, code, values[0]!), memberDims);
    else results[k] = tailCountOf(values, level, code === 4);
  });
  chainSums(chains, results);
  const out = wasm.makeOutput([codes.length], 'float32');
  (wasm.typedArrayFromHeap(out) as Float32Array).set(results);
  return out;
}

const FLIPPED_SWAPPED = 'GradientLensFlippedSwapped';

/**
 * A [kh, kw, in, out] kernel as [kh, kw, out, in], both spatial axes reversed: out[i][j][o][c] =
 * w[kh-1-i][kw-1-j][c][o], the kernel of a convolution's input gradient. The backend's Reverse takes
 * ~70 ns a value (3 ms a step for a CIFAR CNN's kernels, after a Transpose); the values are moved here
 * in one pass, as tf.reverse(tf.transpose(w, [0, 1, 3, 2]), [0, 1]) places them.
 */
function flippedSwappedKernel({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: Info };
  const [kh, kw, channelsIn, channelsOut] = x.shape as [number, number, number, number];
  const out = wasm.makeOutput([kh, kw, channelsOut, channelsIn], 'float32');
  flipSwapInto(wasm.typedArrayFromHeap(out) as Float32Array, wasm.typedArrayFromHeap(x) as Float32Array, kh, kw, channelsIn, channelsOut);
  return out;
}

function flipSwapInto(out: Float32Array, w: Float32Array, kh: number, kw: number, channelsIn: number, channelsOut: number): void {
  const tap = channelsIn * channelsOut;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * tap;
      const to = (i * kw + j) * tap;
      for (let c = 0; c < channelsIn; c++) for (let o = 0; o < channelsOut; o++) out[to + o * channelsIn + c] = w[from + c * channelsOut + o]!;
    }
  }
}

/** tf.reverse(tf.transpose(w, [0, 1, 3, 2]), [0, 1]) of a [kh, kw, in, out] kernel: one kernel on wasm (float32), those two ops elsewhere. */
export function flippedSwapped(w: tf.Tensor4D): tf.Tensor4D {
  if (tf.getBackend() !== 'wasm' || w.dtype !== 'float32') return tf.reverse(tf.transpose<tf.Tensor4D>(w, [0, 1, 3, 2]), [0, 1]);
  registerWasmKernels([[FLIPPED_SWAPPED, flippedSwappedKernel]]);
  return tf.engine().runKernel<tf.Tensor4D>(FLIPPED_SWAPPED, { x: w });
}

const registeredKernels = new Set<string>();

/** Registers each named kernel function on the wasm backend, once. */
export function registerWasmKernels(kernels: [string, tf.KernelFunc][]): void {
  for (const [kernelName, kernelFunc] of kernels) {
    if (registeredKernels.has(kernelName)) continue;
    registeredKernels.add(kernelName);
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: FORWARD, backendName: 'wasm', kernelFunc: denseForwardKernel });
  tf.registerKernel({ kernelName: BACKWARD, backendName: 'wasm', kernelFunc: denseBackwardKernel });
  tf.registerKernel({ kernelName: SUBTRACT_EACH, backendName: 'wasm', kernelFunc: subtractEachKernel });
  tf.registerKernel({ kernelName: REDUCTIONS, backendName: 'wasm', kernelFunc: memberReductionsKernel });
}

/** act(x·w + bias) as one kernel on wasm (x: [rows, in], w: [in, units]). */
export function denseForward(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor | undefined, activation: FusableActivation): tf.Tensor2D {
  register();
  return tf.engine().runKernel<tf.Tensor2D>(FORWARD, { x, w, ...(bias ? { bias } : {}) }, { activation });
}

/** [dx, dw, dbias?] of denseForward as one kernel on wasm; `y` is its output; dx is zeros without `inputGradient`. */
export function denseBackward(dy: tf.Tensor, y: tf.Tensor, x: tf.Tensor2D, w: tf.Tensor2D, activation: FusableActivation, withBias: boolean, inputGradient: boolean): tf.Tensor[] {
  register();
  return tf.engine().runKernel<tf.Tensor[]>(BACKWARD, { dy, y, x, w }, { activation, withBias, inputGradient });
}

/** a[i] - b[i] for tensors of equal shapes (float32): one kernel on wasm, one Sub each elsewhere. */
export function subtractEach(a: tf.Tensor[], b: tf.Tensor[]): tf.Tensor[] {
  const fused = tf.getBackend() === 'wasm' && a.every((t, i) => t.dtype === 'float32' && b[i]!.dtype === 'float32' && tf.util.arraysEqual(t.shape, b[i]!.shape));
  if (!fused) return a.map((t, i) => tf.sub(t, b[i]!));
  register();
  const inputs: tf.NamedTensorMap = {};
  a.forEach((t, i) => {
    inputs[`a${i}`] = t;
    inputs[`b${i}`] = b[i]!;
  });
  return tf.engine().runKernel<tf.Tensor[]>(SUBTRACT_EACH, inputs);
}

/**
 * [k]: per member (float32 tensors of any shapes), the reduction named beside it, as one kernel on
 * wasm (the meter's per-layer sums, sums of squares and saturation counts of a step, without stacking
 * the members or one op per group). `sumShapes`: per member, the dimensions its sums run over,
 * innermost first (their product is its size). `level`: the tails' threshold.
 */
export function memberReductions(members: tf.Tensor[], reductions: MemberReduction[], sumShapes: number[][], level: number): tf.Tensor1D {
  register();
  const inputs: tf.NamedTensorMap = {};
  members.forEach((m, i) => {
    inputs[`m${i}`] = m;
  });
  const attrs = { reductions: reductions.map((r) => REDUCTION_CODES[r]), ranks: sumShapes.map((d) => d.length), dims: sumShapes.flat(), level };
  return tf.engine().runKernel<tf.Tensor1D>(REDUCTIONS, inputs, attrs);
}

/**
 * [k]: per member (tensors of one shape), the count of values in the flat tails of a sigmoid
 * (|2y - 1| > level) or a tanh (|y| > level). One kernel on wasm; elsewhere tfjs ops on `stack()`,
 * the members stacked (the same numbers).
 */
export function tailCounts(members: tf.Tensor[], measure: 'sigmoid' | 'tanh', level: number, stack: () => tf.Tensor): tf.Tensor1D {
  if (tf.getBackend() === 'wasm' && members.every((m) => m.dtype === 'float32')) return memberReductions(members, members.map(() => `${measure}-tails` as const), members.map(() => []), level);
  return tf.tidy(() => {
    const x = stack();
    const tails = measure === 'sigmoid' ? tf.abs(tf.sub(tf.mul(x, 2), 1)) : tf.abs(x);
    const inTails = tf.cast(tf.greater(tails, level), 'float32');
    return tf.sum<tf.Tensor1D>(inTails, x.shape.slice(1).map((_, i) => i + 1));
  });
}
