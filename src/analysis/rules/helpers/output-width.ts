import type { ModelIR } from '../../../shared/ir';
import { lastLayerOnPath } from '../../../shared/layers';

/** Classes (or labels) an output holds: the width of layer `index` or of the nearest layer before it that has one. */
export function widthAt(model: ModelIR, index: number): number | null {
  const at = lastLayerOnPath(model, index, (layer) => layer.units !== null);
  return at === null ? null : model.layers[at]!.units;
}
