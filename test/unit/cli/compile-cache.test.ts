/**
 * The launcher's code cache (src/launcher/run-bundle.ts), through the built CLI: a first `check` writes
 * V8's cache of the bundle once its analysis is done, later processes and their worker threads run from
 * it with the same report, a cache V8 refuses is compiled around and written again, older bundles'
 * caches go, and the switch Node documents for its own cache turns it off. NODE_DEBUG shows what the
 * launcher did.
 */
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BN_AFTER_RELU, RELU_STACK, SIGMOID_STACK, runCli, tempTree } from './run-cli';
import { MIN_FILES_PER_WORKER } from '../../../src/cli/check-pool';

/** An empty cache folder of this test's own. */
function cacheFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'gl-compile-cache-'));
  onTestFinished(() => { rmSync(folder, { recursive: true, force: true }); });
  return folder;
}

const CACHE_FILE = /^cli-bundle\.js-[0-9a-f]{16}\.v8cache$/;

function cacheFiles(folder: string): string[] {
  return readdirSync(folder).filter((name) => CACHE_FILE.test(name));
}

const project = () => tempTree({ 'deep.py': SIGMOID_STACK, 'clean.py': RELU_STACK, 'bn.py': BN_AFTER_RELU });

/** `check --format json` of `root` with the cache in `folder`, the launcher's debug lines on stderr. */
function check(root: string, folder: string, extraEnv: NodeJS.ProcessEnv = {}, args: string[] = []) {
  return runCli(['check', '--format', 'json', ...args, '.'], root, { GRADIENT_LENS_COMPILE_CACHE: folder, NODE_DEBUG: 'gradient-lens-cache', ...extraEnv });
}

const accepted = (stderr: string) => stderr.split('\n').filter((line) => line.includes('cache accepted')).length;

describe('the CLI\'s code cache', () => {
  it('is written by a first check, and a later check runs from it with the same report', () => {
    const root = project();
    const folder = cacheFolder();
    const first = check(root, folder);
    expect(first.status).toBe(1);
    expect(first.stdout).toContain('GL101');
    expect(first.stderr).toContain('no cache yet');
    expect(first.stderr).toMatch(/wrote \d+ bytes/);
    const [file] = cacheFiles(folder);
    expect(cacheFiles(folder)).toHaveLength(1);
    // The bytecode of the functions the check ran, not only of the bundle's first lines: a large file.
    expect(statSync(join(folder, file ?? '')).size).toBeGreaterThan(500_000);

    const second = check(root, folder);
    expect(accepted(second.stderr)).toBe(1);
    expect(second.stderr).not.toContain('wrote');
    expect(second.stdout).toBe(first.stdout);
    expect(second.status).toBe(first.status);
  });

  it('is compiled around when V8 refuses it (another format, a cut file), and written again', () => {
    const root = project();
    const folder = cacheFolder();
    const reference = check(root, folder);
    const file = join(folder, cacheFiles(folder)[0] ?? '');
    const whole = readFileSync(file);
    for (const bad of [Buffer.alloc(4096, 0x5a), whole.subarray(0, whole.length >> 1)]) {
      writeFileSync(file, bad);
      const run = check(root, folder);
      expect(run.stderr).toContain('cache rejected by V8');
      expect(run.stdout).toContain('GL101');
      expect(run.stderr).toMatch(/wrote \d+ bytes/);
      expect(run.stdout).toBe(reference.stdout);
      expect(statSync(file).size).toBeGreaterThan(bad.length);
    }
  });

  it('replaces the caches of older bundles and leaves other bundles\' alone', () => {
    const root = project();
    const folder = cacheFolder();
    const older = 'cli-bundle.js-0123456789abcdef.v8cache';
    const server = 'server-bundle.js-0123456789abcdef.v8cache';
    writeFileSync(join(folder, older), 'old');
    writeFileSync(join(folder, server), 'server');
    check(root, folder);
    const names = readdirSync(folder);
    expect(names).not.toContain(older);
    expect(names).toContain(server);
    expect(cacheFiles(folder)).toHaveLength(1);
  });

  it('is neither read nor written with NODE_DISABLE_COMPILE_CACHE', () => {
    const root = project();
    const folder = cacheFolder();
    const reference = check(root, folder);
    const off = check(root, cacheFolder(), { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(off.stderr).not.toMatch(/cache|wrote/);
    expect(off.stdout).toContain('GL101');
    expect(off.stdout).toBe(reference.stdout);
    const emptyFolder = cacheFolder();
    check(root, emptyFolder, { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(readdirSync(emptyFolder)).toEqual([]);
  });

  it('runs the worker threads of --jobs from it too, with the report of one job', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2 * MIN_FILES_PER_WORKER; i++) files[`m${String(i)}.py`] = i % 2 === 0 ? SIGMOID_STACK : BN_AFTER_RELU;
    const root = tempTree(files);
    const folder = cacheFolder();
    const oneJob = check(root, folder, {}, ['--jobs', '1']);
    const twoJobs = check(root, folder, {}, ['--jobs', '2']);
    // This thread and the worker each read the cache the first run wrote.
    expect(accepted(twoJobs.stderr)).toBe(2);
    expect(twoJobs.stdout).toBe(oneJob.stdout);
  });

  // Only root can give a folder to another user (CI runs as root).
  it.skipIf(process.getuid?.() !== 0)('is not read from a folder another user owns (it could hold planted code)', () => {
    const root = project();
    const folder = cacheFolder();
    const reference = check(root, cacheFolder());
    chownSync(folder, 65534, 65534);
    const run = check(root, folder);
    expect(run.stderr).toContain('belongs to another user');
    expect(run.stdout).toContain('GL101');
    expect(run.stdout).toBe(reference.stdout);
    expect(readdirSync(folder)).toEqual([]);
  });
});
