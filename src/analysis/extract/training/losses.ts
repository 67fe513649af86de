/**
 * Loss names, canonicalized to Keras' string identifiers so the probe can pick targets: Keras
 * strings ('categorical_crossentropy', 'mse'), Keras loss objects and functions
 * (`keras.losses.CategoricalCrossentropy()`, `keras.losses.mse`), PyTorch criteria
 * (`nn.CrossEntropyLoss()`, which takes class indices, so 'sparse_categorical_crossentropy') and
 * functional losses (`F.mse_loss`).
 */
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
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  sparsecategoricalcrossentropy: 'sparse_categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy',
  binarycrossentropy: 'binary_crossentropy',
  huber: 'huber',
  huber_loss: 'huber',
  hinge: 'hinge',
  kl_divergence: 'kl_divergence',
  kldivergence: 'kl_divergence',
  // PyTorch criteria and functions.
  crossentropyloss: 'sparse_categorical_crossentropy',
  cross_entropy: 'sparse_categorical_crossentropy',
  nllloss: 'sparse_categorical_crossentropy',
  nll_loss: 'sparse_categorical_crossentropy',
  bceloss: 'binary_crossentropy',
  bcewithlogitsloss: 'binary_crossentropy',
  binary_cross_entropy: 'binary_crossentropy',
  binary_cross_entropy_with_logits: 'binary_crossentropy',
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

/** A loss written as a string, or null. */
export function lossFromString(node: Node): string | null {
  const value = stringValue(node);
  return value ? (ALIASES[value.toLowerCase()] ?? value) : null;
}

/** A loss from a qualified callable name (`keras.losses.CategoricalCrossentropy`, `torch.nn.MSELoss`, `torch.nn.functional.cross_entropy`). */
export function lossFromQualified(qualified: string | null): string | null {
  const m = qualified ? LOSS_MODULES.exec(qualified) : null;
  if (!m) return null;
  return ALIASES[m[1]!.toLowerCase()] ?? null;
}
