/** How probe numbers are written for people (panel, annotations): short, exponent for tiny or huge values. */
export function formatGradNorm(value: number | undefined | null, digits = 3): string {
  if (value === undefined || value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e-2 && abs < 1e4 ? value.toPrecision(digits) : value.toExponential(1);
}
