/** Questions GL401/GL402 ask about optimizers and loops, answered from the IR alone. */
import type { OptimizerIR, Range, TrainingIR, TrainingLoopIR } from '../../../shared/ir';
import { compileRuns } from '../../../shared/training';

const CLIP_ARGUMENTS = ['clipnorm', 'clipvalue', 'global_clipnorm', '**'];

/** The optimizer clips every gradient it applies (Keras clipnorm / clipvalue / global_clipnorm). */
export const isClippedOptimizer = (o: OptimizerIR): boolean => o.clipnorm !== null || o.clipvalue !== null || o.globalClipnorm !== null;

/** A clipping argument is written but its value is not known (`clipnorm=args.clip`, `**kwargs`). */
export const hasUnknownClipping = (o: OptimizerIR): boolean => (o.unresolved ?? []).some((a) => CLIP_ARGUMENTS.includes(a));

/** The loop's updates are clipped: a clip call between gradient and update, or a clipping optimizer. */
export const loopUpdatesClipped = (loop: TrainingLoopIR): boolean =>
  loop.clip !== null || (loop.optimizer !== null && (isClippedOptimizer(loop.optimizer) || hasUnknownClipping(loop.optimizer)));

export const keyOf = (file: string, range: Range): string =>
  `${file}@${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character}`;

/** Every distinct optimizer that trains the model: the compiled one (when its training runs) and those of its loops. */
export function optimizersOf(training: TrainingIR): OptimizerIR[] {
  const all = [compileRuns(training) ? training.optimizer : null, ...training.loops.map((l) => l.optimizer)].filter((o): o is OptimizerIR => o !== null);
  const seen = new Set<string>();
  return all.filter((o) => {
    const key = keyOf(o.file, o.range);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
