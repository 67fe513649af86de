/**
 * The syntax tree as the readers see it: plain JS nodes with the part of web-tree-sitter's Node API
 * they use, read from the wasm tree once. Every web-tree-sitter Node access (type, a field, the
 * children, the text) crosses into wasm and allocates a new Node object, and the readers (evaluator,
 * Keras and torch readers, training readers, rules' edits) revisit the same nodes many times. Here a
 * node's children are read on first access, in one TreeCursor pass (type, field, span, id), and kept;
 * everything after that is plain JS. The module's children are read with their own children, and below
 * those the first access reads the whole subtree in that pass (see Node.children). Subtrees no reader
 * enters are never read.
 */
import type { Node as WasmNode, Point, Tree, TreeCursor } from 'web-tree-sitter';
import { lineStarts, offsetOfPoint, pointAt } from '../rules/helpers/text-offsets';
import { treeAddress, type CursorCalls } from './cursor-calls';
import { callsInText, type CallsInText, type OffsetsByWord } from './text-words';
import { cursorCalls } from './parser';

/** The last node id given (ids are unique in the process: nodes of several files meet in one analysis). */
let lastId = 0;

/** A memo slot not computed yet (a derived value may be null or undefined). */
const NOT_DERIVED = Symbol('not derived');

/** The memo slots taken (Node.memo). */
let memoSlots = 0;

/** A slot of Node.memo for one derivation, taken once (at module load) per derivation. */
export function memoSlot(): number {
  return memoSlots++;
}

/** One parsed text's nodes, read lazily from its web-tree-sitter tree. */
export class SyntaxTree {
  readonly rootNode: Node;
  /** The language's node type and field names, by id. */
  readonly fields: (string | null)[];
  private readonly types: string[];
  private cursorAtRoot: TreeCursor | null = null;
  /**
   * A cursor rooted at one top-level statement (`statement`), for the nodes below it: a cursor finds a
   * descendant by stepping over the siblings on the way down from its root, and a long file's root has
   * hundreds of children. Moved to another statement when a node under it is read.
   */
  private statementCursor: TreeCursor | null = null;
  private statement: Node | null = null;
  /** The descendant index (in the whole tree) of the root of the cursor moveTo last returned. */
  cursorBase = 0;
  private starts: readonly number[] | null = null;
  private calls_: CallsInText | null = null;
  /** Whether a node type (by id) is named: fixed per visible symbol, read once per type. */
  private readonly namedByType = new Map<number, boolean>();
  /** Direct cursor reads (cursor-calls.ts) and the tree's wasm address they take; null: the binding's getters. */
  readonly calls: CursorCalls | null;
  readonly address: number;

  constructor(
    readonly wasm: Tree,
    /** The text the tree was parsed from (node text and positions are read from it). */
    readonly source: string,
    calls: CursorCalls | null = cursorCalls(),
  ) {
    const root = wasm.rootNode;
    this.types = wasm.language.types;
    this.fields = wasm.language.fields;
    this.calls = calls;
    this.address = treeAddress(wasm);
    this.rootNode = new Node(this, null, 0, this.typeName(root.typeId), root.isNamed, null, root.startIndex, root.endIndex);
  }

  /** The type name of a type id, as web-tree-sitter names it. */
  typeName(typeId: number): string {
    return this.types[typeId] ?? 'ERROR';
  }

  /** A cursor over the whole tree (nodes are addressed by their descendant index from the root). */
  cursor(): TreeCursor {
    return (this.cursorAtRoot ??= this.wasm.walk());
  }

  /**
   * A cursor moved to `node` (its state left in the transfer buffer, see cursor-calls.ts): the root's, or
   * one rooted at the top-level statement holding `node`, whose descendant indices start at cursorBase.
   */
  moveTo(node: Node): TreeCursor {
    let top = node;
    while (top.parent?.parent) top = top.parent;
    // The root and the statements themselves (read in passes over all statements): from the root.
    if (top === node) {
      const cursor = this.cursor();
      cursor.gotoDescendant(node.descendantIndex);
      this.cursorBase = 0;
      return cursor;
    }
    let cursor = this.statementCursor;
    if (!cursor || this.statement !== top) {
      const root = this.cursor();
      root.gotoDescendant(top.descendantIndex);
      const statement = root.currentNode;
      if (cursor) cursor.reset(statement);
      else this.statementCursor = cursor = statement.walk();
      this.statement = top;
    }
    cursor.gotoDescendant(node.descendantIndex - top.descendantIndex);
    this.cursorBase = top.descendantIndex;
    return cursor;
  }

  /** Frees the cursors (the tree itself belongs to its PyFile). */
  dispose(): void {
    this.cursorAtRoot?.delete();
    this.cursorAtRoot = null;
    this.statementCursor?.delete();
    this.statementCursor = null;
    this.statement = null;
  }

  /** Row and column (UTF-16 code units, as web-tree-sitter gives them for a JS string) of an offset. */
  position(index: number): Point {
    return pointAt((this.starts ??= lineStarts(this.source)), index);
  }

  /** The offset of a row and column (the inverse of position). */
  index(point: Point): number {
    return offsetOfPoint((this.starts ??= lineStarts(this.source)), point);
  }

  /** The calls written in the source (callsInText), found once for all readers that look calls up by name. */
  private get writtenCalls(): CallsInText {
    return (this.calls_ ??= callsInText(this.source));
  }

  /** The words written before a `(`, by word: a question about a few names reads only theirs, not every call of the file. */
  get writtenCallWords(): OffsetsByWord {
    return this.writtenCalls.words;
  }

  /** The names (plain or dotted) called, by name. */
  get writtenCallNames(): OffsetsByWord {
    return this.writtenCalls.names;
  }

  /** Whether nodes of a type are named, asked of `at` (a cursor at such a node) the first time. */
  isNamedType(typeId: number, at: { isNamed(): boolean }): boolean {
    let named = this.namedByType.get(typeId);
    if (named === undefined) this.namedByType.set(typeId, (named = at.isNamed()));
    return named;
  }
}

/** A node's named children and those without comments, when the two differ (see Node.lists). */
interface NamedLists {
  named: readonly Node[];
  code: readonly Node[];
}

/**
 * A syntax node: web-tree-sitter's Node API (the part the readers use) over plain JS data. A model-dense
 * 5,000-line file makes ~66,000 nodes that live as long as the analysis, and the collector copies each:
 * few fields (what follows from others is computed, rarely asked values are computed when asked) and
 * arrays of their exact size.
 */
export class Node {
  /** Given when first asked (0: not yet): few nodes are asked, so ids stay small numbers over a long session. */
  private idValue = 0;
  private kids: readonly Node[] | null = null;
  /** The named children and those without comments: one list when they are the same (nearly always); null until asked. */
  private lists: readonly Node[] | NamedLists | null = null;
  /** Values derived from this node (memo), by slot; null until one is kept. */
  private memos: unknown[] | null = null;

  constructor(
    readonly tree: SyntaxTree,
    readonly parent: Node | null,
    /** The node's index in a depth-first walk of the whole tree (anonymous nodes counted), to find it again. */
    readonly descendantIndex: number,
    readonly type: string,
    readonly isNamed: boolean,
    /** The field this node is in its parent, if any (a field, not looked up: childForFieldName compares it ~10^5 times per analysis). */
    readonly fieldName: string | null,
    readonly startIndex: number,
    readonly endIndex: number,
  ) {}

  /** Unique in the process (see lastId). */
  get id(): number {
    return this.idValue || (this.idValue = ++lastId);
  }

  /**
   * `derive(this)`, computed once: `slot` (memoSlot's) names the derivation. Kept on the node, not in a
   * WeakMap by node: a model-dense file asks ~10^5 times.
   */
  memo<T>(slot: number, derive: (node: Node) => T): T {
    const memos = (this.memos ??= emptyMemos());
    while (memos.length <= slot) memos.push(NOT_DERIVED);
    const known = memos[slot];
    if (known !== NOT_DERIVED) return known as T;
    const value = derive(this);
    memos[slot] = value;
    return value;
  }

  get text(): string {
    return this.tree.source.slice(this.startIndex, this.endIndex);
  }

  /** Computed when asked (a binary search of the line starts): few nodes are asked, and two cached points were two fields on every node. */
  get startPosition(): Point {
    return this.tree.position(this.startIndex);
  }

  get endPosition(): Point {
    return this.tree.position(this.endIndex);
  }

  /**
   * All children, anonymous ones included. The module's are read with their own parts (a definition's
   * name, parameters, body), in one pass: most readers ask every definition its name and no more, and
   * a cursor move to each of a long file's statements (with the binding's copies of the cursor in and
   * out of wasm, and the move itself stepping over the statements before it) cost more than reading
   * them. Readers that enter a statement's part go on down through it (evaluating a function reads
   * nearly all of its nodes), so below that depth a node's whole subtree is read in one pass.
   */
  get children(): readonly Node[] {
    if (this.kids) return this.kids;
    const keep = (parent: Node, children: readonly Node[]) => (parent.kids = children);
    return (this.kids = this.parent ? readSubtree(this, keep) : readLevels(this, 2, keep));
  }

  get namedChildren(): readonly Node[] {
    const lists = this.lists ?? this.readLists();
    return isNodeList(lists) ? lists : lists.named;
  }

  /** The named children but comments and line continuations (what readers of code walk). */
  get namedChildrenWithoutComments(): readonly Node[] {
    const lists = this.lists ?? this.readLists();
    return isNodeList(lists) ? lists : lists.code;
  }

  private readLists(): readonly Node[] | NamedLists {
    const named = namedOf(this.children);
    const code = withoutComments(named);
    return (this.lists = code === named ? named : { named, code });
  }

  get childCount(): number {
    return this.children.length;
  }

  get namedChildCount(): number {
    return this.namedChildren.length;
  }

  get firstNamedChild(): Node | null {
    return this.namedChildren[0] ?? null;
  }

  child(index: number): Node | null {
    return this.children[index] ?? null;
  }

  namedChild(index: number): Node | null {
    return this.namedChildren[index] ?? null;
  }

  childForFieldName(name: string): Node | null {
    // An index, not for-of: asked ~10^5 times per analysis of a model-dense file, from call sites too
    // many for V8 to inline the array iterator away, each call allocated one.
    const children = this.children;
    for (let i = 0; i < children.length; i++) if (children[i]!.fieldName === name) return children[i]!;
    return null;
  }

  childrenForFieldName(name: string): readonly Node[] {
    return this.children.filter((c) => c.fieldName === name);
  }

  get isError(): boolean {
    return this.type === 'ERROR';
  }

  /** Rarely asked (syntax checks, the editor's statement groups): read from the wasm node. */
  get hasError(): boolean {
    return this.wasmNode().hasError;
  }

  get isMissing(): boolean {
    return this.wasmNode().isMissing;
  }

  equals(other: Node): boolean {
    return this === other || (this.tree === other.tree && this.id === other.id);
  }

  /** A web-tree-sitter cursor at this node (for readers that walk with one). */
  walk(): TreeCursor {
    return this.wasmNode().walk();
  }

  /**
   * The smallest node (anonymous ones included) that spans `start`..`end`, as web-tree-sitter's
   * descendantForIndex (ts_node_descendant_for_byte_range) finds it, over the children read here.
   */
  descendantForIndex(start: number, end: number = start): Node | null {
    return descendantSpanning(this, start, end);
  }

  /** descendantForIndex at a row and column. */
  descendantForPosition(point: Point): Node | null {
    const index = this.tree.index(point);
    return this.descendantForIndex(index, index);
  }

  /** The descendants (this node included) of the given types, depth first. */
  descendantsOfType(types: string | string[]): Node[] {
    const wanted = typeof types === 'string' ? [types] : types;
    const found: Node[] = [];
    const visit = (n: Node): void => {
      if (wanted.includes(n.type)) found.push(n);
      for (const c of n.children) visit(c);
    };
    visit(this);
    return found;
  }

  private wasmNode(): WasmNode {
    const cursor = this.tree.cursor();
    cursor.gotoDescendant(this.descendantIndex);
    return cursor.currentNode;
  }
}

/** The children of a leaf (one array for all: the node arrays are read-only). */
const NO_NODES: readonly Node[] = Object.freeze([]);

/**
 * The named children of `all`: `all` itself when they all are, as they mostly are (the analysis of a
 * model-dense file makes ~64,000 nodes, each asked for these lists). Loops, not every/filter with a
 * callback: this runs once per node read.
 */
function namedOf(all: readonly Node[]): readonly Node[] {
  for (let i = 0; i < all.length; i++) if (!all[i]!.isNamed) return nodesWhere(all, isNamedNode);
  return all;
}

/**
 * The nodes of `all` but comments and line continuations (a `\\` ending a line inside a call's
 * parentheses is a node of the grammar's, not an argument): `all` itself when it holds none (see namedOf).
 */
function withoutComments(all: readonly Node[]): readonly Node[] {
  for (let i = 0; i < all.length; i++) if (!isCode(all[i]!)) return nodesWhere(all, isCode);
  return all;
}

const isNamedNode = (node: Node): boolean => node.isNamed;
const isCode = (node: Node): boolean => node.type !== 'comment' && node.type !== 'line_continuation';

/** The nodes of `all` that `keep` accepts, in an array of their number (filter's, grown by push, keeps room for 17: see readSubtree). */
function nodesWhere(all: readonly Node[], keep: (node: Node) => boolean): readonly Node[] {
  let count = 0;
  for (let i = 0; i < all.length; i++) if (keep(all[i]!)) count++;
  const kept = new Array<Node>(count);
  for (let i = 0, k = 0; i < all.length; i++) if (keep(all[i]!)) kept[k++] = all[i]!;
  return kept;
}

/** A node's memo with a slot for each derivation, of its exact size (see nodesWhere). */
function emptyMemos(): unknown[] {
  const memos = new Array<unknown>(memoSlots);
  for (let i = 0; i < memoSlots; i++) memos[i] = NOT_DERIVED;
  return memos;
}

function isNodeList(lists: readonly Node[] | NamedLists): lists is readonly Node[] {
  return Array.isArray(lists);
}

/**
 * A cursor's moves and reads: the direct calls (cursor-calls.ts) or the binding's getters, which answer
 * the same. `finish` ends a pass of moves (the direct calls leave the moved cursor in the transfer buffer).
 */
interface CursorWalk {
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
  typeId(): number;
  isNamed(): boolean;
  fieldId(): number;
  /** The descendant index relative to the cursor's root. */
  descendantIndex(): number;
  startIndex(): number;
  endIndex(): number;
  finish(): void;
}

/** A walk of `cursor` (just moved by the binding, so its state is in the transfer buffer) with the direct calls. */
function directWalk(calls: CursorCalls, at: number, cursor: TreeCursor): CursorWalk {
  return {
    gotoFirstChild: () => calls.gotoFirstChild(at),
    gotoNextSibling: () => calls.gotoNextSibling(at),
    gotoParent: () => calls.gotoParent(at),
    typeId: () => calls.typeId(at),
    isNamed: () => calls.isNamed(at),
    fieldId: () => calls.fieldId(at),
    descendantIndex: () => calls.descendantIndex(at),
    startIndex: () => calls.startIndex(at),
    endIndex: () => calls.endIndex(at),
    finish: () => {
      calls.settle(cursor);
    },
  };
}

/** A walk of `cursor` with the binding's getters. */
function bindingWalk(cursor: TreeCursor): CursorWalk {
  return {
    gotoFirstChild: () => cursor.gotoFirstChild(),
    gotoNextSibling: () => cursor.gotoNextSibling(),
    gotoParent: () => cursor.gotoParent(),
    typeId: () => cursor.nodeTypeId,
    isNamed: () => cursor.nodeIsNamed,
    fieldId: () => cursor.currentFieldId,
    descendantIndex: () => cursor.currentDescendantIndex,
    startIndex: () => cursor.startIndex,
    endIndex: () => cursor.endIndex,
    finish: () => {
      // The binding keeps its cursor's state itself.
    },
  };
}

/** A walk of the tree's cursor moved to `node`, and the descendant index (in the whole tree) of that cursor's root. */
function walkAt(node: Node): { walk: CursorWalk; base: number } {
  const tree = node.tree;
  const cursor = tree.moveTo(node);
  return { walk: tree.calls ? directWalk(tree.calls, tree.address, cursor) : bindingWalk(cursor), base: tree.cursorBase };
}

/**
 * The children of `node` and, for `levels` above 1, that many levels below them (each node's children
 * handed to `keep`), in one cursor pass; deeper subtrees are left unread (leaves at the deepest level
 * are handed to `keep` with no children).
 */
function readLevels(node: Node, levels: number, keep: (parent: Node, children: readonly Node[]) => void): readonly Node[] {
  const tree = node.tree;
  const { walk, base } = walkAt(node);
  // Each node's children are read into `pending` after those of the levels above, then copied out (see readSubtree).
  const pending: Node[] = [];
  let top = 0;
  const read = (parent: Node, levelsLeft: number): readonly Node[] => {
    if (!walk.gotoFirstChild()) return NO_NODES;
    const start = top;
    do {
      const typeId = walk.typeId();
      const child = new Node(tree, parent, base + walk.descendantIndex(), tree.typeName(typeId), tree.isNamedType(typeId, walk), tree.fields[walk.fieldId()] ?? null, walk.startIndex(), walk.endIndex());
      pending[top++] = child;
      if (levelsLeft > 1) keep(child, read(child, levelsLeft - 1));
      // A leaf at the deepest level is known to be one (two calls here): asked for its children (a
      // descendantForIndex passing through, a word's name), it would otherwise move a cursor to itself.
      else if (walk.gotoFirstChild()) walk.gotoParent();
      else keep(child, NO_NODES);
    } while (walk.gotoNextSibling());
    walk.gotoParent();
    const children = pending.slice(start, top);
    top = start;
    return children;
  };
  const children = read(node, levels);
  walk.finish();
  return children;
}

/** A node's type and span, without a Node made for it. */
export interface NodeSpan {
  type: string;
  startIndex: number;
  endIndex: number;
}

/**
 * The types and spans of `node`'s children, in one cursor pass that makes no Node: the statement groups
 * list a long module's statements on every edit (a new tree), where reading them through the binding's
 * cursor getters cost 0.7 ms for a 5,000-line file.
 */
export function childSpans(node: Node): NodeSpan[] {
  const tree = node.tree;
  const { walk } = walkAt(node);
  const out: NodeSpan[] = [];
  if (walk.gotoFirstChild()) {
    do out.push({ type: tree.typeName(walk.typeId()), startIndex: walk.startIndex(), endIndex: walk.endIndex() });
    while (walk.gotoNextSibling());
    walk.gotoParent();
  }
  walk.finish();
  return out;
}

/**
 * Every node below `node`, in one depth-first cursor pass, each node's children handed to `keep`; returns
 * `node`'s children. A walk in preorder meets the nodes in descendant-index order, so each index is the
 * one before it plus one.
 */
function readSubtree(node: Node, keep: (parent: Node, children: readonly Node[]) => void): readonly Node[] {
  const tree = node.tree;
  const { walk } = walkAt(node);
  if (!walk.gotoFirstChild()) {
    walk.finish();
    return NO_NODES;
  }
  // The children read so far of the node being read (`parent`) and of each of its ancestors below `node`,
  // in one list (`pending[0, top)`), each node's run starting at its entry of `starts`; a node's children
  // are copied out of it when its last child is read. An array per node grown by push would keep room
  // for 17 (V8's first growth) where most nodes have 1 to 3, and they live as long as the tree.
  const pending: Node[] = [];
  let top = 0;
  const starts: number[] = [0];
  let parent = node;
  let index = node.descendantIndex;
  for (;;) {
    const typeId = walk.typeId();
    const child = new Node(tree, parent, ++index, tree.typeName(typeId), tree.isNamedType(typeId, walk), tree.fields[walk.fieldId()] ?? null, walk.startIndex(), walk.endIndex());
    pending[top++] = child;
    if (walk.gotoFirstChild()) {
      starts.push(top);
      parent = child;
      continue;
    }
    keep(child, NO_NODES);
    while (!walk.gotoNextSibling()) {
      // Never empty here: the walk returns once it pops the first run (`node`'s children).
      const start = starts.pop() ?? 0;
      const children = pending.slice(start, top);
      top = start;
      if (starts.length === 0) {
        walk.finish();
        return children;
      }
      keep(parent, children);
      parent = parent.parent ?? node;
      walk.gotoParent();
    }
  }
}

/**
 * The index of the first of `nodes` (siblings, in source order: their ends never decrease) that ends at
 * or after `end`; nodes.length if none does. A binary search: a long file's module has a thousand
 * children, and a scan of them per lookup is quadratic in the file's length.
 */
function firstEndingAtOrAfter(nodes: readonly Node[], end: number): number {
  let low = 0;
  let high = nodes.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (nodes[middle]!.endIndex < end) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** descendantForIndex from `from`: down through the first child that spans the range, while one does. */
function descendantSpanning(from: Node, start: number, end: number): Node {
  let node = from;
  for (;;) {
    let next: Node | null = null;
    const children = node.children;
    // The children before it end before `end`: the loop would pass them all over.
    for (let i = firstEndingAtOrAfter(children, end); i < children.length; i++) {
      const c = children[i]!;
      // An empty node touching the start counts; others must extend past it.
      if (c.startIndex === c.endIndex ? c.endIndex < start : c.endIndex <= start) continue;
      if (start < c.startIndex) break;
      next = c;
      break;
    }
    if (!next) return node;
    node = next;
  }
}
