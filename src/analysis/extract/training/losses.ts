/**
 * Loss names, canonicalized to Keras' string identifiers so the probe can pick targets: Keras
 * strings ('categorical_crossentropy', 'mse'), Keras loss objects and functions
 * (`keras.losses.CategoricalCrossentropy()`, `keras.losses.mse`), PyTorch criteria
 * (`nn.CrossEntropyLoss()`, which takes class indices, so 'sparse_categorical_crossentropy') and
 * functional losses (`F.mse_loss`).
 */
import type { Location, LossIR } from '../../../shared/ir';
import { BINARY_LOSS, NLL_LOSS, SPARSE_CATEGORICAL_LOSS } from '../../../shared/losses';
import type { Node } from '../../python/syntax-tree';
import { stringValue } from '../../python/syntax';

const ALIASES: Record<string, string> = {
  mean_squared_error: 'mse',
  meansquarederror: 'mse',
  mse: 'mse',
  mean_absolute_error: 'mae',
  meanabsoluteerror: 'mae',
  mae: 'mae',
  categorical_crossentropy: 'categorical_crossentropy',
  categoricalcrossentropy: 'categorical_crossentropy',
  sparse_categorical_crossentropy: SPARSE_CATEGORICAL_LOSS,
  sparsecategoricalcrossentropy: SPARSE_CATEGORICAL_LOSS,
  binary_crossentropy: BINARY_LOSS,
  binarycrossentropy: BINARY_LOSS,
  huber: 'huber',
  huber_loss: 'huber',
  hinge: 'hinge',
  kl_divergence: 'kl_divergence',
  kldivergence: 'kl_divergence',
  // PyTorch criteria and functions.
  crossentropyloss: SPARSE_CATEGORICAL_LOSS,
  cross_entropy: SPARSE_CATEGORICAL_LOSS,
  // NLLLoss reads log-probabilities: on anything else it computes -x of the class (shared/losses.ts).
  nllloss: NLL_LOSS,
  nll_loss: NLL_LOSS,
  bceloss: BINARY_LOSS,
  bcewithlogitsloss: BINARY_LOSS,
  binary_cross_entropy: BINARY_LOSS,
  binary_cross_entropy_with_logits: BINARY_LOSS,
  mseloss: 'mse',
  mse_loss: 'mse',
  l1loss: 'mae',
  l1_loss: 'mae',
  smoothl1loss: 'huber',
  smooth_l1_loss: 'huber',
  huberloss: 'huber',
  kldivloss: 'kl_divergence',
  kl_div: 'kl_divergence',
};

const LOSS_MODULES = /^(?:keras\.losses|torch\.nn|torch\.nn\.functional|torch\.nn\.modules\.loss)\.([A-Za-z_0-9]+)$/;

/** PyTorch's criteria and functions by what they read: the logits (they apply their own softmax or sigmoid) or probabilities. */
const TORCH_READS_LOGITS: Record<string, boolean> = {
  crossentropyloss: true,
  cross_entropy: true,
  bcewithlogitsloss: true,
  binary_cross_entropy_with_logits: true,
  bceloss: false,
  binary_cross_entropy: false,
};

/** Keras' cross-entropies read probabilities unless `from_logits=True`. */
const CROSSENTROPIES = new Set(['categorical_crossentropy', SPARSE_CATEGORICAL_LOSS, BINARY_LOSS]);

/** A loss written as a string (Keras' names), or null; `at`: where the code applies it (to the model's output, as compile does). */
export function lossFromString(node: Node, at: Location | null): LossIR | null {
  const value = stringValue(node);
  if (!value) return null;
  const name = ALIASES[value.toLowerCase()] ?? value;
  return { name, fromLogits: CROSSENTROPIES.has(name) ? false : null, at, onOutput: true, output: null, appliedFirst: null };
}

/**
 * A loss from a qualified callable name (`keras.losses.CategoricalCrossentropy`, `torch.nn.MSELoss`,
 * `torch.nn.functional.cross_entropy`); `fromLogits`: a Keras loss object's `from_logits=` when written;
 * `at`: where the code applies it. Read as applied to the model's output (compile's loss); a loop's
 * caller and forward's say otherwise.
 */
export function lossFromQualified(qualified: string | null, at: Location | null, fromLogits: boolean | null = null): LossIR | null {
  const m = qualified === null ? null : LOSS_MODULES.exec(qualified);
  if (!m) return null;
  const written = m[1]!.toLowerCase();
  const name = ALIASES[written];
  if (!name) return null;
  if (!m[0].startsWith('keras.')) return { name, fromLogits: TORCH_READS_LOGITS[written] ?? null, at, onOutput: true, output: null, appliedFirst: null };
  return { name, fromLogits: CROSSENTROPIES.has(name) ? (fromLogits ?? false) : null, at, onOutput: true, output: null, appliedFirst: null };
}

/**
 * `losses` with `loss` added unless one like it is there already; then that one reads the model's output
 * when either does (a criterion a discriminator's loop applies to its output, and its generator's loop to
 * the discriminator's).
 */
export function withLoss(losses: LossIR[], loss: LossIR | null): LossIR[] {
  if (!loss) return losses;
  const same = losses.findIndex((l) => sameLoss(l, loss));
  if (same < 0) return [...losses, loss];
  const kept = losses[same]!;
  // The application on the model's output says what the loss reads of it (and what a call applies first).
  if (kept.onOutput !== true && loss.onOutput === true) return losses.map((l, i) => (i === same ? { ...kept, onOutput: true, appliedFirst: loss.appliedFirst } : l));
  const onOutput = kept.onOutput === true ? true : kept.onOutput === false && loss.onOutput === false ? false : null;
  return onOutput === kept.onOutput ? losses : losses.map((l, i) => (i === same ? { ...kept, onOutput } : l));
}

/** Whether two losses compute the same thing (the same name, reading the same kind of input, on the same outputs), wherever applied. */
export function sameLoss(a: LossIR, b: LossIR): boolean {
  return a.name === b.name && a.fromLogits === b.fromLogits && a.output === b.output;
}
