/**
 * Notebook sync: an open notebook's cells as the one Python text the analyzer reads, the layout that
 * maps ranges back to the cells, and which notebook each cell document belongs to.
 */
import { NotebookCellKind, type NotebookDocument, type NotebookDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { cellsToPython } from '../analysis/notebook';
import { NotebookLayout, type CellPlacement } from '../shared/notebook-layout';

export class NotebookSync {
  /** Cell document URI -> notebook URI. */
  private readonly cellOwners = new Map<string, string>();

  constructor(private readonly notebooks: NotebookDocuments<TextDocument>) {}

  /** The notebook's analyzed text and cell layout; its cells are recorded as belonging to it. */
  read(nb: NotebookDocument): { text: string; layout: NotebookLayout } {
    this.forget(nb.uri);
    const cells = nb.cells.map((cell) => {
      const doc = this.notebooks.getCellTextDocument(cell);
      return {
        uri: cell.document,
        text: doc?.getText() ?? '',
        kind: cell.kind === NotebookCellKind.Markup ? ('markup' as const) : ('code' as const),
        language: doc?.languageId ?? 'python',
      };
    });
    const joined = cellsToPython(cells.map(({ text, kind, language }) => ({ text, kind, language })));
    const placements: CellPlacement[] = cells.map((cell, i) => {
      const lines = cell.text.split('\n');
      return { uri: cell.uri, startLine: joined.cellStarts[i] ?? -1, lineCount: lines.length, lastLineLength: lines[lines.length - 1]!.length };
    });
    for (const cell of cells) this.cellOwners.set(cell.uri, nb.uri);
    return { text: joined.text, layout: new NotebookLayout(placements) };
  }

  /** The URI of the notebook a cell document belongs to. */
  ownerOf(cellUri: string): string | undefined {
    return this.cellOwners.get(cellUri);
  }

  /** Drops a closed (or re-read) notebook's cells. */
  forget(notebookUri: string): void {
    for (const [cell, owner] of this.cellOwners) if (owner === notebookUri) this.cellOwners.delete(cell);
  }
}
