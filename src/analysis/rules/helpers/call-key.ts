/** Layers unrolled from one loop share one constructor call; findings and fixes are per call, not per copy. */
import type { LayerIR, Range } from '../../../shared/ir';

export const rangeKey = (range: Range): string =>
  `${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character}`;

/** The layers grouped by the call that made them, in first-seen order. */
export function groupByCall<T extends LayerIR>(layers: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const layer of layers) {
    const key = rangeKey(layer.range);
    const group = groups.get(key);
    if (group) group.push(layer);
    else groups.set(key, [layer]);
  }
  return [...groups.values()];
}
