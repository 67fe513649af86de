/** One parsed Python source: text, syntax tree and import table, re-parsed incrementally on edits. */
import type { Parser, Tree } from 'web-tree-sitter';
import { Edit } from 'web-tree-sitter';
import type { SourceEdit } from '../api';
import { ImportTable } from './imports';
import { SyntaxTree, type Node } from './syntax-tree';

/** A part of a text the parser reads (UTF-16 offsets and positions, as web-tree-sitter takes them). */
export interface SliceRange {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

export class PyFile {
  readonly imports: ImportTable;
  /** The nodes the readers read (syntax-tree.ts), over `tree`. */
  readonly syntax: SyntaxTree;

  private constructor(
    readonly path: string,
    readonly text: string,
    readonly tree: Tree,
    /**
     * The text of the whole file: `text` itself, except for a slice of a file (analysis/units.ts), where
     * `text` keeps only some statements. Patterns searched anywhere in the file are searched here.
     */
    readonly wholeText: string = text,
  ) {
    this.syntax = new SyntaxTree(tree, text);
    this.imports = ImportTable.fromTree(this.syntax.rootNode);
  }

  get root(): Node {
    return this.syntax.rootNode;
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
    return new PyFile(path, text, tree);
  }

  /** A slice of the file `wholeText`: `text` is it with only some statements kept (the rest blank lines). */
  static parseSlice(parser: Parser, path: string, text: string, ranges: SliceRange[], wholeText: string): PyFile {
    // Only the kept lines are read: the empty lines between them would cost the parser more than they say.
    const tree = parser.parse(text, null, { includedRanges: ranges });
    if (!tree) throw new Error(`could not parse ${path}`);
    return new PyFile(path, text, tree, wholeText);
  }

  /** Frees the wasm memory of the tree. */
  dispose(): void {
    this.syntax.dispose();
    this.tree.delete();
  }
}
