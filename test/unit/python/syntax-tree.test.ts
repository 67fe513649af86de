/**
 * The syntax table (syntax-tree.ts) is what the readers see instead of web-tree-sitter's nodes: on every
 * example and fixture of the repository, each node must read as web-tree-sitter reads it (type, span,
 * positions, text, named, children, fields, and its descendant index must lead back to it), its id
 * must be its own among all nodes of all files, and descendantForIndex must find the same node; read
 * both with the direct cursor calls (cursor-calls.ts) and with the binding's getters.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Node as WasmNode } from 'web-tree-sitter';
import { createPythonParser, cursorCalls } from '../../../src/analysis/python/parser';
import { SyntaxTree, type Node } from '../../../src/analysis/python/syntax-tree';
import { collectInputs } from '../../../src/cli/inputs';
import { readInput } from '../../../src/cli/read-source';
import { REPO_ROOT } from '../cli/run-cli';

const FIELDS = ['name', 'body', 'function', 'arguments', 'left', 'right', 'value', 'object', 'attribute', 'parameters', 'condition', 'alternative', 'consequence', 'key', 'type', 'subscript', 'operator', 'argument', 'superclasses', 'return_type', 'module_name', 'alias', 'definition'];

/** What one node reads as, its children's spans and its fields' spans included. */
function reading(n: Node | WasmNode): unknown {
  const span = (c: Node | WasmNode | null): string | null => (c ? `${c.type}@${String(c.startIndex)}-${String(c.endIndex)}` : null);
  return {
    node: span(n),
    start: n.startPosition,
    end: n.endPosition,
    text: n.text,
    named: n.isNamed,
    children: n.children.map(span),
    namedChildren: n.namedChildren.map(span),
    fields: FIELDS.map((f) => [f, span(n.childForFieldName(f)), n.childrenForFieldName(f).map(span)]),
  };
}

describe('syntax table', () => {
  it.each([
    ['direct cursor calls', true],
    ["the binding's getters", false],
  ])('reads every node of the examples and fixtures as web-tree-sitter does (%s)', async (_how, direct) => {
    const parser = await createPythonParser();
    // The direct calls are found on the module object (the fast path must not silently fall back).
    expect(cursorCalls()).not.toBeNull();
    const inputs = collectInputs(['examples', 'test/fixtures', 'test/lsp/fixtures'].map((p) => join(REPO_ROOT, p)));
    expect(inputs.files.length).toBeGreaterThan(100);
    let nodes = 0;
    // Ids are kept in maps by readers of several files at once: no two nodes of any file share one.
    const ids = new Set<number>();
    for (const path of inputs.files) {
      const source = readInput(path);
      if (source.error !== null) continue;
      const tree = parser.parse(source.text);
      if (!tree) throw new Error(`could not parse ${path}`);
      const table = new SyntaxTree(tree, source.text, direct ? cursorCalls() : null);
      const pending: [Node, WasmNode][] = [[table.rootNode, tree.rootNode]];
      for (let pair = pending.pop(); pair; pair = pending.pop()) {
        const [mine, theirs] = pair;
        nodes++;
        const [a, b] = [reading(mine), reading(theirs)];
        if (JSON.stringify(a) !== JSON.stringify(b)) expect({ path, node: a }).toEqual({ path, node: b });
        if (ids.has(mine.id)) expect({ path, node: a, id: mine.id }).toBe('a node with an id of its own');
        ids.add(mine.id);
        const code = theirs.namedChildren.filter((c) => c.type !== 'comment');
        if (mine.namedChildrenWithoutComments.length !== code.length || mine.namedChildrenWithoutComments.some((c, i) => c.startIndex !== code[i]!.startIndex || c.type !== code[i]!.type)) expect({ path, node: a, code: mine.namedChildrenWithoutComments.map((c) => c.type) }).toEqual({ path, node: a, code: code.map((c) => c.type) });
        // The descendant index finds the node again (hasError, walk() and the lazy reads of children go by it).
        const cursor = table.cursor();
        cursor.gotoDescendant(mine.descendantIndex);
        if (cursor.startIndex !== mine.startIndex || cursor.endIndex !== mine.endIndex || cursor.nodeType !== mine.type) expect({ path, index: mine.descendantIndex, found: `${cursor.nodeType}@${String(cursor.startIndex)}` }).toEqual({ path, index: mine.descendantIndex, found: `${mine.type}@${String(mine.startIndex)}` });
        const theirChildren = theirs.children;
        mine.children.forEach((c, i) => {
          expect(c.parent).toBe(mine);
          pending.push([c, theirChildren[i]!]);
        });
      }
      // Offsets across the file, empty ranges and short ones.
      const step = Math.max(1, Math.floor(source.text.length / 97));
      for (let at = 0; at <= source.text.length; at += step) {
        for (const end of [at, Math.min(source.text.length, at + 7)]) {
          const span = (n: Node | WasmNode | null) => (n ? `${n.type}@${String(n.startIndex)}-${String(n.endIndex)}` : null);
          expect({ path, at, end, found: span(table.rootNode.descendantForIndex(at, end)) }).toEqual({ path, at, end, found: span(tree.rootNode.descendantForIndex(at, end)) });
        }
      }
      expect(table.rootNode.hasError).toBe(tree.rootNode.hasError);
      table.dispose();
      tree.delete();
    }
    expect(nodes).toBeGreaterThan(50_000);
  });

  it('reads on while web-tree-sitter collects a cursor dropped without delete() (its finalizer frees that cursor\'s state, not the one in use)', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const parser = await createPythonParser();
    const text = Array.from({ length: 200 }, (_, i) => `def f${String(i)}(a, b):\n    return [x * (a + b) for x in range(${String(i)})]\n`).join('');
    const tree = parser.parse(text);
    if (!tree) throw new Error('could not parse');
    const table = new SyntaxTree(tree, text, cursorCalls());
    try {
      for (let round = 0; round < 40; round++) {
        // A cursor some reader dropped, moved deep enough that its entry stack lives on the wasm heap.
        (() => {
          const dropped = tree.walk();
          while (dropped.gotoFirstChild());
        })();
        // A cursor in use, left in the binding's transfer buffer by its last move, and the table's reads.
        const inUse = tree.walk();
        for (let depth = 0; depth < 6 && inUse.gotoFirstChild(); depth++);
        const function_ = table.rootNode.namedChildren[round];
        expect(function_?.type).toBe('function_definition');
        collect();
        await new Promise((resolve) => setTimeout(resolve, 2));
        // Moved on and deleted: a freed entry stack would be written through and freed again.
        while (inUse.gotoFirstChild());
        while (inUse.gotoNextSibling());
        inUse.delete();
        const body = function_?.childForFieldName('body');
        expect(body?.namedChildren.map((c) => c.type)).toEqual(['return_statement']);
        // 200 definitions and the comment.
        expect(parser.parse(`${text}# edited ${String(round)}\n`)?.rootNode.namedChildCount).toBe(201);
      }
    } finally {
      table.dispose();
      tree.delete();
      parser.delete();
    }
  });
});

