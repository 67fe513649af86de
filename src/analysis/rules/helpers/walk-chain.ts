/**
 * Walks a chain of single connections through layers a rule treats as transparent. A fan-out (skip
 * connection) or a merge ends the walk with no result: then the layers are not simply "next" to each other.
 */
import type { LayerIR } from '../../../shared/ir';
import type { LayerGraph } from './layer-graph';

export interface ChainStop {
  /** The first layer that is not transparent. */
  layer: LayerIR;
  /** The transparent layers crossed on the way, nearest first. */
  crossed: LayerIR[];
}

/** Toward the outputs: the first successor that `transparent` rejects, or null when the chain ends or branches. */
export function walkForward(graph: LayerGraph, from: LayerIR, transparent: (layer: LayerIR) => boolean): ChainStop | null {
  const crossed: LayerIR[] = [];
  let current = from;
  for (;;) {
    const next = graph.soleSuccessor(current);
    if (!next || graph.solePredecessor(next) !== current) return null;
    if (!transparent(next)) return { layer: next, crossed };
    crossed.push(next);
    current = next;
  }
}

/** Toward the inputs: the first predecessor that `transparent` rejects, or null when the chain starts or merges. */
export function walkBackward(graph: LayerGraph, from: LayerIR, transparent: (layer: LayerIR) => boolean): ChainStop | null {
  const crossed: LayerIR[] = [];
  let current = from;
  for (;;) {
    const previous = graph.solePredecessor(current);
    if (!previous || graph.soleSuccessor(previous) !== current) return null;
    if (!transparent(previous)) return { layer: previous, crossed };
    crossed.push(previous);
    current = previous;
  }
}
