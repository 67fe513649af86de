/** Messages between the server's main thread and its analysis worker thread. */
import type { FileResult, SourceEdit } from '../analysis/api';
import type { Finding } from '../shared/findings';
import type { ModelIR } from '../shared/ir';
import { hasTag, isObject } from '../shared/message-guard';
import { byRows, moveRows, uniformMoveOf } from '../analysis/row-shift';
import type { Settings } from '../shared/settings';

/**
 * Cancellation flags shared by the two threads: the main thread stores a request's id at
 * `id % CANCEL_SLOTS` to cancel it; the worker's analysis polls its slot (see analysis/cancellation.ts).
 */
export const CANCEL_SLOTS = 1024;

/** Whether request `id` was cancelled, read from the shared flags. */
export function isCancelledIn(flags: Int32Array, id: number): boolean {
  return Atomics.load(flags, id % CANCEL_SLOTS) === id;
}

export function cancelIn(flags: Int32Array, id: number): void {
  Atomics.store(flags, id % CANCEL_SLOTS, id);
}

export type ToWorker =
  | { kind: 'init'; roots: string[]; overrides: Partial<Settings>; maxFileBytes: number; cancelFlags: SharedArrayBuffer }
  | { kind: 'setFile'; path: string; text: string; edit: SourceEdit | null }
  | { kind: 'removeFile'; path: string }
  | { kind: 'settings'; overrides: Partial<Settings> }
  /** pyproject.toml changed on disk: forget the cached configuration files. */
  | { kind: 'reloadConfig' }
  /**
   * `variant`: analyze this text in the file's place once (a class called with the arguments the user
   * gives, analysis/given-arguments.ts), then put the file's own text back.
   */
  | { kind: 'analyze'; id: number; path: string; variant?: string };

/**
 * A FileResult as the worker posts it. An edit inside one definition leaves most models and findings
 * the same objects (the analyzer caches them): those are sent as their index in the previous result
 * posted for the same path, which the host holds, so a dense file is not copied whole per keystroke.
 * Lines typed above definitions move their cached results (row-shift.ts): one the analyzer moved by
 * whole lines is sent as `[index, rows]`, and the host moves its own copy the same way.
 */
export interface PostedResult extends Omit<FileResult, 'models' | 'findings'> {
  /** Absent when the models were posted ahead of the result (PostedModels), before linting. */
  models?: Posted<ModelIR>[];
  findings: Posted<Finding>[];
}

/** A file's models, posted as soon as the analysis knows them: hovers need not wait for linting. */
export interface PostedModels {
  path: string;
  models: Posted<ModelIR>[];
}

/** An item whole, the index of the same item in the previous result, or `[index, rows]`: that item with every row moved by `rows`. */
type Posted<T> = T | number | [index: number, rows: number];

/** A file's models as the host holds them: read when a request needs them (see HeldItems). */
export interface HeldModels {
  readonly models: ModelIR[];
  /**
   * The models `test` accepts, asked of each model as last read and the rows it moved since: a request
   * that needs only some (a hover, after lines typed above every model) does not move all of them.
   */
  modelsWhere(test: (model: ModelIR, rows: number) => boolean): ModelIR[];
}

/** A file's findings as the host holds them: read when a request needs them, or as held with the rows each moved since. */
export interface HeldFindings {
  readonly findings: Finding[];
  /**
   * `read` of each finding as last read and the rows it moved since, none moved now: the diagnostics of
   * a dense file's findings after a line typed above them are made from the findings they were moved
   * from, without a moved copy of each (see handlers/diagnostics.ts).
   */
  findingsAsHeld<R>(read: (finding: Finding, rows: number, index: number) => R): R[];
}

/** A result as the host holds it. */
export type HeldResult = FileResult & HeldModels & HeldFindings;

/** A result the host has whole (not posted against a previous one) as it holds results. */
export function heldResult(result: FileResult): HeldResult {
  return Object.defineProperties({ ...result }, {
    modelsWhere: { value: (test: (model: ModelIR, rows: number) => boolean) => result.models.filter((model) => test(model, 0)) },
    findingsAsHeld: { value: <R>(read: (finding: Finding, rows: number, index: number) => R) => result.findings.map((finding, index) => read(finding, 0, index)) },
  }) as HeldResult;
}

/** The previous result per path on each side of the channel: the worker encodes against it, the host decodes. */
export class PostedResults {
  /** The worker's side. */
  private readonly previous = new Map<string, FileResult>();
  /** The host's side. */
  private readonly held = new Map<string, { models: HeldItems<ModelIR>; findings: HeldItems<Finding> }>();

  /** The worker's side: `result` with what the previous result for its path also held (or held before a move) sent as indices. */
  encode(result: FileResult): PostedResult {
    const before = this.previous.get(result.path);
    this.previous.set(result.path, result);
    if (!before) return result;
    const findings = asIndices(result.findings, before.findings);
    // The models went ahead of the result (encodeModels): the host holds them already.
    if (before.models === result.models) return { ...result, models: undefined, findings };
    return { ...result, models: asIndices(result.models, before.models), findings };
  }

  /** The worker's side: the models of a result to come, ahead of it. */
  encodeModels(path: string, models: ModelIR[]): PostedModels {
    const before = this.previous.get(path);
    this.previous.set(path, { ...(before ?? { path, error: null, notices: [], findings: [] }), models });
    return { path, models: before ? asIndices(models, before.models) : models };
  }

  /**
   * The host's side: the result the worker encoded; null when an index names nothing (the two sides
   * disagree). Its models and findings are moved when first read.
   */
  decode(posted: PostedResult): HeldResult | null {
    const before = this.held.get(posted.path);
    const models = posted.models ? HeldItems.decode(posted.models, before?.models, moveModel) : before?.models;
    const findings = HeldItems.decode(posted.findings, before?.findings, moveFinding);
    if (!models || !findings) return null;
    this.held.set(posted.path, { models, findings });
    const { path, error, notices } = posted;
    return withFindings(withModels({ path, error, notices }, models), findings);
  }

  /** The host's side: models posted ahead of their result; null when an index names nothing. */
  decodeModels(posted: PostedModels): HeldModels | null {
    const before = this.held.get(posted.path);
    const models = HeldItems.decode(posted.models, before?.models, moveModel);
    if (!models) return null;
    this.held.set(posted.path, { models, findings: before?.findings ?? HeldItems.none(moveFinding) });
    return withModels({}, models);
  }

  /** The worker forgets a file: its next result for the path is sent whole. */
  forget(path: string): void {
    this.previous.delete(path);
    this.held.delete(path);
  }
}

/** `value` with its `models` read from `held` when first asked for (all of them, or those modelsWhere accepts). */
function withModels<T extends object>(value: T, held: HeldItems<ModelIR>): T & HeldModels {
  return Object.defineProperties(value, {
    models: { get: () => held.items, enumerable: true },
    modelsWhere: { value: (test: (model: ModelIR, rows: number) => boolean) => held.where(test) },
  }) as T & HeldModels;
}

/** `value` with its `findings` read from `held` when first asked for, or as held (findingsAsHeld). */
function withFindings<T extends object>(value: T, held: HeldItems<Finding>): T & HeldFindings {
  return Object.defineProperties(value, {
    findings: { get: () => held.items, enumerable: true },
    findingsAsHeld: { value: <R>(read: (finding: Finding, rows: number, index: number) => R) => held.asHeld(read) },
  }) as T & HeldFindings;
}

function asIndices<T extends object>(items: readonly T[], before: readonly T[]): Posted<T>[] {
  // After an edit inside one definition most items are those before, at the same index or a few apart:
  // they are found there, and the few others by a search of the list. A Map of every item (hashing each
  // object) is made only once many are not (lines typed above: every item below is a move).
  let at: Map<object, number> | null = null;
  let searches = 0;
  const indexOf = (item: object): number | undefined => {
    if (!at && ++searches <= SEARCHES_BEFORE_MAP) {
      const index = (before as readonly object[]).indexOf(item);
      return index < 0 ? undefined : index;
    }
    at ??= new Map<object, number>(before.map((b, i) => [b, i]));
    return at.get(item);
  };
  let offset = 0;
  return items.map((item, i) => {
    if (before[i + offset] === item) return i + offset;
    const same = indexOf(item);
    if (same !== undefined) {
      offset = same - i;
      return same;
    }
    const move = uniformMoveOf(item);
    const from = move && indexOf(move.from);
    return move && from !== undefined ? [from, move.rows] : item;
  });
}

/** Items asIndices looks for by a search of the list before it makes a Map of the list. */
const SEARCHES_BEFORE_MAP = 8;

/** One item the host holds: its value, or until it is read, the item it is a move of and by how many rows. */
interface Held<T> {
  value: T | null;
  from: T;
  rows: number;
}

/**
 * What the host holds of a result's items. An item the worker moved by whole lines is kept as the item
 * it was moved from and the rows until it is read: lines typed above many models do not copy them all
 * on the server per keystroke (only a hover or a hint reads them), and moves in a row add up to one.
 * An item the next result holds too is the same entry, read once for both.
 */
class HeldItems<T extends object> {
  private read: T[] | null = null;

  private constructor(
    private readonly entries: readonly Held<T>[],
    private readonly move: Move,
  ) {}

  static none<T extends object>(move: Move): HeldItems<T> {
    return new HeldItems<T>([], move);
  }

  /** The items of `posted`, whose indices name those of `before`; null when one names nothing. */
  static decode<T extends object>(posted: readonly Posted<T>[], before: HeldItems<T> | undefined, move: Move): HeldItems<T> | null {
    const entries: Held<T>[] = [];
    for (const item of posted) {
      if (typeof item === 'number') {
        const same = before?.entries[item];
        if (!same) return null;
        entries.push(same);
      } else if (Array.isArray(item)) {
        const [index, rows] = item;
        const from = before?.entries[index];
        if (!from) return null;
        entries.push(from.value ? { value: null, from: from.value, rows } : { value: null, from: from.from, rows: from.rows + rows });
      } else {
        entries.push({ value: item, from: item, rows: 0 });
      }
    }
    return new HeldItems(entries, move);
  }

  get items(): T[] {
    return (this.read ??= this.entries.map((held) => valueOf(held, this.move)));
  }

  /** `read` of each item as last read and the rows it moved since; none is moved now. */
  asHeld<R>(read: (item: T, rows: number, index: number) => R): R[] {
    if (this.read) return this.read.map((item, index) => read(item, 0, index));
    return this.entries.map((held, index) => (held.value ? read(held.value, 0, index) : read(held.from, held.rows, index)));
  }

  /** The items `test` accepts, asked of each item as last read and the rows it moved since; only those are moved now. */
  where(test: (item: T, rows: number) => boolean): T[] {
    if (this.read) return this.read.filter((item) => test(item, 0));
    return this.entries.filter((held) => (held.value ? test(held.value, 0) : test(held.from, held.rows))).map((held) => valueOf(held, this.move));
  }
}

/** How the host moves an item by whole lines: the same rows as the worker's move of the same item. */
type Move = <T extends object>(item: T, rows: number) => T | null;

/** Items are moved field by field when read: a hover reads a few models, diagnostics read a finding's range, message and related lines. */
const moveModel: Move = (item, rows) => moveRows(item, '', byRows(rows));
const moveFinding: Move = moveModel;

/** A held item's value, moved now if it was not read yet. */
function valueOf<T extends object>(held: Held<T>, move: Move): T {
  if (!held.value) {
    const moved = move(held.from, held.rows);
    // Only plain data moved by whole lines is posted as a move: it always moves again.
    if (!moved) throw new Error('a result item posted as moved by whole lines could not be moved');
    held.value = moved;
  }
  return held.value;
}

export type FromWorker =
  /**
   * `ms`: time the analyzer itself took in the worker for this result: analyzeFile plus the
   * setFile calls (parsing) since the previous result. The rest of a round trip is messaging.
   */
  | { kind: 'result'; id: number; result: PostedResult; ms: number }
  /** The models of request `id`'s result, ahead of it (its findings are still being linted). */
  | { kind: 'models'; id: number; models: PostedModels }
  /** Request `id` starts now (the host's time limit counts from here, not from the queue). */
  | { kind: 'started'; id: number }
  /** Request `id` was cancelled before or while it ran (a newer edit made it stale). */
  | { kind: 'cancelled'; id: number }
  | { kind: 'log'; message: string };

const TO_WORKER_KINDS = ['init', 'setFile', 'removeFile', 'settings', 'reloadConfig', 'analyze'] as const satisfies readonly ToWorker['kind'][];

export function isToWorker(value: unknown): value is ToWorker {
  if (!hasTag(value, 'kind', TO_WORKER_KINDS)) return false;
  switch (value.kind) {
    case 'init':
      return Array.isArray(value.roots) && isObject(value.overrides) && typeof value.maxFileBytes === 'number' && value.cancelFlags instanceof SharedArrayBuffer;
    case 'setFile':
      return typeof value.path === 'string' && typeof value.text === 'string' && (value.edit === null || isObject(value.edit));
    case 'removeFile':
      return typeof value.path === 'string';
    case 'settings':
      return isObject(value.overrides);
    case 'reloadConfig':
      return true;
    case 'analyze':
      return typeof value.id === 'number' && typeof value.path === 'string' && (value.variant === undefined || typeof value.variant === 'string');
  }
}

export function isFromWorker(value: unknown): value is FromWorker {
  if (!hasTag(value, 'kind', ['result', 'models', 'started', 'cancelled', 'log'] as const)) return false;
  if (value.kind === 'log') return typeof value.message === 'string';
  if (value.kind === 'cancelled' || value.kind === 'started') return typeof value.id === 'number';
  if (value.kind === 'models') return typeof value.id === 'number' && isObject(value.models) && typeof value.models.path === 'string' && Array.isArray(value.models.models);
  return typeof value.id === 'number' && isObject(value.result) && typeof value.result.path === 'string' && (value.result.models === undefined || Array.isArray(value.result.models)) && Array.isArray(value.result.findings) && typeof value.ms === 'number';
}
