/**
 * Where each notebook cell sits in the notebook's analyzed Python text (the code cells joined by
 * `cellsToPython`), so that ranges move between the analyzed text and the editor's cells. The server
 * maps diagnostics, hovers and fixes with it; the extension maps the probe's layer lines, CodeLens and
 * the panel's fixes with the same placements (sent in `gradientLens/models`).
 */
import type { Position, Range } from '../shared/ir';

/** Maps a 0-based line of the analyzed text to [cell index, line within the cell]; null before the first analyzed cell. */
export function cellOfLine(cellStarts: readonly number[], line: number): [number, number] | null {
  let best = -1;
  for (let i = 0; i < cellStarts.length; i++) {
    const start = cellStarts[i]!;
    if (start >= 0 && start <= line && (best < 0 || start >= cellStarts[best]!)) best = i;
  }
  return best < 0 ? null : [best, line - cellStarts[best]!];
}

/** How every message names a line of the analyzed text: "line 12" (1-based), "Line 12: ..." at a sentence start. */
const LINE_MENTION = /\b([Ll])ine (\d+)\b/g;

/**
 * A message about a notebook's analyzed text with each line it mentions named as the user finds it:
 * "line 12" becomes "cell 3, line 2" (1-based numbers counting every cell, as the editor's status bar
 * and `check` count them). Messages of the analyzer and the probe name lines of the text they read,
 * which in a notebook is the code cells joined; the editor and the CLI show them through this.
 * `cellStarts`: per notebook cell, its first 0-based line in the analyzed text (-1: not analyzed).
 */
export function messageInCells(message: string, cellStarts: readonly number[]): string {
  return message.replace(LINE_MENTION, (mention, initial: string, digits: string) => {
    const found = cellOfLine(cellStarts, Number(digits) - 1);
    return found ? `${initial === 'L' ? 'Cell' : 'cell'} ${found[0] + 1}, line ${found[1] + 1}` : mention;
  });
}

export interface CellPlacement {
  uri: string;
  /** First line of the cell in the analyzed text; -1 when the cell is not part of it (markdown, other languages). */
  startLine: number;
  lineCount: number;
  /** Length of the cell's last line, where a clipped range ends. */
  lastLineLength: number;
}

export interface CellLocation {
  uri: string;
  range: Range;
}

export class NotebookLayout {
  /** Cells that are part of the analyzed text, in text order. */
  private readonly placed: CellPlacement[];

  /** `cells`: every cell of the notebook in its order, those not analyzed included (the cell numbers of messages count them). */
  constructor(private readonly cells: CellPlacement[]) {
    this.placed = cells.filter((c) => c.startLine >= 0).sort((a, b) => a.startLine - b.startLine);
    this.cellStarts = cells.map((c) => c.startLine);
  }

  /** Per cell, in the notebook's order, its first line in the analyzed text (-1: not analyzed). */
  readonly cellStarts: readonly number[];

  /** A message about the analyzed text, its line mentions named by cell (messageInCells). */
  message(text: string): string {
    return messageInCells(text, this.cellStarts);
  }

  get cellUris(): string[] {
    return this.placed.map((c) => c.uri);
  }

  /** Every cell given, in the notebook's order (what `gradientLens/models` sends the extension). */
  get placements(): CellPlacement[] {
    return this.cells.map((c) => ({ ...c }));
  }

  private cellAtLine(line: number): CellPlacement | undefined {
    let found: CellPlacement | undefined;
    for (const cell of this.placed) {
      if (cell.startLine > line) break;
      found = cell;
    }
    return found && line < found.startLine + found.lineCount ? found : undefined;
  }

  /**
   * The cell range for a range of the analyzed text. A range that runs past its first cell's end
   * (a model split across cells) is cut at that cell's last line, so it stays visible where it starts;
   * with `exact` (edits) such a range has no cell location.
   */
  toCell(range: Range, exact = false): CellLocation | null {
    const cell = this.cellAtLine(range.start.line);
    if (!cell) return null;
    const lastLine = cell.startLine + cell.lineCount - 1;
    if (exact && range.end.line > lastLine) return null;
    const end: Position =
      range.end.line > lastLine ? { line: lastLine - cell.startLine, character: cell.lastLineLength } : { line: range.end.line - cell.startLine, character: range.end.character };
    return { uri: cell.uri, range: { start: { line: range.start.line - cell.startLine, character: range.start.character }, end } };
  }

  /** The analyzed-text position of a position in one of the cells; null for cells not analyzed. */
  fromCell(uri: string, position: Position): Position | null {
    const cell = this.placed.find((c) => c.uri === uri);
    if (!cell) return null;
    return { line: cell.startLine + position.line, character: position.character };
  }
}
