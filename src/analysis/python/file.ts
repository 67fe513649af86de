/** One parsed Python source: text, syntax tree and import table, re-parsed incrementally on edits. */
import type { Parser, Point, Tree } from 'web-tree-sitter';
import { Edit } from 'web-tree-sitter';
import type { SourceEdit } from '../api';
import { ImportTable } from './imports';
import { SyntaxTree, type Node } from './syntax-tree';
import { carriedStatements, carryStatements, carryStatementsAround, knowStatements, movedAfter, topLevelStatements, type TopLevelStatement } from './top-level';
import { carryLineStarts, lineStarts, offsetOfPoint, pointAt } from '../rules/helpers/text-offsets';

/** Top-level statements an edit inside which leaves the import table as it was, unless it edits what the table reads. */
const DEFINITIONS: ReadonlySet<string> = new Set(['function_definition', 'class_definition', 'decorated_definition']);

/** The top-level definition an edit lies inside (before the edit), and its index among the top-level statements. */
interface EditedDefinition {
  index: number;
  statement: TopLevelStatement;
}

/** A part of a text the parser reads (UTF-16 offsets and positions, as web-tree-sitter takes them). */
export interface SliceRange {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

/**
 * A version parsed only in part (see PyFile.parse): the tree of an earlier version, edited to this text
 * and parsed again when something reads this one's nodes, and the statements, known without it.
 */
interface Deferred {
  parser: Parser;
  /** The last tree parsed, told every edit since (owned here until handed on or parsed from). */
  base: Tree;
  statements: readonly TopLevelStatement[];
  /** The module's last row. */
  endRow: number;
  /** The edited statement parsed by itself, at its place in the text, and its index among the statements (null: blank lines were edited). */
  alone: { index: number; tree: Tree; syntax: SyntaxTree } | null;
}

export class PyFile {
  readonly imports: ImportTable;
  private tree_: Tree | null;
  private syntax_: SyntaxTree | null = null;
  private deferred: Deferred | null;
  /** Whether the tree went to the file's next version (which edits it and parses from it): not deleted here. */
  private treeGiven = false;
  /** Whether the tree was told a later version's edit: a deferred parse of this text can no longer be done. */
  private treeEdited = false;
  /** Whether the version was made without a parse of the whole file (see parsedInPart). */
  private readonly inPart: boolean;
  private starts: readonly number[] | null = null;

  private constructor(
    readonly path: string,
    readonly text: string,
    tree: Tree | null,
    /**
     * The text of the whole file: `text` itself, except for a slice of a file (analysis/units.ts), where
     * `text` keeps only some statements. Patterns searched anywhere in the file are searched here.
     */
    readonly wholeText: string = text,
    /** The previous version's table when an edit left it as it was (see PyFile.parse); null: build it. */
    imports: ImportTable | ((root: Node) => ImportTable | null) = () => null,
    deferred: Deferred | null = null,
  ) {
    this.tree_ = tree;
    this.deferred = deferred;
    this.inPart = deferred !== null;
    this.imports = imports instanceof ImportTable ? imports : (imports(this.root) ?? ImportTable.fromTree(this.root));
  }

  /** The web-tree-sitter tree (a deferred parse is done now). */
  get tree(): Tree {
    return this.tree_ ?? this.settle();
  }

  /** The nodes the readers read (syntax-tree.ts), over `tree`. */
  get syntax(): SyntaxTree {
    return (this.syntax_ ??= new SyntaxTree(this.tree, this.text));
  }

  get root(): Node {
    return this.syntax.rootNode;
  }

  /** The top-level statements (topLevelStatements), known without parsing a deferred version. */
  get statements(): readonly TopLevelStatement[] {
    return this.deferred?.statements ?? topLevelStatements(this.root);
  }

  /** Whether the tree holds a syntax error (a deferred version never does: see PyFile.parse). */
  get hasError(): boolean {
    return this.deferred ? false : this.root.hasError;
  }

  /** The module's last row. */
  get endRow(): number {
    return this.deferred?.endRow ?? this.root.endPosition.row;
  }

  /** Row and column of an offset of `text`, as the tree's nodes give them. */
  position(index: number): Point {
    return pointAt(this.lineStarts(), index);
  }

  /** The offset of a row and column of `text`. */
  index(point: Point): number {
    return offsetOfPoint(this.lineStarts(), point);
  }

  /** The text's line starts, kept with the version (lineStarts' own cache holds two texts, and slices take turns there). */
  private lineStarts(): readonly number[] {
    return (this.starts ??= lineStarts(this.text));
  }

  /** The edited statement of a deferred version, parsed by itself (its index, and its module's node); null otherwise. */
  get editedAlone(): { index: number; root: Node } | null {
    const alone = this.deferred?.alone;
    return alone ? { index: alone.index, root: alone.syntax.rootNode } : null;
  }

  /**
   * Whether this version was made without a parse of the whole file (which is done when its nodes are
   * read): it then holds no syntax error and no Python 2 statement that the version before did not.
   */
  get parsedInPart(): boolean {
    return this.inPart;
  }

  /** Parses a deferred version now: from the earlier tree, told every edit since. */
  private settle(): Tree {
    const d = this.deferred;
    if (!d) throw new Error(`${this.path}: a version has neither a tree nor a deferred parse`);
    if (this.treeEdited) throw new Error(`${this.path}: a version's nodes were read after the next version was parsed from its tree`);
    const tree = d.parser.parse(this.text, d.base);
    if (!tree) throw new Error(`could not parse ${this.path}`);
    this.tree_ = tree;
    this.deferred = null;
    d.base.delete();
    d.alone?.syntax.dispose();
    d.alone?.tree.delete();
    knowStatements(this.root, d.statements);
    return tree;
  }

  /** The tree the next version is parsed from (told its edit first): this one's, or a deferred version's earlier one. */
  private treeToEdit(): Tree {
    // A version is the one before one version only: its tree takes that version's edit.
    if (this.treeEdited) throw new Error(`${this.path}: a version was edited twice`);
    this.treeEdited = true;
    const tree = this.tree_ ?? this.deferred?.base;
    if (!tree) throw new Error(`${this.path}: a version has neither a tree nor a deferred parse`);
    return tree;
  }

  /** Parses `text`; with `previous` and `edit`, re-parses incrementally from the previous tree. */
  static parse(parser: Parser, path: string, text: string, previous?: PyFile, edit?: SourceEdit): PyFile {
    let oldTree: Tree | null = null;
    let edited: EditedDefinition | null = null;
    let gap: BlankGap | null = null;
    if (previous && edit) {
      // Read before the old tree takes the edit: its positions are then those of the new text.
      edited = editedDefinition(previous, edit);
      gap = edited ? null : blankGap(previous, edit, text);
      oldTree = previous.treeToEdit();
      oldTree.edit(new Edit(reusableEdit(previous, edit)));
      carryLineStarts(previous.text, text, edit);
      const deferred = edited ? PyFile.deferred(parser, path, text, previous, oldTree, edit, edited) : gap ? PyFile.deferredGap(parser, path, text, previous, oldTree, edit, gap) : null;
      if (deferred) return deferred;
    }
    const tree = parser.parse(text, oldTree ?? undefined);
    if (!tree) throw new Error(`could not parse ${path}`);
    if (!previous || !edit || !oldTree) return new PyFile(path, text, tree);
    if (!edited) {
      if (!gap) return new PyFile(path, text, tree);
      // Blank space typed or deleted between two statements: the same statements and imports, those below
      // moved. As many top-level nodes as before: no comment between them turned into code or back.
      const top = tree.rootNode;
      const nodeAt = (index: number) => (top.hasError || top.childCount !== oldTree.rootNode.childCount ? null : top.firstChildForIndex(index));
      const rows = edit.newEndPosition.row - edit.oldEndPosition.row;
      const { next, statements, firstMovedRow } = gap;
      return new PyFile(path, text, tree, text, (root) => (carryStatementsAround(root, nodeAt, next, statements, edit) ? previous.imports.movedBelow(firstMovedRow - 1, rows) : null));
    }
    const [table, before, site] = [previous.imports, oldTree, edited];
    // Rebuilding the table walked the whole file on every keystroke: 0.4 ms of the 2 ms parse of an edit of a 5,000-line file.
    return new PyFile(path, text, tree, text, (root) => {
      // The same top-level statements, the edited definition grown or shrunk by the edit (then carried over).
      const node = tree.rootNode.hasError ? null : tree.rootNode.firstChildForIndex(site.statement.startIndex);
      const same = node !== null && carryStatements(root, node, site.index, previous.statements, edit);
      const lines = same ? changedLines(text, previous.text.slice(edit.startIndex, edit.oldEndIndex), before, tree, edit, site) : null;
      return lines !== null && !table.couldChange(lines) ? table.movedBelow(edit.oldEndPosition.row, edit.newEndPosition.row - edit.oldEndPosition.row) : null;
    });
  }

  /** A slice of the file `wholeText`: `text` is it with only some statements kept (the rest blank lines). */
  static parseSlice(parser: Parser, path: string, text: string, ranges: SliceRange[], wholeText: string): PyFile {
    // Only the kept lines are read: the empty lines between them would cost the parser more than they say.
    const tree = parser.parse(text, null, { includedRanges: ranges });
    if (!tree) throw new Error(`could not parse ${path}`);
    return new PyFile(path, text, tree, wholeText);
  }

  /** Frees the wasm memory of the trees (not the one handed to the next version). */
  dispose(): void {
    this.syntax_?.dispose();
    const d = this.deferred;
    d?.alone?.syntax.dispose();
    d?.alone?.tree.delete();
    if (this.treeGiven) return;
    this.tree_?.delete();
    d?.base.delete();
  }

  /**
   * A version an edit inside one top-level definition made, parsed only in part (issue 10): the whole
   * file's tree is parsed again when something reads its nodes. Python's grammar makes tree-sitter step
   * through every top-level statement of the file when it parses an edit again (its repetition nodes are
   * fragile, and a statement's first token is lexed again: 0.5 ms per keystroke in a file of 946
   * statements, 1.3 ms in the editor), where most edits need only the statement edited: the statements
   * are carried (carriedStatements), the import table moved, and the edited statement parsed by itself
   * at its place. Null (parse it all) unless that statement parses alone as one statement of its kind, where
   * the edit leaves it, with no syntax error and no Python 2 statement, and the edit wrote or removed no
   * quote or backslash (which reach other lines).
   */
  /**
   * A version made by blank space typed or deleted between two top-level statements (Enter above a
   * definition), parsed when something reads its nodes: the same statements, those below moved, and the
   * same imports. Null (parse it all) unless the text between the two statements is blank: a comment or a
   * backslash there may change where they end.
   */
  private static deferredGap(parser: Parser, path: string, text: string, previous: PyFile, base: Tree, edit: SourceEdit, gap: BlankGap): PyFile | null {
    const [before, following] = [gap.statements[gap.next - 1], gap.statements[gap.next]];
    const shift = edit.newEndIndex - edit.oldEndIndex;
    if (!following || !BLANK.test(text.slice(before?.endIndex ?? 0, following.startIndex + shift))) return null;
    const rows = edit.newEndPosition.row - edit.oldEndPosition.row;
    const file = new PyFile(path, text, null, text, previous.imports.movedBelow(gap.firstMovedRow - 1, rows), { parser, base, statements: movedAfter(gap.statements, gap.next, edit), endRow: previous.endRow + rows, alone: null });
    previous.treeGiven = true;
    return file;
  }

  private static deferred(parser: Parser, path: string, text: string, previous: PyFile, base: Tree, edit: SourceEdit, site: EditedDefinition): PyFile | null {
    const removed = previous.text.slice(edit.startIndex, edit.oldEndIndex);
    if (REACHES_OTHER_LINES.test(removed) || REACHES_OTHER_LINES.test(text.slice(edit.startIndex, edit.newEndIndex))) return null;
    const start = site.statement.startIndex;
    const end = site.statement.endIndex + edit.newEndIndex - edit.oldEndIndex;
    const starts = lineStarts(text);
    const position = (offset: number) => pointAt(starts, offset);
    const tree = parser.parse(text, null, { includedRanges: [{ startIndex: start, endIndex: end, startPosition: position(start), endPosition: position(end) }] });
    if (!tree) return null;
    let kept = false;
    try {
      const top = tree.rootNode;
      const node = top.childCount === 1 ? top.firstChild : null;
      const statements = node && !top.hasError && node.descendantsOfType(PYTHON2_STATEMENTS).length === 0 ? carriedStatements(node, site.index, previous.statements, edit, position) : null;
      const lines = statements ? changedLines(text, removed, null, null, edit, site) : null;
      if (!statements || lines === null || previous.imports.couldChange(lines)) return null;
      const imports = previous.imports.movedBelow(edit.oldEndPosition.row, edit.newEndPosition.row - edit.oldEndPosition.row);
      const endRow = previous.endRow + edit.newEndPosition.row - edit.oldEndPosition.row;
      const file = new PyFile(path, text, null, text, imports, { parser, base, statements, endRow, alone: { index: site.index, tree, syntax: new SyntaxTree(tree, text) } });
      previous.treeGiven = true;
      kept = true;
      return file;
    } finally {
      // The statement's own tree goes with the version that keeps it, or now.
      if (!kept) tree.delete();
    }
  }
}

/** Statements only Python 2 has: a version holding one is parsed whole (its notice is the whole tree's). */
const PYTHON2_STATEMENTS = ['print_statement', 'exec_statement'];

/**
 * The edit as the parser is told it. Lines typed or deleted between two top-level statements (Enter
 * above a definition) are told as starting at the last line before them that is not blank: told as
 * they are, web-tree-sitter reused nothing after them (python's indentation scanner; a 5,000-line file
 * was parsed again from the edit on, 20-60 ms at mid-file), and told so, every later statement is
 * reused (~0.5 ms). The same change told over a wider span is the same change: the tree is the same.
 */
function reusableEdit(previous: PyFile, edit: SourceEdit): SourceEdit {
  if (previous.hasError) return edit;
  const statements = previous.statements;
  const next = statements.find((s) => s.endIndex > edit.startIndex);
  // Inside a statement (or reaching into one): told as it is (there, a wider edit can cost the reuse instead).
  if (next && next.startIndex < edit.oldEndIndex) return edit;
  const text = previous.text;
  const lineStart = text.lastIndexOf('\n', edit.startIndex - 1) + 1;
  // Typed at the end of a statement's last line: told as it is.
  if (text.slice(lineStart, edit.startIndex).trim() !== '') return edit;
  // Back over the blank lines (each ends at the line break before `end`), to the start of the line before them.
  let start = lineStart;
  while (start > 0) {
    const end = start - 1;
    start = end === 0 ? 0 : text.lastIndexOf('\n', end - 1) + 1;
    if (text.slice(start, end).trim() !== '') break;
  }
  if (start >= edit.startIndex) return edit;
  return { ...edit, startIndex: start, startPosition: previous.position(start) };
}

/**
 * The top-level statements before an edit that wrote and removed only blank space between two of them
 * (none on the rows it changed), the index of the one after it, and that one's first row; null otherwise.
 */
interface BlankGap {
  statements: readonly TopLevelStatement[];
  next: number;
  firstMovedRow: number;
}

function blankGap(previous: PyFile, edit: SourceEdit, text: string): BlankGap | null {
  if (previous.hasError) return null;
  if (!BLANK.test(previous.text.slice(edit.startIndex, edit.oldEndIndex)) || !BLANK.test(text.slice(edit.startIndex, edit.newEndIndex))) return null;
  const statements = previous.statements;
  const next = statements.findIndex((s) => s.startIndex >= edit.oldEndIndex);
  const following = statements[next];
  const before = statements[next - 1];
  if (!following || (before && before.endIndex > edit.startIndex)) return null;
  // Two statements on one row, or a statement moved along the row the edit ends on: its columns would change.
  if (before?.endRow === following.startRow || (following.startRow === edit.oldEndPosition.row && edit.oldEndPosition.column !== edit.newEndPosition.column)) return null;
  return { statements, next, firstMovedRow: following.startRow };
}

const BLANK = /^\s*$/;

/**
 * The top-level definition an edit lies strictly inside, past its first line, when the edited lines of
 * the old text hold no part of an import statement and nothing else the import table reads; null otherwise.
 */
function editedDefinition(previous: PyFile, edit: SourceEdit): EditedDefinition | null {
  // With syntax errors, an edit may move imports in or out of ERROR nodes anywhere.
  if (previous.hasError) return null;
  const statements = previous.statements;
  const index = statements.findIndex((s) => s.endIndex > edit.startIndex);
  const statement = statements[index];
  if (!statement || !DEFINITIONS.has(statement.type) || statement.startIndex >= edit.startIndex || edit.oldEndIndex >= statement.endIndex || edit.startPosition.row === statement.startRow) return null;
  if (previous.imports.importOnRows(edit.startPosition.row, edit.oldEndPosition.row)) return null;
  if (previous.imports.couldChange(wholeLines(previous.text, edit.startIndex, edit.oldEndIndex))) return null;
  return { index, statement };
}

/**
 * Characters whose typing or deletion can change how lines it does not touch are read: a quote opens
 * or closes a string that may span lines, a backslash joins the next line. (A `#` hides the rest of its
 * own line only; an unclosed bracket or a changed indentation makes the lines after it a syntax error,
 * or leaves every statement there a statement, which is what the import table reads.)
 */
const REACHES_OTHER_LINES = /['"\\]/;

/**
 * The lines of the new text the edit wrote and those whose syntax it changed (a quote opened or closed
 * turns later lines into a string or back); null when those reach past the edited definition. Only an
 * edit that wrote or removed a quote or a backslash asks the trees which ranges changed: that compares
 * the two trees' top levels, 0.6 ms per keystroke in a 5,000-line file of helper functions.
 */
function changedLines(text: string, removed: string, before: Tree | null, after: Tree | null, edit: SourceEdit, site: EditedDefinition): string | null {
  let from = edit.startIndex;
  let to = edit.newEndIndex;
  if (REACHES_OTHER_LINES.test(removed) || REACHES_OTHER_LINES.test(text.slice(from, to))) {
    if (!before || !after) return null;
    for (const range of before.getChangedRanges(after)) {
      from = Math.min(from, range.startIndex);
      to = Math.max(to, range.endIndex);
    }
  }
  const end = site.statement.endIndex + edit.newEndIndex - edit.oldEndIndex;
  return from < site.statement.startIndex || to > end ? null : wholeLines(text, from, to);
}

/** The lines of `text` that characters `from`..`to` lie on. */
function wholeLines(text: string, from: number, to: number): string {
  const end = text.indexOf('\n', to);
  return text.slice(text.lastIndexOf('\n', from - 1) + 1, end < 0 ? text.length : end);
}
