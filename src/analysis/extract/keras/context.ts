/** What the argument readers (activations, initializers, layers) need to resolve a written value. */
import type { Scope } from '../../python/constants';
import type { KerasSymbols } from './symbols';

export interface ArgContext {
  symbols: KerasSymbols;
  /** Constant scope at the point of the call (loop variables and flow-sensitive constants included). */
  scope: Scope;
}
