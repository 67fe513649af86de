/**
 * Keras activations in every spelling real code uses -> canonical ActivationIR:
 * strings (`'relu'`, None), functions (`tf.nn.relu`, `keras.activations.tanh`, `tf.sigmoid`),
 * and activation layers (`Activation('tanh')`, `ReLU()`, `LeakyReLU(0.2)`, `PReLU()`, `ELU()`,
 * `Softmax()`), including layer objects passed as `activation=`.
 */
import type { Node } from '../../python/syntax-tree';
import type { ActivationIR, ActivationName } from '../../../shared/ir';
import { argument, rangeOf, unparen } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { evaluateArg, numberArg, type ArgContext } from './context';
import { lastSegment, modulePart } from './symbols';
import { layerSpec } from './catalog';

const BY_NAME: Record<string, ActivationName> = {
  linear: 'linear',
  identity: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  leaky_relu: 'leaky_relu',
  leakyrelu: 'leaky_relu',
  prelu: 'prelu',
  elu: 'elu',
  selu: 'selu',
  gelu: 'gelu',
  swish: 'swish',
  silu: 'swish',
  mish: 'mish',
  softplus: 'softplus',
  sigmoid: 'sigmoid',
  hard_sigmoid: 'hard_sigmoid',
  tanh: 'tanh',
  softsign: 'softsign',
  softmax: 'softmax',
  log_softmax: 'log_softmax',
  exponential: 'exponential',
  exp: 'exponential',
};

/** Modules whose functions are activations (after canonicalization of tf.keras -> keras). */
const ACTIVATION_MODULES = new Set(['keras.activations', 'tensorflow.nn', 'tensorflow.math', 'tensorflow', 'keras.ops', 'keras.ops.nn', 'keras.backend', 'tensorflow.compat.v1.nn', 'tensorflow.compat.v1']);

/** Functions that are activations but also plain math (`tf.exp`, `tf.identity`) are not taken as activations. */
const NOT_ACTIVATION_FUNCTIONS = new Set(['tensorflow.exp', 'tensorflow.math.exp', 'tensorflow.identity', 'keras.ops.exp']);

/** Default negative slopes of the leaky_relu functions (tf.nn: 0.2, keras.activations: 0.2). */
const FUNCTION_DEFAULT_PARAMS: Record<string, Record<string, number>> = {
  leaky_relu: { alpha: 0.2 },
};

function activation(name: ActivationName, written: Node, source: ActivationIR['source'], params: Record<string, number> = {}, spelling = written.text): ActivationIR {
  return { name, spelling, range: rangeOf(written), source, params };
}

/** The default activation a layer applies when none is written. */
export function defaultActivation(name: ActivationName): ActivationIR {
  return { name, spelling: '(default)', range: null, source: 'default', params: {} };
}

/** A function reference such as `tf.nn.relu` / `keras.activations.tanh`: its canonical name, or null. */
export function activationFunctionName(qualified: string): ActivationName | null {
  if (NOT_ACTIVATION_FUNCTIONS.has(qualified)) return null;
  const module = modulePart(qualified);
  if (!ACTIVATION_MODULES.has(module)) return null;
  return BY_NAME[lastSegment(qualified).toLowerCase()] ?? null;
}

/** Default parameters of an activation function (tf.nn.leaky_relu's alpha). */
export function activationFunctionParams(name: ActivationName): Record<string, number> {
  return { ...(FUNCTION_DEFAULT_PARAMS[name] ?? {}) };
}

/** A Keras activation string ('relu', 'LeakyReLU' is not one) -> canonical name. */
export function activationFromString(value: string): ActivationName {
  return BY_NAME[value.toLowerCase()] ?? 'unknown';
}

/**
 * The activation an activation layer call applies (`LeakyReLU(0.2)`, `Activation('tanh')`),
 * or null when `className` is not an activation layer.
 */
export function activationOfLayerCall(className: string, call: Node, ctx: ArgContext): ActivationIR | null {
  const spec = layerSpec(className);
  if (!spec || spec.kind !== 'activation') return null;
  const args = callArgs(call);
  const num = (index: number | null, ...names: string[]) => numberArg(ctx, argument(args, index, ...names));
  switch (className) {
    case 'Activation': {
      const value = argument(args, 0, 'activation');
      return value ? { ...activationFromValue(value, ctx), source: 'layer' } : activation('unknown', call, 'layer');
    }
    case 'ReLU': {
      const maxValue = num(0, 'max_value');
      const slope = num(1, 'negative_slope');
      const threshold = num(2, 'threshold');
      const params: Record<string, number> = {};
      if (maxValue !== undefined) params.max_value = maxValue;
      if (threshold !== undefined) params.threshold = threshold;
      if (slope !== undefined && slope > 0) return activation('leaky_relu', call, 'layer', { ...params, alpha: slope });
      return activation(maxValue === 6 ? 'relu6' : 'relu', call, 'layer', params);
    }
    case 'LeakyReLU': {
      // Keras 2 spells the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3.
      const slope = num(0, 'negative_slope', 'alpha');
      return activation('leaky_relu', call, 'layer', { alpha: slope ?? 0.3 });
    }
    case 'ELU':
      return activation('elu', call, 'layer', { alpha: num(0, 'alpha') ?? 1 });
    case 'ThresholdedReLU':
      return activation('relu', call, 'layer', { theta: num(0, 'theta') ?? 1 });
    default:
      return activation(spec.activation ?? 'unknown', call, 'layer');
  }
}

/**
 * The activation a written value denotes: `'relu'`, `None`, `tf.nn.relu`, `LeakyReLU(0.2)`, or a
 * name bound once to one of these, or a function of the file that computes one as a formula. Anything
 * else (a lambda, another local function) is 'unknown'.
 */
export function activationFromValue(written: Node, ctx: ArgContext): ActivationIR {
  const resolved = ctx.scope.resolveExpression(written);
  const value = evaluateArg(ctx, resolved);
  if (typeof value === 'string') return activation(activationFromString(value), written, 'kwarg', {}, resolved.text);
  if (value === null) return activation('linear', written, 'kwarg', {}, resolved.text);
  const node = unparen(resolved);
  if (node.type === 'call') {
    const qualified = ctx.symbols.qualified(node.childForFieldName('function'));
    if (qualified) {
      const layer = activationOfLayerCall(lastSegment(qualified), node, ctx);
      if (layer && isKerasLayerPath(qualified, ctx)) return { ...layer, spelling: node.text, range: rangeOf(written), source: 'kwarg' };
    }
    return activation('unknown', written, 'kwarg', {}, node.text);
  }
  const qualified = ctx.symbols.qualified(node);
  if (qualified) {
    const name = activationFunctionName(qualified);
    if (name) return activation(name, written, 'kwarg', activationFunctionParams(name), node.text);
  }
  // A function of the file that writes an activation as a formula (`def gelu(x): return 0.5 * x * ...`).
  const formula = node.type === 'identifier' ? ctx.symbols.formulaActivation(node.text) : null;
  if (formula) return activation(formula, written, 'kwarg', activationFunctionParams(formula), node.text);
  return activation('unknown', written, 'kwarg', {}, node.text);
}

/** Whether a qualified name is a Keras layer class path (`keras.layers.X`, or a bare catalog name in a Keras file). */
export function isKerasLayerPath(qualified: string, ctx: Pick<ArgContext, 'symbols'>): boolean {
  if (qualified.startsWith('keras.')) return qualified.startsWith('keras.layers.') || modulePart(qualified) === 'keras';
  if (!qualified.includes('.')) return ctx.symbols.usesKeras && !ctx.symbols.isLocal(qualified);
  return false;
}
