/**
 * A real LSP client for tests: spawns the bundled server (`node dist/server.js --stdio`, built by the
 * vitest global setup) and talks JSON-RPC to it with vscode-languageserver-protocol. Set
 * GRADIENT_LENS_SERVER to test another bundle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeActionRequest,
  InlayHintRefreshRequest,
  ConfigurationRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidChangeNotebookDocumentNotification,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenNotebookDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  FileChangeType,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  NotebookCellKind,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type CodeAction,
  type Diagnostic,
  type Hover,
  type ProtocolConnection,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { ServerStatusRequest, type ServerStatus } from '../../src/shared/protocol';

export const REPO_ROOT = resolve(__dirname, '../..');
export const FIXTURES = join(__dirname, 'fixtures');

/** The server bundle under test: GRADIENT_LENS_SERVER, else dist/server.js (built by the vitest global setup). */
export function serverBundle(): string {
  const bundle = resolve(process.env.GRADIENT_LENS_SERVER ?? join(REPO_ROOT, 'dist', 'server.js'));
  if (!existsSync(bundle)) throw new Error(`${bundle} does not exist: run \`npm run build\` first`);
  return bundle;
}

/** A rule fixture (a fixture name relative to FIXTURES): a block inside Net (b1, b2), Net built twice, one GL302. */
export const BLOCK_IN_MODELS = '../../fixtures/rules/GL302/bad_torch_block_in_models.py';

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/**
 * A copy of the folder `source` at `<a temporary directory>/<name>` and a session with it as the
 * workspace folder; `stop` ends the session and removes the copy.
 */
export async function startOnCopy(source: string, name: string): Promise<{ session: LspSession; folder: string; stop: () => Promise<void> }> {
  const folder = join(mkdtempSync(join(tmpdir(), 'gl-lsp-')), name);
  cpSync(source, folder, { recursive: true });
  const session = await LspSession.start({ workspaceFolder: folder });
  return {
    session,
    folder,
    stop: async () => {
      await session.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export function fileUri(path: string): string {
  return pathToFileURL(path).href;
}

export interface SessionOptions {
  /** Workspace folder to index (a directory path). */
  workspaceFolder?: string;
  /** The `gradientLens` settings section the client reports. */
  settings?: Record<string, unknown>;
  initializationOptions?: Record<string, unknown>;
  /** Declare workspace.inlayHint.refreshSupport (the server may then send workspace/inlayHint/refresh). */
  inlayHintRefresh?: boolean;
  /** Environment variables set for the server process, beside this process's own. */
  env?: NodeJS.ProcessEnv;
}

interface Published {
  diagnostics: Diagnostic[];
  version: number | undefined;
  /** Counts publications for this URI. */
  serial: number;
}

/** Applies LSP text edits to a text (edits must not overlap). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const offsets = lineOffsets(text);
  const at = (p: { line: number; character: number }) => Math.min(text.length, (offsets[p.line] ?? text.length) + p.character);
  const sorted = [...edits].sort((a, b) => at(b.range.start) - at(a.range.start));
  let result = text;
  for (const edit of sorted) result = result.slice(0, at(edit.range.start)) + edit.newText + result.slice(at(edit.range.end));
  return result;
}

function lineOffsets(text: string): number[] {
  const offsets = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') offsets.push(i + 1);
  return offsets;
}

export class LspSession {
  readonly stderr: string[] = [];
  private readonly published = new Map<string, Published>();
  private readonly waiters = new Set<() => void>();
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  private settings: Record<string, unknown>;
  private exited = false;
  /** workspace/inlayHint/refresh requests the server sent. */
  inlayHintRefreshes = 0;

  private constructor(
    readonly process: ChildProcess,
    readonly connection: ProtocolConnection,
    options: SessionOptions,
  ) {
    this.settings = options.settings ?? {};
    process.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    process.on('exit', () => {
      this.exited = true;
      this.notify();
    });
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      const serial = (this.published.get(params.uri)?.serial ?? 0) + 1;
      this.published.set(params.uri, { diagnostics: params.diagnostics, version: params.version, serial });
      this.notify();
    });
    connection.onRequest(ConfigurationRequest.type, (params) => params.items.map((item) => (item.section === 'gradientLens' ? this.settings : null)));
    connection.onRequest(RegistrationRequest.type, () => undefined);
    connection.onRequest(InlayHintRefreshRequest.type, () => {
      this.inlayHintRefreshes++;
      this.notify();
    });
    connection.onNotification('window/logMessage', () => undefined);
  }

  static async start(options: SessionOptions = {}): Promise<LspSession> {
    const bundle = serverBundle();
    const child = spawn(process.execPath, [bundle, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.workspaceFolder ?? REPO_ROOT, env: { ...process.env, ...options.env } });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.listen();
    const session = new LspSession(child, connection, options);
    const folder = options.workspaceFolder;
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the initialize params still require rootUri (null when no folder)
      rootUri: folder ? fileUri(folder) : null,
      workspaceFolders: folder ? [{ uri: fileUri(folder), name: 'ws' }] : null,
      initializationOptions: options.initializationOptions,
      capabilities: {
        workspace: {
          configuration: true,
          didChangeConfiguration: { dynamicRegistration: true },
          didChangeWatchedFiles: { dynamicRegistration: true },
          ...(options.inlayHintRefresh ? { inlayHint: { refreshSupport: true } } : {}),
        },
        textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true, tagSupport: { valueSet: [1, 2] } } },
        notebookDocument: { synchronization: { dynamicRegistration: false } },
      },
    });
    await connection.sendNotification(InitializedNotification.type, {});
    return session;
  }

  /** Resolves when the server has sent more than `count` workspace/inlayHint/refresh requests. */
  inlayHintRefreshAfter(count: number): Promise<number> {
    return this.until(() => (this.inlayHintRefreshes > count ? this.inlayHintRefreshes : undefined), `an inlay hint refresh after ${count}`);
  }

  get alive(): boolean {
    return !this.exited && this.process.exitCode === null;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves when `check` returns a value; rejects after `timeoutMs` with `what` and the server's stderr. */
  private until<T>(check: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolvePromise, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          cleanup();
          resolvePromise(value);
        } else if (this.exited) {
          cleanup();
          reject(new Error(`server exited while waiting for ${what}\n${this.stderr.join('')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        const recent = [...this.published.entries()].slice(-5).map(([u, p]) => [u, p.version, p.diagnostics.map((d) => d.code ?? d.message)]);
        reject(new Error(`timed out waiting for ${what}; last published: ${JSON.stringify(recent)}\n${this.stderr.join('').slice(-4000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      this.waiters.add(attempt);
      attempt();
    });
  }

  // ---- text documents --------------------------------------------------------------------------

  async open(uri: string, text: string, languageId = 'python'): Promise<void> {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Replaces the whole text, sent as one incremental change covering the old text. */
  async change(uri: string, text: string): Promise<void> {
    const old = this.texts.get(uri) ?? '';
    const lines = old.split('\n');
    const end = { line: lines.length - 1, character: lines[lines.length - 1]!.length };
    await this.edit(uri, [{ range: { start: { line: 0, character: 0 }, end }, newText: text }]);
  }

  /** Sends incremental edits (in order, as LSP content changes) and tracks the resulting text. */
  async edit(uri: string, edits: TextEdit[]): Promise<void> {
    let text = this.texts.get(uri) ?? '';
    for (const e of edits) text = applyEdits(text, [e]);
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, text);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: edits.map((e) => ({ range: e.range, text: e.newText })),
    });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  text(uri: string): string {
    return this.texts.get(uri) ?? '';
  }

  /** Applies a workspace edit's changes for `uri` to the tracked text and sends them. */
  async applyWorkspaceEdit(uri: string, edit: WorkspaceEdit | undefined): Promise<void> {
    const edits = edit?.changes?.[uri];
    if (!edits) throw new Error(`workspace edit has no changes for ${uri}: ${JSON.stringify(edit)}`);
    await this.change(uri, applyEdits(this.text(uri), edits));
  }

  /** Diagnostics published for the document's current version. */
  diagnostics(uri: string, timeoutMs?: number): Promise<Diagnostic[]> {
    return this.until(() => {
      const p = this.published.get(uri);
      return p && p.version === this.versions.get(uri) ? p.diagnostics : undefined;
    }, `diagnostics for ${uri} v${this.versions.get(uri)}`, timeoutMs);
  }

  /** The latest diagnostics of `uri` once they satisfy `predicate` (for notebook cells and re-lints). */
  diagnosticsWhere(uri: string, predicate: (d: Diagnostic[]) => boolean, what: string, timeoutMs?: number): Promise<Diagnostic[]> {
    return this.until(() => {
      const p = this.published.get(uri);
      return p && predicate(p.diagnostics) ? p.diagnostics : undefined;
    }, `${what} (${uri})`, timeoutMs);
  }

  publishCount(uri: string): number {
    return this.published.get(uri)?.serial ?? 0;
  }

  // ---- notebooks -------------------------------------------------------------------------------

  async openNotebook(uri: string, cells: { text: string; kind?: 'code' | 'markup' }[]): Promise<string[]> {
    const cellUris = cells.map((_, i) => `vscode-notebook-cell:${uri.replace(/^file:/, '')}#cell${i}`);
    cells.forEach((c, i) => this.texts.set(cellUris[i]!, c.text));
    await this.connection.sendNotification(DidOpenNotebookDocumentNotification.type, {
      notebookDocument: {
        uri,
        notebookType: 'jupyter-notebook',
        version: 1,
        cells: cells.map((c, i) => ({ kind: c.kind === 'markup' ? NotebookCellKind.Markup : NotebookCellKind.Code, document: cellUris[i]! })),
      },
      cellTextDocuments: cells.map((c, i) => ({ uri: cellUris[i]!, languageId: c.kind === 'markup' ? 'markdown' : 'python', version: 1, text: c.text })),
    });
    return cellUris;
  }

  async changeNotebookCell(notebookUri: string, cellUri: string, text: string, version: number): Promise<void> {
    const old = this.texts.get(cellUri) ?? '';
    const lines = old.split('\n');
    this.texts.set(cellUri, text);
    await this.connection.sendNotification(DidChangeNotebookDocumentNotification.type, {
      notebookDocument: { uri: notebookUri, version },
      change: {
        cells: {
          textContent: [
            {
              document: { uri: cellUri, version },
              changes: [{ range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines[lines.length - 1]!.length } }, text }],
            },
          ],
        },
      },
    });
  }

  // ---- requests --------------------------------------------------------------------------------

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
  }

  async codeActions(uri: string, range: Range, diagnostics: Diagnostic[], only?: string[]): Promise<CodeAction[]> {
    const result = await this.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range, context: { diagnostics, ...(only ? { only } : {}) } });
    return (result ?? []).filter((a): a is CodeAction => 'title' in a && !('command' in a && typeof a.command === 'string'));
  }

  status(): Promise<ServerStatus> {
    return this.connection.sendRequest(ServerStatusRequest);
  }

  async setSettings(settings: Record<string, unknown>): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { gradientLens: settings } });
  }

  async filesChanged(changes: { path: string; type: 'created' | 'changed' | 'deleted' }[]): Promise<void> {
    const type: Record<'created' | 'changed' | 'deleted', FileChangeType> = { created: FileChangeType.Created, changed: FileChangeType.Changed, deleted: FileChangeType.Deleted };
    await this.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: changes.map((c) => ({ uri: fileUri(c.path), type: type[c.type] })) });
  }

  async stop(): Promise<void> {
    if (this.alive) {
      try {
        await Promise.race([this.connection.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
        await this.connection.sendNotification(ExitNotification.type);
      } catch {
        // already gone
      }
    }
    await Promise.race([new Promise((r) => {
        if (this.exited) r(null);
        else this.process.once('exit', r);
      }), new Promise((r) => setTimeout(r, 3000))]);
    if (this.alive && this.process.pid) this.process.kill('SIGKILL');
    this.connection.dispose();
  }
}

/** 0-based position of the `occurrence`-th `needle` in `text` (plus `offset` characters). */
export function positionOf(text: string, needle: string, offset = 0, occurrence = 0): { line: number; character: number } {
  let index = -1;
  for (let i = 0; i <= occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" not found`);
  }
  const before = text.slice(0, index + offset);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}

export function codes(diagnostics: { code?: string | number }[]): string[] {
  return diagnostics.map((d) => String(d.code ?? '')).filter((c) => c !== '');
}
