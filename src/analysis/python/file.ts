/** One parsed Python source: text, syntax tree and import table, re-parsed incrementally on edits. */
import type { Parser, Tree } from 'web-tree-sitter';
import { Edit } from 'web-tree-sitter';
import type { SourceEdit } from '../api';
import { ImportTable } from './imports';
import { SyntaxTree, type Node } from './syntax-tree';
import { carryStatements, carryStatementsAround, topLevelStatements, type TopLevelStatement } from './top-level';
import { carryLineStarts } from '../rules/helpers/text-offsets';

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
    /** The previous version's table when an edit left it as it was (see PyFile.parse); null: build it. */
    reusedImports: (root: Node) => ImportTable | null = () => null,
  ) {
    this.syntax = new SyntaxTree(tree, text);
    this.imports = reusedImports(this.syntax.rootNode) ?? ImportTable.fromTree(this.syntax.rootNode);
  }

  get root(): Node {
    return this.syntax.rootNode;
  }

  /** Parses `text`; with `previous` and `edit`, re-parses incrementally from the previous tree. */
  static parse(parser: Parser, path: string, text: string, previous?: PyFile, edit?: SourceEdit): PyFile {
    let oldTree: Tree | null = null;
    let edited: EditedDefinition | null = null;
    if (previous && edit) {
      // Read before the old tree takes the edit: its positions are then those of the new text.
      edited = editedDefinition(previous, edit);
      oldTree = previous.tree;
      oldTree.edit(new Edit(reusableEdit(previous, edit)));
    }
    const tree = parser.parse(text, oldTree ?? undefined);
    if (!tree) throw new Error(`could not parse ${path}`);
    if (previous && edit) carryLineStarts(previous.text, text, edit);
    if (!previous || !edit || !oldTree) return new PyFile(path, text, tree);
    if (!edited) {
      const gap = blankGap(previous, edit, text);
      if (!gap) return new PyFile(path, text, tree);
      // Blank space typed or deleted between two statements: the same statements and imports, those below
      // moved. As many top-level nodes as before: no comment between them turned into code or back.
      const top = tree.rootNode;
      const nodeAt = (index: number) => (top.hasError || top.childCount !== oldTree.rootNode.childCount ? null : top.firstChildForIndex(index));
      const rows = edit.newEndPosition.row - edit.oldEndPosition.row;
      return new PyFile(path, text, tree, text, (root) => (carryStatementsAround(root, nodeAt, gap.next, gap.statements, edit) ? previous.imports.movedBelow(gap.firstMovedRow - 1, rows) : null));
    }
    const [table, before, site] = [previous.imports, oldTree, edited];
    // Rebuilding the table walked the whole file on every keystroke: 0.4 ms of the 2 ms parse of an edit of a 5,000-line file.
    return new PyFile(path, text, tree, text, (root) => {
      // The same top-level statements, the edited definition grown or shrunk by the edit (then carried over).
      const node = tree.rootNode.hasError ? null : tree.rootNode.firstChildForIndex(site.statement.startIndex);
      const same = node !== null && carryStatements(root, node, site.index, topLevelStatements(previous.root), edit);
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

  /** Frees the wasm memory of the tree. */
  dispose(): void {
    this.syntax.dispose();
    this.tree.delete();
  }
}

/**
 * The edit as the parser is told it. Lines typed or deleted between two top-level statements (Enter
 * above a definition) are told as starting at the last line before them that is not blank: told as
 * they are, web-tree-sitter reused nothing after them (python's indentation scanner; a 5,000-line file
 * was parsed again from the edit on, 20-60 ms at mid-file), and told so, every later statement is
 * reused (~0.5 ms). The same change told over a wider span is the same change: the tree is the same.
 */
function reusableEdit(previous: PyFile, edit: SourceEdit): SourceEdit {
  if (previous.root.hasError) return edit;
  const statements = topLevelStatements(previous.root);
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
  return { ...edit, startIndex: start, startPosition: previous.syntax.position(start) };
}

/**
 * The top-level statements before an edit that wrote and removed only blank space between two of them
 * (none on the rows it changed), the index of the one after it, and that one's first row; null otherwise.
 */
function blankGap(previous: PyFile, edit: SourceEdit, text: string): { statements: readonly TopLevelStatement[]; next: number; firstMovedRow: number } | null {
  if (previous.root.hasError) return null;
  if (!BLANK.test(previous.text.slice(edit.startIndex, edit.oldEndIndex)) || !BLANK.test(text.slice(edit.startIndex, edit.newEndIndex))) return null;
  const statements = topLevelStatements(previous.root);
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
  if (previous.root.hasError) return null;
  const statements = topLevelStatements(previous.root);
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
function changedLines(text: string, removed: string, before: Tree, after: Tree, edit: SourceEdit, site: EditedDefinition): string | null {
  let from = edit.startIndex;
  let to = edit.newEndIndex;
  if (REACHES_OTHER_LINES.test(removed) || REACHES_OTHER_LINES.test(text.slice(from, to))) {
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
