/** All extractors of one file: models per framework, then the training pass. */
import type { Framework, ModelIR, Range } from '../../shared/ir';
import { modelWith } from '../../shared/models';
import type { PyFile } from '../python/file';
import { EvalNotes, ranOutOfSteps, type EvalNote } from '../python/limits';
import type { AssignedAttributes, ExternalSites, ExternalTraining, ImportedDefinitions, ModelExtractor, ModelPass } from './types';
import { extractKeras } from './keras';
import { extractTorch } from './torch';
import { extractTraining } from './training';
import { modelPasses } from './training/passes';
import { notesOf, type FileNote } from './notes';
import { wholeFileFact } from './file-wide';
import { outsideClasses, type OutsideClasses } from './outside-classes';
import { collectEvidence, fileEvidence, guessInputShape, type Evidence, type PartEvidence } from './input-shapes';
import { instantiatedModels, type CallScan } from './instantiation';
import { rethrowCancellation } from '../cancellation';
import { byRows, markMoved, moveRows, rowShift, shiftRows, uniformMoveOf, type RowMap } from '../row-shift';
import { isDeepStrictEqual } from 'node:util';
import { readImportedConstants, Scope, type ConstValue } from '../python/constants';

const MODEL_EXTRACTORS: readonly ModelExtractor[] = [extractKeras, extractTorch];

export interface ExtractedFile {
  models: ModelIR[];
  external: ExternalTraining[];
  /** Models the file passes to functions of other project files (the linker gives them those functions' training). */
  passes: ModelPass[];
  /** Limits reached and constructs the evaluation could not follow, each with its line. */
  notes: EvalNote[];
  /** Classes the models use from other modules: the project notes those outside the analyzed files. */
  outside: OutsideClasses[];
}

/**
 * `sites`: calls other files of the workspace make of this file's classes, by class name; `imported`:
 * where the classes this file imports from other files of the workspace are defined.
 */
export function extractFile(file: PyFile, sites?: ExternalSites, imported?: ImportedDefinitions, assigned?: AssignedAttributes): ExtractedFile {
  return assembleFile(file, [extractPart(file, sites, imported, assigned)]);
}

/** What the extractors find in one file or one slice of a file (see analysis/units.ts). */
export interface ExtractedPart {
  models: ModelIR[];
  external: ExternalTraining[];
  passes: ModelPass[];
  notes: EvalNote[];
  /** How names were read (see notes.ts), kept for the whole file to report. */
  fileNotes: FileNote[];
  /** A whole-file fact the extraction used (see file-wide.ts): a slice of the file may not stand for it. */
  wholeFileFact: string | null;
  /** What its calls tell about input shapes: the file combines every part's for each model (input-shapes.ts). */
  evidence: PartEvidence;
}

export function extractPart(file: PyFile, sites?: ExternalSites, imported?: ImportedDefinitions, assigned?: AssignedAttributes): ExtractedPart {
  if (imported) readConstantsImported(file, imported);
  const notes = new EvalNotes();
  const models = MODEL_EXTRACTORS.flatMap((extract) => extract(file, notes, sites, imported, assigned));
  const external = extractTraining(file, models);
  const passes = passesOf(file, models, notes);
  const evidence = collectEvidence(file);
  // The statement budget is the whole file's: a part that used it up does not stand for the file.
  const fact = wholeFileFact(file) ?? (ranOutOfSteps(notes.notes) ? 'the evaluation budget was used up' : null);
  return { models, external, passes, notes: notes.notes, fileNotes: notesOf(file), wholeFileFact: fact, evidence };
}

/**
 * Lets `file`'s scopes read the module-level constants it imports from other workspace files: before its
 * extraction, and before its calls of other files' definitions are read as call sites (main.py's
 * `build_generator(img_shape)` with `img_shape` made of `args` from config.py).
 */
export function readConstantsImported(file: PyFile, imported: ImportedDefinitions): void {
  readImportedConstants(file.syntax, importedConstantReader(file, imported));
}

/**
 * The value of a module-level constant `file` imports from another workspace file (`H = 64` in
 * cfg.py for `from cfg import H`; `args.img_rows` of an `args = argparse.Namespace(img_rows=28)` there),
 * evaluated where it is written; undefined when unknown. Constants two files import from each other stay unknown.
 */
function importedConstantReader(file: PyFile, imported: ImportedDefinitions): (name: string) => ConstValue | undefined {
  const known = new Map<string, ConstValue | undefined>();
  return (name) => {
    if (known.has(name)) return known.get(name);
    known.set(name, undefined);
    // `args.img_rows` with `from config import args`: an attribute of a configuration object made there.
    const dot = name.indexOf('.');
    if (dot > 0) {
      const holder = imported(file.path, name.slice(0, dot));
      const value = holder ? Scope.of(holder.file.root).containerAttribute(holder.symbol, name.slice(dot + 1)) : undefined;
      known.set(name, value);
      return value;
    }
    const target = imported(file.path, name);
    const bound = target ? Scope.of(target.file.root).lookup(target.symbol) : undefined;
    const value = bound ? Scope.of(bound).evaluate(bound) : undefined;
    known.set(name, value);
    return value;
  };
}

/** modelPasses, guarded: a construct it trips on costs the passes (with a note), not the file's models. */
function passesOf(file: PyFile, models: readonly ModelIR[], notes: EvalNotes): ModelPass[] {
  try {
    return modelPasses(file, models);
  } catch (err) {
    rethrowCancellation(err);
    notes.add(`the models this file passes to functions of other files could not be read (${err instanceof Error ? err.message : String(err)})`, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
    return [];
  }
}

const FRAMEWORK_RANK: Readonly<Record<Framework, number>> = { keras: 0, torch: 1 };

function compareStart(a: Range, b: Range): number {
  return a.start.line - b.start.line || a.start.character - b.start.character;
}

/**
 * Per cached model, its copy with the file's facts set (`instantiated`, `inputGuess`), by those facts:
 * the same object while they are unchanged (later caches key on it) and no input shape guessed again.
 */
const completed = new WeakMap<ModelIR, Map<string, ModelIR>>();
/** Short ids for the files' evidence texts (a dense file's evidence runs to kilobytes: keyed per model, it is compared by id). */
const evidenceIds = new Map<string, number>();
const MAX_EVIDENCE_IDS = 256;
let nextEvidenceId = 0;

function evidenceId(text: string): number {
  let id = evidenceIds.get(text);
  if (id === undefined) {
    // Old ids are not reused: a forgotten text comes back under a new id, and its models are completed again.
    if (evidenceIds.size >= MAX_EVIDENCE_IDS) evidenceIds.clear();
    evidenceIds.set(text, (id = nextEvidenceId++));
  }
  return id;
}

/** The last evidence combined from a list of parts, by its first part (the same parts give the same evidence). */
const combined = new WeakMap<PartEvidence, { parts: readonly PartEvidence[]; evidence: Evidence[]; key: string }>();

/** The file's evidence from its parts' and its id (see evidenceId). */
function evidenceOf(parts: readonly ExtractedPart[]): { evidence: Evidence[]; key: string } {
  const inputs = parts.map((p) => p.evidence);
  const first = inputs[0];
  const last = first && combined.get(first);
  // A part extracted again (the group an edit changed) mostly finds the same evidence at the same places:
  // combining every part's again and naming the result by its text cost 0.4 ms per edit of a 5,000-line file.
  if (last?.parts.length === inputs.length && last.parts.every((p, i) => p === inputs[i] || isDeepStrictEqual(p, inputs[i]))) {
    last.parts = inputs;
    return last;
  }
  const evidence = fileEvidence(inputs);
  const entry = { parts: inputs, evidence, key: String(evidenceId(JSON.stringify(evidence))) };
  if (first) combined.set(first, entry);
  return entry;
}

/**
 * A cached model the edit only moved (row-shift.ts) whose facts moved with it: its copy is the former
 * copy moved, which is recorded so that what is known of that one (a digest, the server's copy) holds.
 */
function markCompletedMove(original: ModelIR, model: ModelIR): void {
  const move = uniformMoveOf(original);
  const before = move ? completed.get(move.from as ModelIR)?.values().next().value : undefined;
  if (!move || !before || before.instantiated !== model.instantiated) return;
  if (isDeepStrictEqual(shiftRows(before.inputGuess, model.file, byRows(move.rows)), model.inputGuess)) markMoved(model, before, move.rows);
}

/** The parts' evidence a completed copy's input shape was guessed from. */
const completedWith = new WeakMap<ModelIR, readonly PartEvidence[]>();

/** Whether a part's evidence says anything (then it holds rows; else it is the same wherever the part moves). */
export const hasEvidence = (e: PartEvidence): boolean => e.items.length > 0 || Object.values(e).some((v) => v !== null && !Array.isArray(v));

/**
 * Whether a part adds nothing to its file's assembly: no models, training, passes, notes or evidence.
 * Most groups of a long file of helper functions are such parts; the assembly leaves them out, since it
 * read all of them on every edit (0.6 ms per edit of a 5,000-line file of helpers) to add nothing.
 */
export function addsNothing(part: ExtractedPart): boolean {
  let nothing = nothingAdded.get(part);
  if (nothing === undefined) {
    nothing = part.models.length === 0 && part.external.length === 0 && part.passes.length === 0 && part.notes.length === 0 && part.fileNotes.length === 0 && part.wholeFileFact === null && !hasEvidence(part.evidence);
    nothingAdded.set(part, nothing);
  }
  return nothing;
}

/** addsNothing per part, asked of every kept part on every edit (parts are not changed once made). */
const nothingAdded = new WeakMap<ExtractedPart, boolean>();

/**
 * The completed copy of a model the edit only moved, when its facts moved with it: the model and every
 * part's evidence moved by the same lines (or unchanged and without evidence), and it is instantiated as
 * before. Its input shape guess is then the former one moved (the guess reads rows only through the
 * evidence and the model, relative to each other), so the former copy is moved (lazily, row-shift.ts)
 * instead of the model's layers being read again. Undefined otherwise.
 */
function movedCompletion(original: ModelIR, instantiated: boolean, evidenceMoves: EvidenceMoves): ModelIR | undefined {
  const move = uniformMoveOf(original);
  const before = move ? completed.get(move.from as ModelIR)?.values().next().value : undefined;
  const was = before && completedWith.get(before);
  if (!move || !before || !was || before.instantiated !== instantiated) return undefined;
  const rows = evidenceMoves(was);
  return rows === move.rows || (rows === ANY_ROWS) ? (moveRows(before, before.file, byRows(move.rows)) ?? undefined) : undefined;
}

/** No part has evidence, before or now: a model moved by any number of lines keeps its guess. */
const ANY_ROWS = Number.POSITIVE_INFINITY;

/** Lines every part's evidence moved by since the parts' evidence `was` (ANY_ROWS: none has any); null when they did not all move alike. */
type EvidenceMoves = (was: readonly PartEvidence[]) => number | null;

/** EvidenceMoves towards `evidence`, computed once per former list (models completed together share theirs). */
function evidenceMovesTo(evidence: readonly PartEvidence[]): EvidenceMoves {
  const known = new Map<readonly PartEvidence[], number | null>();
  return (was) => {
    let rows = known.get(was);
    if (rows !== undefined) return rows;
    rows = ANY_ROWS;
    if (was.length !== evidence.length) rows = null;
    for (let i = 0; i < evidence.length && rows !== null; i++) {
      const now = evidence[i]!;
      const then = was[i]!;
      const nowMove = uniformMoveOf(now);
      if (!hasEvidence(now)) {
        if (hasEvidence(then) || (now !== then && nowMove?.from !== then)) rows = null;
      } else if (nowMove?.from !== then || (rows !== ANY_ROWS && rows !== nowMove.rows)) rows = null;
      else rows = nowMove.rows;
    }
    known.set(was, rows);
    return rows;
  };
}

/**
 * What a file's last assembly guessed its models' input shapes from: its text, and the file's evidence
 * with its id. Kept by the file's group cache (units.ts) between versions of the file.
 */
export interface Assembly {
  text: string;
  evidence: readonly Evidence[];
  key: string;
}

/** A file's last assembly, and how many input shapes it guessed (the rest it reused or moved). */
export interface AssemblyMemo {
  last: Assembly | null;
  guessed: number;
  /** The models the last assembly completed (the next one moves them when an edit only moved them). */
  models: readonly ModelIR[];
  /** The order the last assembly put its parts' models in (see inWrittenOrder); null before the first. */
  order?: WrittenOrder | null;
  /** The calls of the file's models found in the last assembly's text (see instantiatedModels). */
  calls?: CallScan | null;
}

/** The parts of an assembly, each one's models' sort keys, and the models in order as (part, model) indices. */
interface WrittenOrder {
  parts: readonly ExtractedPart[];
  keys: readonly (readonly number[])[];
  order: readonly (readonly [part: number, model: number])[];
}

/**
 * The former completion of a model, with its input shape guess moved through `forward` (the rows of
 * the former text to this one's), when the file's evidence is the former evidence with its rows moved
 * the same way (`earlier` holds its id). A guess reads rows only in the lines its text spells
 * (input-shapes.ts: the order of the evidence and the model's layers, never their distance), so moving
 * lines moves the guess: Enter typed above a model moves the evidence below it, and no model's shape is
 * guessed again. The former copy itself while its guess spells no moved line; for a model the edit
 * moved by whole lines, the former copy moved (as movedCompletion). Undefined otherwise.
 */
function shiftedCompletion(original: ModelIR, instantiated: boolean, earlier: Assembly, forward: RowMap): ModelIR | undefined {
  const move = uniformMoveOf(original);
  const before = earlierCompletion(original, instantiated, earlier);
  if (!before) return undefined;
  const inputGuess = shiftRows(before.inputGuess, before.file, () => forward);
  if (!inputGuess) return undefined;
  if (!move) return isDeepStrictEqual(inputGuess, before.inputGuess) ? before : modelWith(original, { inputGuess, instantiated });
  const moved = isDeepStrictEqual(inputGuess, shiftRows(before.inputGuess, before.file, byRows(move.rows))) ? moveRows(before, before.file, byRows(move.rows)) : null;
  return moved ?? modelWith(original, { inputGuess, instantiated });
}

/** The completion the file's last assembly made of the model (or of the one it was moved from), if any. */
function earlierCompletion(original: ModelIR, instantiated: boolean, earlier: Assembly): ModelIR | undefined {
  const predecessor = (uniformMoveOf(original)?.from as ModelIR | undefined) ?? original;
  return completed.get(predecessor)?.get(`${String(instantiated)}:${earlier.key}`);
}

/** The rows of `earlier`'s text to `file`'s when the file's evidence is `earlier`'s with its rows moved by them; null otherwise. */
function evidenceMovedFrom(earlier: Assembly | null, file: PyFile, evidence: readonly Evidence[]): RowMap | null {
  if (!earlier || earlier.text === file.text) return null;
  const forward = rowShift(earlier.text, file.text).forward;
  const moved = shiftRows(earlier.evidence, file.path, () => forward, true);
  return moved && isDeepStrictEqual(moved, evidence) ? forward : null;
}

/**
 * The parts' models in one order whatever the grouping: by framework (Keras first, as the extractors
 * run), then where written. Sorted by a number per model, made once (the comparison of two models' ranges
 * ran some thousand times per edit of a 5,000-line file).
 */
function inWrittenOrder(parts: readonly ExtractedPart[], memo?: AssemblyMemo): ModelIR[] {
  const keysOf = (part: ExtractedPart) => part.models.map((model) => (FRAMEWORK_RANK[model.framework] * 2 ** 26 + model.range.start.line) * 2 ** 24 + model.range.start.character);
  // The same parts, or parts whose models sort as those they replace did (an edit inside one definition):
  // the same order, without reading every model's place again.
  const last = memo?.order;
  if (memo && last?.parts.length === parts.length) {
    const keys: (readonly number[])[] = [];
    for (let i = 0; i < parts.length; i++) {
      const [part, then] = [parts[i]!, last.keys[i]!];
      const now = part === last.parts[i] ? then : keysOf(part);
      if (now.length !== then.length || now.some((key, k) => key !== then[k])) break;
      keys.push(now);
    }
    if (keys.length === parts.length) {
      memo.order = { parts, keys, order: last.order };
      return last.order.map(([p, m]) => parts[p]!.models[m]!);
    }
  }
  const keys = parts.map(keysOf);
  const order = keys.flatMap((list, p) => list.map((key, m) => ({ key, at: [p, m] as const }))).sort((a, b) => a.key - b.key).map((k) => k.at);
  if (memo) memo.order = { parts, keys, order };
  return order.map(([p, m]) => parts[p]!.models[m]!);
}

/**
 * The file's results from its parts (the whole file, or its slices in source order). `memo`: the file's
 * last assembly, read (see shiftedCompletion) and replaced by this one.
 */
export function assembleFile(file: PyFile, parts: readonly ExtractedPart[], memo?: AssemblyMemo): ExtractedFile {
  // Whether a model is instantiated reads calls anywhere in the text (docstrings and comments too), and
  // its input shape reads the evidence of every part: both are decided for the whole file, on copies,
  // since the parts' models are cached between analyses.
  const cached = inWrittenOrder(parts, memo);
  const instantiated = instantiatedModels(file, cached, memo);
  const { evidence, key: evidenceKey } = cached.length > 0 ? evidenceOf(parts) : { evidence: [], key: '' };
  const evidenceParts = parts.map((p) => p.evidence);
  const evidenceMoves = evidenceMovesTo(evidenceParts);
  const earlier = memo?.last ?? null;
  let movedFrom: RowMap | null | undefined;
  let guessed = 0;
  // The two keys of this evidence, made once (not once per model) and hashed once.
  const keys = { true: `true:${evidenceKey}`, false: `false:${evidenceKey}` };
  const models = cached.map((original, i) => {
    const key = keys[String(instantiated[i]!) as 'true' | 'false'];
    let byFacts = completed.get(original);
    if (!byFacts) completed.set(original, (byFacts = new Map<string, ModelIR>()));
    let model = byFacts.get(key);
    if (model && byFacts.size === 1) {
      // Completed for these facts already, and nothing older held.
      completedWith.set(model, evidenceParts);
      return model;
    }
    if (!model) model = movedCompletion(original, instantiated[i]!, evidenceMoves);
    // A model re-read after an edit inside it has no former completion: comparing the texts' rows is then not asked.
    if (!model && earlier && earlierCompletion(original, instantiated[i]!, earlier)) {
      // Asked once per assembly, and only when a model has no completion for this evidence.
      if (movedFrom === undefined) movedFrom = evidenceMovedFrom(earlier, file, evidence);
      if (movedFrom) model = shiftedCompletion(original, instantiated[i]!, earlier, movedFrom);
    }
    if (model) {
      byFacts.clear();
      byFacts.set(key, model);
      completedWith.set(model, evidenceParts);
    } else {
      const inputGuess = guessInputShape(original, evidence);
      guessed++;
      // Evidence elsewhere in the file changed (lines typed above another model moved its evidence):
      // a copy whose facts came out the same stays the same object, and so stays cached downstream.
      const before: ModelIR | undefined = byFacts.values().next().value;
      const same = before && before.instantiated === instantiated[i] && isDeepStrictEqual(before.inputGuess, inputGuess) ? before : undefined;
      // One entry per model: older facts are not asked for again once the file moved on.
      byFacts.clear();
      byFacts.set(key, (model = same ?? modelWith(original, { inputGuess, instantiated: instantiated[i]! })));
      completedWith.set(model, evidenceParts);
      if (!same) markCompletedMove(original, model);
    }
    return model;
  });
  if (memo) {
    memo.last = { text: file.text, evidence, key: evidenceKey };
    memo.guessed = guessed;
    memo.models = models;
  }
  const external = parts.flatMap((p) => p.external);
  const passes = parts.flatMap((p) => p.passes);
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
  return { models, external, passes, notes: notes.notes, outside: outsideClasses(file) };
}
