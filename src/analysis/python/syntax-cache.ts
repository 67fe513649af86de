/**
 * Memoized access to syntax nodes for one evaluation (the one syntax cache of the core). Every web-tree-sitter node access (type, child,
 * field) crosses into wasm and allocates a new Node object; the interpreter revisits the same nodes
 * (loop bodies, methods called several times), so it reads them through this cache.
 */
import type { Node } from 'web-tree-sitter';
import { callArguments, dottedName, missingField, type CallArguments } from './syntax';

export class SyntaxCache {
  private readonly types = new Map<number, string>();
  private readonly fields = new Map<number, Map<string, Node | null>>();
  private readonly children = new Map<number, Node[]>();
  private readonly dotted = new Map<number, string | null>();

  type(n: Node): string {
    let t = this.types.get(n.id);
    if (t === undefined) this.types.set(n.id, (t = n.type));
    return t;
  }

  /** childForFieldName, memoized. */
  field(n: Node, name: string): Node | null {
    let perNode = this.fields.get(n.id);
    if (!perNode) this.fields.set(n.id, (perNode = new Map<string, Node | null>()));
    let child = perNode.get(name);
    if (child === undefined) perNode.set(name, (child = n.childForFieldName(name)));
    return child;
  }

  /** field() the grammar always gives this node type; see requiredField. */
  required(n: Node, name: string): Node {
    const child = this.field(n, name);
    if (!child) throw missingField(n, name);
    return child;
  }

  /** field() of a node that may be absent. */
  fieldOf(n: Node | null | undefined, name: string): Node | null {
    return n ? this.field(n, name) : null;
  }

  /** Named children without comments, memoized. */
  kids(n: Node): Node[] {
    let k = this.children.get(n.id);
    if (!k) {
      k = n.namedChildren.filter((c) => this.type(c) !== 'comment');
      this.children.set(n.id, k);
    }
    return k;
  }

  /** The expression inside any parentheses. */
  unparen(n: Node): Node {
    let cur = n;
    while (this.type(cur) === 'parenthesized_expression') {
      const inner = this.kids(cur)[0];
      if (!inner) break;
      cur = inner;
    }
    return cur;
  }

  /** `a.b.c` as text for plain dotted names; null otherwise. */
  dottedName(n: Node | null | undefined): string | null {
    if (!n) return null;
    const known = this.dotted.get(n.id);
    if (known !== undefined) return known;
    const type = this.type(n);
    let name: string | null = null;
    if (type === 'identifier') name = n.text;
    else if (type === 'attribute') {
      const object = this.dottedName(this.field(n, 'object'));
      const attr = this.field(n, 'attribute');
      name = object && attr ? `${object}.${attr.text}` : null;
    }
    this.dotted.set(n.id, name);
    return name;
  }
}

/**
 * Reads memoized per syntax tree (for readers that do not hold a SyntaxCache of their own): node
 * objects are recreated on access, but node ids are stable within a tree.
 */
function oncePerTree<T>(read: (node: Node) => T): (node: Node) => T {
  // Boxed, so that a cached undefined or null reads as a hit.
  const caches = new WeakMap<object, Map<number, { value: T }>>();
  return (node) => {
    const tree = node.tree as unknown as object;
    let cache = caches.get(tree);
    if (!cache) caches.set(tree, (cache = new Map<number, { value: T }>()));
    const hit = cache.get(node.id);
    if (hit) return hit.value;
    const value = read(node);
    cache.set(node.id, { value });
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
