/** Position and range comparisons (0-based LSP positions), defined once. */
import type { Position, Range } from './ir';

/** Whether `a` comes strictly before `b`. */
export function isBefore(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Whether two ranges are the same span. */
export function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

/** Whether `inner` (a position or a range) lies within `outer`, ends included. */
export function rangeContains(outer: Range, inner: Range | Position): boolean {
  const range = 'start' in inner ? inner : { start: inner, end: inner };
  return !isBefore(range.start, outer.start) && !isBefore(outer.end, range.end);
}

/**
 * The item of `items` (in order, disjoint spans) that holds `at`, by binary search; `from` and `to` give
 * an item's span, both ends included. Undefined when none does.
 */
export function spanHolding<T>(items: readonly T[], at: number, from: (item: T) => number, to: (item: T) => number): T | undefined {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const item = items[mid]!;
    if (at < from(item)) hi = mid - 1;
    else if (at > to(item)) lo = mid + 1;
    else return item;
  }
  return undefined;
}
