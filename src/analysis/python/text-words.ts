/**
 * Looking for names in source text without a regex per question: a whole file's text is asked about
 * many names (every function's text for the file's own names; the file for each framework name it may
 * use bare), and a regex scan allocates a match per word or, with a lookbehind, cannot skip ahead to
 * the name. Words are what `\w+` matches (ASCII letters, digits, `_`), as in the regexes they replace.
 */

/** Whether a UTF-16 code unit is a `\w` character. */
export function isWordCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
}

/** Words at least this long share one length in a word's shape (the table of shapes stays small). */
const LONG_WORD = 64;

/** A word's first character and length (LONG_WORD for longer ones) as one index (the first character of a word is ASCII). */
function shapeOf(first: number, length: number): number {
  return Math.min(length, LONG_WORD) * 128 + first;
}

/**
 * A set of words looked for in texts. Most words of a text are not in the set: a word is sliced out
 * of the text (a string made) only when some member has its first character and length, which a
 * table answers (a Set of numbers, asked for every word of every function of a file, was most of the
 * time of looking for the file's own names in its functions).
 */
export class WordSet {
  private readonly words: ReadonlySet<string>;
  private readonly shapes = new Uint8Array((LONG_WORD + 1) * 128);

  /** `words` must be words (non-empty runs of `\w` characters). */
  constructor(words: Iterable<string>) {
    this.words = new Set(words);
    for (const word of this.words) this.shapes[shapeOf(word.charCodeAt(0), word.length)] = 1;
  }

  get size(): number {
    return this.words.size;
  }

  /**
   * Whether `accept` holds for some word of `text` that is in the set, the words tried in the order
   * they are written (as `text.matchAll(/\w+/g)` meets them), stopping at the first it accepts.
   */
  someIn(text: string, accept: (word: string) => boolean): boolean {
    const end = text.length;
    let at = 0;
    while (at < end) {
      if (!isWordCode(text.charCodeAt(at))) {
        at++;
        continue;
      }
      const start = at;
      while (at < end && isWordCode(text.charCodeAt(at))) at++;
      if (this.shapes[shapeOf(text.charCodeAt(start), at - start)] === 0) continue;
      const word = text.slice(start, at);
      if (this.words.has(word) && accept(word)) return true;
    }
    return false;
  }
}

const SPACE = /\s/;

/**
 * Whether `word` (a word) is written in `text` as a whole word that no `.` precedes, spaces and line
 * breaks between them included: what the regex `(?<!\.\s*)(?<!\w)word(?!\w)` finds, found by indexOf.
 */
export function writtenBare(text: string, word: string): boolean {
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) if (isBareAt(text, word, at)) return true;
  return false;
}

/** Where writtenBare finds `word` in `text`, in text order. */
export function bareOffsets(text: string, word: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) if (isBareAt(text, word, at)) found.push(at);
  return found;
}

/** Whether `word` (found at `at`) is a whole word there that no `.` precedes. */
function isBareAt(text: string, word: string, at: number): boolean {
  if ((at > 0 && isWordCode(text.charCodeAt(at - 1))) || isWordCode(text.charCodeAt(at + word.length))) return false;
  let before = at - 1;
  while (before >= 0 && SPACE.test(text.charAt(before))) before--;
  return before < 0 || text.charCodeAt(before) !== 46;
}

/** Whether a UTF-16 code unit may start a name (`[A-Za-z_]`). */
function isNameStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
}

/** A word (or a dotted name) of a text and where it starts. */
export interface WordAt {
  word: string;
  index: number;
}

/** Where each word of a list is, by word, in text order. */
export type OffsetsByWord = ReadonlyMap<string, readonly number[]>;

/** The calls written in a text, by what is called (see callsInText). */
export interface CallsInText {
  /** The words followed by `(`: what `(?<!\w)\w+(?=\s*\()` finds. */
  words: OffsetsByWord;
  /**
   * The names called as written (plain or dotted: `Mlp`, `ResnetBuilder.build`), neither a word
   * character nor a `.` before them: what `(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(` finds.
   */
  names: OffsetsByWord;
}

/**
 * The calls written in `text`, found from each `(` back to the word before it (native indexOf between
 * them: most of a file's text is not next to a parenthesis): a file's text holds thousands of calls and
 * is asked for the calls of many names and alternations of names, which a regex scan per question read
 * whole each time. `(` follows a word when spaces and line breaks (`\s`) are all that is between them.
 * A regex `(?<!\w)(?:a|b)(?=\s*\()` for words `a`, `b` finds the offsets of the `words` that `^(?:a|b)$`
 * accepts. Grouped by word as they are found: a list of every call first was a third of the time and
 * most of the garbage.
 */
export function callsInText(text: string): CallsInText {
  const words = new Map<string, number[]>();
  const names = new Map<string, number[]>();
  for (let paren = text.indexOf('('); paren >= 0; paren = text.indexOf('(', paren + 1)) {
    let end = paren;
    while (end > 0 && isSpace(text, end - 1)) end--;
    let start = end;
    while (start > 0 && isWordCode(text.charCodeAt(start - 1))) start--;
    if (start === end) continue;
    const word = text.slice(start, end);
    addOffset(words, word, start);
    const nameStart = dottedNameStart(text, start);
    if (nameStart >= 0) addOffset(names, nameStart === start ? word : text.slice(nameStart, end), nameStart);
  }
  return { words, names };
}

function addOffset(byWord: Map<string, number[]>, word: string, offset: number): void {
  const offsets = byWord.get(word);
  if (offsets) offsets.push(offset);
  else byWord.set(word, [offset]);
}

/**
 * Where the dotted name whose last part is the word at `start` begins (`a.b.c`: each part a name, a `.`
 * right between them), when neither a word character nor a `.` is before it; -1 otherwise.
 */
function dottedNameStart(text: string, start: number): number {
  let at = start;
  for (;;) {
    if (!isNameStart(text.charCodeAt(at))) return -1;
    if (at === 0 || text.charCodeAt(at - 1) !== 46) return at;
    // After a `.`: the part before it must end right there.
    let before = at - 1;
    if (before === 0 || !isWordCode(text.charCodeAt(before - 1))) return -1;
    while (before > 0 && isWordCode(text.charCodeAt(before - 1))) before--;
    at = before;
  }
}

/** Whether the character at `at` is a space or line break (`\s`). */
function isSpace(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code === 32 || code === 10 || code === 13 || code === 9 || code === 11 || code === 12) return true;
  return code >= 128 && SPACE.test(text.charAt(at));
}
