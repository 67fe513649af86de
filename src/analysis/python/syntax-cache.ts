/**
 * Memoized access to syntax nodes for one evaluation (the one syntax cache of the core). Every web-tree-sitter node access (type, child,
 * field) crosses into wasm and allocates a new Node object; the interpreter revisits the same nodes
 * (loop bodies, methods called several times), so it reads them through this cache.
 */
import type { Node } from './syntax-tree';
import { callArguments, dottedName, missingField, type CallArguments } from './syntax';

/** What is read of one tree's nodes, by node id (ids are stable within a tree, not across trees). */
class TreeReads {
  readonly types = new Map<number, string>();
  readonly fields = new Map<number, Map<string, Node | null>>();
  readonly children = new Map<number, Node[]>();
  readonly dotted = new Map<number, string | null>();
}

/**
 * Per syntax tree, what every evaluation of it read: the Keras and torch readers (and a file's second
 * Keras read) walk the same module and functions, each crossing into wasm for the same nodes.
 */
const readsByTree = new WeakMap<object, TreeReads>();

export class SyntaxCache {
  /** The tree read last and its reads (almost every access is to the same tree as the one before). */
  private lastTree: object | null = null;
  private lastReads = new TreeReads();

  private readsOf(n: Node): TreeReads {
    const tree = n.tree as unknown as object;
    if (tree === this.lastTree) return this.lastReads;
    let reads = readsByTree.get(tree);
    if (!reads) readsByTree.set(tree, (reads = new TreeReads()));
    this.lastTree = tree;
    this.lastReads = reads;
    return reads;
  }

  type(n: Node): string {
    const types = this.readsOf(n).types;
    let t = types.get(n.id);
    if (t === undefined) types.set(n.id, (t = n.type));
    return t;
  }

  /** childForFieldName, memoized. */
  field(n: Node, name: string): Node | null {
    const fields = this.readsOf(n).fields;
    let perNode = fields.get(n.id);
    if (!perNode) fields.set(n.id, (perNode = new Map<string, Node | null>()));
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
    const children = this.readsOf(n).children;
    let k = children.get(n.id);
    if (!k) {
      k = n.namedChildren.filter((c) => this.type(c) !== 'comment');
      children.set(n.id, k);
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
    const dotted = this.readsOf(n).dotted;
    const known = dotted.get(n.id);
    if (known !== undefined) return known;
    const type = this.type(n);
    let name: string | null = null;
    if (type === 'identifier') name = n.text;
    else if (type === 'attribute') {
      const object = this.dottedName(this.field(n, 'object'));
      const attr = this.field(n, 'attribute');
      name = object && attr ? `${object}.${attr.text}` : null;
    }
    dotted.set(n.id, name);
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
