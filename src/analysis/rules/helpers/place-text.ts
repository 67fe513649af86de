import type { Location } from '../../../shared/ir';

/** "line 12" for a place in the given file, "train.py:12" for one in another (the form a terminal links). */
export function placeText(file: string, at: Location): string {
  const line = String(at.range.start.line + 1);
  return at.file === file ? `line ${line}` : `${at.file.split(/[\\/]/).pop() ?? at.file}:${line}`;
}
