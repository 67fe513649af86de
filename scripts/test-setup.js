#!/usr/bin/env node
// First step of `npm test` (also run by `npm run test:e2e` and `npm run open-examples`): makes sure what the tests need is on this machine before any test runs.
//   - Chromium (headless; the panel tests in the unit step and the VS Code suite drive it):
//     the executable at $CHROMIUM_PATH, default /usr/bin/chromium, from Debian's `chromium` package;
//   - code-server (the VS Code the end-to-end suite runs in), installed by
//     scripts/install-code-server.sh into .vscode-test/code-server (or $GRADIENT_LENS_CODE_SERVER_DIR),
//     which needs Debian's build tools and ripgrep first.
// Idempotent: when everything is present it only says so. Installing Debian packages needs root; as
// another user it stops with the exact command to run. `--dry-run` prints the plan and changes nothing.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const INSTALL_CODE_SERVER = path.join(ROOT, 'scripts', 'install-code-server.sh');
/** The code-server version is written once, in the script that installs it. */
const CODE_SERVER_VERSION = /^CS_VERSION=(\S+)$/m.exec(fs.readFileSync(INSTALL_CODE_SERVER, 'utf8'))[1];
/** Debian packages code-server's install needs: native modules (node-pty, kerberos) and ripgrep. */
const CODE_SERVER_BUILD_PACKAGES = ['build-essential', 'python3', 'pkg-config', 'libkrb5-dev', 'ripgrep'];

const log = (message) => console.log(`[test-setup] ${message}`);

function chromiumPath(env) {
  return env.CHROMIUM_PATH || '/usr/bin/chromium';
}

function codeServerDir(env) {
  return env.GRADIENT_LENS_CODE_SERVER_DIR || path.join(ROOT, '.vscode-test', 'code-server');
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function codeServerInstalled(dir) {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'code-server', 'package.json'), 'utf8'));
    return manifest.version === CODE_SERVER_VERSION && isExecutable(path.join(dir, 'node_modules', '.bin', 'code-server'));
  } catch {
    return false;
  }
}

/** Debian packages among `names` that dpkg does not list as installed (all of them when dpkg is absent). */
function missingDebianPackages(names) {
  return names.filter((name) => {
    const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return status.status !== 0 || !status.stdout.includes('install ok installed');
  });
}

/**
 * What this machine lacks, from what is found on it: the Debian packages to install and whether
 * code-server must be installed. Pure apart from reading the file system and dpkg's database.
 */
function plan(env) {
  const chromium = chromiumPath(env);
  const csDir = codeServerDir(env);
  const needCodeServer = !codeServerInstalled(csDir);
  const apt = [];
  if (!isExecutable(chromium)) apt.push('chromium');
  if (needCodeServer) apt.push(...missingDebianPackages(CODE_SERVER_BUILD_PACKAGES));
  return { chromium, codeServerDir: csDir, needCodeServer, apt };
}

function stepsOf(p) {
  const steps = [];
  if (p.apt.length > 0) steps.push(`apt-get install ${p.apt.join(' ')}${p.apt.includes('chromium') ? ` (no Chromium at ${p.chromium})` : ''}`);
  if (p.needCodeServer) steps.push(`install code-server ${CODE_SERVER_VERSION} into ${p.codeServerDir}`);
  return steps;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`[test-setup] ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

function main() {
  const dryRun = process.argv.includes('--dry-run');
  const p = plan(process.env);
  const steps = stepsOf(p);
  if (steps.length === 0) {
    log(`ready: Chromium at ${p.chromium}, code-server ${CODE_SERVER_VERSION} in ${path.relative(ROOT, p.codeServerDir) || p.codeServerDir}`);
    return;
  }
  if (dryRun) {
    for (const step of steps) log(`would ${step}`);
    return;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (p.apt.length > 0 && !isRoot) {
    console.error(
      `[test-setup] the tests need Debian packages that are not installed: ${p.apt.join(' ')}.\n` +
        `Installing them needs root. Run:\n  sudo apt-get install -y --no-install-recommends ${p.apt.join(' ')}\n` +
        `then \`npm test\` again${p.apt.includes('chromium') ? ' (or point CHROMIUM_PATH at a Chromium binary)' : ''}.`,
    );
    process.exit(1);
  }
  if (p.apt.length > 0) {
    log(`apt-get install ${p.apt.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...p.apt], { env });
    if (!isExecutable(p.chromium)) {
      console.error(`[test-setup] Debian's chromium is installed, but CHROMIUM_PATH=${p.chromium} is not an executable: unset it or fix it.`);
      process.exit(1);
    }
  }
  if (p.needCodeServer) run('bash', [INSTALL_CODE_SERVER, p.codeServerDir], { cwd: ROOT });
  log('ready');
}

main();
