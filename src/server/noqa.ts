/**
 * The edit that adds a rule code to a line's `# noqa` comment: merged into an existing
 * `# noqa: A, B` list, or appended as a new comment (after any comment already on the line, since
 * `# noqa` is recognised anywhere in the line's comment). Reads comments with the analyzer's own
 * suppression scanner, so what this writes is exactly what the analyzer honours.
 */
import { parseSuppressions } from '../analysis/suppression';

export interface LineEdit {
  /** Replaced span of the line, in UTF-16 code units. */
  start: number;
  end: number;
  newText: string;
}

/** The edit adding `code` to `line`'s noqa comment; null when the line already suppresses it. */
export function noqaEdit(line: string, code: string): LineEdit | null {
  const wanted = code.toUpperCase();
  const suppressions = parseSuppressions(line);
  const onLine = suppressions.lines.get(0);
  if (onLine === 'all' || onLine?.has(wanted)) return null;

  const noqa = suppressions.directives.find((d) => d.kind === 'noqa' && line.slice(d.range.start.character, d.range.end.character).includes(':'));
  if (noqa) {
    const at = noqa.range.end.character;
    return { start: at, end: at, newText: `, ${wanted}` };
  }
  const end = line.trimEnd().length;
  const separator = end === 0 ? '' : '  ';
  return { start: end, end: line.length, newText: `${separator}# noqa: ${wanted}` };
}
