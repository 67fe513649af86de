/**
 * PyTorch extractor: nn.Module subclasses (layers from __init__, order and functional activations
 * from forward, nn.init calls and model.apply initializers) and nn.Sequential models -> ModelIR[].
 * The work happens in ./torch/ (interpreter, layer catalog, activations, initializers).
 */
import type { ModelExtractor } from './types';
import { assumeFrameworkNames } from './assumed-imports';
import { extractTorchModels, usesTorch } from './torch/models';

export const extractTorch: ModelExtractor = (file, notes, external, imported, assigned) => {
  assumeFrameworkNames(file);
  return usesTorch(file) ? extractTorchModels(file, notes, external, imported, assigned) : [];
};
