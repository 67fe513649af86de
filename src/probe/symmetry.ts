/**
 * Unbroken symmetry: units of a layer that are exact copies of each other (same incoming weights and
 * bias). Zero or constant initialization makes every unit of a layer receive the same gradient, so the
 * copies never separate and the layer behaves like a single unit.
 */
import type { ProbeNode } from './layers';

/** Relative tolerance: columns equal up to this fraction of their largest magnitude count as copies. */
const RELATIVE_TOLERANCE = 1e-6;

/** Fraction of units that duplicate another unit of the same layer (0 when there is no duplicate). */
export function duplicateUnitFraction(node: ProbeNode): number | null {
  if (!node.kernel) return null;
  const shape = node.kernel.shape;
  const units = shape[shape.length - 1]!;
  if (units < 2) return null;
  const values = node.kernel.dataSync();
  const bias = node.bias && node.bias.size === units ? node.bias.dataSync() : null;
  const rows = values.length / units;
  // Diverged weights (NaN/Inf) would all look alike; that is the non-finite verdict's business.
  if (!values.every(Number.isFinite) || (bias && !bias.every(Number.isFinite))) return null;
  // Each unit's signature: its largest magnitude (6 significant digits) and its weights relative to
  // it, so copies match whatever their scale and units of very different scale never do.
  const groups = new Map<string, number>();
  for (let unit = 0; unit < units; unit++) {
    const column: number[] = [];
    for (let r = 0; r < rows; r++) column.push(values[r * units + unit]!);
    if (bias) column.push(bias[unit]!);
    // A loop, not Math.max(...column): a Flatten into Dense has columns of a million weights.
    let peak = 0;
    for (const v of column) peak = Math.max(peak, Math.abs(v));
    const key = peak === 0 ? 'zero' : `${peak.toPrecision(6)}:${column.map((v) => Math.round(v / peak / RELATIVE_TOLERANCE)).join(',')}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  let duplicated = 0;
  for (const count of groups.values()) if (count > 1) duplicated += count;
  return duplicated / units;
}
