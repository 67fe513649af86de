/**
 * "Probe this model": finds the model (CodeLens argument, cursor, or quick pick), runs the probe in its
 * own process with a cancellable progress notification, shows the result in the panel and on the
 * layer lines, and answers the panel (reveal a layer, re-probe, what-if, apply fix, export).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { startProbe, type ProbeHandle } from '../../probe/client';
import type { ProbeOutcome, ProbeOptions, ProbeResult } from '../../shared/probe';
import type { DocumentModel, ModelWhatIf } from '../../shared/protocol';
import { isWebviewToHostMessage, type WebviewToHostMessage, type WhatIfChoice } from '../../shared/webview-messages';
import { ProbeDecorations, type AnnotationSnapshot } from './decorations';
import { exportProbe, type ExportTarget } from './export';
import { documentModels, modelAt } from './models';
import { ProbePanel, registerPanelSerializer } from './panel';
import { readProbeSettings } from './settings';

/** What the last probe did, for the test-only command and the output channel. */
export interface ProbeRunSummary {
  ok: boolean;
  errorKind: string | null;
  message: string;
  modelName: string | null;
  verdicts: string[];
  whatIfTitle: string | null;
  whatIfVerdicts: string[] | null;
  /** Request to the panel's first chart drawn, ms (null until drawn). */
  firstChartMs: number | null;
}

export interface ProbeTestState {
  annotations: AnnotationSnapshot[];
  panelOpen: boolean;
  panelModelId: string | null;
  last: ProbeRunSummary | null;
  lastRevealedLine: number | null;
  lastExport: string | null;
}

interface Current {
  uri: vscode.Uri;
  model: DocumentModel;
  result: ProbeResult;
}

export class ProbeController implements vscode.Disposable {
  private panel: ProbePanel | null = null;
  private readonly decorations: ProbeDecorations;
  private current: Current | null = null;
  private running: ProbeHandle | null = null;
  private last: ProbeRunSummary | null = null;
  private requestedAt = 0;
  private lastRevealedLine: number | null = null;
  private lastExport: string | null = null;
  private readonly flash = vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'), isWholeLine: true });
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: LanguageClient,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.decorations = new ProbeDecorations(context.extensionUri);
    this.disposables.push(
      this.decorations,
      this.flash,
      this.decorations.onDidGoStale((uri) => {
        if (this.panel && this.panel.documentUri === uri) this.panel.post({ type: 'stale', stale: true });
      }),
      registerPanelSerializer(context.extensionUri, (panel) => this.adopt(panel), (m, p) => void this.onPanelMessage(m, p)),
      vscode.workspace.onDidSaveTextDocument((document) => void this.probeOnSave(document)),
    );
  }

  /** The command: `uri` and `modelId` come from the CodeLens; without them, the model at the cursor or a pick. */
  async probe(uriArg?: unknown, modelIdArg?: unknown, whatIfCode?: unknown, overrides: Partial<ProbeOptions> = {}): Promise<ProbeRunSummary | null> {
    this.requestedAt = performance.now();
    const uri = typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage('Gradient Lens: open a Python file with a model to probe.');
      return null;
    }
    const models = await documentModels(this.client, uri);
    const model = await this.chooseModel(uri, models, typeof modelIdArg === 'string' ? modelIdArg : null);
    if (!model) return null;
    const whatIf = typeof whatIfCode === 'string' ? (model.whatIfs.find((w) => w.code === whatIfCode) ?? null) : null;
    return this.run(uri, model, whatIf, overrides);
  }

  cancel(): void {
    this.running?.cancel();
  }

  testState(): ProbeTestState {
    return {
      annotations: this.decorations.snapshot(),
      panelOpen: this.panel !== null,
      panelModelId: this.panel?.modelId ?? null,
      last: this.last,
      lastRevealedLine: this.lastRevealedLine,
      lastExport: this.lastExport,
    };
  }

  /** Test-only: handles a message exactly as if the panel had posted it (same guard, same handler). */
  async simulatePanelMessage(message: unknown): Promise<boolean> {
    if (!this.panel || !isWebviewToHostMessage(message)) return false;
    await this.onPanelMessage(message, this.panel);
    return true;
  }

  /** Writes the current result; with `target` no dialog is shown (tests, scripts). */
  async export(format: 'json' | 'html' | 'png', target?: unknown, pngDataUrl: string | null = null): Promise<string | null> {
    if (!this.current) {
      void vscode.window.showInformationMessage('Gradient Lens: probe a model first.');
      return null;
    }
    const explicit: ExportTarget | null = typeof target === 'string' ? { uri: vscode.Uri.file(target) } : null;
    const written = await exportProbe(this.context.extensionUri, this.current.result, this.current.uri, format, explicit, pngDataUrl);
    if (written) {
      this.lastExport = written.toString();
      this.output.info(`Exported the probe of ${this.current.result.model.name} to ${written.fsPath}`);
    }
    return written?.fsPath ?? null;
  }

  private async chooseModel(uri: vscode.Uri, models: DocumentModel[], modelId: string | null): Promise<DocumentModel | undefined> {
    if (modelId) {
      // Ids are `${name}@${line}`: after an edit moves the model, the same name is the same model.
      const name = modelId.slice(0, modelId.lastIndexOf('@'));
      const found = models.find((m) => m.model.id === modelId) ?? models.find((m) => m.model.name === name);
      if (!found) void vscode.window.showWarningMessage(`Gradient Lens: the model ${modelId} is no longer in ${uri.path.split('/').pop()}; probe it again from its CodeLens.`);
      return found;
    }
    if (models.length === 0) {
      void vscode.window.showInformationMessage('Gradient Lens: no Keras or PyTorch model was found in this file.');
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    const atCursor = editor && editor.document.uri.toString() === uri.toString() ? modelAt(models, editor.selection.active) : undefined;
    if (atCursor || models.length === 1) return atCursor ?? models[0];
    const pick = await vscode.window.showQuickPick(
      models.map((m) => ({ label: m.model.name, description: `${m.model.framework}, line ${m.model.range.start.line + 1}, ${m.model.layers.length} layers`, model: m })),
      { title: 'Gradient Lens: which model?' },
    );
    return pick?.model;
  }

  private async run(uri: vscode.Uri, model: DocumentModel, whatIf: ModelWhatIf | null, overrides: Partial<ProbeOptions>): Promise<ProbeRunSummary> {
    this.running?.cancel();
    const settings = readProbeSettings(uri);
    const options: ProbeOptions = { ...settings.options, ...overrides };
    const panel = this.showPanel();
    const title = whatIf ? `Probing ${model.model.name} and what if ${whatIf.whatIf.title}` : `Probing ${model.model.name}`;
    this.output.info(`${title} (${options.steps} steps, batch ${options.batchSize}, seed ${options.seed}, backend ${options.backend})`);
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Gradient Lens: ${title}`, cancellable: true }, (progress, token) => {
      let reported = 0;
      const handle = startProbe(model.model, options, whatIf?.whatIf ?? null, {
        trustedWorkspace: vscode.workspace.isTrusted,
        onProgress: (m) => {
          panel.post({ type: 'progress', phase: m.phase, step: m.step, steps: m.steps });
          const total = m.steps > 0 ? (whatIf ? 2 * m.steps : m.steps) : 0;
          const done = m.phase === 'what-if-train' ? m.steps + m.step : m.phase === 'train' ? m.step : 0;
          const percent = total > 0 ? (100 * done) / total : 0;
          progress.report({ message: `${m.phase}${m.steps ? ` ${m.step}/${m.steps}` : ''}`, increment: Math.max(0, percent - reported) });
          reported = Math.max(reported, percent);
        },
      });
      this.running = handle;
      token.onCancellationRequested(() => handle.cancel());
      return handle.result;
    });
    this.running = null;
    return this.finish(uri, model, outcome, panel);
  }

  private finish(uri: vscode.Uri, model: DocumentModel, outcome: ProbeOutcome, panel: ProbePanel): ProbeRunSummary {
    if (!outcome.ok) {
      const { error } = outcome;
      const where = error.layer ? ` (layer ${error.layer.name}, line ${error.layer.line})` : '';
      this.last = { ok: false, errorKind: error.kind, message: error.message + where, modelName: model.model.name, verdicts: [], whatIfTitle: null, whatIfVerdicts: null, firstChartMs: null };
      panel.post({ type: 'error', error });
      if (error.kind !== 'cancelled') this.showError(error.kind, `Gradient Lens could not probe ${model.model.name}: ${error.message}${where}`);
      this.output.warn(`probe ${error.kind}: ${error.message}${where}`);
      return this.last;
    }
    const { result } = outcome;
    this.current = { uri, model, result };
    const whatIfs: WhatIfChoice[] = model.whatIfs.map((w, index) => ({ index, code: w.code, title: w.whatIf.title, canApply: w.fixes.length > 0 }));
    this.last = {
      ok: true,
      errorKind: null,
      message: `${result.verdicts.length} verdict(s) in ${result.durationMs} ms on ${result.backend}`,
      modelName: result.model.name,
      verdicts: result.verdicts.map((v) => v.kind),
      whatIfTitle: result.whatIfTitle,
      whatIfVerdicts: result.whatIf ? result.whatIf.verdicts.map((v) => v.kind) : null,
      firstChartMs: null,
    };
    panel.post({ type: 'show-result', result, whatIfs, modelId: model.model.id, documentUri: uri.toString() });
    this.decorations.show(uri, result);
    this.output.info(`probe of ${result.model.name}: ${this.last.message}`);
    return this.last;
  }

  private showError(kind: string, message: string): void {
    if (kind === 'shape') {
      void vscode.window.showErrorMessage(message, 'Set Input Shape').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'gradientLens.probe.inputShape');
      });
    } else void vscode.window.showErrorMessage(message);
  }

  private showPanel(): ProbePanel {
    if (this.panel) {
      this.panel.reveal();
      return this.panel;
    }
    return this.adopt(ProbePanel.create(this.context.extensionUri, (m, p) => void this.onPanelMessage(m, p)));
  }

  private adopt(panel: ProbePanel): ProbePanel {
    this.panel?.dispose();
    this.panel = panel;
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = null;
    });
    return panel;
  }

  private async onPanelMessage(message: WebviewToHostMessage, panel: ProbePanel): Promise<void> {
    switch (message.type) {
      case 'ready':
        return;
      case 'charts-drawn':
        if (this.last && this.last.firstChartMs === null) {
          this.last.firstChartMs = performance.now() - this.requestedAt;
          this.output.info(`first chart drawn ${this.last.firstChartMs.toFixed(0)} ms after the request (render ${message.renderMs.toFixed(0)} ms)`);
        }
        return;
      case 'reveal-layer':
        return this.revealLine(panel.documentUri, message.line);
      case 'reprobe':
        if (panel.documentUri && panel.modelId) await this.probe(panel.documentUri, panel.modelId, undefined, { steps: message.steps, seed: message.seed });
        return;
      case 'run-what-if': {
        const code = this.current?.model.whatIfs[message.index]?.code;
        if (panel.documentUri && panel.modelId && code) await this.probe(panel.documentUri, panel.modelId, code);
        return;
      }
      case 'apply-fix':
        return this.applyFix(message.index);
      case 'export':
        await this.export(message.format, undefined, message.dataUrl);
        return;
    }
  }

  private async revealLine(documentUri: string | null, line: number): Promise<void> {
    if (!documentUri) return;
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(documentUri));
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    const target = document.lineAt(Math.min(line - 1, document.lineCount - 1)).range;
    editor.selection = new vscode.Selection(target.start, target.start);
    editor.revealRange(target, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.setDecorations(this.flash, [target]);
    setTimeout(() => editor.setDecorations(this.flash, []), 1500);
    this.lastRevealedLine = line;
  }

  private async applyFix(index: number): Promise<void> {
    const current = this.current;
    const fix = current?.model.whatIfs[index]?.fixes[0];
    if (!current || !fix) return;
    const edit = new vscode.WorkspaceEdit();
    for (const e of fix.edits) {
      const target = e.file === current.uri.fsPath ? current.uri : vscode.Uri.file(e.file);
      edit.replace(target, new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
    }
    if (!(await vscode.workspace.applyEdit(edit))) void vscode.window.showErrorMessage(`Gradient Lens: the fix "${fix.title}" could not be applied (the file changed?).`);
  }

  private async probeOnSave(document: vscode.TextDocument): Promise<void> {
    if (!this.current || this.current.uri.toString() !== document.uri.toString() || this.running) return;
    if (!readProbeSettings(document.uri).probeOnSave) return;
    await this.probe(document.uri.toString(), this.current.model.model.id);
  }

  dispose(): void {
    this.running?.cancel();
    this.panel?.dispose();
    this.disposables.splice(0).forEach((d) => d.dispose());
  }
}
