/** Merging training facts about one model found in several places (one file, or several files). */
import type { TrainingIR } from '../../../shared/ir';
import { withLoss } from './losses';

/** Facts already known win (the first compile, the first optimizer); loops, their losses and data sources accumulate. */
export function mergeTraining(into: TrainingIR, from: TrainingIR): void {
  into.optimizer ??= from.optimizer;
  into.compile ??= from.compile;
  into.fit ??= from.fit;
  into.predict ??= from.predict;
  into.losses = from.losses.reduce(withLoss, into.losses);
  into.loops.push(...from.loops);
  into.data.push(...from.data);
}
