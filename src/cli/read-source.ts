/**
 * Reading one input file for the engine: the size limit is checked before reading (so a huge file
 * is never loaded; a notebook's code cells, not its outputs, are held to it), decoding and notebook
 * conversion use the engine's own helpers.
 */
import { readFileSync, statSync } from 'node:fs';
import { decodeSource, DEFAULT_MAX_FILE_BYTES, MAX_NOTEBOOK_FILE_BYTES } from '../analysis/source-checks';
import { notebookToPython } from '../analysis/notebook';
import type { Notice } from '../analysis/api';

export { DEFAULT_MAX_FILE_BYTES };

export type InputSource =
  | { text: string; cellStarts: number[] | null; notices: Notice[]; error: null }
  | { text: null; cellStarts: null; notices: Notice[]; error: string };

function refused(error: string): InputSource {
  return { text: null, cellStarts: null, notices: [], error };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Reads a .py file (or any file named explicitly) or an .ipynb notebook as Python text. */
export function readInput(path: string, maxBytes: number = DEFAULT_MAX_FILE_BYTES): InputSource {
  const notebook = path.toLowerCase().endsWith('.ipynb');
  let bytes: Buffer;
  try {
    const size = statSync(path).size;
    const fileLimit = notebook ? Math.max(maxBytes, MAX_NOTEBOOK_FILE_BYTES) : maxBytes;
    if (size > fileLimit) return refused(`file is ${megabytes(size)}, over the ${megabytes(fileLimit)} limit${notebook ? ' for a notebook' : ''}; not analyzed`);
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return refused(code === 'ENOENT' ? 'no such file' : `cannot read file (${code ?? String(error)})`);
  }
  const decoded = decodeSource(bytes);
  if ('error' in decoded) return refused(decoded.error);
  if (!notebook) return { text: decoded.text, cellStarts: null, notices: [], error: null };
  try {
    const cells = notebookToPython(decoded.text);
    const codeBytes = Buffer.byteLength(cells.text, 'utf8');
    if (codeBytes > maxBytes) return refused(`the code cells are ${megabytes(codeBytes)}, over the ${megabytes(maxBytes)} limit; not analyzed`);
    return { text: cells.text, cellStarts: cells.cellStarts, notices: cells.notices, error: null };
  } catch (error) {
    return refused(error instanceof Error ? error.message : String(error));
  }
}
