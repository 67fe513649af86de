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
 * What the backend reduces for the whole kernel, read back at once: whether every weight is finite,
 * each unit's largest magnitude (weights and bias), the sampled rows and the bias.
 */
interface KernelSummary {
  finite: boolean;
  peaks: Float64Array;
  rows: number[];
  /** The sampled rows, [rows.length, units] row-major. */
  sample: Values;
  bias: Values | null;
}

function summarize(kernel: tf.Tensor, bias: tf.Tensor | null, units: number): KernelSummary {
  const rowCount = kernel.size / units;
  const rows = sampledRows(rowCount);
  const packed = tf.tidy(() => {
    // Reductions only: a kernel of tens of millions of weights is read, never copied.
    const matrix = tf.reshape<tf.Rank.R2>(kernel, [rowCount, units]);
    let peaks = tf.maximum(tf.max(matrix, 0), tf.neg(tf.min(matrix, 0)));
    // A sum is NaN or infinite when any weight is (a max may skip a NaN).
    let total = tf.sum(matrix);
    if (bias) {
      peaks = tf.maximum(peaks, tf.abs(bias));
      total = tf.add(total, tf.sum(bias));
    }
    const sample = rows.length === rowCount ? matrix : tf.gather(matrix, tf.tensor1d(rows, 'int32'));
    const parts = [tf.reshape(total, [1]), peaks, tf.reshape(sample, [-1])];
    if (bias) parts.push(tf.reshape(bias, [-1]));
    return tf.concat(parts.map((p) => tf.cast(p, 'float32')));
  });
  const values = packed.dataSync();
  packed.dispose();
  const sampleEnd = 1 + units + rows.length * units;
  return {
    finite: Number.isFinite(values[0]),
    peaks: Float64Array.from(values.subarray(1, 1 + units)),
    rows,
    sample: values.subarray(1 + units, sampleEnd),
    bias: bias ? values.subarray(sampleEnd) : null,
  };
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
  const summary = summarize(node.kernel, bias, units);
  // Diverged weights (NaN/Inf) would all look alike; that is the non-finite verdict's business.
  if (!summary.finite) return null;
  const candidates = candidateGroups(summary, units);
  if (candidates.length === 0) return 0;
  // Only a layer with candidate copies is read whole.
  const needsValues = candidates.some((g) => summary.peaks[g[0]!] !== 0);
  const values = needsValues ? node.kernel.dataSync() : new Float32Array(0);
  let duplicated = 0;
  for (const group of exactGroups(candidates, summary.peaks, values, summary.bias, units)) if (group.length > 1) duplicated += group.length;
  return duplicated / units;
}
