/**
 * "Probe this model": finds the model (CodeLens argument, cursor, or quick pick), runs the probe in its
 * own process with a cancellable progress notification, shows the result in the panel and on the
 * layer lines, and answers the panel (reveal a layer, re-probe, what-if, apply fix, export).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { StandbyProbeWorker, startProbe, type ProbeHandle } from '../../probe/client';
import { renameOutcomeMessages, renameProbeMessages, type ProbeOutcome, type ProbeOptions, type ProbeResult } from '../../shared/probe';
import { GivenModelRequest, MeasuredLinesNotification, isGivenModelResult, type DocumentModel, type GivenModelResult, type ModelWhatIf } from '../../shared/protocol';
import { isWebviewToHostMessage, type WebviewToHostMessage, type WhatIfChoice } from '../../shared/webview-messages';
import { ProbeDecorations, type AnnotationSnapshot } from './decorations';
import { exportProbe, type ExportTarget } from './export';
import { documentModels, type DocumentModels } from './models';
import { ProbePanel, registerPanelSerializer } from './panel';
import { readProbeSettings } from './settings';
import { InputShapes } from './inputShape';
import { defaultModel } from '../../shared/model-choice';

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
  /** The result's notices (input shape, representative sizes, what was scaled). */
  notices: string[];
}

export interface ProbeTestState {
  annotations: AnnotationSnapshot[];
  panelOpen: boolean;
  panelModelId: string | null;
  last: ProbeRunSummary | null;
  lastRevealedLine: number | null;
  lastExport: string | null;
  /** The last information message shown to the user (export confirmations). */
  lastNotice: string | null;
  /** Whether a probe is running (cancelProbe stops it). */
  running: boolean;
}

interface Current {
  uri: vscode.Uri;
  /** The models of the probed document or notebook, which place the layer lines in the editor. */
  source: DocumentModels;
  model: DocumentModel;
  result: ProbeResult;
}

/** Where a model is defined, for the model pick: its line, or its cell and line in a notebook. */
function where(source: DocumentModels, m: DocumentModel): string {
  const at = source.toEditor(m.model.range);
  if (!source.isNotebook || !at) return `line ${m.model.range.start.line + 1}`;
  const cell = vscode.workspace.notebookDocuments.flatMap((nb) => nb.getCells()).find((c) => c.document.uri.toString() === at.uri.toString());
  return cell ? `cell ${cell.index + 1}, line ${at.range.start.line + 1}` : `line ${at.range.start.line + 1}`;
}

function whatIfChoices(model: DocumentModel): WhatIfChoice[] {
  return model.whatIfs.map((w, index) => ({ index, code: w.code, title: w.whatIf.title, canApply: w.fixes.length > 0, lines: w.lines }));
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
  private lastNotice: string | null = null;
  private readonly flash = vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'), isWholeLine: true });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly inputShapes: InputShapes;
  /** A worker started after each probe for the next one, so it skips the fork and tfjs' load. */
  private readonly standby = new StandbyProbeWorker();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: LanguageClient,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.inputShapes = new InputShapes(context.workspaceState);
    this.decorations = new ProbeDecorations(context.extensionUri, (uri, lines) => { this.sendMeasuredLines(uri, lines); });
    this.disposables.push(
      this.decorations,
      this.flash,
      this.decorations.onDidGoStale((uri) => {
        if (this.panel && this.panel.documentUri === uri) this.panel.post({ type: 'stale', stale: true });
      }),
      registerPanelSerializer(context.extensionUri, (panel) => this.adopt(panel), (m, p) => void this.onPanelMessage(m, p)),
      vscode.workspace.onDidSaveTextDocument((document) => void this.probeOnSave([document.uri])),
      vscode.workspace.onDidSaveNotebookDocument((notebook) => void this.probeOnSave(notebook.getCells().map((c) => c.document.uri))),
    );
  }

  /** Predicted inlay hints give way to measured values: the server drops them on these lines and refreshes. */
  private sendMeasuredLines(uri: string, lines: number[]): void {
    if (!this.client.isRunning()) return;
    this.client.sendNotification(MeasuredLinesNotification, { uri: this.client.code2ProtocolConverter.asUri(vscode.Uri.parse(uri)), lines }).catch((error: unknown) => { this.output.warn(`could not send the measured lines: ${String(error)}`); });
  }

  /** The command: `uri` and `modelId` come from the CodeLens; without them, the model at the cursor or a pick. */
  async probe(uriArg?: unknown, modelIdArg?: unknown, whatIfCode?: unknown, overrides: Partial<ProbeOptions> = {}): Promise<ProbeRunSummary | null> {
    this.requestedAt = performance.now();
    const uri = typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage('Gradient Lens: open a Python file with a model to probe.');
      return null;
    }
    const source = await documentModels(this.client, uri);
    const model = await this.chooseModel(uri, source, typeof modelIdArg === 'string' ? modelIdArg : null);
    if (!model) return null;
    const whatIf = typeof whatIfCode === 'string' ? (model.whatIfs.find((w) => w.code === whatIfCode) ?? null) : null;
    return this.run(uri, source, model, whatIf, overrides);
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
      lastNotice: this.lastNotice,
      running: this.running !== null,
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
    const probed = this.current.uri.toString();
    // A notebook cell's URI names no folder: the export is offered beside the notebook.
    const beside = vscode.workspace.notebookDocuments.find((nb) => nb.getCells().some((c) => c.document.uri.toString() === probed))?.uri ?? this.current.uri;
    const written = await exportProbe(this.context.extensionUri, this.current.result, beside, format, explicit, pngDataUrl);
    if (written) {
      this.lastExport = written.toString();
      const notice = `Gradient Lens: exported the probe of ${this.current.result.model.name} (${format.toUpperCase()}) to ${written.fsPath}`;
      this.output.info(notice);
      this.lastNotice = notice;
      void vscode.window.showInformationMessage(notice);
    }
    return written?.fsPath ?? null;
  }

  private async chooseModel(uri: vscode.Uri, source: DocumentModels, modelId: string | null): Promise<DocumentModel | undefined> {
    const { models } = source;
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
    const atCursor = editor ? source.modelAt(editor.document.uri, editor.selection.active) : undefined;
    if (atCursor || models.length === 1) return atCursor ?? models[0];
    // Several models: the one the file trains or builds (as the CLI does), else a question.
    const built = defaultModel(models, (m) => m.model);
    if (built) return built;
    const pick = await vscode.window.showQuickPick(
      models.map((m) => ({ label: m.model.name, description: `${m.model.framework}, ${where(source, m)}, ${m.model.layers.length} layers`, model: m })),
      { title: 'Gradient Lens: which model?' },
    );
    return pick?.model;
  }

  private async run(uri: vscode.Uri, source: DocumentModels, model: DocumentModel, whatIf: ModelWhatIf | null, overrides: Partial<ProbeOptions>): Promise<ProbeRunSummary> {
    this.running?.cancel();
    const settings = readProbeSettings(uri);
    const options: ProbeOptions = { ...settings.options, ...overrides };
    // An input shape the code does not say is asked once (prefilled with the best guess) and remembered.
    const probed = options.inputShape ? model.model : await this.inputShapes.resolve(uri, model.model);
    const panel = this.showPanel();
    const title = whatIf ? `Probing ${model.model.name} and what if ${whatIf.whatIf.title}` : `Probing ${model.model.name}`;
    this.output.info(`${title} (${options.steps} steps, batch ${options.batchSize}, seed ${options.seed}, backend ${options.backend})`);
    // Messages name lines of the analyzed text: in a notebook, shown by cell.
    const rename = (text: string) => source.message(text);
    const trusted = vscode.workspace.isTrusted;
    const standby = this.standby.take(options.backend, trusted);
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Gradient Lens: ${title}`, cancellable: true }, (progress, token) => {
      let reported = 0;
      const handle = startProbe(probed, options, whatIf?.whatIf ?? null, {
        trustedWorkspace: trusted,
        ...(standby ? { worker: standby } : {}),
        onProgress: (m) => {
          // The result so far: the panel draws after the first step and fills in as steps arrive.
          if (m.partial) panel.post({ type: 'show-result', result: renameProbeMessages(m.partial, rename), whatIfs: whatIfChoices(model), modelId: model.model.id, documentUri: uri.toString(), streaming: true });
          panel.post({ type: 'progress', phase: m.phase, step: m.step, steps: m.steps });
          const total = m.steps > 0 ? (whatIf ? 2 * m.steps : m.steps) : 0;
          const done = m.phase === 'what-if-train' ? m.steps + m.step : m.phase === 'train' ? m.step : 0;
          const percent = total > 0 ? (100 * done) / total : 0;
          progress.report({ message: `${m.phase}${m.steps ? ` ${m.step}/${m.steps}` : ''}`, increment: Math.max(0, percent - reported) });
          reported = Math.max(reported, percent);
        },
      });
      this.running = handle;
      token.onCancellationRequested(() => { handle.cancel(); });
      return handle.result.then((o) => renameOutcomeMessages(o, rename));
    });
    this.running = null;
    this.standby.prepare(options.backend, vscode.workspace.isTrusted, { model: probed, options });
    return this.finish(uri, source, model, outcome, panel);
  }

  private finish(uri: vscode.Uri, source: DocumentModels, model: DocumentModel, outcome: ProbeOutcome, panel: ProbePanel): ProbeRunSummary {
    if (!outcome.ok) {
      const { error } = outcome;
      const where = error.layer ? ` (layer ${error.layer.name}, ${source.message(`line ${error.layer.line}`)})` : '';
      this.last = { ok: false, errorKind: error.kind, message: error.message + where, modelName: model.model.name, verdicts: [], whatIfTitle: null, whatIfVerdicts: null, firstChartMs: null, notices: [] };
      panel.post({ type: 'error', error });
      if (error.kind !== 'cancelled') this.showError(error.kind, `Gradient Lens could not probe ${model.model.name}: ${error.message}${where}`, uri, model);
      if (error.kind === 'cancelled') this.output.info(`probe of ${model.model.name} cancelled`);
      else this.output.warn(`probe ${error.kind}: ${error.message}${where}`);
      return this.last;
    }
    const { result } = outcome;
    this.current = { uri, source, model, result };
    const whatIfs = whatIfChoices(model);
    this.last = {
      ok: true,
      errorKind: null,
      message: `${result.verdicts.length} verdict(s) in ${result.durationMs} ms on ${result.backend}`,
      modelName: result.model.name,
      verdicts: result.verdicts.map((v) => v.kind),
      whatIfTitle: result.whatIfTitle,
      whatIfVerdicts: result.whatIf ? result.whatIf.verdicts.map((v) => v.kind) : null,
      firstChartMs: null,
      notices: result.notices.map((n) => n.message),
    };
    panel.post({ type: 'show-result', result, whatIfs, modelId: model.model.id, documentUri: uri.toString() });
    this.decorations.show(source, result);
    this.output.info(`probe of ${result.model.name}: ${this.last.message}`);
    return this.last;
  }

  private showError(kind: string, message: string, uri: vscode.Uri, model: DocumentModel): void {
    if (kind === 'shape') {
      void vscode.window.showErrorMessage(message, 'Enter Input Shape').then(async (choice) => {
        if (!choice) return;
        const asked = await this.inputShapes.resolve(uri, model.model, true);
        if (asked !== model.model) await this.probe(uri.toString(), model.model.id);
      });
    } else if (kind === 'unsupported') void this.offerArguments(message, uri, model);
    else void vscode.window.showErrorMessage(message);
  }

  /**
   * A refusal of a model a class or builder function builds, which no call in the workspace gives its
   * parameters: what the probe could not read may be theirs (a view's head sizes), so the user may type
   * them, and the model they build is probed (`probe --arg` in a terminal).
   */
  private async offerArguments(message: string, uri: vscode.Uri, model: DocumentModel): Promise<void> {
    const asked = model.model.instance ? null : await this.givenModel(uri, model.model.id, null);
    const parameters = asked?.parameters ?? [];
    if (!asked?.definition || parameters.length === 0) {
      void vscode.window.showErrorMessage(message);
      return;
    }
    if ((await vscode.window.showErrorMessage(message, 'Enter Arguments')) === undefined) return;
    const typed = await vscode.window.showInputBox({
      title: `Gradient Lens: arguments of ${asked.definition}`,
      prompt: `Probe ${asked.definition} built with these arguments, which no call in the workspace gives: NAME=VALUE separated by commas, each value a Python literal (its parameters: ${parameters.join(', ')}). The file is not changed.`,
      value: parameters.map((p) => `${p}=`).join(', '),
      ignoreFocusOut: true,
      validateInput: (text) => (/=\s*(,|$)/.test(text) ? 'Give each argument a value, e.g. d_model=512, or leave it out' : null),
    });
    if (typed === undefined) return;
    const built = await this.givenModel(uri, model.model.id, typed);
    if (!built?.model) {
      void vscode.window.showErrorMessage(`Gradient Lens could not build ${asked.definition} with ${typed}: ${built?.problem ?? 'the language server did not answer'}`);
      return;
    }
    this.output.info(`probing ${built.model.model.name}, built with the arguments entered`);
    await this.run(uri, await documentModels(this.client, uri), built.model, null, {});
  }

  private async givenModel(uri: vscode.Uri, modelId: string, args: string | null): Promise<GivenModelResult | null> {
    if (!this.client.isRunning()) return null;
    // JSON from another process: checked, not trusted to match its type.
    const result: unknown = await this.client.sendRequest(GivenModelRequest, { uri: uri.toString(), modelId, arguments: args });
    return isGivenModelResult(result) ? result : null;
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
        if (panel.documentUri && panel.modelId && code) await this.probe(panel.documentUri, panel.modelId, code, { steps: message.steps, seed: message.seed });
        return;
      }
      case 'apply-fix':
        return this.applyFix(message.index);
      case 'export':
        await this.export(message.format, undefined, message.dataUrl);
        return;
    }
  }

  /** Shows a probe layer's line (1-based, in the analyzed text): in its document, or in its notebook cell. */
  private async revealLine(documentUri: string | null, line: number): Promise<void> {
    if (!documentUri) return;
    const source = this.current?.uri.toString() === documentUri ? this.current.source : await documentModels(this.client, vscode.Uri.parse(documentUri));
    const at = source.lineToEditor(line);
    if (!at) return;
    const document = await vscode.workspace.openTextDocument(at.uri);
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    const target = document.lineAt(Math.min(at.line, document.lineCount - 1)).range;
    editor.selection = new vscode.Selection(target.start, target.start);
    editor.revealRange(target, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.setDecorations(this.flash, [target]);
    setTimeout(() => { editor.setDecorations(this.flash, []); }, 1500);
    this.lastRevealedLine = line;
  }

  private async applyFix(index: number): Promise<void> {
    const current = this.current;
    const fix = current?.model.whatIfs[index]?.fixes[0];
    if (!current || !fix) return;
    const edit = current.source.fixToEdit(fix);
    if (!edit || !(await vscode.workspace.applyEdit(edit))) void vscode.window.showErrorMessage(`Gradient Lens: the fix "${fix.title}" could not be applied (the file changed?).`);
  }

  /** A save of the probed file, or of the notebook holding the probed cell, re-probes when probeOnSave is on. */
  private async probeOnSave(saved: vscode.Uri[]): Promise<void> {
    const current = this.current;
    if (!current || this.running || !saved.some((u) => u.toString() === current.uri.toString())) return;
    if (!readProbeSettings(current.uri).probeOnSave) return;
    await this.probe(current.uri.toString(), current.model.model.id);
  }

  dispose(): void {
    this.running?.cancel();
    this.standby.dispose();
    this.panel?.dispose();
    this.disposables.splice(0).forEach((d) => {
      d.dispose();
    });
  }
}
