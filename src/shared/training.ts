/** What a model's training facts say about the training itself, for every reader of them (rules, hovers, probe). */
import type { TrainingIR } from './ir';

/**
 * Whether the training a Keras `compile` configures runs: the model is fit (fit, fit_generator,
 * train_on_batch) or trained in a loop, or nothing shows it is used for inference only. A compile with
 * no fit beside a `predict` or `load_weights` is a sampling script's (trained weights loaded) or a GAN
 * generator's that only the combined model trains: its optimizer and loss train nothing. True when
 * nothing is compiled (PyTorch, or no compile seen).
 */
export function compileRuns(training: TrainingIR): boolean {
  return training.compile === null || training.fit !== null || training.loops.length > 0 || training.predict === null;
}
