/**
 * Which dotted names of a file can only be a given framework's: `keras.Sequential`, `layers.LSTM`,
 * `tf.nn.relu` name Keras / TensorFlow objects when their head (`keras`, `layers`, `tf`) is bound by
 * importing from that framework and by nothing else. A reader of another framework can then pass over
 * code whose only words of its own (Sequential, LSTM, nn) are such attributes: the words are shared by
 * the frameworks, the objects are not.
 */
import type { PyFile } from './file';
import { isWordCode } from './text-words';
import { canonicalQualified } from './imports';
import { lineStarts, offsetAt } from '../rules/helpers/text-offsets';

const DOT = 46;
const EQUALS = 61;

/** Whether a code unit can be part of a name: an ASCII word character, or any non-ASCII one (outside strings and comments, only letters are). */
function isNameCode(code: number): boolean {
  return isWordCode(code) || code >= 128;
}

/** Whether a code unit may stand between a dotted name's parts and what comes before it (spaces, line breaks, a backslash continuation). */
function isGap(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 92;
}

/** The heads of dotted names that a file binds only by imports from the packages `owns` accepts (see headBoundOnlyByImport). */
export class ImportedHeads {
  private readonly answers = new Map<string, boolean>();

  /** `owns`: whether a canonical qualified name (ImportTable.resolve) is one of the framework's. */
  constructor(
    private readonly file: PyFile,
    private readonly owns: (qualified: string) => boolean,
  ) {}

  /**
   * Whether the word that holds `text[at]` is an attribute of a dotted name written without spaces
   * (`tf.keras.layers.LSTM`) whose head the file binds only by importing from the framework. `text`
   * is a part of the file's text (a definition's): a head is read where the file's text writes it.
   */
  attributeOfFramework(text: string, at: number): boolean {
    let start = at;
    while (start > 0 && isWordCode(text.charCodeAt(start - 1))) start--;
    if (start === 0 || text.charCodeAt(start - 1) !== DOT) return false;
    // Back over `.part` to the head: each part a word right before a dot.
    let head = start - 1;
    for (;;) {
      let wordStart = head;
      while (wordStart > 0 && isWordCode(text.charCodeAt(wordStart - 1))) wordStart--;
      // A name is not cut out of a longer one (`ñlayers`: Python names may hold any letter).
      if (wordStart === head || (wordStart > 0 && text.charCodeAt(wordStart - 1) >= 128)) return false;
      if (wordStart > 0 && text.charCodeAt(wordStart - 1) === DOT) {
        head = wordStart - 1;
        continue;
      }
      // `x . keras.layers.LSTM` (spaces before a dot, a continuation): an attribute of something else.
      let before = wordStart - 1;
      while (before >= 0 && isGap(text.charCodeAt(before))) before--;
      if (before >= 0 && text.charCodeAt(before) === DOT) return false;
      return this.boundOnlyByImport(text.slice(wordStart, head));
    }
  }

  /**
   * Whether every binding of `name` in the file is an import from the framework: the file imports it
   * (not merely assumed by spelling), each import of it resolves into the framework, and each place
   * the file's text writes it bare (not `name.x`, not `x.name`) is one of those imports. Any other
   * binding (a parameter, an assignment, `for name in`, `as name`, a `global`) and any other bare read
   * is a bare occurrence; `name.x = ...` may replace what the framework's attribute holds.
   */
  private boundOnlyByImport(name: string): boolean {
    let answer = this.answers.get(name);
    if (answer === undefined) {
      answer = this.decide(name);
      this.answers.set(name, answer);
    }
    return answer;
  }

  private decide(name: string): boolean {
    const imports = this.file.imports.bindings.filter((b) => b.local === name);
    if (imports.length === 0 || !imports.every((b) => this.owns(canonicalQualified(b.symbol === null ? b.module : `${b.module}.${b.symbol}`)))) return false;
    const text = this.file.text;
    const starts = lineStarts(text);
    const spans = imports.map((b) => [offsetAt(starts, b.range.start), offsetAt(starts, b.range.end)] as const);
    for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
      const end = at + name.length;
      // Part of a longer name (Python names may hold any letter): another name.
      if ((at > 0 && isNameCode(text.charCodeAt(at - 1))) || isNameCode(text.charCodeAt(end))) continue;
      if (at > 0 && text.charCodeAt(at - 1) === DOT) continue;
      if (text.charCodeAt(end) === DOT) {
        if (assignsAttribute(text, end)) return false;
        continue;
      }
      if (!spans.some(([from, to]) => at >= from && end <= to)) return false;
    }
    return true;
  }
}

/** Whether the dotted attributes written from `dot` on (`.a.b`) are assigned (`= ...`, `+= ...`, `: T = ...`; not `==`). */
function assignsAttribute(text: string, dot: number): boolean {
  let at = dot;
  while (text.charCodeAt(at) === DOT) {
    at++;
    while (isNameCode(text.charCodeAt(at))) at++;
  }
  while (text.charCodeAt(at) === 32 || text.charCodeAt(at) === 9) at++;
  // `name.x: T = ...` (an annotated assignment; a dict key or a slice bound is taken for one too).
  if (text.charAt(at) === ':') return true;
  // The operator of an augmented assignment (`//=`, `**=`, `>>=`) before its `=`.
  while (AUGMENTING.has(text.charAt(at))) at++;
  return text.charCodeAt(at) === EQUALS && text.charCodeAt(at + 1) !== EQUALS;
}

const AUGMENTING = new Set(['+', '-', '*', '/', '%', '&', '|', '^', '@', '<', '>']);

/** A test for canonical qualified names inside any of `packages` (`keras` holds `keras.layers.LSTM`). */
export function withinPackages(packages: readonly string[]): (qualified: string) => boolean {
  return (qualified) => packages.some((p) => qualified === p || qualified.startsWith(`${p}.`));
}
