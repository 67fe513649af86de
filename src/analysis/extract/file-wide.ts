/**
 * Facts an extractor read from the whole file rather than from the names a statement uses (the file's
 * only model, the only training loop, a pattern written anywhere in the text). The incremental analysis
 * (analysis/units.ts) reads a file one group of name-connected statements at a time; a group whose
 * extraction used such a fact could differ from the whole file's, so the file is then read whole.
 */
import type { PyFile } from '../python/file';

const marks = new WeakMap<PyFile, string>();

/** Records that extracting `file` used a whole-file fact (`what` says which, for the reason logged). */
export function usedWholeFileFact(file: PyFile, what: string): void {
  if (!marks.has(file)) marks.set(file, what);
}

/** The first whole-file fact extracting `file` used, or null. */
export function wholeFileFact(file: PyFile): string | null {
  return marks.get(file) ?? null;
}
