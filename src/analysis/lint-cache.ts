/**
 * Findings per model, reused across analyses while nothing they can depend on changed (issue 10).
 *
 * A rule sees its model, the settings of the model's file and the source text of the files the model
 * points into (fixes read the lines of a layer, the imports, the enclosing function, module-level
 * assignments). So a model's findings are keyed by: the model itself (every range included, so a model
 * that moved is linted again), the settings, and per file it points into, the text the rules can read:
 * all module-level code outside function and class definitions, every line that mentions an import,
 * and the whole text of each top-level definition the model's ranges fall in. An edit inside another
 * definition leaves the key unchanged; any other edit changes it.
 *
 * A model the last edit only moved (lines added or removed above it: row-shift.ts) is found again by
 * the key it had before the edit, when the texts the rules read are the same but for blank lines at
 * module level: its findings are moved with it instead of linted again.
 */
import { createHash } from 'node:crypto';
import type { TopLevelStatement } from './python/top-level';
import type { Finding } from '../shared/findings';
import type { ModelIR } from '../shared/ir';
import type { Settings } from '../shared/settings';
import { lintModel } from './lint';
import { spanHolding } from '../shared/ranges';
import { countLines, moveRows, prepareMove, sharedEnds, rowFreeJson, rowShift, uniformMoveOf, type RowMap, type RowShift } from './row-shift';
import { keptText } from './python/kept-text';

/** What the key reads of one file: its text and the line spans of its top-level definitions. */
export interface LintSource {
  text: string;
  /** Top-level function and class definitions (decorators included), in order; null when unparsed. */
  definitions: readonly DefinitionSpan[] | null;
}

/** A top-level function or class definition (decorators included). */
export type DefinitionSpan = TopLevelStatement;

const DEFINITION_TYPES = new Set(['function_definition', 'class_definition', 'decorated_definition']);

/** The top-level definitions among a module's top-level statements. */
export function definitionSpans(statements: readonly TopLevelStatement[]): DefinitionSpan[] {
  return statements.filter((s) => DEFINITION_TYPES.has(s.type));
}

/**
 * The text of a file outside its top-level definitions, with every line that mentions an import. The
 * mentions are found by one search through the text, not by splitting each definition into lines: most
 * definitions mention none, and splitting them all was a large part of what an edit cost here.
 */
function moduleLevelText(source: LintSource): string {
  const { text, definitions } = source;
  if (!definitions) return text;
  let out = '';
  let from = 0;
  let mention = text.indexOf('import');
  for (const span of definitions) {
    out += text.slice(from, span.startIndex);
    while (mention >= 0 && mention < span.startIndex) mention = text.indexOf('import', mention + 1);
    // Each line of the definition that mentions an import, once.
    while (mention >= 0 && mention + 'import'.length <= span.endIndex) {
      const lineStart = Math.max(span.startIndex, text.lastIndexOf('\n', mention - 1) + 1);
      const newline = text.indexOf('\n', mention);
      const lineEnd = newline < 0 || newline > span.endIndex ? span.endIndex : newline;
      out += `\n${text.slice(lineStart, lineEnd)}`;
      mention = text.indexOf('import', lineEnd);
      if (lineEnd === span.endIndex) break;
    }
    out += '\n\u0000';
    from = span.endIndex;
  }
  return out + text.slice(from);
}

/** Lines each file's ranges cover in `model` (ranges without a `file` of their own belong to the nearest enclosing one). */
function linesByFile(model: ModelIR): Map<string, number[]> {
  const lines = new Map<string, number[]>();
  const visit = (value: unknown, file: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, file);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const own = typeof record.file === 'string' ? record.file : file;
    const start = record.start as { line?: unknown } | undefined;
    const end = record.end as { line?: unknown } | undefined;
    if (typeof start?.line === 'number' && typeof end?.line === 'number') {
      let list = lines.get(own);
      if (!list) lines.set(own, (list = []));
      list.push(start.line, end.line);
      return;
    }
    for (const key in record) visit(record[key], own);
  };
  visit(model, model.file);
  return lines;
}

/** The definition containing `line`, if any. */
function definitionAt(spans: readonly DefinitionSpan[], line: number): DefinitionSpan | undefined {
  return spanHolding(spans, line, (s) => s.startRow, (s) => s.endRow);
}

/** A definition's text and its id; the entry passes from one version of the file to the next while the text stays. */
interface DefinitionText {
  text: string;
  id: number;
}

/** Ids of what the rules can read of one file version: equal texts keep their id from one version to the next. */
interface FileIds {
  /** Unique per file version. */
  version: number;
  text: string;
  moduleText: string;
  moduleId: number;
  /** The module-level text without its blank lines (which only move what follows), and its id. */
  movableModuleText: string;
  movableModuleId: number;
  /** By the definition's first line: its text and id (the same text keeps its id wherever it moves). */
  definitions: Map<number, DefinitionText>;
  /** The file's version before this one, and how its rows moved (computed when asked); null for the first version. */
  before: { version: number; shift: () => RowShift } | null;
}

const BLANK_LINES = /^[ \t]*\n/gm;

/** One analysis' view of the files: memoized per file, since many models share a file. */
export class LintSources {
  private readonly settingsKeys = new Map<string, string>();
  /**
   * Per file, its source and ids in this analysis (null: not in the project), read once: every model
   * asks its file's several times, and a file's text does not change during an analysis.
   */
  private readonly read = new Map<string, { source: LintSource; ids: FileIds } | null>();

  constructor(
    private readonly sourceOf: (file: string) => LintSource | undefined,
    private readonly settingsFor: (file: string) => Settings,
    private readonly ids: (file: string, source: LintSource) => FileIds,
  ) {}

  text(file: string): string | undefined {
    return this.sourceOf(file)?.text;
  }

  /** `file`'s source and ids in this analysis; null when the project does not hold it. */
  private idsFor(file: string): { source: LintSource; ids: FileIds } | null {
    let known = this.read.get(file);
    if (known === undefined) {
      const source = this.sourceOf(file);
      known = source ? { source, ids: this.ids(file, source) } : null;
      this.read.set(file, known);
    }
    return known;
  }

  settings(file: string): Settings {
    return this.settingsFor(file);
  }

  settingsKey(file: string): string {
    let key = this.settingsKeys.get(file);
    if (key === undefined) this.settingsKeys.set(file, (key = JSON.stringify(this.settingsFor(file))));
    return key;
  }

  /**
   * What the rules can read of `file` when linting a model whose ranges there cover `lines`; `read`, when
   * given, receives the ids the key was made of (see KeyReads).
   */
  fileKey(file: string, lines: readonly number[], read?: FileReads[]): string {
    const known = this.idsFor(file);
    if (!known) return 'missing';
    const { source, ids } = known;
    const spans = source.definitions;
    if (!spans) return String(ids.moduleId);
    // `lines` are sorted and distinct (LintCache.lint), so the definitions they fall in come in order.
    let key = String(ids.moduleId);
    const definitions: [row: number, id: number][] = [];
    let previous: DefinitionSpan | undefined;
    for (const line of lines) {
      const span = definitionAt(spans, line);
      if (!span || span === previous) continue;
      previous = span;
      const id = ids.definitions.get(span.startRow)?.id ?? -1;
      definitions.push([span.startRow, id]);
      key += `:${String(span.startRow)}=${String(id)}`;
    }
    read?.push({ file, moduleId: ids.moduleId, definitions });
    return key;
  }

  /** Whether `file` still reads as `read` says: its module-level text and those definitions the same, where they were. */
  readsAsBefore(read: FileReads): boolean {
    const known = this.idsFor(read.file);
    if (!known?.source.definitions) return false;
    const { ids } = known;
    return ids.moduleId === read.moduleId && read.definitions.every(([row, id]) => ids.definitions.get(row)?.id === id);
  }

  /**
   * What the rules can read of `file` for those lines, wherever they are: the same for a model that
   * only moved (see LintCache.lint). It names no version: an entry says which version it was last used in.
   */
  movableFileKey(file: string, lines: readonly number[]): string | null {
    const known = this.idsFor(file);
    if (!known) return null;
    const { source, ids: current } = known;
    let key = String(current.movableModuleId);
    const spans = source.definitions ?? [];
    let previous: DefinitionSpan | undefined;
    for (const line of lines) {
      const span = definitionAt(spans, line);
      if (!span || span === previous) continue;
      previous = span;
      key += `:${String(current.definitions.get(span.startRow)?.id ?? -1)}`;
    }
    return key;
  }

  /** The version of `file` now, or (`before`) the one its last edit was made to. */
  version(file: string, before: boolean): number | null {
    const current = this.idsFor(file)?.ids;
    if (!current) return null;
    return before ? (current.before?.version ?? current.version) : current.version;
  }

  /** How the rows of `file` moved with its last edit, `to` the newer text or back from it (unmoved when there was none). */
  rowsMoved(file: string, to: 'before' | 'after'): RowMap {
    const shift = this.idsFor(file)?.ids.before?.shift();
    if (!shift) return unmoved;
    return to === 'before' ? shift.backward : shift.forward;
  }
}

const unmoved: RowMap = (row) => row;

/** `compute`'s value, computed on the first call only. */
function once<T>(compute: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: compute() }).v;
}

/**
 * How the rows moved from `before` to `after`, computed on the first call. Made in a function of its
 * own: a closure made inside idsOf shared idsOf's context, which holds the previous FileIds, and so
 * each version kept the one before it alive (every version of an edited file, about 230 kB a keystroke).
 */
function rowShiftWhenAsked(before: string, after: string): () => RowShift {
  return once(() => rowShift(before, after));
}

/**
 * Per model object, a digest of its text and the lines it covers per file. Models are not mutated once
 * analyzed (the extraction cache hands the same objects to every analysis while their code is unchanged).
 * The digest, not the text, goes into the key: a key is built per model per analysis, and a dense
 * file's models are kilobytes each.
 */
const shapes = new WeakMap<ModelIR, ModelShape>();

interface ModelShape {
  /** Of the model with its rows counted from its first line (the same for the model moved by whole lines). */
  digest: string;
  /** The model's first line: with the digest, it stands for the model where it is. */
  base: number;
  lines: [string, number[]][];
}

function shapeOf(model: ModelIR): ModelShape {
  let shape = shapes.get(model);
  if (!shape) {
    shape = movedShape(model);
    if (!shape) {
      const base = model.range.start.line;
      const lines = [...linesByFile(model)].map(([file, list]): [string, number[]] => [file, [...new Set(list)].sort((a, b) => a - b)]).sort(([a], [b]) => a.localeCompare(b));
      shape = { digest: createHash('sha256').update(rowFreeJson(model, base)).digest('base64'), base, lines };
    }
    shapes.set(model, shape);
  }
  return shape;
}

/** The shape of a model that is another moved by whole lines (row-shift.ts): its digest, and its lines moved; undefined when unknown. */
function movedShape(model: ModelIR): ModelShape | undefined {
  const move = uniformMoveOf(model);
  const from = move ? shapes.get(move.from as ModelIR) : undefined;
  if (!move || !from) return undefined;
  return { digest: from.digest, base: from.base + move.rows, lines: from.lines.map(([file, list]): [string, number[]] => [file, list.map((line) => line + move.rows)]) };
}

interface Entry {
  file: string;
  /** The first line of the model the findings are of. */
  base: number;
  findings: readonly Finding[];
  /**
   * The version of `file` the findings were last used in, where `base` says. An entry found again after
   * an edit elsewhere is the model's in the new version too: Enter typed above it after an edit inside
   * another definition moves its findings (keyed by the version they were made in, every model below
   * was linted again, 66 ms per Enter in a 5,000-line model-dense file).
   */
  version: number | null;
}

/**
 * A model's key that stays when the model only moved: its digest (rows counted from its first line), the settings, and
 * per file what the rules read there (LintSources.movableFileKey). The entry found by it says which
 * version of the file it was last used in (Entry.version).
 */
function movableKey(digest: string, settings: string, lines: readonly [string, number[]][], sources: LintSources): string | null {
  const parts = [digest, settings];
  for (const [file, list] of lines) {
    const key = sources.movableFileKey(file, list);
    if (key === null) return null;
    parts.push(file, key);
  }
  return parts.join('\u0002');
}

/** The ids a model's key read of one file (LintSources.fileKey): its module-level text's, and per definition its lines fall in, its row and id. */
interface FileReads {
  file: string;
  moduleId: number;
  definitions: [row: number, id: number][];
}

/**
 * Per model object, the key its last lint used and what that key read. While the model is the same
 * object (its code unchanged), the settings are the same and each file reads as before, the key is the
 * same: an edit elsewhere in a long file does not build every model's key again (the definitions each
 * model's lines fall in, searched line by line, were a cost that grew with the file).
 */
interface KeyReads {
  key: string;
  settings: string;
  files: FileReads[];
}

/** Findings of each model, kept from one analysis to the next while the model's key is unchanged. */
export class LintCache {
  private readonly entries = new Map<string, Entry>();
  /** The same entries by the key of a model that may move (see movableKey). */
  private readonly movable = new Map<string, Entry>();
  private readonly used = new Set<string>();
  private readonly linted = new Set<string>();
  /** Models linted (neither found nor moved) in the analysis going on, and in the last one that ended. */
  private linting = 0;
  lintedModels = 0;
  private readonly fileIds = new Map<string, FileIds>();
  private nextId = 0;
  /** Per model object, what its last key read here (ids are this cache's own). */
  private readonly keyReads = new WeakMap<ModelIR, KeyReads>();

  /** What the rules read of one file, as ids that stay while the texts stay (compared, not hashed). */
  readonly idsOf = (file: string, source: LintSource): FileIds => {
    const previous = this.fileIds.get(file);
    if (previous?.text === source.text) return previous;
    const within = previous ? this.editedWithin(previous, source) : null;
    if (within) {
      this.fileIds.set(file, within);
      return within;
    }
    const moduleText = moduleLevelText(source);
    // The same module-level text has the same text without blank lines (a keystroke inside a definition).
    const sameModule = previous?.moduleText === moduleText;
    const movableModuleText = sameModule ? previous.movableModuleText : moduleText.replace(BLANK_LINES, '');
    const shift = previous ? rowShiftWhenAsked(previous.text, source.text) : null;
    // A definition keeps its entry where the edit moved it with its text: found at the same row first (an
    // edit that moved nothing), else where the row map says it was.
    const entryOf = (row: number, text: string): DefinitionText => {
      const same = previous?.definitions.get(row);
      if (same?.text === text) return same;
      const was = shift?.().backward(row);
      const moved = was === null || was === undefined || was === row ? undefined : previous?.definitions.get(was);
      // Kept across versions (see below): a copy, not a view into this version's text.
      return moved?.text === text ? moved : { text: keptText(text), id: ++this.nextId };
    };
    // The characters the edit left alone: before its first change and after its last. A definition wholly
    // in them is the entry at its row (or where its row was), when that entry is as long: the same text,
    // not cut out and compared again (a file of helper functions has hundreds of definitions).
    const ends = previous ? sharedEnds(previous.text, source.text) : null;
    const unchangedUpTo = ends ? ends.start : 0;
    const unchangedFrom = ends ? source.text.length - ends.same : Number.POSITIVE_INFINITY;
    const untouched = (span: DefinitionSpan): DefinitionText | undefined => {
      const row = span.endIndex <= unchangedUpTo ? span.startRow : span.startIndex >= unchangedFrom ? shift?.().backward(span.startRow) : null;
      const entry = row === null || row === undefined ? undefined : previous?.definitions.get(row);
      return entry?.text.length === span.endIndex - span.startIndex ? entry : undefined;
    };
    const ids: FileIds = {
      version: ++this.nextId,
      text: source.text,
      moduleText,
      moduleId: sameModule ? previous.moduleId : ++this.nextId,
      movableModuleText,
      movableModuleId: previous?.movableModuleText === movableModuleText ? previous.movableModuleId : ++this.nextId,
      definitions: new Map(),
      // Only one version back, and only its number: older ones are not kept alive.
      before: previous && shift ? { version: previous.version, shift } : null,
    };
    for (const span of source.definitions ?? []) ids.definitions.set(span.startRow, untouched(span) ?? entryOf(span.startRow, source.text.slice(span.startIndex, span.endIndex)));
    this.fileIds.set(file, ids);
    return ids;
  };

  /**
   * The ids of `source` when it is `previous` with characters changed inside one top-level definition,
   * on lines that mention no import, with no line added or removed: every other definition keeps its
   * entry at its row, and the module-level text (which holds the import lines of definitions) is the
   * same. Null otherwise (idsOf then reads every definition: 0.2 ms per keystroke in a file of hundreds).
   */
  private editedWithin(previous: FileIds, source: LintSource): FileIds | null {
    const spans = source.definitions;
    if (!spans) return null;
    const { start, same } = sharedEnds(previous.text, source.text);
    const [oldEnd, newEnd] = [previous.text.length - same, source.text.length - same];
    if (countLines(previous.text, start, oldEnd) !== countLines(source.text, start, newEnd)) return null;
    const span = spanHolding(spans, start, (s) => s.startIndex, (s) => s.endIndex - 1);
    const before = span && previous.definitions.get(span.startRow);
    if (!span || !before || span.startIndex >= start || newEnd > span.endIndex || before.text.length !== span.endIndex - span.startIndex - (newEnd - oldEnd)) return null;
    const text = source.text.slice(span.startIndex, span.endIndex);
    if (before.text.includes('import') || text.includes('import')) return null;
    // The previous version's map, taken over: no one reads it after this (the version before keeps its
    // number only), and a copy of hundreds of entries per keystroke was most of what this allocated.
    const definitions = previous.definitions;
    definitions.set(span.startRow, { text: keptText(text), id: ++this.nextId });
    const { moduleText, moduleId, movableModuleText, movableModuleId } = previous;
    return { version: ++this.nextId, text: source.text, moduleText, moduleId, movableModuleText, movableModuleId, definitions, before: { version: previous.version, shift: rowShiftWhenAsked(previous.text, source.text) } };
  }

  /** The findings of `model` (shared with later calls: callers must not mutate them). */
  lint(model: ModelIR, sources: LintSources): readonly Finding[] {
    const settings = sources.settingsKey(model.file);
    const reads = this.keyReads.get(model);
    const key = reads && reads.settings === settings && reads.files.every((read) => sources.readsAsBefore(read)) ? reads.key : this.keyOf(model, settings, sources);
    let entry = this.entries.get(key);
    if (!entry) {
      const shape = shapeOf(model);
      entry = this.moved(model, shape, settings, sources) ?? this.lintNow(model, sources);
      this.entries.set(key, entry);
      const movable = movableKey(shape.digest, settings, shape.lines, sources);
      if (movable !== null) this.movable.set(movable, entry);
    }
    entry.version = sources.version(model.file, false);
    this.used.add(key);
    this.linted.add(model.file);
    return entry.findings;
  }

  /** The model's key (remembered with what it read, see KeyReads): its digest and first line, the settings, per file what the rules read there. */
  private keyOf(model: ModelIR, settings: string, sources: LintSources): string {
    const shape = shapeOf(model);
    const parts = [shape.digest, String(shape.base), settings];
    const files: FileReads[] = [];
    let complete = true;
    for (const [file, lines] of shape.lines) {
      const before = files.length;
      parts.push(file, sources.fileKey(file, lines, files));
      // A file without source or definitions is keyed by less than FileReads holds: not remembered.
      if (files.length === before) complete = false;
    }
    const key = parts.join('\u0002');
    if (complete) this.keyReads.set(model, { key, settings, files });
    return key;
  }

  private lintNow(model: ModelIR, sources: LintSources): Entry {
    this.linting++;
    return { file: model.file, base: model.range.start.line, findings: lintModel(model, sources.settings(model.file), (file) => sources.text(file), []), version: null };
  }

  /** The findings of a model the last edit only moved: those it had where it was, moved with it; null when there are none. */
  private moved(model: ModelIR, shape: ModelShape, settings: string, sources: LintSources): Entry | null {
    // Only a model wholly in its own file: messages spell other files' lines as `train.py:12`, which are not moved.
    if (this.movable.size === 0 || shape.lines.some(([file]) => file !== model.file)) return null;
    // The same digest: the model is the one linted before the edit, moved by whole lines.
    const key = movableKey(shape.digest, settings, shape.lines, sources);
    const entry = key === null ? undefined : this.movable.get(key);
    // Found where the version the edit was made to had it.
    if (!entry || entry.version === null || entry.version !== sources.version(model.file, true)) return null;
    // Every line of the model is where the edit moved that model's line: the findings move with the text.
    const back = sources.rowsMoved(model.file, 'before');
    const delta = shape.base - entry.base;
    if (shape.lines.some(([, lines]) => lines.some((line) => back(line) !== line - delta))) return null;
    // Each finding moved by itself, its fields when read (row-shift.ts, moveRows): the analysis reads a
    // finding's code and range, and the server, which moves its own copy, never reads the worker's.
    const findings: Finding[] = [];
    for (const finding of entry.findings) {
      const moved = moveRows(finding, model.file, (file) => sources.rowsMoved(file, 'after'));
      if (!moved) return null;
      findings.push(moved);
    }
    return { file: model.file, base: shape.base, findings, version: null };
  }

  /**
   * Walks ahead what moving the findings kept of `file`'s models reads first (row-shift.ts,
   * prepareMove), until `deadline` (performance.now()) once it walked something; whether every finding
   * was walked.
   */
  prepareMoves(file: string, deadline: number): boolean {
    let walked = false;
    for (const entry of this.movable.values()) {
      if (entry.file !== file) continue;
      for (const finding of entry.findings) walked = prepareMove(finding) || walked;
      if (walked && performance.now() > deadline) return false;
    }
    return true;
  }

  /** Drops what is kept of a file that left the project. */
  forget(file: string): void {
    this.fileIds.delete(file);
    for (const [key, entry] of this.entries) if (entry.file === file) this.entries.delete(key);
    for (const [key, entry] of this.movable) if (entry.file === file) this.movable.delete(key);
  }

  /**
   * Ends one analysis: entries of the files it linted that it did not use are dropped (an analysis
   * of one file keeps the other files' entries), so the cache holds the models of the newest texts.
   */
  endAnalysis(): void {
    for (const [key, entry] of this.entries) if (this.linted.has(entry.file) && !this.used.has(key)) this.entries.delete(key);
    // Entries by where their models were: only those still held (the newest analysis' models).
    const held = new Set(this.entries.values());
    for (const [key, entry] of this.movable) if (!held.has(entry)) this.movable.delete(key);
    this.used.clear();
    this.linted.clear();
    this.lintedModels = this.linting;
    this.linting = 0;
  }
}
