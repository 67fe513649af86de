/**
 * Initial weight values drawn as Keras or PyTorch would draw them. What each initializer draws from
 * (distribution, bounds, std, truncation) is the knowledge base's (src/shared/knowledge/initializers.ts,
 * the numbers the hovers and the propagation model use); this module only draws from it, with the
 * probe's own seeded stream. Shapes are in tfjs layout: Dense [in, out], Conv [...kernel, in, out],
 * RNN kernels [in, gates*units].
 */
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

function truncatedNormal(rng: Rng, mean: number, std: number, low: number, high: number): number {
  for (let tries = 0; tries < 1000; tries++) {
    const v = mean + std * rng.normal();
    if (v >= low && v <= high) return v;
  }
  return Math.min(high, Math.max(low, mean));
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Orthogonal matrix of shape (rows, cols) flattened row-major, by Gram-Schmidt on a Gaussian matrix. */
function orthogonal(rng: Rng, shape: number[], gain: number): Float32Array {
  const cols = shape[shape.length - 1]!;
  const rows = size(shape) / cols;
  const long = Math.max(rows, cols);
  const short = Math.min(rows, cols);
  const vectors: Float64Array[] = [];
  for (let j = 0; j < short; j++) {
    const v = new Float64Array(long);
    for (let i = 0; i < long; i++) v[i] = rng.normal();
    for (const u of vectors) {
      let dot = 0;
      for (let i = 0; i < long; i++) dot += u[i]! * v[i]!;
      for (let i = 0; i < long; i++) v[i] = v[i]! - dot * u[i]!;
    }
    let norm = 0;
    for (let i = 0; i < long; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < long; i++) v[i] = v[i]! / norm;
    vectors.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = gain * (rows >= cols ? vectors[c]![r]! : vectors[r]![c]!);
    }
  }
  return out;
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
      if (bounds !== null) return rng.fill(n, () => rng.uniform(bounds[0], bounds[1]));
      break;
    case 'normal':
      if (mean !== null && std !== null) return rng.fill(n, () => mean + std * rng.normal());
      break;
    case 'truncated_normal':
      if (truncation !== null) return rng.fill(n, () => truncatedNormal(rng, truncation.center, truncation.stddev, truncation.low, truncation.high));
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
