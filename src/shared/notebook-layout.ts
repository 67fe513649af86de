/**
 * Where each notebook cell sits in the notebook's analyzed Python text (the code cells joined by
 * `cellsToPython`), so that ranges move between the analyzed text and the editor's cells. The server
 * maps diagnostics, hovers and fixes with it; the extension maps the probe's layer lines, CodeLens and
 * the panel's fixes with the same placements (sent in `gradientLens/models`).
 */
import type { Position, Range } from '../shared/ir';

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

  constructor(cells: CellPlacement[]) {
    this.placed = cells.filter((c) => c.startLine >= 0).sort((a, b) => a.startLine - b.startLine);
  }

  get cellUris(): string[] {
    return this.placed.map((c) => c.uri);
  }

  /** The analyzed cells, in text order (what `gradientLens/models` sends the extension). */
  get placements(): CellPlacement[] {
    return this.placed.map((c) => ({ ...c }));
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
