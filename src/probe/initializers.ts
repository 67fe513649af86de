/**
 * Initial weight values drawn as Keras or PyTorch would draw them. What each initializer draws from
 * (distribution, bounds, std, truncation) is the knowledge base's (src/shared/knowledge/initializers.ts,
 * the numbers the hovers and the propagation model use); this module only draws from it, with the
 * probe's own seeded stream. Shapes are in tfjs layout: Dense [in, out], Conv [...kernel, in, out],
 * RNN kernels [in, gates*units].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Framework, InitializerIR } from '../shared/ir';
import { initializerStats } from '../shared/knowledge/initializers';
import { Rng } from './rng';

export interface Fans {
  fanIn: number;
  fanOut: number;
}

/** Fan-in/out of a tfjs-layout kernel: the receptive field multiplies both, as in both frameworks. */
export function kernelFans(shape: number[]): Fans {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

/** Tries per value before a truncated normal gives up and takes its clamped mean. */
const TRUNCATION_TRIES = 1000;

/**
 * n draws of mean + std * normal() redrawn until inside [low, high], as n calls that redraw one value
 * at a time would give: the draws are made in batches and examined in order.
 */
function truncatedNormalArray(rng: Rng, n: number, mean: number, std: number, low: number, high: number): Float32Array {
  const out = new Float32Array(n);
  let filled = 0;
  let tries = 0;
  while (filled < n) {
    const draws = rng.normalInto(new Float64Array(n - filled), mean, std);
    for (const v of draws) {
      tries++;
      if (v >= low && v <= high) {
        out[filled++] = v;
        tries = 0;
      } else if (tries === TRUNCATION_TRIES) {
        out[filled++] = Math.min(high, Math.max(low, mean));
        tries = 0;
      }
    }
  }
  return out;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Rows orthonormalized together on the backend by the blocked Gram-Schmidt below. */
const ORTHOGONAL_BLOCK = 64;
/** Multiply-adds of Gram-Schmidt from which the backend's products beat a loop in JavaScript. */
const ORTHOGONAL_BACKEND_FROM = 3e7;

/**
 * Modified Gram-Schmidt of rows [from, to) of `g` (row-major, rows of `long`) in place, each against
 * the earlier rows of the range and normalized.
 */
function orthonormalize(g: Float64Array, long: number, from: number, to: number): void {
  for (let j = from; j < to; j++) {
    const v = j * long;
    for (let k = from; k < j; k++) {
      const u = k * long;
      let dot = 0;
      for (let i = 0; i < long; i++) dot += g[u + i]! * g[v + i]!;
      for (let i = 0; i < long; i++) g[v + i] = g[v + i]! - dot * g[u + i]!;
    }
    let norm = 0;
    for (let i = 0; i < long; i++) norm += g[v + i]! * g[v + i]!;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < long; i++) g[v + i] = g[v + i]! / norm;
  }
}

/**
 * Orthogonal matrix of shape (rows, cols) flattened row-major, by Gram-Schmidt on a Gaussian matrix
 * (the Q of its QR decomposition with a positive diagonal, as Keras draws it). A big one (an LSTM of
 * 1,024 units has a 1024x4096 recurrent kernel: 9 G multiply-adds, 18 s in JavaScript) is done in
 * blocks: each block of rows loses its components along the finished rows by two passes of products
 * on the backend, then is orthonormalized within itself.
 */
function orthogonal(rng: Rng, shape: number[], gain: number): Float32Array {
  const cols = shape[shape.length - 1]!;
  const rows = size(shape) / cols;
  const long = Math.max(rows, cols);
  const short = Math.min(rows, cols);
  const g = new Float64Array(short * long);
  rng.normalInto(g);
  if (short * short * long < ORTHOGONAL_BACKEND_FROM) orthonormalize(g, long, 0, short);
  else orthonormalizeInBlocks(g, long, short);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = gain * (rows >= cols ? g[c * long + r]! : g[r * long + c]!);
    }
  }
  return out;
}

function orthonormalizeInBlocks(g: Float64Array, long: number, short: number): void {
  let done: tf.Tensor2D | null = null; // [finished rows, long]
  let doneT: tf.Tensor2D | null = null; // its transpose (wasm multiplies untransposed operands only, fast)
  try {
    for (let from = 0; from < short; from += ORTHOGONAL_BLOCK) {
      const to = Math.min(short, from + ORTHOGONAL_BLOCK);
      if (done && doneT) {
        const [q, qT] = [done, doneT];
        // In transposed form, so that the big operands are the left ones (wasm repacks a right operand per product).
        const projected = tf.tidy(() => {
          let blockT = tf.transpose(tf.tensor2d(Float32Array.from(g.subarray(from * long, to * long)), [to - from, long]));
          for (let pass = 0; pass < 2; pass++) blockT = tf.sub(blockT, tf.matMul(qT, tf.matMul(q, blockT)));
          return tf.transpose(blockT);
        });
        g.set(projected.dataSync(), from * long);
        projected.dispose();
      }
      orthonormalize(g, long, from, to);
      const finished = tf.tensor2d(Float32Array.from(g.subarray(from * long, to * long)), [to - from, long]);
      const [q, qT]: [tf.Tensor2D, tf.Tensor2D] = tf.tidy(() => (done && doneT ? [tf.concat([done, finished]), tf.concat([doneT, tf.transpose(finished)], 1)] : [tf.clone(finished), tf.transpose(finished)]));
      tf.dispose([finished, done ?? [], doneT ?? []]);
      done = q;
      doneT = qT;
    }
  } finally {
    tf.dispose([done ?? [], doneT ?? []]);
  }
}

function identity(shape: number[], gain: number): Float32Array {
  const cols = shape[shape.length - 1]!;
  const rows = size(shape) / cols;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = gain;
  return out;
}

export class UnknownInitializerError extends Error {}

/** A gain parameter as written (orthogonal, identity); the extractors record the default 1. */
function gainOf(init: Pick<InitializerIR, 'params'>): number {
  const gain = init.params.gain;
  if (typeof gain !== 'number' || !Number.isFinite(gain)) throw new UnknownInitializerError('gain unknown');
  return gain;
}

/**
 * Values for one weight tensor. `fans` are the fans of the layer's kernel (bias inits use the fan-in of
 * the kernel they belong to, as torch's default bias does). Throws UnknownInitializerError when the
 * knowledge base cannot say what the initializer draws (an unknown name, parameter or fan).
 */
export function initialValues(init: Pick<InitializerIR, 'name' | 'params' | 'options'>, framework: Framework, shape: number[], fans: Fans, rng: Rng): Float32Array {
  const n = size(shape);
  if (init.name === 'orthogonal') return orthogonal(rng, shape, gainOf(init));
  if (init.name === 'identity') return identity(shape, gainOf(init));
  const stats = initializerStats({ ...init, framework }, fans.fanIn, fans.fanOut);
  const { mean, std, bounds, truncation } = stats;
  switch (stats.distribution) {
    case 'constant':
      if (mean !== null) return new Float32Array(n).fill(mean);
      break;
    case 'uniform':
      if (bounds !== null) return rng.uniformArray(n, bounds[0], bounds[1]);
      break;
    case 'normal':
      if (mean !== null && std !== null) return rng.normalInto(new Float32Array(n), mean, std);
      break;
    case 'truncated_normal':
      if (truncation !== null) return truncatedNormalArray(rng, n, truncation.center, truncation.stddev, truncation.low, truncation.high);
      break;
    default:
      break;
  }
  throw new UnknownInitializerError(`cannot draw ${init.name}`);
}

/** Shorthand for an initializer written in code. */
export function init(name: InitializerIR['name'], params: Record<string, number> = {}, options: Record<string, string> = {}): Pick<InitializerIR, 'name' | 'params' | 'options'> {
  return { name, params, options };
}
