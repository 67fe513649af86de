/**
 * Walks a chain of single connections through layers a rule treats as transparent. A fan-out (skip
 * connection) or a merge ends the walk with no result: then the layers are not simply "next" to each other
 * (a rule may let a walk toward the inputs cross a fan-out whose branches never meet again: FanOut).
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

/**
 * How a walk toward the inputs treats a layer whose output also feeds other layers: 'ends' the walk, or
 * crosses it when its branches never meet again ('crosses-heads': a branch to another output is no skip
 * connection around the layers walked).
 */
export type FanOut = 'ends' | 'crosses-heads';

function walk(graph: LayerGraph, from: LayerIR, direction: Direction, transparent: (layer: LayerIR) => boolean, fanOut: FanOut = 'ends'): ChainStop | null {
  const ahead = direction === 'forward' ? (l: LayerIR) => graph.soleSuccessor(l) : (l: LayerIR) => graph.solePredecessor(l);
  const behind = direction === 'forward' ? (l: LayerIR) => graph.solePredecessor(l) : (l: LayerIR) => graph.soleSuccessor(l);
  const crossed: LayerIR[] = [];
  let current = from;
  for (;;) {
    const next = ahead(current);
    const crossesHeads = fanOut === 'crosses-heads' && direction === 'backward' && next !== null && !graph.branchesRejoin(next);
    if (!next || (behind(next) !== current && !crossesHeads)) return null;
    if (!transparent(next)) return { layer: next, crossed };
    crossed.push(next);
    current = next;
  }
}

/** Toward the outputs: the first successor that `transparent` rejects, or null when the chain ends or branches. */
export const walkForward = (graph: LayerGraph, from: LayerIR, transparent: (layer: LayerIR) => boolean): ChainStop | null =>
  walk(graph, from, 'forward', transparent);

/** Toward the inputs: the first predecessor that `transparent` rejects, or null when the chain starts or merges. */
export const walkBackward = (graph: LayerGraph, from: LayerIR, transparent: (layer: LayerIR) => boolean, fanOut: FanOut = 'ends'): ChainStop | null =>
  walk(graph, from, 'backward', transparent, fanOut);
