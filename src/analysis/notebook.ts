/**
 * Jupyter notebooks: the Python code cells of a notebook analyzed as one Python text, with the line
 * where each cell starts so findings map back to cells. IPython magics and shell escapes are blanked
 * (kept as comments, so line numbers hold); cells in other languages are skipped with a notice.
 */
import type { Notice } from './api';

export interface NotebookCellInput {
  text: string;
  kind: 'code' | 'markup';
  /** Language id of the cell ('python' for code cells of a Python kernel). */
  language: string;
}

export interface NotebookPython {
  text: string;
  /** For each cell, its first line in `text`; -1 for cells not included (markdown, other languages). */
  cellStarts: number[];
  notices: Notice[];
}

const CELL_MAGIC_NON_PYTHON = /^%%(?!python|time|timeit|capture|prun)\w+/;

/** IPython's help lines: `model.fit?`, `??Dense`, `?np.*load*` (a name, before or after one or two question marks). */
const HELP_LINE = /^\s*(\?\??[\w.*]+|[\w.*]+\?\??)\s*$/;

/** Blanks IPython-only lines so the cell parses as Python: `%matplotlib inline`, `!pip install x`, `x = !ls`, `?Dense`. */
function blankMagics(source: string): string {
  return source
    .split('\n')
    .map((line) => {
      const trimmed = line.trimStart();
      if (trimmed.startsWith('%') || trimmed.startsWith('!') || /^\s*\w+\s*=\s*!/.test(line) || HELP_LINE.test(line)) {
        return line.replace(/\S.*$/, (rest) => `# ${rest}`);
      }
      return line;
    })
    .join('\n');
}

export function cellsToPython(cells: readonly NotebookCellInput[]): NotebookPython {
  const parts: string[] = [];
  const cellStarts: number[] = [];
  const notices: Notice[] = [];
  let line = 0;
  cells.forEach((cell, index) => {
    const first = cell.text.trimStart().split('\n')[0] ?? '';
    const isPython = cell.kind === 'code' && (cell.language === 'python' || cell.language === '') && !CELL_MAGIC_NON_PYTHON.test(first);
    if (!isPython) {
      cellStarts.push(-1);
      if (cell.kind === 'code') notices.push({ message: `Cell ${index + 1} is not Python (${CELL_MAGIC_NON_PYTHON.test(first) ? first.split(/\s/)[0] : cell.language}); skipped`, range: null, severity: 'information' });
      return;
    }
    const text = blankMagics(cell.text.replace(/\r\n?/g, '\n'));
    cellStarts.push(line);
    parts.push(text);
    line += text.split('\n').length;
  });
  return { text: parts.join('\n'), cellStarts, notices };
}

interface RawCell {
  cell_type?: unknown;
  source?: unknown;
}

/** Parses .ipynb JSON; throws an Error with a clear message when the notebook cannot be read. */
export function notebookToPython(json: string): NotebookPython {
  let nb: unknown;
  try {
    nb = JSON.parse(json);
  } catch (err) {
    throw new Error(`not a valid notebook (JSON error: ${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (typeof nb !== 'object' || nb === null || !Array.isArray((nb as { cells?: unknown }).cells)) {
    throw new Error('not a valid notebook (no "cells" list)');
  }
  const meta = (nb as { metadata?: { kernelspec?: { language?: unknown }; language_info?: { name?: unknown } } }).metadata;
  const declared = meta?.language_info?.name ?? meta?.kernelspec?.language ?? 'python';
  const language = typeof declared === 'string' ? declared.toLowerCase() : JSON.stringify(declared);
  if (language !== 'python') throw new Error(`notebook kernel language is ${language}, not Python; not analyzed`);
  const cells: NotebookCellInput[] = ((nb as { cells: RawCell[] }).cells).map((cell) => {
    const source = Array.isArray(cell.source) ? cell.source.map(String).join('') : typeof cell.source === 'string' ? cell.source : '';
    return { text: source, kind: cell.cell_type === 'code' ? 'code' : 'markup', language: 'python' };
  });
  return cellsToPython(cells);
}
