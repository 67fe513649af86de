/** Registers the probe in the editor: CodeLens, commands, panel serializer, annotations. */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { PROBE_COMMAND, ProbeCodeLensProvider } from './codeLens';
import { ProbeController } from './controller';

/** Not contributed in package.json: the end-to-end tests read what was decorated through it. */
export const TEST_STATE_COMMAND = 'gradientLens.test.probeState';
export const TEST_PANEL_MESSAGE_COMMAND = 'gradientLens.test.panelMessage';

export function registerProbe(context: vscode.ExtensionContext, client: LanguageClient, output: vscode.LogOutputChannel): vscode.Disposable[] {
  const controller = new ProbeController(context, client, output);
  const lenses = new ProbeCodeLensProvider(client);
  return [
    controller,
    lenses,
    vscode.languages.registerCodeLensProvider({ language: 'python' }, lenses),
    vscode.commands.registerCommand(PROBE_COMMAND, (uri?: unknown, modelId?: unknown, whatIf?: unknown) => controller.probe(uri, modelId, whatIf)),
    vscode.commands.registerCommand('gradientLens.cancelProbe', () => { controller.cancel(); }),
    vscode.commands.registerCommand('gradientLens.exportProbe', async (format?: unknown, target?: unknown) => {
      const chosen = format === 'json' || format === 'html' ? format : (await vscode.window.showQuickPick(['html', 'json'], { title: 'Export the probe as' })) as 'html' | 'json' | undefined;
      return chosen ? controller.export(chosen, target) : null;
    }),
    vscode.commands.registerCommand(TEST_STATE_COMMAND, () => controller.testState()),
    vscode.commands.registerCommand(TEST_PANEL_MESSAGE_COMMAND, (message: unknown) => controller.simulatePanelMessage(message)),
  ];
}
