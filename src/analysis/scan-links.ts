/**
 * A file's links (file-links.ts) read from its text without a parse, for `check --jobs` to group files
 * before the workers parse them once. It reads a superset of what fileLinks reads: every module an
 * import names (also inside strings and comments), and every attribute a top-level function's
 * parameter may be handed a dict through. More links only make groups larger, which never changes a
 * result (a larger group is closer to the whole project); a missed link would.
 */
import type { FileLinks } from './file-links';
import { submodule } from './python/imports';

const WORD = String.raw`[\p{L}\p{N}_]+`;
const DOTTED = String.raw`${WORD}(?:[ \t]*\.[ \t]*${WORD})*`;
/** Whitespace between tokens of one statement (line continuations are joined beforehand). */
const GAP = String.raw`[ \t\f]+`;
/** `from .pkg.mod import ...`: the module as written (relative dots included). */
const FROM_MODULE = new RegExp(String.raw`\bfrom${GAP}(\.+(?:[ \t]*${DOTTED})?|${DOTTED})${GAP}import\b`, 'gu');
/** `import a.b as c, d`: everything up to the statement's end (newline, `;` or a comment). */
const IMPORT_LIST = /\bimport[ \t\f]([^\n;#]*)/gu;
const LEADING_DOTTED = new RegExp(String.raw`^[ \t\f(]*(${DOTTED})`, 'u');
/** A function at top level: `def name(` or `async def name(` at the start of a line. */
const TOP_LEVEL_DEF = new RegExp(String.raw`^(?:async${GAP})?def${GAP}${WORD}[ \t]*\(`, 'gmu');
const WORDS = new RegExp(WORD, 'gu');
/** What fileLinks takes as a dict written to an attribute: `{...}`, `dict(...)`, or a name (bound to one). */
const DICT_LIKE_VALUE = new RegExp(String.raw`[\s(]*(?:\{|dict[ \t]*\(|${WORD}[ \t)]*(?:$|[\r\n#;]))`, 'uy');

/** `__import__('2-identity_block').identity_block`: a module whose file name is no identifier, and the name taken from it. */
const DUNDER_IMPORT = new RegExp(String.raw`\b__import__[ \t]*\([ \t]*(['"])([^'"\n]+)\1[ \t]*\)[ \t]*\.[ \t]*(${WORD})`, 'gu');

const compact = (dotted: string) => dotted.replace(/[ \t]/g, '');

/** The modules a file's import statements name: for `import a.b` both `a` (what it binds) and `a.b`. */
function scannedModules(text: string): string[] {
  const modules = new Set<string>();
  for (const match of text.matchAll(FROM_MODULE)) {
    const module = compact(match[1] ?? '');
    modules.add(module);
    // `from pkg import lib` may name the module pkg/lib.py (as fileLinks reads it).
    for (const name of importedNames(text, match.index + match[0].length)) modules.add(submodule(module, name));
  }
  for (const match of text.matchAll(DUNDER_IMPORT)) {
    const module = match[2] ?? '';
    modules.add(module);
    modules.add(submodule(module, match[3] ?? ''));
  }
  for (const match of text.matchAll(IMPORT_LIST)) {
    for (const item of (match[1] ?? '').split(',')) {
      const dotted = LEADING_DOTTED.exec(item)?.[1];
      if (!dotted) continue;
      const name = compact(dotted);
      modules.add(name);
      modules.add(name.split('.')[0] ?? name);
    }
  }
  return [...modules];
}

/** The names a `from m import` lists after `at` (`a, b as c` or `(a,\n b)`, to its end): a, b. */
function importedNames(text: string, at: number): string[] {
  const rest = text.slice(at);
  const open = /^[ \t\f]*\(/.exec(rest);
  const close = rest.indexOf(')');
  const list = open ? rest.slice(open[0].length, close < 0 ? undefined : close) : (/^[^\n;#]*/.exec(rest)?.[0] ?? '');
  return list.split(',').flatMap((item) => LEADING_DOTTED.exec(item.replace(/#[^\n]*/g, '').trim())?.[1] ?? []);
}

/** The text of the parameter list that opens at `open` (its `(`), to the matching `)` or the end. */
function parameterText(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Attributes of a top-level function's parameter that may be assigned a dict (`args.config = config`). */
function scannedAssigns(text: string): string[] {
  const params = new Set<string>();
  for (const match of text.matchAll(TOP_LEVEL_DEF)) {
    for (const word of parameterText(text, match.index + match[0].length - 1).matchAll(WORDS)) params.add(word[0]);
  }
  if (params.size === 0) return [];
  const assigns = new Set<string>();
  const write = new RegExp(String.raw`(?<![\p{L}\p{N}_.])(${WORD})[ \t]*\.[ \t]*(${WORD})[ \t]*=(?!=)`, 'gu');
  for (const match of text.matchAll(write)) {
    const [whole, holder = '', attribute = ''] = match;
    DICT_LIKE_VALUE.lastIndex = match.index + whole.length;
    if (params.has(holder) && DICT_LIKE_VALUE.test(text)) assigns.add(attribute);
  }
  return [...assigns];
}

/** The links of a file read from its text alone (see the file comment); nothing for unreadable text. */
export function scanFileLinks(path: string, text: string | null): FileLinks {
  if (text === null) return { path, modules: [], assigns: [] };
  const joined = text.replace(/\\\r?\n/g, ' ');
  return { path, modules: scannedModules(joined), assigns: scannedAssigns(joined) };
}
