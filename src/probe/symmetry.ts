/**
 * Unbroken symmetry: units of a layer that are exact copies of each other (same incoming weights and
 * bias). Zero or constant initialization makes every unit of a layer receive the same gradient, so the
 * copies never separate and the layer behaves like a single unit.
 */
import type { ProbeNode } from './layers';

/** Relative tolerance: columns equal up to this fraction of their largest magnitude count as copies. */
const RELATIVE_TOLERANCE = 1e-6;

/**
 * Each unit's column (its incoming weights, then its bias), quantized relative to the column's largest
 * magnitude, so copies match whatever their scale. Read row by row: the kernel is stored [rows, units],
 * and a Flatten into Dense has columns of a million weights.
 */
class Columns {
  readonly peaks: Float64Array;

  constructor(
    private readonly values: Float32Array | Int32Array | Uint8Array,
    private readonly bias: Float32Array | Int32Array | Uint8Array | null,
    readonly units: number,
  ) {
    const peaks = new Float64Array(units);
    for (let i = 0, unit = 0; i < values.length; i++, unit = unit + 1 === units ? 0 : unit + 1) peaks[unit] = Math.max(peaks[unit]!, Math.abs(values[i]!));
    if (bias) for (let unit = 0; unit < units; unit++) peaks[unit] = Math.max(peaks[unit]!, Math.abs(bias[unit]!));
    this.peaks = peaks;
  }

  /**
   * Per unit, the sum of its quantized entries and their sum weighted by a fixed pseudo-random weight
   * per row, so that a fingerprint mixes every entry. Loops, not callbacks: this reads every weight.
   */
  fingerprints(): { sums: Float64Array; mixed: Float64Array } {
    const { values, bias, units, peaks } = this;
    const sums = new Float64Array(units);
    const mixed = new Float64Array(units);
    const rows = values.length / units;
    for (let row = 0; row <= rows; row++) {
      const source = row < rows ? values : bias;
      if (!source) break;
      const offset = row < rows ? row * units : 0;
      const weight = (Math.imul(row + 1, 0x9e3779b1) >>> 0) / 4294967296 + 0.5;
      for (let unit = 0; unit < units; unit++) {
        const peak = peaks[unit]!;
        const q = peak === 0 ? 0 : Math.round(source[offset + unit]! / peak / RELATIVE_TOLERANCE);
        sums[unit] = sums[unit]! + q;
        mixed[unit] = mixed[unit]! + q * weight;
      }
    }
    return { sums, mixed };
  }

  quantized(unit: number, value: number): number {
    const peak = this.peaks[unit]!;
    return peak === 0 ? 0 : Math.round(value / peak / RELATIVE_TOLERANCE);
  }

  /** The quantized column of one unit. */
  column(unit: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < this.values.length / this.units; r++) out.push(this.quantized(unit, this.values[r * this.units + unit]!));
    if (this.bias) out.push(this.quantized(unit, this.bias[unit]!));
    return out;
  }
}

/**
 * Units grouped by an exact comparison of their quantized columns. A fingerprint (peak and two weighted
 * sums of the quantized entries) narrows the candidates; only units with equal fingerprints are compared
 * entry by entry, so a fingerprint collision never counts as a copy.
 */
function copyGroups(columns: Columns): number[][] {
  const { units } = columns;
  const { sums, mixed } = columns.fingerprints();
  const byPrint = new Map<string, number[]>();
  for (let unit = 0; unit < units; unit++) {
    const peak = columns.peaks[unit]!;
    const key = peak === 0 ? 'zero' : `${peak.toPrecision(6)}:${String(sums[unit])}:${String(mixed[unit])}`;
    const group = byPrint.get(key);
    if (group) group.push(unit);
    else byPrint.set(key, [unit]);
  }
  const groups: number[][] = [];
  for (const candidates of byPrint.values()) {
    if (candidates.length < 2) continue;
    const exact: { column: number[]; members: number[] }[] = [];
    for (const unit of candidates) {
      const column = columns.column(unit);
      const same = exact.find((g) => g.column.every((q, i) => q === column[i]));
      if (same) same.members.push(unit);
      else exact.push({ column, members: [unit] });
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
  const values = node.kernel.dataSync();
  const bias = node.bias && node.bias.size === units ? node.bias.dataSync() : null;
  // Diverged weights (NaN/Inf) would all look alike; that is the non-finite verdict's business.
  if (!values.every(Number.isFinite) || (bias && !bias.every(Number.isFinite))) return null;
  let duplicated = 0;
  for (const group of copyGroups(new Columns(values, bias, units))) if (group.length > 1) duplicated += group.length;
  return duplicated / units;
}
