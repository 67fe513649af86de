/**
 * Data-flow neighbours of each layer. Sequential models are a chain in execution order; graphs
 * (functional models, `forward` with residuals) use LayerIR.inputs.
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';

export interface LayerGraph {
  readonly layers: readonly LayerIR[];
  readonly isGraph: boolean;
  predecessors(layer: LayerIR): LayerIR[];
  successors(layer: LayerIR): LayerIR[];
  /** The only successor, or null when there are none or several (a fan-out such as a skip connection). */
  soleSuccessor(layer: LayerIR): LayerIR | null;
  /** The only predecessor, or null when there are none or several (a merge). */
  solePredecessor(layer: LayerIR): LayerIR | null;
  /**
   * Whether two of the layer's branches meet again (a skip connection, an inception block), rather than
   * each leading to outputs of its own (a regression head beside a decoder).
   */
  branchesRejoin(layer: LayerIR): boolean;
}

/** Every rule asks for the graph of the same model: build it once per layer list. */
const cache = new WeakMap<readonly LayerIR[], LayerGraph>();

export function layerGraph(model: ModelIR): LayerGraph {
  const cached = cache.get(model.layers);
  if (cached && cached.isGraph === model.isGraph) return cached;
  const graph = buildGraph(model);
  cache.set(model.layers, graph);
  return graph;
}

function buildGraph(model: ModelIR): LayerGraph {
  const byId = new Map(model.layers.map((l) => [l.id, l]));
  const preds = new Map<string, LayerIR[]>();
  const succs = new Map<string, LayerIR[]>();
  const append = (lists: Map<string, LayerIR[]>, id: string, layer: LayerIR): void => {
    const list = lists.get(id);
    if (list) list.push(layer);
    else lists.set(id, [layer]);
  };
  model.layers.forEach((layer, i) => {
    const sources = model.isGraph
      ? layer.inputs.map((id) => byId.get(id)).filter((l): l is LayerIR => l !== undefined)
      : i > 0
        ? [model.layers[i - 1]!]
        : [];
    for (const source of sources) {
      append(preds, layer.id, source);
      append(succs, source.id, layer);
    }
  });
  const sole = (list: LayerIR[] | undefined): LayerIR | null => (list && list.length === 1 ? list[0]! : null);
  const reached = (from: LayerIR): Set<string> => {
    const seen = new Set<string>();
    const stack = [from];
    for (let layer = stack.pop(); layer !== undefined; layer = stack.pop()) {
      if (seen.has(layer.id)) continue;
      seen.add(layer.id);
      stack.push(...(succs.get(layer.id) ?? []));
    }
    return seen;
  };
  const branchesRejoin = (layer: LayerIR): boolean => {
    const seen = new Set<string>();
    for (const branch of succs.get(layer.id) ?? []) {
      const ahead = reached(branch);
      for (const id of ahead) if (seen.has(id)) return true;
      for (const id of ahead) seen.add(id);
    }
    return false;
  };
  return {
    layers: model.layers,
    isGraph: model.isGraph,
    predecessors: (l) => preds.get(l.id) ?? [],
    successors: (l) => succs.get(l.id) ?? [],
    soleSuccessor: (l) => sole(succs.get(l.id)),
    solePredecessor: (l) => sole(preds.get(l.id)),
    branchesRejoin,
  };
}
