/**
 * `opt = parser.parse_args()` then `opt.img_size`: the value a script runs with when no flag is given
 * is the `default=` of `parser.add_argument("--img_size", ...)` (argparse turns `-` into `_` in the
 * attribute name; `dest=` renames it). Only arguments added at the module's top level (or in its
 * `if __name__ == "__main__":` block, which runs as the top level) are read, so a default is one fact of
 * the file, not a guess.
 */
import type { Node } from './syntax-tree';
import { namedChildren, stringValue, unparen } from './syntax';

/** Per tree: parser name -> attribute name -> the `default=` expression (null: no default written). */
const cache = new WeakMap<object, Map<string, Map<string, Node | null>>>();

/** The module's statements, with those of its `if __name__ == "__main__":` blocks in place. */
function topLevelStatements(root: Node): Node[] {
  return namedChildren(root).flatMap((statement) => {
    const condition = statement.type === 'if_statement' ? statement.childForFieldName('condition') : null;
    const body = condition && /^__name__\s*==\s*['"]__main__['"]$/.test(condition.text) ? statement.childForFieldName('consequence') : null;
    return body ? namedChildren(body) : [statement];
  });
}

function argumentsOf(root: Node): Map<string, Map<string, Node | null>> {
  const tree = root.tree as unknown as object;
  const cached = cache.get(tree);
  if (cached) return cached;
  const parsers = new Map<string, Map<string, Node | null>>();
  for (const statement of topLevelStatements(root)) {
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
  cache.set(tree, parsers);
  return parsers;
}

/**
 * The `default=` expression behind `opt.name` when `parsed` (what `opt` is bound to) is
 * `parser.parse_args()` of a parser of the module; undefined otherwise.
 */
export function argparseDefault(parsed: Node, name: string): Node | undefined {
  const fn = parsed.type === 'call' ? parsed.childForFieldName('function') : null;
  const parser = fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'parse_args' ? fn.childForFieldName('object') : null;
  if (parser?.type !== 'identifier') return undefined;
  let root: Node = parsed;
  while (root.parent) root = root.parent;
  return argumentsOf(root).get(parser.text)?.get(name) ?? undefined;
}
