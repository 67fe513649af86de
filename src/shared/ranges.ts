/** Position and range comparisons (0-based LSP positions), defined once. */
import type { Position, Range } from './ir';

/** Whether `a` comes strictly before `b`. */
export function isBefore(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Whether `inner` (a position or a range) lies within `outer`, ends included. */
export function rangeContains(outer: Range, inner: Range | Position): boolean {
  const range = 'start' in inner ? inner : { start: inner, end: inner };
  return !isBefore(range.start, outer.start) && !isBefore(outer.end, range.end);
}
