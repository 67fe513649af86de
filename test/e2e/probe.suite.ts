/**
 * End-to-end tests of "Probe this model" inside the real VS Code (registered by suite.ts): CodeLens,
 * a real probe in its own process, the panel drawing its charts (reported back by the webview),
 * annotations on the layer lines (read through the test-only command, not from pixels), staleness,
 * cancellation, what-if, and the HTML export.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as vscode from 'vscode';
import type { ProbeRunSummary, ProbeTestState } from '../../src/extension/probe/controller';
import { defined } from '../defined';

type Register = (name: string, fn: () => Promise<void>) => void;
type Until = <T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs?: number) => Promise<T>;

/**
 * Asks the code-server runner for a picture of the workbench (test-results/e2e/<name>.png, used in the
 * README); under a runner that does not answer (desktop VS Code) it gives up after a few seconds.
 */
async function screenshot(name: string): Promise<void> {
  const result = process.env.GRADIENT_LENS_E2E_RESULT;
  if (!result) return;
  const request = `${result}.screenshot`;
  rmSync(`${request}.done`, { force: true });
  writeFileSync(request, name);
  const end = Date.now() + 8000;
  while (!existsSync(`${request}.done`) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  rmSync(`${request}.done`, { force: true });
}

async function hoverAt(editor: vscode.TextEditor, position: vscode.Position): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  editor.selection = new vscode.Selection(position, position);
  editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  await vscode.commands.executeCommand('editor.action.showHover');
  await new Promise((r) => setTimeout(r, 1500));
}

/** 0-based lines with a predicted inlay hint in the document. */
async function hintLines(uri: vscode.Uri): Promise<number[]> {
  const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', uri, new vscode.Range(0, 0, 200, 0));
  return hints.filter((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')).startsWith('predicted')).map((h) => h.position.line);
}

const state = () => vscode.commands.executeCommand<ProbeTestState>('gradientLens.test.probeState');

function fixtureUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the fixture workspace is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function lenses(uri: vscode.Uri, until: Until): Promise<vscode.CodeLens[]> {
  return until(async () => {
    const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
    const ours = found.filter((l) => l.command?.command === 'gradientLens.probeModel');
    return ours.length > 0 && ours;
  }, `Probe gradients CodeLens on ${uri.path}`, 60_000);
}

export function registerProbeTests(test: Register, until: Until): void {
  let probeLens: vscode.CodeLens;
  let whatIfLens: vscode.CodeLens | undefined;

  test('probe: a "Probe gradients" CodeLens sits above the model, with a what-if lens for its finding', async () => {
    // Short probes keep the suite fast; the cancel test asks for a long one.
    await vscode.workspace.getConfiguration('gradientLens.probe').update('steps', 8, vscode.ConfigurationTarget.Workspace);
    const uri = fixtureUri('bad_model.py');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const found = await lenses(uri, until);
    probeLens = defined(found.find((l) => defined(l.command).title === 'Probe gradients'));
    assert.ok(probeLens, `a "Probe gradients" lens (got ${found.map((l) => defined(l.command).title).join(' | ')})`);
    assert.equal(probeLens.range.start.line, 4, 'the lens sits on the line that names the model');
    whatIfLens = found.find((l) => defined(l.command).title.startsWith('Probe gradients: what if'));
    assert.ok(whatIfLens, `a what-if lens for the GL101 finding (got ${found.map((l) => defined(l.command).title).join(' | ')})`);
    // Before any run, the prediction sits on every layer line (README picture: lint and prediction together).
    await until(async () => (await hintLines(uri)).length === 5 && true, 'a predicted hint on each of the five layer lines');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('notifications.clearAll');
    await new Promise((r) => setTimeout(r, 1000));
    await screenshot('lint-and-prediction');
  });

  test('probe: running it opens the panel, which draws its charts, and annotates every layer line', async () => {
    const summary = await vscode.commands.executeCommand<ProbeRunSummary | undefined>(defined(probeLens.command).command, ...(defined(probeLens.command).arguments as unknown[]));
    assert.ok(summary?.ok, `the probe succeeded: ${summary?.message}`);
    const drawn = await until(async () => {
      const s = await state();
      return s.last?.firstChartMs !== null && s;
    }, 'the panel to report its first chart drawn', 60_000);
    assert.ok(drawn.panelOpen);
    console.log(`[e2e] probe request -> first chart drawn: ${defined(defined(drawn.last).firstChartMs).toFixed(0)} ms (${summary.message})`);
    const uri = fixtureUri('bad_model.py').toString();
    const annotated = drawn.annotations.filter((a) => a.uri === uri);
    assert.deepEqual(annotated.map((a) => a.line).sort((a, b) => a - b), [6, 7, 8, 9, 10], 'one annotation per Dense line');
    for (const a of annotated) {
      assert.match(a.text, /^∇ \d/, `annotation text on line ${a.line}: ${a.text}`);
      assert.equal(a.stale, false);
      assert.match(a.hover, /L2 norm of the gradient/, 'the hover explains the number');
    }
    // The predicted inlay hints give way to the measured values on the annotated lines (the server refreshes them).
    const measuredLines = annotated.map((a) => a.line - 1);
    await until(async () => (await hintLines(fixtureUri('bad_model.py'))).every((line) => !measuredLines.includes(line)) && true, 'no predicted hint on the measured lines');
    // Room for the pictures: no side bar, no notifications.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('notifications.clearAll');
    await new Promise((r) => setTimeout(r, 1000));
    await screenshot('probe-panel-and-annotations');
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixtureUri('bad_model.py')), vscode.ViewColumn.One);
    await hoverAt(editor, new vscode.Position(9, 30));
    await screenshot('probe-annotation-hover');
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    const clean = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixtureUri('clean_model.py')), vscode.ViewColumn.One);
    await new Promise((r) => setTimeout(r, 1500));
    const at = clean.document.getText().indexOf('he_normal');
    await hoverAt(clean, clean.document.positionAt(at + 2));
    await screenshot('initializer-hover');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('probe: a layer picked in the panel is revealed in the editor; a malformed panel message is refused', async () => {
    if (!(await state()).panelOpen) await vscode.commands.executeCommand<ProbeRunSummary>(defined(probeLens.command).command, ...(defined(probeLens.command).arguments as unknown[]));
    const accepted = await vscode.commands.executeCommand<boolean>('gradientLens.test.panelMessage', { type: 'reveal-layer', layerId: 'L2', line: 8 });
    assert.equal(accepted, true);
    const editor = await until(() => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.path.endsWith('bad_model.py') && active.selection.active.line === 7 && active;
    }, 'the editor to reveal line 8');
    assert.match(editor.document.lineAt(7).text, /Dense\(64/);
    assert.equal((await state()).lastRevealedLine, 8);
    assert.equal(await vscode.commands.executeCommand<boolean>('gradientLens.test.panelMessage', { type: 'reveal-layer', layerId: 'L2', line: '8' }), false);
  });

  test('probe: annotations go stale when the model is edited', async () => {
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixtureUri('bad_model.py')));
    await editor.edit((b) => { b.insert(new vscode.Position(0, 0), '# edited\n'); });
    await until(async () => (await state()).annotations.every((a) => a.stale) && true, 'stale annotations');
    // Stale measurements no longer hide the prediction: the hints are back on the layer lines (shifted by the inserted line).
    await until(async () => (await hintLines(editor.document.uri)).filter((line) => line >= 6 && line <= 10).length === 5 && true, 'predicted hints back on the five layer lines');
    await vscode.commands.executeCommand('undo');
  });

  test('probe: cancel stops a running probe', async () => {
    const config = vscode.workspace.getConfiguration('gradientLens.probe');
    // The most steps the setting allows, cancelled as soon as the probe runs: a fixed wait (1.5 s of
    // 200 steps) let a fast machine finish the probe first.
    await config.update('steps', 1000, vscode.ConfigurationTarget.Workspace);
    try {
      const pending = vscode.commands.executeCommand<ProbeRunSummary>(defined(probeLens.command).command, ...(defined(probeLens.command).arguments as unknown[]));
      await until(async () => (await state()).running, 'the probe to run');
      await vscode.commands.executeCommand('gradientLens.cancelProbe');
      const summary = await pending;
      assert.equal(summary.ok, false);
      assert.equal(summary.errorKind, 'cancelled');
    } finally {
      await config.update('steps', 8, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('probe: the what-if lens probes the fixed model too, with the same seed', async () => {
    assert.ok(whatIfLens);
    const summary = await vscode.commands.executeCommand<ProbeRunSummary>(defined(whatIfLens.command).command, ...(defined(whatIfLens.command).arguments as unknown[]));
    assert.ok(summary.ok, summary.message);
    assert.ok(summary.whatIfTitle, 'the result carries the what-if run');
    assert.ok(summary.whatIfVerdicts && !summary.whatIfVerdicts.includes('vanishing'), `what-if verdicts: ${summary.whatIfVerdicts?.join(', ')}`);
  });

  test('probe: "Apply fix" from the panel applies the finding\'s quick fix to the model', async () => {
    const document = await vscode.workspace.openTextDocument(fixtureUri('bad_model.py'));
    const before = document.getText();
    assert.equal(await vscode.commands.executeCommand<boolean>('gradientLens.test.panelMessage', { type: 'apply-fix', index: 0 }), true);
    await until(() => document.getText() !== before, 'the fix to edit bad_model.py');
    assert.ok(!/sigmoid/.test(document.lineAt(5).text) || /he_/.test(document.getText()), `the first layer changed: ${document.lineAt(5).text}`);
    await until(async () => (await state()).annotations.filter((a) => a.uri === document.uri.toString()).every((a) => a.stale) && true, 'annotations stale after the fix');
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('undo');
    await until(() => document.getText() === before, 'undo of the fix');
  });

  test('probe: a model whose input shape the code does not say is asked once (prefilled with the best guess), then remembered; the setting still wins', async () => {
    const source = 'from tensorflow import keras\nfrom tensorflow.keras import layers\n\nmodel = keras.Sequential([\n    layers.Dense(64, activation="relu"),\n    layers.Dense(10),\n])\n';
    const document = await vscode.workspace.openTextDocument({ language: 'python', content: source });
    await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    const lens = defined((await lenses(document.uri, until)).find((l) => defined(l.command).title === 'Probe gradients'));
    const run = () => vscode.commands.executeCommand<ProbeRunSummary>(defined(lens.command).command, ...(defined(lens.command).arguments as unknown[]));
    let answered: ProbeRunSummary | null = null;
    void Promise.resolve(run()).then((r) => (answered = r));
    // The input box is open, prefilled with the analyzer's guess: accept it as it is.
    await until(async () => {
      if (answered === null) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return answered;
    }, 'the input box accepted and the probe run', 60_000);
    const asked = answered as unknown as ProbeRunSummary;
    assert.ok(asked.ok, asked.message);
    // Remembered per model: the next probe asks nothing and runs straight away.
    const again = await run();
    assert.ok(again.ok, again.message);
    const config = vscode.workspace.getConfiguration('gradientLens.probe');
    await config.update('inputShape', [16], vscode.ConfigurationTarget.Workspace);
    try {
      const probed = await run();
      assert.ok(probed.ok, probed.message);
    } finally {
      await config.update('inputShape', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  test('probe: a CIFAR ResNet-18 (11 M parameters) probes from the editor, and the result says what was scaled', async () => {
    const extension = defined(vscode.extensions.getExtension('gradient-lens.gradient-lens'));
    const source = readFileSync(join(extension.extensionPath, 'test', 'fixtures', 'probe', 'torch_resnet18_cifar.py'), 'utf8');
    const document = await vscode.workspace.openTextDocument({ language: 'python', content: source });
    await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    const classLine = source.split('\n').findIndex((l) => l.startsWith('class ResNet('));
    const lens = defined((await lenses(document.uri, until)).find((l) => defined(l.command).title === 'Probe gradients' && l.range.start.line === classLine));
    try {
      const summary = await vscode.commands.executeCommand<ProbeRunSummary>(defined(lens.command).command, ...(defined(lens.command).arguments as unknown[]));
      assert.ok(summary.ok, summary.message);
      assert.equal(summary.modelName, 'ResNet');
      const scaled = summary.notices.find((n) => n.startsWith("Scaled to the probe's size budget"));
      assert.ok(scaled, `a notice says what was scaled: ${summary.notices.join(' | ')}`);
      assert.match(scaled, /batch \d+ -> \d+/);
      assert.match(scaled, /widths and fans unchanged/);
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  test('probe: the HTML export writes the self-contained report', async () => {
    const target = join(tmpdir(), `gradient-lens-e2e-${process.pid}.html`);
    const written = await vscode.commands.executeCommand<string | null>('gradientLens.exportProbe', 'html', target);
    assert.equal(written, target);
    assert.ok(existsSync(target));
    assert.match((await state()).lastNotice ?? '', /^Gradient Lens: exported the probe of \w+ \(HTML\) to .*\.html$/, 'a message confirms the export');
    const html = readFileSync(target, 'utf8');
    assert.match(html, /Content-Security-Policy/);
    assert.match(html, /<script type="application\/json" id="gl-initial-state">/);
    assert.ok(html.length > 100_000, 'the panel bundle is inlined');
  });
}
