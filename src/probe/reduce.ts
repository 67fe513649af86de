/**
 * Reductions over leading axes and matrix transposes in the shapes the wasm backend runs fast. Its
 * reductions move the reduced axes innermost with its Transpose kernel, whose 2-D path is slow on all
 * but wide matrices: summing a [32768, 32] matrix over its rows took 6.9 ms, the same values as
 * [32, 1024, 32] over two axes 1.3 ms; transposing [4096, 256] 8.9 ms, as [32, 128, 256] ->
 * [256, 32, 128] 3.2 ms; [4096, 4096] 165 ms, as [16, 256, 4096] 128 ms (CPU time, tfjs-backend-wasm
 * 4.22). Wide matrices transpose faster plainly ([32, 32768]: 0.7 ms plainly, 2 ms as 3-D). Reshapes
 * are free, so the same values are reduced or transposed through a 3-D view of the rows. The results
 * are the same on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Rows are split into this many blocks when it divides them (any of 4..64 measured alike; 32 first). */
const ROW_BLOCKS = [32, 16, 64, 8, 4];
/** Fewest rows per block: a view of fewer gains nothing. */
const MIN_BLOCK_ROWS = 8;
/** Below this many values a plain op costs as little as any view or pooling of it. */
const VIEW_FROM = 1 << 14;
/** A matrix with more columns than this many times its rows transposes faster plainly. */
const WIDE = 16;

/** A factor of `rows` to view them as [blocks, rows / blocks], or null when none fits. */
function rowBlocks(rows: number): number | null {
  return ROW_BLOCKS.find((b) => rows % b === 0 && rows / b >= MIN_BLOCK_ROWS) ?? null;
}

/**
 * The mean of each channel over every other axis, [channels], through one XNNPACK average pooling of
 * x viewed as [1, rows, 1, channels] (per-channel sums of a [32, 32, 32, 32] activation: 2.9 ms as the
 * wasm Sum, 0.25 ms pooled); null off wasm, for small tensors, and when a mean is not finite: XNNPACK
 * clamps its outputs, which turns NaN into -Infinity, and a NaN or an infinity in x shows in its mean.
 */
export function finiteChannelMeans(x: tf.Tensor): tf.Tensor1D | null {
  if (tf.getBackend() !== 'wasm' || x.size < VIEW_FROM || x.rank < 2) return null;
  return finitePooledMeans(x, 1) as tf.Tensor1D | null;
}

/**
 * The most channels the backend's average pooling is given: with 16,384 it failed ("memory access out
 * of bounds", tfjs-backend-wasm 4.22, a Flatten of 25,088 features in the meter), with 8,192 it ran.
 */
const MAX_POOLED_CHANNELS = 8192;

/**
 * The mean of each channel over the rows of each of `groups` blocks of x, [channels] for one group and
 * [groups, channels] for more: one average pooling of x viewed as [groups, rows, 1, channels] (x's
 * last axis as the channels unless told); null when a mean is not finite (see finiteChannelMeans) and
 * for more than MAX_POOLED_CHANNELS channels.
 */
function finitePooledMeans(x: tf.Tensor, groups: number, channels = x.shape[x.rank - 1]!): tf.Tensor | null {
  if (channels > MAX_POOLED_CHANNELS) return null;
  const rows = x.size / (groups * channels);
  const shape = groups === 1 ? [channels] : [groups, channels];
  const means = tf.tidy(() => tf.reshape(tf.avgPool(tf.reshape<tf.Rank.R4>(x, [groups, rows, 1, channels]), [rows, 1], 1, 'valid'), shape));
  // A read of groups x channels numbers; the wasm backend has computed them already (it runs synchronously).
  if ((means.dataSync() as Float32Array).every(Number.isFinite)) return means;
  means.dispose();
  return null;
}

/**
 * Fewest values per member for which pooledMemberSums pools: below it the pooling's few ops cost about
 * what the wasm Sum does (one thread, 2^16 values: 0.075 ms pooled, 0.054 in order; 2^18: 0.08, 0.13).
 */
const POOLED_SUM_FROM = 1 << 18;
/** The channels pooledMemberSums views a member with: the largest divisor of its size up to 64 (measured with 32 and 64), at least 8. */
const POOLED_SUM_CHANNELS = 64;
const MIN_POOLED_SUM_CHANNELS = 8;

/** The largest divisor of `n` up to `limit` (1 when none above 1). */
export function largestDivisorUpTo(n: number, limit: number): number {
  for (let d = limit; d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * The sum of all the values of each member of `x` ([members, ...]), [members]: one XNNPACK average
 * pooling of x viewed as [members, rows, 1, channels] (a member's values in rows of up to 64), then
 * each member's channel means times the rows, summed (a [32, 32, 32, 32] output: 0.5 ms as the wasm
 * Sum, which adds every value in order on one thread; ~0.12 ms pooled, on the backend's threads). Null
 * off wasm, for small members or sizes with no divisor from 8 to 64, and when a mean is not finite: a
 * NaN or an infinity in x (XNNPACK turns a NaN into -Infinity) is summed in order.
 */
export function pooledMemberSums(x: tf.Tensor): tf.Tensor1D | null {
  if (tf.getBackend() !== 'wasm' || x.rank < 2) return null;
  const members = x.shape[0];
  const values = x.size / members;
  if (values < POOLED_SUM_FROM) return null;
  // Every value is summed, so any view of a member will do: few channels, many rows (not a Flatten's
  // 25,088 features as channels, which the pooling cannot take).
  const channels = largestDivisorUpTo(values, POOLED_SUM_CHANNELS);
  if (channels < MIN_POOLED_SUM_CHANNELS) return null;
  const rows = values / channels;
  const means = finitePooledMeans(x, members, channels);
  if (!means) return null;
  const sums = tf.tidy(() => tf.mul<tf.Tensor1D>(tf.sum(tf.reshape(means, [members, channels]), 1), rows));
  means.dispose();
  return sums;
}

/**
 * The largest value of each channel (keeping the first `keep` axes) as one XNNPACK max pooling of x
 * viewed as [kept, rows, 1, channels] (a [32, 32, 32, 32] activation: 3.2 ms as the wasm Max, which
 * transposes first, 0.84 ms pooled); only for a finite x, where both give the same numbers.
 */
function pooledMax(x: tf.Tensor, keep: number): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm' || x.size < VIEW_FROM) return null;
  const finite = finiteChannelMeans(x);
  if (!finite) return null;
  finite.dispose();
  const channels = x.shape[x.rank - 1]!;
  const kept = x.shape.slice(0, keep);
  const groups = kept.reduce((a, b) => a * b, 1);
  const rows = x.size / (groups * channels);
  return tf.tidy(() => tf.reshape(tf.maxPool(tf.reshape<tf.Rank.R4>(x, [groups, rows, 1, channels]), [rows, 1], 1, 'valid'), [...kept, channels]));
}

type Reduce = 'sum' | 'max';

function reduce(x: tf.Tensor, axes: number[], op: Reduce): tf.Tensor {
  return op === 'sum' ? tf.sum(x, axes) : tf.max(x, axes);
}

/**
 * Sum or max of `x` over every axis but the last (and but the first `keep` axes): [...x.shape[0..keep), channels].
 * BatchNorm statistics and their gradients, bias gradients, a layer's per-unit peak.
 */
export function reduceLeading(x: tf.Tensor, op: Reduce, keep = 0): tf.Tensor {
  const pooled = op === 'max' ? pooledMax(x, keep) : null;
  if (pooled) return pooled;
  const channels = x.shape[x.rank - 1]!;
  const kept = x.shape.slice(0, keep);
  const rows = x.size / (channels * kept.reduce((a, b) => a * b, 1));
  const blocks = x.size >= VIEW_FROM ? rowBlocks(rows) : null;
  const view = blocks === null ? [...kept, rows, channels] : [...kept, blocks, rows / blocks, channels];
  const axes = view.slice(keep, -1).map((_, i) => keep + i);
  // A reshape is an op too (per-op overhead dominates small layers): none when the view is the shape.
  const same = view.length === x.rank && view.every((d, i) => d === x.shape[i]);
  return reduce(same ? x : tf.reshape(x, view), axes, op);
}

/** The transpose of a matrix, through a 3-D view of its rows unless it is wide. */
export function transposeMatrix(m: tf.Tensor2D): tf.Tensor2D {
  const [rows, cols] = m.shape;
  const blocks = m.size >= VIEW_FROM && rows * WIDE >= cols ? rowBlocks(rows) : null;
  if (blocks === null) return tf.transpose(m);
  return tf.reshape(tf.transpose(tf.reshape(m, [blocks, rows / blocks, cols]), [2, 0, 1]), [cols, rows]);
}
