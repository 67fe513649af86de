/**
 * Multi-head attention and learned positional tables for the probe, with each framework's weights:
 * torch nn.MultiheadAttention (in_proj_weight (3E, E) xavier_uniform_, zero in_proj_bias, out_proj
 * with nn.Linear's kaiming_uniform(a=sqrt(5)) weight and a zero bias) and Keras MultiHeadAttention
 * (EinsumDense kernels (E, heads, key_dim) and (heads, value_dim, out) with glorot_uniform, whose fans
 * count the leading axes as a receptive field, and zero biases).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Framework, InitializerIR, LayerIR } from '../shared/ir';
import { layerFailure } from './errors';
import { init, type Fans } from './initializers';
import type { ProbeNode, StepContext } from './layers';
import type { PlannedLayer } from './plan';

type InitSpec = Pick<InitializerIR, 'name' | 'params' | 'options'>;

/** What the layer builder lends these layers: weight creation with the framework's rules. */
export interface WeightSource {
  readonly framework: Framework;
  variable(layer: LayerIR, spec: InitSpec, shape: number[], fans: Fans, role: string): tf.Variable;
  /** The IR's explicit initializer, else `fallback`. */
  choose(layer: LayerIR, explicit: InitializerIR | null, fallback: InitSpec, role: string): InitSpec;
}

/** Sizes of one attention layer on its planned inputs: [query, key, value] features, heads, head sizes, output. */
export interface AttentionSizes {
  query: number;
  key: number;
  value: number;
  heads: number;
  keyDim: number;
  valueDim: number;
  units: number;
}

/** The planned inputs are the distinct tensors: [x] self-attention, [query, memory], or [query, key, value]. */
export function attentionInputs<T>(inputs: T[]): [T, T, T] {
  const query = inputs[0]!;
  const key = inputs[1] ?? query;
  return [query, key, inputs[2] ?? key];
}

export function attentionSizes(layer: LayerIR, inShapes: number[][]): AttentionSizes {
  if (layer.kind !== 'attention') throw layerFailure('unsupported', layer, 'not an attention layer');
  const [q, k, v] = attentionInputs(inShapes);
  for (const shape of [q, k, v]) {
    if (shape.length !== 2) throw layerFailure('shape', layer, `attention needs a (time, features) input per example but receives ${shape.join('x')}`);
  }
  if (k[0] !== v[0]) throw layerFailure('shape', layer, `key and value have different lengths: ${k.join('x')} vs ${v.join('x')}`);
  const query = q[1]!;
  const heads = layer.attention.heads ?? 1;
  const keyDim = layer.attention.keyDim ?? query / heads;
  const valueDim = layer.attention.valueDim ?? keyDim;
  if (!Number.isInteger(keyDim) || !Number.isInteger(valueDim) || keyDim < 1) throw layerFailure('shape', layer, `${query} features do not split into ${heads} heads`);
  if (layer.inFeatures !== null && layer.kernelInit?.framework === 'torch' && layer.inFeatures !== query) {
    throw layerFailure('shape', layer, `expects ${layer.inFeatures} features (embed_dim) but receives ${query}`);
  }
  return { query, key: k[1]!, value: v[1]!, heads, keyDim, valueDim, units: layer.units ?? query };
}

/** Trainable parameters: query, key, value and output projections with their biases. */
export function attentionParams(sizes: AttentionSizes, useBias: boolean): number {
  const { query, key, value, heads, keyDim, valueDim, units } = sizes;
  const weights = heads * (keyDim * (query + key) + valueDim * value) + heads * valueDim * units;
  return weights + (useBias ? heads * (2 * keyDim + valueDim) + units : 0);
}

/**
 * Multiply-adds of one example's forward pass: the four projections and, per head, the query-key scores
 * and the weighted sum of the values (queryLength x keyLength each). `scores` counts the attention weights.
 */
export function attentionWork(sizes: AttentionSizes, queryLength: number, keyLength: number): { macs: number; scores: number } {
  const { query, key, value, heads, keyDim, valueDim, units } = sizes;
  const projections = queryLength * heads * (keyDim * query + valueDim * units) + keyLength * heads * (keyDim * key + valueDim * value);
  const scores = heads * queryLength * keyLength;
  return { macs: projections + scores * (keyDim + valueDim), scores };
}

/** (batch, time, heads * size) -> (batch, heads, time, size). */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [batch, time, width] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [batch, time, heads, width / heads]), [0, 2, 1, 3]);
}

/** x (batch, time, features) times a (features, out) kernel plus bias. */
function project(x: tf.Tensor, kernel: tf.Variable, bias: tf.Variable | null): tf.Tensor {
  const [batch, time, features] = x.shape as [number, number, number];
  const flat = tf.matMul(tf.reshape(x, [batch * time, features]), kernel);
  const out = bias ? tf.add(flat, bias) : flat;
  return tf.reshape(out, [batch, time, kernel.shape[1]!]);
}

export function attentionNode(source: WeightSource, planned: PlannedLayer): ProbeNode {
  const layer = planned.ir;
  if (layer.kind !== 'attention') throw layerFailure('unsupported', layer, 'not an attention layer');
  const s = attentionSizes(layer, planned.inShapes);
  const torch = source.framework === 'torch';
  const keyWidth = s.heads * s.keyDim;
  const valueWidth = s.heads * s.valueDim;
  // torch draws the three projections as one (3E, E) matrix; Keras' fans come from its 3-axis kernels.
  const inFans = (features: number, width: number): Fans => (torch ? { fanIn: features, fanOut: 3 * features } : { fanIn: features * s.heads, fanOut: (features * width) / s.heads });
  const inDefault: InitSpec = torch ? init('xavier_uniform', { gain: 1 }) : init('glorot_uniform');
  const inInit = source.choose(layer, layer.kernelInit, inDefault, 'projection');
  const outDefault: InitSpec = torch ? init('kaiming_uniform', { a: Math.sqrt(5) }, { mode: 'fan_in', nonlinearity: 'leaky_relu' }) : init('glorot_uniform');
  const outInit = source.choose(layer, layer.kernelInit, outDefault, 'output projection');
  // torch resets in_proj_bias and out_proj.bias to zero; Keras biases default to zeros.
  const biasInit = source.choose(layer, layer.biasInit, init('zeros'), 'bias');
  const weight = (features: number, width: number, spec: InitSpec, fans: Fans, role: string) => source.variable(layer, spec, [features, width], fans, role);
  const bias = (width: number, role: string) => (layer.useBias ? source.variable(layer, biasInit, [width], { fanIn: width, fanOut: width }, role) : null);
  const wq = weight(s.query, keyWidth, inInit, inFans(s.query, keyWidth), 'query');
  const wk = weight(s.key, keyWidth, inInit, inFans(s.key, keyWidth), 'key');
  const wv = weight(s.value, valueWidth, inInit, inFans(s.value, valueWidth), 'value');
  const outFans: Fans = torch ? { fanIn: valueWidth, fanOut: s.units } : { fanIn: valueWidth, fanOut: s.units * s.heads };
  const wo = weight(valueWidth, s.units, outInit, outFans, 'output');
  const [bq, bk, bv, bo] = [bias(keyWidth, 'query_bias'), bias(keyWidth, 'key_bias'), bias(valueWidth, 'value_bias'), bias(s.units, 'output_bias')];
  const rate = layer.attention.dropout ?? 0;
  const causal = layer.attention.causal;
  const scale = 1 / Math.sqrt(s.keyDim);
  return {
    planned,
    vars: [wq, wk, wv, wo, ...[bq, bk, bv, bo].filter((b): b is tf.Variable => b !== null)],
    kernel: null,
    bias: null,
    measure: null,
    apply: (inputs: tf.Tensor[], ctx: StepContext) => {
      const [xq, xk, xv] = attentionInputs(inputs);
      const q = splitHeads(project(xq, wq, bq), s.heads);
      const k = splitHeads(project(xk, wk, bk), s.heads);
      const v = splitHeads(project(xv, wv, bv), s.heads);
      let scores = tf.mul(tf.matMul(q, k, false, true), scale);
      const [batch, , tq, tk] = scores.shape as [number, number, number, number];
      if (causal) scores = tf.add(scores, causalMask(tq, tk));
      let weights = tf.softmax(scores);
      if (ctx.training && rate > 0) weights = tf.dropout(weights, rate, undefined, ctx.rng.seed());
      const heads = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [batch, tq, valueWidth]);
      return project(heads, wo, bo);
    },
  };
}

/** -1e9 above the diagonal: position i attends to positions <= i. */
function causalMask(tq: number, tk: number): tf.Tensor {
  const values = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) for (let j = i + 1; j < tk; j++) values[i * tk + j] = -1e9;
  return tf.tensor2d(values, [tq, tk]);
}

/**
 * A learned table of positions added to a (time, features) input: row t goes to step t, so only the
 * first `time` rows learn. Defaults when the code draws nothing: torch nn.Embedding N(0, 1), Keras
 * Embedding U(-0.05, 0.05); a table written as nn.Parameter(torch.zeros(...)) carries its zeros.
 */
export function positionEmbeddingNode(source: WeightSource, planned: PlannedLayer): ProbeNode {
  const layer = planned.ir;
  if (layer.kind !== 'position-embedding') throw layerFailure('unsupported', layer, 'not a positional table');
  const [time, features] = planned.inShapes[0] as [number, number];
  const positions = layer.positions ?? time;
  const fallback: InitSpec = source.framework === 'keras' ? init('random_uniform', { minval: -0.05, maxval: 0.05 }) : init('random_normal', { mean: 0, std: 1 });
  const fans: Fans = source.framework === 'keras' ? { fanIn: positions, fanOut: features } : { fanIn: features, fanOut: positions };
  const table = source.variable(layer, source.choose(layer, layer.kernelInit, fallback, 'positions'), [positions, features], fans, 'positions');
  return {
    planned,
    vars: [table],
    kernel: null,
    bias: null,
    measure: null,
    apply: (inputs) => tf.add(inputs[0]!, positions === time ? table : tf.slice(table, [0, 0], [time, features])),
  };
}

/** Planner check of a positional table against its input: (time, features) with time within the table. */
export function positionEmbeddingParams(layer: LayerIR, x: number[]): number {
  if (layer.kind !== 'position-embedding') throw layerFailure('unsupported', layer, 'not a positional table');
  if (x.length !== 2) throw layerFailure('shape', layer, `a positional table needs a (time, features) input per example but receives ${x.join('x')}`);
  const [time, features] = x as [number, number];
  if (layer.units !== null && layer.units !== features) throw layerFailure('shape', layer, `has ${layer.units} features but the input has ${features}`);
  if (layer.positions !== null && layer.positions < time) throw layerFailure('shape', layer, `has ${layer.positions} positions but the sequence has ${time}`);
  return (layer.positions ?? time) * features;
}
