/** Starts dist/server.js as a child process speaking LSP over Node IPC, and restarts it when it crashes. */
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { CrashPolicy, MAX_RESTARTS, RESTART_WINDOW_MS } from './crashPolicy';

export const CLIENT_ID = 'gradientLens';
export const CLIENT_NAME = 'Gradient Lens';

export function createLanguageClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): { client: LanguageClient; crashPolicy: CrashPolicy } {
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const crashPolicy = new CrashPolicy();
  const clientOptions: LanguageClientOptions = {
    // Python files, and the Python cells of Jupyter notebooks: hovers and code actions are asked for
    // both. Cells are synced as notebooks (the server's notebookDocumentSync), never as lone documents.
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
      { notebook: 'jupyter-notebook', language: 'python' },
    ],
    outputChannel: output,
    traceOutputChannel: output,
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        if (crashPolicy.shouldRestart(Date.now())) {
          output.warn('The Gradient Lens server stopped unexpectedly; restarting it.');
          return { action: CloseAction.Restart, handled: true };
        }
        return {
          action: CloseAction.DoNotRestart,
          message: `The Gradient Lens server crashed ${MAX_RESTARTS + 1} times in ${RESTART_WINDOW_MS / 60_000} minutes and was not restarted. See the "Gradient Lens" output, then run "Gradient Lens: Restart Server".`,
        };
      },
    },
  };
  return { client: new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions), crashPolicy };
}
