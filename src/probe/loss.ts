/**
 * The training loss and matching synthetic targets: from compile(loss=...) / the torch criterion when
 * the IR knows it, else from the output layer's activation (softmax -> cross-entropy, sigmoid -> binary
 * cross-entropy, otherwise mean squared error); one term per output of a model with several.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName, LayerIR, ModelIR } from '../shared/ir';
import { modelOutputs } from '../shared/layers';
import type { ProbeNotice } from '../shared/probe';
import type { Rng } from './rng';
import { crossentropyKernels } from './crossentropy';

export type LossKind = 'categorical-crossentropy' | 'categorical-crossentropy-logits' | 'nll' | 'binary-crossentropy' | 'binary-crossentropy-logits' | 'mse' | 'mae' | 'huber';

const EPSILON = 1e-7;

/** Layers that pass their input's values on unchanged in kind: the activation a loss sees is before them. */
const PASSING = new Set(['dropout', 'alpha-dropout', 'flatten', 'input']);

/** The activation applied last on the way to layer `index` (a softmax before a Dropout and a Flatten counts). */
export function outputActivation(model: ModelIR, index: number): ActivationName | null {
  const byId = new Map(model.layers.map((l, i) => [l.id, i]));
  for (let i: number | undefined = index; i !== undefined && i >= 0; ) {
    const layer: LayerIR = model.layers[i]!;
    if (!PASSING.has(layer.kind)) return layer.activation?.name ?? null;
    i = !model.isGraph ? i - 1 : layer.inputs.length > 0 ? byId.get(layer.inputs[0]!) : undefined;
  }
  return null;
}

/** One output the training loss reads: its layer's index and the loss on it. */
export interface LossTerm {
  index: number;
  kind: LossKind;
}

/**
 * The loss on each model output (see modelOutputs): the loss the code writes, shaped to each output's
 * activation, else one chosen from that activation. Several outputs are trained on the sum of their
 * losses, as Keras sums them and a torch loop adds a criterion per head.
 */
export function resolveLosses(model: ModelIR, notices: ProbeNotice[]): LossTerm[] {
  const written = model.training.loss?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? null;
  const known = written !== null && writtenLoss(written, null) !== null;
  if (written && !known) notices.push({ severity: 'information', message: `Loss ${model.training.loss} is not known to the probe; chosen from the last layer instead.`, line: null });
  const outputs = modelOutputs(model);
  const terms = outputs.map((index): LossTerm => {
    const activation = outputActivation(model, index);
    return { index, kind: (known && written ? writtenLoss(written, activation) : null) ?? chosenLoss(activation) };
  });
  const activations = outputs.map((index) => outputActivation(model, index) ?? 'linear');
  if (!written) {
    const kinds = [...new Set(terms.map((t) => t.kind))];
    const from = terms.length === 1 ? `the last layer's ${activations[0]!} output` : `the outputs' ${[...new Set(activations)].join(', ')} activations`;
    notices.push({ severity: 'information', message: `No loss in the code; the probe uses ${kinds.join(', ')} (from ${from}).`, line: null });
  }
  if (terms.length > 1) {
    const names = outputs.map((index) => model.layers[index]!.name);
    notices.push({ severity: 'information', message: `The model returns ${terms.length} outputs (${names.join(', ')}); the probe trains on the sum of a loss on each, as Keras sums them.`, line: null });
  }
  return terms;
}

/** The loss a written name stands for, shaped to the output's activation; null for a name the probe does not know. */
function writtenLoss(written: string, activation: ActivationName | null): LossKind | null {
  if (/binary|bce/.test(written)) return binaryLoss(activation);
  if (/crossentropy|nll|categorical/.test(written)) return categoricalLoss(activation);
  if (/huber|smoothl1/.test(written)) return 'huber';
  if (/mae|meanabsolute|l1/.test(written)) return 'mae';
  if (/mse|meansquared|l2/.test(written)) return 'mse';
  return null;
}

function chosenLoss(activation: ActivationName | null): LossKind {
  return activation === 'softmax' || activation === 'log_softmax' ? categoricalLoss(activation) : activation === 'sigmoid' ? 'binary-crossentropy' : 'mse';
}

function categoricalLoss(activation: ActivationName | null): LossKind {
  return activation === 'softmax' ? 'categorical-crossentropy' : activation === 'log_softmax' ? 'nll' : 'categorical-crossentropy-logits';
}

function binaryLoss(activation: ActivationName | null): LossKind {
  return activation === 'sigmoid' ? 'binary-crossentropy' : 'binary-crossentropy-logits';
}

/** Random targets of the output's shape that fit the loss: one-hot classes, 0/1 labels or N(0,1). */
export function makeTargets(kind: LossKind, outShape: number[], batch: number, rng: Rng): tf.Tensor {
  const shape = [batch, ...outShape];
  const count = shape.reduce((a, b) => a * b, 1);
  if (kind === 'binary-crossentropy' || kind === 'binary-crossentropy-logits') return tf.tensor(rng.fill(count, () => (rng.next() < 0.5 ? 0 : 1)), shape);
  if (kind === 'mse' || kind === 'mae' || kind === 'huber') return tf.tensor(rng.normalInto(new Float32Array(count)), shape);
  const classes = outShape[outShape.length - 1]!;
  const values = new Float32Array(count);
  for (let row = 0; row < count / classes; row++) values[row * classes + rng.int(classes)] = 1;
  return tf.tensor(values, shape);
}

/** Mean loss over the batch (and positions) as a scalar, times `scale` (a product in float32, as tf.mul). */
export function computeLoss(kind: LossKind, output: tf.Tensor, target: tf.Tensor, scale = 1): tf.Tensor {
  const fused = kind === 'categorical-crossentropy' ? crossentropyKernels(output, target, EPSILON, scale) : null;
  if (fused) return fused;
  const loss = unscaledLoss(kind, output, target);
  return scale === 1 ? loss : tf.mul(loss, scale);
}

function unscaledLoss(kind: LossKind, output: tf.Tensor, target: tf.Tensor): tf.Tensor {
  const last = output.rank - 1;
  switch (kind) {
    case 'categorical-crossentropy':
      return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(tf.clipByValue(output, EPSILON, 1))), last)));
    case 'categorical-crossentropy-logits':
      return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(output)), last)));
    case 'nll':
      return tf.neg(tf.mean(tf.sum(tf.mul(target, output), last)));
    case 'binary-crossentropy': {
      const p = tf.clipByValue(output, EPSILON, 1 - EPSILON);
      return tf.neg(tf.mean(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))))));
    }
    case 'binary-crossentropy-logits':
      // max(z, 0) - z y + log(1 + exp(-|z|)): stable for any logit.
      return tf.mean(tf.add(tf.sub(tf.relu(output), tf.mul(output, target)), tf.log1p(tf.exp(tf.neg(tf.abs(output))))));
    case 'mse':
      return tf.mean(tf.squaredDifference(output, target));
    case 'mae':
      return tf.mean(tf.abs(tf.sub(output, target)));
    case 'huber': {
      const error = tf.abs(tf.sub(output, target));
      const quadratic = tf.minimum(error, 1);
      return tf.mean(tf.add(tf.mul(0.5, tf.square(quadratic)), tf.sub(error, quadratic)));
    }
  }
}
