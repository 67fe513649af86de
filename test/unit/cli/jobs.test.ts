/**
 * `check --jobs N` (issue 10): the worker pool gives the same report, byte for byte and in the same
 * order, as one job — on the repository's examples and fixtures (cross-file projects, packages,
 * notebooks, pyproject settings), and on the case that needs the whole project at once (a training
 * cell that never binds its model, linked to the project's only model), each folder with enough files
 * that the pool starts (MIN_FILES_PER_WORKER per worker). Bad values are usage errors.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BN_AFTER_RELU, CLI, RELU_STACK, SIGMOID_STACK, tempTree, REPO_ROOT, runCli, type CliRun } from './run-cli';
import { defined } from '../../defined';
import { MIN_FILES_PER_WORKER, workersFor } from '../../../src/cli/check-pool';

const extractFixture = (name: string) => readFileSync(join(REPO_ROOT, 'test/fixtures/constructs', name), 'utf8');

/** The CLI without blocking the test worker (long runs of spawnSync starve vitest's own messages). */
function runCliAsync(args: string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { PATH: process.env.PATH, HOME: process.env.HOME } }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** A data helper module of a training project (no model), the `index`th of a folder's many. */
function dataHelper(index: number): string {
  return [
    'import numpy as np',
    '',
    '',
    `def load_split_${index}(path, val_fraction=0.1):`,
    '    data = np.load(path)',
    '    cut = int(len(data) * (1 - val_fraction))',
    '    return data[:cut], data[cut:]',
    '',
    '',
    `def normalize_${index}(x, eps=1e-6):`,
    '    return (x - x.mean(axis=0)) / (x.std(axis=0) + eps)',
    '',
  ].join('\n');
}

/** `files` and enough model-free helper modules beside them that two workers start. */
function withHelpers(files: Record<string, string | Buffer>): Record<string, string | Buffer> {
  const helpers = Object.fromEntries(Array.from({ length: 2 * MIN_FILES_PER_WORKER }, (_, i) => [`data/helpers_${i}.py`, dataHelper(i)]));
  return { ...helpers, ...files };
}

/** stdout and exit status of `check` at --jobs 1 and --jobs `jobs`, in `cwd`. */
async function bothWays(cwd: string, args: string[], jobs = 2): Promise<{ one: CliRun; many: CliRun }> {
  const one = await runCliAsync(['check', ...args, '--jobs', '1'], cwd);
  const many = await runCliAsync(['check', ...args, '--jobs', String(jobs)], cwd);
  return { one, many };
}

describe('check --jobs', () => {
  it('reports the examples and fixtures exactly as one job does, in JSON and text', async () => {
    const paths = ['examples', 'test/fixtures', 'test/lsp/fixtures'];
    const json = await bothWays(REPO_ROOT, ['--format', 'json', ...paths]);
    const report = JSON.parse(json.one.stdout) as { files: { path: string; diagnostics: unknown[] }[] };
    expect(report.files.length).toBeGreaterThan(50);
    expect(report.files.some((f) => f.diagnostics.length > 0)).toBe(true);
    expect(json.many.stdout).toBe(json.one.stdout);
    expect(json.many.status).toBe(json.one.status);
    const text = await bothWays(REPO_ROOT, ['--verbose', ...paths], 3);
    expect(text.many.stdout).toBe(text.one.stdout);
    expect(text.many.stderr).toBe(text.one.stderr);
  }, 240_000);

  it('links a cell that never binds its model to the project\'s only model, as one job does', async () => {
    const root = tempTree(withHelpers({ 'tagger.py': extractFixture('project_tagger.py'), 'train_cell.py': extractFixture('project_train_cell.py'), 'utils.py': 'def mean(xs):\n    return sum(xs) / len(xs)\n' }));
    const { one, many } = await bothWays(root, ['--format', 'json', '.']);
    expect(one.stdout).toMatch(/train_cell\.py/);
    const cell = defined((JSON.parse(one.stdout) as { files: { path: string; diagnostics: { code: string }[] }[] }).files.find((f) => f.path.endsWith('train_cell.py')));
    expect(cell.diagnostics.map((d) => d.code)).toContain('GL401');
    expect(many.stdout).toBe(one.stdout);
  }, 120_000);

  it('links nothing for such a cell when the project has two models, as one job does', async () => {
    const tagger = extractFixture('project_tagger.py');
    const root = tempTree(withHelpers({ 'tagger.py': tagger, 'scorer.py': tagger.replace('class Tagger', 'class Scorer').replace('nn.LSTM', 'nn.GRU'), 'train_cell.py': extractFixture('project_train_cell.py') }));
    const { one, many } = await bothWays(root, ['--format', 'json', '.']);
    const cell = defined((JSON.parse(one.stdout) as { files: { path: string; diagnostics: unknown[] }[] }).files.find((f) => f.path.endsWith('train_cell.py')));
    expect(cell.diagnostics).toEqual([]);
    expect(many.stdout).toBe(one.stdout);
  }, 120_000);

  // Regression: the workers grouped files by named imports only, so `from star_slots import *` left
  // the training script alone in its group and its GL401 (and the mark on the GRUCell) disappeared.
  it.each([
    ['star_slots_train.py', ['GL401'], ['GL401']],
    ['star_slots_train_clipped.py', [], []],
  ])('links a script that star-imports its model file as one job does (%s)', async (script, inScript, inModel) => {
    const root = tempTree(withHelpers({ 'star_slots.py': extractFixture('star_slots.py'), [script]: extractFixture(script), 'utils.py': 'def mean(xs):\n    return sum(xs) / len(xs)\n' }));
    const { one, many } = await bothWays(root, ['--format', 'json', '.']);
    const files = (JSON.parse(many.stdout) as { files: { path: string; diagnostics: { code: string; message: string }[] }[] }).files;
    const codes = (name: string) => defined(files.find((f) => f.path.endsWith(name))).diagnostics.map((d) => d.code);
    expect(codes(script)).toEqual(inScript);
    expect(codes('star_slots.py')).toEqual(inModel);
    // The GRUCell iterated three times in forward is one layer, named once.
    for (const d of files.flatMap((f) => f.diagnostics)) expect(d.message).not.toMatch(/more recurrent layer/);
    expect(many.stdout).toBe(one.stdout);
  }, 120_000);

  // Many experiment folders, each a model file and its training script linked by an import the pool's
  // grouping reads without a parse (a star import, or a named import split over lines): a missed link
  // puts a script and its model in different workers, and the GL401 on the model's GRUCell is lost.
  it('reports a folder of linked experiments exactly as one job does', async () => {
    const experiments = Array.from({ length: MIN_FILES_PER_WORKER }, (_, i): [string, string][] => {
      const script = i % 3 === 2 ? extractFixture('star_slots_train_clipped.py') : extractFixture('star_slots_train.py');
      const named = i % 2 === 0 ? script : script.replace('from star_slots import *', 'from star_slots import (\n    Slots,\n)');
      return [[`exp${String(i).padStart(2, '0')}/star_slots.py`, extractFixture('star_slots.py')], [`exp${String(i).padStart(2, '0')}/train.py`, named]];
    });
    const root = tempTree(Object.fromEntries(experiments.flat()));
    const { one, many } = await bothWays(root, ['--format', 'json', '.']);
    const files = (JSON.parse(one.stdout) as { files: { path: string; diagnostics: { code: string }[] }[] }).files;
    const flagged = files.filter((f) => f.path.endsWith('star_slots.py') && f.diagnostics.some((d) => d.code === 'GL401'));
    // Two of three experiments train without clipping: their model file is flagged through the link.
    expect(flagged.length).toBe(experiments.filter((_, i) => i % 3 !== 2).length);
    expect(many.stdout).toBe(one.stdout);
    expect(many.status).toBe(one.status);
  }, 120_000);

  // Inputs that take other paths through check than a plain .py file, spread over pieces: notebooks
  // (cells), files that cannot be read or decoded, per-folder settings, a missing path; the report in
  // every format, the messages on stderr and the exit status are those of one job.
  it('reports notebooks, unreadable files and per-folder settings exactly as one job does, in every format', async () => {
    const notebook = (source: string) => JSON.stringify({ cells: [{ cell_type: 'markdown', source: ['# run\n'], metadata: {} }, { cell_type: 'code', source: source.split(/(?<=\n)/), metadata: {}, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 });
    const root = tempTree(
      withHelpers({
        'a/model.py': SIGMOID_STACK,
        'a/experiment.ipynb': notebook(SIGMOID_STACK),
        'a/broken.ipynb': '{"cells": [',
        'b/pyproject.toml': '[tool.gradient-lens]\nignore = ["GL101"]\n[tool.gradient-lens.severity]\nGL301 = "error"\n',
        'b/model.py': SIGMOID_STACK,
        'b/net.py': BN_AFTER_RELU,
        'c/binary.py': Buffer.from([0x78, 0x00, 0x01]),
        'c/latin1.py': Buffer.from('x = "caf\xe9"\n', 'latin1'),
        'c/clean.py': RELU_STACK,
      }),
    );
    for (const format of ['text', 'json', 'sarif']) {
      const { one, many } = await bothWays(root, ['--format', format, '.', 'missing.py'], 3);
      expect(one.status).toBe(2);
      expect(many.stdout).toBe(one.stdout);
      expect(many.stderr).toBe(one.stderr);
      expect(many.status).toBe(one.status);
      if (format !== 'json') continue;
      const files = (JSON.parse(one.stdout) as { files: { path: string; error: string | null; diagnostics: { code: string; severity: string; cell?: number }[] }[] }).files;
      const file = (path: string) => defined(files.find((f) => f.path === path));
      expect(file('a/experiment.ipynb').diagnostics.find((d) => d.code === 'GL101')?.cell).toBe(2);
      expect(file('b/model.py').diagnostics.map((d) => d.code)).not.toContain('GL101');
      expect(file('b/net.py').diagnostics).toEqual([expect.objectContaining({ code: 'GL301', severity: 'error' })]);
      for (const path of ['a/broken.ipynb', 'c/binary.py', 'c/latin1.py', 'missing.py']) expect(file(path).error).toBeTruthy();
    }
  }, 240_000);

  it('takes --jobs above the file count (a thread per MIN_FILES_PER_WORKER files at most) and reports as one job does', async () => {
    const root = tempTree({ 'model.py': SIGMOID_STACK, 'net.py': BN_AFTER_RELU, 'clean.py': RELU_STACK });
    const { one, many } = await bothWays(root, ['.'], 256);
    expect(one.status).toBe(1);
    expect(many.stdout).toBe(one.stdout);
    expect(many.status).toBe(one.status);
  }, 60_000);

  it('starts no more workers than the files are worth, and none for a few files', () => {
    expect(workersFor(3, 8)).toBe(1);
    expect(workersFor(2 * MIN_FILES_PER_WORKER - 1, 8)).toBe(1);
    expect(workersFor(2 * MIN_FILES_PER_WORKER, 8)).toBe(2);
    expect(workersFor(500, 2)).toBe(2);
    expect(workersFor(500, 1)).toBe(1);
  });

  it.each(['0', '-1', 'two', '1.5', '100000', ''])('refuses --jobs %j with a usage error (exit 2)', (value) => {
    const root = tempTree({ 'a.py': 'x = 1\n' });
    const run = runCli(['check', '--jobs', value, '.'], root);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--jobs/);
    expect(run.stdout).toBe('');
  });
});
