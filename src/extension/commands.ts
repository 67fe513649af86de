/** The extension's commands as a table of small factories (rust-analyzer's convention). */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { CrashPolicy } from './crashPolicy';

export interface CommandContext {
  client: LanguageClient;
  crashPolicy: CrashPolicy;
  output: vscode.LogOutputChannel;
}

type CommandFactory = (ctx: CommandContext) => (...args: unknown[]) => unknown;

export const COMMANDS: Record<string, CommandFactory> = {
  'gradientLens.restartServer': (ctx) => async () => {
    ctx.output.info('Restarting the Gradient Lens server (requested).');
    ctx.crashPolicy.reset();
    await ctx.client.restart();
  },
  'gradientLens.showOutput': (ctx) => () => { ctx.output.show(true); },
};

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, factory(ctx)));
}
