/**
 * The verdict on one layer's kernel initializer: its effective std against the variance-preserving
 * std for the activation that really acts on the layer. Rules (GL202, GL203) and hovers share it so
 * that the editor explains exactly what the linter reports.
 */
import type { ActivationName, InitializerIR, LayerIR, ModelIR } from '../ir';
import { activationClass, recommendedInit, targetStd, type ActivationClass, type RecommendedInit, type TargetStd } from './activations';
import { initFamily, initializerStats, type InitFamily, type InitializerStats } from './initializers';
import { effectiveActivation, type EffectiveActivation } from './model-walk';

/**
 * Why an initializer's family does not suit the activation:
 * - he-on-saturating: He/Kaiming (Var 2/fan_in) on sigmoid/tanh-like units;
 * - not-lecun-on-selu: SELU needs LeCun (Var 1/fan_in) for its self-normalizing fixed point;
 * - small-on-relu: Glorot/LeCun/PyTorch-default variance (≤ 1/fan_in) on ReLU-family units, which
 *   halves the signal's second moment at every layer (only harmful in deep stacks);
 * - nonlinearity-disagrees: a PyTorch kaiming_*(nonlinearity=...) written for another activation.
 */
export type FamilyMismatch = 'he-on-saturating' | 'not-lecun-on-selu' | 'small-on-relu' | 'nonlinearity-disagrees';

export interface InitAssessment {
  stats: InitializerStats;
  family: InitFamily;
  effective: EffectiveActivation;
  /** The activation judged against ('linear' when none acts on the output). */
  activation: ActivationName;
  activationClass: ActivationClass;
  target: TargetStd | null;
  /** stats.rms / target.std; null when either is unknown. */
  ratio: number | null;
  /**
   * How far the weight scale lies outside the band of variance-preserving stds, as a factor: 1 inside
   * the band, > 1 above it, < 1 below it. The band spans the fan_in and the fan_out version of the
   * convention (He et al. 2015 show either preserves the signal, forward or backward); null when unknown.
   */
  deviation: number | null;
  mismatch: FamilyMismatch | null;
  /** The torch `nonlinearity=` written in the call, if any. */
  writtenNonlinearity: string | null;
  recommendation: RecommendedInit | null;
}

/** Class of the activation a PyTorch `nonlinearity=` argument is written for. */
function nonlinearityClass(nonlinearity: string): ActivationClass | 'selu-gain' | null {
  if (nonlinearity === 'relu' || nonlinearity === 'leaky_relu') return 'relu-like';
  if (nonlinearity === 'tanh' || nonlinearity === 'sigmoid') return 'saturating';
  if (nonlinearity === 'linear' || nonlinearity.startsWith('conv')) return 'linear';
  if (nonlinearity === 'selu') return 'selu-gain';
  return null;
}

/** Whether `nonlinearity=` is appropriate for units of class `actClass`. */
function nonlinearityFits(nonlinearity: string, actClass: ActivationClass): boolean {
  const cls = nonlinearityClass(nonlinearity);
  if (cls === null) return true; // unknown spelling: no opinion
  switch (actClass) {
    case 'relu-like':
      return cls === 'relu-like';
    case 'saturating':
      return cls === 'saturating' || cls === 'linear';
    case 'self-normalizing':
      // PyTorch's docs: use 'linear' for SELU; the 'selu' gain (3/4) breaks the fixed point.
      return cls === 'linear';
    default:
      return true;
  }
}

/** The torch `nonlinearity=` as written in the source (not a default the extractor filled in). */
function writtenNonlinearity(init: InitializerIR): string | null {
  if (init.framework !== 'torch' || !init.explicit) return null;
  if (init.name !== 'kaiming_normal' && init.name !== 'kaiming_uniform') return null;
  const value = init.options.nonlinearity;
  // Extractors fill in the default 'leaky_relu' when nothing is written; anything else was written.
  return value && (value !== 'leaky_relu' || /nonlinearity/.test(init.spelling)) ? value : null;
}

function familyMismatch(family: InitFamily, actClass: ActivationClass, nonlinearity: string | null): FamilyMismatch | null {
  if (nonlinearity !== null && !nonlinearityFits(nonlinearity, actClass)) return 'nonlinearity-disagrees';
  switch (actClass) {
    case 'saturating':
      return family === 'he' ? 'he-on-saturating' : null;
    case 'self-normalizing':
      if (family === 'lecun') return null;
      // A hand-written std (RandomNormal(stddev=sqrt(1/n))) is judged by its number (GL203), not its name.
      return family === 'he' || family === 'glorot' || family === 'torch-default' || family === 'scaled' || family === 'orthogonal' ? 'not-lecun-on-selu' : null;
    case 'relu-like':
      return family === 'glorot' || family === 'lecun' || family === 'torch-default' ? 'small-on-relu' : null;
    default:
      return null;
  }
}

/** The stds between the fan_in- and the fan_out-normalized version of the target's convention. */
function varianceBand(target: TargetStd, fanIn: number | null, fanOut: number | null): { low: number; high: number } {
  if (!fanIn || !fanOut) return { low: target.std, high: target.std };
  // He: 2/fan_in vs 2/fan_out (scaled like the target for leaky slopes); LeCun: 1/fan_in vs 1/fan_out;
  // Glorot's 2/(fan_in + fan_out) lies between the forward (1/fan_in) and backward (1/fan_out) conditions.
  const factor = target.convention === 'glorot' ? 1 : target.std * target.std * fanIn;
  const a = Math.sqrt(factor / fanIn);
  const b = Math.sqrt(factor / fanOut);
  return { low: Math.min(a, b, target.std), high: Math.max(a, b, target.std) };
}

/** Assesses `init` as the kernel initializer of `layer` in `model`. */
export function assessKernelInit(layer: LayerIR, init: InitializerIR, model: ModelIR): InitAssessment {
  const stats = initializerStats(init, layer.fanIn, layer.fanOut);
  const family = initFamily(init);
  const effective = effectiveActivation(layer, model);
  const activation: ActivationName = effective.activation?.name ?? 'linear';
  const actClass = activationClass(activation);
  const actLike = effective.activation ?? activation;
  const target = targetStd(actLike, layer.fanIn, layer.fanOut, model.framework);
  const ratio = target && stats.rms !== null && target.std > 0 ? stats.rms / target.std : null;
  const band = target ? varianceBand(target, layer.fanIn, layer.fanOut) : null;
  const deviation = band && stats.rms !== null ? (stats.rms > band.high ? stats.rms / band.high : stats.rms < band.low ? stats.rms / band.low : 1) : null;
  const nonlinearity = writtenNonlinearity(init);
  return {
    stats,
    family,
    effective,
    activation,
    activationClass: actClass,
    target,
    ratio,
    deviation,
    mismatch: familyMismatch(family, actClass, nonlinearity),
    writtenNonlinearity: nonlinearity,
    recommendation: recommendedInit(actLike, model.framework),
  };
}
