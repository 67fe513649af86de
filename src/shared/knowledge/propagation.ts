/**
 * Signal propagation at initialization, from the IR alone: the mean-field recursions of Poole et
 * al. 2016 and Schoenholz et al. 2017 over the model's layers.
 *
 * Forward, per layer: the mean and second moment q of its output per element. A weighted layer's
 * pre-activation has variance n·E[w²]·q_in + E[b²], n the inputs it sums: its fan_in (which includes the
 * kernel's receptive field) but for a convolution's taps that read padding (a 3 x 3 kernel padded by 1
 * on a 2 x 2 map sums 4 taps per channel, not 9; the map is the one the probe plans); its activation's
 * Gaussian moments come from Gauss-Hermite quadrature with each framework's constants. Normalization
 * resets q to var/(var + eps), residual merges add variances, dropout scales by 1/(1−p), an embedding
 * sets q from its initializer, recurrent layers run their cell over the sequence.
 *
 * Channels: the weights are random over the ensemble but fixed in a network, so a channel's output
 * varies over examples and positions only by fan_in·E[w²]·(its input's within-channel variance);
 * the rest of q is the spread of channel means (a post-ReLU input's mean times each channel's weight
 * sum, plus its bias). The model tracks that within-channel variance (dataVar) beside q, with channel
 * means Gaussian across channels and independent positions. BatchNorm removes the channel means and
 * divides by dataVar (LayerNorm and GroupNorm normalize per example, by the whole variance).
 *
 * Backward, in totals per example (summed over positions, so shapes cancel), from each output's loss
 * (a head's total, shared/losses.ts, when the model has several): the squared gradient G on a layer's
 * output; across a weighted layer G_in = n·E[w²]·E[φ'(z)²]·G_out (chi, the backward gain), and across
 * BatchNorm G_in = G_out / (dataVar_in + eps). A weight-gradient norm² is G_pre·(n·q_in + 1 for the
 * bias), the per-position terms x·δ taken as independent; when BatchNorm reads the layer's linear
 * output, δ sums to zero per channel, so the input's mean drops out: G_pre·n·dataVar_in, and the bias
 * gets nothing (a strided transposed convolution's weight reads one class of positions, whose sums keep
 * 1 − 1/stride^rank of the mean). Ratios of those norms are what the probe
 * measures at its first step. One correlation is modelled: the share of a gradient that is the same at
 * every position of a channel (what a global average pool sends back; sums, convolutions and average
 * pools keep it, an activation keeps E[φ']²/E[φ'²] of it, a max pool 1/k, dropout its keep rate). It
 * sums coherently over the positions each weight reads, so the input's channel means and the bias count
 * once more per position (the convolutions before a CNN's pooled head), and into a gate broadcast over
 * those positions (squeeze-and-excitation before the head's pool). Not modelled: correlations between
 * neighbouring positions otherwise and BatchNorm's projection of its gradient (a loss of 2 of the
 * batch·positions directions, small except for tiny batches of vectors).
 */
import type { ActivationIR, Framework, InitializerIR, InputShapeGuess, Layout, LayerIR, LayerKind, LayerOf, ModelIR, Range, ReshapeConfig } from '../ir';
import { FLOW_THRESHOLDS, flowMeasure, judgeFlowProfile, lastHiddenIndex, onFlowPath, gradeFlowRatio, outputHeads, scaleFreeLayers, zeroGatedLayers, type FlowGrade, type FlowMeasure } from '../gradient-flow';
import { activationMoments, gaussianExpectation, maximumMoments, scalarActivation, SIGMOID, TANH, type ActivationMoments, type ScalarActivation } from './activation-functions';
import { affineMoments, initializerStats } from './initializers';
import { convOf, copyLayer, CopiesMade, firstComputing, isConvKind, isNormalizationKind, isPoolKind, isRecurrent, isRecurrentKind, layerLabel, layerWith, modelOutputs, normEpsilon, readsSteps } from '../layers';
import { attentionFans, backboneOutput, convolutionTaps, matmulCounts, perDim, propagateShapes, readChannelsLast, readerKind, readerOf, returnsSequences, sizeScaleFactor, spatialSides, type Shape } from '../shapes';
import { BACKBONE_FEATURE_MEAN, BACKBONE_FEATURE_SECOND_MOMENT, backboneNotModelled, frozenBackboneNote } from '../backbone';
import { DEFAULT_IMAGE_SIDE, DEFAULT_SEQUENCE_LENGTH, representativeUnits } from '../input-defaults';
import { mapPacked } from '../packed';
import { headGradientSquare, PROBABILITY_CLIP, readsValuesAsProbabilities, resolveLosses } from '../losses';

export interface LayerPrediction {
  layerId: string;
  name: string;
  kind: LayerKind;
  range: Range;
  /** Predicted std of the layer's output over examples and elements in one network (see observedVariance). */
  predictedStd: number;
  /** Predicted mean of the output per element. */
  predictedMean: number;
  /** Second moment of the output per element (q). */
  q: number;
  /** Second moment of the (first) input per element. */
  qIn: number;
  /**
   * Backward gain across the layer: the factor by which the squared gradient changes from its output
   * to its input (chi); null for layers that do not change it or end the backward pass.
   */
  chi: number | null;
  /** Whether the layer has weights the probe measures (Dense, conv, embedding, recurrent). */
  weighted: boolean;
  /** log10 of this layer's weight-gradient norm over the last (output) weighted layer's; null for weightless layers. */
  log10GradRatio: number | null;
}

export interface PropagatedModel {
  ok: true;
  layers: LayerPrediction[];
  /**
   * Weighted layers compared: the first one and the last hidden one (null when the model has fewer
   * than two). When no gradient reaches the hidden layers at all (a zero kernel after them, GL201),
   * `lastHidden` is the output layer and `against` says so: a ratio of two zeros would read healthy.
   */
  first: LayerPrediction | null;
  lastHidden: LayerPrediction | null;
  against: 'last-hidden' | 'output';
  /** log10(gradient norm of the first weighted layer / that of the `against` layer); null with fewer than two weighted layers. */
  log10FirstLastRatio: number | null;
  /** What the ratio compares: raw gradient norms, or at equal weight norm when every layer judged is scale-free (FlowMeasure). */
  measure: FlowMeasure;
  /**
   * The grade, judged as the probe's verdicts judge its measurement (judgeFlowProfile): the ratio's grade,
   * except 'vanishing' when any layer on the path gets below the vanishing threshold of the reference's
   * gradient (a U-Net's bottleneck, while its first layer is fed through the skips) and 'exploding' when
   * any gets above the exploding threshold; null when there is no ratio.
   */
  grade: FlowGrade | null;
  /** Layers before the reference whose gradient is below the vanishing threshold of its (the probe's "barely learn"), the first one included. */
  vanishingLayers: LayerPrediction[];
  /** Layers before the reference whose gradient is above the exploding threshold of its. */
  explodingLayers: LayerPrediction[];
  /** Assumptions the prediction rests on (sequence length, image size), for messages. */
  assumptions: string[];
}

export interface UnpropagatedModel {
  ok: false;
  /** Why the model cannot be propagated, naming the layer. */
  reason: string;
  layerId: string | null;
}

export type ModelPrediction = PropagatedModel | UnpropagatedModel;

const WEIGHT_KINDS: ReadonlySet<LayerKind> = new Set(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose']);

/** Smallest squared norm kept, so that a zero gradient gives a finite (very negative) log10. */
const TINY = 1e-200;

class Unpropagatable extends Error {
  constructor(
    message: string,
    readonly layer: LayerIR | null,
  ) {
    super(message);
  }
}

// ---- reading the IR (small accessors, so the typed IR fields slot in here) --------------------------

/** Product of a per-dimension list (one entry applies to every dimension) over `rank` dimensions. */
function sizeProduct(values: number[] | null, rank: number): number | null {
  const list = perDim(values, rank);
  return list ? list.reduce((a, b) => a * b, 1) : null;
}

/** The spatial dimensions a convolution slides over: a transposed one's (one IR kind for every rank) from its kernel. */
function spatialRank(layer: Pick<LayerIR, 'kind' | 'kernelSize'>): number {
  if (layer.kind === 'conv-transpose') return layer.kernelSize?.length || 2;
  return layer.kind === 'conv1d' ? 1 : layer.kind === 'conv3d' ? 3 : 2;
}


/**
 * The dimensions a pooling window slides over: as the layer's name says (MaxPooling1D, nn.AvgPool3d,
 * F.max_pool2d), else as many as its window lists, else guessed from the count of positions (a square
 * map: 2; a Conv1D's 20 steps read as 2 would pool 4 where MaxPooling1D pools 2).
 */
function poolRank(layer: LayerIR, positions: number): number {
  const named = /([123])d$/i.exec(layer.className);
  if (named) return Number(named[1]);
  if (layer.kernelSize && layer.kernelSize.length > 1) return layer.kernelSize.length;
  const guessed = positions > 1 ? Math.max(1, Math.round(Math.log(positions) / Math.log(Math.max(2, Math.round(Math.sqrt(positions)))))) : 1;
  return Math.min(guessed, 2);
}

function shortLabel(layer: LayerIR): string {
  return `${layer.name || layer.className} (line ${layer.range.start.line + 1})`;
}

// ---- the signal between layers --------------------------------------------------------------------

interface Signal {
  /** Mean per element. */
  mean: number;
  /** Second moment per element. */
  q: number;
  /** Size of the last (feature) axis when known. */
  features: number | null;
  /** Positions (time steps or pixels) per example; 1 for a flat vector. */
  positions: number;
  /**
   * Variance within a channel (over examples and positions, the weights fixed), averaged over channels.
   * The rest of variance(s) is the spread of the channel means that fixed weights and biases give each
   * channel. BatchNorm divides by this one, and removes the channel means.
   */
  dataVar: number;
  /** When the signal is φ(z) with z Gaussian: the activation and z's moments (max pooling needs them). */
  source: { act: ScalarActivation; zMean: number; zVar: number; zDataVar: number } | null;
}

function variance(s: Signal): number {
  return Math.max(s.q - s.mean * s.mean, 0);
}

/**
 * The variance one network shows over a batch's values (what the probe measures, and what a user sees):
 * the within-channel variance, and of the spread of channel means what C channels show of it, (C − 1)/C.
 * A single-unit output shows none: its bias is one constant, however it was drawn.
 */
function observedVariance(s: Signal): number {
  const spread = Math.max(variance(s) - s.dataVar, 0);
  return Math.min(s.dataVar, variance(s)) + (s.features !== null && s.features >= 1 ? spread * (1 - 1 / s.features) : spread);
}

/** Variance of the channel means (what a channel's fixed weights and bias make of the input's mean). */
function channelSpread(zVar: number, zDataVar: number): number {
  return zVar - zDataVar > 1e-9 * zVar ? zVar - zDataVar : 0;
}

/**
 * Moments of a per-channel statistic when channel means c ~ N(mean, spread) and `within(c)` gives the
 * first two moments inside a channel: the ensemble mean and second moment, and the within-channel variance.
 */
function overChannels(mean: number, spread: number, within: (c: number) => { mean: number; second: number }): { mean: number; q: number; dataVar: number } {
  if (spread === 0) {
    const m = within(mean);
    return { mean: m.mean, q: m.second, dataVar: Math.max(m.second - m.mean * m.mean, 0) };
  }
  // The three expectations share their nodes: each channel's moments are computed once.
  const seen = new Map<number, { mean: number; second: number }>();
  const at = (c: number) => {
    let m = seen.get(c);
    if (!m) {
      m = within(c);
      seen.set(c, m);
    }
    return m;
  };
  const m1 = gaussianExpectation((c) => at(c).mean, mean, spread);
  const q = gaussianExpectation((c) => at(c).second, mean, spread);
  const meanSq = gaussianExpectation((c) => at(c).mean ** 2, mean, spread);
  return { mean: m1, q, dataVar: Math.max(q - meanSq, 0) };
}

interface Weights {
  /** E[w²] and E[w] of the kernel. */
  w2: number;
  wMean: number;
  /** E[b²] and E[b]; 0 without a bias. */
  b2: number;
  bMean: number;
}

function initMoments(init: InitializerIR | null, fanIn: number | null, fanOut: number | null, layer: LayerIR, what: string): { second: number; mean: number } {
  if (!init) throw new Unpropagatable(`the ${what} initializer of ${layerLabel(layer)} is not known`, layer);
  if (init.name === 'identity') return { second: fanIn ? 1 / fanIn : 0, mean: 0 };
  const stats = initializerStats(init, fanIn, fanOut);
  if (stats.rms === null || stats.mean === null) throw new Unpropagatable(`the ${what} scale of ${layerLabel(layer)} (${init.spelling}) is not a constant`, layer);
  return { second: stats.rms * stats.rms, mean: stats.mean };
}

function biasMoments(layer: LayerIR, fanIn: number | null, copies = 1): { b2: number; bMean: number } {
  if (!layer.useBias || !layer.biasInit) return { b2: 0, bMean: 0 };
  const stats = initializerStats(layer.biasInit, fanIn, layer.fanOut);
  if (stats.rms === null) return { b2: 0, bMean: 0 };
  return { b2: copies * stats.rms * stats.rms, bMean: copies * (stats.mean ?? 0) };
}

/** fan_in as the IR knows it, else from the incoming signal's features (a Dense after a Flatten). */
function fanInOf(layer: LayerIR, x: Signal): number | null {
  if (layer.fanIn) return layer.fanIn;
  if (x.features === null) return null;
  if (layer.kind === 'dense') return x.features;
  const kernel = layer.kernelSize?.reduce((a, b) => a * b, 1);
  return kernel ? kernel * x.features : null;
}

/**
 * How many weighted inputs one output value sums: per input channel, the taps that land on data
 * (convolutionTaps), not the kernel's fan_in, which its initializer is scaled by. A padded convolution
 * on a small map reads zeros at its border taps (a 3 x 3 kernel on a 2 x 2 map: 4 of 9); a transposed
 * one reads its input at the taps that land on each output (kernel/stride on a large map, one on a 1 x 1
 * map), while both frameworks compute its fan_in from its output channels. That count sets the variance
 * forward, the gain backward and the inputs each weight-gradient entry sums over.
 */
function termsPerOutput(layer: LayerIR, x: Signal, fanIn: number, taps: number | null): number {
  if (!isConvKind(layer.kind) || taps === null) return fanIn;
  // A plain convolution's fan_in is its input channels times its receptive field: the share of it that lands.
  const receptive = sizeProduct(layer.kernelSize, spatialRank(layer));
  if (layer.kind !== 'conv-transpose') return receptive ? (fanIn * taps) / receptive : fanIn;
  const inputs = x.features ?? layer.inFeatures;
  return inputs === null ? fanIn : (inputs / (convOf(layer)?.groups ?? 1)) * taps;
}

/**
 * A convolution on the map it reads (convolutionTaps): the positions of its output signal and the taps
 * each output sums per input channel. A plain one reads the map the probe plans for its input (`sides`);
 * unplanned (a view the plan cannot follow leaves a feature map one position in the signal), the
 * large-map limit: every tap, at each stride-th position. A transposed one reads a square map of the
 * signal's positions (its taps per output depend on the map far more than a plain one's: one on DCGAN's
 * 1 x 1 noise). The signal's count of positions is of independent ones (an upsampling keeps it: its
 * copies are not), so the output keeps the count scaled as the map is. Where its settings leave that
 * unknown, the large-map limit: a transposed one sums kernel/stride taps per output at stride times the positions.
 */
function convolutionOn(layer: LayerIR, x: Signal, sides: number[] | null): { outputs: number; taps: number | null } {
  const rank = spatialRank(layer);
  const transposed = layer.kind === 'conv-transpose';
  const map = transposed ? Array.from({ length: rank }, () => squareSide(x.positions, rank)) : sides;
  const exact = map ? convolutionTaps(layer, map) : null;
  if (map && exact) return { outputs: transposed ? exact.outputs : (x.positions * exact.outputs) / map.reduce((n, d) => n * d, 1), taps: exact.taps };
  const stride = sizeProduct(convOf(layer)?.strides ?? null, rank) ?? 1;
  const receptive = sizeProduct(layer.kernelSize, rank);
  if (!transposed) return { outputs: Math.max(1, x.positions / stride), taps: receptive };
  return { outputs: x.positions * stride, taps: receptive === null ? null : receptive / stride };
}

/** 1 − 1/stride^rank for a strided transposed convolution (the share of its channel-mean terms that differ between its classes of output positions), else 0. */
function strideClassShare(layer: LayerIR): number {
  if (layer.kind !== 'conv-transpose') return 0;
  const classes = sizeProduct(convOf(layer)?.strides ?? null, spatialRank(layer)) ?? 1;
  return classes > 1 ? 1 - 1 / classes : 0;
}

/** The side of a square (cubic) map of `positions` over `rank` dimensions. */
function squareSide(positions: number, rank: number): number {
  return Math.max(1, Math.round(positions ** (1 / rank)));
}

/** `taps`: a convolution's taps per output (see convolutionOn); null for other layers. */
function kernelWeights(layer: LayerIR, x: Signal, taps: number | null): Weights & { fanIn: number; terms: number } {
  const fanIn = fanInOf(layer, x);
  if (!fanIn || fanIn <= 0) throw new Unpropagatable(`the fan_in of ${layerLabel(layer)} is not known`, layer);
  const fanOut = layer.fanOut ?? (layer.kind === 'dense' ? layer.units : null);
  const { second, mean } = initMoments(layer.kernelInit, fanIn, fanOut, layer, 'kernel');
  return { fanIn, terms: termsPerOutput(layer, x, fanIn, taps), w2: second, wMean: mean, ...biasMoments(layer, fanIn) };
}

/** Activations over the features, not per value. */
type FeatureActivation = 'softmax' | 'log_softmax';

function activationOf(act: ActivationIR | null, framework: Framework, layer: LayerIR): ScalarActivation | FeatureActivation | null {
  if (!act || act.name === 'linear') return null;
  if (act.name === 'softmax' || act.name === 'log_softmax') return act.name;
  const fn = scalarActivation(act, framework);
  if (!fn) throw new Unpropagatable(`the activation ${act.spelling} of ${layerLabel(layer)} is not known`, layer);
  return fn;
}

/**
 * The moments `activate` needs, kept per activation and Gaussian: a model repeats its blocks, and a file
 * its models, with the same pre-activations, and the integral over channel means (nodes x nodes
 * evaluations of the activation) was most of the prediction's time on a model-dense file.
 */
const activatedCache = new WeakMap<ScalarActivation, Map<string, { m: ActivationMoments; dataVar: number }>>();
/** Gaussians kept per activation (the values differ with every layer width and initializer). */
const MAX_ACTIVATED_PER_ACTIVATION = 4096;

function activatedMoments(act: ScalarActivation, zMean: number, zVar: number, zDataVar: number): { m: ActivationMoments; dataVar: number } {
  let cache = activatedCache.get(act);
  if (!cache) activatedCache.set(act, (cache = new Map<string, { m: ActivationMoments; dataVar: number }>()));
  const key = `${String(zMean)},${String(zVar)},${String(zDataVar)}`;
  let moments = cache.get(key);
  if (!moments) {
    const m = activationMoments(act, zMean, zVar);
    const spread = channelSpread(zVar, zDataVar);
    const dataVar = spread === 0 ? Math.max(m.second - m.mean * m.mean, 0) : overChannels(zMean, spread, (c) => activationMoments(act, c, zDataVar)).dataVar;
    if (cache.size >= MAX_ACTIVATED_PER_ACTIVATION) cache.clear();
    cache.set(key, (moments = { m, dataVar }));
  }
  return moments;
}

/**
 * Applies an activation to a Gaussian pre-activation N(mean, var) of which `zDataVar` is within-channel
 * variance: output signal, E[φ'²], and the coherence E[φ']² / E[φ'²] of a gradient uniform over the
 * positions after passing φ' (a ReLU's mask keeps half its mean: 1/2; softmaxes mix the features: 0).
 */
function activate(act: ScalarActivation | FeatureActivation | null, zMean: number, zVar: number, zDataVar: number, features: number | null, positions: number): { out: Signal; slope: number; coherence: number } {
  if (act === null) return { out: { mean: zMean, q: zVar + zMean * zMean, dataVar: zDataVar, features, positions, source: null }, slope: 1, coherence: 1 };
  if (act === 'softmax') {
    // n roughly equal logits: p_i ≈ e^(z_i − v/2) / n, so E[p²] ≈ e^v / n² and ∂p_i/∂z_i ≈ p_i.
    // Once one logit dominates, p is nearly one-hot: E[p²] → 1/n.
    const n = Math.max(features ?? 2, 2);
    const second = Math.min(Math.exp(Math.min(zVar, 50)) / (n * n), 1 / n);
    const q = Math.max(second, 1 / (n * n));
    return { out: { mean: 1 / n, q, dataVar: q - 1 / (n * n), features, positions, source: null }, slope: second, coherence: 0 };
  }
  if (act === 'log_softmax') {
    // z − logsumexp(z) over n logits N(μ, v): logsumexp ≈ μ + log n + v/2 while no logit dominates, and
    // ≈ μ + σ·sqrt(2 log n) (the largest) once one does; the spread stays z's, and ∂/∂z_i = 1 − p_i ≈ 1.
    const n = Math.max(features ?? 2, 2);
    const mean = -Math.max(Math.log(n) + zVar / 2, Math.sqrt(zVar * 2 * Math.log(n)));
    return { out: { mean, q: mean * mean + zVar, dataVar: zDataVar, features, positions, source: null }, slope: 1 - 1 / n, coherence: 0 };
  }
  const { m, dataVar } = activatedMoments(act, zMean, zVar, zDataVar);
  return { out: { mean: m.mean, q: m.second, dataVar, features, positions, source: { act, zMean, zVar, zDataVar } }, slope: m.slope, coherence: m.slope > 0 ? (m.meanSlope * m.meanSlope) / m.slope : 0 };
}

/** Max of k i.i.d. copies of the signal: moments by the order-statistic density k·F^(k−1)·f. */
/**
 * Max of k i.i.d. copies of the signal within a channel: moments by the order-statistic density
 * k·F^(k−1)·f, over the channel means when fixed weights spread them.
 */
function maxOf(signal: Signal, k: number): Signal {
  if (k <= 1) return signal;
  const src = signal.source ?? { act: { f: (x: number) => x, df: () => 1 }, zMean: signal.mean, zVar: variance(signal), zDataVar: signal.dataVar };
  const spread = channelSpread(src.zVar, src.zDataVar);
  const innerVar = spread === 0 ? src.zVar : src.zDataVar;
  const sd = Math.sqrt(innerVar);
  if (!(sd > 0)) return signal;
  const within = (c: number) => maximumMoments((z) => src.act.f(z), k, c, innerVar);
  const m = overChannels(src.zMean, spread, within);
  return { ...signal, mean: m.mean, q: Math.max(m.q, m.mean * m.mean), dataVar: m.dataVar, source: null };
}

/** Mean of k independent positions of a channel: the within-channel variance shrinks, the channel means stay. */
function averageOf(signal: Signal, k: number): Signal {
  const dataVar = signal.dataVar / Math.max(k, 1);
  const spread = channelSpread(variance(signal), signal.dataVar);
  return { ...signal, q: signal.mean * signal.mean + spread + dataVar, dataVar, source: null };
}

// ---- recurrent cells ------------------------------------------------------------------------------

interface RecurrentRun {
  out: Signal;
  /** Backward: G_out total → weight-gradient norm² of the layer, G_in total and the total reaching the initial state (h_0, c_0). */
  backward(gOut: number): { normSq: number; gIn: number; gState: number };
}

/**
 * One recurrent layer (one direction, one stacked layer) over `steps` time steps, from an initial state
 * whose second moments are `start` (zero when the code passes none). Keras' LSTM adds 1 to the forget
 * gate's bias (unit_forget_bias); PyTorch has two bias vectors.
 */
function runRecurrent(layer: LayerIR, framework: Framework, inputQ: number, inputFeatures: number, steps: number, lastStepOnly: boolean, start: { h: number; c: number }): RecurrentRun {
  const units = layer.units;
  if (!units || units <= 0) throw new Unpropagatable(`the hidden size of ${layerLabel(layer)} is not known`, layer);
  const gates = layer.kind === 'lstm' ? 4 : layer.kind === 'gru' ? 3 : 1;
  const kernel = initMoments(layer.kernelInit, inputFeatures, gates * units, layer, 'kernel');
  const recurrent = layer.recurrentInit ? initMoments(layer.recurrentInit, units, gates * units, layer, 'recurrent kernel') : kernel;
  const torch = framework === 'torch';
  const { b2 } = biasMoments(layer, units, torch ? 2 : 1);
  const forgetBias = isRecurrent(layer) && layer.kind === 'lstm' && !torch && layer.recurrent.unitForgetBias && layer.useBias ? 1 : 0;
  const inputVar = inputFeatures * kernel.second * inputQ;
  const hiddenGain = units * recurrent.second;
  const cellAct = layer.kind === 'simple-rnn' ? (activationOf(layer.activation, framework, layer) ?? { f: (x: number) => x, df: () => 1 }) : TANH;
  if (cellAct === 'softmax' || cellAct === 'log_softmax') throw new Unpropagatable(`${cellAct} as the cell activation of ${layerLabel(layer)} cannot be propagated`, layer);
  // Per step t (1-based), what the backward pass needs.
  const qh: number[] = [start.h];
  const qc: number[] = [start.c];
  const per: { sig: ActivationMoments; forget: ActivationMoments; cand: ActivationMoments; cell: ActivationMoments; reset: ActivationMoments }[] = [];
  for (let t = 1; t <= steps; t++) {
    // A state the step before also started from (the recursion reached its fixed point to the bit):
    // this step is that one again, taken without its quadratures.
    if (t >= 2 && qh[t - 1] === qh[t - 2] && qc[t - 1] === qc[t - 2]) {
      per.push(per[t - 2]!);
      qh.push(qh[t - 1]!);
      qc.push(qc[t - 1]!);
      continue;
    }
    const v = inputVar + hiddenGain * qh[t - 1]! + b2;
    if (layer.kind === 'simple-rnn') {
      const m = activationMoments(cellAct, 0, v);
      per.push({ sig: m, forget: m, cand: m, cell: m, reset: m });
      qh.push(m.second);
      qc.push(0);
    } else if (layer.kind === 'lstm') {
      const sig = activationMoments(SIGMOID, 0, v);
      const forget = activationMoments(SIGMOID, forgetBias, v);
      const cand = activationMoments(TANH, 0, v);
      const c = forget.second * qc[t - 1]! + sig.second * cand.second;
      const cell = activationMoments(TANH, 0, c);
      per.push({ sig, forget, cand, cell, reset: sig });
      qc.push(c);
      qh.push(sig.second * cell.second);
    } else {
      const sig = activationMoments(SIGMOID, 0, v);
      const cand = activationMoments(TANH, 0, inputVar + sig.second * hiddenGain * qh[t - 1]! + b2);
      const z2 = sig.second;
      const oneMinusZ2 = 1 - 2 * sig.mean + sig.second;
      per.push({ sig, forget: sig, cand, cell: cand, reset: sig });
      qc.push(0);
      qh.push(z2 * qh[t - 1]! + oneMinusZ2 * cand.second);
    }
  }
  const lastQ = qh[steps]!;
  const meanQ = qh.slice(1).reduce((a, b) => a + b, 0) / steps;
  const out: Signal = { mean: 0, q: lastStepOnly ? lastQ : meanQ, dataVar: lastStepOnly ? lastQ : meanQ, features: units, positions: lastStepOnly ? 1 : steps, source: null };
  const biasTerm = layer.useBias ? 1 : 0;
  const backward = (gOut: number) => {
    // Per-unit squared gradient arriving on h_t from above.
    const fromAbove = (t: number) => (lastStepOnly ? (t === steps ? gOut / units : 0) : gOut / (units * steps));
    let gh = 0;
    let gc = 0;
    let normSq = 0;
    let gIn = 0;
    for (let t = steps; t >= 1; t--) {
      gh += fromAbove(t);
      const p = per[t - 1]!;
      let dz: number;
      let recurrentBack: number;
      if (layer.kind === 'simple-rnn') {
        dz = gh * p.sig.slope;
        recurrentBack = hiddenGain * dz;
      } else if (layer.kind === 'lstm') {
        const forgetNext = t < steps ? per[t]!.forget.second : 0;
        gc = gh * p.sig.second * p.cell.slope + gc * forgetNext;
        const dO = gh * p.cell.second * p.sig.slope;
        const dI = gc * p.cand.second * p.sig.slope;
        const dG = gc * p.sig.second * p.cand.slope;
        const dF = gc * qc[t - 1]! * p.forget.slope;
        dz = dO + dI + dG + dF;
        recurrentBack = hiddenGain * dz;
      } else {
        const oneMinusZ2 = 1 - 2 * p.sig.mean + p.sig.second;
        const dN = gh * oneMinusZ2 * p.cand.slope;
        const dZ = gh * p.sig.slope * (qh[t - 1]! + p.cand.second);
        const dR = dN * hiddenGain * qh[t - 1]! * p.sig.slope;
        dz = dN + dZ + dR;
        recurrentBack = gh * p.sig.second + hiddenGain * (dZ + dR + p.sig.second * dN);
      }
      const gatesTotal = units * dz;
      normSq += gatesTotal * (inputFeatures * inputQ + units * qh[t - 1]! + biasTerm);
      gIn += inputFeatures * kernel.second * gatesTotal;
      gh = recurrentBack;
    }
    const cellBack = layer.kind === 'lstm' ? gc * (per[0]?.forget.second ?? 0) : 0;
    return { normSq, gIn, gState: units * (gh + cellBack) };
  };
  return { out, backward };
}

// ---- the model ------------------------------------------------------------------------------------

interface Node {
  layer: LayerIR;
  inputs: number[];
  out: Signal;
  /**
   * Backward: G on the output → G per input and the weight-gradient norm² (null when weightless).
   * `coherence`: how much of the output's gradient is the same at every position of a channel (see gradientCoherence).
   */
  backward: (gOut: number, coherence: number) => { gIn: number[]; normSq: number | null; chi: number | null };
  /** The share of a coherent output gradient still coherent at its input: E[φ']² / E[φ'²] of an activation, 1/k of a k-window max pool (1 when it keeps it all). */
  slopeCoherence?: number;
  /** A weighted layer's expected squared kernel norm at initialization (elements × E[w²]), for the flow at equal weight norm. */
  weightSq?: number;
}

/** Layers that pass a gradient's mean over the positions on to their input (elementwise maps, sums, convolutions, windows, dropout). */
const KEEPS_COHERENT_GRADIENT: ReadonlySet<LayerKind> = new Set(['activation', 'add', 'multiply', 'conv1d', 'conv2d', 'conv3d', 'maxpool', 'avgpool', 'dropout']);

/**
 * How much of the gradient reaching a layer's output is the same at every position of a channel,
 * E[δ]² / E[δ²] over the positions (1: uniform, 0: no common part). A global average pool spreads its
 * gradient evenly; sums, convolutions and average pools keep the share, an activation's slope keeps
 * E[φ']² / E[φ'²] of it (a ReLU's mask, half), a max pool 1/k, dropout its keep rate; a softmax mixes
 * the features and BatchNorm removes exactly that mean.
 * Each weight's gradient then sums its positions' terms coherently (weightedNode), and a gate broadcast
 * over such positions (squeeze-and-excitation before the head's pool) too.
 */
function gradientCoherence(consumers: readonly number[]): number {
  return consumers.length > 0 ? Math.min(...consumers) : 0;
}

/** The coherence a layer passes back to its inputs when its output's gradient has `coherence`. */
function passedCoherence(node: Node, coherence: number): number {
  const layer = node.layer;
  if (layer.kind === 'global-pool') return layer.reduce === 'avg' ? 1 : 0;
  if (layer.kind === 'activation' && (layer.activation?.name === 'softmax' || layer.activation?.name === 'log_softmax')) return 0;
  return KEEPS_COHERENT_GRADIENT.has(layer.kind) ? coherence * (node.slopeCoherence ?? 1) : 0;
}

/** Standardized values of `shape` (without the batch) as `reader` takes them: an embedding reads every entry as a token. */
function signalOfShape(shape: readonly number[], channelsFirst: boolean, reader: LayerIR | undefined): Signal {
  if (reader?.kind === 'embedding') return { mean: 0, q: 1, dataVar: 1, features: null, positions: shape.reduce((a, b) => a * b, 1), source: null };
  const features = channelsFirst ? shape[0]! : shape[shape.length - 1]!;
  const positions = (channelsFirst ? shape.slice(1) : shape.slice(0, -1)).reduce((a, b) => a * b, 1);
  return { mean: 0, q: 1, dataVar: 1, features, positions, source: null };
}

/**
 * The signal of each Input after a graph's first whose shape the code writes whole (`Input(shape=(16,))`
 * of a captioning model's word branch), by layer index: the probe feeds each input its own shape, so
 * its branch runs over its own positions (a GRU over its 16 words, not the image's 10,000 pixels).
 * Other extra inputs read the model's input.
 */
function extraInputSignals(model: ModelIR, layers: readonly LayerIR[], guess: InputShapeGuess | null): Map<number, Signal> {
  const signals = new Map<number, Signal>();
  if (!model.isGraph) return signals;
  let first = true;
  for (let i = 0; i < layers.length; i++) {
    const input = layers[i]!;
    if (input.kind !== 'input' || input.inputs.length > 0) continue;
    if (first) {
      first = false;
      continue;
    }
    const shape = input.shape;
    if (!shape || shape.length === 0 || !shape.every((d): d is number => d !== null && d > 0)) continue;
    const reader = layers.find((l) => l.inputs.includes(input.id));
    const spatial = shape.length >= 2 && reader !== undefined && /^conv/.test(reader.kind);
    signals.set(i, signalOfShape(shape, spatial && (guess ? guess.layout === 'channels_first' : model.framework === 'torch'), reader));
  }
  return signals;
}

/** The input the probe feeds: the analyzer's guess when it has one (as the probe takes it), else the declared shape. */
function inputSignal(model: ModelIR, assumptions: string[]): Signal {
  const first = firstComputing(model.layers);
  const guess = model.inputGuess?.shape.every((d) => d > 0) ? model.inputGuess : null;
  const shape = guess?.shape ?? model.inputShape;
  const known = shape && shape.length > 0 && shape.every((d): d is number => d !== null && d > 0) ? shape : null;
  const sequenceFirst = first !== undefined && readsSteps(first.kind);
  if (known) {
    if (guess?.source === 'default') assumptions.push(`input ${known.join('x')} (${guess.evidence})`);
    return signalOfShape(known, known.length >= 2 && (guess ? guess.layout === 'channels_first' : model.framework === 'torch' && first !== undefined && /^conv/.test(first.kind)), first);
  }
  if (sequenceFirst) {
    assumptions.push(`sequence length ${DEFAULT_SEQUENCE_LENGTH} (not in the code)`);
    return { mean: 0, q: 1, dataVar: 1, features: first.inFeatures, positions: DEFAULT_SEQUENCE_LENGTH, source: null };
  }
  if (first && /^conv/.test(first.kind)) {
    const rank = spatialRank(first);
    assumptions.push(`input ${new Array(rank).fill(DEFAULT_IMAGE_SIDE).join('x')} (image size not in the code)`);
    return { mean: 0, q: 1, dataVar: 1, features: first.inFeatures, positions: DEFAULT_IMAGE_SIDE ** rank, source: null };
  }
  return { mean: 0, q: 1, dataVar: 1, features: first?.inFeatures ?? null, positions: 1, source: null };
}

/**
 * A weighted layer. `centred`: its output gradient sums to zero over examples and positions in every
 * channel (BatchNorm reads the linear output directly), so its weight gradient Σ δ·x sees only the
 * input's within-channel variance, and its bias gets none.
 */
/** `sides`: a convolution's input map as the probe plans it, when known (see convolutionOn). */
function weightedNode(layer: LayerIR, model: ModelIR, x: Signal, isHead: boolean, centred: boolean, sides: number[] | null): Omit<Node, 'inputs' | 'layer'> {
  const geometry = isConvKind(layer.kind) ? convolutionOn(layer, x, sides) : null;
  const w = kernelWeights(layer, x, geometry?.taps ?? null);
  const zMean = w.terms * w.wMean * x.mean + w.bMean;
  const zSecond = w.terms * w.w2 * x.q + w.terms * (w.terms - 1) * w.wMean * w.wMean * x.mean * x.mean + w.b2;
  const zVar = Math.max(zSecond - zMean * zMean, 0);
  // With the weights fixed, a channel's output varies only through its input's within-channel variance;
  // a strided transposed convolution's positions fall into stride^rank classes that each sum their own
  // taps, so its channel means differ between them too (the checkerboard): that share varies within a channel.
  const zDataVar = Math.min(w.terms * w.w2 * (x.dataVar + strideClassShare(layer) * Math.max(x.q - x.dataVar, 0)), zVar);
  const act = activationOf(layer.activation, model.framework, layer);
  const positions = geometry ? Math.max(1, geometry.outputs) : x.positions;
  const { out, slope, coherence } = activate(act, zMean, zVar, zDataVar, layer.units, positions);
  // The output layer's activation is folded into the loss (softmax/sigmoid with cross-entropy).
  const backSlope = isHead ? 1 : slope;
  const chi = w.terms * w.w2 * backSlope;
  // Kernel elements: fan_in per output unit (grouped convolutions included) times the units; torch
  // computes a transposed convolution's fan_in from its (in, out/groups, *k) weight, so count that one directly.
  const receptive = (layer.kernelSize ?? []).reduce((a, b) => a * b, 1);
  const inputs = x.features ?? layer.inFeatures;
  const elements = layer.kind === 'conv-transpose' && inputs !== null && layer.units !== null ? inputs * layer.units * receptive : w.fanIn * (layer.units ?? 1);
  return {
    out,
    weightSq: elements * w.w2,
    slopeCoherence: isHead ? 1 : coherence,
    backward: (gOut, outCoherence) => {
      const gPre = gOut * backSlope;
      // A gradient with a common part over the positions of a channel (a global average pool ahead) sums
      // that part coherently over the positions each weight reads: the input's channel means (q − dataVar)
      // and the bias count once per position, as the framework's sum does.
      const coherent = !centred && positions > 1 ? (positions - 1) * outCoherence * (isHead ? 1 : coherence) : 0;
      // Centred, a channel's output gradient sums to zero over all its positions; a strided transposed
      // convolution's weight reads one class of them, whose sum keeps its share of the input's channel means.
      const perWeight = centred && act === null ? w.terms * (x.dataVar + strideClassShare(layer) * Math.max(x.q - x.dataVar, 0)) : w.terms * (x.q + coherent * Math.max(x.q - x.dataVar, 0)) + (layer.useBias ? 1 + coherent : 0);
      return { gIn: [w.terms * w.w2 * gPre], normSq: gPre * perWeight, chi };
    },
  };
}

/**
 * Moments of an elementwise product of independent signals. A channel's mean is the product of the
 * inputs' channel means, whose second moments are q − dataVar; the rest of the product's q is within-channel.
 */
function multiplied(ins: Signal[]): { mean: number; q: number; dataVar: number } {
  const q = ins.reduce((s, i) => s * i.q, 1);
  const meansSecond = ins.reduce((s, i) => s * Math.max(i.q - i.dataVar, 0), 1);
  return { mean: ins.reduce((s, i) => s * i.mean, 1), q, dataVar: Math.max(q - meansSecond, 0) };
}

/**
 * E[(Σ_p x_p)²]/positions-of-`target` for `other` summed over the positions it has beyond `target`'s: its
 * second moment when the gradient terms are independent; the coherent share of the gradient adds the
 * channel means coherently, so their part (q − dataVar) counts once more per position summed.
 */
function broadcastSecond(other: Signal, target: Signal, coherence: number): number {
  const summed = other.positions / Math.max(target.positions, 1);
  if (coherence <= 0 || summed <= 1) return other.q;
  return (1 + (summed - 1) * coherence) * Math.max(other.q - other.dataVar, 0) + other.dataVar;
}

/**
 * `shapes`: what a size-scale, a reshape or a convolution reads of the shapes the probe plans (see
 * plannedShapes), null when none does; `inputShape`: the planned shape of what the layer reads.
 */
function nodeFor(layer: LayerIR, index: number, model: ModelIR, ins: Signal[], head: { heads: ReadonlySet<number>; tails: ReadonlySet<number> }, centred: boolean, assumptions: string[], shapes: PlannedShapes | null, layers: readonly LayerIR[], inputShape: Shape | null): Omit<Node, 'inputs' | 'layer'> {
  const x = ins[0]!;
  const tail = head.tails.has(index);
  const passThrough = (out: Signal, factor = 1): Omit<Node, 'inputs' | 'layer'> => ({
    out,
    backward: (g) => ({ gIn: ins.map(() => (tail ? g : g * factor)), normSq: null, chi: tail || factor === 1 ? null : factor }),
  });
  if (WEIGHT_KINDS.has(layer.kind)) return weightedNode(layer, model, x, head.heads.has(index), centred, shapes && inputShape ? spatialSides(layer, inputShape, shapes.layout) : null);
  switch (layer.kind) {
    case 'input':
      return passThrough(x);
    case 'reshape':
      return passThrough(placed(layer, x, shapes, model.framework, readerOf(layers, index)));
    case 'tensor-op': {
      if (layer.op?.op === 'dot-product-attention') return dotProductAttention(ins, layer.op.causal);
      // A scale by a size (attention scores by 1 / sqrt(head size)), from the shapes; the sized operand gets no gradient.
      if (layer.op?.op === 'size-scale') {
        const f = sizeScaleOf(layer, shapes) ?? 1;
        return { out: { ...x, mean: x.mean * f, q: x.q * f * f, dataVar: x.dataVar * f * f, source: null }, backward: (g) => ({ gIn: ins.map((_, k) => (k === 0 ? g * f * f : 0)), normSq: null, chi: null }) };
      }
      // Moving axes keeps every value.
      const y = ins[1];
      if (layer.op?.op !== 'matmul' || !y) return passThrough(x);
      // A product of two computed tensors, their entries taken independent: each output sums `inner`
      // products over the contracted axes, and each input entry's gradient sums the output gradients it
      // reaches (`fans`). From the planned shapes: a transpose or view ahead (`q @ k.transpose(-2, -1)`
      // on heads) moves the axes the signal's features and positions name. Without them, the first
      // operand's last axis is contracted and the second's is the output's.
      const [xShape, yShape, outShape] = [layer.inputs[0], layer.inputs[1], layer.id].map((id) => shapes?.of.get(id ?? '') ?? null);
      const counts = xShape && yShape ? matmulCounts(layer.op, xShape, yShape) : null;
      const inner = counts?.inner ?? x.features ?? 1;
      const [xFan = 1, yFan = 1] = counts?.fans ?? [y.features ?? 1, x.positions];
      const features = outShape && outShape.length > 0 ? (outShape[outShape.length - 1] ?? null) : null;
      const positions = features !== null && outShape?.every((d): d is number => d !== null) ? outShape.reduce((n, d) => n * d, 1) / features : null;
      const each = multiplied([x, y]);
      return {
        out: { mean: inner * each.mean, q: inner * each.q + inner * (inner - 1) * each.mean * each.mean, dataVar: inner * each.dataVar, features: positions === null ? y.features : features, positions: positions ?? x.positions, source: null },
        backward: (g) => ({ gIn: [g * xFan * y.q, g * yFan * x.q], normSq: null, chi: null }),
      };
    }
    case 'flatten':
      // Each position becomes its own feature: position-to-position variance joins the spread of the means.
      return passThrough({ ...x, features: x.features === null ? null : x.features * x.positions, positions: 1 });
    case 'activation': {
      const act = activationOf(layer.activation, model.framework, layer);
      const { out, slope, coherence } = activate(act, x.mean, variance(x), x.dataVar, x.features, x.positions);
      return { ...passThrough(out, slope), slopeCoherence: coherence };
    }
    case 'dropout': {
      const rate = layer.noise === 'gaussian-noise' ? 0 : (layer.rate ?? 0.5);
      const keep = Math.max(1 - rate, 1e-6);
      // The mask varies within a channel: all the added variance is within-channel (and a coherent
      // gradient keeps `keep` of its share: E[m/keep] = 1, E[(m/keep)²] = 1/keep).
      return { ...passThrough({ ...x, q: x.q / keep, dataVar: x.dataVar + x.q * (1 / keep - 1), source: null }, 1 / keep), slopeCoherence: keep };
    }
    case 'alpha-dropout': {
      const rate = layer.rate ?? 0.5;
      const alphaPrime = -1.7580993408473766;
      const a2 = 1 / ((1 - rate) * (1 + rate * alphaPrime * alphaPrime));
      return passThrough(x, a2 * (1 - rate));
    }
    case 'batchnorm': {
      // Per channel over the batch: removes each channel's mean and divides by the square root of its
      // within-channel variance plus epsilon, then scales by γ and shifts by β (each channel varies as γ_c
      // does; the gradient is scaled by γ too). An epsilon near the variance keeps the output below unit
      // variance, and the gradient with it.
      const v = x.dataVar;
      if (!(v > 1e-30)) throw new Unpropagatable(`${layerLabel(layer)} normalizes a signal with no variance`, layer);
      const divisor = v + normEpsilon(layer, model.framework);
      const a = affineMoments(layer);
      const normalized = (a.scaleSecond * v) / divisor;
      return passThrough({ mean: a.shiftMean, q: normalized + a.shiftSecond, dataVar: normalized, features: x.features, positions: x.positions, source: null }, a.scaleSecond / divisor);
    }
    case 'layernorm':
    case 'groupnorm': {
      // Per example over features: the channel means' spread is part of what it divides by, and stays.
      const v = variance(x);
      if (!(v > 1e-30)) throw new Unpropagatable(`${layerLabel(layer)} normalizes a signal with no variance`, layer);
      const divisor = v + normEpsilon(layer, model.framework);
      const a = affineMoments(layer);
      return passThrough({ mean: a.shiftMean, q: (a.scaleSecond * v) / divisor + a.shiftSecond, dataVar: (a.scaleSecond * x.dataVar) / divisor, features: x.features, positions: x.positions, source: null }, a.scaleSecond / divisor);
    }
    case 'rescaling': {
      const scale = layer.op === 'lambda' ? 1 / 255 : (layer.scale ?? 1);
      return passThrough({ ...x, mean: x.mean * scale, q: x.q * scale * scale, dataVar: x.dataVar * scale * scale, source: null }, scale * scale);
    }
    case 'local-response-norm': {
      // Each value over (k + alpha * mean square of `size` neighbouring channels)^beta; the mean square is
      // about the signal's second moment. The divisor's own derivative is left out: alpha * q / k is ~1e-4
      // at the defaults, so the gradient is scaled as the signal is.
      const { alpha, beta, k } = layer.lrn;
      if (alpha === null || beta === null || k === null) throw new Unpropagatable(`${layerLabel(layer)} has constants the code does not fix`, layer);
      const scale = (k + alpha * x.q) ** -beta;
      return passThrough({ ...x, mean: x.mean * scale, q: x.q * scale * scale, dataVar: x.dataVar * scale * scale, source: null }, scale * scale);
    }
    case 'maxpool':
    case 'avgpool': {
      const dims = poolRank(layer, x.positions);
      const k = sizeProduct(layer.kernelSize, dims) ?? 2 ** dims;
      const stride = layer.pool.strides === 'window' ? k : (sizeProduct(layer.pool.strides, dims) ?? k);
      const positions = Math.max(1, x.positions / stride);
      // A max pool routes each window's gradient to one of its k inputs (a coherent share 1/k); an
      // average spreads it over all k (the share stays).
      if (layer.kind === 'maxpool') return { ...passThrough({ ...maxOf(x, k), positions }), slopeCoherence: 1 / k };
      return passThrough({ ...averageOf(x, k), positions }, 1 / k);
    }
    case 'global-pool': {
      const p = x.positions;
      if (layer.reduce === 'max') return passThrough({ ...maxOf(x, p), positions: 1 });
      return passThrough({ ...averageOf(x, p), positions: 1 }, 1 / p);
    }
    case 'embedding': {
      const init = initMoments(layer.kernelInit, layer.inFeatures, layer.units, layer, 'embedding');
      return {
        // Each token picks a row: a channel varies over examples as the table's entries do.
        out: { mean: init.mean, q: init.second, dataVar: Math.max(init.second - init.mean * init.mean, 0), features: layer.units, positions: x.positions, source: null },
        // One-hot input: the weight gradient collects each position's output gradient once.
        backward: (g) => ({ gIn: ins.map(() => 0), normSq: g, chi: null }),
      };
    }
    case 'lstm':
    case 'gru':
    case 'simple-rnn':
      return recurrentNode(layer, index, model, ins);
    case 'attention':
      return attentionNode(layer, model, ins);
    case 'position-embedding': {
      // x + a learned table row per position: the table's second moment adds; gradients pass unchanged.
      const table = initMoments(layer.kernelInit, layer.units, layer.positions, layer, 'position table');
      return passThrough({ ...x, mean: x.mean + table.mean, q: x.q + table.second + 2 * x.mean * table.mean, dataVar: x.dataVar + table.second - table.mean * table.mean, source: null });
    }
    case 'add': {
      // Sum, difference (first minus the rest) or average of independent operands; maximum/minimum are taken as a sum.
      const op = layer.merge.op;
      const scale = op === 'average' ? 1 / ins.length : 1;
      const mean = scale * ins.reduce((s, i, k) => s + (op === 'subtract' && k > 0 ? -i.mean : i.mean), 0);
      const spread = scale * scale * ins.reduce((s, i) => s + variance(i), 0);
      return {
        out: { mean, q: spread + mean * mean, dataVar: scale * scale * ins.reduce((s, i) => s + i.dataVar, 0), features: x.features, positions: x.positions, source: null },
        backward: (g) => ({ gIn: ins.map(() => g * scale * scale), normSq: null, chi: null }),
      };
    }
    case 'multiply':
      return {
        out: { ...multiplied(ins), features: x.features, positions: x.positions, source: null },
        // An operand broadcast over another's positions (a gate, one per channel) sums the gradient over them:
        // independent terms add their squares (q), a gradient uniform over positions adds the channel means coherently.
        backward: (g, coherence) => ({ gIn: ins.map((mine, k) => g * ins.reduce((s, other, j) => (j === k ? s : s * broadcastSecond(other, mine, coherence)), 1)), normSq: null, chi: null }),
      };
    case 'concat': {
      // Channels joined, or positions (a pooled vector tiled over an image, sequences joined in time): each
      // input's share of the output is its count of what is joined.
      const alongPositions = joinsPositions(layer, shapes, inputShape, model.framework);
      const sizes = ins.map((i) => (alongPositions ? i.positions : (i.features ?? 1)));
      const total = sizes.reduce((a, b) => a + b, 0);
      const mean = ins.reduce((s, i, k) => s + (i.mean * sizes[k]!) / total, 0);
      const q = ins.reduce((s, i, k) => s + (i.q * sizes[k]!) / total, 0);
      const dataVar = ins.reduce((s, i, k) => s + (i.dataVar * sizes[k]!) / total, 0);
      const features = alongPositions ? x.features : ins.every((i) => i.features !== null) ? total : null;
      return {
        out: { mean, q, dataVar, features, positions: alongPositions ? total : x.positions, source: null },
        backward: (g) => ({ gIn: sizes.map((size) => (g * size) / total), normSq: null, chi: null }),
      };
    }
    case 'backbone':
      return backboneNode(layer, model, x, assumptions);
    case 'unknown':
      // Augmentation and masking (Keras RandomFlip, RandomZoom, Masking): no weights, and the signal's
      // moments as they come (a flip or a small zoom of an image keeps its statistics).
      if (layer.identity) return passThrough(x);
      throw new Unpropagatable(`${layerLabel(layer)} is a layer the propagation model does not know`, layer);
    default:
      throw new Unpropagatable(`${layerLabel(layer)} is a layer the propagation model does not know`, layer);
  }
}

/**
 * A frozen pre-trained base (shared/backbone.ts): the features max(0, z), z ~ N(0, 1), over its feature
 * map's positions (or pooled as it pools them); no gradient goes back through it, since nothing before
 * it trains. The image's sides are the model's input's when the base reads an input of that size, else
 * a square of the positions it reads.
 */
function backboneNode(layer: LayerOf<'backbone'>, model: ModelIR, x: Signal, assumptions: string[]): Omit<Node, 'inputs' | 'layer'> {
  const refusal = backboneNotModelled(layer);
  if (refusal) throw new Unpropagatable(refusal, layer);
  const declared = model.inputGuess?.shape ?? model.inputShape;
  const sides = declared?.length === 3 && declared[0]! * declared[1]! === x.positions ? declared.slice(0, 2) : [Math.round(Math.sqrt(x.positions)), Math.round(Math.sqrt(x.positions))];
  const image = [...sides, x.features];
  const features = backboneOutput(layer.backbone, image);
  const featureMap = backboneOutput({ ...layer.backbone, pooling: null }, image);
  const relu = scalarActivation('relu', model.framework);
  if (!features || !featureMap || !relu) throw new Unpropagatable(`the image ${sides.join('x')} is too small for ${layerLabel(layer)}`, layer);
  assumptions.push(frozenBackboneNote(layer, features));
  const mean = BACKBONE_FEATURE_MEAN;
  const q = BACKBONE_FEATURE_SECOND_MOMENT;
  const positions = featureMap.slice(0, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
  const map: Signal = { mean, q, dataVar: q - mean * mean, features: layer.backbone.channels, positions, source: { act: relu, zMean: 0, zVar: 1, zDataVar: 1 } };
  const pooled = layer.backbone.pooling === 'avg' ? averageOf(map, positions) : layer.backbone.pooling === 'max' ? maxOf(map, positions) : map;
  return { out: { ...pooled, positions: layer.backbone.pooling ? 1 : positions }, backward: () => ({ gIn: [0], normSq: null, chi: null }) };
}

/**
 * Multi-head attention at initialization: small query-key scores make the attention weights nearly
 * uniform over the positions, so each output averages the value projections of about `positions`
 * independent inputs (variance / positions), then the output projection applies its gain. The gradient
 * reaches the value input the same way back; the query/key paths carry a second-order share, left out.
 */
function attentionNode(layer: LayerOf<'attention'>, model: ModelIR, ins: Signal[]): Omit<Node, 'inputs' | 'layer'> {
  const query = ins[0]!;
  const value = ins[2] ?? ins[1] ?? query;
  const features = layer.inFeatures ?? value.features;
  if (!features) throw new Unpropagatable(`the input size of ${layerLabel(layer)} is not known`, layer);
  const fans = attentionFans(layer);
  const inProjection = initMoments(layer.kernelInit, fans.fanIn ?? features, fans.fanOut ?? features, layer, 'projection');
  const head = (layer.attention.valueDim ?? layer.attention.keyDim ?? features) * (layer.attention.heads ?? 1);
  // torch's out_proj keeps nn.Linear's kaiming_uniform(a=sqrt(5)) draw: variance 1 / (3 fan_in).
  const outSecond = model.framework === 'torch' ? 1 / (3 * head) : initMoments(layer.kernelInit, head, (layer.units ?? features) * (layer.attention.heads ?? 1), layer, 'output projection').second;
  const averaged = 1 / Math.max(1, value.positions);
  const gain = features * inProjection.second * averaged * head * outSecond;
  return {
    out: { mean: 0, q: value.q * gain, dataVar: value.q * gain, features: layer.units ?? features, positions: query.positions, source: null },
    backward: (g) => ({ gIn: ins.map((_, k) => (k === ins.length - 1 ? g * gain : 0)), normSq: null, chi: null }),
  };
}

/**
 * softmax(q k^T / sqrt(E)) v at initialization: the scores are small, so each query averages the values
 * it sees about uniformly (all T positions; causal: query i the first i + 1), an average over about
 * 1 / share independent values, share = 1 / T (causal: H_T / T, H the harmonic number). A value's
 * gradient sums the queries' over the same weights, so its second moment shrinks by the same share.
 * The query and key paths carry a second-order share, left out (as for multi-head attention).
 */
function dotProductAttention(ins: Signal[], causal: boolean): Omit<Node, 'inputs' | 'layer'> {
  const value = ins[2] ?? ins[0]!;
  const steps = Math.max(1, Math.round(value.positions));
  let harmonic = 0;
  for (let i = 1; i <= steps; i++) harmonic += 1 / i;
  const share = (causal ? harmonic : 1) / steps;
  const dataVar = value.dataVar * share;
  return {
    out: { mean: value.mean, q: Math.max(value.q - value.dataVar, 0) + dataVar, dataVar, features: value.features, positions: ins[0]!.positions, source: null },
    backward: (g) => ({ gIn: ins.map((_, k) => (k === 2 ? g * share : 0)), normSq: null, chi: null }),
  };
}

/** `stateInputs`: the tensors an `initial_state=` starts it from; they share the gradient reaching h_0 (and c_0). */
/**
 * A recurrent layer over its input `ins[0]`, from the initial state the code passes after it (a seq2seq
 * decoder's `initial_state=[h, c]` from the encoder, a captioner's image vector): the state's second
 * moment starts the recursion, where zeros would leave a decoder reading small embeddings near zero.
 */
function recurrentNode(layer: LayerIR, index: number, model: ModelIR, ins: Signal[]): Omit<Node, 'inputs' | 'layer'> {
  const x = ins[0]!;
  const stateInputs = ins.length - 1;
  const start = { h: ins[1]?.q ?? 0, c: layer.kind === 'lstm' ? (ins[2]?.q ?? 0) : 0 };
  const inputFeatures = x.features ?? layer.inFeatures;
  if (!inputFeatures) throw new Unpropagatable(`the input size of ${layerLabel(layer)} is not known`, layer);
  if (!isRecurrent(layer)) throw new Unpropagatable(`${layerLabel(layer)} is not a recurrent layer`, layer);
  const lastStepOnly = !returnsSequences(layer, readerKind(model.layers, index));
  const stacked = Math.max(1, Math.floor(layer.recurrent.numLayers ?? 1));
  const directions = layer.recurrent.bidirectional ? 2 : 1;
  const steps = Math.max(1, Math.round(x.positions));
  const runs: RecurrentRun[] = [];
  let q = x.q;
  let features = inputFeatures;
  for (let k = 0; k < stacked; k++) {
    const r = runRecurrent(layer, model.framework, q, features, steps, k === stacked - 1 ? lastStepOnly : false, start);
    runs.push(r);
    q = r.out.q;
    features = (layer.units ?? 1) * directions;
  }
  const out = { ...runs[runs.length - 1]!.out, features: (layer.units ?? 0) * directions || null };
  return {
    out,
    backward: (g) => {
      let grad = g / directions;
      let normSq = 0;
      let gState = 0;
      for (let k = runs.length - 1; k >= 0; k--) {
        const r = runs[k]!.backward(grad);
        normSq += directions * r.normSq;
        grad = r.gIn;
        gState = r.gState;
      }
      const states = Array.from({ length: stateInputs }, () => gState / stateInputs);
      return { gIn: [grad * directions, ...states], normSq, chi: g > 0 ? (grad * directions) / g : null };
    },
  };
}

/**
 * Predicts the forward signal and the backward gradient of every layer of `model` at initialization,
 * with standardized inputs (as the probe feeds them). Never throws: a model it cannot propagate
 * gives `{ ok: false, reason }` naming the layer.
 */
export function predictPropagation(model: ModelIR): ModelPrediction {
  try {
    return propagate(model);
  } catch (error) {
    if (error instanceof Unpropagatable) return { ok: false, reason: error.message, layerId: error.layer?.id ?? null };
    throw error;
  }
}

const CACHE = new WeakMap<ModelIR, ModelPrediction>();

/** predictPropagation, computed once per ModelIR object (rules, hovers and hints share it). */
export function modelPrediction(model: ModelIR): ModelPrediction {
  let cached = CACHE.get(model);
  if (!cached) {
    cached = predictPropagation(model);
    CACHE.set(model, cached);
  }
  return cached;
}

/**
 * The layers with the sizes the probe builds them with where the code leaves units unknown (a
 * constructor argument no call site fixes), named in the assumptions.
 */
function withProbeSizes(model: ModelIR, assumptions: string[]): LayerIR[] {
  const filled: string[] = [];
  const outputs = new Set(modelOutputs(model));
  const all = model.layers;
  const layers = mapPacked(all, (layer, i) => {
    const sized = representativeUnits(layer, outputs.has(i), all[i + 1]);
    if (!sized) return layer;
    filled.push(`${shortLabel(layer)} ${sized.units}`);
    // A kernel's fan_out is its units times its receptive field (a transposed conv's counts its input channels instead).
    const kernel = (layer.kernelSize ?? []).reduce((a, b) => a * b, 1);
    const fanOut = layer.fanOut ?? (WEIGHT_KINDS.has(layer.kind) && layer.kind !== 'conv-transpose' ? sized.units * kernel : null);
    return layerWith(layer, { units: sized.units, fanOut });
  });
  if (filled.length > 0) assumptions.push(`the probe's representative sizes where the code does not fix them (${filled.join(', ')})`);
  return layers;
}

/**
 * Layer output shapes (per example) as the probe plans them with the input it feeds, and the layout
 * they are in: what a size-scale and a reshape read, which the signal does not carry.
 */
interface PlannedShapes {
  layout: Layout;
  of: ReadonlyMap<string, Shape | null>;
}

/** Reshapes that move values between axes: the steps and features after them are the shape's. */
const MOVES_AXES: ReadonlySet<ReshapeConfig['op']> = new Set<ReshapeConfig['op']>(['reshape', 'view', 'permute']);

/**
 * Layers that read one axis of what a reshape gives them as channels (features) and the others as
 * positions. Others, a transpose or an attention after `q.view(B, T, heads, size)`, read the heads as
 * neither: what reaches them keeps the positions and features it had.
 */
function readsChannelAxis(kind: LayerKind): boolean {
  return kind === 'dense' || kind === 'global-pool' || kind === 'flatten' || isConvKind(kind) || isRecurrentKind(kind) || isPoolKind(kind) || isNormalizationKind(kind);
}

function readsPlannedShape(layer: LayerIR): boolean {
  return (layer.kind === 'tensor-op' && (layer.op?.op === 'size-scale' || layer.op?.op === 'matmul')) || (layer.kind === 'reshape' && MOVES_AXES.has(layer.reshape.op));
}

/**
 * The shapes, when a layer reads them, from the input the probe feeds (the guess where the code gives
 * none). Walked on copies of the layers: the sizes the walk fills in from a guessed input stay out of
 * the model's IR, which lint and hovers read.
 */
function plannedShapes(model: ModelIR, layers: readonly LayerIR[], always = false): PlannedShapes | null {
  const input = model.inputGuess?.shape ?? model.inputShape;
  if (!input || !(always || layers.some(readsPlannedShape))) return null;
  const layout = model.inputGuess?.layout ?? (model.framework === 'torch' ? 'channels_first' : 'channels_last');
  const copies = new CopiesMade();
  // An input after the first whose shape the code does not write whole reads the model's input, as its signal does (extraInputSignals).
  const inputShapes = new Map(layers.filter((l, i) => i > 0 && l.kind === 'input' && l.inputs.length === 0 && !l.shape?.every((d) => d !== null && d > 0)).map((l) => [l.id, input] as const));
  return { layout, of: propagateShapes(layers, input, { framework: model.framework, layout, inputShapes }, (layer) => copyLayer(layer, copies)) };
}

/**
 * Whether a concatenation joins positions, not channels: its planned output differs from its first input on
 * an axis that is not the channels' (the last, or the first of a torch image planned channels first).
 */
function joinsPositions(layer: LayerIR, shapes: PlannedShapes | null, inputShape: Shape | null, framework: Framework): boolean {
  const out = shapes?.of.get(layer.id);
  if (!shapes || !out || !inputShape || out.length !== inputShape.length) return false;
  const axis = out.findIndex((d, k) => d !== inputShape[k]);
  const channels = framework === 'torch' && shapes.layout === 'channels_first' && out.length >= 3 ? 0 : out.length - 1;
  return axis >= 0 && axis !== channels;
}

/** The factor of a 'size-scale' tensor operation (`att * (1.0 / math.sqrt(k.size(-1)))`): the size is one of its second operand's. */
function sizeScaleOf(layer: LayerIR, shapes: PlannedShapes | null): number | null {
  const sized = shapes?.of.get(layer.inputs[1] ?? '');
  return layer.kind === 'tensor-op' && layer.op?.op === 'size-scale' && sized ? sizeScaleFactor(layer.op, sized) : null;
}

/**
 * A reshape's signal: its values and their moments as they come. RepeatVector(n) makes n steps of a
 * vector (as the probe builds it), which a recurrent layer after it runs over: a seq2seq decoder ran
 * one step here. A reshape, view or permute that moves values between axes makes the steps and
 * features of its planned shape: a CRNN's `Reshape((32, 512))` of 8 x 32 x 64 maps gives its LSTM 32
 * steps of 512, not 256 steps of 64. Upsampling and padding keep the signal's count of positions: a
 * nearest upsampling repeats each value in place and padding adds zeros, so an average over their
 * positions has the variance of one over the positions before. (The n steps of a repeated vector are
 * one value n times: an average over them, rare after RepeatVector, is taken as over n.)
 */
function placed(layer: LayerOf<'reshape'>, x: Signal, shapes: PlannedShapes | null, framework: Framework, reader: LayerIR | null): Signal {
  const config = layer.reshape;
  // RepeatVector reads a vector: anything else is a shape the probe refuses, kept as it comes.
  if (config.op === 'repeat-vector') return config.n !== null && config.n > 0 && x.positions === 1 ? { ...x, positions: config.n } : x;
  if (!shapes || !reader || !MOVES_AXES.has(config.op) || !readsChannelAxis(reader.kind)) return x;
  const shape = shapes.of.get(layer.id);
  if (!shape || shape.length === 0 || !shape.every((d): d is number => d !== null && d > 0)) return x;
  // Channels come last, but first where torch's order reaches a reader that takes them first (a
  // convolution, pooling, BatchNorm; images only in a channels-first plan) or a Keras layer says so.
  const torchFirst = framework === 'torch' && readChannelsLast(reader.kind, shape.length) && (shapes.layout === 'channels_first' || shape.length < 3);
  const axis = torchFirst || reader.dataFormat === 'channels_first' ? 0 : shape.length - 1;
  return { ...x, features: shape[axis]!, positions: shape.reduce((n, d, k) => (k === axis ? n : n * d), 1) };
}

/**
 * The mean square gradient each output's loss puts on its head, relative to the largest (see
 * headGradientSquare): heads on different losses learn at different rates from the first step (a
 * softmax head under CrossEntropyLoss gets ~1/C^2 of a sigmoid head's under BCELoss), and a loss
 * averaged over more elements gives each of them less. An output's units and positions are those of
 * the shape the probe plans for it (a class score after a valid convolution is one position), else
 * the signal's. Null when no head gets any.
 */
function headGradientScales(model: ModelIR, layers: readonly LayerIR[], nodes: readonly Pick<Node, 'out'>[], shapes: PlannedShapes | null): number[] | null {
  const squares = resolveLosses(model, []).map((term) => {
    const out = nodes[term.index]?.out;
    if (!out) return 0;
    const shape = shapes?.of.get(layers[term.index]?.id ?? '');
    const known = shape && shape.length > 0 && shape.every((d): d is number => d !== null && d > 0) ? shape : null;
    const axis = known && shapes?.layout === 'channels_first' && known.length >= 2 ? 0 : (known?.length ?? 1) - 1;
    const units = known ? known[axis]! : (out.features ?? 1);
    const positions = known ? known.reduce((n, d) => n * d, 1) / units : out.positions;
    const square = headGradientSquare(term.kind, term.activation, units, positions, out.q);
    const head = layers[term.index] ?? null;
    if (square === null) {
      const on = head ? layerLabel(head) : 'an output';
      const why = readsValuesAsProbabilities(term)
        ? `the loss on ${on} reads values that are not probabilities as probabilities (clipped to [${PROBABILITY_CLIP}, 1 - ${PROBABILITY_CLIP}]): its gradient depends on the values nearest zero`
        : `the prediction does not model ${term.kind} on ${term.activation ? `a ${term.activation}` : 'no activation'} (${on})`;
      throw new Unpropagatable(why, head);
    }
    return square;
  });
  const largest = Math.max(...squares);
  return largest > 0 ? squares.map((s) => s / largest) : null;
}

function propagate(model: ModelIR): ModelPrediction {
  if (model.layers.length === 0) return { ok: false, reason: `model ${model.name} has no layers`, layerId: null };
  // A model read part-way: the flow of a part says nothing of the whole (a ResNet-1202 cut after its first blocks).
  if (model.truncated) return { ok: false, reason: `the analyzer read only a part of model ${model.name} (${model.truncated})`, layerId: null };
  const assumptions: string[] = [];
  const layers = withProbeSizes(model, assumptions);
  const index = new Map(layers.map((l, i) => [l.id, i]));
  // Layers behind a zero-initialized normalization scale get no gradient at initialization by design (zeroGatedLayers).
  const gated = zeroGatedLayers(model);
  const measured = mapPacked(layers, (l, i) => (onFlowPath(l) && !gated.has(i) ? i : -1)).filter((i) => i >= 0);
  const start = inputSignal(model, assumptions);
  const extraInputs = extraInputSignals(model, layers, model.inputGuess?.shape.every((d) => d > 0) ? model.inputGuess : null);
  // In a graph, a layer that reads no layer (a second Input) reads the model's input, not the layer listed before it.
  const inputsOf = mapPacked(layers, (layer, i) => (!model.isGraph ? [i - 1] : layer.inputs.length > 0 ? mapPacked(layer.inputs, (id) => index.get(id) ?? -2) : [-1]));
  const outputs = modelOutputs(model);
  const head = outputHeads(model);
  // Layers read only by BatchNorm get a gradient with zero mean per channel (see weightedNode).
  const readers = mapPacked(layers, (): LayerIR[] => []);
  inputsOf.forEach((inputs, j) => { inputs.forEach((k) => readers[k]?.push(layers[j]!)); });
  const nodes: Node[] = [];
  const inferred: string[] = [];
  // Several outputs: each head's loss averages over the elements of its planned shape (headGradientScales);
  // a convolution reads the taps that land on its planned input map (convolutionOn).
  const shapes = plannedShapes(model, layers, outputs.length > 1 || layers.some((l) => isConvKind(l.kind)));
  layers.forEach((layer, i) => {
    const inputs = inputsOf[i]!;
    if (inputs.some((k) => k === -2 || k >= i)) throw new Unpropagatable(`${layerLabel(layer)} reads a layer the model does not have before it`, layer);
    const ins = mapPacked(inputs, (k) => (k < 0 ? (extraInputs.get(i) ?? start) : nodes[k]!.out));
    const centred = readers[i]!.length > 0 && readers[i]!.every((r) => r.kind === 'batchnorm');
    const from = inputs[0];
    const inputShape = !shapes ? null : from !== undefined && from >= 0 ? (shapes.of.get(layers[from]!.id) ?? null) : extraInputs.has(i) ? null : (model.inputGuess?.shape ?? model.inputShape);
    const node = nodeFor(layer, i, model, ins, head, centred, assumptions, shapes, layers, inputShape);
    // A PyTorch layer whose input size the code leaves unknown takes it from its input, as the probe builds it.
    if (model.framework === 'torch' && WEIGHT_KINDS.has(layer.kind) && layer.fanIn === null && ins[0]!.features !== null) inferred.push(`${shortLabel(layer)} ${ins[0]!.features}`);
    if (!Number.isFinite(node.out.q)) throw new Unpropagatable(`the signal overflows at ${layerLabel(layer)}`, layer);
    nodes.push({ layer, inputs, ...node });
  });
  if (inferred.length > 0) assumptions.push(`input sizes read from the incoming signal (${inferred.join(', ')})`);
  // A torch operation whose change of shape the trace does not compute (F.pad of a strided slice in an
  // option-A shortcut) is taken as keeping its input's moments: say so, as the probe names it when a shape then does not fit.
  const passed = new Map(layers.flatMap((l) => (l.shapePassedThrough ? [[`${l.shapePassedThrough.spelling} (line ${l.shapePassedThrough.range.start.line + 1})`, true] as const] : [])));
  if (passed.size > 0) assumptions.push(`the signal unchanged through ${[...passed.keys()].join(', ')}, whose change of shape the analyzer does not compute`);
  // Backward, from the output: the gradient on the last weighted layer's pre-activation is the unit;
  // with several outputs, each head's is what its loss gives it, against the largest.
  const g = new Array<number>(nodes.length).fill(0);
  const headScales = outputs.length > 1 ? headGradientScales(model, layers, nodes, shapes) : null;
  outputs.forEach((i, k) => { g[i] = headScales?.[k] ?? 1; });
  const normSq = new Array<number | null>(nodes.length).fill(null);
  const chi = new Array<number | null>(nodes.length).fill(null);
  // Per layer, the coherence each reader passes back to it (see gradientCoherence).
  const passedBack = mapPacked(nodes, (): number[] => []);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const coherence = gradientCoherence(passedBack[i]!);
    node.inputs.forEach((k) => passedBack[k]?.push(passedCoherence(node, coherence)));
    // A layer under torch.no_grad() has no gradient on its output: none for its weights or what feeds it.
    const result = node.backward(node.layer.noGrad ? 0 : g[i]!, coherence);
    normSq[i] = result.normSq;
    chi[i] = result.chi;
    // A layer reading more inputs than its backward names (a Dense after both arms of an undecided
    // branch) passes its input gradient to each: whichever arm runs receives it.
    node.inputs.forEach((k, j) => {
      if (k >= 0) g[k] = g[k]! + (result.gIn[j] ?? result.gIn[0] ?? 0);
    });
  }
  // A layer object applied several times holds one set of weights, whose gradient is the sum over its
  // applications (as in the probe and in the framework). Their contributions are taken as uncorrelated
  // (independent branches' inputs, different steps), so their squared norms add; the first application
  // carries the sum, the later ones no prediction of their own.
  nodes.forEach((node, i) => {
    const first = node.layer.sharesWeightsWith === null ? undefined : index.get(node.layer.sharesWeightsWith);
    if (first === undefined || normSq[i] === null) return;
    normSq[first] = (normSq[first] ?? 0) + normSq[i]!;
    normSq[i] = null;
  });
  const owners = measured.filter((i) => layers[i]!.sharesWeightsWith === null);
  const reference = owners.length > 0 ? Math.max(normSq[owners[owners.length - 1]!] ?? 0, TINY) : 1;
  const predictions: LayerPrediction[] = mapPacked(nodes, (node, i) => {
    const weighted = onFlowPath(node.layer) && node.layer.sharesWeightsWith === null && !gated.has(i);
    const n = normSq[i] ?? null;
    const source = node.inputs[0];
    return {
      layerId: node.layer.id,
      name: node.layer.name,
      kind: node.layer.kind,
      range: node.layer.range,
      predictedStd: Math.sqrt(observedVariance(node.out)),
      predictedMean: node.out.mean,
      q: node.out.q,
      qIn: source !== undefined && source >= 0 ? nodes[source]!.out.q : start.q,
      chi: chi[i] ?? null,
      weighted,
      log10GradRatio: weighted && n !== null ? 0.5 * Math.log10(Math.max(n, TINY) / reference) : null,
    };
  });
  const undefinedAt = predictions.findIndex((p) => Number.isNaN(p.predictedStd) || Number.isNaN(p.log10GradRatio ?? 0));
  const undefinedLayer = nodes[undefinedAt]?.layer;
  if (undefinedLayer) return { ok: false, reason: `the gradient is undefined at ${layerLabel(undefinedLayer)}`, layerId: undefinedLayer.id };
  const first = owners.length >= 2 ? predictions[owners[0]!]! : null;
  const hiddenAt = lastHiddenIndex(owners.length, (i) => head.heads.size > 1 && head.heads.has(owners[i]!));
  const hidden = owners.length >= 2 ? predictions[owners[hiddenAt]!]! : null;
  // A gradient at the floor is none: the hidden layers are measured against the output layer instead.
  const hiddenNormSq = owners.length >= 2 ? normSq[owners[hiddenAt]!] : null;
  const stalled = hiddenNormSq !== null && hiddenNormSq !== undefined && hiddenNormSq <= TINY;
  const lastHidden = stalled ? predictions[owners[owners.length - 1]!]! : hidden;
  const free = scaleFreeLayers(model);
  const measure = stalled ? 'gradient' : flowMeasure(owners.length, (k) => free.has(owners[k]!), (k) => k === owners.length - 1 || (head.heads.size > 1 && head.heads.has(owners[k]!)));
  // At equal weight norm each side's gradient is multiplied by its kernel's norm.
  const weightLog10 = (at: number | undefined): number => (measure === 'unit-weight' && at !== undefined ? 0.5 * Math.log10(Math.max(nodes[at]!.weightSq ?? 1, TINY)) : 0);
  const log10FirstLastRatio =
    first?.log10GradRatio != null && lastHidden?.log10GradRatio != null
      ? first.log10GradRatio - lastHidden.log10GradRatio + weightLog10(owners[0]) - weightLog10(owners[hiddenAt])
      : null;
  // Every layer on the path against the reference, as the probe judges its measured profile.
  const isHead = (k: number): boolean => k === owners.length - 1 || (head.heads.size > 1 && head.heads.has(owners[k]!));
  const heads = new Set(mapPacked(owners, (_, k) => k).filter(isHead));
  const profile = !stalled && log10FirstLastRatio !== null ? judgeFlowProfile(mapPacked(owners, (at) => 10 ** ((predictions[at]!.log10GradRatio ?? -Infinity) + weightLog10(at))), FLOW_THRESHOLDS, heads, measure) : null;
  // A layer that gets exactly nothing is behind a zero kernel (a zero-initialized residual branch, or GL201's
  // zero layer): it learns from the second step, as the probe's median over its steps shows, and is not starved by depth.
  const vanishingLayers = profile ? mapPacked(profile.vanishing.filter((k) => (normSq[owners[k]!] ?? 0) > TINY), (k) => predictions[owners[k]!]!) : [];
  const explodingLayers = profile ? mapPacked(profile.exploding, (k) => predictions[owners[k]!]!) : [];
  const ratioGrade = log10FirstLastRatio === null ? null : gradeFlowRatio(10 ** log10FirstLastRatio, FLOW_THRESHOLDS);
  return {
    ok: true,
    layers: predictions,
    first,
    lastHidden,
    against: stalled ? 'output' : 'last-hidden',
    log10FirstLastRatio,
    measure,
    grade: vanishingLayers.length > 0 ? 'vanishing' : explodingLayers.length > 0 ? 'exploding' : ratioGrade,
    vanishingLayers,
    explodingLayers,
    assumptions,
  };
}
