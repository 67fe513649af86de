/** The models of a document, from the language server (`gradientLens/models`). */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ModelsRequest, type DocumentModel, type ModelsParams, type ModelsResult } from '../../shared/protocol';
import type { Position } from '../../shared/ir';

export async function documentModels(client: LanguageClient, uri: vscode.Uri): Promise<DocumentModel[]> {
  if (!client.isRunning()) return [];
  const params: ModelsParams = { uri: uri.toString() };
  // By method name: the client bundles its own vscode-jsonrpc, whose RequestType class differs nominally.
  const result = await client.sendRequest<ModelsResult>(ModelsRequest.method, params);
  return Array.isArray(result?.models) ? result.models : [];
}

const contains = (range: { start: Position; end: Position }, p: vscode.Position) =>
  (p.line > range.start.line || (p.line === range.start.line && p.character >= range.start.character)) &&
  (p.line < range.end.line || (p.line === range.end.line && p.character <= range.end.character));

/** The innermost model whose definition contains the position. */
export function modelAt(models: DocumentModel[], position: vscode.Position): DocumentModel | undefined {
  const around = models.filter((m) => contains(m.model.range, position));
  return around.sort((a, b) => a.model.range.end.line - a.model.range.start.line - (b.model.range.end.line - b.model.range.start.line))[0];
}

export const toVsRange = (r: { start: Position; end: Position }) => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
