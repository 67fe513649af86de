/**
 * How rules quote the gradient flow predicted at initialization (src/shared/knowledge/propagation.ts),
 * so that every message carries the same number the hover, the inline hints and the probe show.
 */
import { approxRatio } from '../../../shared/gradient-flow';
import type { PropagatedModel } from '../../../shared/knowledge/propagation';

/** "the first layer gets ~1e-7 of the last hidden layer's gradient at initialization" (null without a ratio). */
export function firstLastText(prediction: PropagatedModel): string | null {
  if (prediction.log10FirstLastRatio === null) return null;
  const ratio = 10 ** prediction.log10FirstLastRatio;
  const amount = ratio > 10 ? `${approxRatio(ratio)}x` : `${approxRatio(ratio)} of`;
  return `the first layer gets ${amount} the last hidden layer's gradient at initialization`;
}
