/**
 * Notes the extractors leave about one parsed file: how they read something the code does not say
 * (a framework assumed without imports, a name read through a star import, a receiver never built,
 * an unbound name bound to the file's only model). One list per PyFile, each message once.
 */
import type { Range } from '../../shared/ir';
import type { PyFile } from '../python/file';

export interface FileNote {
  message: string;
  range: Range;
}

const byFile = new WeakMap<PyFile, FileNote[]>();

export function addNote(file: PyFile, note: FileNote): void {
  let notes = byFile.get(file);
  if (!notes) byFile.set(file, (notes = []));
  // The same reading noted at its first use only.
  if (!notes.some((n) => n.message === note.message)) notes.push(note);
}

/** The notes left on `file`, in the order they were made. */
export function notesOf(file: PyFile): FileNote[] {
  return [...(byFile.get(file) ?? [])];
}
