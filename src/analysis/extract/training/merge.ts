/** Merging training facts about one model found in several places (one file, or several files). */
import type { TrainingIR } from '../../../shared/ir';

/** Facts already known win (the first compile, the first optimizer); loops and data sources accumulate. */
export function mergeTraining(into: TrainingIR, from: TrainingIR): void {
  into.optimizer ??= from.optimizer;
  into.compile ??= from.compile;
  into.fit ??= from.fit;
  into.loss ??= from.loss;
  into.loops.push(...from.loops);
  into.data.push(...from.data);
}
