/**
 * Probe results (JSON version 1) and the typed messages between a caller and the probe process.
 * The probe rebuilds a ModelIR in TensorFlow.js, trains it briefly on synthetic data and measures
 * gradient flow; these types are all the CLI, the extension and the panel need to know about it.
 */
import { isObject } from './message-guard';
import type { Framework, ModelIR } from './ir';
import type { Severity, WhatIf } from './findings';
import { FLOW_THRESHOLDS, type FlowGrade, type FlowMeasure } from './gradient-flow';
import { DEFAULT_SEQUENCE_LENGTH } from './input-defaults';
import type { LayerSeries } from './probe-metrics';

/** What the caller asks for; 'auto' = tfjs-node when it loads, else wasm, else cpu. */
export const BACKEND_CHOICES = ['auto', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The tfjs backend actually used ('tensorflow' is the name tfjs-node registers). */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export type VerdictKind = 'vanishing' | 'attenuated' | 'exploding' | 'dead-units' | 'saturation' | 'non-finite' | 'symmetry';

/**
 * Verdict thresholds; every number is documented in docs/probe.md. The defaults follow the research
 * anchors of DESIGN.md ("The probe").
 */
export interface ProbeThresholds {
  /**
   * Vanishing when a layer's median gradient norm is below this fraction of the last hidden weighted
   * layer's (the same threshold lint's prediction uses: src/shared/gradient-flow.ts).
   */
  vanishingRatio: number;
  /** Attenuated (information) when gradNorm(first) / gradNorm(last hidden) is below this but not vanishing. */
  attenuatedRatio: number;
  /** Exploding when gradNorm(first) / gradNorm(last hidden) is above this. */
  explodingRatio: number;
  /** Exploding when any layer's gradient norm grows by more than this factor over its first step ... */
  explodingGrowth: number;
  /** ... to a norm above this (so a layer waking up from a near-zero gradient is not called exploding). */
  explodingMinNorm: number;
  /** A layer is reported as dying when at least this fraction of its units never activates. */
  deadFraction: number;
  /** A layer is reported as saturated when more than this fraction of its outputs sits in the flat tails. */
  saturatedFraction: number;
  /** A layer is reported as symmetric when at least this fraction of its units duplicates another unit. */
  symmetricFraction: number;
}

export const DEFAULT_THRESHOLDS: ProbeThresholds = {
  vanishingRatio: FLOW_THRESHOLDS.vanishingRatio,
  attenuatedRatio: FLOW_THRESHOLDS.attenuatedRatio,
  explodingRatio: FLOW_THRESHOLDS.explodingRatio,
  explodingGrowth: 1e3,
  explodingMinNorm: 1,
  deadFraction: 0.7,
  saturatedFraction: 0.5,
  symmetricFraction: 0.5,
};

/**
 * Size and time budget. A model over the step or activation budget is scaled (smaller batch, smaller
 * image), one over the time budget trains fewer steps; only a model over the parameter budget is refused.
 */
export interface ProbeBudget {
  /** Trainable + non-trainable parameters of the rebuilt model. */
  maxParams: number;
  /** Float activations of one forward pass (batch included). */
  maxActivations: number;
  /** Multiply-adds of one training step (forward + backward, batch included). */
  maxStepMacs: number;
  /**
   * Estimated milliseconds of one training step on the wasm backend (src/probe/cost.ts): bigger models
   * train at a smaller batch or image, so that the first chart comes within a few seconds.
   */
  maxStepMs: number;
  /** Wall time of the whole probe (both runs with a what-if), in milliseconds. */
  maxMs: number;
}

export const DEFAULT_BUDGET: ProbeBudget = { maxParams: 80_000_000, maxActivations: 20_000_000, maxStepMacs: 2e10, maxStepMs: 1000, maxMs: 120_000 };

export interface ProbeOptions {
  steps: number;
  batchSize: number;
  seed: number;
  backend: BackendChoice;
  /** Input shape without the batch dimension (channels last); overrides what the IR says. */
  inputShape: number[] | null;
  /** Feed raw-scale inputs: uniform integers 0..rawInputMax (e.g. 255 for pixels) instead of N(0,1). */
  rawInputMax: number | null;
  /** Sequence length for Embedding / recurrent inputs when the IR does not know it. */
  sequenceLength: number;
  thresholds: ProbeThresholds;
  budget: ProbeBudget;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = {
  steps: 30,
  batchSize: 32,
  seed: 0,
  backend: 'auto',
  inputShape: null,
  rawInputMax: null,
  sequenceLength: DEFAULT_SEQUENCE_LENGTH,
  thresholds: DEFAULT_THRESHOLDS,
  budget: DEFAULT_BUDGET,
};

/** Fill in defaults for a partial options object (nested thresholds and budget too). */
export function probeOptions(partial: Partial<Omit<ProbeOptions, 'thresholds' | 'budget'>> & {
  thresholds?: Partial<ProbeThresholds>;
  budget?: Partial<ProbeBudget>;
} = {}): ProbeOptions {
  return {
    ...DEFAULT_PROBE_OPTIONS,
    ...partial,
    thresholds: { ...DEFAULT_THRESHOLDS, ...partial.thresholds },
    budget: { ...DEFAULT_BUDGET, ...partial.budget },
  };
}

/** One layer of a probe run: what it is, and its per-step series, one per metric of src/shared/probe-metrics.ts. */
export interface ProbeLayerResult extends LayerSeries {
  /** LayerIR.id, to map back to the IR. */
  id: string;
  name: string;
  kind: string;
  /** 1-based source line of the layer's constructor call. */
  line: number;
  /** Parameters of the rebuilt layer (trainable and not). */
  params: number;
  /**
   * How many times the model applies this layer object, when more than once (a siamese trunk, an
   * unrolled cell): the row stands for every application (LayerIR.sharesWeightsWith), its gradient
   * is their sum, its activation statistics the first application's.
   */
  applications?: number;
  /**
   * Set on the head of each output when the model has several (the last weighted layer each output
   * depends on): the loss reads each, so none of them is the hidden layer the flow is judged against.
   */
  output?: true;
  /**
   * Set when the layer's weights are scale-free (scaleFreeLayers in gradient-flow.ts: all its output
   * reaches is a normalization through positively homogeneous steps): scaling them changes no loss.
   */
  scaleFree?: true;
  /**
   * Set when no gradient reaches the layer at initialization by design (zeroGatedLayers in
   * gradient-flow.ts: every path to the loss passes a normalization whose scale starts at zero).
   */
  gated?: true;
}

export interface ProbeVerdict {
  kind: VerdictKind;
  severity: Severity;
  /** Layer names, in execution order. */
  layers: string[];
  message: string;
  evidence: Record<string, number | string | number[] | null>;
}

/** A message about the run that is not a verdict: which input shape was used, skipped layers, ... */
export interface ProbeNotice {
  severity: Severity;
  message: string;
  /** 1-based line when the notice is about a layer. */
  line: number | null;
}

/** The static prediction (src/shared/knowledge/propagation.ts) of the probed model, for the panel. */
export interface ProbePrediction {
  /** log10(first / last hidden weighted layer's gradient norm) at initialization; null without a ratio. */
  log10FirstLastRatio: number | null;
  /** The layer that ratio is against: the output layer when no gradient reaches the hidden layers (absent in older results: the last hidden one). */
  against?: 'last-hidden' | 'output';
  /** What the ratio compares (FlowMeasure; absent in older results: raw gradient norms). */
  measure?: FlowMeasure;
  grade: FlowGrade | null;
  /** Per layer id: predicted output std and log10 gradient norm over the output layer's. */
  layers: { id: string; predictedStd: number; log10GradRatio: number | null }[];
  /** Why there is no prediction (then `layers` is empty). */
  unavailable: string | null;
  /** What the prediction assumed that the code does not say (sequence length, image size); absent in older results. */
  assumptions?: string[];
}

export interface ProbeResult {
  version: 1;
  model: { name: string; framework: Framework; line: number };
  backend: BackendName;
  steps: number;
  batchSize: number;
  seed: number;
  durationMs: number;
  /** Input shape used, without the batch dimension. */
  inputShape: number[];
  /** Raw-scale inputs were fed (uniform integers 0..rawInputMax) instead of standardized ones; absent in older results. */
  rawInputMax?: number | null;
  optimizer: string;
  lossName: string;
  layers: ProbeLayerResult[];
  /** Loss per completed step. */
  loss: number[];
  verdicts: ProbeVerdict[];
  notices: ProbeNotice[];
  /** What lint predicted for this model at initialization (absent in results from older versions). */
  prediction?: ProbePrediction;
  /** Title of the what-if applied to produce `whatIf`. */
  whatIfTitle: string | null;
  whatIf: ProbeResult | null;
}

export type ProbeErrorKind = 'unsupported' | 'shape' | 'budget' | 'cancelled' | 'backend' | 'input' | 'crash' | 'timeout';

export interface ProbeError {
  kind: ProbeErrorKind;
  message: string;
  /** The layer the error is about, when there is one. */
  layer: { name: string; line: number } | null;
  /**
   * A 'budget' refusal only: whether a smaller batch or input would bring the step within the budget
   * (its activations, its multiply-adds), or not (the model's parameters, a model read part-way).
   */
  shrinkable?: boolean;
}

export type ProbeOutcome = { ok: true; result: ProbeResult } | { ok: false; error: ProbeError };

/**
 * The result with every text it carries for people passed through `rename`, its numbers untouched: a
 * notebook's line mentions named by cell (notebook-layout.ts messageInCells) where the result is shown.
 */
export function renameProbeMessages(result: ProbeResult, rename: (text: string) => string): ProbeResult {
  return {
    ...result,
    // A model one of several calls builds is named by the call's line (`Model() (line 86)`).
    model: { ...result.model, name: rename(result.model.name) },
    verdicts: result.verdicts.map((v) => ({ ...v, message: rename(v.message) })),
    notices: result.notices.map((n) => ({ ...n, message: rename(n.message) })),
    ...(result.prediction ? { prediction: renamePrediction(result.prediction, rename) } : {}),
    whatIf: result.whatIf ? renameProbeMessages(result.whatIf, rename) : null,
  };
}

function renamePrediction(prediction: ProbePrediction, rename: (text: string) => string): ProbePrediction {
  return {
    ...prediction,
    unavailable: prediction.unavailable === null ? null : rename(prediction.unavailable),
    ...(prediction.assumptions ? { assumptions: prediction.assumptions.map(rename) } : {}),
  };
}

/** The outcome with its texts passed through `rename` (see renameProbeMessages). */
export function renameOutcomeMessages(outcome: ProbeOutcome, rename: (text: string) => string): ProbeOutcome {
  return outcome.ok ? { ok: true, result: renameProbeMessages(outcome.result, rename) } : { ok: false, error: { ...outcome.error, message: rename(outcome.error.message) } };
}

/** Worst severity among verdicts decides the CLI exit code: warning or above means "unhealthy". */
export function isUnhealthy(result: ProbeResult): boolean {
  return result.verdicts.some((v) => v.severity === 'error' || v.severity === 'warning');
}

// ---- messages between the caller and the probe process -------------------------------------------

export interface ProbeRequestMessage {
  type: 'probe-request';
  id: number;
  model: ModelIR;
  options: ProbeOptions;
  whatIf: WhatIf | null;
}

export interface ProbeCancelMessage {
  type: 'probe-cancel';
  id: number;
}

/**
 * Sent to a worker forked before its model is known (the CLI forks while it analyzes the file): it
 * starts the backend, so the request that follows does not wait for the wasm module to load.
 */
export interface ProbeWarmMessage {
  type: 'probe-warm';
  backend: BackendChoice;
  /**
   * A model to run a few small steps of while the worker waits (the editor's standby worker gets the
   * model it last probed): V8 compiles the probe's JavaScript then, not during the next request's steps.
   * A request that arrives meanwhile stops it between two steps.
   */
  rehearse?: { model: ModelIR; options: ProbeOptions };
}

export type ProbePhase = 'backend' | 'build' | 'train' | 'what-if-build' | 'what-if-train';

export interface ProbeProgressMessage {
  type: 'probe-progress';
  id: number;
  phase: ProbePhase;
  /** Completed steps of the current phase (0 for non-training phases). */
  step: number;
  steps: number;
  /** Loss of the last completed step, when training. */
  loss: number | null;
  backend: BackendName | null;
  /**
   * Provisional verdicts on the steps so far (after the first step, every PROVISIONAL_VERDICT_EVERY
   * steps, the last step, and with every partial result; symmetry is judged only at the end); null otherwise.
   */
  verdicts: ProbeVerdict[] | null;
  /** The result so far (the steps measured), sent with provisional verdicts and at least every half second; null otherwise. */
  partial: ProbeResult | null;
}

export const PROVISIONAL_VERDICT_EVERY = 5;

export interface ProbeDoneMessage {
  type: 'probe-done';
  id: number;
  outcome: ProbeOutcome;
}

export type CallerToProbeMessage = ProbeRequestMessage | ProbeCancelMessage | ProbeWarmMessage;
export type ProbeToCallerMessage = ProbeProgressMessage | ProbeDoneMessage;

export function isProbeRequestMessage(value: unknown): value is ProbeRequestMessage {
  return isObject(value) && value.type === 'probe-request' && typeof value.id === 'number' && isObject(value.model) && isObject(value.options);
}

export function isProbeCancelMessage(value: unknown): value is ProbeCancelMessage {
  return isObject(value) && value.type === 'probe-cancel' && typeof value.id === 'number';
}

export function isProbeWarmMessage(value: unknown): value is ProbeWarmMessage {
  if (!isObject(value) || value.type !== 'probe-warm' || !(BACKEND_CHOICES as readonly unknown[]).includes(value.backend)) return false;
  return value.rehearse === undefined || (isObject(value.rehearse) && isObject(value.rehearse.model) && isObject(value.rehearse.options));
}

export function isProbeProgressMessage(value: unknown): value is ProbeProgressMessage {
  return isObject(value) && value.type === 'probe-progress' && typeof value.id === 'number' && typeof value.step === 'number';
}

export function isProbeDoneMessage(value: unknown): value is ProbeDoneMessage {
  return isObject(value) && value.type === 'probe-done' && typeof value.id === 'number' && isObject(value.outcome) && typeof value.outcome.ok === 'boolean';
}

export function isCallerToProbeMessage(value: unknown): value is CallerToProbeMessage {
  return isProbeRequestMessage(value) || isProbeCancelMessage(value) || isProbeWarmMessage(value);
}

export function isProbeToCallerMessage(value: unknown): value is ProbeToCallerMessage {
  return isProbeProgressMessage(value) || isProbeDoneMessage(value);
}

export function isProbeResult(value: unknown): value is ProbeResult {
  return isObject(value) && value.version === 1 && Array.isArray(value.layers) && Array.isArray(value.loss) && Array.isArray(value.verdicts);
}

/**
 * Set in the probe process's environment when the editor's workspace is not trusted: the probe then
 * loads no package (e.g. a native @tensorflow/tfjs-node) from the user's folders.
 */
export const PROBE_UNTRUSTED_ENV = 'GRADIENT_LENS_PROBE_UNTRUSTED';
