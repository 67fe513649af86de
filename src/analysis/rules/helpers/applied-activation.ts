/** The activation a layer applies to its output, with framework defaults made explicit. */
import type { ActivationName, LayerIR } from '../../../shared/ir';
import { isLearningLayer } from './layer-kinds';

/**
 * 'linear' for a learning layer without an activation, the activation's name for activation layers
 * and fused `activation=` kwargs ('unknown' when it could not be resolved), null for layers that do
 * not apply one (dropout, pooling, normalization, ...).
 */
export function appliedActivation(layer: LayerIR): ActivationName | null {
  if (layer.kind === 'activation') return layer.activation?.name ?? 'unknown';
  if (isLearningLayer(layer)) return layer.activation?.name ?? 'linear';
  return null;
}

/** True when the layer applies an activation other than the identity (including unresolved ones). */
export function appliesNonlinearity(layer: LayerIR): boolean {
  const name = appliedActivation(layer);
  return name !== null && name !== 'linear';
}
