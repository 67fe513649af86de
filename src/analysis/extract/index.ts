/** All extractors of one file: models per framework, then the training pass. */
import type { ModelIR } from '../../shared/ir';
import type { PyFile } from '../python/file';
import { EvalNotes, type EvalNote } from '../python/limits';
import type { ExternalSites, ExternalTraining, ModelExtractor } from './types';
import { extractKeras } from './keras';
import { extractTorch } from './torch';
import { extractTraining } from './training';
import { notesOf } from './notes';
import { outsideClasses, type OutsideClasses } from './outside-classes';
import { inferInputShapes } from './input-shapes';
import { markInstantiated } from './instantiation';

const MODEL_EXTRACTORS: readonly ModelExtractor[] = [extractKeras, extractTorch];

export interface ExtractedFile {
  models: ModelIR[];
  external: ExternalTraining[];
  /** Limits reached and constructs the evaluation could not follow, each with its line. */
  notes: EvalNote[];
  /** Classes the models use from other modules: the project notes those outside the analyzed files. */
  outside: OutsideClasses[];
}

/** `sites`: calls other files of the workspace make of this file's classes, by class name. */
export function extractFile(file: PyFile, sites?: ExternalSites): ExtractedFile {
  const notes = new EvalNotes();
  const models = MODEL_EXTRACTORS.flatMap((extract) => extract(file, notes, sites));
  const external = extractTraining(file, models);
  // How names were read (assumed frameworks, star imports, private paths, implicit receivers): only
  // where something was found, since an assumption that produced nothing is not worth a word.
  if (models.length > 0 || external.length > 0) for (const n of notesOf(file)) notes.add(n.message, n.range);
  inferInputShapes(file, models);
  markInstantiated(file, models);
  return { models, external, notes: notes.notes, outside: outsideClasses(file) };
}
