/** PyTorch extractor: nn.Sequential and nn.Module subclasses -> ModelIR[]. */
import type { ModelExtractor } from './types';

export const extractTorch: ModelExtractor = () => [];
