/**
 * Framework spellings of sliding-window and shape arguments -> the IR's typed values. Both layer
 * catalogs (Keras and PyTorch) read arguments through these, so `2`, `(2, 2)` and `[2, 2]` mean
 * the same everywhere and nothing downstream parses text.
 */
import type { Padding } from '../../shared/ir';
import type { ConstValue } from '../python/constants';

/** An int or a tuple/list of ints -> a list (one entry applies to every dimension); null otherwise. */
export function intList(value: ConstValue | undefined): number[] | null {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v): v is number => typeof v === 'number')) return value;
  return null;
}

/** Like intList, with `None` entries kept as null (a shape). */
export function shapeList(value: ConstValue | undefined): (number | null)[] | null {
  if (typeof value === 'number') return [value];
  if (!Array.isArray(value)) return null;
  const out: (number | null)[] = [];
  for (const v of value) {
    if (typeof v === 'number' || v === null) out.push(v);
    else return null;
  }
  return out;
}

/**
 * A setting that has a default: the default when not written, the normalized value when constant,
 * null when written but not a constant.
 */
export function setting<T>(written: boolean, value: ConstValue | undefined, read: (v: ConstValue | undefined) => T | null, fallback: T): T | null {
  return written ? read(value) : fallback;
}

/** Padding as Keras ('same', 'valid', 'causal') or PyTorch (int, tuple, 'same', 'valid') write it. */
export function paddingValue(value: ConstValue | undefined): Padding | null {
  if (typeof value === 'string') {
    const s = value.toLowerCase();
    return s === 'same' || s === 'valid' || s === 'causal' ? s : null;
  }
  return intList(value);
}

/**
 * Keras ZeroPadding/Cropping amounts -> [before, after] per spatial dimension: `n`, `(a, b)` (1-D:
 * before and after; 2-D/3-D: symmetric per dimension) or `((a, b), (c, d))`.
 */
export function pairsPerDim(value: ConstValue | undefined, dims: number): [number, number][] | null {
  if (typeof value === 'number') return Array.from({ length: dims }, (): [number, number] => [value, value]);
  if (!Array.isArray(value)) return null;
  if (value.every((v): v is number => typeof v === 'number')) {
    if (dims === 1 && value.length === 2) return [[value[0]!, value[1]!]];
    return value.length === dims ? value.map((v): [number, number] => [v, v]) : null;
  }
  if (value.length !== dims) return null;
  const pairs: [number, number][] = [];
  for (const p of value) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') return null;
    pairs.push([p[0], p[1]]);
  }
  return pairs;
}

/** A number written as a constant. A Python bool is an int (True == 1, False == 0): `nn.LeakyReLU(True)` has a negative slope of 1.0. */
export const numberValue = (v: ConstValue | undefined): number | null => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : null);

/** An integer written as a constant (an axis, a count). */
export const integerValue = (v: ConstValue | undefined): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

/** A Python truth value written as a constant: True/False, or 0/1. */
export const boolValue = (v: ConstValue | undefined): boolean | null => (typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : null);
