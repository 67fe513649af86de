/**
 * The gradient-flow grades and their thresholds: one definition for the static prediction (lint,
 * hovers, inline hints, the CLI) and the probe's measured verdicts, so the two never disagree about
 * what "vanishing" means.
 *
 * The grade is decided on the ratio of the gradient-weight norm of the first weighted layer to that
 * of the last hidden weighted layer (the layer before the output layer): the output layer's own
 * gradient depends on the loss and the targets, the hidden stack's ratio on the architecture and the
 * initialization only.
 */
import type { LayerIR, LayerKind, ModelIR } from './ir';
import { modelOutputs } from './layers';

/** Layers whose weight gradients make the gradient-flow path (the probe measures each one's norm). */
export const FLOW_PATH_KINDS: ReadonlySet<LayerKind> = new Set<LayerKind>(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose', 'embedding', 'lstm', 'gru', 'simple-rnn']);

/** Whether a layer's weight gradient is on the flow path: a path kind whose weights train (not frozen). */
export function onFlowPath(layer: Pick<LayerIR, 'kind' | 'frozen'>): boolean {
  return FLOW_PATH_KINDS.has(layer.kind) && !layer.frozen;
}

/**
 * The output heads of a model, by layer index: for each output the loss reads (modelOutputs), the last
 * flow-path layer it depends on, whose gradient depends on the loss and the targets (the hidden stack
 * is judged against the last layer that is not a head). `tails`: the layers after a head on the way to
 * its output (an Activation, a Dropout): the loss folds them in with the head's activation.
 */
export function outputHeads(model: Pick<ModelIR, 'layers' | 'isGraph'>): { heads: Set<number>; tails: Set<number> } {
  const { layers } = model;
  const index = new Map(layers.map((l, i) => [l.id, i]));
  const inputsOf = (i: number): number[] => (!model.isGraph ? [i - 1] : layers[i]!.inputs.map((id) => index.get(id) ?? -1));
  const heads = new Set<number>();
  const tails = new Set<number>();
  for (const output of modelOutputs(model)) {
    const ancestors = new Set<number>();
    const stack = [output];
    for (let k = stack.pop(); k !== undefined; k = stack.pop()) {
      if (k < 0 || ancestors.has(k)) continue;
      ancestors.add(k);
      stack.push(...inputsOf(k));
    }
    let head = -1;
    for (const k of ancestors) if (k > head && onFlowPath(layers[k]!)) head = k;
    if (head < 0) continue;
    heads.add(head);
    for (const k of ancestors) if (k > head) tails.add(k);
  }
  return { heads, tails };
}

/**
 * Which of `count` weighted layers (output layer last) the flow is judged against: the last hidden
 * one, the one before the output layer, or, with several outputs, the last that heads none of them.
 */
export function lastHiddenIndex(count: number, isHead: (i: number) => boolean): number {
  let reference = count - 2;
  while (reference > 0 && isHead(reference)) reference--;
  return reference;
}

export type FlowGrade = 'healthy' | 'attenuated' | 'vanishing' | 'exploding';

export interface FlowThresholds {
  /** Vanishing when first/last-hidden gradient-norm ratio is below this (Glorot & Bengio 2010: the first layers barely learn). */
  vanishingRatio: number;
  /** Attenuated (information) when the ratio is below this but not vanishing: the first layers learn an order of magnitude slower. */
  attenuatedRatio: number;
  /** Exploding when the ratio is above this (Pascanu et al. 2013). */
  explodingRatio: number;
}

export const FLOW_THRESHOLDS: FlowThresholds = {
  vanishingRatio: 1e-3,
  attenuatedRatio: 0.1,
  explodingRatio: 70,
};

/** The grade of a first/last-hidden gradient-norm ratio. */
export function gradeFlowRatio(ratio: number, thresholds: FlowThresholds = FLOW_THRESHOLDS): FlowGrade {
  if (!(ratio >= thresholds.vanishingRatio)) return 'vanishing';
  if (ratio > thresholds.explodingRatio) return 'exploding';
  if (ratio < thresholds.attenuatedRatio) return 'attenuated';
  return 'healthy';
}

/** "~3e-7", "~0.3", "~20": a ratio as an order of magnitude, for messages. */
export function approxRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return String(ratio);
  if (ratio === 0) return '0';
  if (ratio >= 1e-3 && ratio < 10) return `~${Number(ratio.toPrecision(1))}`;
  if (ratio >= 10 && ratio < 1e4) return `~${Number(ratio.toPrecision(2))}`;
  const exponent = Math.floor(Math.log10(ratio));
  const mantissa = Math.round(ratio / 10 ** exponent);
  return mantissa >= 10 ? `~1e${exponent + 1}` : mantissa === 1 ? `~1e${exponent}` : `~${mantissa}e${exponent}`;
}

/** The measured (or predicted) gradient-flow profile along the path, judged with the thresholds. */
export interface FlowProfile {
  /** Index (in the path) of the reference layer: the last hidden weighted layer. */
  reference: number;
  /** Norm of the first layer over the reference's. */
  ratio: number;
  grade: FlowGrade;
  /** Path indices before the reference whose norm is below vanishingRatio × the reference's. */
  vanishing: number[];
  /** Path indices before the reference whose norm is above explodingRatio × the reference's. */
  exploding: number[];
}

/**
 * Judges gradient norms along the gradient-flow path (one per weighted layer, output layer last)
 * against the last hidden layer's. `heads`: path indices of output layers (the last one, and each
 * head of a model with several outputs), which are neither the reference nor judged. The probe's
 * verdicts and the panel's bands both come from here, so a layer drawn in a band is a layer the
 * verdict names. Null with fewer than two layers.
 */
export function judgeFlowProfile(norms: readonly number[], thresholds: FlowThresholds = FLOW_THRESHOLDS, heads: ReadonlySet<number> = new Set([norms.length - 1])): FlowProfile | null {
  if (norms.length < 2) return null;
  const reference = lastHiddenIndex(norms.length, (i) => heads.has(i));
  const ref = norms[reference]!;
  const ratio = norms[0]! / ref;
  const before = norms.slice(0, reference).map((n, i) => ({ n, i })).filter(({ i }) => !heads.has(i));
  return {
    reference,
    ratio,
    grade: gradeFlowRatio(ratio, thresholds),
    vanishing: before.filter(({ n }) => !(n >= thresholds.vanishingRatio * ref)).map(({ i }) => i),
    exploding: before.filter(({ n }) => n > thresholds.explodingRatio * ref).map(({ i }) => i),
  };
}

/**
 * The layer a first-to-last gradient ratio is taken against, as messages name it: the last hidden
 * layer, or the output layer when no gradient reaches the hidden layers (PropagatedModel.against).
 */
export function flowReference(against: 'last-hidden' | 'output'): string {
  return against === 'output' ? "the output layer's" : "the last hidden layer's";
}
