/** Settings over real JSON-RPC: gradientLens.* changes and pyproject.toml changes re-lint open files. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { LspSession, codes, fileUri, fixtureText, FIXTURES } from './harness';

describe('gradientLens.* settings', () => {
  let session: LspSession;
  const uri = 'untitled:Untitled-settings';
  beforeAll(async () => {
    session = await LspSession.start();
    await session.open(uri, fixtureText('torch_tanh_stack.py'));
    expect(codes(await session.diagnostics(uri)).sort()).toEqual(['GL101', 'GL302']);
  });
  afterAll(async () => {
    await session.stop();
  });

  it('ignore removes a rule\'s diagnostics and select narrows to a category', async () => {
    await session.setSettings({ ignore: ['GL302'] });
    await session.diagnosticsWhere(uri, (d) => codes(d).join() === 'GL101', 'GL302 ignored');
    await session.setSettings({ select: ['GL3'] });
    await session.diagnosticsWhere(uri, (d) => codes(d).join() === 'GL302', 'only GL3xx selected');
  });

  it('severity overrides change the published severity', async () => {
    await session.setSettings({ severity: { GL101: 'error', gl302: 'hint' } });
    const diagnostics = await session.diagnosticsWhere(uri, (d) => d.some((x) => x.code === 'GL101' && x.severity === DiagnosticSeverity.Error), 'GL101 as error');
    expect(diagnostics.find((d) => d.code === 'GL302')?.severity).toBe(DiagnosticSeverity.Hint);
  });

  it('thresholds reach the rules: a longer minimum stack silences GL101', async () => {
    await session.setSettings({ thresholds: { 'saturating-stack-length': 4 } });
    await session.diagnosticsWhere(uri, (d) => codes(d).join() === 'GL302', 'GL101 below the threshold');
  });

  it('enable: false clears everything; true brings it back', async () => {
    await session.setSettings({ enable: false });
    await session.diagnosticsWhere(uri, (d) => d.length === 0, 'disabled');
    await session.setSettings({ enable: true });
    await session.diagnosticsWhere(uri, (d) => codes(d).sort().join() === 'GL101,GL302', 'enabled again');
  });
});

describe('[tool.gradient-lens] in pyproject.toml', () => {
  let session: LspSession;
  let folder: string;
  beforeAll(async () => {
    folder = join(mkdtempSync(join(tmpdir(), 'gl-lsp-config-')), 'project');
    cpSync(join(FIXTURES, 'workspace'), folder, { recursive: true });
    writeFileSync(join(folder, 'regressor.py'), fixtureText('torch_tanh_stack.py'));
    writeFileSync(join(folder, 'pyproject.toml'), readFileSync(join(folder, 'pyproject.toml'), 'utf8').replace('severity = { GL101 = "error" }', 'severity = { GL302 = "error" }'));
    session = await LspSession.start({ workspaceFolder: folder });
  });
  afterAll(async () => {
    await session.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('applies the project\'s severities, merged under the editor settings', async () => {
    const uri = fileUri(join(folder, 'regressor.py'));
    await session.open(uri, readFileSync(join(folder, 'regressor.py'), 'utf8'));
    const diagnostics = await session.diagnostics(uri);
    expect(diagnostics.find((d) => d.code === 'GL302')?.severity).toBe(DiagnosticSeverity.Error);
    // Not overridden: GL101's own severity, information for this short tanh stack predicted healthy enough at initialization.
    expect(diagnostics.find((d) => d.code === 'GL101')?.severity).toBe(DiagnosticSeverity.Information);

    await session.setSettings({ severity: { GL302: 'information' } });
    await session.diagnosticsWhere(uri, (d) => d.some((x) => x.code === 'GL302' && x.severity === DiagnosticSeverity.Information), 'editor severity wins');
    await session.setSettings({});
  });

  it('re-lints open files when pyproject.toml changes on disk', async () => {
    const uri = fileUri(join(folder, 'regressor.py'));
    writeFileSync(join(folder, 'pyproject.toml'), '[tool.gradient-lens]\nignore = ["GL101"]\n');
    await session.filesChanged([{ path: join(folder, 'pyproject.toml'), type: 'changed' }]);
    await session.diagnosticsWhere(uri, (d) => codes(d).join() === 'GL302' && d[0]!.severity === DiagnosticSeverity.Warning, 'new pyproject settings');
  });
});
