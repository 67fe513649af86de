/**
 * `check --jobs N` (issue 10): the worker pool gives the same report, byte for byte and in the same
 * order, as one job — on the repository's examples and fixtures (cross-file projects, packages,
 * notebooks, pyproject settings), and on the case that needs the whole project at once (a training
 * cell that never binds its model, linked to the project's only model). Bad values are usage errors.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, tempTree, REPO_ROOT, runCli, type CliRun } from './run-cli';
import { defined } from '../../defined';

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
    const root = tempTree({ 'tagger.py': extractFixture('project_tagger.py'), 'train_cell.py': extractFixture('project_train_cell.py'), 'utils.py': 'def mean(xs):\n    return sum(xs) / len(xs)\n' });
    const { one, many } = await bothWays(root, ['--format', 'json', '.']);
    expect(one.stdout).toMatch(/train_cell\.py/);
    const cell = defined((JSON.parse(one.stdout) as { files: { path: string; diagnostics: { code: string }[] }[] }).files.find((f) => f.path.endsWith('train_cell.py')));
    expect(cell.diagnostics.map((d) => d.code)).toContain('GL401');
    expect(many.stdout).toBe(one.stdout);
  }, 120_000);

  it('links nothing for such a cell when the project has two models, as one job does', async () => {
    const tagger = extractFixture('project_tagger.py');
    const root = tempTree({ 'tagger.py': tagger, 'scorer.py': tagger.replace('class Tagger', 'class Scorer').replace('nn.LSTM', 'nn.GRU'), 'train_cell.py': extractFixture('project_train_cell.py') });
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
    const root = tempTree({ 'star_slots.py': extractFixture('star_slots.py'), [script]: extractFixture(script), 'utils.py': 'def mean(xs):\n    return sum(xs) / len(xs)\n' });
    const { one, many } = await bothWays(root, ['--format', 'json', '.']);
    const files = (JSON.parse(many.stdout) as { files: { path: string; diagnostics: { code: string; message: string }[] }[] }).files;
    const codes = (name: string) => defined(files.find((f) => f.path.endsWith(name))).diagnostics.map((d) => d.code);
    expect(codes(script)).toEqual(inScript);
    expect(codes('star_slots.py')).toEqual(inModel);
    // The GRUCell iterated three times in forward is one layer, named once.
    for (const d of files.flatMap((f) => f.diagnostics)) expect(d.message).not.toMatch(/more recurrent layer/);
    expect(many.stdout).toBe(one.stdout);
  }, 120_000);

  it.each(['0', '-1', 'two', '1.5', '100000', ''])('refuses --jobs %j with a usage error (exit 2)', (value) => {
    const root = tempTree({ 'a.py': 'x = 1\n' });
    const run = runCli(['check', '--jobs', value, '.'], root);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--jobs/);
    expect(run.stdout).toBe('');
  });
});
