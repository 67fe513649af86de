/**
 * `npm test` starts with scripts/test-setup.js, which must find what is missing on a fresh machine
 * (Chromium, code-server), say what it will install, and stop with the exact command when it is not
 * root. Absence is simulated with its documented overrides (CHROMIUM_PATH,
 * GRADIENT_LENS_CODE_SERVER_DIR) pointing at empty places; --dry-run keeps the checks from installing.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli';
import { defined } from '../../defined';

const SETUP = join(REPO_ROOT, 'scripts', 'test-setup.js');
const CODE_SERVER_VERSION = /^CS_VERSION=(\S+)$/m.exec(readFileSync(join(REPO_ROOT, 'scripts', 'install-code-server.sh'), 'utf8'))?.[1];
const scratch = mkdtempSync(join(tmpdir(), 'gl-test-setup-'));
// Readable by `nobody`, who runs the not-root case (mkdtemp makes 0700 folders).
chmodSync(scratch, 0o755);
afterAll(() => { rmSync(scratch, { recursive: true, force: true }); });

/** A folder laid out as an installed code-server of the given version (what the setup looks for). */
function codeServerFolder(version: string): string {
  const dir = mkdtempSync(join(scratch, 'cs-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'node_modules', 'code-server'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'code-server', 'package.json'), JSON.stringify({ name: 'code-server', version }));
  writeFileSync(join(dir, 'node_modules', '.bin', 'code-server'), '#!/bin/sh\n');
  chmodSync(join(dir, 'node_modules', '.bin', 'code-server'), 0o755);
  return dir;
}

function executable(name: string): string {
  const file = join(scratch, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

/**
 * The setup scripts copied where `nobody` can read them: the clone itself may sit in a folder only
 * root can enter (a CI checkout under `mktemp -d`).
 */
function setupReadableByAll(): string {
  const scripts = join(scratch, 'repo', 'scripts');
  mkdirSync(scripts, { recursive: true });
  for (const dir of [join(scratch, 'repo'), scripts]) chmodSync(dir, 0o755);
  for (const name of ['test-setup.js', 'install-code-server.sh']) copyFileSync(join(REPO_ROOT, 'scripts', name), join(scripts, name));
  return join(scripts, 'test-setup.js');
}

/** Runs the setup as the current user, or as `nobody` when asked (only possible as root). */
function setup(env: Record<string, string>, args: string[] = [], asNobody = false) {
  const command = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, setupReadableByAll(), ...args] : [process.execPath, SETUP, ...args];
  const run = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });
  return { status: run.status, out: run.stdout + run.stderr };
}

describe('scripts/test-setup.js', () => {
  it('reads the code-server version from the install script', () => {
    expect(CODE_SERVER_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('does nothing and says ready when Chromium and code-server are there', () => {
    const run = setup({ CHROMIUM_PATH: executable('chromium-present'), GRADIENT_LENS_CODE_SERVER_DIR: codeServerFolder(defined(CODE_SERVER_VERSION)) });
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/ready: Chromium at .*chromium-present, code-server/);
    expect(run.out).not.toMatch(/apt-get|would/);
  });

  it('plans to install Chromium with apt when there is no Chromium', () => {
    const run = setup({ CHROMIUM_PATH: join(scratch, 'no-chromium'), GRADIENT_LENS_CODE_SERVER_DIR: codeServerFolder(defined(CODE_SERVER_VERSION)) }, ['--dry-run']);
    expect(run.status, run.out).toBe(0);
    expect(run.out).toContain('would apt-get install chromium');
    expect(run.out).not.toContain('would install code-server');
  });

  it('plans to install code-server when it is absent or another version', () => {
    const chromium = executable('chromium-for-cs');
    for (const dir of [join(scratch, 'no-code-server'), codeServerFolder('4.0.0')]) {
      const run = setup({ CHROMIUM_PATH: chromium, GRADIENT_LENS_CODE_SERVER_DIR: dir }, ['--dry-run']);
      expect(run.status, run.out).toBe(0);
      expect(run.out).toContain(`would install code-server ${CODE_SERVER_VERSION} into ${dir}`);
      expect(run.out).not.toMatch(/apt-get install [^\n]*chromium/);
    }
  });

  it('stops with the command to run when a package is missing and it is not root', () => {
    const asNobody = process.getuid?.() === 0;
    const run = setup({ CHROMIUM_PATH: join(scratch, 'no-chromium'), GRADIENT_LENS_CODE_SERVER_DIR: codeServerFolder(defined(CODE_SERVER_VERSION)) }, [], asNobody);
    expect(run.status, run.out).toBe(1);
    expect(run.out).toContain('needs root');
    expect(run.out).toContain('sudo apt-get install -y --no-install-recommends chromium');
  });
});
