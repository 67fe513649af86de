import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BN_AFTER_RELU, tempTree, RELU_STACK, runCli, SIGMOID_STACK } from './run-cli';
import { defined } from '../../defined';

interface JsonOutput {
  version: number;
  files: {
    path: string;
    error: string | null;
    models: { name: string; framework: string; line: number; layers: number; cell?: number; prediction?: { layers: { line: number; cell?: number; name: string }[] } | null }[];
    diagnostics: { code: string; name: string; severity: string; message: string; line: number; column: number; endLine: number; endColumn: number; cell?: number }[];
  }[];
}

function checkJson(root: string, ...args: string[]): { status: number | null; report: JsonOutput; stderr: string } {
  const run = runCli(['check', '--format', 'json', ...args], root);
  return { status: run.status, report: JSON.parse(run.stdout) as JsonOutput, stderr: run.stderr };
}

function codesIn(report: JsonOutput, path: string): string[] {
  return report.files.find((f) => f.path === path)?.diagnostics.map((d) => d.code) ?? [];
}

const notebook = (cells: { cell_type: string; source: string[] }[]) =>
  JSON.stringify({ cells: cells.map((c) => ({ ...c, metadata: {}, ...(c.cell_type === 'code' ? { outputs: [], execution_count: null } : {}) })), metadata: { kernelspec: { language: 'python', name: 'python3' } }, nbformat: 4, nbformat_minor: 5 });

describe('gradient-lens check: text output and exit codes', () => {
  it('prints path:line:col: CODE message for findings, nothing for the clean twin, and a summary; exits 1', () => {
    const root = tempTree({ 'model.py': SIGMOID_STACK, 'clean.py': RELU_STACK });
    const run = runCli(['check', '.'], root);
    expect(run.status).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    const findingLines = lines.filter((l) => /^\S+:\d+:\d+: GL\d{3} /.test(l));
    expect(findingLines.length).toBeGreaterThan(0);
    expect(findingLines.every((l) => l.startsWith('model.py:'))).toBe(true);
    expect(findingLines.some((l) => /^model\.py:[678]:5: GL101 \S/.test(l))).toBe(true);
    expect(run.stdout).not.toContain('clean.py');
    expect(lines.at(-1)).toMatch(/^Found \d+ problems? \(.*warning.*\) in 1 of 2 files\.$/);
    expect(run.stdout).not.toContain('\u001b[');
  });

  it('exits 0 on clean code and says so', () => {
    const root = tempTree({ 'clean.py': RELU_STACK });
    const run = runCli(['check'], root);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('No problems found in 1 file.');
  });

  it('reports information-level findings but still exits 0', () => {
    const root = tempTree({ 'net.py': BN_AFTER_RELU });
    const { status, report } = checkJson(root, 'net.py');
    expect(codesIn(report, 'net.py')).toEqual(['GL301']);
    expect(report.files[0]!.diagnostics[0]).toMatchObject({ severity: 'information', line: 7, column: 5 });
    expect(status).toBe(0);
  });

  it('colours the output only when asked to (FORCE_COLOR) or on a terminal, never with NO_COLOR', () => {
    const root = tempTree({ 'model.py': SIGMOID_STACK });
    expect(runCli(['check'], root, { FORCE_COLOR: '1' }).stdout).toContain('\u001b[');
    expect(runCli(['check'], root, { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout).not.toContain('\u001b[');
  });
});

describe('gradient-lens check --format json', () => {
  it('emits version 1 with files, models and 1-based diagnostics', () => {
    const root = tempTree({ 'model.py': SIGMOID_STACK, 'clean.py': RELU_STACK });
    const { status, report } = checkJson(root);
    expect(status).toBe(1);
    expect(report.version).toBe(1);
    expect(report.files.map((f) => f.path)).toEqual(['clean.py', 'model.py']);
    for (const file of report.files) expect(Object.keys(file)).toEqual(['path', 'error', 'models', 'diagnostics']);
    const model = report.files[1]!;
    expect(model.error).toBeNull();
    expect(model.models).toEqual([{ name: 'model', framework: 'keras', line: 4, layers: expect.any(Number), prediction: expect.objectContaining({ grade: expect.any(String), log10FirstLastRatio: expect.any(Number) }) }]);
    expect(model.models[0]!.layers).toBeGreaterThanOrEqual(4);
    const gl101 = model.diagnostics.find((d) => d.code === 'GL101');
    expect(gl101).toBeDefined();
    expect(Object.keys(defined(gl101))).toEqual(['code', 'name', 'severity', 'message', 'line', 'column', 'endLine', 'endColumn']);
    expect(gl101).toMatchObject({ name: 'saturating-activation-stack', severity: 'warning', column: 5 });
    expect(defined(gl101).line).toBeGreaterThanOrEqual(6);
    expect(defined(gl101).line).toBeLessThanOrEqual(8);
    expect(defined(gl101).endLine).toBeGreaterThanOrEqual(defined(gl101).line);
    expect(report.files[0]!.diagnostics).toEqual([]);
  });

  it('writes the report to --output and nothing to stdout', () => {
    const root = tempTree({ 'model.py': SIGMOID_STACK });
    const run = runCli(['check', '--format', 'json', '--output', 'out/report.json'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const report = JSON.parse(readFileSync(join(root, 'out/report.json'), 'utf8')) as JsonOutput;
    expect(codesIn(report, 'model.py')).toContain('GL101');
  });
});

describe('gradient-lens check: inputs', () => {
  it('walks folders for .py and .ipynb, skipping virtualenvs, node_modules and caches', () => {
    const root = tempTree({
      'src/pkg/model.py': SIGMOID_STACK,
      'src/pkg/notes.txt': SIGMOID_STACK,
      '.venv/lib/bad.py': SIGMOID_STACK,
      'venv/lib/bad.py': SIGMOID_STACK,
      'env/bad.py': SIGMOID_STACK,
      'myenv/pyvenv.cfg': 'home = /usr/bin\n',
      'myenv/lib/python3.11/site-packages/keras_thing.py': SIGMOID_STACK,
      'lib/site-packages/bad.py': SIGMOID_STACK,
      'node_modules/x/bad.py': SIGMOID_STACK,
      'src/__pycache__/bad.py': SIGMOID_STACK,
      '.git/hooks/bad.py': SIGMOID_STACK,
      'nb/.ipynb_checkpoints/copy-checkpoint.ipynb': notebook([{ cell_type: 'code', source: [SIGMOID_STACK] }]),
      'nb/experiment.ipynb': notebook([{ cell_type: 'code', source: [RELU_STACK] }]),
    });
    const { report } = checkJson(root, '.');
    expect(report.files.map((f) => f.path)).toEqual(['nb/experiment.ipynb', 'src/pkg/model.py']);
  });

  it('maps notebook findings back to their cell and line', () => {
    const root = tempTree({
      'exp.ipynb': notebook([
        { cell_type: 'markdown', source: ['# An experiment\n'] },
        { cell_type: 'code', source: ['%matplotlib inline\n', 'import numpy as np\n'] },
        { cell_type: 'code', source: SIGMOID_STACK.split(/(?<=\n)/) },
      ]),
    });
    const { report } = checkJson(root);
    const diagnostic = report.files[0]!.diagnostics.find((d) => d.code === 'GL101');
    expect(diagnostic?.cell).toBe(3);
    expect(diagnostic?.line).toBeGreaterThanOrEqual(6);
    expect(diagnostic?.line).toBeLessThanOrEqual(8);
    expect(report.files[0]!.models[0]).toMatchObject({ name: 'model', line: 4, cell: 3 });
    const text = runCli(['check'], root).stdout;
    expect(text).toMatch(/^exp\.ipynb:cell 3:[678]:5: GL101 /m);
  });

  it('names notebook lines by cell inside messages and predictions, as it names locations', () => {
    const root = tempTree({
      'exp.ipynb': notebook([
        { cell_type: 'markdown', source: ['# An experiment\n'] },
        { cell_type: 'code', source: ['import torch\n', 'import torch.nn as nn\n'] },
        {
          cell_type: 'code',
          source: ['class Net(nn.Module):\n', '    def __init__(self):\n', '        super().__init__()\n', '        self.fc = nn.Linear(64, 64)\n', '\n', '    def forward(self, x):\n', '        x = torch.isinf(x).float() + x\n', '        return self.fc(x)\n'],
        },
        { cell_type: 'code', source: ['mlp = nn.Sequential(\n', '    nn.Linear(64, 64), nn.ReLU(),\n', '    nn.Linear(64, 10),\n', ')\n'] },
      ]),
    });
    const verbose = runCli(['check', '--verbose'], root);
    const output = verbose.stdout + verbose.stderr;
    // torch.isinf sits on line 7 of cell 3 (line 10 of the joined code cells).
    expect(output).toMatch(/Cell 3, line 7: call torch\.isinf\(\.\.\.\) is not fully understood/);
    expect(output).toMatch(/no gradient-flow prediction \(torch\.isinf 'unknown' \(cell 3, line 7\)/);
    expect(output).not.toMatch(/line 10\b/);
    const { report } = checkJson(root);
    const mlp = report.files[0]!.models.find((m) => m.name === 'mlp');
    expect(mlp?.prediction?.layers.map((l) => [l.name, l.cell, l.line])).toEqual([['0', 4, 2], ['1', 4, 2], ['2', 4, 3]]);
  });

  it("holds a notebook's code cells to the size limit, not its outputs", () => {
    // A 3 MB embedded plot (over the 2 MB source limit) beside a small model cell; and 2.5 MB of code.
    const plot = { output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo'.repeat(300_000) }, metadata: {} };
    const withOutputs = JSON.stringify({ cells: [{ cell_type: 'code', source: SIGMOID_STACK.split(/(?<=\n)/), outputs: [plot], execution_count: 1, metadata: {} }], metadata: {}, nbformat: 4, nbformat_minor: 5 });
    const bigCode = notebook([{ cell_type: 'code', source: ['x = 1\n', '# padding line for the size limit\n'.repeat(80_000)] }]);
    const root = tempTree({ 'plots.ipynb': withOutputs, 'generated.ipynb': bigCode });
    const { report } = checkJson(root, '.');
    const file = (path: string) => report.files.find((f) => f.path === path);
    expect(withOutputs.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(file('plots.ipynb')?.error).toBeNull();
    expect(file('plots.ipynb')?.diagnostics.map((d) => d.code)).toContain('GL101');
    expect(file('generated.ipynb')?.error).toMatch(/the code cells are 2\.\d MB, over the 2\.0 MB limit/);
  });

  it('reports every bad input with a clear message, still analyzes the rest, and exits 2', () => {
    const root = tempTree({
      'good.py': SIGMOID_STACK,
      'binary.py': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]),
      'latin1.py': Buffer.from('# caf\xe9\nx = 1\n', 'latin1'),
      'huge.py': `x = 1\n${'# padding line for the size limit\n'.repeat(70_000)}`,
      'broken.ipynb': '{"cells": [',
      'rnotebook.ipynb': JSON.stringify({ cells: [], metadata: { kernelspec: { language: 'R' } }, nbformat: 4, nbformat_minor: 5 }),
      'empty.py': '',
    });
    const { status, report } = checkJson(root, '.', 'missing.py', 'missing-folder', '/dev/null');
    expect(status).toBe(2);
    const errorOf = (path: string) => report.files.find((f) => f.path === path)?.error;
    expect(errorOf('binary.py')).toMatch(/binary/);
    expect(errorOf('latin1.py')).toMatch(/UTF-8/);
    expect(errorOf('huge.py')).toMatch(/MB.*limit/);
    expect(errorOf('broken.ipynb')).toMatch(/not a valid notebook/);
    expect(errorOf('rnotebook.ipynb')).toMatch(/not Python/);
    expect(errorOf('missing.py')).toMatch(/no such file/);
    expect(errorOf('missing-folder')).toMatch(/no such file/);
    expect(errorOf('/dev/null')).toBe('not a regular file or folder');
    expect(errorOf('empty.py')).toBeNull();
    expect(codesIn(report, 'good.py')).toContain('GL101');
    // In text, stdout stays one finding per line; what could not be read goes to stderr.
    const text = runCli(['check', '.', 'missing.py'], root);
    expect(text.status).toBe(2);
    expect(text.stderr).toMatch(/^binary\.py: error: binary/m);
    expect(text.stderr).toMatch(/^missing\.py: error: no such file/m);
    const stdoutLines = text.stdout.trimEnd().split('\n');
    expect(stdoutLines.slice(0, -1).every((l) => /^good\.py:\d+:\d+: GL\d{3} /.test(l))).toBe(true);
    expect(stdoutLines.at(-1)).toMatch(/6 files could not be analyzed\.$/);
  });

  it('analyzes what parses in a file with syntax errors and notes the error on stderr', () => {
    const withError = SIGMOID_STACK.replace('model.compile(', 'model.compile((');
    const root = tempTree({ 'model.py': withError });
    const { status, report, stderr } = checkJson(root);
    expect(codesIn(report, 'model.py')).toContain('GL101');
    expect(stderr).toMatch(/^model\.py:\d+:\d+: note: Syntax error/m);
    expect(status).toBe(1);
  });

  it('notes Python 2 source instead of crashing', () => {
    const root = tempTree({ 'old.py': 'print "hello"\nx = 1\n' });
    const run = runCli(['check'], root);
    expect(run.stderr).toMatch(/^old\.py:1:1: note: .*Python 2/m);
    expect(run.stdout).toBe('No problems found in 1 file.\n');
    expect(run.status).toBe(0);
  });
});

describe('gradient-lens check: notes', () => {
  it('notes code it does not model only with --verbose', () => {
    const custom = `import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.attn = nn.Transformer(d_model=64, nhead=4)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.fc1(x).relu()
        x = self.attn(x, x)
        return self.fc2(x)
`;
    const root = tempTree({ 'net.py': custom });
    expect(runCli(['check'], root).stderr).toBe('');
    expect(runCli(['check', '--verbose'], root).stderr).toMatch(/^net\.py:\d+:\d+: note: .*nn\.Transformer/m);
  });
});

describe('gradient-lens check: one project', () => {
  it('links a model in one input file to the training loop in another', () => {
    const root = tempTree({
      'model.py': `import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab=5000, hidden=256, tags=12):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, hidden, num_layers=2, batch_first=True)
        self.out = nn.Linear(hidden, tags)

    def forward(self, tokens):
        states, _ = self.lstm(self.embed(tokens))
        return self.out(states)
`,
      'train.py': `import torch
from torch import nn

from model import Tagger


def fit(loader, epochs=5):
    model = Tagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for tokens, tags in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(tokens).transpose(1, 2), tags)
            loss.backward()
            optimizer.step()
    return model
`,
    });
    const { status, report } = checkJson(root);
    expect(codesIn(report, 'model.py')).toEqual(['GL401']);
    expect(codesIn(report, 'train.py')).toEqual(['GL401']);
    expect(defined(report.files.find((f) => f.path === 'model.py')).diagnostics[0]!.line).toBe(8);
    expect(status).toBe(1);
    // Given alone, train.py has no model to link the loop to: nothing is guessed.
    expect(codesIn(checkJson(root, 'train.py').report, 'train.py')).toEqual([]);
  });
});

describe('gradient-lens check: selection, configuration and suppression', () => {
  it('--ignore and --select filter rules by code or prefix', () => {
    const root = tempTree({ 'model.py': SIGMOID_STACK, 'net.py': BN_AFTER_RELU });
    expect(checkJson(root, '--ignore', 'GL101').status).toBe(0);
    const selected = checkJson(root, '--select', 'GL3');
    expect(codesIn(selected.report, 'model.py')).toEqual([]);
    expect(codesIn(selected.report, 'net.py')).toEqual(['GL301']);
    expect(selected.status).toBe(0);
  });

  it('rejects unknown codes and formats as usage errors (exit 2)', () => {
    const root = tempTree({ 'model.py': RELU_STACK });
    const unknown = runCli(['check', '--select', 'GL999'], root);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--select: unknown rule code "GL999"');
    const format = runCli(['check', '--format', 'xml'], root);
    expect(format.status).toBe(2);
    expect(format.stderr).toMatch(/xml/);
    expect(runCli(['check', '--no-such-flag'], root).status).toBe(2);
    expect(runCli(['frobnicate'], root).status).toBe(2);
  });

  it('follows [tool.gradient-lens] in the nearest pyproject.toml', () => {
    const root = tempTree({
      'pyproject.toml': '[project]\nname = "demo"\n\n[tool.gradient-lens.severity]\nGL101 = "information"\n',
      'models/model.py': SIGMOID_STACK,
      'strict/pyproject.toml': '[tool.gradient-lens]\nselect = ["GL1"]\n[tool.gradient-lens.severity]\nGL301 = "error"\n',
      'strict/net.py': BN_AFTER_RELU,
    });
    const { status, report } = checkJson(root);
    const model = defined(report.files.find((f) => f.path === 'models/model.py'));
    expect(model.diagnostics.find((d) => d.code === 'GL101')?.severity).toBe('information');
    expect(codesIn(report, 'strict/net.py')).toEqual([]);
    expect(status).toBe(0);
  });

  it('reports configuration problems naming file and key, and exits 2', () => {
    const root = tempTree({ 'pyproject.toml': '[tool.gradient-lens]\nignore = ["GL101"]\nseverty = {}\n', 'model.py': SIGMOID_STACK });
    const run = runCli(['check'], root);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${join(root, 'pyproject.toml')}: [tool.gradient-lens] has unknown key "severty"`);
    expect(run.stdout).not.toContain('GL101');
  });

  it('--config replaces the pyproject.toml lookup', () => {
    const root = tempTree({ 'pyproject.toml': '[tool.gradient-lens]\nignore = ["GL101"]\n', 'ci.toml': 'select = ["GL1"]\n', 'model.py': SIGMOID_STACK });
    expect(checkJson(root).status).toBe(0);
    const run = checkJson(root, '--config', 'ci.toml');
    expect(codesIn(run.report, 'model.py')).toContain('GL101');
    expect(run.status).toBe(1);
  });

  it('honours noqa and gradient-lens ignore comments', () => {
    const noqa = SIGMOID_STACK.replace(/("sigmoid"\),)/g, '$1  # noqa: GL101');
    const fileLevel = `# gradient-lens: ignore-file[GL101]\n${SIGMOID_STACK}`;
    const otherCode = SIGMOID_STACK.replace(/("sigmoid"\),)/g, '$1  # noqa: GL203, GL999');
    const root = tempTree({ 'noqa.py': noqa, 'file.py': fileLevel, 'other.py': otherCode });
    const { report, stderr } = checkJson(root);
    expect(stderr).toMatch(/^other\.py:6:\d+: note: Unknown rule code GL999 in suppression comment/m);
    expect(codesIn(report, 'noqa.py')).toEqual([]);
    expect(codesIn(report, 'file.py')).toEqual([]);
    expect(codesIn(report, 'other.py')).toContain('GL101');
  });
});

describe('gradient-lens check: a problem found in several models', () => {
  it('is one line, one JSON diagnostic and one SARIF result with the same message, naming the other models', () => {
    const fixture = readFileSync(join(__dirname, '../../fixtures/rules/GL302/bad_torch_block_in_models.py'), 'utf8');
    const root = tempTree({ 'net.py': fixture });
    const also = '(also in Net() at line 28: b1, b2; Net() at line 32: b1, b2)';
    const text = runCli(['check', 'net.py'], root).stdout.trimEnd().split('\n');
    expect(text.filter((l) => l.startsWith('net.py:'))).toEqual([expect.stringMatching(/^net\.py:10:21: GL302 'conv' adds a bias .*\)$/)]);
    expect(defined(text[0]).endsWith(also)).toBe(true);
    const json = checkJson(root, 'net.py').report;
    expect(defined(json.files[0]).diagnostics.map((d) => `${d.code}@${d.line}:${d.column} ${d.message.endsWith(also)}`)).toEqual(['GL302@10:21 true']);
    const sarif = JSON.parse(runCli(['check', '--format', 'sarif', 'net.py'], root).stdout) as { runs: { results: { ruleId: string; message: { text: string } }[] }[] };
    expect(defined(sarif.runs[0]).results.map((r) => `${r.ruleId} ${r.message.text === defined(json.files[0]).diagnostics[0]?.message}`)).toEqual(['GL302 true']);
  });
});
