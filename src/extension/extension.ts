/**
 * The VS Code client, kept thin: it starts the language server, registers commands, and exposes a
 * small API (used by the end-to-end tests). All analysis happens in the server process.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ServerStatusRequest, type ServerStatus } from '../shared/protocol';
import { registerCommands } from './commands';
import { createLanguageClient } from './languageClient';
import { registerProbe } from './probe';

export interface GradientLensApi {
  /** Milliseconds from activate() being called to the language server answering initialize. */
  readonly activationMs: number;
  serverStatus(): Promise<ServerStatus>;
}

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<GradientLensApi> {
  const started = performance.now();
  const output = vscode.window.createOutputChannel('Gradient Lens', { log: true });
  context.subscriptions.push(output);
  const created = createLanguageClient(context, output);
  client = created.client;
  context.subscriptions.push(...registerCommands({ client, crashPolicy: created.crashPolicy, output }));
  context.subscriptions.push(...registerProbe(context, client, output));
  await client.start();
  const activationMs = performance.now() - started;
  output.info(`Gradient Lens activated in ${activationMs.toFixed(0)} ms (VS Code ${vscode.version}).`);
  const running = client;
  return {
    activationMs,
    serverStatus: (): Promise<ServerStatus> => running.sendRequest(ServerStatusRequest),
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
