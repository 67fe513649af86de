/** Conversions between 0-based LSP positions (UTF-16 columns, as JS strings index) and string offsets. */
import type { Position, Range } from '../../../shared/ir';
import type { SourceEdit } from '../../api';

/** The last two texts asked for, newest first: an edit's analysis reads the file's and its edited slice's (analysis/units.ts) in turn. */
const cached: { text: string; starts: readonly number[] }[] = [];

/**
 * Offsets where each line starts. Cached for the last two texts: every fix of every finding in a file
 * asks for the same text, and a 50,000-line file must not be rescanned once per finding or per reader.
 */
export function lineStarts(text: string): readonly number[] {
  const known = cached.find((entry) => entry.text === text);
  if (known) return known.starts;
  const starts = [0];
  // indexOf finds line breaks natively: a loop per character cost a millisecond per edit of a long file.
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  remember(text, starts);
  return starts;
}

/** Tells lineStarts the line starts of `text`, known from how it was made (analysis/units.ts: a statement group's slice). */
export function rememberLineStarts(text: string, starts: readonly number[]): void {
  if (!cached.some((entry) => entry.text === text)) remember(text, starts);
}

function remember(text: string, starts: readonly number[]): void {
  cached.unshift({ text, starts });
  cached.length = Math.min(cached.length, 2);
}

/**
 * Gives `text` the line starts of `before` (when known) moved through `edit`, so an edit of a long file
 * does not search all of it for line breaks again (0.09 ms per keystroke at 5,000 lines): the lines
 * above the edit keep their starts, those below move by the characters it added, and only the written
 * characters are searched.
 */
export function carryLineStarts(before: string, text: string, edit: SourceEdit): void {
  const known = cached.find((entry) => entry.text === before)?.starts;
  if (!known || cached.some((entry) => entry.text === text)) return;
  const starts = known.slice(0, edit.startPosition.row + 1);
  for (let i = text.indexOf('\n', edit.startIndex); i >= 0 && i < edit.newEndIndex; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const shift = edit.newEndIndex - edit.oldEndIndex;
  for (let row = edit.oldEndPosition.row + 1; row < known.length; row++) starts.push(known[row]! + shift);
  remember(text, starts);
}

/** Line `line` (0-based) of `text` without its line break; undefined past the end. */
export function lineAt(text: string, line: number): string | undefined {
  const starts = lineStarts(text);
  const start = starts[line];
  if (start === undefined) return undefined;
  const next = starts[line + 1];
  return text.slice(start, next === undefined ? text.length : next - 1);
}

/** The spaces and tabs a line starts with. */
export function leadingIndent(line: string): string {
  let end = 0;
  while (line[end] === ' ' || line[end] === '\t') end++;
  return line.slice(0, end);
}

export function offsetAt(starts: readonly number[], position: Position): number {
  return (starts[position.line] ?? Number.NaN) + position.character;
}

export function positionAt(starts: readonly number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo]! };
}

/** Row and column of an offset, as web-tree-sitter names them (a Point), given the text's line starts. */
export function pointAt(starts: readonly number[], offset: number): { row: number; column: number } {
  const { line, character } = positionAt(starts, offset);
  return { row: line, column: character };
}

/** The offset of a row and column (the inverse of pointAt). */
export function offsetOfPoint(starts: readonly number[], point: { row: number; column: number }): number {
  return offsetAt(starts, { line: point.row, character: point.column });
}

export function rangeOf(starts: readonly number[], start: number, end: number): Range {
  return { start: positionAt(starts, start), end: positionAt(starts, end) };
}
