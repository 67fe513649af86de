/**
 * Memoized syntax reads. tree-sitter node access (crossing into wasm, allocating node objects) is
 * the dominant cost of extraction; the executor reads the same calls and names several times
 * (building a layer, applying it, inlining helpers), so they are read once per tree. Node objects
 * are recreated on access, but node ids are stable within a tree.
 */
import type { Node } from 'web-tree-sitter';
import { callArguments, dottedName, type CallArguments } from '../../python/syntax';

function oncePerTree<T>(read: (node: Node) => T): (node: Node) => T {
  const caches = new WeakMap<object, Map<number, T>>();
  return (node) => {
    const tree = node.tree as unknown as object;
    let cache = caches.get(tree);
    if (!cache) caches.set(tree, (cache = new Map()));
    if (cache.has(node.id)) return cache.get(node.id)!;
    const value = read(node);
    cache.set(node.id, value);
    return value;
  };
}

/** callArguments(call), read once per syntax tree. */
export const callArgs: (call: Node) => CallArguments = oncePerTree(callArguments);

const dottedOnce = oncePerTree(dottedName);

/** dottedName(node), read once per syntax tree. */
export function dotted(node: Node | null | undefined): string | null {
  return node ? dottedOnce(node) : null;
}
