/** Checks on raw input before parsing: binary, encoding, size, Python 2, syntax errors. */
import type { Node } from './python/syntax-tree';
import type { Notice } from './api';
import { nodesOfType, rangeOf, spanHolds, STATEMENT_CONTAINERS, walk } from './python/syntax';

export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;
/**
 * A notebook file may be this large: its outputs (plots, images) are not analyzed, so the source limit
 * applies to its code cells once they are read, not to the file.
 */
export const MAX_NOTEBOOK_FILE_BYTES = 64 * 1024 * 1024;

/** Decodes file bytes as UTF-8 (with or without BOM); an error message for binary or non-UTF-8 input. */
export function decodeSource(bytes: Uint8Array): { text: string } | { error: string } {
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) return { error: 'binary file (contains NUL bytes); not analyzed' };
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text };
  } catch {
    return { error: 'not valid UTF-8; save the file as UTF-8 to analyze it' };
  }
}

/**
 * An error for text the engine refuses outright, or null. `written`: for a text an edit made from one
 * that passed, the characters the edit wrote, the only ones that can be a new NUL: a keystroke does not
 * search the whole text (of the 0.2 ms that took in a 5,000-line file, most was flattening the string
 * the edit made of two slices, which the first whole-text read of it does anyway).
 */
export function refuseText(text: string, maxBytes: number, written = text): string | null {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: a text well under the limit is not measured (0.3 ms per edit of a 5,000-line file).
  const bytes = text.length * 3 <= maxBytes ? 0 : Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) return `file is ${(bytes / 1048576).toFixed(1)} MB, over the ${(maxBytes / 1048576).toFixed(1)} MB limit; not analyzed`;
  if (written.includes('\u0000')) return 'binary file (contains NUL bytes); not analyzed';
  return null;
}

const MAX_SYNTAX_NOTICES = 5;


/** Notices for syntax errors (the rest of the file is still analyzed) and Python 2 constructs. */
export function syntaxNotices(root: Node): Notice[] {
  const notices: Notice[] = [];
  let errors = 0;
  let python2: Node | null = null;
  if (!root.hasError) {
    // No error or missing node anywhere: only Python 2 statements to find, and each holds its keyword.
    const isPython2 = (type: string) => type === 'print_statement' || type === 'exec_statement';
    const holdsKeyword = spanHolds(root, /\b(print|exec)\b/g);
    python2 = nodesOfType(root, isPython2, (type, start, end) => STATEMENT_CONTAINERS.has(type) && holdsKeyword(start, end))[0] ?? null;
  } else {
    walk(root, (n) => {
      if (n.type === 'print_statement' || n.type === 'exec_statement') {
        python2 ??= n;
        return false;
      }
      if (n.isError || n.isMissing) {
        errors++;
        if (errors <= MAX_SYNTAX_NOTICES) {
          const what = n.isMissing ? `missing ${n.type}` : `unexpected ${JSON.stringify(n.text.slice(0, 30))}`;
          notices.push({ message: `Syntax error at line ${n.startPosition.row + 1} (${what}); the analysis covers the code that parses`, range: rangeOf(n), severity: 'warning' });
        }
        return false;
      }
      // Error nodes only sit under nodes with hasError; Python 2 statements only in statement containers.
      return n.hasError || STATEMENT_CONTAINERS.has(n.type);
    });
  }
  if (errors > MAX_SYNTAX_NOTICES) notices.push({ message: `${errors - MAX_SYNTAX_NOTICES} more syntax errors not listed`, range: null, severity: 'warning' });
  if (python2) {
    notices.unshift({
      message: `This looks like Python 2 (\`${python2.text.split('\n')[0]!.slice(0, 40)}\` at line ${python2.startPosition.row + 1}); Gradient Lens reads Python 3, so results may be incomplete`,
      range: rangeOf(python2),
      severity: 'warning',
    });
  }
  return notices;
}
