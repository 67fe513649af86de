/** One parsed Python source: text, syntax tree and import table, re-parsed incrementally on edits. */
import type { Parser, Tree, Node } from 'web-tree-sitter';
import { Edit } from 'web-tree-sitter';
import type { SourceEdit } from '../api';
import { ImportTable } from './imports';

export class PyFile {
  private constructor(
    readonly path: string,
    readonly text: string,
    readonly tree: Tree,
    readonly imports: ImportTable,
  ) {}

  get root(): Node {
    return this.tree.rootNode;
  }

  /** Parses `text`; with `previous` and `edit`, re-parses incrementally from the previous tree. */
  static parse(parser: Parser, path: string, text: string, previous?: PyFile, edit?: SourceEdit): PyFile {
    let oldTree: Tree | null = null;
    if (previous && edit) {
      oldTree = previous.tree;
      oldTree.edit(new Edit(edit));
    }
    const tree = parser.parse(text, oldTree ?? undefined);
    if (!tree) throw new Error(`could not parse ${path}`);
    return new PyFile(path, text, tree, ImportTable.fromTree(tree.rootNode));
  }

  /** Frees the wasm memory of the tree. */
  dispose(): void {
    this.tree.delete();
  }
}
