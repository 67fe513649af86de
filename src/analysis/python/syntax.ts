/** Small, pure helpers over tree-sitter-python nodes. */
import type { Node } from './syntax-tree';
import type { Range } from '../../shared/ir';

export type { Node };

export function rangeOf(node: Node): Range {
  return {
    start: { line: node.startPosition.row, character: node.startPosition.column },
    end: { line: node.endPosition.row, character: node.endPosition.column },
  };
}

/**
 * A field the grammar gives every node of this type (`function` of a call, `left` of an assignment).
 * Error recovery makes an ERROR node rather than drop one, so a miss is a bug worth a clear message.
 */
export function requiredField(node: Node, name: string): Node {
  const child = node.childForFieldName(name);
  if (!child) throw missingField(node, name);
  return child;
}

export function missingField(node: Node, name: string): Error {
  return new Error(`syntax tree: a ${node.type} without its '${name}' field (line ${node.startPosition.row + 1})`);
}

/** The named children, without comments. */
export function namedChildren(node: Node): readonly Node[] {
  return node.namedChildrenWithoutComments;
}

/** Depth-first walk; return false from `visit` to skip a node's children. */
export function walk(node: Node, visit: (n: Node) => boolean | void): void {
  if (visit(node) === false) return;
  for (const child of node.namedChildren) walk(child, visit);
}

/**
 * The named nodes under `root` (itself included, depth first, in source order) whose type `wanted`
 * selects, descending only into nodes whose type `descend` selects (a wanted node is not descended
 * into). `descend` also gets the node's span (UTF-16 offsets), to skip subtrees whose text cannot
 * hold a match: their children are then never read from the wasm tree.
 */
export function nodesOfType(root: Node, wanted: (type: string) => boolean, descend: (type: string, start: number, end: number) => boolean): Node[] {
  const found: Node[] = [];
  const visit = (n: Node): void => {
    if (!n.isNamed) return;
    const type = n.type;
    if (wanted(type)) found.push(n);
    else if (descend(type, n.startIndex, n.endIndex)) for (const c of n.children) visit(c);
  };
  visit(root);
  return found;
}

/**
 * For nodesOfType's `descend`: whether a span of `root`'s text holds a match of `word` (a global
 * regex), to skip subtrees that cannot hold the statements looked for.
 */
export function spanHolds(root: Node, word: RegExp): (start: number, end: number) => boolean {
  const offset = root.startIndex;
  const at = [...root.text.matchAll(word)].map((m) => m.index + offset);
  return (start, end) => {
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < at.length && at[lo]! < end;
  };
}

export function descendantsOfType(node: Node, types: string | string[]): Node[] {
  const wanted = new Set(Array.isArray(types) ? types : [types]);
  const out: Node[] = [];
  walk(node, (n) => {
    if (wanted.has(n.type)) out.push(n);
  });
  return out;
}

/** `a`, `a.b.c` as text; null for anything that is not a plain dotted name. */
export function dottedName(node: Node | null | undefined): string | null {
  if (!node) return null;
  if (node.type === 'identifier') return node.text;
  if (node.type === 'attribute') {
    const object = dottedName(node.childForFieldName('object'));
    const attr = node.childForFieldName('attribute');
    return object && attr ? `${object}.${attr.text}` : null;
  }
  return null;
}

/** The dotted name of what a call calls (`layers.Dense(...)` -> "layers.Dense"); null for `f()(x)` etc. */
export function calleeName(call: Node): string | null {
  return call.type === 'call' ? dottedName(call.childForFieldName('function')) : null;
}

export interface CallArguments {
  positional: Node[];
  keywords: Map<string, Node>;
  /** `*args` / `**kwargs` entries: their presence means arguments may be unknown. */
  splats: Node[];
  /** The argument list node itself (for inserting keyword arguments). */
  list: Node | null;
}

export function callArguments(call: Node): CallArguments {
  const list = call.childForFieldName('arguments');
  const result: CallArguments = { positional: [], keywords: new Map(), splats: [], list };
  if (!list || list.type !== 'argument_list') {
    // A generator argument `f(x for x in y)` counts as one positional argument.
    if (list) result.positional.push(list);
    return result;
  }
  for (const arg of namedChildren(list)) {
    if (arg.type === 'keyword_argument') {
      const name = arg.childForFieldName('name');
      const value = arg.childForFieldName('value');
      if (name && value) result.keywords.set(name.text, value);
    } else if (arg.type === 'list_splat' || arg.type === 'dictionary_splat') {
      result.splats.push(arg);
    } else {
      result.positional.push(arg);
    }
  }
  return result;
}

/** The argument given by keyword `name` or, failing that, at positional `index`. */
export function argument(args: CallArguments, index: number | null, ...names: string[]): Node | null {
  for (const name of names) {
    const kw = args.keywords.get(name);
    if (kw) return kw;
  }
  return index !== null ? (args.positional[index] ?? null) : null;
}

/** The value of a plain string literal (no f-string interpolation); null otherwise. */
export function stringValue(node: Node | null | undefined): string | null {
  if (!node) return null;
  if (node.type === 'concatenated_string') {
    const parts = namedChildren(node).map(stringValue);
    return parts.every((p): p is string => p !== null) ? parts.join('') : null;
  }
  if (node.type !== 'string') return null;
  if (node.namedChildren.some((c) => c.type === 'interpolation')) return null;
  return node.namedChildren
    .filter((c) => c.type === 'string_content' || c.type === 'escape_sequence')
    .map((c) => c.text)
    .join('');
}

/** The innermost enclosing node of one of the given types. */
export function enclosing(node: Node, types: string[]): Node | null {
  let cur = node.parent;
  while (cur) {
    if (types.includes(cur.type)) return cur;
    cur = cur.parent;
  }
  return null;
}

/** `x = value` / `x: T = value` at statement level: [target, value] or null. */
export function assignmentOf(statement: Node): { target: Node; value: Node; node: Node } | null {
  const expr = statement.type === 'expression_statement' ? statement.namedChild(0) : statement;
  if (!expr || expr.type !== 'assignment') return null;
  const target = expr.childForFieldName('left');
  const value = expr.childForFieldName('right');
  return target && value ? { target, value, node: expr } : null;
}

/** Strips parentheses around an expression. */
export function unparen(node: Node): Node {
  let cur = node;
  while (cur.type === 'parenthesized_expression') {
    const inner = cur.namedChild(0);
    if (!inner) break;
    cur = inner;
  }
  return cur;
}

/** Node types whose children can be statements: import, print and similar statements only occur below these. */
export const STATEMENT_CONTAINERS: ReadonlySet<string> = new Set([
  'module', 'block', 'function_definition', 'class_definition', 'decorated_definition', 'if_statement',
  'elif_clause', 'else_clause', 'for_statement', 'while_statement', 'try_statement', 'except_clause',
  'finally_clause', 'with_statement', 'match_statement', 'case_clause',
]);
