/**
 * Reading a web-tree-sitter TreeCursor without the binding's copying. Each TreeCursor getter of the JS
 * binding first copies the cursor into the wasm side's transfer buffer (four setValue calls) and each
 * move copies it back out: three quarters of the time of reading a node's children. The wasm functions
 * those getters call read the cursor from that buffer, and moves leave the moved cursor there, so a pass
 * of reads and moves needs the copy once at each end: the binding's own call in (gotoDescendant), and
 * `settle` out. The functions are the binding's, taken from the Emscripten module object (which is the
 * options object given to Parser.init); null where that object did not become the module (another
 * Parser.init came first), and the readers then use the binding's getters.
 */
import type { TreeCursor } from 'web-tree-sitter';

/** The wasm functions the binding's TreeCursor getters call, each taking the tree's address. */
interface CursorExports {
  _ts_init(): number;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_named_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_current_descendant_index_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
  getValue(address: number, type: 'i32'): number;
}

const EXPORTS = ['_ts_init', '_ts_tree_cursor_current_node_type_id_wasm', '_ts_tree_cursor_current_node_is_named_wasm', '_ts_tree_cursor_current_field_id_wasm', '_ts_tree_cursor_current_descendant_index_wasm', '_ts_tree_cursor_start_index_wasm', '_ts_tree_cursor_end_index_wasm', '_ts_tree_cursor_goto_first_child_wasm', '_ts_tree_cursor_goto_next_sibling_wasm', '_ts_tree_cursor_goto_parent_wasm', 'getValue'] as const;

/**
 * A cursor's state as the binding keeps it: four words (the entry stack's address, size, capacity, and
 * the root's alias), in its `handles`, which its finalizer reads too (web-tree-sitter 0.27.2).
 */
const CURSOR_WORDS = 4;

/** Reads of the cursor whose state is in the transfer buffer (see the top of this file), of the tree at `tree` (its wasm address). */
export class CursorCalls {
  private readonly buffer: number;

  private constructor(private readonly wasm: CursorExports) {
    // ts_init only writes the library's version into the buffer and returns its address.
    this.buffer = wasm._ts_init();
  }

  /** The calls of an initialized Emscripten module object; null if it lacks any of them. */
  static of(module: object): CursorCalls | null {
    const found = module as Partial<Record<(typeof EXPORTS)[number], unknown>>;
    return EXPORTS.every((name) => typeof found[name] === 'function') ? new CursorCalls(module as CursorExports) : null;
  }

  typeId(tree: number): number {
    return this.wasm._ts_tree_cursor_current_node_type_id_wasm(tree);
  }

  isNamed(tree: number): boolean {
    return this.wasm._ts_tree_cursor_current_node_is_named_wasm(tree) === 1;
  }

  fieldId(tree: number): number {
    return this.wasm._ts_tree_cursor_current_field_id_wasm(tree);
  }

  descendantIndex(tree: number): number {
    return this.wasm._ts_tree_cursor_current_descendant_index_wasm(tree);
  }

  startIndex(tree: number): number {
    return this.wasm._ts_tree_cursor_start_index_wasm(tree);
  }

  endIndex(tree: number): number {
    return this.wasm._ts_tree_cursor_end_index_wasm(tree);
  }

  gotoFirstChild(tree: number): boolean {
    return this.wasm._ts_tree_cursor_goto_first_child_wasm(tree) === 1;
  }

  gotoNextSibling(tree: number): boolean {
    return this.wasm._ts_tree_cursor_goto_next_sibling_wasm(tree) === 1;
  }

  gotoParent(tree: number): boolean {
    return this.wasm._ts_tree_cursor_goto_parent_wasm(tree) === 1;
  }

  /**
   * Copies the moved cursor back into `cursor` (as the binding does after each of its moves): a move may
   * have grown the entry stack to a new address, which the binding's next call must pass in.
   */
  settle(cursor: TreeCursor): void {
    const { handles } = cursor as unknown as { handles: number[] };
    for (let i = 0; i < CURSOR_WORDS; i++) handles[i] = this.wasm.getValue(this.buffer + 4 * i, 'i32');
  }
}

/** The wasm address of a web-tree-sitter Tree (the binding keeps it at index 0, as it does a cursor's words). */
export function treeAddress(tree: object): number {
  return (tree as unknown as readonly number[])[0]!;
}
