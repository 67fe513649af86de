/**
 * Python operators on constant values as the evaluation core needs them beyond python/constants.ts:
 * comparisons, truthiness, `%` / `.format` string formatting and the string methods that
 * weight-init filters use (`classname.find('Conv') != -1`).
 */
import type { ConstValue } from './constants';
import { LIMITS } from './limits';

/** Python truthiness; undefined when the value is unknown. */
export function truthy(v: ConstValue | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  return v;
}

function equal(a: ConstValue, b: ConstValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]!));
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (typeof b === 'boolean' && typeof a === 'number') return Number(b) === a;
  return a === b;
}

function contains(container: ConstValue, item: ConstValue): boolean | undefined {
  if (typeof container === 'string') return typeof item === 'string' ? container.includes(item) : undefined;
  if (Array.isArray(container)) return container.some((x) => equal(x, item));
  return undefined;
}

/** One comparison operator applied to two constants; undefined when not decidable. */
export function compare(op: string, a: ConstValue | undefined, b: ConstValue | undefined): boolean | undefined {
  if (a === undefined || b === undefined) return undefined;
  switch (op) {
    case '==':
    case 'is':
      return equal(a, b);
    case '!=':
    case 'is not':
      return !equal(a, b);
    case 'in':
      return contains(b, a);
    case 'not in': {
      const c = contains(b, a);
      return c === undefined ? undefined : !c;
    }
  }
  if (typeof a !== 'number' || typeof b !== 'number') {
    if (typeof a === 'string' && typeof b === 'string') {
      if (op === '<') return a < b;
      if (op === '>') return a > b;
      if (op === '<=') return a <= b;
      if (op === '>=') return a >= b;
    }
    return undefined;
  }
  if (op === '<') return a < b;
  if (op === '>') return a > b;
  if (op === '<=') return a <= b;
  if (op === '>=') return a >= b;
  return undefined;
}

function render(v: ConstValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map(render).join(', ')}]`;
  return String(v);
}

/** `'fc%d' % i`, `'%s_%d' % (a, b)`; undefined when the format or arguments are not simple. */
export function percentFormat(format: string, args: ConstValue): string | undefined {
  const values = Array.isArray(args) ? args : [args];
  let i = 0;
  let failed = false;
  const out = format.replace(/%([sdir%])/g, (_, spec: string) => {
    if (spec === '%') return '%';
    const v = values[i++];
    if (v === undefined) {
      failed = true;
      return '';
    }
    return spec === 'd' || spec === 'i' ? (typeof v === 'number' ? String(Math.trunc(v)) : ((failed = true), '')) : render(v);
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set in the replace callback, which control-flow analysis does not follow
  return failed || i !== values.length ? undefined : out;
}

/**
 * `'layer{}'.format(i)`, `'{0}_{1}'.format(a, b)`, `'{name}'.format(name=x)`; simple fields only. An argument that is
 * not a constant (undefined) fails the format only where a field reads it.
 */
export function braceFormat(format: string, positional: readonly (ConstValue | undefined)[], keywords: ReadonlyMap<string, ConstValue | undefined>): string | undefined {
  let next = 0;
  let failed = false;
  const out = format.replace(/\{([^{}:!]*)\}/g, (_, field: string) => {
    const v = field === '' ? positional[next++] : /^\d+$/.test(field) ? positional[Number(field)] : keywords.get(field);
    if (v === undefined) failed = true;
    return v === undefined ? '' : render(v);
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set in the replace callback, which control-flow analysis does not follow
  return failed ? undefined : out;
}

/** `str(v)` for constants. */
export const str = (v: ConstValue): string => render(v);

/** Methods on constant strings used by init filters and name building. */
export function stringMethod(s: string, method: string, args: (ConstValue | undefined)[]): ConstValue | undefined {
  const a = args[0];
  switch (method) {
    case 'find':
      return typeof a === 'string' ? s.indexOf(a) : undefined;
    case 'startswith':
      return typeof a === 'string' ? s.startsWith(a) : Array.isArray(a) ? a.some((x) => typeof x === 'string' && s.startsWith(x)) : undefined;
    case 'endswith':
      return typeof a === 'string' ? s.endsWith(a) : Array.isArray(a) ? a.some((x) => typeof x === 'string' && s.endsWith(x)) : undefined;
    case 'lower':
      return s.toLowerCase();
    case 'upper':
      return s.toUpperCase();
    case 'split':
      return typeof a === 'string' ? s.split(a) : args.length === 0 ? s.split(/\s+/).filter(Boolean) : undefined;
    case 'strip':
      return s.trim();
    default:
      return undefined;
  }
}

export function numericBinary(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    case '//':
      return b === 0 ? undefined : Math.floor(a / b);
    case '%':
      return b === 0 ? undefined : ((a % b) + b) % b;
    case '**':
      return a ** b;
    default:
      return undefined;
  }
}

/** Arithmetic on two constants, plus list concatenation and repetition. */
export function arithmetic(op: string, a: ConstValue | undefined, b: ConstValue | undefined): ConstValue | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (op === '%' && typeof a === 'string') return percentFormat(a, b);
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  // `[0] * 10**6` (a buffer) is not a shape: a repetition longer than a loop may unroll is unknown.
  if (op === '*' && Array.isArray(a) && typeof b === 'number') {
    return b * a.length <= LIMITS.unrolledIterations ? (Array.from({ length: Math.max(0, b) }, () => a).flat() as ConstValue[]) : undefined;
  }
  if (typeof a === 'boolean') a = Number(a);
  if (typeof b === 'boolean') b = Number(b);
  return typeof a === 'number' && typeof b === 'number' ? numericBinary(op, a, b) : undefined;
}
