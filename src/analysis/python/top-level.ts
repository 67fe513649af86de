/**
 * The top-level statements of a module and the module-level names each one binds and reads: what the
 * incremental analysis (analysis/units.ts) needs to know which statements an edit can affect.
 *
 * Python's scopes: a function, a lambda and a comprehension bind their parameters and targets; what
 * they read and do not bind is read from the scope around them; a class body's names are not seen by
 * its methods. Module-level statements bind the names in their targets (at any depth of `if`/`for`/
 * `with`/`try`). What static names cannot follow (`global`, star imports, `exec`, `globals()`, match
 * statements) is reported as `dynamic`.
 */
import type { TreeCursor } from 'web-tree-sitter';
import { childSpans, type Node } from './syntax-tree';
import { sharedEnds } from '../row-shift';
import type { SourceEdit } from '../api';

export interface TopLevelStatement {
  type: string;
  startIndex: number;
  endIndex: number;
  startRow: number;
  endRow: number;
  /** Column where the statement ends (another statement may not start on that row after it). */
  endColumn: number;
}

export interface StatementNames {
  /** Module-level names the statement binds. */
  binds: ReadonlySet<string>;
  /** Module-level names the statement may read. */
  reads: ReadonlySet<string>;
  /** Whether it is an import (bound names every other statement may read, shared rather than merged). */
  isImport: boolean;
  /** A construct that binds or reads names no static reading follows; null when there is none. */
  dynamic: string | null;
}

const IMPORT_TYPES = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);
/** Fields whose subtree is a binding target. */
const TARGET_FIELDS: Readonly<Record<string, readonly string[]>> = {
  assignment: ['left'],
  augmented_assignment: ['left'],
  for_statement: ['left'],
  for_in_clause: ['left'],
  named_expression: ['name'],
  function_definition: ['name'],
  class_definition: ['name'],
  default_parameter: ['name'],
  typed_default_parameter: ['name'],
  as_pattern: ['alias'],
};
/** Nodes whose identifier children (not in a field) are parameters. */
const PARAMETER_CONTAINERS = new Set(['parameters', 'lambda_parameters', 'typed_parameter', 'list_splat_pattern', 'dictionary_splat_pattern']);
const DYNAMIC_STATEMENTS: Readonly<Record<string, string>> = { global_statement: 'a global statement', nonlocal_statement: 'a nonlocal statement', match_statement: 'a match statement' };
const DYNAMIC_NAMES = new Set(['globals', 'locals', 'vars', 'exec', 'eval', '__import__']);

/** Per syntax tree, its statements: the statement groups and the findings cache both ask for them per version. */
const statementsByTree = new WeakMap<object, readonly TopLevelStatement[]>();

/** The module's top-level statements (comments left out), in order, with one cursor walk per tree. */
export function topLevelStatements(root: Node): readonly TopLevelStatement[] {
  let known = statementsByTree.get(root.tree);
  if (!known) statementsByTree.set(root.tree, (known = readStatements(root)));
  return known;
}

/** A top-level node of a tree, as web-tree-sitter reads it. */
interface TopNode {
  type: string;
  startIndex: number;
  endIndex: number;
}

/**
 * Gives the tree of `root` the statements of the tree before an edit strictly inside the statement at
 * `index` (past its first line), when that statement in the new tree (`node`) starts where it did and ends
 * where the edit moved its end: the text before it and after it is the same, and a module-level statement
 * ends at module level, so the others are the same statements, those after it moved by the edit (reading
 * them all again cost 0.15 ms per keystroke in a 5,000-line file of helper functions). Whether it did.
 */
export function carryStatements(root: Node, node: TopNode, index: number, before: readonly TopLevelStatement[], edit: SourceEdit): boolean {
  if (statementsByTree.has(root.tree)) return false;
  const statements = carriedStatements(node, index, before, edit, (offset) => root.tree.position(offset));
  if (statements) statementsByTree.set(root.tree, statements);
  return statements !== null;
}

/** The statements carryStatements gives, without a tree of the new text (`position`: its rows and columns); null when it would not. */
export function carriedStatements(node: TopNode, index: number, before: readonly TopLevelStatement[], edit: SourceEdit, position: (offset: number) => { row: number; column: number }): TopLevelStatement[] | null {
  const edited = before[index];
  const shift = edit.newEndIndex - edit.oldEndIndex;
  if (!edited || !sameNode(node, edited, 0, shift)) return null;
  const end = position(node.endIndex);
  const statements = movedAfter(before, index + 1, edit);
  statements[index] = { ...edited, endIndex: node.endIndex, endRow: end.row, endColumn: end.column };
  return statements;
}

/** Gives the tree of `root` its statements, known otherwise (a file parsed after its statements were carried: python/file.ts). */
export function knowStatements(root: Node, statements: readonly TopLevelStatement[]): void {
  if (!statementsByTree.has(root.tree)) statementsByTree.set(root.tree, statements);
}

/**
 * Gives the tree of `root` the statements of the tree before an edit that wrote or removed only blank
 * space between the statements at `next - 1` and `next`, when the new tree holds both where the edit
 * leaves them (`nodeAt` reads the top-level node at an offset): the same statements, those from `next`
 * on moved (Enter typed above a definition). Whether it did.
 */
export function carryStatementsAround(root: Node, nodeAt: (index: number) => TopNode | null, next: number, before: readonly TopLevelStatement[], edit: SourceEdit): boolean {
  const shift = edit.newEndIndex - edit.oldEndIndex;
  const [previous, following] = [before[next - 1], before[next]];
  if (statementsByTree.has(root.tree) || !following) return false;
  const found = (s: TopLevelStatement, by: number) => {
    const node = nodeAt(s.startIndex + by);
    return node !== null && sameNode(node, s, by, by);
  };
  if ((previous && !found(previous, 0)) || !found(following, shift)) return false;
  statementsByTree.set(root.tree, movedAfter(before, next, edit));
  return true;
}

/** Whether `node` is `statement` with its start moved by `start` characters and its end by `end`. */
function sameNode(node: TopNode, statement: TopLevelStatement, start: number, end: number): boolean {
  return node.type === statement.type && node.startIndex === statement.startIndex + start && node.endIndex === statement.endIndex + end;
}

/** `before`, those from `from` on moved by the edit. */
export function movedAfter(before: readonly TopLevelStatement[], from: number, edit: SourceEdit): TopLevelStatement[] {
  const shift = edit.newEndIndex - edit.oldEndIndex;
  const rows = edit.newEndPosition.row - edit.oldEndPosition.row;
  const statements = before.slice(0, from);
  for (let i = from; i < before.length; i++) {
    const s = before[i]!;
    statements.push({ type: s.type, startIndex: s.startIndex + shift, endIndex: s.endIndex + shift, startRow: s.startRow + rows, endRow: s.endRow + rows, endColumn: s.endColumn });
  }
  return statements;
}

/** A version of a file: its text and its top-level statements (what a later version is compared with). */
export interface StatementsOf {
  text: string;
  statements: readonly TopLevelStatement[];
}

/**
 * For each statement of `now` (by index), the index of the statement of `before` with the same text
 * at the same place in the list, when it lies wholly in the characters the edit left alone: before the
 * first changed character (the same index), or after the last (counted from the end of the list); -1
 * otherwise. What is known of a statement's text then carries over without the text being read again.
 */
export function unchangedStatements(before: StatementsOf, now: StatementsOf): (index: number) => number {
  const { start: upTo, same } = sharedEnds(before.text, now.text);
  const from = now.text.length - same;
  const countDelta = now.statements.length - before.statements.length;
  const delta = now.text.length - before.text.length;
  // Asked once per statement per edit by several readers: no pair made per call.
  return (i) => {
    const statement = now.statements[i];
    if (!statement) return -1;
    const ahead = statement.endIndex <= upTo;
    if (!ahead && statement.startIndex < from) return -1;
    const j = ahead ? i : i - countDelta;
    const shift = ahead ? 0 : delta;
    const was = before.statements[j];
    return was?.startIndex === statement.startIndex - shift && was.endIndex === statement.endIndex - shift ? j : -1;
  };
}

function readStatements(root: Node): TopLevelStatement[] {
  const out: TopLevelStatement[] = [];
  for (const span of childSpans(root)) {
    if (span.type === 'comment') continue;
    const start = root.tree.position(span.startIndex);
    const end = root.tree.position(span.endIndex);
    out.push({ type: span.type, startIndex: span.startIndex, endIndex: span.endIndex, startRow: start.row, endRow: end.row, endColumn: end.column });
  }
  return out;
}

/** Names bound and read in one scope; `bypass` holds what methods read, which a class body's names do not hide. */
interface Scope {
  binds: Set<string>;
  reads: Set<string>;
  isClass: boolean;
  bypass: Set<string>;
}

const newScope = (isClass = false): Scope => ({ binds: new Set(), reads: new Set(), isClass, bypass: new Set() });
const FUNCTION_TYPES = new Set(['function_definition', 'lambda']);
const COMPREHENSION_TYPES = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression']);

/** What a finished inner scope reads from the scope around it. */
function closeScope(inner: Scope, outer: Scope): void {
  const into = outer.isClass && !inner.isClass ? outer.bypass : outer.reads;
  for (const name of inner.reads) if (!inner.binds.has(name)) into.add(name);
  for (const name of inner.bypass) into.add(name);
}

/** The names of the top-level statement at the cursor (which is left where it was). */
export function statementNames(cursor: TreeCursor): StatementNames {
  const type = cursor.nodeType;
  const module = newScope();
  let dynamic: string | null = null;
  const star = () => (dynamic = 'a star import');
  const importChildren = (scope: Scope) => {
    if (!cursor.gotoFirstChild()) return;
    do importBindings(cursor, scope.binds, star);
    while (cursor.gotoNextSibling());
    cursor.gotoParent();
  };
  const visit = (parentType: string, inTarget: boolean, scope: Scope): void => {
    const nodeType = cursor.nodeType;
    const field = cursor.currentFieldName;
    dynamic ??= DYNAMIC_STATEMENTS[nodeType] ?? null;
    if (nodeType === 'identifier') {
      // `x.name` and `f(name=...)`: attribute and keyword names are not variables.
      if ((parentType === 'attribute' && field === 'attribute') || (parentType === 'keyword_argument' && field === 'name')) return;
      const name = cursor.nodeText;
      if (inTarget || (PARAMETER_CONTAINERS.has(parentType) && field === null)) scope.binds.add(name);
      else {
        scope.reads.add(name);
        if (DYNAMIC_NAMES.has(name)) dynamic ??= `${name}()`;
      }
      return;
    }
    if (IMPORT_TYPES.has(nodeType)) {
      importChildren(scope);
      return;
    }
    if (!cursor.gotoFirstChild()) return;
    // A function (its parameters and body), a class body and a comprehension are scopes of their own;
    // a definition's name, decorators and base classes belong to the scope around it.
    const isFunction = FUNCTION_TYPES.has(nodeType);
    const isComprehension = COMPREHENSION_TYPES.has(nodeType);
    const inner = isFunction || isComprehension ? newScope() : nodeType === 'class_definition' ? newScope(true) : null;
    const targetFields = TARGET_FIELDS[nodeType];
    // In a target, `a.b` and `a[i]` bind nothing (they read `a` and `i`); annotations and values are read.
    const passes = inTarget && nodeType !== 'attribute' && nodeType !== 'subscript';
    do {
      const childField = cursor.currentFieldName;
      const target = targetFields?.includes(childField ?? '') === true || (passes && childField !== 'type' && childField !== 'value');
      const own = inner && (isComprehension || childField === 'parameters' || childField === 'body') ? inner : scope;
      visit(nodeType, target, own);
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
    if (inner) closeScope(inner, scope);
  };
  if (IMPORT_TYPES.has(type)) {
    importChildren(module);
    return { binds: module.binds, reads: module.reads, isImport: true, dynamic };
  }
  visit('module', false, module);
  return { binds: module.binds, reads: new Set([...module.reads, ...module.bypass]), isImport: false, dynamic };
}

/** Names one child of an import statement binds: `import a.b` binds a, `import a as b` and `from m import a as b` bind b. */
function importBindings(cursor: TreeCursor, binds: Set<string>, star: () => void): void {
  const field = cursor.currentFieldName;
  const type = cursor.nodeType;
  if (type === 'wildcard_import') star();
  if (field !== 'name') return;
  if (type === 'aliased_import') {
    const alias = cursor.currentNode.childForFieldName('alias')?.text;
    if (alias) binds.add(alias);
  } else if (type === 'dotted_name') {
    const first = cursor.currentNode.firstNamedChild?.text;
    if (first) binds.add(first);
  }
}
