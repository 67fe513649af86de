/** What the argument readers (activations, initializers, layers) need to resolve a written value. */
import type { Node } from '../../python/syntax-tree';
import type { ConstValue, Scope } from '../../python/constants';
import { evaluateWith } from '../../python/evaluate';
import type { KerasSymbols } from './symbols';

export { evaluateWith };

export interface ArgContext {
  symbols: KerasSymbols;
  /** Constant scope at the point of the call (loop variables and flow-sensitive constants included). */
  scope: Scope;
  /**
   * What the reader knows beyond the scope's constants: the static shape `K.int_shape(x)` gives for a
   * tensor of the graph (see lambda.ts intShape), a module name a function set under `global`.
   */
  known?: (node: Node) => ConstValue | undefined;
}

/** A constant argument value (see evaluateWith), with what the reader knows where the scope does not. */
export function evaluateArg(ctx: ArgContext, node: Node | null | undefined): ConstValue | undefined {
  const known = ctx.known;
  return evaluateWith((n) => {
    const v = ctx.scope.evaluate(n);
    return v === undefined && known ? known(n) : v;
  }, node);
}

/** A numeric argument value (booleans count as 0/1, as Scope.number does). */
export function numberArg(ctx: ArgContext, node: Node | null | undefined): number | undefined {
  const v = evaluateArg(ctx, node);
  return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined;
}
