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

type Direction = 'forward' | 'backward';

function walk(graph: LayerGraph, from: LayerIR, direction: Direction, transparent: (layer: LayerIR) => boolean): ChainStop | null {
  const ahead = direction === 'forward' ? (l: LayerIR) => graph.soleSuccessor(l) : (l: LayerIR) => graph.solePredecessor(l);
  const behind = direction === 'forward' ? (l: LayerIR) => graph.solePredecessor(l) : (l: LayerIR) => graph.soleSuccessor(l);
  const crossed: LayerIR[] = [];
  let current = from;
  for (;;) {
    const next = ahead(current);
    if (!next || behind(next) !== current) return null;
    if (!transparent(next)) return { layer: next, crossed };
    crossed.push(next);
    current = next;
  }
}

/** Toward the outputs: the first successor that `transparent` rejects, or null when the chain ends or branches. */
export const walkForward = (graph: LayerGraph, from: LayerIR, transparent: (layer: LayerIR) => boolean): ChainStop | null =>
  walk(graph, from, 'forward', transparent);

/** Toward the inputs: the first predecessor that `transparent` rejects, or null when the chain starts or merges. */
export const walkBackward = (graph: LayerGraph, from: LayerIR, transparent: (layer: LayerIR) => boolean): ChainStop | null =>
  walk(graph, from, 'backward', transparent);
