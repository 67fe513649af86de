/**
 * Layers made by code of another file of the workspace (a PyTorch module class, a Keras block function
 * or custom layer imported from it) are shown on the line of the model's file that builds or calls them:
 * every range of a model is a line of its own file (findings, hovers and probe numbers are shown there).
 */
import type { LayerIR, Range } from '../../shared/ir';

/**
 * Points every range of `layer` at `at` (in place); with `from`, the file whose code made it, the layer
 * keeps its own line there as `writtenAt`. Each layer gets its own copy of `at`, so a finding's range
 * names the one layer it is about (see lint.ts).
 */
export function relocateLayer(layer: LayerIR, at: Range, from?: string): void {
  if (from && !layer.writtenAt) layer.writtenAt = { file: from, range: layer.range };
  layer.range = { start: { ...at.start }, end: { ...at.end } };
  layer.argsRange = null;
  if (layer.activation?.range) layer.activation.range = at;
  for (const init of [layer.kernelInit, layer.biasInit, layer.recurrentInit]) if (init?.range) init.range = at;
}
