/**
 * The language server's routing: LSP traffic to the open units, the workspace index and scheduling.
 * Features live in handlers/, notebook sync in notebookSync.ts, diagnostics publishing in
 * diagnosticsPublisher.ts, the analyses of the open units in unitAnalyses.ts, settings in settingsSync.ts.
 */
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  NotebookDocuments,
  TextDocumentSyncKind,
  TextDocuments,
  type CancellationToken,
  type CodeAction,
  type CodeActionParams,
  type Connection,
  type DidChangeWatchedFilesParams,
  type Hover,
  type HoverParams,
  type InlayHint,
  type InlayHintParams,
  type InitializeParams,
  type InitializeResult,
  type NotebookDocument,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { MeasuredLinesNotification, ServerStatusRequest, type MeasuredLinesParams, type ServerStatus } from '../shared/protocol';
import { FIX_ALL_KIND, codeActionsFor } from './handlers/codeActions';
import { DiagnosticsPublisher } from './diagnosticsPublisher';
import { hoverAt } from './handlers/hover';
import { predictionHints } from './handlers/inlayHints';
import { ModelsRequest, modelsOf } from './handlers/models';
import { GivenModelRequest, givenModelOf } from './handlers/givenModel';
import type { FileResult } from '../analysis/api';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../analysis/python/parser';
import { SettingsSync } from './settingsSync';
import { UnitAnalyses } from './unitAnalyses';
import type { NotebookLayout } from '../shared/notebook-layout';
import { NotebookSync } from './notebookSync';
import { AnalysisHost } from './analysisHost';
import type { HeldModels } from './analysisProtocol';
import { OpenUnit, type Analysis } from './openUnits';
import { LintScheduling } from './lintScheduling';
import { diffEdit } from './sourceEdit';
import { pathOfUri } from './uris';
import { DEFAULT_INDEX_LIMITS, findPythonFiles, readSource } from './workspaceIndex';

/** An analysis running longer than this is stopped (see AnalysisHost); initializationOptions.analysisTimeoutMs overrides it. */
const DEFAULT_ANALYSIS_TIMEOUT_MS = 20_000;

export class GradientLensServer {
  private analysis: AnalysisHost | null = null;
  private readonly analyses = new UnitAnalyses(() => this.analysis);
  private readonly documents = new TextDocuments(TextDocument);
  private readonly notebooks = new NotebookDocuments(TextDocument);
  /** Open units by their URI (document or notebook). */
  private readonly units = new Map<string, OpenUnit>();
  private readonly notebookSync = new NotebookSync(this.notebooks);
  private readonly diagnostics: DiagnosticsPublisher;
  private readonly lints: LintScheduling;
  private readonly settings: SettingsSync;
  private workspaceRoots: string[] = [];
  /** Paths fed to the analyzer from disk (not open in the editor). */
  private readonly indexedPaths = new Set<string>();
  private supportsDynamicWatchers = false;
  private supportsInlayHintRefresh = false;
  /** Per editor URI, the 0-based lines where a fresh probe shows measured values (no predicted hint there). */
  private readonly measuredLines = new Map<string, ReadonlySet<number>>();

  constructor(private readonly connection: Connection) {
    this.diagnostics = new DiagnosticsPublisher(connection, (uri) => this.documents.get(uri)?.version);
    this.settings = new SettingsSync(connection);
    this.lints = new LintScheduling({
      units: this.units,
      analyses: this.analyses,
      diagnostics: this.diagnostics,
      enabled: () => this.settings.current.enable,
      onError: (what, error) => { this.logError(what, error); },
    });
  }

  listen(): void {
    const c = this.connection;
    c.onInitialize((params) => this.initialize(params));
    c.onInitialized(() => void this.initialized());
    c.onDidChangeConfiguration((params) => void this.configurationChanged(params.settings));
    c.onDidChangeWatchedFiles((params) => void this.watchedFilesChanged(params));
    c.onHover((params, token) => this.guardAsync('hover', () => this.hover(params, token), null));
    c.languages.inlayHint.on((params, token) => this.guardAsync('inlayHint', () => this.inlayHints(params, token), []));
    c.onCodeAction((params, token) => this.guardAsync('codeAction', () => this.codeActions(params, token), []));
    c.onRequest(ServerStatusRequest, () => this.status());
    c.onNotification(MeasuredLinesNotification, (params) => this.guard('measuredLines', () => { this.measuredLinesChanged(params); }, undefined));
    c.onRequest(ModelsRequest, (params, token) => this.guardAsync('models', () => modelsOf(params, { unitOf: (u) => this.unitOf(u), analysisOf: (u) => this.currentAnalysis(u, token) }, token), { uri: params.uri, models: [], cells: null }));
    c.onRequest(GivenModelRequest, (params, token) =>
      this.guardAsync(
        'givenModel',
        () => givenModelOf(params, { unitOf: (u) => this.unitOf(u), analysisOf: (u) => this.currentAnalysis(u, token), analyzeVariant: (u, text) => this.analyzeVariant(u, text, token), parser: () => this.parser() }, token),
        { definition: null, parameters: null, model: null, problem: 'the server could not build the model (see its log)' },
      ),
    );
    c.onShutdown(() => {
      void this.parserMade?.then((parser) => { parser.delete(); });
      this.lints.cancelAll();
      this.analysis?.dispose();
    });

    this.documents.onDidOpen((e) => this.guard('open', () => { this.openDocument(e.document.uri, e.document.getText()); }, undefined));
    this.documents.onDidChangeContent((e) => this.guard('change', () => { this.changeUnit(e.document.uri, e.document.getText(), null); }, undefined));
    this.documents.onDidClose((e) => { this.guard('close', () => void this.closeUnit(e.document.uri), undefined); });
    this.notebooks.onDidOpen((nb) => this.guard('notebook open', () => { this.openNotebook(nb); }, undefined));
    this.notebooks.onDidChange((e) => this.guard('notebook change', () => { this.notebookChanged(e.notebookDocument); }, undefined));
    this.notebooks.onDidClose((nb) => { this.guard('notebook close', () => void this.closeUnit(nb.uri), undefined); });

    this.documents.listen(c);
    this.notebooks.listen(c);
    c.listen();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  private initialize(params: InitializeParams): InitializeResult {
    const caps = params.capabilities;
    this.settings.initialize(caps);
    this.supportsDynamicWatchers = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    this.supportsInlayHintRefresh = caps.workspace?.inlayHint?.refreshSupport === true;
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- clients without workspace folders still send only rootUri
    const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
    this.workspaceRoots = folders.filter((u) => u.startsWith('file:')).map(pathOfUri);
    const options: unknown = params.initializationOptions;
    const timeout = typeof options === 'object' && options !== null ? (options as Record<string, unknown>).analysisTimeoutMs : undefined;
    this.analysis = new AnalysisHost({
      workerScript: __filename,
      roots: this.workspaceRoots,
      maxFileBytes: DEFAULT_INDEX_LIMITS.maxFileBytes,
      timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : DEFAULT_ANALYSIS_TIMEOUT_MS,
      log: (message) => { this.log(message); },
    });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        notebookDocumentSync: { notebookSelector: [{ notebook: { notebookType: 'jupyter-notebook' }, cells: [{ language: 'python' }] }] },
        hoverProvider: true,
        inlayHintProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      },
      serverInfo: { name: 'gradient-lens', version: '0.1.0' },
    };
  }

  private async initialized(): Promise<void> {
    if (this.supportsDynamicWatchers) {
      await this.connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [{ globPattern: '**/*.py' }, { globPattern: '**/pyproject.toml' }],
      });
    }
    this.analysis?.setOverrides((await this.settings.start()).overrides);
    await this.indexWorkspace();
  }

  private async indexWorkspace(): Promise<void> {
    if (this.workspaceRoots.length === 0) return;
    const started = Date.now();
    const { files, truncated } = await findPythonFiles(this.workspaceRoots);
    for (const path of files) await this.indexFromDisk(path);
    this.log(`indexed ${this.indexedPaths.size} Python files in ${Date.now() - started} ms${truncated ? ` (stopped at ${DEFAULT_INDEX_LIMITS.maxFiles} files)` : ''}`);
    this.lints.all(0);
  }

  /** Reads a file into the analyzer unless the editor has it open (the editor's text wins). */
  private async indexFromDisk(path: string): Promise<void> {
    if (this.isOpenPath(path) || !this.analysis) return;
    const text = await readSource(path);
    if (text === null || this.isOpenPath(path)) return;
    if (this.analysis.text(path) !== text) {
      this.analysis.setFile(path, text, null);
      this.analyses.invalidate();
    }
    this.indexedPaths.add(path);
  }

  private isOpenPath(path: string): boolean {
    for (const unit of this.units.values()) if (unit.key === path) return true;
    return false;
  }

  // ---- settings and watched files ----------------------------------------------------------------

  private async configurationChanged(pushed: unknown): Promise<void> {
    const settings = await this.settings.changed(pushed);
    this.analysis?.setOverrides(settings.overrides);
    this.analyses.invalidate();
    this.log(`settings changed: ${JSON.stringify(settings)}`);
    this.lints.all(0);
    if (this.supportsInlayHintRefresh) void this.connection.languages.inlayHint.refresh();
  }

  private async watchedFilesChanged(params: DidChangeWatchedFilesParams): Promise<void> {
    let relint = false;
    for (const change of params.changes) {
      const path = pathOfUri(change.uri);
      if (path.endsWith('pyproject.toml')) {
        this.analysis?.reloadConfig();
        this.analyses.invalidate();
        relint = true;
      } else if (path.endsWith('.py') && !this.isOpenPath(path)) {
        if (change.type === FileChangeType.Deleted) {
          this.analysis?.removeFile(path);
          this.indexedPaths.delete(path);
          this.analyses.invalidate();
        } else {
          await this.indexFromDisk(path);
        }
        relint = true;
      }
    }
    if (relint) this.lints.all(0);
  }

  // ---- documents and notebooks -----------------------------------------------------------------

  private openDocument(uri: string, text: string): void {
    if (this.units.has(uri)) return;
    const unit = new OpenUnit(pathOfUri(uri), uri, text, null);
    this.units.set(uri, unit);
    this.indexedPaths.delete(unit.key);
    this.setProjectText(unit, text);
    this.lints.unit(unit);
  }

  /** A document's or notebook's new text; notebooks also pass their new cell layout. */
  private changeUnit(uri: string, text: string, layout: NotebookLayout | null): void {
    const unit = this.units.get(uri);
    if (!unit) return;
    if (layout) unit.layout = layout;
    if (unit.text === text && !layout) {
      // The same text (an empty change, an edit undone within one notification): the findings stand, sent
      // again with the document's new version, since a client may wait for diagnostics of every version.
      this.diagnostics.republish(unit, this.units.values());
      return;
    }
    this.setProjectText(unit, text);
    this.lints.unit(unit);
  }

  private setProjectText(unit: OpenUnit, text: string): void {
    const previous = this.analysis?.text(unit.key);
    const edit = previous === undefined ? null : diffEdit(previous, text);
    unit.text = text;
    unit.version++;
    this.analyses.cancelStale(unit);
    if (previous === text) return;
    this.analysis?.setFile(unit.key, text, edit);
    this.analyses.invalidate();
  }

  private async closeUnit(uri: string): Promise<void> {
    const unit = this.units.get(uri);
    if (!unit) return;
    this.units.delete(uri);
    this.lints.cancel(uri);
    this.notebookSync.forget(uri);
    this.diagnostics.clear(uri);
    this.analyses.forget(uri);
    // A closed file that is part of the workspace goes back to its text on disk.
    const onDisk = this.workspaceRoots.some((root) => unit.key.startsWith(root + '/')) ? await readSource(unit.key) : null;
    this.analyses.invalidate();
    if (onDisk !== null && !this.isOpenPath(unit.key)) {
      this.analysis?.setFile(unit.key, onDisk, null);
      this.indexedPaths.add(unit.key);
    } else if (!this.isOpenPath(unit.key)) {
      this.analysis?.removeFile(unit.key);
    }
    this.lints.dependents();
  }

  private openNotebook(nb: NotebookDocument): void {
    if (this.units.has(nb.uri)) return;
    const { text, layout } = this.notebookSync.read(nb);
    const unit = new OpenUnit(pathOfUri(nb.uri), nb.uri, text, layout);
    this.units.set(nb.uri, unit);
    this.setProjectText(unit, text);
    this.lints.unit(unit);
  }

  private notebookChanged(nb: NotebookDocument): void {
    const { text, layout } = this.notebookSync.read(nb);
    this.changeUnit(nb.uri, text, layout);
  }

  /** The open unit showing `documentUri` (a document, or a cell of an open notebook). */
  private unitOf(documentUri: string): OpenUnit | undefined {
    return this.units.get(documentUri) ?? this.units.get(this.notebookSync.ownerOf(documentUri) ?? '');
  }

  // ---- requests --------------------------------------------------------------------------------

  /** `text` analyzed once in the place of the unit's file (a class called with arguments the user gave), in the worker. */
  private async analyzeVariant(unit: OpenUnit, text: string, token: CancellationToken): Promise<FileResult | null> {
    const running = this.analysis?.analyze(unit.key, text);
    if (!running) return null;
    const stop = token.onCancellationRequested(() => { running.cancel(); });
    try {
      return await running.result;
    } finally {
      stop.dispose();
    }
  }

  /** A Python parser on the main thread, made when a request first needs one (reading arguments the user typed). */
  private parserMade: Promise<Parser> | null = null;
  private parser(): Promise<Parser> {
    return (this.parserMade ??= createPythonParser());
  }

  private currentAnalysis(unit: OpenUnit, token: CancellationToken): Promise<Analysis | null> {
    return this.analyses.current(unit, token, (u) => this.units.get(u.uri) === u);
  }

  private currentModels(unit: OpenUnit, token: CancellationToken): Promise<HeldModels | null> {
    return this.analyses.currentModels(unit, token, (u) => this.units.get(u.uri) === u);
  }

  private async hover(params: HoverParams, token: CancellationToken): Promise<Hover | null> {
    const unit = this.unitOf(params.textDocument.uri);
    if (!unit || token.isCancellationRequested) return null;
    const position = unit.fromEditor(params.textDocument.uri, params.position);
    // A hover reads only models: it need not wait for the findings of the text it is asked on.
    const held = position ? await this.currentModels(unit, token) : null;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the client or a newer edit can cancel during the await
    if (!position || !held || token.isCancellationRequested) return null;
    const hover = hoverAt(held, (line) => unit.lineText(line), position);
    if (!hover) return null;
    const shown = hover.range ? unit.toEditor(hover.range) : null;
    return { contents: { kind: 'markdown', value: unit.message(hover.markdown) }, ...(shown && shown.uri === params.textDocument.uri ? { range: shown.range } : {}) };
  }

  /** A probe result arrived (or went stale): predicted hints give way to the measured values at once. */
  private measuredLinesChanged(params: MeasuredLinesParams): void {
    if (typeof params.uri !== 'string' || !Array.isArray(params.lines) || !params.lines.every((l) => Number.isInteger(l))) {
      this.log(`ignored a malformed ${MeasuredLinesNotification.method} notification`);
      return;
    }
    if (params.lines.length > 0) this.measuredLines.set(params.uri, new Set(params.lines));
    else this.measuredLines.delete(params.uri);
    if (this.supportsInlayHintRefresh) void this.connection.languages.inlayHint.refresh();
  }

  /** Predicted std and gradient ratio at the end of each layer call (the predictedHints setting turns them off). */
  private async inlayHints(params: InlayHintParams, token: CancellationToken): Promise<InlayHint[]> {
    const unit = this.unitOf(params.textDocument.uri);
    const settings = this.settings.current;
    if (!unit || !settings.enable || !settings.predictedHints || token.isCancellationRequested) return [];
    const held = await this.currentModels(unit, token);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the client or a newer edit can cancel during the await
    if (!held || token.isCancellationRequested) return [];
    const everywhere = { start: { line: 0, character: 0 }, end: { line: Number.MAX_SAFE_INTEGER, character: 0 } };
    const measured = this.measuredLines.get(params.textDocument.uri);
    const hints: InlayHint[] = [];
    for (const hint of predictionHints(held.models, everywhere)) {
      const shown = unit.toEditor({ start: hint.position, end: hint.position });
      if (!shown || shown.uri !== params.textDocument.uri) continue;
      const line = shown.range.start.line;
      if (line < params.range.start.line || line > params.range.end.line || measured?.has(line)) continue;
      hints.push({ position: shown.range.start, label: hint.label, tooltip: hint.tooltip, paddingLeft: true });
    }
    return hints;
  }

  private async codeActions(params: CodeActionParams, token: CancellationToken): Promise<CodeAction[]> {
    const unit = this.unitOf(params.textDocument.uri);
    if (!unit || !this.settings.current.enable || token.isCancellationRequested) return [];
    const analysis = await this.currentAnalysis(unit, token);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the client or a newer edit can cancel during the await
    if (!analysis || token.isCancellationRequested) return [];
    return codeActionsFor({
      unit,
      analysis,
      documentUri: params.textDocument.uri,
      range: params.range,
      diagnostics: params.context.diagnostics,
      only: params.context.only ?? null,
    });
  }

  private status(): ServerStatus {
    const memory = process.memoryUsage();
    return {
      pid: process.pid,
      uptimeMs: Math.round(process.uptime() * 1000),
      indexedFiles: this.indexedPaths.size,
      openDocuments: this.units.size,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      lastAnalysisMs: this.analyses.lastAnalysisMs,
      lastAnalyzerMs: this.analysis?.lastAnalyzerMs ?? 0,
      analysisRestarts: this.analysis?.restarts ?? 0,
      runningAnalyses: this.analysis?.running ?? 0,
      cancelledAnalyses: this.analysis?.cancelled ?? 0,
    };
  }

  // ---- logging ---------------------------------------------------------------------------------

  /** Runs a handler; an exception is logged and answered with `fallback` instead of taking the server down. */
  private guard<T>(what: string, run: () => T, fallback: T): T {
    try {
      return run();
    } catch (error) {
      this.logError(what, error);
      return fallback;
    }
  }

  private async guardAsync<T>(what: string, run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.logError(what, error);
      return fallback;
    }
  }

  private log(message: string): void {
    this.connection.console.log(message);
  }

  private logError(what: string, error: unknown): void {
    this.connection.console.error(`${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
