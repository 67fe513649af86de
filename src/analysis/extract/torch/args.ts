/** Evaluated call arguments, and how the layer catalog reads them. */
import type { Node } from '../../python/syntax-tree';
import type { CallArgs } from '../../python/evaluator';
import type { ArgReader } from './catalog';
import { UNKNOWN, constOf, type Value } from './values';

/** The argument list node of a call (an argument_list, or a lone generator expression). */
export type ArgList = Node | null;

export type Args = CallArgs<Value>;

/** Constant arguments by position or keyword, for the layer catalog. */
export function argReader(args: Args): ArgReader {
  const pick = (index: number | null, names: string[]): Value | undefined => {
    for (const name of names) {
      const kw = args.keywords.get(name);
      if (kw) return kw;
    }
    if (index === null || index < 0) return undefined;
    if (index >= args.positional.length) return args.partial ? UNKNOWN : undefined;
    return args.positional[index];
  };
  return {
    get: (index, ...names) => constOf(pick(index, names)),
    written: (index, ...names) => pick(index, names) !== undefined,
  };
}
