/**
 * `opt = parser.parse_args()` then `opt.img_size`: the value a script runs with when no flag is given
 * is the `default=` of `parser.add_argument("--img_size", ...)` (argparse turns `-` into `_` in the
 * attribute name; `dest=` renames it). The arguments are read where the parser is: the top level of the
 * module (with its `if __name__ == "__main__":` block, which runs as the top level), or the body of the
 * function that parses them (`def main(): ...; args = parser.parse_args()`), also when `opt` is what a
 * function of the module returns (`args = get_args()`, `def get_args(): ...; return parser.parse_args()`).
 * So a default is one fact of the file, not a guess.
 */
import type { Node } from './syntax-tree';
import { namedChildren, stringValue, unparen } from './syntax';

/** Per tree, per scope (a function's id, MODULE for the module): parser name -> attribute name -> the `default=` expression (null: no default written). */
const cache = new WeakMap<object, Map<number, Map<string, Map<string, Node | null>>>>();
const MODULE = -1;

/** The module's statements, with those of its `if __name__ == "__main__":` blocks in place. */
function topLevelStatements(root: Node): Node[] {
  return namedChildren(root).flatMap((statement) => {
    const condition = statement.type === 'if_statement' ? statement.childForFieldName('condition') : null;
    const body = condition && /^__name__\s*==\s*['"]__main__['"]$/.test(condition.text) ? statement.childForFieldName('consequence') : null;
    return body ? namedChildren(body) : [statement];
  });
}

/** The statements of a function's body, or of the module (topLevelStatements) when `fn` is null. */
function statementsOf(root: Node, fn: Node | null): readonly Node[] {
  const body = fn?.childForFieldName('body');
  return fn ? (body ? namedChildren(body) : []) : topLevelStatements(root);
}

/** The arguments added to each parser by the statements of `fn`'s body (of the module when null). */
function argumentsOf(root: Node, fn: Node | null): Map<string, Map<string, Node | null>> {
  const tree = root.tree as unknown as object;
  let byScope = cache.get(tree);
  if (!byScope) cache.set(tree, (byScope = new Map<number, Map<string, Map<string, Node | null>>>()));
  const scope = fn ? fn.id : MODULE;
  const cached = byScope.get(scope);
  if (cached) return cached;
  const parsers = new Map<string, Map<string, Node | null>>();
  for (const statement of statementsOf(root, fn)) {
    const call = statement.type === 'expression_statement' ? unparen(statement.namedChildren[0] ?? statement) : null;
    const fn = call?.type === 'call' ? call.childForFieldName('function') : null;
    const parser = fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'add_argument' ? fn.childForFieldName('object') : null;
    const list = call?.childForFieldName('arguments');
    if (!parser || parser.type !== 'identifier' || !list) continue;
    let name: string | null = null;
    let dest: string | null = null;
    let fallback: Node | null = null;
    for (const arg of namedChildren(list)) {
      if (arg.type === 'string') {
        const flag = stringValue(arg);
        if (flag?.startsWith('--') || (flag && !flag.startsWith('-') && name === null)) name = flag.replace(/^--/, '').replace(/-/g, '_');
        else if (flag?.startsWith('-') && name === null) name = flag.slice(1).replace(/-/g, '_');
      } else if (arg.type === 'keyword_argument') {
        const key = arg.childForFieldName('name')?.text;
        const value = arg.childForFieldName('value');
        if (key === 'default' && value) fallback = value;
        if (key === 'dest' && value) dest = stringValue(value) ?? null;
      }
    }
    const attribute = dest ?? name;
    if (!attribute) continue;
    let defaults = parsers.get(parser.text);
    if (!defaults) parsers.set(parser.text, (defaults = new Map<string, Node | null>()));
    defaults.set(attribute, fallback);
  }
  byScope.set(scope, parsers);
  return parsers;
}

/** Per tree: whether its text calls parse_args at all. */
const parsing = new WeakMap<object, boolean>();

/** Whether the file `node` is in may parse a command line (its text has `parse_args`): when not, no attribute is an argument's default. */
export function parsesCommandLine(node: Node): boolean {
  const tree = node.tree as unknown as object;
  let known = parsing.get(tree);
  if (known === undefined) parsing.set(tree, (known = node.tree.source.includes('parse_args')));
  return known;
}

/** The function definition `node` is in (its innermost), or null at the module's level. */
function enclosingFunction(node: Node): Node | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'function_definition') return p;
  return null;
}

/** The module-level function `name` (decorated or not), or null. */
function moduleFunction(root: Node, name: string): Node | null {
  for (const statement of namedChildren(root)) {
    const fn = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    if (fn?.type === 'function_definition' && fn.childForFieldName('name')?.text === name) return fn;
  }
  return null;
}

/** `parser.parse_args(...)` (a parser named by an identifier): that parser's name; else null. */
function parsedBy(call: Node): string | null {
  const fn = call.type === 'call' ? call.childForFieldName('function') : null;
  const parser = fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'parse_args' ? fn.childForFieldName('object') : null;
  return parser?.type === 'identifier' ? parser.text : null;
}

/**
 * What `get_args()` returns when it parses the command line: the `parser.parse_args()` call it returns,
 * directly or through one name of its body (`args = parser.parse_args(); return args`); null otherwise.
 */
function returnedParse(fn: Node): Node | null {
  const statements = statementsOf(fn, fn);
  for (const statement of statements) {
    if (statement.type !== 'return_statement') continue;
    const value = statement.namedChildren[0] ? unparen(statement.namedChildren[0]) : null;
    if (!value) continue;
    if (parsedBy(value) !== null) return value;
    if (value.type !== 'identifier') continue;
    for (const other of statements) {
      const assignment = other.type === 'expression_statement' ? other.namedChildren[0] : null;
      const right = assignment?.type === 'assignment' && assignment.childForFieldName('left')?.text === value.text ? assignment.childForFieldName('right') : null;
      if (right && parsedBy(unparen(right)) !== null) return unparen(right);
    }
  }
  return null;
}

/**
 * The `default=` expression behind `opt.name` when `parsed` (what `opt` is bound to) is
 * `parser.parse_args()` of a parser built where it is parsed (the module, or the function around it),
 * or a call of a module function that returns such a parse; undefined otherwise.
 */
export function argparseDefault(parsed: Node, name: string): Node | undefined {
  let root: Node = parsed;
  while (root.parent) root = root.parent;
  let parse: Node | null = parsed;
  if (parsedBy(parsed) === null) {
    const callee = parsed.type === 'call' ? parsed.childForFieldName('function') : null;
    const fn = callee?.type === 'identifier' ? moduleFunction(root, callee.text) : null;
    parse = fn ? returnedParse(fn) : null;
  }
  const parser = parse ? parsedBy(parse) : null;
  if (!parse || parser === null) return undefined;
  // The parser built in the function that parses it, else at the module's level.
  const fn = enclosingFunction(parse);
  const inFunction = fn ? argumentsOf(root, fn).get(parser) : undefined;
  return (inFunction ?? argumentsOf(root, null).get(parser))?.get(name) ?? undefined;
}
