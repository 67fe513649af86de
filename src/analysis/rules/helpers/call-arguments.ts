/**
 * Splits the argument list of a Python call written in source (`layers.Dense(64, use_bias=True)`)
 * into arguments with their offsets, skipping strings, comments and nested brackets. Used by fixes
 * that add or change a keyword argument without re-parsing the file.
 */

export interface CallArgument {
  /** Offsets of the whole argument (without surrounding whitespace). */
  start: number;
  end: number;
  /** Keyword name for `name=value` arguments. */
  keyword: string | null;
  /** Offsets of the value (the whole argument for positional ones). */
  valueStart: number;
  valueEnd: number;
  /** `*args` or `**kwargs`. */
  unpacked: boolean;
}

export interface CallArguments {
  /** Offset of `(` and of the matching `)`. */
  open: number;
  close: number;
  args: CallArgument[];
}

/** Offset just past a string literal starting at `i` (quote at text[i]). */
function skipString(text: string, i: number): number {
  const quote = text[i]!;
  const triple = text.startsWith(quote.repeat(3), i);
  const delimiter = triple ? quote.repeat(3) : quote;
  let j = i + delimiter.length;
  while (j < text.length) {
    if (text[j] === '\\') j += 2;
    else if (text.startsWith(delimiter, j)) return j + delimiter.length;
    else if (!triple && text[j] === '\n') return j;
    else j++;
  }
  return j;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\\';

/**
 * Parses the call text between `start` and `end` (offsets of the call expression). Returns null when
 * the text is not a call with balanced brackets.
 */
export function parseCallArguments(text: string, start: number, end: number): CallArguments | null {
  const open = text.indexOf('(', start);
  if (open < 0 || open >= end) return null;
  const args: CallArgument[] = [];
  let depth = 0;
  let argStart = -1;
  let argEnd = -1;
  let equals = -1;
  const finish = (): void => {
    if (argStart < 0) return;
    const raw = text.slice(argStart, argEnd);
    const unpacked = raw.startsWith('*');
    let keyword: string | null = null;
    let valueStart = argStart;
    if (equals >= 0) {
      const name = text.slice(argStart, equals).trim();
      if (/^[A-Za-z_]\w*$/.test(name)) {
        keyword = name;
        valueStart = equals + 1;
        while (isSpace(text[valueStart])) valueStart++;
      }
    }
    args.push({ start: argStart, end: argEnd, keyword, valueStart, valueEnd: argEnd, unpacked });
    argStart = -1;
    equals = -1;
  };
  for (let i = open + 1; i < end; ) {
    const c = text[i]!;
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? end : nl;
      continue;
    }
    if (depth === 0 && c === ')') {
      finish();
      return { open, close: i, args };
    }
    if (depth === 0 && c === ',') {
      finish();
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (argStart < 0) argStart = i;
    if (c === '"' || c === "'") {
      i = skipString(text, i);
    } else {
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      else if (c === '=' && depth === 0 && equals < 0 && text[i + 1] !== '=' && !'<>!='.includes(text[i - 1] ?? '')) equals = i;
      i++;
    }
    argEnd = i;
  }
  return null;
}
