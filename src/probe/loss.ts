/**
 * The training loss and matching synthetic targets: from compile(loss=...) / the torch criterion when
 * the IR knows it, else from the last layer (softmax -> cross-entropy, sigmoid -> binary cross-entropy,
 * otherwise mean squared error).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName, ModelIR } from '../shared/ir';
import type { ProbeNotice } from '../shared/probe';
import type { Rng } from './rng';

export type LossKind = 'categorical-crossentropy' | 'categorical-crossentropy-logits' | 'nll' | 'binary-crossentropy' | 'binary-crossentropy-logits' | 'mse' | 'mae' | 'huber';

const EPSILON = 1e-7;

export function lastActivation(model: ModelIR): ActivationName | null {
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i]!;
    if (layer.kind === 'dropout' || layer.kind === 'alpha-dropout' || layer.kind === 'flatten' || layer.kind === 'input') continue;
    return layer.activation?.name ?? null;
  }
  return null;
}

export function resolveLoss(model: ModelIR, notices: ProbeNotice[]): LossKind {
  const written = model.training.loss?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? null;
  const last = lastActivation(model);
  const categorical = (): LossKind => (last === 'softmax' ? 'categorical-crossentropy' : last === 'log_softmax' ? 'nll' : 'categorical-crossentropy-logits');
  const binary = (): LossKind => (last === 'sigmoid' ? 'binary-crossentropy' : 'binary-crossentropy-logits');
  if (written) {
    if (/binary|bce/.test(written)) return binary();
    if (/crossentropy|nll|categorical/.test(written)) return categorical();
    if (/huber|smoothl1/.test(written)) return 'huber';
    if (/mae|meanabsolute|l1/.test(written)) return 'mae';
    if (/mse|meansquared|l2/.test(written)) return 'mse';
    notices.push({ severity: 'information', message: `Loss ${model.training.loss} is not known to the probe; chosen from the last layer instead.`, line: null });
  }
  const chosen: LossKind = last === 'softmax' || last === 'log_softmax' ? categorical() : last === 'sigmoid' ? 'binary-crossentropy' : 'mse';
  if (!written) notices.push({ severity: 'information', message: `No loss in the code; the probe uses ${chosen} (from the last layer's ${last ?? 'linear'} output).`, line: null });
  return chosen;
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

/** Mean loss over the batch (and positions) as a scalar. */
export function computeLoss(kind: LossKind, output: tf.Tensor, target: tf.Tensor): tf.Tensor {
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
