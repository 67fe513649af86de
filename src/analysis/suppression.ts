/**
 * Suppression comments, following Python linter habits:
 *   `# noqa`                                  every finding on this line (as in Ruff / flake8)
 *   `# noqa: GL101,GL203`                     these codes on this line (other tools' codes are left alone)
 *   `# gradient-lens: ignore[GL101]`          these codes on this line (bare `ignore`: every code)
 *   `# gradient-lens: ignore-file[GL301]`     these codes in the whole file (bare `ignore-file`: every code)
 * Comments are found by a small scanner that knows Python string literals, so a '#' inside a
 * string is never read as a comment. Lines are 0-based, as in the IR.
 */
import type { Range } from '../shared/ir';
import type { Notice } from './api';
import { RULES } from './rules/index';

export type SuppressedCodes = ReadonlySet<string> | 'all';

export interface SuppressionDirective {
  kind: 'noqa' | 'ignore' | 'ignore-file';
  /** The whole directive, e.g. `# noqa: GL101`. */
  range: Range;
  /** Codes as written (upper-cased) with their ranges; empty for a bare directive. */
  codes: { code: string; range: Range }[];
}

export interface Suppressions {
  /** Line (0-based) -> codes suppressed on it. */
  lines: Map<number, SuppressedCodes>;
  /** Codes suppressed in the whole file; null when none. */
  file: SuppressedCodes | null;
  directives: SuppressionDirective[];
  /** Unknown codes, unknown directives, empty code lists. */
  notices: Notice[];
}

interface Comment {
  /** Text from the '#' to the end of the line. */
  text: string;
  line: number;
  column: number;
}

const QUOTES = new Set(['"', "'"]);

/** Every comment in Python source; strings (single, triple, any prefix, escapes) are skipped. */
export function scanComments(text: string): Comment[] {
  const comments: Comment[] = [];
  let line = 0;
  let lineStart = 0;
  let i = 0;
  const newline = (at: number) => {
    line += 1;
    lineStart = at + 1;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\n') {
      newline(i);
      i += 1;
    } else if (ch === '#') {
      let end = text.indexOf('\n', i);
      if (end === -1) end = text.length;
      const raw = text.slice(i, end);
      comments.push({ text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, line, column: i - lineStart });
      i = end;
    } else if (QUOTES.has(ch)) {
      const triple = text.startsWith(ch.repeat(3), i);
      const delimiter = triple ? ch.repeat(3) : ch;
      i += delimiter.length;
      // Inside a literal: a backslash always protects the next character from ending it (raw strings too).
      while (i < text.length) {
        const c = text[i];
        if (c === '\\') {
          if (text[i + 1] === '\n') newline(i + 1);
          i += 2;
        } else if (text.startsWith(delimiter, i)) {
          i += delimiter.length;
          break;
        } else if (c === '\n') {
          newline(i);
          i += 1;
          // An unterminated one-line string ends at the line break; keep scanning as code.
          if (!triple) break;
        } else {
          i += 1;
        }
      }
    } else {
      i += 1;
    }
  }
  return comments;
}

const NOQA = /#\s*noqa(?![\w-])(\s*:\s*(?<codes>[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+|\s+[A-Za-z]+[0-9]+)*)?)?/gi;
const OWN_DIRECTIVE = /#\s*gradient-lens\s*:\s*(?<name>[A-Za-z-]+)(?:\s*\[(?<codes>[^\]]*)\])?/gi;
const CODE = /[A-Za-z]+[0-9]+/g;
const DIRECTIVE_WORD = /noqa|gradient-lens/i;
/** The longest word DIRECTIVE_WORD matches, in characters. */
const DIRECTIVE_WORD_LENGTH = 'gradient-lens'.length;

/**
 * The suppressions of every text that spells no directive word: one object, which the file's next
 * version keeps when its edit spells none either (see editSpellsDirective).
 */
export const NO_SUPPRESSIONS: Suppressions = { lines: new Map(), file: null, directives: [], notices: [] };

/**
 * Whether the characters an edit wrote, with those around them, spell a directive word: a text without
 * one that takes an edit that does not either still has none, and is not searched again whole (a
 * case-insensitive search of a 5,000-line file took 0.15 ms per keystroke).
 */
export function editSpellsDirective(text: string, edit: { startIndex: number; newEndIndex: number }): boolean {
  const reach = DIRECTIVE_WORD_LENGTH - 1;
  return DIRECTIVE_WORD.test(text.slice(Math.max(0, edit.startIndex - reach), edit.newEndIndex + reach));
}

function rangeOn(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}

function codesIn(list: string, line: number, offset: number): { code: string; range: Range }[] {
  return [...list.matchAll(CODE)].map((m) => ({
    code: m[0].toUpperCase(),
    range: rangeOn(line, offset + m.index, offset + m.index + m[0].length),
  }));
}

function addCodes(current: SuppressedCodes | null | undefined, codes: string[] | 'all'): SuppressedCodes {
  if (current === 'all' || codes === 'all') return 'all';
  return new Set([...(current ?? []), ...codes]);
}

/** Parses every suppression comment in `text`. `knownCodes` defaults to the rule registry. */
export function parseSuppressions(text: string, knownCodes: readonly string[] = RULES.map((r) => r.meta.code)): Suppressions {
  // Every directive spells one of these words: a text without them needs no scan (the editor parses each version).
  if (!DIRECTIVE_WORD.test(text)) return NO_SUPPRESSIONS;
  const result: Suppressions = { lines: new Map(), file: null, directives: [], notices: [] };
  const known = new Set(knownCodes);
  const notice = (message: string, range: Range) => result.notices.push({ message, range, severity: 'warning' });
  const checkOwnCodes = (codes: { code: string; range: Range }[]) => {
    for (const { code, range } of codes) {
      if (!known.has(code)) notice(`Unknown rule code ${code} in suppression comment (known: ${knownCodes.join(', ')})`, range);
    }
  };

  for (const comment of scanComments(text)) {
    const at = (index: number, length: number) => rangeOn(comment.line, comment.column + index, comment.column + index + length);

    for (const match of comment.text.matchAll(NOQA)) {
      const index = match.index;
      const list = match.groups?.codes;
      const range = at(index, match[0].length);
      if (list === undefined) {
        if (match[1] !== undefined) notice('`# noqa:` lists no codes; it suppresses every finding on this line', range);
        result.directives.push({ kind: 'noqa', range, codes: [] });
        result.lines.set(comment.line, 'all');
        continue;
      }
      const listOffset = comment.column + index + match[0].length - list.length;
      // Other tools' codes (E501, F401, ...) are theirs; only GL codes are ours to check and apply.
      const ours = codesIn(list, comment.line, listOffset).filter((c) => c.code.startsWith('GL'));
      checkOwnCodes(ours);
      result.directives.push({ kind: 'noqa', range, codes: ours });
      if (ours.length > 0) result.lines.set(comment.line, addCodes(result.lines.get(comment.line), ours.map((c) => c.code)));
    }

    for (const match of comment.text.matchAll(OWN_DIRECTIVE)) {
      const index = match.index;
      const name = match.groups?.name?.toLowerCase() ?? '';
      const range = at(index, match[0].length);
      if (name !== 'ignore' && name !== 'ignore-file') {
        notice(`Unknown gradient-lens directive "${name}" (use ignore[CODE] or ignore-file[CODE])`, range);
        continue;
      }
      const list = match.groups?.codes;
      const listOffset = comment.column + index + match[0].indexOf('[') + 1;
      const codes = list === undefined ? [] : codesIn(list, comment.line, listOffset);
      if (list !== undefined && codes.length === 0) notice(`\`${name}[]\` lists no codes; it suppresses nothing`, range);
      checkOwnCodes(codes);
      result.directives.push({ kind: name, range, codes });
      if (list !== undefined && codes.length === 0) continue;
      const suppressed: string[] | 'all' = list === undefined ? 'all' : codes.map((c) => c.code);
      if (name === 'ignore-file') result.file = addCodes(result.file, suppressed);
      else result.lines.set(comment.line, addCodes(result.lines.get(comment.line), suppressed));
    }
  }
  return result;
}

function covers(codes: SuppressedCodes | null | undefined, code: string): boolean {
  return codes === 'all' || (codes !== null && codes !== undefined && codes.has(code.toUpperCase()));
}

/** True when a finding of `code` starting on `line` (0-based) is suppressed by the file or the line. */
export function isSuppressed(suppressions: Suppressions, code: string, line: number): boolean {
  return covers(suppressions.file, code) || covers(suppressions.lines.get(line), code);
}
