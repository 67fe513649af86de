/**
 * How messages quote source code: on one line, whatever the code's layout (a line continuation or a
 * break inside brackets reads as one space), so that every note stays one record per line for grep and
 * editors' problem matchers; and cut to SNIPPET_LENGTH characters.
 */
export const SNIPPET_LENGTH = 60;

/** `text` on one line: line continuations, breaks and the indentation after them as one space. */
export function oneLine(text: string): string {
  return text.replace(/[ \t]*\\?\r?\n\s*/g, ' ');
}

/** Source text quoted in a message: one line, at most `max` characters ("..." where it is cut). */
export function sourceSnippet(text: string, max = SNIPPET_LENGTH): string {
  const flat = oneLine(text).trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}
