/**
 * End-to-end tests of every editor feature in Jupyter notebook cells (registered by suite.ts), on
 * test/e2e/workspace/probe_notebook.ipynb: a sigmoid stack built over cells 3 and 4 (GL101) after a
 * relu + he_normal first layer, and a clean model `small` in cell 5. Hovers, quick fixes, the
 * ignore action, CodeLens, "Probe This Model" from a cell, layer lines annotated and revealed in
 * their cells, and the panel's "Apply fix" editing the right cell.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProbeRunSummary, ProbeTestState } from '../../src/extension/probe/controller';
import { defined } from '../defined';

type Register = (name: string, fn: () => Promise<void>) => void;
type Until = <T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs?: number) => Promise<T>;

const NOTEBOOK = 'probe_notebook.ipynb';
const PROBE_COMMAND = 'gradientLens.probeModel';

const state = () => vscode.commands.executeCommand<ProbeTestState>('gradientLens.test.probeState');

function codeOf(d: vscode.Diagnostic): string | undefined {
  return typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
}

const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'gradient-lens');

async function openNotebook(): Promise<vscode.NotebookDocument> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the fixture workspace is open');
  const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder.uri, NOTEBOOK));
  await vscode.window.showNotebookDocument(notebook);
  return notebook;
}

function cell(notebook: vscode.NotebookDocument, index: number): vscode.TextDocument {
  const found = notebook.cellAt(index);
  assert.equal(found.kind, vscode.NotebookCellKind.Code, `cell ${index + 1} is a code cell`);
  return found.document;
}

function positionOf(document: vscode.TextDocument, needle: string, occurrence = 0): vscode.Position {
  let index = -1;
  for (let i = 0; i <= occurrence; i++) index = document.getText().indexOf(needle, index + 1);
  assert.ok(index >= 0, `"${needle}" occurs in the cell`);
  return document.positionAt(index + 1);
}

async function hoverText(uri: vscode.Uri, position: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position);
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- hover contents may still arrive as the deprecated MarkedString
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
}

async function probeLenses(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
  return found.filter((l) => l.command?.command === PROBE_COMMAND);
}

export function registerNotebookTests(test: Register, until: Until): void {
  test('notebook: hovers on an initializer and an activation in a cell show that layer\'s numbers', async () => {
    const notebook = await openNotebook();
    const modelCell = cell(notebook, 2);
    const init = await until(async () => {
      const text = await hoverText(modelCell.uri, positionOf(modelCell, 'he_normal'));
      return text.length > 0 && text;
    }, 'a hover on he_normal in cell 3');
    // Dense(64) on 32 inputs: fan_in 32, fan_out 64, He std sqrt(2/32).
    assert.ok(init.includes('fan_in = 32') && init.includes('fan_out = 64'), `fan_in/fan_out of the layer in: ${init}`);
    // Keras' he_normal is truncated: the hover gives the effective std, sqrt(2 / 32) = 0.25.
    assert.match(init, /effective std 0\.25\b/, `He std in: ${init}`);
    const stackCell = cell(notebook, 3);
    const activation = await hoverText(stackCell.uri, positionOf(stackCell, 'sigmoid'));
    assert.match(activation, /sigmoid/i, `the activation hover names it: ${activation}`);
    assert.match(activation, /0\.25/, `the sigmoid hover gives its largest derivative: ${activation}`);
    assert.equal(await hoverText(cell(notebook, 1).uri, new vscode.Position(0, 2)), '', 'no hover on an import');
  });

  test('notebook: a finding in a cell offers its quick fix and "Ignore", and the ignore silences it', async () => {
    const notebook = await openNotebook();
    const flagged = cell(notebook, 2);
    const gl101 = await until(() => ours(flagged.uri).find((d) => codeOf(d) === 'GL101'), 'GL101 in cell 3');
    assert.match(flagged.lineAt(gl101.range.start.line).text, /sigmoid/);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', flagged.uri, gl101.range, vscode.CodeActionKind.QuickFix.value);
    const titles = actions.map((a) => a.title).join(' | ');
    const ignore = actions.find((a) => a.title === 'Ignore GL101 on this line');
    assert.ok(ignore?.edit, `"Ignore GL101 on this line" is offered (got: ${titles})`);
    assert.ok(actions.some((a) => a !== ignore && a.edit && /relu|he_/i.test(a.title)), `the GL101 fix is offered (got: ${titles})`);
    for (const [uri] of ignore.edit.entries()) assert.equal(uri.toString(), flagged.uri.toString(), 'the ignore edit lands in the cell, not the .ipynb file');
    const before = flagged.getText();
    assert.ok(await vscode.workspace.applyEdit(ignore.edit));
    try {
      assert.match(flagged.lineAt(gl101.range.start.line).text, /# noqa: GL101|gradient-lens: ignore\[GL101\]/);
      await until(() => !ours(flagged.uri).some((d) => codeOf(d) === 'GL101'), 'GL101 silenced by the ignore comment');
    } finally {
      const restore = new vscode.WorkspaceEdit();
      restore.replace(flagged.uri, new vscode.Range(0, 0, flagged.lineCount, 0), before);
      await vscode.workspace.applyEdit(restore);
    }
    await until(() => ours(flagged.uri).some((d) => codeOf(d) === 'GL101'), 'GL101 back');
  });

  test('notebook: CodeLens above each model in the cell that names it, none elsewhere', async () => {
    const notebook = await openNotebook();
    // A cell's lenses are asked for once the notebook editor has rendered the cell.
    const lensesOf = async (index: number) => {
      await vscode.window.showTextDocument(cell(notebook, index));
      return probeLenses(cell(notebook, index).uri);
    };
    const modelLenses = await until(async () => {
      const found = await lensesOf(2);
      return found.some((l) => defined(l.command).title.startsWith('Probe gradients: what if')) && found;
    }, 'Probe gradients and what-if lenses in cell 3', 60_000);
    assert.ok(modelLenses.every((l) => l.range.start.line === 0), 'the lenses sit on the line that names the model');
    assert.ok(modelLenses.some((l) => defined(l.command).title === 'Probe gradients'));
    assert.deepEqual((await lensesOf(3)).map((l) => defined(l.command).title), [], 'the cell that only adds layers has none');
    const small = await lensesOf(4);
    assert.deepEqual(small.map((l) => `${l.range.start.line}: ${defined(l.command).title}`), ['0: Probe gradients'], 'the clean model gets a probe lens only');
  });

  test('notebook: "Probe This Model" from a cell probes the model at the cursor and annotates the layer lines in their cells', async () => {
    const notebook = await openNotebook();
    const stackCell = cell(notebook, 3);
    const editor = await vscode.window.showTextDocument(stackCell);
    editor.selection = new vscode.Selection(1, 5, 1, 5);
    const summary = await vscode.commands.executeCommand<ProbeRunSummary | undefined>(PROBE_COMMAND);
    assert.ok(summary?.ok, `the probe succeeded: ${summary?.message}`);
    assert.equal(summary.modelName, 'model', 'the model around the cursor (a cell that only adds its layers)');
    const annotations = (await state()).annotations;
    const lines = (document: vscode.TextDocument) => annotations.filter((a) => a.uri === document.uri.toString()).map((a) => a.line).sort((a, b) => a - b);
    assert.deepEqual(lines(cell(notebook, 2)), [2, 3], 'the two Dense lines of cell 3 (1-based cell lines)');
    assert.deepEqual(lines(stackCell), [1, 2, 3, 4], 'the four Dense lines of cell 4');
    assert.deepEqual(lines(cell(notebook, 4)), [], 'nothing on the other model');
    for (const a of annotations.filter((x) => x.uri === stackCell.uri.toString())) assert.match(a.text, /^∇ \d/);

    const smallCell = cell(notebook, 4);
    const smallEditor = await vscode.window.showTextDocument(smallCell);
    smallEditor.selection = new vscode.Selection(2, 8, 2, 8);
    const small = await vscode.commands.executeCommand<ProbeRunSummary | undefined>(PROBE_COMMAND);
    assert.ok(small?.ok, small?.message);
    assert.equal(small.modelName, 'small', 'the cursor in cell 5 picks the model defined there');
    assert.deepEqual(small.verdicts.filter((v) => v === 'vanishing'), []);
  });

  test('notebook: the what-if lens and the panel act on cells: reveal a layer in its cell, apply the fix there', async () => {
    const notebook = await openNotebook();
    const modelCell = cell(notebook, 2);
    const stackCell = cell(notebook, 3);
    const whatIf = (await probeLenses(modelCell.uri)).find((l) => defined(l.command).title.startsWith('Probe gradients: what if'));
    assert.ok(whatIf, 'a what-if lens in cell 3');
    const summary = await vscode.commands.executeCommand<ProbeRunSummary>(defined(whatIf.command).command, ...(defined(whatIf.command).arguments as unknown[]));
    assert.ok(summary.ok, summary.message);
    assert.ok(summary.whatIfVerdicts && !summary.whatIfVerdicts.includes('vanishing'), `what-if verdicts: ${summary.whatIfVerdicts?.join(', ')}`);

    // The probe's lines are the notebook's analyzed text, its code cells joined: cells 2 and 3 hold
    // 2 + 3 lines, so line 7 is cell 4's second line.
    const layerLine = await until(async () => (await state()).annotations.find((a) => a.uri === stackCell.uri.toString() && a.line === 2), 'an annotation on cell 4 line 2');
    assert.ok(layerLine);
    const analyzedLine = 2 + 3 + 2;
    assert.equal(await vscode.commands.executeCommand<boolean>('gradientLens.test.panelMessage', { type: 'reveal-layer', layerId: 'L3', line: analyzedLine }), true);
    const revealed = await until(() => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.toString() === stackCell.uri.toString() && active.selection.active.line === 1 && active;
    }, 'the editor to reveal cell 4, line 2');
    assert.match(revealed.document.lineAt(1).text, /Dense\(64, activation="sigmoid"\)/);

    const before = notebook.getCells().map((c) => c.document.getText());
    assert.equal(await vscode.commands.executeCommand<boolean>('gradientLens.test.panelMessage', { type: 'apply-fix', index: 0 }), true);
    await until(() => notebook.getCells().some((c, i) => c.document.getText() !== before[i]), 'the fix to edit a cell');
    const after = notebook.getCells().map((c) => c.document.getText());
    assert.equal(after[0], before[0], 'the markdown cell is untouched');
    assert.equal(after[4], before[4], 'the other model is untouched');
    assert.ok(after.every((text) => !text.includes('"cells"')), 'no cell received the notebook file\'s JSON');
    assert.notEqual(after[2], before[2], 'the GL101 fix edits the cell holding the stack\'s first layer');
    assert.ok(!ours(modelCell.uri).some((d) => codeOf(d) === 'GL101') || after[2]!.includes('he_'), `cell 3 after the fix: ${after[2]}`);
    const restore = new vscode.WorkspaceEdit();
    notebook.getCells().forEach((c, i) => { restore.replace(c.document.uri, new vscode.Range(0, 0, c.document.lineCount, 0), before[i]!); });
    assert.ok(await vscode.workspace.applyEdit(restore));
  });
}
