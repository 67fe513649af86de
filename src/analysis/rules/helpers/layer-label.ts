/**
 * How a message names a layer: its name, with the class when the name is only a position ("2",
 * "body.2"). With `noun` ("BatchNorm"), a named layer reads "BatchNorm 'bn1'" and a numbered one
 * "nn.BatchNorm2d '2'", so the kind is said exactly once.
 */
import type { LayerIR } from '../../../shared/ir';

export function layerLabel(layer: LayerIR, noun?: string): string {
  if (/(^|\.)\d+$/.test(layer.name)) return `${layer.className} '${layer.name}'`;
  return noun ? `${noun} '${layer.name}'` : `'${layer.name}'`;
}
