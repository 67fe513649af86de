/** Layers unrolled from one loop share one constructor call; findings and fixes are per call, not per copy. */
import type { LayerIR, Range } from '../../../shared/ir';
import { sameRange } from '../../../shared/ranges';

export const rangeKey = (range: Range): string =>
  `${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character}`;

/** The layers grouped by the call that made them, in first-seen order. */
export function groupByCall<T extends LayerIR>(layers: readonly T[]): T[][] {
  return groupByLayerCall(layers, (layer) => layer);
}

/**
 * The call that made a layer: where it is shown, and where another file's code writes it (a block built
 * on one line of the model's file makes several layers there, each written on a line of its own).
 */
function callKey(layer: LayerIR): string {
  const written = layer.writtenAt;
  return written ? `${rangeKey(layer.range)}@${written.file}:${rangeKey(written.range)}` : rangeKey(layer.range);
}

/** Items (a layer with what a rule found about it) grouped by the call that made their layer, in first-seen order. */
export function groupByLayerCall<T>(items: readonly T[], layerOf: (item: T) => LayerIR): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = callKey(layerOf(item));
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/**
 * True when no layer outside `chosen` shares a call (or, for activations, the written activation)
 * with a layer in `chosen`. An edit to such shared text would also change the other layer: a reused
 * `self.sigmoid = nn.Sigmoid()` that is also the output activation, or a loop body with other copies.
 */
export function editsStayWithin(all: readonly LayerIR[], chosen: readonly LayerIR[]): boolean {
  // Spans compared, not keyed by their text: asked for every fix, the keys were most of a fix's cost.
  const chosenSet = new Set(chosen);
  return all.every((layer) => chosenSet.has(layer) || !chosen.some((other) => sharesWrittenText(layer, other)));
}

/** Whether two layers share a written call or activation (the spans editsStayWithin compares). */
function sharesWrittenText(a: LayerIR, b: LayerIR): boolean {
  const aActivation = a.activation?.range ?? null;
  const bActivation = b.activation?.range ?? null;
  if (sameRange(a.range, b.range) || (bActivation !== null && sameRange(a.range, bActivation))) return true;
  return aActivation !== null && (sameRange(aActivation, b.range) || (bActivation !== null && sameRange(aActivation, bActivation)));
}

/** True when no layer outside `chosen` is initialized by the same written initializer (a shared `apply` function). */
export function initEditsStayWithin(all: readonly LayerIR[], chosen: readonly LayerIR[]): boolean {
  const keyOf = (layer: LayerIR): string | null => (layer.kernelInit?.range ? rangeKey(layer.kernelInit.range) : null);
  const chosenKeys = new Set(chosen.map(keyOf).filter((k): k is string => k !== null));
  const chosenSet = new Set(chosen);
  return all.every((layer) => chosenSet.has(layer) || !chosenKeys.has(keyOf(layer) ?? ''));
}
