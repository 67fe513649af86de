/**
 * How rules quote the gradient flow predicted at initialization (src/shared/knowledge/propagation.ts),
 * so that every message carries the same number the hover, the inline hints and the probe show.
 */
import { approxRatio, flowReference, NO_FLOW_PAIR } from '../../../shared/gradient-flow';
import type { Severity } from '../../../shared/findings';
import type { ModelPrediction, PropagatedModel } from '../../../shared/knowledge/propagation';
import { flowOutliersClause } from '../../../shared/knowledge/flow-outliers';

/** "the first layer gets ~1e-7 of the last hidden layer's gradient at initialization" (null without a ratio). */
export function firstLastText(prediction: PropagatedModel): string | null {
  if (prediction.log10FirstLastRatio === null) return null;
  const ratio = 10 ** prediction.log10FirstLastRatio;
  const amount = ratio > 10 ? `${approxRatio(ratio)}x` : `${approxRatio(ratio)} of`;
  return `the first layer gets ${amount} ${flowReference(prediction.against, prediction.measure)} at initialization${flowOutliersClause(prediction)}`;
}

/** The note a finding judged without a prediction carries, naming why. */
export function noPredictionNote(prediction: ModelPrediction): string {
  const why = prediction.ok ? `the model has ${NO_FLOW_PAIR}` : prediction.reason;
  return `(No prediction: ${why}; judged by the structure alone.)`;
}

export interface PredictedSeverity {
  /** Warning when the prediction crosses the vanishing or exploding threshold, information when it does not; undefined (the rule's default) without a prediction. */
  severity: Severity | undefined;
  /** What to add to the message: the predicted grade and number, or why there is none. */
  note: string;
}

/**
 * The severity a rule about the scale of the signal takes from the model's prediction (GL104, GL202):
 * the same grades and thresholds as the probe's verdicts, so a warning is a finding the probe confirms.
 */
export function predictedSeverity(prediction: ModelPrediction): PredictedSeverity {
  const flow = prediction.ok ? firstLastText(prediction) : null;
  if (!prediction.ok || flow === null || prediction.grade === null) return { severity: undefined, note: noPredictionNote(prediction) };
  const crosses = prediction.grade === 'vanishing' || prediction.grade === 'exploding';
  return { severity: crosses ? 'warning' : 'information', note: `Predicted ${prediction.grade}: ${flow}.` };
}
