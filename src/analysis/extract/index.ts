/** All extractors of one file: models per framework, then the training pass. */
import type { ModelIR } from '../../shared/ir';
import type { PyFile } from '../python/file';
import type { ExternalTraining, ModelExtractor } from './types';
import { extractKeras } from './keras';
import { extractTorch } from './torch';
import { extractTraining } from './training';

const MODEL_EXTRACTORS: readonly ModelExtractor[] = [extractKeras, extractTorch];

export interface ExtractedFile {
  models: ModelIR[];
  external: ExternalTraining[];
}

export function extractFile(file: PyFile): ExtractedFile {
  const models = MODEL_EXTRACTORS.flatMap((extract) => extract(file));
  const external = extractTraining(file, models);
  return { models, external };
}
