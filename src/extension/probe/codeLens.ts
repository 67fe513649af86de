/** "Probe gradients" above every model, and "Probe gradients: what if <fix>" for each finding with an IR edit. */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { documentModels } from './models';

export const PROBE_COMMAND = 'gradientLens.probeModel';

export class ProbeCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor(private readonly client: LanguageClient) {
    // Models are known once the server has analyzed the file, which is when its diagnostics change.
    this.listener = vscode.languages.onDidChangeDiagnostics(() => { this.changed.fire(); });
  }

  async provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const found = await documentModels(this.client, document.uri).catch(() => null);
    if (!found || token.isCancellationRequested) return [];
    const uri = document.uri.toString();
    return found.models.flatMap(({ model, whatIfs }) => {
      // In a notebook, each cell shows the lenses of the models named in it.
      const at = found.toEditor(model.nameRange);
      if (!at || at.uri.toString() !== uri) return [];
      const { range } = at;
      return [
        new vscode.CodeLens(range, { title: 'Probe gradients', command: PROBE_COMMAND, arguments: [uri, model.id], tooltip: `Train ${model.name} briefly on synthetic data and show its gradient flow` }),
        ...whatIfs.map(
          (w) => new vscode.CodeLens(range, { title: `Probe gradients: what if ${w.whatIf.title}`, command: PROBE_COMMAND, arguments: [uri, model.id, w.code], tooltip: `${w.code}: probe the model and the model with this fix, with the same seed and data` }),
        ),
      ];
    });
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
