/**
 * torch.einsum equations, read once for the shape module and the probe: each operand's index letters,
 * the output's, and the roles of the letters (kept on both sides, summed, kept from one side only).
 * torch's rules: letters a-z and A-Z, spaces ignored, `->` optional (without it the output is every
 * letter used once, in alphabetical order), a letter repeated within one operand is a diagonal and
 * `...` broadcasts leading axes; neither of the last two is read here (null).
 */

export interface Einsum {
  /** Index letters of each operand, one per axis. */
  inputs: string[][];
  output: string[];
}

/** The equation read for operands of these ranks (the batch axis counted); null when it does not fit them or uses what is not read. */
export function parseEinsum(equation: string, ranks: readonly number[]): Einsum | null {
  const text = equation.replace(/\s+/g, '');
  if (text.includes('.')) return null;
  const [left, right] = text.split('->') as [string, string | undefined];
  if (text.split('->').length > 2) return null;
  const inputs = left.split(',').map((term) => [...term]);
  if (inputs.length !== ranks.length || inputs.some((term, i) => term.length !== ranks[i])) return null;
  const letter = /^[a-zA-Z]$/;
  if (inputs.some((term) => term.some((c) => !letter.test(c)) || new Set(term).size !== term.length)) return null;
  const counts = new Map<string, number>();
  for (const c of inputs.flat()) counts.set(c, (counts.get(c) ?? 0) + 1);
  const output = right === undefined ? [...counts.keys()].filter((c) => counts.get(c) === 1).sort() : [...right];
  if (output.some((c) => !counts.has(c)) || new Set(output).size !== output.length) return null;
  return { inputs, output };
}

/** The output's sizes from the operands' (null where unknown); null when a letter's sizes disagree (a side of 1 broadcasts). */
export function einsumOutput(einsum: Einsum, shapes: readonly (readonly (number | null)[])[]): (number | null)[] | null {
  const sizes = new Map<string, number | null>();
  for (const [k, term] of einsum.inputs.entries()) {
    for (const [axis, c] of term.entries()) {
      const d = shapes[k]?.[axis] ?? null;
      const seen = sizes.get(c);
      if (seen === undefined || seen === null || seen === 1) sizes.set(c, d === null && seen !== undefined ? seen : d);
      else if (d !== null && d !== 1 && d !== seen) return null;
    }
  }
  return einsum.output.map((c) => sizes.get(c) ?? null);
}

/**
 * How many products each entry sums, for operands of these shapes: `inner`, the terms of one output entry
 * (the sizes of the letters summed away); `fans[k]`, the output entries one entry of operand k reaches,
 * whose gradients it sums (the output's letters it lacks, and those it broadcasts from a side of 1).
 * Null where a size is unknown.
 */
export function einsumCounts(einsum: Einsum, shapes: readonly (readonly (number | null)[])[]): { inner: number; fans: number[] } | null {
  const sizeIn = (k: number, c: string): number | null => {
    const axis = einsum.inputs[k]?.indexOf(c) ?? -1;
    return axis < 0 ? 1 : (shapes[k]?.[axis] ?? null);
  };
  const size = (c: string): number | null => {
    const sides = einsum.inputs.map((_, k) => sizeIn(k, c));
    return sides.includes(null) ? null : Math.max(...(sides as number[]));
  };
  const letters = [...new Set(einsum.inputs.flat())];
  let inner = 1;
  for (const c of letters.filter((c) => !einsum.output.includes(c))) {
    const d = size(c);
    if (d === null) return null;
    inner *= d;
  }
  const fans: number[] = [];
  for (const k of einsum.inputs.keys()) {
    let fan = 1;
    for (const c of einsum.output) {
      const [d, own] = [size(c), sizeIn(k, c)];
      if (d === null || own === null || own <= 0) return null;
      fan *= d / own;
    }
    fans.push(fan);
  }
  return { inner, fans };
}
