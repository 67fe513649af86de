/**
 * Unbroken symmetry: units of a layer that are exact copies of each other (same incoming weights and
 * bias). Zero or constant initialization makes every unit of a layer receive the same gradient, so the
 * copies never separate and the layer behaves like a single unit.
 */
import type { ProbeNode } from './layers';

/** Relative tolerance: columns equal up to this fraction of the kernel's largest magnitude count as copies. */
const RELATIVE_TOLERANCE = 1e-6;

/** Fraction of units that duplicate another unit of the same layer (0 when there is no duplicate). */
export function duplicateUnitFraction(node: ProbeNode): number | null {
  if (!node.kernel) return null;
  const shape = node.kernel.shape;
  const units = shape[shape.length - 1];
  if (units < 2) return null;
  const values = node.kernel.dataSync();
  const bias = node.bias && node.bias.size === units ? node.bias.dataSync() : null;
  const rows = values.length / units;
  let scale = 0;
  for (const v of values) scale = Math.max(scale, Math.abs(v));
  if (bias) for (const v of bias) scale = Math.max(scale, Math.abs(v));
  const step = scale * RELATIVE_TOLERANCE || 1;
  const groups = new Map<string, number>();
  for (let unit = 0; unit < units; unit++) {
    const key: number[] = [];
    for (let r = 0; r < rows; r++) key.push(Math.round(values[r * units + unit] / step));
    if (bias) key.push(Math.round(bias[unit] / step));
    const signature = key.join(',');
    groups.set(signature, (groups.get(signature) ?? 0) + 1);
  }
  let duplicated = 0;
  for (const count of groups.values()) if (count > 1) duplicated += count;
  return duplicated / units;
}
