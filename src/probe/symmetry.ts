/**
 * Unbroken symmetry: units of a layer that are exact copies of each other (same incoming weights and
 * bias). Zero or constant initialization makes every unit of a layer receive the same gradient, so the
 * copies never separate and the layer behaves like a single unit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ProbeNode } from './layers';

/** Relative tolerance: columns equal up to this fraction of their largest magnitude count as copies. */
const RELATIVE_TOLERANCE = 1e-6;
/**
 * Rows the fingerprints read. Copies agree on every row, so a sample of rows keeps every copy among
 * the candidates, and candidates are then compared on every entry. A Flatten into Dense has columns of
 * millions of weights: reading all of them in JavaScript took seconds at the end of a one-step probe.
 */
const FINGERPRINT_ROWS = 256;

type Values = Float32Array | Int32Array | Uint8Array;

/** The rows the fingerprints read: all of them, or FINGERPRINT_ROWS spread evenly over the kernel. */
function sampledRows(rows: number): number[] {
  if (rows <= FINGERPRINT_ROWS) return Array.from({ length: rows }, (_, r) => r);
  return Array.from({ length: FINGERPRINT_ROWS }, (_, k) => Math.floor((k * rows) / FINGERPRINT_ROWS));
}

/**
 * Each unit's largest magnitude and the fingerprint rows. `peaks` are over the rows held (and the
 * bias): the whole column when `rows` are all the kernel's rows, else the sampled rows only.
 */
interface KernelSummary {
  finite: boolean;
  peaks: Float64Array;
  rows: number[];
  /** The rows held, [rows.length, units] row-major. */
  sample: Values;
  bias: Values | null;
}

function peaksOf(sample: Values, bias: Values | null, units: number): Float64Array {
  const peaks = new Float64Array(units);
  const take = (source: Values, offset: number) => {
    for (let unit = 0; unit < units; unit++) peaks[unit] = Math.max(peaks[unit]!, Math.abs(source[offset + unit]!));
  };
  for (let offset = 0; offset < sample.length; offset += units) take(sample, offset);
  if (bias) take(bias, 0);
  return peaks;
}

/**
 * What the backend reads of a kernel: whether every weight is finite (one contiguous sum), the sampled
 * rows and the bias. A per-unit reduction over the whole kernel runs along its rows, which the backends
 * do by transposing it first: over a Flatten into Dense of tens of millions of weights, seconds.
 */
function summarize(kernel: tf.Tensor, bias: tf.Tensor | null, units: number): KernelSummary {
  const rowCount = kernel.size / units;
  const rows = sampledRows(rowCount);
  const packed = tf.tidy(() => {
    const matrix = tf.reshape<tf.Rank.R2>(kernel, [rowCount, units]);
    // A sum is NaN or infinite when any weight is.
    let total = tf.sum(matrix);
    if (bias) total = tf.add(total, tf.sum(bias));
    const sample = rows.length === rowCount ? matrix : tf.gather(matrix, tf.tensor1d(rows, 'int32'));
    const parts = [tf.reshape(total, [1]), tf.reshape(sample, [-1])];
    if (bias) parts.push(tf.reshape(bias, [-1]));
    return tf.concat(parts.map((p) => tf.cast(p, 'float32')));
  });
  const values = packed.dataSync();
  packed.dispose();
  const sampleEnd = 1 + rows.length * units;
  const sample = values.subarray(1, sampleEnd);
  const biasValues = bias ? values.subarray(sampleEnd) : null;
  return { finite: Number.isFinite(values[0]), peaks: peaksOf(sample, biasValues, units), rows, sample, bias: biasValues };
}

/** The summary of the whole kernel, from all its values. */
function wholeSummary(values: Values, bias: Values | null, units: number): KernelSummary {
  const rows = Array.from({ length: values.length / units }, (_, r) => r);
  return { finite: true, peaks: peaksOf(values, bias, units), rows, sample: values, bias };
}

function quantized(peak: number, value: number): number {
  return peak === 0 ? 0 : Math.round(value / peak / RELATIVE_TOLERANCE);
}

/**
 * Per unit, the sum of its quantized sampled entries (and bias) and their sum weighted by a fixed
 * pseudo-random weight per row, so that a fingerprint mixes every entry it reads. Loops, not callbacks.
 */
function fingerprints({ peaks, rows, sample, bias }: KernelSummary, units: number): { sums: Float64Array; mixed: Float64Array } {
  const sums = new Float64Array(units);
  const mixed = new Float64Array(units);
  const add = (source: Values, offset: number, row: number) => {
    const weight = (Math.imul(row + 1, 0x9e3779b1) >>> 0) / 4294967296 + 0.5;
    for (let unit = 0; unit < units; unit++) {
      const q = quantized(peaks[unit]!, source[offset + unit]!);
      sums[unit] = sums[unit]! + q;
      mixed[unit] = mixed[unit]! + q * weight;
    }
  };
  rows.forEach((row, k) => { add(sample, k * units, row); });
  if (bias) add(bias, 0, -1);
  return { sums, mixed };
}

/** Units whose fingerprints (peak and the two sums) are equal: the only ones that can be copies. */
function candidateGroups(summary: KernelSummary, units: number): number[][] {
  const { sums, mixed } = fingerprints(summary, units);
  const byPrint = new Map<string, number[]>();
  for (let unit = 0; unit < units; unit++) {
    const peak = summary.peaks[unit]!;
    const key = peak === 0 ? 'zero' : `${peak.toPrecision(6)}:${String(sums[unit])}:${String(mixed[unit])}`;
    const group = byPrint.get(key);
    if (group) group.push(unit);
    else byPrint.set(key, [unit]);
  }
  return [...byPrint.values()].filter((g) => g.length > 1);
}

/**
 * Candidates split by an exact comparison of their whole quantized columns (every row and the bias),
 * so a fingerprint collision never counts as a copy. All-zero units are copies without a comparison.
 */
function exactGroups(candidates: number[][], peaks: Float64Array, values: Values, bias: Values | null, units: number): number[][] {
  const rows = values.length / units;
  const column = (unit: number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < rows; r++) out.push(quantized(peaks[unit]!, values[r * units + unit]!));
    if (bias) out.push(quantized(peaks[unit]!, bias[unit]!));
    return out;
  };
  const groups: number[][] = [];
  for (const members of candidates) {
    if (peaks[members[0]!] === 0) {
      groups.push(members);
      continue;
    }
    const exact: { column: number[]; members: number[] }[] = [];
    for (const unit of members) {
      const own = column(unit);
      const same = exact.find((g) => g.column.every((q, i) => q === own[i]));
      if (same) same.members.push(unit);
      else exact.push({ column: own, members: [unit] });
    }
    groups.push(...exact.map((g) => g.members));
  }
  return groups;
}

/** Fraction of units that duplicate another unit of the same layer (0 when there is no duplicate). */
export function duplicateUnitFraction(node: Pick<ProbeNode, 'kernel' | 'bias'>): number | null {
  if (!node.kernel) return null;
  const shape = node.kernel.shape;
  const units = shape[shape.length - 1]!;
  if (units < 2) return null;
  const bias = node.bias && node.bias.size === units ? node.bias : null;
  let summary = summarize(node.kernel, bias, units);
  // Diverged weights (NaN/Inf) would all look alike; that is the non-finite verdict's business.
  if (!summary.finite) return null;
  let candidates = candidateGroups(summary, units);
  if (candidates.length === 0) return 0;
  // Only a layer with candidate copies is read whole; from a sample, candidates are formed again on
  // every row, against each unit's whole-column peak.
  const whole = summary.rows.length * units === node.kernel.size;
  const needsValues = !whole || candidates.some((g) => summary.peaks[g[0]!] !== 0);
  const values = needsValues ? node.kernel.dataSync() : new Float32Array(0);
  if (!whole) {
    summary = wholeSummary(values, summary.bias, units);
    candidates = candidateGroups(summary, units);
  }
  let duplicated = 0;
  for (const group of exactGroups(candidates, summary.peaks, values, summary.bias, units)) if (group.length > 1) duplicated += group.length;
  return duplicated / units;
}
