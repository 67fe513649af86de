/** Conversions between 0-based LSP positions (UTF-16 columns, as JS strings index) and string offsets. */
import type { Position, Range } from '../../../shared/ir';

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
  cached.unshift({ text, starts });
  cached.length = Math.min(cached.length, 2);
  return starts;
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

export function rangeOf(starts: readonly number[], start: number, end: number): Range {
  return { start: positionAt(starts, start), end: positionAt(starts, end) };
}
