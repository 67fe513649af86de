/**
 * The layers a prediction finds far from the reference gradient beside its first/last ratio (a U-Net's
 * bottleneck below the vanishing threshold while the skips feed its first layer), as every place that
 * quotes the ratio says them: the CLI, the rules' notes, the hover and the inline hints.
 */
import { FLOW_THRESHOLDS } from '../gradient-flow';
import type { LayerPrediction, PropagatedModel } from './propagation';

/** Layers named before the rest are counted. */
const NAMED = 4;

function names(layers: readonly LayerPrediction[]): string {
  const named = layers.slice(0, NAMED).map((l) => `${l.name} (line ${l.range.start.line + 1})`);
  return layers.length > NAMED ? `${named.join(', ')} and ${layers.length - NAMED} more` : named.join(', ');
}

/**
 * "; 2 layers get below 1e-3 of it: conv2d_8 (line 52), conv2d_9 (line 53)": the layers that make the
 * grade what the first/last ratio alone would not; '' when the ratio says it all (a vanishing first
 * layer already says that the layers after it starve).
 */
export function flowOutliersClause(prediction: PropagatedModel): string {
  const ratio = prediction.log10FirstLastRatio === null ? null : 10 ** prediction.log10FirstLastRatio;
  const ratioVanishes = ratio !== null && ratio < FLOW_THRESHOLDS.vanishingRatio;
  const ratioExplodes = ratio !== null && ratio > FLOW_THRESHOLDS.explodingRatio;
  const starved = ratioVanishes ? [] : prediction.vanishingLayers;
  const flooded = ratioExplodes ? [] : prediction.explodingLayers;
  const parts: string[] = [];
  const count = (n: number) => (n === 1 ? '1 layer gets' : `${n} layers get`);
  if (starved.length > 0) parts.push(`${count(starved.length)} below ${FLOW_THRESHOLDS.vanishingRatio.toExponential(0)} of it: ${names(starved)}`);
  if (flooded.length > 0) parts.push(`${count(flooded.length)} above ${FLOW_THRESHOLDS.explodingRatio}x of it: ${names(flooded)}`);
  return parts.map((p) => `; ${p}`).join('');
}
