/**
 * How a probe result's gradient flow is read: the layers on the gradient-flow path, their median
 * norm over the steps, and the judgement of that profile. The probe's verdicts, the panel's profile
 * chart (its bands) and its table all read it from here, so a layer drawn inside the vanishing band
 * is a layer the vanishing verdict names.
 */
import { FLOW_PATH_KINDS, judgeFlowProfile, type FlowProfile, type FlowThresholds } from './gradient-flow';
import { median } from './probe-format';

const PATH_KINDS: ReadonlySet<string> = FLOW_PATH_KINDS;

/** The gradient-flow path of a probe result: its weighted layers with measured gradients, in execution order. */
export function flowPathLayers<L extends { kind: string; gradNorm: number[] }>(layers: readonly L[]): L[] {
  return layers.filter((l) => PATH_KINDS.has(l.kind) && l.gradNorm.length > 0);
}

export interface MeasuredFlow<L> extends FlowProfile {
  /** The path layers judged, in order (FlowProfile's indices point into it). */
  path: L[];
  /** Median gradient norm of each path layer over the steps measured. */
  medians: number[];
}

/**
 * The measured profile as the verdicts judge it: the median gradient norm of each path layer over
 * the steps, against the last hidden path layer's. Null with fewer than two path layers.
 */
export function measuredFlow<L extends { kind: string; gradNorm: number[]; output?: boolean }>(layers: readonly L[], thresholds: FlowThresholds): MeasuredFlow<L> | null {
  const path = flowPathLayers(layers);
  const medians = path.map((l) => median(l.gradNorm));
  // Results that mark the heads of several outputs judge against the last layer that is none; others end with their one output layer.
  const marked = path.flatMap((l, i) => (l.output === true ? [i] : []));
  const profile = judgeFlowProfile(medians, thresholds, marked.length > 1 ? new Set(marked) : undefined);
  return profile ? { ...profile, path, medians } : null;
}
