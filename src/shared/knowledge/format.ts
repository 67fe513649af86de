/** Small Markdown and number formatting helpers for hovers and messages. */

/** A number with 4 significant digits, without exponent noise for ordinary magnitudes. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1e-4 && abs < 1e6) return String(Number(n.toPrecision(4)));
  return n.toExponential(2);
}

/** A ratio such as "28.0×" or "0.41×". */
export function formatRatio(r: number): string {
  return r >= 10 ? `${r.toFixed(1)}×` : `${Number(r.toPrecision(2))}×`;
}

/** Inline code that survives any text from the analyzed file (backticks and newlines removed). */
export function code(text: string): string {
  const clean = text.replace(/[`\r\n]+/g, ' ').trim();
  return `\`${clean || ' '}\``;
}

