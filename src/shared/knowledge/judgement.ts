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
  const nonlinearity = writtenNonlinearity(init);
  return {
    stats,
    family,
    effective,
    activation,
    activationClass: actClass,
    target,
    ratio,
    mismatch: familyMismatch(family, actClass, nonlinearity),
    writtenNonlinearity: nonlinearity,
    recommendation: recommendedInit(actLike, model.framework),
  };
}
