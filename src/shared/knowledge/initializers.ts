/**
 * Initializers with their Keras and PyTorch semantics: the distribution each one draws from, the
 * effective std of the weights for a layer's fans, and what each one aims for.
 */
import type { InitializerIR, InitializerName, LayerIR } from '../ir';
import { isNormalization } from '../layers';
import { calculateGain, fanFor, KERAS_TRUNCATION_STD_FACTOR, truncatedNormalMoments, type FanMode } from './math';
import type { ReferenceKey } from './references';

/** The part of an InitializerIR the math needs. */
export type InitializerSpec = Pick<InitializerIR, 'name' | 'params' | 'options' | 'framework'>;

export type Distribution = 'normal' | 'truncated_normal' | 'uniform' | 'constant' | 'orthogonal' | 'identity' | 'unknown';

export interface Truncation {
  center: number;
  stddev: number;
  low: number;
  high: number;
}

export interface InitializerStats {
  distribution: Distribution;
  /** Mean of the weights; null when unknown. */
  mean: number | null;
  /** Effective std of the weights (after truncation); null when a needed fan or parameter is unknown. */
  std: number | null;
  /** Bound of a zero-centred uniform, U(-limit, limit); null otherwise. */
  limit: number | null;
  /** [low, high] of any uniform; null otherwise. */
  bounds: [number, number] | null;
  /** The std parameter passed to the normal before truncation (Keras' `stddev`), when it differs from `std`. */
  stddevParam: number | null;
  /** A truncated normal's own parameters, N(center, stddev²) cut to [low, high] (Keras: center ± 2 stddev; torch: the absolute a, b); null otherwise. */
  truncation: Truncation | null;
  /** sqrt(mean² + std²): the scale that matters for variance propagation, E[w²] = mean² + std². */
  rms: number | null;
}

const UNKNOWN_STATS: InitializerStats = { distribution: 'unknown', mean: null, std: null, limit: null, bounds: null, stddevParam: null, truncation: null, rms: null };

function num(params: Record<string, number>, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = params[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

function positive(n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

function rmsOf(mean: number | null, std: number | null): number | null {
  return mean === null || std === null ? null : Math.sqrt(mean * mean + std * std);
}

function normalStats(mean: number, std: number): InitializerStats {
  return { distribution: 'normal', mean, std, limit: null, bounds: null, stddevParam: null, truncation: null, rms: rmsOf(mean, std) };
}

/** A truncated normal: `mean` and `std` are the moments after the cut, `truncation` the normal that is cut. */
function truncatedStats(mean: number, std: number, truncation: Truncation): InitializerStats {
  return { distribution: 'truncated_normal', mean, std, limit: null, bounds: null, stddevParam: truncation.stddev, truncation, rms: rmsOf(mean, std) };
}

/** Keras' truncated normal: N(mean, stddev²) cut at two stddev, whose effective std is stddev · 0.8796…. */
function kerasTruncatedStats(mean: number, stddev: number): InitializerStats {
  return truncatedStats(mean, stddev * KERAS_TRUNCATION_STD_FACTOR, { center: mean, stddev, low: mean - 2 * stddev, high: mean + 2 * stddev });
}

function uniformStats(low: number, high: number): InitializerStats {
  const mean = (low + high) / 2;
  const std = Math.abs(high - low) / Math.sqrt(12);
  const limit = Math.abs(low + high) < 1e-12 ? Math.abs(high) : null;
  return { distribution: 'uniform', mean, std, limit, bounds: [low, high], stddevParam: null, truncation: null, rms: rmsOf(mean, std) };
}

function constantStats(value: number): InitializerStats {
  return { distribution: 'constant', mean: value, std: 0, limit: null, bounds: null, stddevParam: null, truncation: null, rms: Math.abs(value) };
}

type KerasDistribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

/** Keras VarianceScaling: variance scale / n; the truncated normal divides its stddev by 0.8796… so the effective std is sqrt(scale/n). */
function varianceScalingStats(scale: number, mode: FanMode, distribution: KerasDistribution, fanIn: number | null, fanOut: number | null): InitializerStats {
  const needsOut = mode !== 'fan_in';
  if (!positive(fanIn) || (needsOut && !positive(fanOut))) return { ...UNKNOWN_STATS, distribution: distribution === 'uniform' ? 'uniform' : distribution === 'untruncated_normal' ? 'normal' : 'truncated_normal', mean: 0 };
  const n = fanFor(mode, fanIn, fanOut ?? 0);
  const std = Math.sqrt(scale / n);
  if (distribution === 'uniform') return uniformStats(-Math.sqrt(3) * std, Math.sqrt(3) * std);
  if (distribution === 'untruncated_normal') return normalStats(0, std);
  return kerasTruncatedStats(0, std / KERAS_TRUNCATION_STD_FACTOR);
}

function kerasDistribution(value: string | undefined): KerasDistribution {
  if (value === 'uniform') return 'uniform';
  if (value === 'untruncated_normal') return 'untruncated_normal';
  // 'normal' was an alias of 'truncated_normal' in tf.keras 2.
  return 'truncated_normal';
}

function fanMode(value: string | undefined): FanMode | null {
  return value === 'fan_in' || value === 'fan_out' || value === 'fan_avg' ? value : null;
}

/**
 * Gain of a torch kaiming_* call: calculate_gain(nonlinearity, a). Null when the nonlinearity (or,
 * for 'leaky_relu', the slope `a`) is unknown: the extractors record torch's defaults ('leaky_relu',
 * a = 0) when nothing is written.
 */
export function kaimingGain(init: Pick<InitializerIR, 'params' | 'options'>): number | null {
  const nonlinearity = init.options.nonlinearity;
  if (nonlinearity === undefined) return null;
  const a = num(init.params, 'a', 'negative_slope');
  if (nonlinearity === 'leaky_relu' && a === undefined) return null;
  return calculateGain(nonlinearity, a ?? 0);
}

/**
 * The distribution and effective std of a layer's weights under `init`, for the given fans
 * (receptive field included for convolutions). Keras and PyTorch semantics follow `init.framework`:
 * Keras' glorot_normal/he_normal/lecun_normal are truncated at ±2σ with the std corrected so the
 * effective std is exactly the target; PyTorch's xavier_normal_/kaiming_normal_ are plain normals.
 * Unknown fans or parameters give null numbers, never a guess.
 */
export function initializerStats(init: InitializerSpec, fanIn: number | null, fanOut: number | null): InitializerStats {
  const p = init.params;
  const keras = init.framework === 'keras';
  // Extractors fill in every default the framework applies, so a missing parameter was written but
  // could not be evaluated (`std=config.initializer_range`): its numbers stay unknown, never a default.
  const unknown = (distribution: Distribution, mean: number | null = null): InitializerStats => ({ ...UNKNOWN_STATS, distribution, mean });
  switch (init.name) {
    case 'zeros':
      return constantStats(0);
    case 'ones':
      return constantStats(1);
    case 'constant': {
      const value = num(p, 'value', 'val');
      return value === undefined ? { ...UNKNOWN_STATS, distribution: 'constant', std: 0 } : constantStats(value);
    }
    case 'random_normal': {
      const mean = num(p, 'mean');
      const std = num(p, 'stddev', 'std');
      if (std === undefined) return unknown('normal', mean ?? null);
      const stats = normalStats(mean ?? 0, Math.abs(std));
      return mean === undefined ? { ...stats, mean: null, rms: null } : stats;
    }
    case 'random_uniform': {
      const low = num(p, 'minval', 'a', 'low');
      const high = num(p, 'maxval', 'b', 'high');
      return low === undefined || high === undefined ? unknown('uniform') : uniformStats(low, high);
    }
    case 'truncated_normal': {
      const mean = num(p, 'mean');
      const written = num(p, 'stddev', 'std');
      if (written === undefined || mean === undefined) return unknown('truncated_normal', mean ?? null);
      const std = Math.abs(written);
      if (keras) return kerasTruncatedStats(mean, std);
      // torch trunc_normal_(mean, std, a=-2, b=2): absolute bounds, so a small std is barely truncated.
      const low = num(p, 'a', 'low');
      const high = num(p, 'b', 'high');
      if (low === undefined || high === undefined) return unknown('truncated_normal', mean);
      const moments = truncatedNormalMoments(mean, std, low, high);
      return truncatedStats(moments.mean, moments.std, { center: mean, stddev: std, low, high });
    }
    case 'glorot_uniform':
      return varianceScalingStats(1, 'fan_avg', 'uniform', fanIn, fanOut);
    case 'glorot_normal':
      return varianceScalingStats(1, 'fan_avg', keras ? 'truncated_normal' : 'untruncated_normal', fanIn, fanOut);
    case 'he_uniform':
      return varianceScalingStats(2, 'fan_in', 'uniform', fanIn, fanOut);
    case 'he_normal':
      return varianceScalingStats(2, 'fan_in', keras ? 'truncated_normal' : 'untruncated_normal', fanIn, fanOut);
    case 'lecun_uniform':
      return varianceScalingStats(1, 'fan_in', 'uniform', fanIn, fanOut);
    case 'lecun_normal':
      return varianceScalingStats(1, 'fan_in', keras ? 'truncated_normal' : 'untruncated_normal', fanIn, fanOut);
    case 'variance_scaling': {
      const scale = num(p, 'scale');
      const mode = fanMode(init.options.mode);
      const distribution = kerasDistribution(init.options.distribution);
      // Keras rejects scale <= 0.
      if (scale === undefined || !(scale > 0) || mode === null) return unknown(distribution === 'uniform' ? 'uniform' : distribution === 'untruncated_normal' ? 'normal' : 'truncated_normal', 0);
      return varianceScalingStats(scale, mode, distribution, fanIn, fanOut);
    }
    case 'xavier_uniform':
    case 'xavier_normal': {
      const gain = num(p, 'gain');
      if (gain === undefined || !positive(fanIn) || !positive(fanOut)) return unknown(init.name === 'xavier_uniform' ? 'uniform' : 'normal', 0);
      const std = Math.abs(gain) * Math.sqrt(2 / (fanIn + fanOut));
      return init.name === 'xavier_uniform' ? uniformStats(-Math.sqrt(3) * std, Math.sqrt(3) * std) : normalStats(0, std);
    }
    case 'kaiming_uniform':
    case 'kaiming_normal': {
      const gain = kaimingGain(init);
      const mode = fanMode(init.options.mode);
      const fan = mode === 'fan_out' ? fanOut : mode === 'fan_in' ? fanIn : null;
      const distribution = init.name === 'kaiming_uniform' ? 'uniform' : 'normal';
      if (gain === null || !positive(fan)) return unknown(distribution, 0);
      const std = gain / Math.sqrt(fan);
      return distribution === 'uniform' ? uniformStats(-Math.sqrt(3) * std, Math.sqrt(3) * std) : normalStats(0, std);
    }
    case 'torch_default_bias': {
      if (!positive(fanIn)) return { ...UNKNOWN_STATS, distribution: 'uniform', mean: 0 };
      const bound = 1 / Math.sqrt(fanIn);
      return uniformStats(-bound, bound);
    }
    case 'orthogonal': {
      // Rows (or columns) of an orthogonal matrix have unit norm: E[w²] = gain² / max(fan_in, fan_out).
      const gain = num(p, 'gain');
      if (gain === undefined || !positive(fanIn) || !positive(fanOut)) return unknown('orthogonal', 0);
      const std = Math.abs(gain) / Math.sqrt(Math.max(fanIn, fanOut));
      return { distribution: 'orthogonal', mean: 0, std, limit: null, bounds: null, stddevParam: null, truncation: null, rms: std };
    }
    case 'identity':
      // Deterministic: an identity map preserves the signal exactly; a std says nothing about it.
      return { ...UNKNOWN_STATS, distribution: 'identity' };
    default:
      return UNKNOWN_STATS;
  }
}

/** True for initializers that give every weight the same value (zeros, ones, constant). */
export function isConstantInitializer(name: InitializerName): boolean {
  return name === 'zeros' || name === 'ones' || name === 'constant';
}

/**
 * The variance-scaling family an initializer belongs to, by its effective variance:
 * 'he' (≈ 2/fan), 'glorot' (1/fan_avg), 'lecun' (1/fan_in), 'torch-default' (PyTorch's
 * kaiming_uniform_(a=sqrt(5)), i.e. 1/(3·fan_in)), 'scaled' (another fan-based scale), or 'fixed'
 * (a std written as a number), 'constant', 'orthogonal', 'identity', 'unknown'.
 */
export type InitFamily = 'he' | 'glorot' | 'lecun' | 'torch-default' | 'scaled' | 'fixed' | 'constant' | 'orthogonal' | 'identity' | 'unknown';

export function initFamily(init: Pick<InitializerIR, 'name' | 'params' | 'options'>): InitFamily {
  switch (init.name) {
    case 'he_normal':
    case 'he_uniform':
      return 'he';
    case 'glorot_normal':
    case 'glorot_uniform':
      return 'glorot';
    case 'lecun_normal':
    case 'lecun_uniform':
      return 'lecun';
    case 'xavier_normal':
    case 'xavier_uniform': {
      const gain = num(init.params, 'gain');
      if (gain === undefined) return 'unknown';
      return Math.abs(gain - 1) < 0.05 ? 'glorot' : 'scaled';
    }
    case 'kaiming_normal':
    case 'kaiming_uniform': {
      const gain = kaimingGain(init);
      if (gain === null) return 'unknown';
      const nonlinearity = init.options.nonlinearity;
      const variance = gain * gain;
      if (nonlinearity === 'relu' || nonlinearity === 'leaky_relu') {
        if (Math.abs(variance - 1 / 3) < 0.02) return 'torch-default';
        return variance >= 1.5 ? 'he' : 'scaled';
      }
      // 'tanh' (gain 5/3) and 'selu' (gain 3/4) are their own scales; linear/sigmoid/conv give 1/fan.
      return Math.abs(variance - 1) < 0.05 ? 'lecun' : 'scaled';
    }
    case 'variance_scaling': {
      const scale = num(init.params, 'scale');
      const mode = fanMode(init.options.mode);
      if (scale === undefined || mode === null) return 'unknown';
      if (scale >= 1.5 && mode !== 'fan_avg') return 'he';
      if (Math.abs(scale - 1) < 0.05) return mode === 'fan_avg' ? 'glorot' : 'lecun';
      return 'scaled';
    }
    case 'random_normal':
    case 'random_uniform':
    case 'truncated_normal':
    case 'torch_default_bias':
      return 'fixed';
    case 'zeros':
    case 'ones':
    case 'constant':
      return 'constant';
    case 'orthogonal':
      return 'orthogonal';
    case 'identity':
      return 'identity';
    default:
      return 'unknown';
  }
}

/** Human name of a family for messages. */
export function familyTitle(family: InitFamily): string {
  switch (family) {
    case 'he':
      return 'He/Kaiming';
    case 'glorot':
      return 'Glorot/Xavier';
    case 'lecun':
      return 'LeCun';
    case 'torch-default':
      return "PyTorch's default kaiming_uniform_(a=sqrt(5))";
    default:
      return family;
  }
}

export interface InitializerDoc {
  name: InitializerName;
  title: string;
  /** Keras spelling and formula; null when Keras has no such initializer. */
  keras: { spelling: string; formula: string } | null;
  /** PyTorch spelling and formula; null when PyTorch has no such function. */
  torch: { spelling: string; formula: string } | null;
  /** The variance it aims for, e.g. "Var(W) = 2 / fan_in". */
  variance: string;
  /** What the variance is for. */
  aim: string;
  /** Where Keras and PyTorch differ; null when they agree. */
  difference: string | null;
  /** Activations it suits, as text. */
  suits: string;
  references: ReferenceKey[];
}

function doc(fields: InitializerDoc): InitializerDoc {
  return fields;
}

const HE_AIM = 'keeps the variance of pre-activations constant through ReLU layers, which zero half of their input (He et al. 2015)';
const GLOROT_AIM = 'balances the forward (1/fan_in) and backward (1/fan_out) variance conditions for units working in their linear regime (Glorot & Bengio 2010)';
const LECUN_AIM = 'keeps the forward variance constant for units with slope 1 around zero; the fixed point SELU self-normalization needs (Klambauer et al. 2017)';
const TRUNC_NOTE = 'Keras draws from a normal truncated at ±2σ and divides the stddev by 0.8796 so the effective std is exactly the target';

const DOCS: Record<InitializerName, InitializerDoc> = {
  zeros: doc({
    name: 'zeros', title: 'Zeros', keras: { spelling: "'zeros' / initializers.Zeros()", formula: 'W = 0' }, torch: { spelling: 'nn.init.zeros_(w)', formula: 'W = 0' },
    variance: 'Var(W) = 0', aim: 'the right choice for biases; for weights of a hidden layer every unit computes the same thing (and ReLU units with zero input get no gradient)',
    difference: null, suits: 'biases and the final layer of a residual branch only', references: ['glorot2010'],
  }),
  ones: doc({
    name: 'ones', title: 'Ones', keras: { spelling: "'ones' / initializers.Ones()", formula: 'W = 1' }, torch: { spelling: 'nn.init.ones_(w)', formula: 'W = 1' },
    variance: 'Var(W) = 0', aim: 'normalization scales (gamma); for weights every unit starts identical and the signal grows with fan_in',
    difference: null, suits: 'normalization-layer scales only', references: ['ioffe2015'],
  }),
  constant: doc({
    name: 'constant', title: 'Constant', keras: { spelling: 'initializers.Constant(value)', formula: 'W = value' }, torch: { spelling: 'nn.init.constant_(w, val)', formula: 'W = val' },
    variance: 'Var(W) = 0', aim: 'biases (e.g. a small positive bias for ReLU units) and normalization parameters; weights need randomness to break symmetry',
    difference: null, suits: 'biases and normalization parameters only', references: ['glorot2010'],
  }),
  random_normal: doc({
    name: 'random_normal', title: 'Random normal', keras: { spelling: 'initializers.RandomNormal(mean=0.0, stddev=0.05)', formula: 'W ~ N(mean, stddev²)' },
    torch: { spelling: 'nn.init.normal_(w, mean=0.0, std=1.0)', formula: 'W ~ N(mean, std²)' },
    variance: 'Var(W) = std², independent of the layer size', aim: 'nothing in particular: the std is fixed, so it is right for one fan_in only',
    difference: 'Defaults differ: Keras stddev=0.05, PyTorch std=1.0 (far too large for most layers).', suits: 'any activation, if std ≈ the variance-preserving value for this layer', references: ['glorot2010'],
  }),
  random_uniform: doc({
    name: 'random_uniform', title: 'Random uniform', keras: { spelling: 'initializers.RandomUniform(minval=-0.05, maxval=0.05)', formula: 'W ~ U(minval, maxval)' },
    torch: { spelling: 'nn.init.uniform_(w, a=0.0, b=1.0)', formula: 'W ~ U(a, b)' },
    variance: 'Var(W) = (b − a)² / 12, independent of the layer size', aim: 'nothing in particular: the range is fixed, so it is right for one fan_in only',
    difference: 'Defaults differ: Keras U(-0.05, 0.05); PyTorch U(0, 1), which is not even zero-mean.', suits: 'any activation, if the range matches this layer', references: ['glorot2010'],
  }),
  truncated_normal: doc({
    name: 'truncated_normal', title: 'Truncated normal', keras: { spelling: 'initializers.TruncatedNormal(mean=0.0, stddev=0.05)', formula: 'W ~ N(mean, stddev²) cut at ±2·stddev' },
    torch: { spelling: 'nn.init.trunc_normal_(w, mean=0.0, std=1.0, a=-2.0, b=2.0)', formula: 'W ~ N(mean, std²) cut at the absolute bounds [a, b]' },
    variance: 'Var(W) ≈ (0.88·stddev)² in Keras; ≈ std² in PyTorch when std ≪ 2', aim: 'a fixed std without outliers',
    difference: 'Keras cuts at ±2 standard deviations (effective std 0.8796·stddev); PyTorch cuts at absolute values a, b, so std=0.02 is effectively untruncated.', suits: 'any activation, if std matches this layer', references: ['glorot2010'],
  }),
  glorot_uniform: doc({
    name: 'glorot_uniform', title: 'Glorot (Xavier) uniform', keras: { spelling: "'glorot_uniform' (the Keras default kernel initializer)", formula: 'W ~ U(−limit, limit), limit = sqrt(6 / (fan_in + fan_out))' },
    torch: { spelling: 'nn.init.xavier_uniform_(w, gain=1.0)', formula: 'W ~ U(−b, b), b = gain · sqrt(6 / (fan_in + fan_out))' },
    variance: 'Var(W) = 2 / (fan_in + fan_out)', aim: GLOROT_AIM, difference: 'Same in both; PyTorch adds a gain factor (calculate_gain).', suits: 'tanh, softsign, sigmoid, softmax, linear', references: ['glorot2010'],
  }),
  glorot_normal: doc({
    name: 'glorot_normal', title: 'Glorot (Xavier) normal', keras: { spelling: "'glorot_normal'", formula: 'W ~ truncated N(0, σ²), effective σ = sqrt(2 / (fan_in + fan_out))' },
    torch: { spelling: 'nn.init.xavier_normal_(w, gain=1.0)', formula: 'W ~ N(0, σ²), σ = gain · sqrt(2 / (fan_in + fan_out))' },
    variance: 'Var(W) = 2 / (fan_in + fan_out)', aim: GLOROT_AIM, difference: `${TRUNC_NOTE}; PyTorch's xavier_normal_ is an untruncated normal with a gain.`, suits: 'tanh, softsign, sigmoid, softmax, linear', references: ['glorot2010'],
  }),
  he_uniform: doc({
    name: 'he_uniform', title: 'He (Kaiming) uniform', keras: { spelling: "'he_uniform'", formula: 'W ~ U(−limit, limit), limit = sqrt(6 / fan_in)' },
    torch: { spelling: "nn.init.kaiming_uniform_(w, nonlinearity='relu')", formula: 'W ~ U(−b, b), b = gain · sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)' },
    variance: 'Var(W) = 2 / fan_in', aim: HE_AIM, difference: "PyTorch's kaiming_uniform_ takes a (negative slope), mode ('fan_in'/'fan_out') and nonlinearity; with the defaults (a=0, 'leaky_relu') it equals he_uniform.", suits: 'relu, leaky_relu, prelu, elu, gelu, swish, mish', references: ['he2015'],
  }),
  he_normal: doc({
    name: 'he_normal', title: 'He (Kaiming) normal', keras: { spelling: "'he_normal'", formula: 'W ~ truncated N(0, σ²), effective σ = sqrt(2 / fan_in)' },
    torch: { spelling: "nn.init.kaiming_normal_(w, nonlinearity='relu')", formula: 'W ~ N(0, σ²), σ = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)' },
    variance: 'Var(W) = 2 / fan_in', aim: HE_AIM, difference: `${TRUNC_NOTE}; PyTorch's kaiming_normal_ is an untruncated normal with a, mode and nonlinearity parameters.`, suits: 'relu, leaky_relu, prelu, elu, gelu, swish, mish', references: ['he2015'],
  }),
  lecun_uniform: doc({
    name: 'lecun_uniform', title: 'LeCun uniform', keras: { spelling: "'lecun_uniform'", formula: 'W ~ U(−limit, limit), limit = sqrt(3 / fan_in)' },
    torch: { spelling: "nn.init.kaiming_uniform_(w, nonlinearity='linear')", formula: 'W ~ U(−b, b), b = sqrt(3 / fan_in)' },
    variance: 'Var(W) = 1 / fan_in', aim: LECUN_AIM, difference: "PyTorch has no lecun_* function; kaiming_*_(nonlinearity='linear') gives the same variance.", suits: 'selu (prefer lecun_normal), tanh, linear', references: ['lecun1998', 'klambauer2017'],
  }),
  lecun_normal: doc({
    name: 'lecun_normal', title: 'LeCun normal', keras: { spelling: "'lecun_normal'", formula: 'W ~ truncated N(0, σ²), effective σ = sqrt(1 / fan_in)' },
    torch: { spelling: "nn.init.kaiming_normal_(w, nonlinearity='linear')", formula: 'W ~ N(0, σ²), σ = sqrt(1 / fan_in)' },
    variance: 'Var(W) = 1 / fan_in', aim: LECUN_AIM, difference: `${TRUNC_NOTE}. PyTorch has no lecun_normal_; kaiming_normal_(nonlinearity='linear') gives the same variance (PyTorch's 'selu' gain of 3/4 does not).`, suits: 'selu, tanh, linear', references: ['lecun1998', 'klambauer2017'],
  }),
  variance_scaling: doc({
    name: 'variance_scaling', title: 'Variance scaling', keras: { spelling: "initializers.VarianceScaling(scale=1.0, mode='fan_in', distribution='truncated_normal')", formula: "Var(W) = scale / n, n = fan_in | fan_out | (fan_in + fan_out)/2; uniform limit = sqrt(3·scale/n)" },
    torch: null, variance: 'Var(W) = scale / n', aim: 'the general form of Glorot (scale 1, fan_avg), He (scale 2, fan_in) and LeCun (scale 1, fan_in)',
    difference: "Keras only; in PyTorch use kaiming_*_ (mode, gain) or xavier_*_ (gain). distribution 'truncated_normal' is corrected by 0.8796 so the effective variance is scale/n.", suits: 'depends on scale and mode', references: ['glorot2010', 'he2015'],
  }),
  orthogonal: doc({
    name: 'orthogonal', title: 'Orthogonal', keras: { spelling: 'initializers.Orthogonal(gain=1.0) (the Keras default recurrent initializer)', formula: 'W = gain · Q, Q from the QR decomposition of a Gaussian matrix' },
    torch: { spelling: 'nn.init.orthogonal_(w, gain=1)', formula: 'W = gain · Q' },
    variance: 'E[w²] = gain² / max(fan_in, fan_out)', aim: 'preserves the norm of every signal exactly (all singular values equal gain), which keeps long products of recurrent matrices stable (Saxe et al. 2014)',
    difference: null, suits: 'recurrent kernels, linear and tanh layers; with gain sqrt(2) for ReLU', references: ['saxe2014', 'pascanu2013'],
  }),
  identity: doc({
    name: 'identity', title: 'Identity', keras: { spelling: 'initializers.Identity(gain=1.0)', formula: 'W = gain · I' }, torch: { spelling: 'nn.init.eye_(w)', formula: 'W = I' },
    variance: 'deterministic', aim: 'start a square layer as the identity map (e.g. IRNN recurrent kernels)', difference: null, suits: 'square linear/recurrent layers', references: ['saxe2014'],
  }),
  xavier_uniform: doc({
    name: 'xavier_uniform', title: 'Xavier (Glorot) uniform', keras: { spelling: "'glorot_uniform'", formula: 'W ~ U(−limit, limit), limit = sqrt(6 / (fan_in + fan_out))' },
    torch: { spelling: 'nn.init.xavier_uniform_(w, gain=1.0)', formula: 'W ~ U(−b, b), b = gain · sqrt(6 / (fan_in + fan_out))' },
    variance: 'Var(W) = gain² · 2 / (fan_in + fan_out)', aim: GLOROT_AIM, difference: "Keras' glorot_uniform has no gain; PyTorch recommends gain=calculate_gain('tanh') = 5/3 for tanh.", suits: 'tanh, softsign, sigmoid, softmax, linear', references: ['glorot2010'],
  }),
  xavier_normal: doc({
    name: 'xavier_normal', title: 'Xavier (Glorot) normal', keras: { spelling: "'glorot_normal'", formula: 'W ~ truncated N(0, σ²), effective σ = sqrt(2 / (fan_in + fan_out))' },
    torch: { spelling: 'nn.init.xavier_normal_(w, gain=1.0)', formula: 'W ~ N(0, σ²), σ = gain · sqrt(2 / (fan_in + fan_out))' },
    variance: 'Var(W) = gain² · 2 / (fan_in + fan_out)', aim: GLOROT_AIM, difference: `PyTorch's is an untruncated normal with a gain; ${TRUNC_NOTE}.`, suits: 'tanh, softsign, sigmoid, softmax, linear', references: ['glorot2010'],
  }),
  kaiming_uniform: doc({
    name: 'kaiming_uniform', title: 'Kaiming (He) uniform', keras: { spelling: "'he_uniform'", formula: 'W ~ U(−limit, limit), limit = sqrt(6 / fan_in)' },
    torch: { spelling: "nn.init.kaiming_uniform_(w, a=0, mode='fan_in', nonlinearity='leaky_relu')", formula: 'W ~ U(−b, b), b = gain · sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)' },
    variance: 'Var(W) = gain² / fan', aim: HE_AIM,
    difference: "PyTorch's nn.Linear/nn.Conv default weight is kaiming_uniform_(a=sqrt(5)): gain² = 1/3, i.e. U(−1/sqrt(fan_in), 1/sqrt(fan_in)) with std 1/sqrt(3·fan_in), well below He's sqrt(2/fan_in). Keras' he_uniform is the a=0, 'relu' case.",
    suits: "with nonlinearity='relu'/'leaky_relu': the ReLU family; with 'tanh': tanh; with 'linear': selu", references: ['he2015'],
  }),
  kaiming_normal: doc({
    name: 'kaiming_normal', title: 'Kaiming (He) normal', keras: { spelling: "'he_normal'", formula: 'W ~ truncated N(0, σ²), effective σ = sqrt(2 / fan_in)' },
    torch: { spelling: "nn.init.kaiming_normal_(w, a=0, mode='fan_in', nonlinearity='leaky_relu')", formula: 'W ~ N(0, σ²), σ = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)' },
    variance: 'Var(W) = gain² / fan', aim: HE_AIM, difference: `PyTorch's is an untruncated normal; ${TRUNC_NOTE} (he_normal).`,
    suits: "with nonlinearity='relu'/'leaky_relu': the ReLU family; with 'tanh': tanh; with 'linear': selu", references: ['he2015'],
  }),
  torch_default_bias: doc({
    name: 'torch_default_bias', title: 'PyTorch default bias', keras: null, torch: { spelling: '(default of nn.Linear / nn.Conv*)', formula: 'b ~ U(−1/sqrt(fan_in), 1/sqrt(fan_in))' },
    variance: 'Var(b) = 1 / (3·fan_in)', aim: 'small random biases of the same scale as the default weights', difference: 'Keras biases default to zeros.', suits: 'biases', references: [],
  }),
  unknown: doc({
    name: 'unknown', title: 'Unknown initializer', keras: null, torch: null, variance: 'unknown', aim: 'Gradient Lens could not resolve this initializer statically, so it judges nothing about it.',
    difference: null, suits: 'unknown', references: [],
  }),
};

export function initializerDoc(name: InitializerName): InitializerDoc {
  return DOCS[name];
}

/** The initializer's canonical title for a framework (torch names kaiming/xavier; Keras he/glorot). */
export function initializerTitle(init: Pick<InitializerIR, 'name' | 'framework' | 'explicit'>): string {
  if (!init.explicit && init.framework === 'torch' && init.name === 'kaiming_uniform') return "PyTorch default: kaiming_uniform_(a=sqrt(5)) = U(−1/sqrt(fan_in), 1/sqrt(fan_in))";
  if (!init.explicit && init.framework === 'keras' && init.name === 'glorot_uniform') return 'Keras default: glorot_uniform';
  return initializerDoc(init.name).title;
}

/** A normalization's learned per-channel scale γ and shift β at initialization: their means and second moments. */
export interface AffineMoments {
  scaleMean: number;
  scaleSecond: number;
  shiftMean: number;
  shiftSecond: number;
}

/** γ = 1 and β = 0: both frameworks' defaults, and what a normalization without a learned scale applies. */
const DEFAULT_AFFINE: AffineMoments = { scaleMean: 1, scaleSecond: 1, shiftMean: 0, shiftSecond: 0 };

/** The mean and second moment of an initializer the code writes, when they do not depend on fans (a 1-D weight has none); null otherwise. */
function writtenMoments(init: InitializerIR | null): { mean: number; second: number } | null {
  if (!init?.explicit) return null;
  const stats = initializerStats(init, null, null);
  return stats.mean === null || stats.rms === null ? null : { mean: stats.mean, second: stats.rms * stats.rms };
}

/** The initializers of a normalization's γ and β that apply (those affineMoments reads); null for the default. */
export function affineInitializers(layer: LayerIR): { scale: InitializerIR | null; shift: InitializerIR | null } {
  if (!isNormalization(layer) || layer.norm.affine === false) return { scale: null, shift: null };
  return { scale: writtenMoments(layer.kernelInit) ? layer.kernelInit : null, shift: writtenMoments(layer.biasInit) ? layer.biasInit : null };
}

/**
 * γ and β of a normalization layer (torch `weight` / `bias`, Keras `gamma` / `beta`) as the code
 * initializes them (`nn.init.zeros_(bn.weight)`, `nn.init.normal_(m.weight, 1.0, 0.02)`,
 * `gamma_initializer='zeros'`), the defaults where it writes none (or one whose numbers need fans a
 * 1-D weight does not have). The defaults for any other layer.
 */
export function affineMoments(layer: LayerIR): AffineMoments {
  const written = affineInitializers(layer);
  const scale = writtenMoments(written.scale);
  const shift = writtenMoments(written.shift);
  if (!scale && !shift) return DEFAULT_AFFINE;
  return { scaleMean: scale?.mean ?? 1, scaleSecond: scale?.second ?? 1, shiftMean: shift?.mean ?? 0, shiftSecond: shift?.second ?? 0 };
}

/**
 * Whether a normalization's scale starts at zero (zero-initialized residual branches: torchvision's
 * `zero_init_residual=True`, `nn.init.zeros_(bn.weight)`): its output is its shift alone, and the
 * gradient it passes back, γ·(…)/σ, is exactly zero until a step has trained γ.
 */
export function startsAtZeroScale(layer: LayerIR): boolean {
  return isNormalization(layer) && affineMoments(layer).scaleSecond === 0;
}
