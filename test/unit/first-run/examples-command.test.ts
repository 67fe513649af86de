/**
 * `npm run examples` is the README's first command: its output must say that the bad* examples'
 * findings (and the CLI's exit status 1 on them) are intended, and it exits 0 only when the examples
 * behave as documented: bad* reported, clean* silent.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT, tempTree } from '../cli/run-cli';

const SCRIPT = join(REPO_ROOT, 'scripts', 'examples.js');
const SIGMOID_STACK = ['from tensorflow import keras', 'from tensorflow.keras import layers', 'model = keras.Sequential([', '    keras.Input(shape=(32,)),', ...Array.from({ length: 10 }, () => "    layers.Dense(64, activation='sigmoid'),"), "    layers.Dense(1),", '])', ''].join('\n');
const RELU_STACK = SIGMOID_STACK.replaceAll("activation='sigmoid'", "activation='relu', kernel_initializer='he_normal'");

function examples(args: string[]) {
  const buildError = inject('bundleBuildError');
  if (buildError) throw new Error(buildError);
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, out: run.stdout + run.stderr };
}

describe('npm run examples', () => {
  it('on the bundled examples: findings on bad*, none on clean*, explained, exit 0', () => {
    const run = examples([]);
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/examples\/saturating-activation-stack\/bad\.py:\d+:\d+: GL101/);
    expect(run.out).not.toMatch(/examples\/[\w-]+\/clean[\w/.-]*:\d+:\d+: GL/);
    expect(run.out).toContain('findings reported, exit status 1. Expected: these files contain the problems on purpose.');
    expect(run.out).toContain('clean*: no findings, exit status 0.');
  });

  it('exits 1 and says what is wrong when a bad example reports nothing or a clean one reports something', () => {
    const root = tempTree({ 'stack/bad.py': RELU_STACK, 'stack/clean.py': SIGMOID_STACK });
    const run = examples([root]);
    expect(run.status, run.out).toBe(1);
    expect(run.out).toContain('bad*:   exit status 0, expected 1');
    expect(run.out).toContain('clean*: exit status 1, expected 0');
  });
});
