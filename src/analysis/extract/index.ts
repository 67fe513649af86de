/** All extractors of one file: models per framework, then the training pass. */
import type { Framework, ModelIR, Range } from '../../shared/ir';
import type { PyFile } from '../python/file';
import { EvalNotes, ranOutOfSteps, type EvalNote } from '../python/limits';
import type { ExternalSites, ExternalTraining, ModelExtractor } from './types';
import { extractKeras } from './keras';
import { extractTorch } from './torch';
import { extractTraining } from './training';
import { notesOf, type FileNote } from './notes';
import { wholeFileFact } from './file-wide';
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
  return assembleFile(file, [extractPart(file, sites)]);
}

/** What the extractors find in one file or one slice of a file (see analysis/units.ts). */
export interface ExtractedPart {
  models: ModelIR[];
  external: ExternalTraining[];
  notes: EvalNote[];
  /** How names were read (see notes.ts), kept for the whole file to report. */
  fileNotes: FileNote[];
  /** A whole-file fact the extraction used (see file-wide.ts): a slice of the file may not stand for it. */
  wholeFileFact: string | null;
}

export function extractPart(file: PyFile, sites?: ExternalSites): ExtractedPart {
  const notes = new EvalNotes();
  const models = MODEL_EXTRACTORS.flatMap((extract) => extract(file, notes, sites));
  const external = extractTraining(file, models);
  inferInputShapes(file, models);
  // The statement budget is the whole file's: a part that used it up does not stand for the file.
  const fact = wholeFileFact(file) ?? (ranOutOfSteps(notes.notes) ? 'the evaluation budget was used up' : null);
  return { models, external, notes: notes.notes, fileNotes: notesOf(file), wholeFileFact: fact };
}

const FRAMEWORK_RANK: Readonly<Record<Framework, number>> = { keras: 0, torch: 1 };

function compareStart(a: Range, b: Range): number {
  return a.start.line - b.start.line || a.start.character - b.start.character;
}

/** Copies of cached models with their `instantiated` flag set for the whole file, per flag value. */
const flagged = new WeakMap<ModelIR, Map<boolean, ModelIR>>();

/** The file's results from its parts (the whole file, or its slices in source order). */
export function assembleFile(file: PyFile, parts: readonly ExtractedPart[]): ExtractedFile {
  // Whether a model is instantiated reads calls anywhere in the text (docstrings and comments too), so
  // it is decided for the whole file, on copies: the parts' models are cached between analyses.
  // One order whatever the grouping: by framework (Keras first, as the extractors run), then where written.
  const cached = parts.flatMap((p) => p.models).sort((a, b) => FRAMEWORK_RANK[a.framework] - FRAMEWORK_RANK[b.framework] || compareStart(a.range, b.range));
  const copies = cached.map((m) => ({ ...m }));
  markInstantiated(file, copies);
  // The same object for the same model and flag from one analysis to the next (later caches key on it).
  const models = copies.map((copy, i) => {
    const original = cached[i]!;
    if (copy.instantiated === original.instantiated) return original;
    let byFlag = flagged.get(original);
    if (!byFlag) flagged.set(original, (byFlag = new Map<boolean, ModelIR>()));
    const flag = copy.instantiated === true;
    let kept = byFlag.get(flag);
    if (!kept) byFlag.set(flag, (kept = copy));
    return kept;
  });
  const external = parts.flatMap((p) => p.external);
  const notes = new EvalNotes();
  for (const n of parts.flatMap((p) => p.notes).sort((a, b) => compareStart(a.range, b.range))) notes.add(n.what, n.range);
  // How names were read (assumed frameworks, star imports, private paths, implicit receivers): only
  // where something was found, since an assumption that produced nothing is not worth a word. Each
  // message once, as notes.ts keeps them per file.
  if (models.length > 0 || external.length > 0) {
    const seen = new Set<string>();
    for (const n of parts.flatMap((p) => p.fileNotes)) {
      if (seen.has(n.message)) continue;
      seen.add(n.message);
      notes.add(n.message, n.range);
    }
  }
  return { models, external, notes: notes.notes, outside: outsideClasses(file) };
}
