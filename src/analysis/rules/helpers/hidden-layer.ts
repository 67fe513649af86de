/** Whether a layer's output still goes through a learning layer ("hidden") or is the model's output. */
import { isRecurrent } from '../../../shared/layers';
import type { LayerIR } from '../../../shared/ir';
import type { LayerGraph } from './layer-graph';
import { isLearningLayer } from './layer-kinds';


/** True when some path from the layer reaches a dense, convolution or recurrent layer. */
export function feedsLearningLayer(graph: LayerGraph, layer: LayerIR): boolean {
  const seen = new Set<string>();
  const stack = [...graph.successors(layer)];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    if (isLearningLayer(next) || isRecurrent(next)) return true;
    stack.push(...graph.successors(next));
  }
  return false;
}
