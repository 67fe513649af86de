/**
 * Moving cached results with the lines around them (issue 10 §2). After an edit, the lines before the
 * changed ones and the lines after them are the same text, the latter at rows moved by the number of
 * lines added or removed. A result computed only from such lines is the new text's result with every
 * row moved: its ranges, and the line numbers its messages, model ids and evidence spell out. So typing
 * Enter at the top of a long file moves the cached results of every definition below instead of
 * computing them again.
 */

/** A row of one text to the row holding the same line in the other, or null when it lies in the changed lines. */
export type RowMap = (row: number) => number | null;

/** How the rows of an older text of a file map to those of its newer text, and back. */
export interface RowShift {
  forward: RowMap;
  backward: RowMap;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Characters compared at once while looking for the first difference (a native string comparison, not a loop per character). */
const CHUNK = 512;

/** How many first characters `a` and `b` share. */
export function commonStart(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  let at = 0;
  while (at + CHUNK <= shorter && a.slice(at, at + CHUNK) === b.slice(at, at + CHUNK)) at += CHUNK;
  while (at < shorter && a.charCodeAt(at) === b.charCodeAt(at)) at++;
  return at;
}

/** How many last characters `a` and `b` share, at most `limit`. */
export function commonEnd(a: string, b: string, limit: number): number {
  let same = 0;
  while (same + CHUNK <= limit && a.slice(a.length - same - CHUNK, a.length - same) === b.slice(b.length - same - CHUNK, b.length - same)) same += CHUNK;
  while (same < limit && a.charCodeAt(a.length - 1 - same) === b.charCodeAt(b.length - 1 - same)) same++;
  return same;
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
  const start = commonStart(before, after);
  const same = commonEnd(before, after, Math.min(before.length, after.length) - start);
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
    if (rows !== null && moved !== null && typeof moved === 'object') uniformMoves.set(moved, { from: value as object, rows: rows ?? 0 });
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
 * What shiftRows moved uniformly, by copy: what is known of the original (its digest, the copy the
 * server holds) holds for the copy moved by `rows` lines, without reading the copy again.
 */
const uniformMoves = new WeakMap<object, UniformMove>();

export function uniformMoveOf(value: object): UniformMove | undefined {
  return uniformMoves.get(value);
}

/**
 * After shiftRows moved a value holding `originals` uniformly into one holding `copies` (the same
 * items in the same order), each copy is known as its original moved.
 */
export function markItemsMoved(value: object, originals: readonly object[], copies: readonly object[]): void {
  const move = uniformMoves.get(value);
  if (!move || originals.length !== copies.length) return;
  originals.forEach((from, i) => { markMoved(copies[i]!, from, move.rows); });
}

/** Records `copy` as `from` with every row moved by `rows` lines (the caller made or checked it so). */
export function markMoved(copy: object, from: object, rows: number): void {
  uniformMoves.set(copy, { from, rows });
}

/** Every row moved by `rows` lines: a uniform move replayed (shiftRows of the same value gives the same copy). */
export function byRows(rows: number): RowMapOf {
  const map: RowMap = (row) => row + rows;
  return () => map;
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
