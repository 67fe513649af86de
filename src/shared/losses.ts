/**
 * The loss on each output of a model, as the probe trains it, the prediction starts its backward pass
 * from it and GL105-GL107 read it: the losses the code computes (TrainingIR.losses), each put on the
 * output written for it or made for it and shaped to the activation it reads the output through (the
 * output's own, or one the loss call applies first), else one chosen from that activation (softmax ->
 * cross-entropy, sigmoid -> binary cross-entropy, otherwise mean squared error). A loss that applies its
 * own softmax or sigmoid (torch's CrossEntropyLoss) to an output that already has one computes it twice
 * (GL105); torch's NLLLoss takes minus the class's value of whatever it reads, and Keras' probability
 * losses clip whatever they read to [ε, 1 − ε], as the frameworks do (GL106 where the output is not what
 * they expect); binary cross-entropy on a softmax scores each class as its own label (GL107).
 */
import type { ActivationName, Framework, LayerIR, Location, LossIR, ModelIR } from './ir';
import { reachesBelowZero } from './knowledge/activations';
import { isConvKind, lastLayerOnPath, modelOutputs, outputWidth } from './layers';
import type { ProbeNotice } from './probe';
import { compileRuns } from './training';

/**
 * What the probe computes on an output. `categorical-crossentropy` and `binary-crossentropy` read
 * probabilities (clipped to [ε, 1 − ε] before the log, as Keras does); the `-clipped` ones are Keras'
 * probability losses on values that are not a softmax's: `categorical_crossentropy` divides the values
 * by their sum first, `sparse_categorical_crossentropy` takes the log-softmax of their clipped log.
 */
export type LossKind =
  | 'categorical-crossentropy'
  | 'categorical-crossentropy-clipped'
  | 'sparse-crossentropy-clipped'
  | 'categorical-crossentropy-logits'
  | 'nll'
  | 'binary-crossentropy'
  | 'binary-crossentropy-logits'
  | 'mse'
  | 'mae'
  | 'huber';

/** Layers that pass their input's values on unchanged in kind: the activation a loss sees is before them. */
const PASSING = new Set(['dropout', 'alpha-dropout', 'flatten', 'input']);

/** The layer whose activation is applied last on the way to layer `index` (a softmax before a Dropout and a Flatten counts); null when none. */
function activationLayerOf(model: ModelIR, index: number): number | null {
  return lastLayerOnPath(model, index, (layer) => !PASSING.has(layer.kind));
}

/** One output the training loss reads: its layer's index and the loss on it. */
export interface LossTerm {
  index: number;
  kind: LossKind;
  /** The activation the loss reads the output through: the output's own, or one the loss call applies. */
  activation: ActivationName | null;
  /** An activation the loss call applies to the output first (`criterion(F.softmax(out, dim=1), y)`): the probe applies it too. */
  applied: ActivationName | null;
}

/** Keras' `backend.epsilon()`: its probability losses clip what they read to [ε, 1 − ε] before the log. */
export const PROBABILITY_CLIP = 1e-7;

/** The canonical name of torch's NLLLoss (training/losses.ts reads it so). */
export const NLL_LOSS = 'nll';

/** The canonical name of binary cross-entropy (Keras' and torch's BCELoss). */
export const BINARY_LOSS = 'binary_crossentropy';

/** The canonical name of a cross-entropy over integer classes (Keras' sparse one, torch's CrossEntropyLoss). */
export const SPARSE_CATEGORICAL_LOSS = 'sparse_categorical_crossentropy';

/** What a loss compares: classes (one of several), independent 0/1 labels, or values. */
type LossFamily = 'categorical' | 'binary' | 'mse' | 'mae' | 'huber';

function familyOf(loss: LossIR): LossFamily | null {
  const written = loss.name.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (/binary|bce/.test(written)) return 'binary';
  if (/crossentropy|nll|categorical/.test(written)) return 'categorical';
  if (/huber|smoothl1/.test(written)) return 'huber';
  if (/mae|meanabsolute|l1/.test(written)) return 'mae';
  if (/mse|meansquared|l2/.test(written)) return 'mse';
  return null;
}

/** The family an output's activation is made for: a softmax for classes, a sigmoid for 0/1 labels. */
function familyFor(activation: ActivationName | null): LossFamily | null {
  return activation === 'softmax' || activation === 'log_softmax' ? 'categorical' : activation === 'sigmoid' ? 'binary' : null;
}

/**
 * The loss each output trains on, of `losses` (known ones): the one written for its name (Keras'
 * `loss={'name': ...}`); else the only other one; or, when the training adds several (a GAN
 * discriminator's BCELoss on its sigmoid head and CrossEntropyLoss on its softmax head, Keras'
 * `loss=[...]`), the one made for the output's activation; an output with none takes the one regression
 * loss left (a linear head's MSELoss), and the others the one loss left after that (a softmax head's
 * BCELoss beside a linear head's MSELoss), else the one no output made for it takes. Null where the code
 * does not decide.
 */
function assignLosses(losses: readonly LossIR[], activations: readonly (ActivationName | null)[], names: readonly string[]): (LossIR | null)[] {
  const named = names.map((name) => losses.find((l) => l.output === name) ?? null);
  const rest = losses.filter((l) => !named.includes(l));
  if (rest.length <= 1) return named.map((loss) => loss ?? rest[0] ?? null);
  const matched = activations.map((activation, k) => {
    if (named[k]) return named[k];
    const family = familyFor(activation);
    const fitting = family ? rest.filter((l) => familyOf(l) === family) : [];
    return fitting.length === 1 ? fitting[0]! : null;
  });
  const untaken = rest.filter((l) => !matched.includes(l));
  const only = (candidates: readonly LossIR[]) => (candidates.length === 1 ? candidates[0]! : untaken.length === 1 ? untaken[0]! : null);
  const regression = untaken.filter((l) => REGRESSION_FAMILIES.has(familyOf(l)));
  const linear = matched.map((loss, k) => loss ?? (familyFor(activations[k] ?? null) === null ? only(regression) : null));
  const left = untaken.filter((l) => !linear.includes(l));
  return linear.map((loss) => loss ?? only(left));
}

/** The families a head with no softmax or sigmoid is trained on. */
const REGRESSION_FAMILIES: ReadonlySet<LossFamily | null> = new Set<LossFamily | null>(['mse', 'mae', 'huber']);


/** One output of a model and the loss it trains on. */
export interface OutputLoss extends LossTerm {
  /** The index of the layer that applies the output's own activation (activationLayerOf). */
  activationLayer: number | null;
  /** The loss the code writes for this output; null when the probe chooses one from the activation. */
  written: LossIR | null;
}

/** The layer that applies an output's activation (a Softmax after its Linear), else the output's own layer. */
export function activatedLayer(model: ModelIR, output: OutputLoss): LayerIR {
  return model.layers[output.activationLayer ?? output.index]!;
}

/** Each model output (see modelOutputs), the loss the code trains it on, and what that loss computes on it. */
export function outputLosses(model: ModelIR): OutputLoss[] {
  // A Keras compile whose training never runs (a sampler loading weights) trains on no loss.
  const known = compileRuns(model.training) ? model.training.losses.filter((l) => familyOf(l) !== null) : [];
  const outputs = modelOutputs(model);
  const layers = outputs.map((index) => activationLayerOf(model, index));
  const activations = layers.map((at) => (at === null ? null : (model.layers[at]!.activation?.name ?? null)));
  const assigned = assignLosses(known, activations, outputs.map((index) => model.layers[index]!.name));
  return outputs.map((index, k) => {
    const written = assigned[k] ?? null;
    const applied = written?.appliedFirst?.name ?? null;
    const activation = applied ?? activations[k] ?? null;
    return { index, activation, applied, activationLayer: layers[k] ?? null, written, kind: written ? writtenLoss(written, activation, model.framework) : chosenLoss(activation) };
  });
}

/** The activation an output's loss applies a second time (a softmax under torch's CrossEntropyLoss), or null. */
export function appliedTwice(output: OutputLoss): 'softmax' | 'sigmoid' | null {
  if (output.kind === 'categorical-crossentropy-logits' && output.activation === 'softmax') return 'softmax';
  if (output.kind === 'binary-crossentropy-logits' && output.activation === 'sigmoid') return 'sigmoid';
  return null;
}

/** Whether the output trains on one of Keras' probability losses that reads it as it is, and it does not end in the activation that loss expects (GL106, the probe's note). */
export function readsValuesAsProbabilities(output: Pick<LossTerm, 'kind' | 'activation'>): boolean {
  if (output.kind === 'categorical-crossentropy-clipped' || output.kind === 'sparse-crossentropy-clipped') return true;
  return output.kind === 'binary-crossentropy' && !withinZeroOne(output.activation);
}

/** Activations whose values lie in [0, 1]: a probability loss reads them as they are. */
const WITHIN_ZERO_ONE: ReadonlySet<ActivationName> = new Set(['sigmoid', 'hard_sigmoid', 'softmax']);
const withinZeroOne = (activation: ActivationName | null): boolean => activation !== null && WITHIN_ZERO_ONE.has(activation);

/** An output whose loss, known to read it, expects probabilities or log-probabilities it does not get (GL106, and the activation's hover). */
export interface MisreadOutput {
  output: OutputLoss;
  loss: LossIR;
  /** The activation the loss expects the output to end in. */
  expects: 'softmax' | 'sigmoid' | 'log_softmax';
  /** The output's values in words: `a tanh`, `no activation`. */
  words: string;
  /** Whether nothing bounds the values (no activation): NLLLoss on them falls without end. */
  unbounded: boolean;
  /** The loss in the words the code uses: torch's criterion, or Keras' name. */
  lossWords: string;
}

/** torch's BCELoss on an output that does not end in a sigmoid: torch stops with an error on values outside [0, 1]. */
function torchBceOnValues(model: ModelIR, output: OutputLoss): boolean {
  return model.framework === 'torch' && output.written !== null && familyOf(output.written) === 'binary' && output.written.fromLogits === false && !withinZeroOne(output.activation);
}

/**
 * Outputs trained on Keras' probability losses (no `from_logits=True`) whose values can be negative,
 * under torch's NLLLoss that are not a log-softmax, and under torch's BCELoss that can be negative. Only
 * where the output's last activation is known: its activation, or a dense or convolution layer with
 * none (a Lambda or a custom layer is not).
 */
export function misreadOutputs(model: ModelIR): MisreadOutput[] {
  // Most models train on no such loss: the outputs are read only when one is written.
  if (!model.training.losses.some((loss) => loss.onOutput === true && (loss.fromLogits === false || loss.name === NLL_LOSS))) return [];
  return outputLosses(model).flatMap((output): MisreadOutput[] => {
    const loss = output.written;
    if (loss?.onOutput !== true) return [];
    const layer = output.activationLayer === null ? null : model.layers[output.activationLayer];
    const linear = output.activation === null || output.activation === 'linear';
    if (linear && !(output.activation === 'linear' || (layer && (layer.kind === 'dense' || isConvKind(layer.kind))))) return [];
    const words = linear ? 'no activation' : `a ${output.activation}`;
    const signed = output.activation === null || reachesBelowZero(output.activation);
    if (model.framework === 'keras' && readsValuesAsProbabilities(output) && signed) return [{ output, loss, expects: loss.name === BINARY_LOSS ? 'sigmoid' : 'softmax', words, unbounded: linear, lossWords: loss.name }];
    if (output.kind === 'nll' && output.activation !== 'log_softmax') return [{ output, loss, expects: 'log_softmax', words, unbounded: linear, lossWords: 'NLLLoss' }];
    if (torchBceOnValues(model, output) && signed) return [{ output, loss, expects: 'sigmoid', words, unbounded: linear, lossWords: 'BCELoss' }];
    return [];
  });
}

/** A softmax output of three classes or more trained on binary cross-entropy (GL107, the probe's note, the softmax's hover). */
export interface BinaryOnSoftmax {
  output: OutputLoss;
  loss: LossIR;
  classes: number;
  /** The loss in the words the code uses: torch's criterion, or Keras' name. */
  lossWords: string;
}

/**
 * Outputs that end in a softmax over C >= 3 classes and train on binary cross-entropy, which scores each
 * class as an independent 0/1 label (at two classes it is cross-entropy exactly).
 */
export function binaryOnSoftmax(model: ModelIR): BinaryOnSoftmax[] {
  if (!model.training.losses.some((loss) => loss.onOutput === true && familyOf(loss) === 'binary')) return [];
  return outputLosses(model).flatMap((output): BinaryOnSoftmax[] => {
    const loss = output.written;
    if (loss?.onOutput !== true || output.kind !== 'binary-crossentropy' || output.activation !== 'softmax') return [];
    const classes = outputWidth(model, output.activationLayer ?? output.index);
    if (classes === null || classes < 3) return [];
    return [{ output, loss, classes, lossWords: model.framework === 'torch' ? 'BCELoss' : loss.name }];
  });
}

/** An output whose written loss, known to read it, applies its activation again (GL105, and the activation's hover). */
export interface DoubledOutput {
  twice: 'softmax' | 'sigmoid';
  /** The output's layer index (modelOutputs). */
  index: number;
  /** What applies the activation first: the output's layer, or the loss call (`criterion(F.softmax(out), y)`). */
  first: { kind: 'layer'; index: number } | { kind: 'call'; at: Location };
  loss: LossIR;
  /** The loss in the words the code uses: torch's criterion, or Keras' name with its flag. */
  lossWords: string;
}

/** The model's outputs whose loss applies their softmax or sigmoid again, where the loss is known to read the model's own output (a generator's reads its discriminator's). */
export function doubledOutputs(model: ModelIR): DoubledOutput[] {
  // Only a written loss that takes logits applies an activation of its own (most models have none).
  if (!model.training.losses.some((loss) => loss.fromLogits === true)) return [];
  return outputLosses(model).flatMap((output): DoubledOutput[] => {
    const twice = appliedTwice(output);
    const loss = output.written;
    if (!twice || loss?.onOutput !== true) return [];
    const first = loss.appliedFirst ? { kind: 'call' as const, at: loss.appliedFirst.at } : output.activationLayer !== null ? { kind: 'layer' as const, index: output.activationLayer } : null;
    if (!first) return [];
    const lossWords = model.framework === 'torch' ? (twice === 'softmax' ? 'CrossEntropyLoss' : 'BCEWithLogitsLoss') : `${loss.name} with from_logits=True`;
    return [{ twice, index: output.index, first, loss, lossWords }];
  });
}

/**
 * The loss on each model output (see modelOutputs). Several outputs are trained on the sum of their
 * losses, as Keras sums them and a torch loop adds a criterion per head.
 */
export function resolveLosses(model: ModelIR, notices: ProbeNotice[]): LossTerm[] {
  const written = model.training.losses;
  const known = written.filter((l) => familyOf(l) !== null);
  for (const loss of written) if (familyOf(loss) === null) notices.push({ severity: 'information', message: `Loss ${loss.name} is not known to the probe; chosen from the last layer instead.`, line: null });
  const outputs = outputLosses(model);
  const activations = outputs.map((o) => o.activation);
  const assigned = outputs.map((o) => o.written);
  const terms = outputs.map(({ index, kind, activation, applied }): LossTerm => ({ index, kind, activation, applied }));
  const names = outputs.map(({ index }) => model.layers[index]!.name);
  if (known.length === 0 && written.length === 0) {
    const kinds = [...new Set(terms.map((t) => t.kind))];
    const shown = [...new Set(activations.map((a) => a ?? 'linear'))];
    const from = terms.length === 1 ? `the last layer's ${shown[0]!} output` : `the outputs' ${shown.join(', ')} activations`;
    notices.push({ severity: 'information', message: `No loss in the code; the probe uses ${kinds.join(', ')} (from ${from}).`, line: null });
  }
  if (known.length > 1) {
    const each = terms.map((t, k) => `${t.kind} on ${names[k]!}${assigned[k] ? '' : ' (from its activation)'}`);
    notices.push({ severity: 'information', message: `The training adds ${known.length} losses (${known.map((l) => l.name).join(', ')}); the probe puts ${each.join(', ')}.`, line: null });
  }
  for (const [k, output] of outputs.entries()) {
    // What the loss reads: the output through the activation its call applies, or the output's own.
    const reads = (activation: ActivationName | null) => (output.applied ? `The loss call applies a ${output.applied} to ${names[k]!}` : `${names[k]!} ends in ${activation && activation !== 'linear' ? `a ${activation}` : 'no activation'}`);
    if (output.kind === 'nll' && output.activation !== 'log_softmax') {
      const value = output.activation === 'softmax' ? 'probability' : 'value';
      notices.push({ severity: 'information', message: `${reads(output.activation)} and NLLLoss expects log-probabilities: the loss is minus the class's ${value}, as torch computes it.`, line: null });
    }
    if (readsValuesAsProbabilities(output)) {
      notices.push({ severity: 'information', message: `${reads(output.activation)} and ${output.written?.name ?? 'its loss'} expects probabilities: Keras clips the values to [${PROBABILITY_CLIP}, 1 - ${PROBABILITY_CLIP}] before the log, and the probe computes it so (no gradient reaches the values outside).`, line: null });
    }
    if (output.kind === 'binary-crossentropy' && output.activation === 'softmax') {
      notices.push({ severity: 'information', message: `${reads(output.activation)} and binary cross-entropy scores each class as an independent 0/1 label: the probe trains it on one-hot labels, as the softmax's data must be (its gradient is about 1/(C-1)^2 of cross-entropy's at C classes).`, line: null });
    }
    if (torchBceOnValues(model, output)) {
      notices.push({ severity: 'information', message: `${reads(output.activation)} and BCELoss expects probabilities: torch stops with an error on values outside [0, 1] ("all elements of input should be between 0 and 1"); the probe computes BCEWithLogitsLoss in its place.`, line: null });
    }
    const twice = appliedTwice(output);
    if (twice) notices.push({ severity: 'information', message: `${reads(twice)} and its loss applies a ${twice} of its own: the probe computes both, as the framework does (its gradient is the smaller for it).`, line: null });
  }
  if (terms.length > 1) notices.push({ severity: 'information', message: `The model returns ${terms.length} outputs (${names.join(', ')}); the probe trains on the sum of a loss on each, as Keras sums them.`, line: null });
  return terms;
}

/** The loss a written one computes on an output with `activation`; a loss that takes logits applies its own softmax or sigmoid. */
function writtenLoss(loss: LossIR, activation: ActivationName | null, framework: Framework): LossKind {
  // torch's NLLLoss takes minus the class's value of what it reads, when that is known to be the output
  // (through the activation the loss call applies, if any); otherwise (computed inside forward, or on
  // another value of the output) it is read as cross-entropy on the output's activation.
  if (loss.name === NLL_LOSS && loss.onOutput === true) return 'nll';
  const family = familyOf(loss) ?? 'mse';
  // Keras' probability losses compute the same on any values (only a softmax's or a sigmoid's give
  // them what they expect); torch's BCELoss stops with an error on values outside [0, 1].
  const kerasProbabilities = framework === 'keras' && loss.fromLogits === false;
  if (family === 'binary') return loss.fromLogits === true ? 'binary-crossentropy-logits' : kerasProbabilities ? 'binary-crossentropy' : binaryLoss(activation);
  if (family !== 'categorical') return family;
  if (loss.fromLogits === true) return 'categorical-crossentropy-logits';
  if (kerasProbabilities && activation !== 'softmax') return loss.name === SPARSE_CATEGORICAL_LOSS ? 'sparse-crossentropy-clipped' : 'categorical-crossentropy-clipped';
  return categoricalLoss(activation);
}

function chosenLoss(activation: ActivationName | null): LossKind {
  return activation === 'softmax' || activation === 'log_softmax' ? categoricalLoss(activation) : activation === 'sigmoid' ? 'binary-crossentropy' : 'mse';
}

function categoricalLoss(activation: ActivationName | null): LossKind {
  return activation === 'softmax' ? 'categorical-crossentropy' : activation === 'log_softmax' ? 'nll' : 'categorical-crossentropy-logits';
}

function binaryLoss(activation: ActivationName | null): LossKind {
  return withinZeroOne(activation) ? 'binary-crossentropy' : 'binary-crossentropy-logits';
}

/** sigma(0.5)^2 and (1 - sigma(0.5))^2 averaged: E[(sigma(sigma(0)) - y)^2] over 0/1 labels. */
const DOUBLE_SIGMOID_ERROR = (1 / (1 + Math.exp(-0.5))) ** 2 / 2 + (1 - 1 / (1 + Math.exp(-0.5))) ** 2 / 2;

/**
 * The square of the loss gradient on an output head's pre-activation, summed over its units and
 * positions, per example, at initialization (small outputs; targets as the probe draws them: one
 * class, 0/1 labels, N(0, 1) values), up to the batch size every loss divides by. The probe's losses
 * average over the positions, and the elementwise ones over the units too: a softmax head of C classes
 * gets (C-1)/C, a sigmoid head 1/(4 C), a squared error 4 (1 + q)/C for outputs of second moment q.
 * Heads trained on different losses get gradients as different as these: a softmax under
 * CrossEntropyLoss, which applies one more, gets 1/C^2 of a plain one. Null for Keras' probability
 * losses on values that are not probabilities: clipped to [ε, 1 − ε], the gradient is 0 outside and
 * 1/value inside, its batch mean set by the values nearest zero.
 */
export function headGradientSquare(kind: LossKind, activation: ActivationName | null, units: number, positions: number, q: number): number | null {
  const c = Math.max(units, 1);
  const perPosition = 1 / Math.max(positions, 1);
  switch (kind) {
    case 'categorical-crossentropy':
      return (perPosition * (c - 1)) / c;
    case 'nll':
      // Minus the class's value: on log-probabilities cross-entropy's; on a softmax, -p (the softmax's
      // Jacobian, 1/C); on anything else, the class's unit alone gets the whole gradient.
      return activation === 'log_softmax' ? (perPosition * (c - 1)) / c : activation === 'softmax' ? (perPosition * (c - 1)) / c ** 3 : perPosition;
    case 'categorical-crossentropy-logits':
      // On a softmax: the loss's own softmax of near-uniform probabilities, then the output's Jacobian (1/C).
      return (perPosition * (c - 1)) / c ** (activation === 'softmax' ? 3 : 1);
    case 'binary-crossentropy':
      // On a softmax (one-hot labels, each unit a 0/1 label): (1 - C t)/(C - 1) on the probabilities, 1/C of
      // it through the softmax at uniform probabilities, 1/(C (C - 1)) in all: 1/(C - 1)^2 of cross-entropy's.
      if (activation === 'softmax') return c > 1 ? perPosition / (c * (c - 1)) : null;
      return activation === 'sigmoid' ? perPosition / (4 * c) : null;
    case 'categorical-crossentropy-clipped':
    case 'sparse-crossentropy-clipped':
      return null;
    case 'binary-crossentropy-logits':
      // On a sigmoid: sigma(sigma(z)) against the label, times the output's slope (1/4).
      return activation === 'sigmoid' ? (perPosition * DOUBLE_SIGMOID_ERROR) / (16 * c) : perPosition / (4 * c);
    case 'mse':
      return (perPosition * 4 * (1 + q)) / c;
    case 'mae':
      return perPosition / c;
    case 'huber':
      return (perPosition * huberSquare(1 + q)) / c;
  }
}

/** E[min(e^2, 1)] for e ~ N(0, variance): the squared Huber gradient (slope 1 beyond 1). Simpson's rule over +-8 sd. */
function huberSquare(variance: number): number {
  const sd = Math.sqrt(variance);
  const steps = 256;
  const h = (16 * sd) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const e = -8 * sd + i * h;
    const f = (Math.min(e * e, 1) * Math.exp((-e * e) / (2 * variance))) / (sd * Math.sqrt(2 * Math.PI));
    sum += f * (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2);
  }
  return (sum * h) / 3;
}
