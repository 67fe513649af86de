/**
 * The edit between two versions of a text, in the shape tree-sitter's incremental parser wants.
 * Computed from the texts themselves (common prefix and suffix), so it is correct whatever sync
 * kind the client used, for several content changes in one notification, and for notebooks whose
 * analyzed text is rebuilt from cells.
 */
import type { SourceEdit } from '../analysis/api';
import { sharedEnds } from '../analysis/row-shift';

interface Point {
  row: number;
  column: number;
}

/** Row/column (UTF-16 code units, as LSP) of `offset` in `text`. */
export function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** The single edit that turns `oldText` into `newText`; null when they are equal. */
export function diffEdit(oldText: string, newText: string): SourceEdit | null {
  if (oldText === newText) return null;
  const { start: prefix, same: suffix } = sharedEnds(oldText, newText);
  const oldEndIndex = oldText.length - suffix;
  const newEndIndex = newText.length - suffix;
  const startPosition = pointAt(oldText, prefix);
  return {
    startIndex: prefix,
    oldEndIndex,
    newEndIndex,
    startPosition,
    oldEndPosition: advance(startPosition, oldText, prefix, oldEndIndex),
    newEndPosition: advance(startPosition, newText, prefix, newEndIndex),
  };
}

/** The point reached from `start` (at offset `from`) after reading text[from, to). */
function advance(start: Point, text: string, from: number, to: number): Point {
  let { row, column } = start;
  for (let i = from; i < to; i++) {
    if (text.charCodeAt(i) === 10) {
      row++;
      column = 0;
    } else {
      column++;
    }
  }
  return { row, column };
}
