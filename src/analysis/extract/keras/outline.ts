/**
 * The statement-level outline of a file: its function and class definitions and star imports.
 * Node access from JS (crossing into wasm, allocating node objects) is the dominant cost of
 * extraction on large files, so only statements are visited, and function bodies only when they
 * define something. (A tree-sitter query measured slower: it visits every node.)
 */
import type { Node } from '../../python/syntax-tree';

/** Node types whose children can be statements. */
const STATEMENT_CONTAINERS = new Set([
  'module', 'block', 'class_definition', 'function_definition', 'decorated_definition', 'if_statement', 'elif_clause',
  'else_clause', 'for_statement', 'while_statement', 'try_statement', 'except_clause', 'except_group_clause',
  'finally_clause', 'with_statement', 'match_statement', 'case_clause', 'ERROR',
]);

export interface Outline {
  functions: Node[];
  classes: Node[];
  /** `from m import *` statements. */
  starImports: Node[];
}

/** Visits statements (and statement containers) below `node`; return false to skip a node's children. */
export function walkStatements(node: Node, visit: (n: Node) => boolean | void): void {
  for (const child of node.namedChildren) {
    if (visit(child) === false) continue;
    if (STATEMENT_CONTAINERS.has(child.type)) walkStatements(child, visit);
  }
}

/** Whether a function's body defines functions or classes (most do not: their bodies are not walked). */
function definesNested(def: Node): boolean {
  return /\n[ \t]+(?:async[ \t]+)?(?:def|class)[ \t]/.test(def.text);
}

export function outlineOf(root: Node): Outline {
  const outline: Outline = { functions: [], classes: [], starImports: [] };
  walkStatements(root, (n) => {
    if (n.type === 'function_definition') {
      outline.functions.push(n);
      return definesNested(n);
    }
    if (n.type === 'class_definition') outline.classes.push(n);
    else if (n.type === 'import_from_statement' && n.namedChildren.some((c) => c.type === 'wildcard_import')) outline.starImports.push(n);
    else if (n.type === 'expression_statement') return false;
    return true;
  });
  return outline;
}

/** The return statements of a function's own body (not of functions nested in it). */
export function returnsOf(def: Node): Node[] {
  const body = def.childForFieldName('body');
  const out: Node[] = [];
  if (!body) return out;
  walkStatements(body, (n) => {
    if (n.type === 'function_definition' || n.type === 'class_definition') return false;
    if (n.type === 'return_statement') out.push(n);
  });
  return out;
}
