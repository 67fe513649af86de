/**
 * The model a probe defaults to when a file defines several (CLI and editor alike): the one that is
 * trained (compile/fit, an optimizer over its parameters, a training loop), else the one the file
 * builds outside other models. null when that still leaves a choice.
 */
import type { ModelIR } from './ir';

export function isTrained(model: ModelIR): boolean {
  const t = model.training;
  return t.fit !== null || t.compile !== null || t.optimizer !== null || t.loops.length > 0;
}

export function defaultModel<T>(items: readonly T[], modelOf: (item: T) => ModelIR): T | null {
  if (items.length === 1) return items[0]!;
  const trained = items.filter((i) => isTrained(modelOf(i)));
  if (trained.length === 1) return trained[0]!;
  const pool = trained.length > 1 ? trained : items;
  const built = pool.filter((i) => modelOf(i).instantiated === true);
  return built.length === 1 ? built[0]! : null;
}
