/**
 * Every activation the analyzer knows, as differentiable tfjs-core ops with each framework's
 * semantics (Keras and PyTorch differ for leaky_relu's default slope, hard_sigmoid, prelu's alpha).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationIR, Framework, LayerIR } from '../shared/ir';
import { layerFailure } from './errors';
import { softmax } from './crossentropy';

/** How a layer's output is measured: saturation for the sigmoid/tanh family, dead units for ReLU. */
export type OutputMeasure = 'sigmoid' | 'tanh' | 'relu' | null;

export function measureOf(activation: ActivationIR | null): OutputMeasure {
  switch (activation?.name) {
    case 'sigmoid':
    case 'hard_sigmoid':
      return 'sigmoid';
    case 'tanh':
    case 'softsign':
      return 'tanh';
    case 'relu':
    case 'relu6':
      return 'relu';
    default:
      return null;
  }
}

export interface BuiltActivation {
  apply(x: tf.Tensor): tf.Tensor;
  /** PReLU's learned slope; empty for every other activation. */
  vars: tf.Variable[];
}

function elu(x: tf.Tensor, alpha: number): tf.Tensor {
  if (alpha === 1) return tf.elu(x);
  return tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.sub(tf.exp(tf.minimum(x, 0)), 1)));
}

/** Exact GELU 0.5 x (1 + erf(x / sqrt 2)), the default of both frameworks. */
function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/**
 * `f` applied over `axis` of x (its batch axis counted) where f works over the last axis: the axis moved
 * last and back (torch's `F.softmax(x, dim=1)` on a (batch, time, slots) tensor normalizes over time).
 */
function overAxis(f: (x: tf.Tensor) => tf.Tensor, axis: number | null): (x: tf.Tensor) => tf.Tensor {
  return (x) => {
    if (axis === null || axis === x.rank - 1 || axis <= 0 || axis >= x.rank) return f(x);
    const order = [...x.shape.keys()].filter((k) => k !== axis);
    const perm = [...order, axis];
    const back = x.shape.map((_, k) => perm.indexOf(k));
    return tf.transpose(f(tf.transpose(x, perm)), back);
  };
}

/**
 * The activation as a function. `shape` is the per-example input shape (for Keras PReLU, whose alpha
 * has one value per input element); `name` prefixes the variable names; `axis` is the axis (batch
 * counted) a softmax normalizes, the last when null.
 */
export function buildActivation(activation: ActivationIR | null, framework: Framework, layer: LayerIR, shape: number[], name: string, axis: number | null = null): BuiltActivation {
  const keras = framework === 'keras';
  const p = activation?.params ?? {};
  const fn = (apply: (x: tf.Tensor) => tf.Tensor): BuiltActivation => ({ apply, vars: [] });
  switch (activation?.name ?? 'linear') {
    case 'linear':
      return fn((x) => x);
    case 'relu':
      return fn((x) => tf.relu(x));
    case 'relu6':
      return fn((x) => tf.relu6(x));
    case 'leaky_relu': {
      const alpha = p.alpha ?? p.negative_slope ?? (keras ? 0.3 : 0.01);
      return fn((x) => tf.leakyRelu(x, alpha));
    }
    case 'prelu': {
      const perElement = keras;
      const count = perElement ? shape : [p.num_parameters ?? 1];
      const initial = keras ? 0 : (p.init ?? 0.25);
      const alpha = tf.variable(tf.fill(count, initial), true, `${name}/alpha`);
      return { apply: (x) => tf.prelu(x, alpha), vars: [alpha] };
    }
    case 'elu':
      return fn((x) => elu(x, p.alpha ?? 1));
    case 'selu':
      return fn((x) => tf.selu(x));
    case 'gelu':
      return fn(gelu);
    case 'swish':
      return fn((x) => tf.mul(x, tf.sigmoid(x)));
    case 'mish':
      return fn((x) => tf.mul(x, tf.tanh(tf.softplus(x))));
    case 'softplus':
      return fn((x) => tf.softplus(x));
    case 'sigmoid':
      return fn((x) => tf.sigmoid(x));
    case 'hard_sigmoid':
      // tf.keras 2: clip(0.2 x + 0.5, 0, 1); torch Hardsigmoid: relu6(x + 3) / 6.
      return fn((x) => (keras ? tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1) : tf.div(tf.relu6(tf.add(x, 3)), 6)));
    case 'tanh':
      return fn((x) => tf.tanh(x));
    case 'softsign':
      return fn((x) => tf.div(x, tf.add(1, tf.abs(x))));
    case 'softmax':
      return fn(overAxis(softmax, axis));
    case 'log_softmax':
      return fn(overAxis((x) => tf.logSoftmax(x), axis));
    case 'exponential':
      return fn((x) => tf.exp(x));
    case 'abs':
      return fn((x) => tf.abs(x));
    case 'unknown':
      throw layerFailure('unsupported', layer, `the activation ${activation?.spelling ?? ''} is not known to the probe`);
  }
}
