/**
 * Initial weight values exactly as Keras or PyTorch would draw them (same distributions and scales;
 * the random stream is the probe's own seeded one). Shapes are in tfjs layout: Dense [in, out],
 * Conv [...kernel, in, out], RNN kernels [in, gates*units].
 */
import type { Framework, InitializerIR } from '../shared/ir';
import { Rng } from './rng';

/** Keras' correction so that a normal truncated at 2 stddev has the requested variance. */
const KERAS_TRUNCATED_CORRECTION = 0.87962566103423978;

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

/** The gain of torch.nn.init.calculate_gain. */
export function torchGain(nonlinearity: string, param: number | undefined): number {
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return 1; // linear, conv*, sigmoid
  }
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

function fanFor(mode: string | undefined, fans: Fans): number {
  if (mode === 'fan_out') return fans.fanOut;
  if (mode === 'fan_avg') return (fans.fanIn + fans.fanOut) / 2;
  return fans.fanIn;
}

/** Keras VarianceScaling (also behind glorot_*, he_*, lecun_*). */
function varianceScaling(rng: Rng, n: number, scale: number, fan: number, distribution: string): Float32Array {
  const variance = scale / Math.max(1, fan);
  if (distribution === 'uniform') {
    const limit = Math.sqrt(3 * variance);
    return rng.fill(n, () => rng.uniform(-limit, limit));
  }
  if (distribution === 'untruncated_normal' || distribution === 'normal') {
    const std = Math.sqrt(variance);
    return rng.fill(n, () => std * rng.normal());
  }
  const std = Math.sqrt(variance) / KERAS_TRUNCATED_CORRECTION;
  return rng.fill(n, () => truncatedNormal(rng, 0, std, -2 * std, 2 * std));
}

export class UnknownInitializerError extends Error {}

/**
 * Values for one weight tensor. `fans` are the fans of the layer's kernel (bias inits use the fan-in of
 * the kernel they belong to, as torch's default bias does).
 */
export function initialValues(init: Pick<InitializerIR, 'name' | 'params' | 'options'>, framework: Framework, shape: number[], fans: Fans, rng: Rng): Float32Array {
  const n = size(shape);
  const p = init.params;
  const o = init.options;
  const keras = framework === 'keras';
  switch (init.name) {
    case 'zeros':
      return new Float32Array(n);
    case 'ones':
      return new Float32Array(n).fill(1);
    case 'constant':
      return new Float32Array(n).fill(p.value ?? p.val ?? 0);
    case 'random_normal': {
      const mean = p.mean ?? 0;
      const std = p.stddev ?? p.std ?? (keras ? 0.05 : 1);
      return rng.fill(n, () => mean + std * rng.normal());
    }
    case 'random_uniform': {
      const low = p.minval ?? p.a ?? (keras ? -0.05 : 0);
      const high = p.maxval ?? p.b ?? (keras ? 0.05 : 1);
      return rng.fill(n, () => rng.uniform(low, high));
    }
    case 'truncated_normal': {
      const mean = p.mean ?? 0;
      const std = p.stddev ?? p.std ?? (keras ? 0.05 : 1);
      // Keras truncates at 2 stddev around the mean; torch at the absolute bounds a, b (default -2, 2).
      const low = keras ? mean - 2 * std : (p.a ?? -2);
      const high = keras ? mean + 2 * std : (p.b ?? 2);
      return rng.fill(n, () => truncatedNormal(rng, mean, std, low, high));
    }
    case 'glorot_uniform':
      return varianceScaling(rng, n, 1, (fans.fanIn + fans.fanOut) / 2, 'uniform');
    case 'glorot_normal':
      return varianceScaling(rng, n, 1, (fans.fanIn + fans.fanOut) / 2, 'truncated_normal');
    case 'he_uniform':
      return varianceScaling(rng, n, 2, fans.fanIn, 'uniform');
    case 'he_normal':
      return varianceScaling(rng, n, 2, fans.fanIn, 'truncated_normal');
    case 'lecun_uniform':
      return varianceScaling(rng, n, 1, fans.fanIn, 'uniform');
    case 'lecun_normal':
      return varianceScaling(rng, n, 1, fans.fanIn, 'truncated_normal');
    case 'variance_scaling':
      return varianceScaling(rng, n, p.scale ?? 1, fanFor(o.mode ?? 'fan_in', fans), o.distribution ?? 'truncated_normal');
    case 'orthogonal':
      return orthogonal(rng, shape, p.gain ?? 1);
    case 'identity':
      return identity(shape, p.gain ?? 1);
    case 'xavier_uniform': {
      const bound = (p.gain ?? 1) * Math.sqrt(6 / (fans.fanIn + fans.fanOut));
      return rng.fill(n, () => rng.uniform(-bound, bound));
    }
    case 'xavier_normal': {
      const std = (p.gain ?? 1) * Math.sqrt(2 / (fans.fanIn + fans.fanOut));
      return rng.fill(n, () => std * rng.normal());
    }
    case 'kaiming_uniform':
    case 'kaiming_normal': {
      const a = p.a ?? 0;
      const gain = torchGain(o.nonlinearity ?? 'leaky_relu', a);
      const std = gain / Math.sqrt(Math.max(1, fanFor(o.mode ?? 'fan_in', fans)));
      if (init.name === 'kaiming_normal') return rng.fill(n, () => std * rng.normal());
      const bound = Math.sqrt(3) * std;
      return rng.fill(n, () => rng.uniform(-bound, bound));
    }
    case 'torch_default_bias': {
      const bound = fans.fanIn > 0 ? 1 / Math.sqrt(fans.fanIn) : 0;
      return rng.fill(n, () => rng.uniform(-bound, bound));
    }
    case 'unknown':
      throw new UnknownInitializerError('unknown initializer');
  }
}

/** Shorthand for an initializer written in code. */
export function init(name: InitializerIR['name'], params: Record<string, number> = {}, options: Record<string, string> = {}): Pick<InitializerIR, 'name' | 'params' | 'options'> {
  return { name, params, options };
}
