/**
 * Which of a file's models the file actually builds: a call of the model's class or factory outside
 * every model class (a Block instantiated only inside Net's __init__ is a part, not a model the user
 * runs), or a model built by module-level code. The probe defaults to such a model (or to the one that
 * is trained) when a file defines several.
 */
import type { ModelIR, Range } from '../../shared/ir';
import { spanHolding } from '../../shared/ranges';
import type { PyFile } from '../python/file';
import { enclosing } from '../python/syntax';
import { countLines, sharedEnds } from '../row-shift';

/** The lines of `ranges` as disjoint spans [from, to] in order (nested and overlapping ones merged). */
function lineSpans(ranges: readonly Range[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const r of [...ranges].sort((a, b) => a.start.line - b.start.line)) {
    const last = spans[spans.length - 1];
    if (last && r.start.line <= last[1]) last[1] = Math.max(last[1], r.end.line);
    else spans.push([r.start.line, r.end.line]);
  }
  return spans;
}

/**
 * Per model (in order), whether the file builds it. Reads only names, styles and ranges: the models may
 * be moved copies read lazily (row-shift.ts). `memo`: the calls found in the file's last version, read
 * and replaced (the editor's project keeps one per file).
 */
export function instantiatedModels(file: PyFile, models: readonly ModelIR[], memo?: { calls?: CallScan | null }): boolean[] {
  if (models.length === 0) return [];
  const classSpans = lineSpans(models.filter((m) => m.style === 'torch-module' || m.style === 'keras-subclass').map((m) => m.range));
  // Calls found by text (a long file costs little): `Name(` anywhere outside a model class.
  const names = new Set<string>();
  for (const model of models) {
    names.add(model.name);
    for (const name of model.exports) names.add(name);
  }
  const called = new Set<string>();
  for (const call of callsOfNames(file, [...names], memo)) {
    if (!call.definition && !spanHolding(classSpans, call.row, ([from]) => from, ([, to]) => to)) called.add(call.name);
  }
  return models.map((model) => {
    const byCall = model.exports.some((name) => called.has(name)) || called.has(model.name);
    const classLike = model.style === 'torch-module' || model.style === 'keras-subclass';
    const moduleLevel = !classLike && model.exports.includes(model.name) && !enclosingDefinition(file, model.range);
    return byCall || moduleLevel;
  });
}

/**
 * A pattern of calls of any of some names, and those names by themselves: a call keeps the name it
 * calls as the pattern's own string, not as a piece of the text it was found in (V8 makes a longer
 * piece a view that keeps the whole text alive, and calls are kept from one version to the next).
 */
interface CallPattern {
  regex: RegExp;
  names: ReadonlyMap<string, string>;
}

/** The last pattern made: an edit of a file keeps its models' names, and a pattern of hundreds of names is long to make. */
let lastPattern: { joined: string; pattern: CallPattern } | null = null;

/** A pattern of calls of any of `names` (words), not as attributes; null for none. */
function callPattern(names: readonly string[]): CallPattern | null {
  if (names.length === 0) return null;
  const joined = names.join('|');
  if (lastPattern?.joined !== joined) lastPattern = { joined, pattern: { regex: new RegExp(`(?<![\\w.])(${joined})\\s*\\(`, 'g'), names: new Map(names.map((n) => [n, n])) } };
  return lastPattern.pattern;
}

/**
 * Where the file's text calls one of `names` (words; others are not searched): `Name(` not after a
 * word character or a dot, in code, strings and comments alike. `memo` as in instantiatedModels.
 */
export function callsOfNames(file: PyFile, names: readonly string[], memo?: { calls?: CallScan | null }): readonly Call[] {
  const pattern = callPattern(names.filter((n) => /^\w+$/.test(n)));
  if (!pattern) return [];
  const calls = callsIn(file, pattern, memo?.calls ?? null);
  if (memo) memo.calls = { path: file.path, text: file.text, pattern, calls };
  return calls;
}

/** A match of a call pattern: where the name starts, its row, the name, and whether it is the name of a `def` or `class` line. */
export interface Call {
  index: number;
  row: number;
  name: string;
  definition: boolean;
}

/** A text scanned, by which pattern, and the calls found: the text's next version is scanned again only around the change. */
export interface CallScan {
  path: string;
  text: string;
  pattern: CallPattern;
  calls: readonly Call[];
}

/**
 * The calls `pattern` finds in the file's text. Whether a place is a call reads only that place and the
 * character before it (a name not after a word character or a dot, blank space, a parenthesis), so
 * calls wholly in the text an edit left alone are those found in the text before it, moved. The changed
 * part is searched again, from the start of a call that may reach into it to the end of the line it
 * ends on. One version back is enough: the editor's project keeps one per file (AssemblyMemo).
 */
function callsIn(file: PyFile, pattern: CallPattern, last: CallScan | null): readonly Call[] {
  const text = file.text;
  if (last?.path !== file.path || last.pattern !== pattern) return scanCalls(file, pattern, 0, text.length);
  if (last.text === text) return last.calls;
  const { start, same } = sharedEnds(last.text, text);
  const newEnd = text.length - same;
  const shift = text.length - last.text.length;
  // From the start of a call that may reach into the change: its name, then blank space, then `(`.
  let from = start;
  while (from > 0 && SPACE.test(text[from - 1]!)) from--;
  while (from > 0 && WORD.test(text[from - 1]!)) from--;
  // To the end of the line: a call there (in a name the change ends in, or after it on that line, where a
  // `def` may have been typed) reads changed characters; a call on a later line reads none.
  const lineEnd = text.indexOf('\n', newEnd);
  const to = lineEnd < 0 ? text.length : lineEnd;
  const rows = countLines(text, start, newEnd) - countLines(last.text, start, newEnd - shift);
  const before = last.calls.filter((c) => c.index < from);
  const after = last.calls.filter((c) => c.index >= to - shift).map((c) => ({ index: c.index + shift, row: c.row + rows, name: c.name, definition: c.definition }));
  return [...before, ...scanCalls(file, pattern, from, to), ...after];
}

const SPACE = /\s/;
const WORD = /\w/;

/** The calls `pattern` finds starting in text[from, to). */
function scanCalls(file: PyFile, pattern: CallPattern, from: number, to: number): Call[] {
  const text = file.text;
  const calls: Call[] = [];
  const { regex } = pattern;
  // exec from a set lastIndex, not matchAll, which copies the pattern on every call.
  regex.lastIndex = from;
  for (let m = regex.exec(text); m && m.index < to; m = regex.exec(text)) {
    const { row, column } = file.position(m.index);
    calls.push({ index: m.index, row, name: pattern.names.get(m[1]!) ?? m[1]!, definition: /^\s*(def|class)\s+$/.test(text.slice(m.index - column, m.index)) });
  }
  return calls;
}

/** Whether the model's defining code sits inside a function or class. */
function enclosingDefinition(file: PyFile, range: Range): boolean {
  // The top-level statement holding it says (a binary search over statements listed once per tree), but
  // for a decorated one, whose decorators sit outside the definition: its nodes are asked then.
  const statement = spanHolding(file.statements, file.index({ row: range.start.line, column: range.start.character }), (s) => s.startIndex, (s) => s.endIndex - 1);
  if (!statement) return false;
  if (statement.type !== 'decorated_definition') return statement.type === 'function_definition' || statement.type === 'class_definition';
  const node = file.root.descendantForPosition({ row: range.start.line, column: range.start.character });
  return node !== null && enclosing(node, ['function_definition', 'class_definition']) !== null;
}
