/**
 * Access to syntax nodes for one evaluation (the one syntax cache of the core). The nodes are plain
 * JS (syntax-tree.ts), so type and fields are read from them directly; what is derived from several
 * nodes (a dotted name) is kept per node.
 */
import { missingField } from './syntax';
import { memoSlot, type Node } from './syntax-tree';
import { callArguments, dottedName, type CallArguments } from './syntax';

export class SyntaxCache {
  type(n: Node): string {
    return n.type;
  }

  field(n: Node, name: string): Node | null {
    return n.childForFieldName(name);
  }

  /** field() the grammar always gives this node type; see requiredField. */
  required(n: Node, name: string): Node {
    const child = n.childForFieldName(name);
    if (!child) throw missingField(n, name);
    return child;
  }

  /** field() of a node that may be absent. */
  fieldOf(n: Node | null | undefined, name: string): Node | null {
    return n ? n.childForFieldName(name) : null;
  }

  /** Named children without comments. */
  kids(n: Node): readonly Node[] {
    return n.namedChildrenWithoutComments;
  }

  /** The expression inside any parentheses. */
  unparen(n: Node): Node {
    let cur = n;
    while (cur.type === 'parenthesized_expression') {
      const inner = cur.namedChildrenWithoutComments[0];
      if (!inner) break;
      cur = inner;
    }
    return cur;
  }

  /** `a.b.c` as text for plain dotted names; null otherwise. */
  dottedName(n: Node | null | undefined): string | null {
    return dotted(n);
  }
}

/** Reads memoized per node (a node is one object for the life of its tree), in a slot of the node's memo. */
function oncePerTree<T>(read: (node: Node) => T): (node: Node) => T {
  const slot = memoSlot();
  return (node) => node.memo(slot, read);
}

/** callArguments(call), read once per node. */
export const callArgs: (call: Node) => CallArguments = oncePerTree(callArguments);

const dottedOnce = oncePerTree(dottedName);

/** dottedName(node), read once per node. */
export function dotted(node: Node | null | undefined): string | null {
  return node ? dottedOnce(node) : null;
}
