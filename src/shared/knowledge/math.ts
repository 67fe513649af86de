/**
 * Numeric facts behind the initializers: the normal distribution, truncation, and PyTorch's
 * `calculate_gain`. Pure functions, no framework code.
 */

/**
 * Keras' truncated initializers (glorot_normal, he_normal, lecun_normal, VarianceScaling with
 * 'truncated_normal') cut a normal at ±2 standard deviations, which shrinks the std by this factor
 * (the std of a standard normal truncated to [-2, 2]); Keras divides its stddev by it so that the
 * effective std is exactly sqrt(scale / n).
 */
export const KERAS_TRUNCATION_STD_FACTOR = 0.87962566103423978;

const SQRT2 = Math.SQRT2;

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / SQRT2));
}

/**
 * Mean and std of N(mean, std²) truncated to [low, high] (absolute bounds, as in torch's
 * `trunc_normal_(mean, std, a, b)`).
 */
export function truncatedNormalMoments(mean: number, std: number, low: number, high: number): { mean: number; std: number } {
  if (std <= 0) return { mean, std: 0 };
  const alpha = (low - mean) / std;
  const beta = (high - mean) / std;
  const mass = normalCdf(beta) - normalCdf(alpha);
  if (!(mass > 1e-12)) return { mean: Math.min(Math.max(mean, low), high), std: 0 };
  const pa = Number.isFinite(alpha) ? normalPdf(alpha) : 0;
  const pb = Number.isFinite(beta) ? normalPdf(beta) : 0;
  const aPa = Number.isFinite(alpha) ? alpha * pa : 0;
  const bPb = Number.isFinite(beta) ? beta * pb : 0;
  const shift = (pa - pb) / mass;
  const variance = 1 + (aPa - bPb) / mass - shift * shift;
  return { mean: mean + std * shift, std: std * Math.sqrt(Math.max(variance, 0)) };
}

/** Negative slope PyTorch's `calculate_gain('leaky_relu')` uses when none is given. */
export const TORCH_DEFAULT_LEAKY_SLOPE = 0.01;

/**
 * `torch.nn.init.calculate_gain(nonlinearity, param)`: 1 for linear/conv/sigmoid, 5/3 for tanh,
 * sqrt(2) for relu, sqrt(2 / (1 + slope²)) for leaky_relu, 3/4 for selu. Null for names PyTorch
 * rejects.
 */
export function calculateGain(nonlinearity: string, param?: number | null): number | null {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return SQRT2;
    case 'leaky_relu': {
      const slope = param ?? TORCH_DEFAULT_LEAKY_SLOPE;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return null;
  }
}

/** The fan a variance-scaling initializer divides by. */
export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';

export function fanFor(mode: FanMode, fanIn: number, fanOut: number): number {
  if (mode === 'fan_out') return fanOut;
  if (mode === 'fan_avg') return (fanIn + fanOut) / 2;
  return fanIn;
}
