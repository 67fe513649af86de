/** Python builtins the interpreter evaluates: range/len/zip/enumerate, numbers, isinstance/type, getattr/setattr. */
import type { Node } from '../../python/syntax-tree';
import type { Scope } from '../../python/constants';
import type { Args } from './args';
import { str, truthy } from '../../python/constops';
import { isInstance, typeOf } from './introspect';
import { UNKNOWN, constOf, constant, type Value } from './values';

/** Builtin names the interpreter knows (when the file does not shadow them). */
export const BUILTINS = new Set(['range', 'len', 'list', 'tuple', 'zip', 'enumerate', 'reversed', 'int', 'float', 'str', 'isinstance', 'type', 'getattr', 'setattr', 'hasattr', 'dict', 'sorted', 'min', 'max', 'abs', 'round', 'sum', 'print', 'super', 'bool']);

/** What builtins need from the interpreter. */
export interface BuiltinEnv {
  iterate(value: Value): Value[] | undefined;
  member(obj: Value, name: string): Value;
  /** The core's range / enumerate / zip / reversed / len (python/evaluator.ts). */
  iterationBuiltin(name: string, args: Args): Value | undefined;
}

export function callBuiltin(env: BuiltinEnv, name: string, n: Node, args: Args, scope: Scope): Value {
  const a0 = args.positional[0] ?? UNKNOWN;
  const a1 = args.positional[1] ?? UNKNOWN;
  switch (name) {
    case 'range': {
      const v = scope.iteration(n);
      if (v) return constant(v);
      return env.iterationBuiltin(name, args) ?? UNKNOWN;
    }
    case 'len':
    case 'reversed':
    case 'zip':
    case 'enumerate':
      return env.iterationBuiltin(name, args) ?? UNKNOWN;
    case 'list':
    case 'tuple':
    case 'sorted': {
      if (args.positional.length === 0) return { t: 'list', items: [] };
      const items = env.iterate(a0);
      if (!items) return a0.t === 'opaque' ? a0 : UNKNOWN;
      const list: Value = { t: 'list', items: [...items] };
      if (name !== 'sorted') return list;
      const c = constOf(list);
      return Array.isArray(c) ? constant([...c].sort((x, y) => (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))))) : UNKNOWN;
    }
    case 'int':
    case 'float':
    case 'abs':
    case 'round':
    case 'bool': {
      const c = constOf(a0);
      if (name === 'bool') return c === undefined ? UNKNOWN : constant(!!truthy(c));
      // float('-inf'), float('inf'): the infinities Python spells so.
      const infinity = typeof c === 'string' && name === 'float' ? /^\s*([+-]?)inf(inity)?\s*$/i.exec(c) : null;
      if (infinity) return constant(infinity[1] === '-' ? -Infinity : Infinity);
      if (typeof c === 'string' && (name === 'int' || name === 'float')) return Number.isFinite(Number(c)) ? constant(name === 'int' ? Math.trunc(Number(c)) : Number(c)) : UNKNOWN;
      if (typeof c !== 'number') return UNKNOWN;
      return constant(name === 'int' ? Math.trunc(c) : name === 'abs' ? Math.abs(c) : name === 'round' ? Math.round(c) : c);
    }
    case 'min':
    case 'max':
    case 'sum': {
      const items = args.positional.length === 1 ? env.iterate(a0) : args.positional;
      const nums = items?.map(constOf);
      if (!nums || nums.length === 0 || !nums.every((x): x is number => typeof x === 'number')) return UNKNOWN;
      return constant(name === 'min' ? Math.min(...nums) : name === 'max' ? Math.max(...nums) : nums.reduce((x, y) => x + y, 0));
    }
    case 'str': {
      const c = constOf(a0);
      return c === undefined ? UNKNOWN : constant(str(c));
    }
    case 'isinstance': {
      const r = isInstance(a0, a1);
      return r === undefined ? UNKNOWN : constant(r);
    }
    case 'type':
      return typeOf(a0);
    case 'hasattr': {
      const attr = constOf(a1);
      if (typeof attr !== 'string') return UNKNOWN;
      // A disabled bias is still an attribute (set to None).
      if (env.member(a0, attr).t !== 'unknown') return constant(true);
      return (a0.t === 'layer' && a0.slot.qualified) || a0.t === 'param' ? constant(false) : UNKNOWN;
    }
    case 'getattr': {
      const attr = constOf(a1);
      if (typeof attr !== 'string') return UNKNOWN;
      const v = env.member(a0, attr);
      return v.t === 'unknown' && args.positional[2] ? args.positional[2] : v;
    }
    case 'setattr': {
      const attr = constOf(a1);
      if (a0.t === 'instance' && typeof attr === 'string') a0.inst.attrs.set(attr, args.positional[2] ?? UNKNOWN);
      return constant(null);
    }
    case 'dict': {
      const entries = new Map<string, Value>(args.keywords);
      return { t: 'dict', entries };
    }
    default:
      return UNKNOWN;
  }
}
