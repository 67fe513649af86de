/**
 * How a probe result's gradient flow is read: the layers on the gradient-flow path, their median
 * norm over the steps, and the judgement of that profile. The probe's verdicts, the panel's profile
 * chart (its bands) and its table all read it from here, so a layer drawn inside the vanishing band
 * is a layer the vanishing verdict names.
 */
import { FLOW_PATH_KINDS, flowMeasure, judgeFlowProfile, type FlowMeasure, type FlowProfile, type FlowThresholds } from './gradient-flow';
import { median } from './probe-format';

const PATH_KINDS: ReadonlySet<string> = FLOW_PATH_KINDS;

/**
 * The gradient-flow path of a probe result: its weighted layers with measured gradients, in execution
 * order, but those no gradient reaches at initialization by design (`gated`), as the prediction leaves them out.
 */
export function flowPathLayers<L extends { kind: string; gradNorm: number[]; gated?: boolean }>(layers: readonly L[]): L[] {
  return layers.filter((l) => PATH_KINDS.has(l.kind) && l.gradNorm.length > 0 && l.gated !== true);
}

export interface MeasuredFlow<L> extends FlowProfile {
  /** The path layers judged, in order (FlowProfile's indices point into it). */
  path: L[];
  /** Median over the steps of each path layer's norm in the profile's measure. */
  medians: number[];
}

/** What a path layer needs for the flow to be read from it. */
type FlowLayer = { kind: string; gradNorm: number[]; weightNorm?: number[]; output?: boolean; scaleFree?: boolean; gated?: boolean };

/** A layer's per-step values in a measure: |∇W|, or |∇W|·|W| at equal weight norm (NaN where the weight norm is missing). */
export function flowSeries(layer: FlowLayer, measure: FlowMeasure): number[] {
  if (measure === 'gradient') return layer.gradNorm;
  return layer.gradNorm.map((g, t) => g * (layer.weightNorm?.[t] ?? Number.NaN));
}

/** The measure the verdicts use for a result's path (flowMeasure over its layers' scaleFree marks). */
export function pathMeasure(path: readonly FlowLayer[]): FlowMeasure {
  const heads = headsOf(path);
  return flowMeasure(path.length, (i) => path[i]!.scaleFree === true, heads ? (i) => heads.has(i) : undefined);
}

/** Results that mark the heads of several outputs judge against the last layer that is none; others end with their one output layer. */
function headsOf(path: readonly FlowLayer[]): Set<number> | undefined {
  const marked = path.flatMap((l, i) => (l.output === true ? [i] : []));
  return marked.length > 1 ? new Set(marked) : undefined;
}

/**
 * The measured profile as the verdicts judge it: the median over the steps of each path layer's norm
 * (in the path's measure, or `measureOverride`), against the last hidden path layer's. Null with fewer
 * than two path layers.
 */
export function measuredFlow<L extends FlowLayer>(layers: readonly L[], thresholds: FlowThresholds, measureOverride?: FlowMeasure): MeasuredFlow<L> | null {
  const path = flowPathLayers(layers);
  const measure = measureOverride ?? pathMeasure(path);
  const medians = path.map((l) => median(flowSeries(l, measure)));
  const profile = judgeFlowProfile(medians, thresholds, headsOf(path), measure);
  return profile ? { ...profile, path, medians } : null;
}
