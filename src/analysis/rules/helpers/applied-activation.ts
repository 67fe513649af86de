/** The activation a layer applies to its output, with framework defaults made explicit. */
import type { ActivationIR, ActivationName, LayerIR } from '../../../shared/ir';
import { isIdentityActivation } from '../../../shared/knowledge/activations';
import { isLearningLayer } from './layer-kinds';

/**
 * 'linear' for a learning layer without an activation and for an activation that computes the
 * identity (a leaky ReLU of slope 1), the activation's name for activation layers and fused
 * `activation=` kwargs ('unknown' when it could not be resolved), null for layers that do not apply
 * one (dropout, pooling, normalization, ...).
 */
export function appliedActivation(layer: LayerIR): ActivationName | null {
  if (layer.kind !== 'activation' && !isLearningLayer(layer)) return null;
  const act = layer.activation;
  if (!act) return layer.kind === 'activation' ? 'unknown' : 'linear';
  return isIdentityActivation(act) ? 'linear' : act.name;
}

/** True when the layer applies an activation other than the identity (including unresolved ones). */
export function appliesNonlinearity(layer: LayerIR): boolean {
  const name = appliedActivation(layer);
  return name !== null && name !== 'linear';
}

/** The activation a layer applies that computes the identity though it is not written as one (`nn.LeakyReLU(True)`), or null. */
export function disguisedIdentity(layer: LayerIR): ActivationIR | null {
  const act = layer.activation;
  return act && act.name !== 'linear' && appliedActivation(layer) === 'linear' ? act : null;
}
