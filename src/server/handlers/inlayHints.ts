/**
 * Inline hints on each layer line: the output std and weight-gradient ratio the signal-propagation
 * model predicts at initialization, marked as predicted. Layers made in one loop share their line and
 * show the range of their numbers. After a probe, the client hides the hints on the lines the probe
 * annotates with measured values (src/extension/languageClient.ts).
 */
import type { ModelIR, Position, Range } from '../../shared/ir';
import { approxRatio, flowReference } from '../../shared/gradient-flow';
import { formatNumber, modelPrediction, type LayerPrediction } from '../../shared/knowledge/index';
import { flowOutliersClause } from '../../shared/knowledge/flow-outliers';

export interface PredictionHint {
  /** Where the hint goes: the end of the layer's constructor call. */
  position: Position;
  label: string;
  tooltip: string;
}

function inside(range: Range, line: number): boolean {
  return line >= range.start.line && line <= range.end.line;
}

function span(values: number[], format: (v: number) => string): string {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max || format(min) === format(max) ? format(min) : `${format(min)}…${format(max)}`;
}

/** One hint per constructor call with a prediction, within `visible` lines. */
export function predictionHints(models: ModelIR[], visible: Range): PredictionHint[] {
  const hints: PredictionHint[] = [];
  for (const model of models) {
    const prediction = modelPrediction(model);
    if (!prediction.ok) continue;
    const byCall = new Map<string, LayerPrediction[]>();
    for (const layer of prediction.layers) {
      if (!inside(visible, layer.range.end.line)) continue;
      const key = `${layer.range.end.line}:${layer.range.end.character}`;
      byCall.set(key, [...(byCall.get(key) ?? []), layer]);
    }
    const reused = new Set(model.layers.filter((l) => l.sharesWeightsWith !== null).map((l) => l.id));
    for (const layers of byCall.values()) {
      const first = layers[0]!;
      // Later applications of a layer object are the same layer (one set of weights, a summed gradient).
      const distinct = layers.filter((l) => !reused.has(l.layerId)).length;
      const grads = layers.map((l) => l.log10GradRatio).filter((g): g is number => g !== null);
      const std = `σ ${span(layers.map((l) => l.predictedStd), formatNumber)}`;
      const grad = grads.length ? ` · ∇ ${span(grads.map((g) => 10 ** g), (v) => approxRatio(v).replace(/^~/, ''))}` : '';
      const count = distinct === layers.length ? (distinct > 1 ? ` (${distinct} layers)` : '') : distinct > 1 ? ` (${distinct} layers, ${layers.length} applications)` : ` (applied ${layers.length}x)`;
      const shared = distinct < layers.length ? ' Applied more than once with one set of weights: ∇ is the gradient summed over the applications.' : '';
      const flow = prediction.log10FirstLastRatio !== null ? ` Model: the first weighted layer gets ${approxRatio(10 ** prediction.log10FirstLastRatio)} of ${flowReference(prediction.against, prediction.measure)}${flowOutliersClause(prediction)} (${prediction.grade}).` : '';
      hints.push({
        position: first.range.end,
        label: `predicted ${std}${grad}${count}`,
        tooltip: `Predicted at initialization (mean-field signal propagation, standardized inputs): output std (σ) and weight-gradient norm relative to the output layer's (∇).${flow} A probe replaces these with measured values.${shared}`,
      });
    }
  }
  return hints;
}
