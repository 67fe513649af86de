/**
 * The training loss and matching synthetic targets, per output, for the loss each output trains on
 * (shared/losses.ts decides which).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '../shared/ir';
import { PROBABILITY_CLIP, type LossKind } from '../shared/losses';
import type { Rng } from './rng';
import { crossentropyKernels } from './crossentropy';

const EPSILON = PROBABILITY_CLIP;

/**
 * Random targets of the output's shape that fit the loss: one-hot classes, 0/1 labels or N(0,1). A
 * softmax output gets one-hot classes whatever its loss (Keras' binary_crossentropy on a softmax is
 * trained on one-hot labels: the softmax allows no other).
 */
export function makeTargets(kind: LossKind, activation: ActivationName | null, outShape: number[], batch: number, rng: Rng): tf.Tensor {
  const shape = [batch, ...outShape];
  const count = shape.reduce((a, b) => a * b, 1);
  const binary = kind === 'binary-crossentropy' || kind === 'binary-crossentropy-logits';
  if (binary && activation !== 'softmax') return tf.tensor(rng.fill(count, () => (rng.next() < 0.5 ? 0 : 1)), shape);
  if (kind === 'mse' || kind === 'mae' || kind === 'huber') return tf.tensor(rng.normalInto(new Float32Array(count)), shape);
  const classes = outShape[outShape.length - 1]!;
  const values = new Float32Array(count);
  for (let row = 0; row < count / classes; row++) values[row * classes + rng.int(classes)] = 1;
  return tf.tensor(values, shape);
}

/**
 * The output as the loss call hands it to the loss: through the softmax, sigmoid or log-softmax the call
 * applies first (`criterion(F.softmax(out, dim=1), y)`, over the last axis, where the probe keeps
 * features), else as it is.
 */
export function appliedFirst(activation: ActivationName | null, output: tf.Tensor): tf.Tensor {
  if (activation === 'softmax') return tf.softmax(output);
  if (activation === 'log_softmax') return tf.logSoftmax(output);
  if (activation === 'sigmoid') return tf.sigmoid(output);
  return output;
}

/**
 * What a Keras probability loss on values that are not probabilities clips, as a share (no gradient
 * passes it): of the values for the sparse and binary ones; of the examples (and positions) whose class's
 * share of the sum is clipped for categorical_crossentropy, which then pass none at all.
 */
export function clippedShare(kind: LossKind, output: tf.Tensor, target: tf.Tensor): tf.Scalar {
  const outside = (v: tf.Tensor) => tf.logicalOr(tf.less(v, EPSILON), tf.greater(v, 1 - EPSILON));
  if (kind !== 'categorical-crossentropy-clipped') return tf.mean(tf.cast(outside(output), 'float32'));
  const ofClass = tf.sum(tf.mul(target, tf.div(output, tf.sum(output, output.rank - 1, true))), output.rank - 1);
  return tf.mean(tf.cast(outside(ofClass), 'float32'));
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
    case 'categorical-crossentropy-clipped': {
      // Keras: the values divided by their sum, clipped, then the log.
      const p = tf.clipByValue(tf.div(output, tf.sum(output, last, true)), EPSILON, 1 - EPSILON);
      return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(p)), last)));
    }
    case 'sparse-crossentropy-clipped':
      // Keras: the values clipped, their log taken as logits.
      return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(tf.log(tf.clipByValue(output, EPSILON, 1 - EPSILON)))), last)));
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
