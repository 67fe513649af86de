/**
 * Dicts a function hands to an object it is given: `def my_model(args): config = dict(...);
 * args.config = config`. A model elsewhere that reads `args.config[...]` from an object nothing in its
 * file describes (an argparse namespace passed in) reads that dict: the workspace's functions that
 * assign the attribute are run with a fresh object and what they assign is read (see the readers).
 * Only module-level functions, an attribute of one of their parameters, and a dict written there
 * (a literal, `dict(...)`, or a name the function binds to one) count.
 */
import type { Node } from './syntax-tree';
import { descendantsOfType, namedChildren, unparen } from './syntax';
import { unchangedStatements, type StatementsOf, type TopLevelStatement } from './top-level';
import type { PyFile } from './file';
import { keptText } from './kept-text';
import { mapPacked } from '../../shared/packed';

export interface AttributeWrite {
  /** The attribute assigned (`config`). */
  attribute: string;
  /** The function that assigns it, and its parameter that holds the object. */
  fn: Node;
  param: string;
}

/**
 * What attributeWrites read of one version of a file: per top-level statement, whether it is known to
 * assign no attribute of a parameter. The next version's statements the edit left alone take that from
 * here (unchangedStatements) instead of being cut out of the text and looked up again.
 */
export interface WritesRead extends StatementsOf {
  writesNothing: readonly boolean[];
}

/** Per parsed version of a file (not per tree: a version whose parse was deferred has none until read). */
const cache = new WeakMap<PyFile, { writes: AttributeWrite[]; read: WritesRead }>();
/**
 * Texts of module-level functions known to assign no attribute of a parameter: every edit gives a new
 * tree, and reading each function's parameters again made this look cost in proportion to the file.
 */
const writesNothingTexts = new Set<string>();
/** Texts kept at most (a file's functions many times over); past it the set starts again. */
const MAX_KNOWN_TEXTS = 8192;

/** An indented `name.attr = ...` (name any word without a dot): what assigning an attribute of a parameter needs. */
const ASSIGNS_AN_ATTRIBUTE = /^[ \t]+[^\s.=]+\.\w+[ \t]*=[^=]/m;

/** The plain parameter names of a function (`self`-less module-level functions: all of them). */
function parameterNames(fn: Node): Set<string> {
  const names = new Set<string>();
  for (const p of namedChildren(fn.childForFieldName('parameters') ?? fn)) {
    const id = p.type === 'identifier' ? p : p.childForFieldName('name') ?? namedChildren(p).find((c) => c.type === 'identifier');
    if (id?.type === 'identifier') names.add(id.text);
  }
  return names;
}

const isDictWritten = (value: Node): boolean => {
  const v = unparen(value);
  return v.type === 'dictionary' || (v.type === 'call' && v.childForFieldName('function')?.text === 'dict');
};

/** Top-level statements that may be module-level functions. */
const FUNCTION_STATEMENTS: ReadonlySet<string> = new Set(['function_definition', 'decorated_definition']);

/**
 * The attribute writes of a parsed module (cached per tree). The module's statements are listed by
 * their spans (topLevelStatements, one cursor pass the statement groups share) and passed by their text:
 * reading the root's children as nodes cost 1 ms per edit of a 5,000-line file, every edit being a new
 * tree. Only a function whose text may assign an attribute of a parameter is read as nodes.
 */
export function attributeWrites(file: PyFile, before: WritesRead | null = null): AttributeWrite[] {
  const cached = cache.get(file);
  if (cached) return cached.writes;
  const out: AttributeWrite[] = [];
  // The whole text: statements' offsets count from its start (the module node starts at its first statement).
  const source = file.text;
  const statements = file.statements;
  const sameAs = before ? unchangedStatements(before, { text: source, statements }) : () => -1;
  const writesNothing = mapPacked(statements, () => false);
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i]!;
    if (!FUNCTION_STATEMENTS.has(statement.type)) continue;
    const j = sameAs(i);
    if (j >= 0 && before?.writesNothing[j]) {
      writesNothing[i] = true;
      continue;
    }
    // A decorated function's text holds its decorators: at column 0 (or in their brackets), they add no indented assignment.
    const text = source.slice(statement.startIndex, statement.endIndex);
    // Looked up by its text first: an edit leaves most of a file's functions as they were, and one regex
    // scan of the whole file per edit for lines that may assign an attribute cost more than these lookups.
    if (writesNothingTexts.has(text)) {
      writesNothing[i] = true;
      continue;
    }
    const fn = ASSIGNS_AN_ATTRIBUTE.test(text) ? functionOf(file.root, statement) : null;
    // Reading the parameters crosses into wasm: a function that assigns no attribute of any name is passed by its text.
    const params = fn ? parameterNames(fn) : new Set<string>();
    // Walking a function's tree is what costs: only one that assigns an attribute of a parameter is walked.
    if (!fn || params.size === 0 || !new RegExp(`^[ \\t]+(?:${[...params].join('|')})\\.\\w+[ \\t]*=[^=]`, 'm').test(text)) {
      if (writesNothingTexts.size >= MAX_KNOWN_TEXTS) writesNothingTexts.clear();
      writesNothingTexts.add(keptText(text));
      writesNothing[i] = true;
      continue;
    }
    const assignments = descendantsOfType(fn, 'assignment');
    const dictNames = new Set(assignments.flatMap((a) => {
      const left = a.childForFieldName('left');
      const right = a.childForFieldName('right');
      return left?.type === 'identifier' && right && isDictWritten(right) ? [left.text] : [];
    }));
    for (const a of assignments) {
      const left = a.childForFieldName('left');
      const right = a.childForFieldName('right');
      const holder = left?.type === 'attribute' ? left.childForFieldName('object') : null;
      const attribute = left?.childForFieldName('attribute')?.text;
      if (!right || !attribute || holder?.type !== 'identifier' || !params.has(holder.text)) continue;
      const r = unparen(right);
      if (isDictWritten(r) || (r.type === 'identifier' && dictNames.has(r.text))) out.push({ attribute, fn, param: holder.text });
    }
  }
  cache.set(file, { writes: out, read: { text: source, statements, writesNothing } });
  return out;
}

/** What attributeWrites read of this version, once it has been asked (for the file's next version). */
export function writesReadOf(file: PyFile): WritesRead | null {
  return cache.get(file)?.read ?? null;
}

/** The function a top-level statement defines (itself, or the definition it decorates); null for a decorated class. */
function functionOf(root: Node, statement: TopLevelStatement): Node | null {
  const node = root.descendantForIndex(statement.startIndex, statement.endIndex);
  const fn = node?.type === 'decorated_definition' ? node.childForFieldName('definition') : node;
  return fn?.type === 'function_definition' ? fn : null;
}
