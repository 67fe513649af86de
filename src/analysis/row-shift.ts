/**
 * Moving cached results with the lines around them (issue 10 §2). After an edit, the lines before the
 * changed ones and the lines after them are the same text, the latter at rows moved by the number of
 * lines added or removed. A result computed only from such lines is the new text's result with every
 * row moved: its ranges, and the line numbers its messages, model ids and evidence spell out. So typing
 * Enter at the top of a long file moves the cached results of every definition below instead of
 * computing them again.
 */

import type { Range } from '../shared/ir';

/** A row of one text to the row holding the same line in the other, or null when it lies in the changed lines. */
export type RowMap = (row: number) => number | null;

/** How the rows of an older text of a file map to those of its newer text, and back. */
export interface RowShift {
  forward: RowMap;
  backward: RowMap;
}

/** Line breaks in text[from, to). */
export function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Characters compared at once while looking for the first difference (a native string comparison, not a loop per character). */
const CHUNK = 512;

/** How many first characters `a` and `b` share. */
function commonStart(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  let at = 0;
  while (at + CHUNK <= shorter && a.slice(at, at + CHUNK) === b.slice(at, at + CHUNK)) at += CHUNK;
  while (at < shorter && a.charCodeAt(at) === b.charCodeAt(at)) at++;
  return at;
}

/** How many last characters `a` and `b` share, at most `limit`. */
function commonEnd(a: string, b: string, limit: number): number {
  let same = 0;
  while (same + CHUNK <= limit && a.slice(a.length - same - CHUNK, a.length - same) === b.slice(b.length - same - CHUNK, b.length - same)) same += CHUNK;
  while (same < limit && a.charCodeAt(a.length - 1 - same) === b.charCodeAt(b.length - 1 - same)) same++;
  return same;
}

/** What two versions of a text share: their first `start` characters and, past those, their last `same`. */
export interface SharedEnds {
  start: number;
  same: number;
}

/** The last pair compared: after an edit the statement groups, the attribute writes, the findings cache and the row map all ask. */
let lastEnds: { before: string; after: string; ends: SharedEnds } | null = null;

/** The characters an edit from `before` to `after` left alone, at their start and at their end (not overlapping). */
export function sharedEnds(before: string, after: string): SharedEnds {
  if (lastEnds?.before === before && lastEnds.after === after) return lastEnds.ends;
  const start = commonStart(before, after);
  const ends = { start, same: commonEnd(before, after, Math.min(before.length, after.length) - start) };
  lastEnds = { before, after, ends };
  return ends;
}

/**
 * Tells sharedEnds what `before` and `after` share when `edit` (the change from one to the other, UTF-16
 * offsets) says it exactly: the characters just inside each of its ends differ, so the texts share no
 * more than it leaves. An edit told wider is not taken (the texts are then compared).
 */
export function knowSharedEnds(before: string, after: string, edit: { startIndex: number; oldEndIndex: number; newEndIndex: number }): void {
  const start = edit.startIndex;
  const limit = Math.min(before.length, after.length) - start;
  const same = after.length - edit.newEndIndex;
  const firstDiffers = start === Math.min(before.length, after.length) || before.charCodeAt(start) !== after.charCodeAt(start);
  const lastDiffers = same === limit || before.charCodeAt(edit.oldEndIndex - 1) !== after.charCodeAt(edit.newEndIndex - 1);
  if (firstDiffers && lastDiffers && same === before.length - edit.oldEndIndex) lastEnds = { before, after, ends: { start, same } };
}

/** The last map computed: the extraction and the findings caches both ask for it after an edit. */
let last: { before: string; after: string; shift: RowShift } | null = null;

/** The rows `before` and `after` share: their common first lines, and their common last lines. */
export function rowShift(before: string, after: string): RowShift {
  if (last?.before === before && last.after === after) return last.shift;
  const shift = computeRowShift(before, after);
  last = { before, after, shift };
  return shift;
}

function computeRowShift(before: string, after: string): RowShift {
  const { start, same } = sharedEnds(before, after);
  // Rows wholly before the first difference are the same lines at the same rows.
  const prefixRows = countLines(before, 0, start);
  // Rows wholly in the common end are the same lines, moved: from where it starts when a line starts
  // there in both texts, else from the next line.
  const end = before.length - same;
  const startsLine = (text: string, at: number) => at === 0 || text.charCodeAt(at - 1) === 10;
  let firstMoved: number;
  if (startsLine(before, end) && startsLine(after, after.length - same)) firstMoved = prefixRows + countLines(before, start, end);
  else {
    const breakAt = before.indexOf('\n', end);
    firstMoved = breakAt < 0 ? Number.POSITIVE_INFINITY : prefixRows + countLines(before, start, breakAt) + 1;
  }
  // Only the changed characters differ in line breaks.
  const delta = countLines(after, start, after.length - same) - countLines(before, start, end);
  return {
    forward: (row) => (row < prefixRows ? row : row >= firstMoved ? row + delta : null),
    backward: (row) => (row < prefixRows ? row : row - delta >= firstMoved ? row - delta : null),
  };
}

/** Line numbers as messages spell them (1-based): `line 12`, `Line 12`. */
const LINE_WORD = /\b([Ll]ine )(\d+)/g;
/** A model id ends with its 0-based line: `build_model@41`. */
const ID_LINE = /@(\d+)$/;
const ID_KEYS = new Set(['id', 'modelId']);
/** Paths are not messages: a folder named `line 2` stays. */
const PATH_KEYS = new Set(['file', 'path']);
/** input-shapes.ts places evidence at `row * 2^24 + column`. */
const PLACE_ROWS = 2 ** 24;

/**
 * Which file a position belongs to (the nearest enclosing `file` field) decides how its row moves; the
 * line numbers strings spell are those of `file`, the file the whole value is about.
 */
export type RowMapOf = (file: string) => RowMap;

class Unmovable extends Error {}

/**
 * `value` with every row moved by the map of the file it belongs to, or null when something cannot be
 * moved: a row in the changed lines, or a value that is not plain data. `evidence`: input-shape
 * evidence, whose `at` places and 1-based `line` fields are rows too (elsewhere a `line` without a
 * `character` is not expected, and refused).
 */
export function shiftRows<T>(value: T, file: string, mapOf: RowMapOf, evidence = false): T | null {
  const copies = new Map<object, unknown>();
  const rootMap = mapOf(file);
  // Lines every row moved by, while they all moved by the same number; null once two differ.
  let rows: number | null | undefined;
  const row = (map: RowMap, r: number): number => {
    const moved = map(r);
    if (moved === null) throw new Unmovable();
    if (rows === undefined) rows = moved - r;
    else if (rows !== moved - r) rows = null;
    return moved;
  };
  const text = (map: RowMap, s: string, key: string): string => {
    let out = s.includes('ine ') ? s.replace(LINE_WORD, (_, word: string, n: string) => `${word}${String(row(map, Number(n) - 1) + 1)}`) : s;
    if (ID_KEYS.has(key)) out = out.replace(ID_LINE, (_, n: string) => `@${String(row(map, Number(n)))}`);
    return out;
  };
  // `map`: the row map of `owner`, the file of the nearest enclosing `file` field (asked once per file change, not per record).
  const visit = (v: unknown, key: string, owner: string, map: RowMap): unknown => {
    // Messages and ids spell lines of the file the value is about (another file's are spelled `train.py:12`).
    if (typeof v === 'string') return PATH_KEYS.has(key) ? v : text(rootMap, v, key);
    if (v === null || typeof v !== 'object') return v;
    const known = copies.get(v);
    if (known !== undefined) return known;
    // Copies made whole (a spread or a slice copies an object's layout at once), then the fields that hold rows written again.
    if (Array.isArray(v)) {
      const out: unknown[] = v.slice();
      copies.set(v, out);
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === 'object' || typeof item === 'string') out[i] = visit(item, key, owner, map);
      }
      return out;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) throw new Unmovable();
    const record = v as Record<string, unknown>;
    let own = owner;
    let ownMap = map;
    if (typeof record.file === 'string' && record.file !== owner) {
      own = record.file;
      ownMap = mapOf(own);
    }
    const out: Record<string, unknown> = { ...record };
    copies.set(v, out);
    const isPosition = typeof record.line === 'number' && typeof record.character === 'number';
    for (const k in record) {
      const field = record[k];
      if (typeof field === 'object' || typeof field === 'string') {
        out[k] = visit(field, k, own, ownMap);
      } else if (k === 'line' && typeof field === 'number') {
        if (isPosition) out[k] = row(ownMap, field);
        else if (evidence) out[k] = row(ownMap, field - 1) + 1;
        else throw new Unmovable();
      } else if (evidence && k === 'at' && typeof field === 'number') {
        const r = Math.floor(field / PLACE_ROWS);
        out[k] = row(ownMap, r) * PLACE_ROWS + (field - r * PLACE_ROWS);
      }
    }
    return out;
  };
  try {
    const moved = visit(value, '', file, rootMap) as T;
    if (rows !== null && moved !== null && typeof moved === 'object') uniformMoves.set(moved, recordedMove(value as object, rows ?? 0));
    return moved;
  } catch (err) {
    if (err instanceof Unmovable) return null;
    throw err;
  }
}

/** A value shiftRows made by moving every row of `from` by the same number of lines. */
export interface UniformMove {
  from: object;
  rows: number;
}

/**
 * A uniform move as recorded. The value it was moved from is held weakly: a copy of a copy would
 * otherwise keep every earlier copy alive (a line typed and removed 200 times held 200 copies of every
 * model and finding of a dense file, 2 MB more per keystroke, and the collector walked them all). What is
 * known of the earlier copy is asked for while the caches that hold it still do (the previous result,
 * the extraction of the previous text), or in the same synchronous analysis that made the copy, during
 * which a WeakRef keeps its target; once nothing holds it, nothing known of it is kept either.
 */
interface RecordedMove {
  from: WeakRef<object>;
  rows: number;
}

function recordedMove(from: object, rows: number): RecordedMove {
  return { from: new WeakRef(from), rows };
}

/**
 * What shiftRows moved uniformly, by copy: what is known of the original (its digest, the copy the
 * server holds) holds for the copy moved by `rows` lines, without reading the copy again.
 */
const uniformMoves = new WeakMap<object, RecordedMove>();

/** The value `value` is a uniform move of, while that value is still held (see RecordedMove). */
export function uniformMoveOf(value: object): UniformMove | undefined {
  const recorded = pendingOf(value)?.whole?.uniform ?? uniformMoves.get(value);
  const from = recorded?.from.deref();
  return from && recorded ? { from, rows: recorded.rows } : undefined;
}

/** Records `copy` as `from` with every row moved by `rows` lines (the caller made or checked it so). */
export function markMoved(copy: object, from: object, rows: number): void {
  uniformMoves.set(copy, recordedMove(from, rows));
}

/** Every row moved by `rows` lines: a uniform move replayed (shiftRows of the same value gives the same copy). */
export function byRows(rows: number): RowMapOf {
  const map: RowMap = (row) => row + rows;
  return () => map;
}

/** `text` with the lines it spells moved by `rows`, as a message of a value moved by whole lines reads. */
export function spelledLinesMoved(text: string, rows: number): string {
  return rows === 0 || !text.includes('ine ') ? text : text.replace(LINE_WORD, (_, word: string, n: string) => `${word}${String(Number(n) + rows)}`);
}

/** `range` moved by `rows` whole lines. */
export function rangeMoved(range: Range, rows: number): Range {
  return rows === 0 ? range : { start: { line: range.start.line + rows, character: range.start.character }, end: { line: range.end.line + rows, character: range.end.character } };
}

/**
 * `value` as JSON with every row (of a position, a spelled line, a model id) counted from `base`: equal
 * for a value and the same value moved by whole lines, and with `base`, one text per value.
 */
export function rowFreeJson(value: unknown, base: number): string {
  return JSON.stringify(value, (key: string, v: unknown): unknown => {
    if (typeof v === 'string') {
      if (PATH_KEYS.has(key)) return v;
      let out = v.includes('ine ') ? v.replace(LINE_WORD, (_, word: string, n: string) => `${word}${String(Number(n) - base)}`) : v;
      if (ID_KEYS.has(key)) out = out.replace(ID_LINE, (_, n: string) => `@${String(Number(n) - base)}`);
      return out;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const record = v as Record<string, unknown>;
      if (typeof record.line === 'number' && typeof record.character === 'number') return { ...record, line: record.line - base };
    }
    return v;
  });
}

/**
 * Moving without copying (issue 10 §2). shiftRows copies every object of a value: on a 5,000-line
 * model-dense file, Enter typed below the imports copied 1.6 MB of models and 0.6 MB of findings twice
 * per keystroke (worker and server), about 65 ms of CPU with its garbage. moveRows gives a copy whose
 * larger fields are moved when first read: a plain object whose own properties are accessors reading the
 * original's field, moved once and kept (values of a few objects, such as ranges, are copied at once). A
 * model no request reads deeply costs its top-level fields, not its layers.
 *
 * Whether a value can be moved is decided at once, from the rows it holds (rowsHeld: one walk per
 * original, kept), so a copy never fails later. A copy of a copy reads the first original with the two
 * maps composed, so moves in a row neither chain copies nor keep them alive.
 */

/** Where the value's own rows are filed in RowsHeld: strings, ids, and positions outside any `file` field. */
const OWN_FILE = '';

/** Per file (OWN_FILE: the value's own), the distinct rows a value holds; null: it holds something shiftRows refuses. */
type RowsHeld = Map<string, number[]> | null;

const rowsHeldOf = new WeakMap<object, RowsHeld>();

/** Values whose rows rowsHeld walked (not found known) since the process started: what prepareMove saves a move. */
let rowsWalks = 0;

export function rowsWalked(): number {
  return rowsWalks;
}

/**
 * Walks ahead of a move what moveRows reads of `value` first (its rows, known per original once walked):
 * a file's first line typed above its models otherwise walks every model and finding below it then.
 * Whether it walked anything (false: known already).
 */
export function prepareMove(value: object): boolean {
  if (Array.isArray(value)) return false;
  const walks = rowsWalks;
  rowsHeld(pendingOf(value)?.whole?.source ?? value);
  return rowsWalks > walks;
}

/** The rows `value` holds, as shiftRows reads them (positions by their enclosing `file`, lines and ids spelled in strings by the value's own). */
function rowsHeld(value: object): RowsHeld {
  const known = rowsHeldOf.get(value);
  if (known !== undefined) return known;
  rowsWalks++;
  const byFile = new Map<string, Set<number>>();
  const add = (file: string, row: number) => {
    let rows = byFile.get(file);
    if (!rows) byFile.set(file, (rows = new Set()));
    rows.add(row);
  };
  // By the file it was reached in: a copy moves an object it reaches twice by the first (see `deferred`).
  // One file, as nearly every object is reached from: its name, not a list (an array per object visited).
  const seen = new Map<object, string | string[]>();
  const visit = (v: unknown, key: string, owner: string): boolean => {
    if (typeof v === 'string') {
      if (PATH_KEYS.has(key)) return true;
      if (v.includes('ine ')) for (const m of v.matchAll(LINE_WORD)) add(OWN_FILE, Number(m[2]) - 1);
      if (ID_KEYS.has(key)) {
        const id = ID_LINE.exec(v);
        if (id) add(OWN_FILE, Number(id[1]));
      }
      return true;
    }
    if (v === null || typeof v !== 'object') return true;
    const owners = seen.get(v);
    if (owners === undefined) seen.set(v, owner);
    else if (owners === owner || (typeof owners !== 'string' && owners.includes(owner))) return true;
    else if (typeof owners === 'string') seen.set(v, [owners, owner]);
    else owners.push(owner);
    if (Array.isArray(v)) {
      for (const item of v as unknown[]) if (!visit(item, key, owner)) return false;
      return true;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    const record = v as Record<string, unknown>;
    const own = fileOf(record, owner);
    const isPosition = typeof record.line === 'number' && typeof record.character === 'number';
    for (const k in record) {
      const field = record[k];
      if (typeof field === 'object' || typeof field === 'string') {
        if (!visit(field, k, own)) return false;
      } else if (k === 'line' && typeof field === 'number') {
        if (!isPosition) return false;
        add(own, field);
      }
    }
    return true;
  };
  const rows: RowsHeld = visit(value, '', OWN_FILE) ? new Map([...byFile].map(([file, set]) => [file, [...set]])) : null;
  rowsHeldOf.set(value, rows);
  return rows;
}

/** How the rows of one original read in a copy: per file of RowsHeld, its row there to the copy's. */
type CopyRows = (file: string) => RowMap;

/** What a copy made by moveRows reads its fields from. */
interface Pending {
  source: Record<string, unknown>;
  /** The rows of the file the record belongs to (its nearest `file` field), and of the value's own (strings). */
  rows: RowMap;
  ownRows: RowMap;
  owner: string;
  copyRows: CopyRows;
  /** One move's copies by original, so objects the original shares are shared in the copy. */
  copies: Map<object, unknown>;
  /** The fields read so far, moved (a copy's properties stay accessors: redefining them would cost more than the reads); null until one is read. */
  values: Map<string, unknown> | null;
  /** Of the copy of a whole value: its original (a move of the copy reads it) and, if every row moved alike, that move. */
  whole: { source: object; uniform: RecordedMove | null } | null;
}

/**
 * What a copy moveRows made (the whole value, or a record of it with fields still to read) reads from:
 * a property of the copy under a symbol, not enumerable (spreads, JSON and deep comparisons do not see
 * it). A WeakMap entry per copy cost the garbage collector more than the copy's own fields.
 */
const PENDING = Symbol('pending');

function pendingOf(value: object): Pending | undefined {
  return (value as { [PENDING]?: Pending })[PENDING];
}

/** The row `map` gives; the rows were checked when the copy was made, so none is in changed lines. */
function rowIn(map: RowMap, row: number): number {
  const moved = map(row);
  if (moved === null) throw new Error(`row ${String(row)} of a moved value lies in changed lines`);
  return moved;
}

function movedText(s: string, key: string, ownRows: RowMap): string {
  if (PATH_KEYS.has(key)) return s;
  let out = s.includes('ine ') ? s.replace(LINE_WORD, (_, word: string, n: string) => `${word}${String(rowIn(ownRows, Number(n) - 1) + 1)}`) : s;
  if (ID_KEYS.has(key) && out.includes('@')) out = out.replace(ID_LINE, (_, n: string) => `@${String(rowIn(ownRows, Number(n)))}`);
  return out;
}

/** The file a record's rows belong to: its own `file` field, else `owner`, the enclosing record's. */
function fileOf(record: Record<string, unknown>, owner: string): string {
  return typeof record.file === 'string' ? record.file : owner;
}

/** What the records of one copy share: how rows read in it, and its copies by original. */
type Shared = Omit<Pending, 'source' | 'rows' | 'owner' | 'values' | 'whole'>;

/** A small value (isSmall) moved now, whole: `rows` are those of `owner`, the file of its nearest `file` field. */
function copied(v: unknown, key: string, owner: string, rows: RowMap, p: Shared): unknown {
  if (typeof v === 'string') return movedText(v, key, p.ownRows);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((item: unknown) => copied(item, key, owner, rows, p));
  const record = v as Record<string, unknown>;
  const own = fileOf(record, owner);
  const ownRows = own === owner ? rows : p.copyRows(own);
  const out: Record<string, unknown> = { ...record };
  const isPosition = typeof record.line === 'number' && typeof record.character === 'number';
  for (const k in record) {
    const field = record[k];
    if (typeof field === 'string') out[k] = movedText(field, k, p.ownRows);
    else if (field !== null && typeof field === 'object') out[k] = copied(field, k, own, ownRows, p);
    else if (isPosition && k === 'line') out[k] = rowIn(ownRows, field as number);
  }
  return out;
}

/**
 * How a copy takes each field (or item) of an original: as it is (a number, a string that spells no
 * line, an object that holds no rows: the copy shares it), a string with its lines moved, a position's
 * row, a small object copied now, or a field moved when first read.
 */
const KEEP = 0;
const TEXT = 1;
const ROW = 2;
const COPY = 3;
const LATER = 4;
type Way = typeof KEEP | typeof TEXT | typeof ROW | typeof COPY | typeof LATER;

/** An original's fields (or items) in order, and how a copy takes each. */
interface Plan {
  keys: string[];
  ways: Way[];
}

/**
 * Per original record or array, its plan: the same for every copy made of it (copies are made from the
 * first original: see moveRows), so a line typed and removed again and again decides it once, not
 * per copy by walking the fields. Originals are not changed once analyzed (lint-cache.ts).
 */
const plans = new WeakMap<object, Plan>();

function planOf(value: object): Plan {
  let plan = plans.get(value);
  if (plan) return plan;
  plan = { keys: [], ways: [] };
  const isArray = Array.isArray(value);
  const record = value as Record<string, unknown>;
  const isPosition = !isArray && typeof record.line === 'number' && typeof record.character === 'number';
  for (const k in record) {
    const field = record[k];
    let way: Way = KEEP;
    if (typeof field === 'string') way = spellsRows(field, k) ? TEXT : KEEP;
    else if (field !== null && typeof field === 'object') way = !holdsRows(field, k) ? KEEP : isSmall(field) ? COPY : LATER;
    else if (isPosition && k === 'line') way = ROW;
    plan.keys.push(k);
    plan.ways.push(way);
  }
  plans.set(value, plan);
  return plan;
}

/** Whether movedText may change `s` (the value of field `key`). */
function spellsRows(s: string, key: string): boolean {
  if (PATH_KEYS.has(key)) return false;
  return (s.includes('ine ') && /\b[Ll]ine \d/.test(s)) || (ID_KEYS.has(key) && ID_LINE.test(s));
}

/** Whether a copy of `value` (under field `key`) may differ from it: it holds a position, or a string that spells a row. */
function holdsRows(value: object, key: string): boolean {
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (typeof item === 'string' ? spellsRows(item, key) : item !== null && typeof item === 'object' && holdsRows(item, key)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  if (typeof record.line === 'number' && typeof record.character === 'number') return true;
  for (const k in record) {
    const field = record[k];
    if (typeof field === 'string' ? spellsRows(field, k) : field !== null && typeof field === 'object' && holdsRows(field, k)) return true;
  }
  return false;
}

/** One value of a copy: strings moved now, arrays copied with their items deferred, records as deferred copies. */
function deferred(v: unknown, key: string, owner: string, rows: RowMap, p: Shared, whole: Pending['whole'] = null): unknown {
  if (typeof v === 'string') return movedText(v, key, p.ownRows);
  if (v === null || typeof v !== 'object') return v;
  const known = p.copies.get(v);
  if (known !== undefined) return known;
  const plan = planOf(v);
  const { keys, ways } = plan;
  if (Array.isArray(v)) {
    const out: unknown[] = v.slice();
    if (v.length > 0) p.copies.set(v, out);
    for (let i = 0; i < keys.length; i++) {
      const way = ways[i]!;
      if (way === KEEP) continue;
      const at = Number(keys[i]);
      const item: unknown = v[at];
      out[at] = way === TEXT ? movedText(item as string, key, p.ownRows) : way === COPY ? copied(item, key, owner, rows, p) : deferred(item, key, owner, rows, p);
    }
    return out;
  }
  const record = v as Record<string, unknown>;
  const own = fileOf(record, owner);
  const ownRows = own === owner ? rows : p.copyRows(own);
  // Fields of a few leaves are moved now; arrays of records and larger records when first read (an
  // accessor costs more to define than a small record to copy).
  const out: Record<string, unknown> = {};
  let later: Pending | null = whole && { source: record, rows: ownRows, owner: own, ownRows: p.ownRows, copyRows: p.copyRows, copies: p.copies, values: null, whole };
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const field = record[k];
    switch (ways[i]) {
      case TEXT:
        out[k] = movedText(field as string, k, p.ownRows);
        break;
      case ROW:
        out[k] = rowIn(ownRows, field as number);
        break;
      case COPY:
        out[k] = copied(field, k, own, ownRows, p);
        break;
      case LATER:
        later ??= { source: record, rows: ownRows, owner: own, ownRows: p.ownRows, copyRows: p.copyRows, copies: p.copies, values: null, whole: null };
        Object.defineProperty(out, k, accessorFor(k));
        break;
      default:
        out[k] = field;
    }
  }
  // Shared records keep being shared in the copy, as in shiftRows' (the small ones too would cost a lookup each).
  if (later) {
    Object.defineProperty(out, PENDING, { value: later });
    p.copies.set(v, out);
  }
  return out;
}

/** Objects in a value copied at once (a range is 3, a related location 5): a deferred copy costs more than a few small ones. */
const SMALL = 8;

/** Whether `value` holds at most SMALL objects (itself included), so it is copied at once. */
function isSmall(value: object): boolean {
  return objectsWithin(value, SMALL) >= 0;
}

/** `budget` less the objects in `value` (itself included); negative once they exceed it (the walk stops there). */
function objectsWithin(value: object, budget: number): number {
  let left = budget - 1;
  if (left < 0) return left;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (item !== null && typeof item === 'object' && (left = objectsWithin(item, left)) < 0) return left;
    }
    return left;
  }
  const record = value as Record<string, unknown>;
  for (const k in record) {
    const field = record[k];
    if (field !== null && typeof field === 'object' && (left = objectsWithin(field, left)) < 0) return left;
  }
  return left;
}

/** Reads field `key` of a deferred copy: the original's, moved when first read. */
function settle(copy: object, key: string): unknown {
  const p = pendingOf(copy);
  if (!p) throw new Error(`a moved copy lost its original (field ${key})`);
  if (p.values?.has(key)) return p.values.get(key);
  const field = p.source[key];
  let value: unknown;
  if (typeof field === 'object' || typeof field === 'string') value = deferred(field, key, p.owner, p.rows, p);
  else if (key === 'line' && typeof field === 'number' && typeof p.source.character === 'number') value = rowIn(p.rows, field);
  else value = field;
  (p.values ??= new Map()).set(key, value);
  return value;
}

/** One accessor per field name, shared by every copy (the copy is found by `this`). */
const accessors = new Map<string, PropertyDescriptor>();

function accessorFor(key: string): PropertyDescriptor {
  let accessor = accessors.get(key);
  if (!accessor) {
    accessor = {
      get(this: object) {
        return settle(this, key);
      },
      set(this: object, value: unknown) {
        const p = pendingOf(this);
        if (p) (p.values ??= new Map()).set(key, value);
      },
      enumerable: true,
      configurable: true,
    };
    accessors.set(key, accessor);
  }
  return accessor;
}

/**
 * `value` (plain data: an object or an array) with every row moved by the map of the file it belongs
 * to, as shiftRows gives it but read on first access; null when a row lies in changed lines or the value
 * is not plain data. A copy that moved every row by the same number of lines is recorded as a uniform
 * move of `value` (uniformMoveOf). A value that holds no rows is given back itself.
 */
export function moveRows<T extends object>(value: T, file: string, mapOf: RowMapOf): T | null {
  // An array is copied at once: the copies kept between edits are records (a model, a finding, a part).
  if (Array.isArray(value)) return shiftRows(value, file, mapOf);
  const before = pendingOf(value);
  const source = before?.whole?.source ?? value;
  const held = rowsHeld(source);
  if (!held) return null;
  // Nothing to move (a helper function's part: no models, notes or training facts): the value is its own move.
  if (held.size === 0) return value;
  // How far the original's rows moved (through the earlier move when `value` is a copy), and how far
  // from `value`'s: every row by the same number, or not (then each row is looked up).
  let fromValue: number | null | undefined;
  let fromSource: number | null | undefined;
  for (const [owner, list] of held) {
    const map = mapOf(owner === OWN_FILE ? file : owner);
    const earlier = before?.whole ? before.copyRows(owner) : undefined;
    for (const row of list) {
      const was = earlier ? earlier(row) : row;
      const moved = was === null ? null : map(was);
      if (was === null || moved === null) return null;
      if (fromValue === undefined) fromValue = moved - was;
      else if (fromValue !== moved - was) fromValue = null;
      if (fromSource === undefined) fromSource = moved - row;
      else if (fromSource !== moved - row) fromSource = null;
    }
  }
  let copyRows: CopyRows;
  if (fromSource !== null) {
    const shift = fromSource ?? 0;
    const byShift: RowMap = (row) => row + shift;
    copyRows = () => byShift;
  } else {
    const tables = new Map<string, Map<number, number>>();
    for (const [owner, list] of held) {
      const map = mapOf(owner === OWN_FILE ? file : owner);
      const earlier = before?.whole ? before.copyRows(owner) : undefined;
      tables.set(owner, new Map(list.map((row) => [row, map(earlier ? (earlier(row) ?? row) : row) ?? row])));
    }
    copyRows = (owner) => {
      const table = tables.get(owner);
      return (row) => table?.get(row) ?? null;
    };
  }
  const ownRows = copyRows(OWN_FILE);
  const uniform = fromValue === null ? null : recordedMove(value, fromValue ?? 0);
  return deferred(source, '', OWN_FILE, ownRows, { ownRows, copyRows, copies: new Map() }, { source, uniform }) as T;
}
