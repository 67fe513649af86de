/**
 * How the CLI names the lines of a file it read: a line for a Python file, a cell and a line within
 * it for a notebook, the 1-based numbers `check` prints (text `cell 7:1:13`, JSON `"cell": 7, "line": 1`).
 * The analyzer works on the notebook's code cells joined into one text (notebook.ts); these are the
 * conversions between that text's lines and what the user sees.
 */
import { FILE_LINES, type ReportLines } from '../probe/report-text';
import { messageRenamer, notebookPosition } from './report';

export class SourceLines {
  private constructor(
    /** Per notebook cell, its first 0-based line in the analyzed text (-1: not analyzed); null for a Python file. */
    private readonly cellStarts: readonly number[] | null,
    /** Lines of the analyzed text. */
    private readonly lineCount: number,
  ) {}

  static of(input: { text: string; cellStarts: readonly number[] | null }): SourceLines {
    return new SourceLines(input.cellStarts, input.text.split('\n').length);
  }

  get isNotebook(): boolean {
    return this.cellStarts !== null;
  }

  /** "line 12", or "cell 3, line 2" in a notebook, for a 0-based line of the analyzed text. */
  label(line0: number): string {
    if (!this.cellStarts) return `line ${line0 + 1}`;
    const { cell, line } = notebookPosition(this.cellStarts, line0);
    return `cell ${cell}, line ${line}`;
  }

  /** A message naming lines of the analyzed text, with them named as the user finds them (a notebook's by cell). */
  message(text: string): string {
    return messageRenamer({ cellStarts: this.cellStarts })(text);
  }

  /** The probe report's line names: a notebook's table shows "cell:line" as `7:3`. */
  get reportLines(): ReportLines {
    const cellStarts = this.cellStarts;
    if (!cellStarts) return FILE_LINES;
    const short = (line: number) => {
      const at = notebookPosition(cellStarts, line - 1);
      return `${at.cell}:${at.line}`;
    };
    return { label: (line) => this.label(line - 1), heading: 'cell:line', column: short, width: 9 };
  }

  /**
   * The 0-based analyzed line of a 1-based `line` (in a notebook, of 1-based `cell`), or why there is
   * none: a cell that does not exist or is not Python, a line past the cell's end.
   */
  analyzedLine(line: number, cell: number | null): number | { problem: string } {
    if (!this.cellStarts) return cell === null ? line - 1 : { problem: 'a cell (--cell C, or --line C:N) is only for notebooks (.ipynb)' };
    if (cell === null) return { problem: 'in a notebook, give the cell as check prints it: --cell C --line N (or --line C:N)' };
    const start = this.cellStarts[cell - 1];
    if (start === undefined) return { problem: `the notebook has no cell ${cell} (it has ${this.cellStarts.length} cells)` };
    if (start < 0) return { problem: `cell ${cell} is not a Python code cell` };
    // Code cells are joined in order, so a cell ends where the next analyzed one starts.
    const next = this.cellStarts.slice(cell).find((s) => s >= 0) ?? this.lineCount;
    const cellLines = next - start;
    if (line > cellLines) return { problem: `cell ${cell} has ${cellLines} line${cellLines === 1 ? '' : 's'}, no line ${line}` };
    return start + line - 1;
  }
}
