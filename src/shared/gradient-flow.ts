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
import type { ActivationName, LayerIR, LayerKind, ModelIR } from './ir';
import { consumersOf, isWeightLayer } from './knowledge/model-walk';
import { isNormalizationKind, modelOutputs } from './layers';
import { startsAtZeroScale } from './knowledge/initializers';
import { mapPacked } from './packed';

/** Layers whose weight gradients make the gradient-flow path (the probe measures each one's norm). */
export const FLOW_PATH_KINDS: ReadonlySet<LayerKind> = new Set<LayerKind>(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose', 'embedding', 'lstm', 'gru', 'simple-rnn']);

/** Whether a layer's weight gradient is on the flow path: a path kind whose weights train (not frozen). */
export function onFlowPath(layer: Pick<LayerIR, 'kind' | 'frozen'>): boolean {
  return FLOW_PATH_KINDS.has(layer.kind) && !layer.frozen;
}

/**
 * The flow-path layers (by index) that no gradient reaches at initialization by design: every path from
 * them to an output passes a normalization whose scale starts at zero (startsAtZeroScale), whose input
 * gradient is then exactly zero. A zero-initialized residual branch starts as nothing and the network as
 * its shortcuts (Goyal et al. 2017); the first step trains γ, and from the second the branch's layers get
 * gradients that grow with it. They are left out of the first/last comparison, as frozen layers are: at
 * initialization their gradient is zero by construction, not vanishing through depth.
 */
export function zeroGatedLayers(model: Pick<ModelIR, 'layers' | 'isGraph'>): Set<number> {
  const { layers } = model;
  const gated = new Set<number>();
  if (!layers.some(startsAtZeroScale)) return gated;
  const outputs = new Set(modelOutputs(model));
  const indexOf = new Map(layers.map((layer, i) => [layer, i]));
  /** Whether a gradient reaches layer i's output at initialization: it is an output, or feeds a layer that passes one. */
  const reached = new Map<number, boolean>();
  const isReached = (i: number): boolean => {
    const known = reached.get(i);
    if (known !== undefined) return known;
    reached.set(i, false);
    const result = outputs.has(i) || consumersOf(layers[i]!, model).some((reader) => !startsAtZeroScale(reader) && isReachedLayer(reader));
    reached.set(i, result);
    return result;
  };
  const isReachedLayer = (layer: LayerIR): boolean => {
    const j = indexOf.get(layer);
    return j === undefined || isReached(j);
  };
  layers.forEach((layer, i) => {
    if (onFlowPath(layer) && !isReached(i)) gated.add(i);
  });
  return gated;
}

/** Why a model has no first/last gradient ratio (frozen layers and zeroGatedLayers do not count). */
export const NO_FLOW_PAIR = 'fewer than two layers whose weights a gradient reaches at initialization';

/** Activations that commute with a positive scale, f(c·z) = c·f(z) for c > 0 (the identity included). */
const POSITIVELY_HOMOGENEOUS: ReadonlySet<ActivationName> = new Set<ActivationName>(['linear', 'relu', 'leaky_relu', 'prelu']);
/** Layers that scale with their input and keep every value in its channel: a per-channel bias before them stays one after them. */
const CHANNELWISE_PASS: ReadonlySet<LayerKind> = new Set<LayerKind>(['dropout', 'maxpool']);
/** Layers that scale with their input (positively homogeneous), without mixing a bias into it. */
const SCALING_PASS: ReadonlySet<LayerKind> = new Set<LayerKind>(['dropout', 'maxpool', 'avgpool', 'global-pool', 'flatten', 'reshape']);

/**
 * The flow-path layers whose weights are scale-free, by index: everything their output reaches before
 * a normalization (BatchNorm, LayerNorm, GroupNorm, using the statistics of the values it normalizes)
 * is positively homogeneous, so scaling the kernel by any c > 0 leaves the loss unchanged. Their
 * gradient is then orthogonal to the kernel and inversely proportional to its norm: the raw norm
 * measures the initializer's scale as much as the architecture, and a large step grows the kernel,
 * which shrinks the next ones (Arora, Li & Lyu 2019). Their gradient is compared at a common weight
 * scale (|∇W|·|W|, flowMeasure). A bias breaks the invariance unless it starts at zero or a BatchNorm
 * removes it (per-channel mean) with only channel-wise steps in between.
 */
export function scaleFreeLayers(model: Pick<ModelIR, 'layers' | 'isGraph'>): Set<number> {
  const { layers } = model;
  const outputs = new Set(modelOutputs(model).map((i) => layers[i]!));
  /** Whether every path from `layer`'s output reaches a normalization through steps that keep the kernel's scale out of the loss. */
  const normalizedAfter = (layer: LayerIR, biasFree: boolean): boolean => {
    const readers = consumersOf(layer, model);
    return (
      !outputs.has(layer) &&
      readers.length > 0 &&
      readers.every((reader) => {
        if (isNormalizationKind(reader.kind)) return biasFree || reader.kind === 'batchnorm';
        if (reader.kind === 'activation') {
          const name = reader.activation?.name ?? 'unknown';
          return (name === 'linear' || (biasFree && POSITIVELY_HOMOGENEOUS.has(name))) && normalizedAfter(reader, biasFree);
        }
        if (reader.kind === 'reshape' && reader.reshape.op !== 'reshape' && reader.reshape.op !== 'view' && reader.reshape.op !== 'permute') return false;
        return (biasFree ? SCALING_PASS : CHANNELWISE_PASS).has(reader.kind) && normalizedAfter(reader, biasFree);
      })
    );
  };
  const free = new Set<number>();
  layers.forEach((layer, i) => {
    // Recurrent kernels feed back through a nonlinearity: only a kernel applied once, linearly, can be scale-free.
    if (!onFlowPath(layer) || !isWeightLayer(layer) || layer.sharesWeightsWith !== null || layer.timeDistributed) return;
    const biasFree = !layer.useBias || layer.biasInit?.name === 'zeros';
    const own = layer.activation?.name ?? 'linear';
    if (own !== 'linear' && (!biasFree || !POSITIVELY_HOMOGENEOUS.has(own))) return;
    if (normalizedAfter(layer, biasFree)) free.add(i);
  });
  return free;
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

/**
 * What a flow profile compares. 'gradient': the weight-gradient norms, |∇W|. 'unit-weight': |∇W|·|W|,
 * the gradient each layer would have with its kernel rescaled to unit norm, used when every layer the
 * profile judges is scale-free (scaleFreeLayers: a ResNet, a BatchNorm MLP), where |∇W| alone follows
 * each initializer's scale (a ResNet-50 reads ~500x raw and ~35x at unit weight norm; a plain 50-layer
 * BatchNorm MLP, whose gradients do explode (Yang et al. 2019), ~1e4 either way). A profile mixing
 * both kinds of layers stays on raw norms: the two measures are not in the same units.
 */
export type FlowMeasure = 'gradient' | 'unit-weight';

/**
 * The measure of a profile over `count` path layers (output layer last): 'unit-weight' when every
 * layer up to the reference (the last hidden one), heads aside, is scale-free.
 */
export function flowMeasure(count: number, scaleFree: (i: number) => boolean, isHead: (i: number) => boolean = (i) => i === count - 1): FlowMeasure {
  if (count < 2) return 'gradient';
  const reference = lastHiddenIndex(count, isHead);
  for (let i = 0; i <= reference; i++) if (!isHead(i) && !scaleFree(i)) return 'gradient';
  return 'unit-weight';
}

/** Why a profile is taken at equal weight norm, for messages that explain it. */
export const UNIT_WEIGHT_WHY = "every layer compared feeds a normalization, which makes its weights' scale arbitrary";

/** How messages qualify a ratio in a measure: nothing for raw norms. */
export function measureQualifier(measure: FlowMeasure): string {
  return measure === 'gradient' ? '' : ' at equal weight norm';
}

/** The measured (or predicted) gradient-flow profile along the path, judged with the thresholds. */
export interface FlowProfile {
  /** What the norms judged are (FlowMeasure). */
  measure: FlowMeasure;
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
 * Judges gradient norms (in `measure`) along the gradient-flow path (one per weighted layer, output
 * layer last) against the last hidden layer's. `heads`: path indices of output layers (the last one, and each
 * head of a model with several outputs), which are neither the reference nor judged. The probe's
 * verdicts and the panel's bands both come from here, so a layer drawn in a band is a layer the
 * verdict names. Null with fewer than two layers.
 */
export function judgeFlowProfile(norms: readonly number[], thresholds: FlowThresholds = FLOW_THRESHOLDS, heads: ReadonlySet<number> = new Set([norms.length - 1]), measure: FlowMeasure = 'gradient'): FlowProfile | null {
  if (norms.length < 2) return null;
  const reference = lastHiddenIndex(norms.length, (i) => heads.has(i));
  const ref = norms[reference]!;
  const ratio = norms[0]! / ref;
  const before = mapPacked(norms.slice(0, reference), (n, i) => ({ n, i })).filter(({ i }) => !heads.has(i));
  return {
    measure,
    reference,
    ratio,
    grade: gradeFlowRatio(ratio, thresholds),
    vanishing: mapPacked(before.filter(({ n }) => !(n >= thresholds.vanishingRatio * ref)), ({ i }) => i),
    exploding: mapPacked(before.filter(({ n }) => n > thresholds.explodingRatio * ref), ({ i }) => i),
  };
}

/**
 * The gradient a first-to-last ratio is taken against, as messages name it: the last hidden layer's,
 * or the output layer's when no gradient reaches the hidden layers (PropagatedModel.against), and at
 * equal weight norm when the measure says so.
 */
export function flowReference(against: 'last-hidden' | 'output', measure: FlowMeasure = 'gradient'): string {
  return `${against === 'output' ? "the output layer's" : "the last hidden layer's"} gradient${measureQualifier(measure)}`;
}
