/**
 * The models of a document or notebook, from the language server (`gradientLens/models`), and where
 * their analyzed lines are shown in the editor: the document itself, or, for a notebook, its cells
 * (the server sends the cell placements, and the same NotebookLayout maps them).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { Fix } from '../../shared/findings';
import type { Position, Range } from '../../shared/ir';
import { NotebookLayout } from '../../shared/notebook-layout';
import { ModelsRequest, type DocumentModel, type ModelsParams, type ModelsResult } from '../../shared/protocol';

export const toVsRange = (r: Range) => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);

const contains = (range: Range, p: Position) =>
  (p.line > range.start.line || (p.line === range.start.line && p.character >= range.start.character)) &&
  (p.line < range.end.line || (p.line === range.end.line && p.character <= range.end.character));

export interface EditorRange {
  uri: vscode.Uri;
  range: vscode.Range;
}

export class DocumentModels {
  constructor(
    /** The document (or notebook cell) the models were asked for. */
    readonly uri: vscode.Uri,
    readonly models: DocumentModel[],
    /** Set for notebooks: where each cell sits in the analyzed text. */
    private readonly layout: NotebookLayout | null,
  ) {}

  get isNotebook(): boolean {
    return this.layout !== null;
  }

  /** A message about the analyzed text as the editor shows it: a notebook's line mentions named by cell. */
  message(text: string): string {
    return this.layout ? this.layout.message(text) : text;
  }

  /** Where a range of the analyzed text is shown; `exact` refuses ranges that run past their cell (edits). */
  toEditor(range: Range, exact = false): EditorRange | null {
    if (!this.layout) return { uri: this.uri, range: toVsRange(range) };
    const cell = this.layout.toCell(range, exact);
    return cell ? { uri: vscode.Uri.parse(cell.uri), range: toVsRange(cell.range) } : null;
  }

  /** Where a 1-based line of the analyzed text (a probe layer's line) is shown, as a 0-based editor line. */
  lineToEditor(line: number): { uri: vscode.Uri; line: number } | null {
    const at = this.toEditor({ start: { line: line - 1, character: 0 }, end: { line: line - 1, character: 0 } });
    return at ? { uri: at.uri, line: at.range.start.line } : null;
  }

  /** The analyzed-text position of an editor position; null when `uri` shows none of this text. */
  fromEditor(uri: vscode.Uri, position: vscode.Position): Position | null {
    if (!this.layout) return uri.toString() === this.uri.toString() ? { line: position.line, character: position.character } : null;
    return this.layout.fromCell(uri.toString(), { line: position.line, character: position.character });
  }

  /** The innermost model whose definition contains the editor position. */
  modelAt(uri: vscode.Uri, position: vscode.Position): DocumentModel | undefined {
    const at = this.fromEditor(uri, position);
    if (!at) return undefined;
    const around = this.models.filter((m) => contains(m.model.range, at));
    const height = (m: DocumentModel) => m.model.range.end.line - m.model.range.start.line;
    return around.sort((a, b) => height(a) - height(b))[0];
  }

  /** A fix's edits in the editor (cells for notebooks); null when one cannot be placed exactly. */
  fixToEdit(fix: Fix): vscode.WorkspaceEdit | null {
    const edit = new vscode.WorkspaceEdit();
    for (const e of fix.edits) {
      const at = e.file === this.uri.fsPath ? this.toEditor(e.range, true) : { uri: vscode.Uri.file(e.file), range: toVsRange(e.range) };
      if (!at) return null;
      edit.replace(at.uri, at.range, e.newText);
    }
    return edit;
  }
}

export async function documentModels(client: LanguageClient, uri: vscode.Uri): Promise<DocumentModels> {
  if (!client.isRunning()) return new DocumentModels(uri, [], null);
  const params: ModelsParams = { uri: uri.toString() };
  // JSON from another process: checked here, not trusted to match its type.
  const result = (await client.sendRequest(ModelsRequest, params)) as ModelsResult | null;
  const models = Array.isArray(result?.models) ? result.models : [];
  return new DocumentModels(uri, models, Array.isArray(result?.cells) ? new NotebookLayout(result.cells) : null);
}
