/**
 * Walks over a model's layers that rules and hovers share: what follows a layer and which activation
 * really acts on its output. (Rule-only graph helpers live in src/analysis/rules/helpers.)
 */
import { isNormalization } from '../layers';
import type { ActivationIR, LayerIR, LayerKind, ModelIR } from '../ir';

/** Layers with a kernel an initializer sets (the ones GL2xx judges). */
const WEIGHT_KINDS: ReadonlySet<LayerKind> = new Set(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose']);
/**
 * Layers that pass a signal on without changing which nonlinearity acts on it: dropout scales,
 * pooling and reshaping rearrange (pooling commutes with monotone activations), normalization
 * rescales (tracked separately).
 */
const TRANSPARENT_KINDS: ReadonlySet<LayerKind> = new Set(['dropout', 'alpha-dropout', 'flatten', 'reshape', 'maxpool', 'avgpool', 'global-pool', 'batchnorm', 'layernorm', 'groupnorm']);

export function isWeightLayer(layer: LayerIR): boolean {
  return WEIGHT_KINDS.has(layer.kind);
}

/**
 * Consumers by layer id, built once per layer list (a what-if edit that replaces the list gets a new
 * index); rebuilt when the list's length or the graph flag changed in place.
 */
const CONSUMERS = new WeakMap<LayerIR[], { length: number; isGraph: boolean; index: Map<string, LayerIR[]> }>();

function consumerIndex(model: Pick<ModelIR, 'layers' | 'isGraph'>): Map<string, LayerIR[]> {
  const cached = CONSUMERS.get(model.layers);
  if (cached && cached.length === model.layers.length && cached.isGraph === model.isGraph) return cached.index;
  const index = new Map(model.layers.map((l) => [l.id, [] as LayerIR[]]));
  model.layers.forEach((layer, i) => {
    const sources = model.isGraph ? layer.inputs : i > 0 ? [model.layers[i - 1]!.id] : [];
    for (const id of sources) index.get(id)?.push(layer);
  });
  CONSUMERS.set(model.layers, { length: model.layers.length, isGraph: model.isGraph, index });
  return index;
}

/** The layers that consume `layer`'s output: graph edges when the model is a graph, else the next layer. */
export function consumersOf(layer: LayerIR, model: Pick<ModelIR, 'layers' | 'isGraph'>): LayerIR[] {
  return consumerIndex(model).get(layer.id) ?? [];
}

/** A real (non-identity) activation fused into the layer itself. */
function ownActivation(layer: LayerIR): ActivationIR | null {
  const act = layer.activation;
  return act && act.name !== 'linear' ? act : null;
}

export interface EffectiveActivation {
  /** The activation acting on the layer's output; null means none (a linear output). */
  activation: ActivationIR | null;
  /** The layer that applies it (the layer itself for a fused `activation=`); null when none. */
  appliedBy: LayerIR | null;
  /** A normalization layer between the layer and its activation (it resets the scale the weights set). */
  normalizedBy: LayerIR | null;
  /** True when the walk stopped at a branch, a merge or an unknown layer, so the answer is uncertain. */
  uncertain: boolean;
}

/**
 * The activation that really acts on `layer`'s output: its fused `activation=`, or the first
 * Activation/ReLU/functional activation that follows it through dropout, pooling, reshaping and
 * normalization layers. A following learnable layer, a merge (add/concat) or the end of the model
 * means the output stays linear.
 */
export function effectiveActivation(layer: LayerIR, model: ModelIR): EffectiveActivation {
  const own = ownActivation(layer);
  if (own) return { activation: own, appliedBy: layer, normalizedBy: null, uncertain: false };
  let normalizedBy: LayerIR | null = null;
  let current = layer;
  for (let guard = 0; guard < model.layers.length; guard++) {
    const next = consumersOf(current, model);
    if (next.length === 0) return { activation: null, appliedBy: null, normalizedBy, uncertain: false };
    if (next.length > 1) return { activation: null, appliedBy: null, normalizedBy, uncertain: true };
    const candidate = next[0]!;
    if (candidate.kind === 'activation') {
      const act = candidate.activation;
      return { activation: act && act.name !== 'linear' ? act : null, appliedBy: candidate, normalizedBy, uncertain: !act || act.name === 'unknown' };
    }
    if (TRANSPARENT_KINDS.has(candidate.kind)) {
      if (isNormalization(candidate) && !normalizedBy) normalizedBy = candidate;
      // A normalization layer's own fused activation (rare) acts on the signal too.
      const fused = ownActivation(candidate);
      if (fused) return { activation: fused, appliedBy: candidate, normalizedBy, uncertain: false };
      current = candidate;
      continue;
    }
    return { activation: null, appliedBy: null, normalizedBy, uncertain: candidate.kind === 'unknown' };
  }
  return { activation: null, appliedBy: null, normalizedBy, uncertain: true };
}
