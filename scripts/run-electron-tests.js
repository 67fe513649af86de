#!/usr/bin/env node
// `npm run test:electron`: the same end-to-end suite as `npm run test:e2e` (test/e2e/suite.ts), run in
// desktop VS Code downloaded by @vscode/test-electron. Needs internet access to download VS Code
// (update.code.visualstudio.com) and a display (or xvfb-run). Where neither exists, use test:e2e.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const SUITE_OUT = path.join(ROOT, 'out', 'e2e', 'suite.js');
// The oldest VS Code the extension supports (package.json engines.vscode), unless told otherwise.
const VSCODE_VERSION = process.env.GRADIENT_LENS_VSCODE_VERSION || '1.91.0';

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js')) || !fs.existsSync(path.join(ROOT, 'dist', 'server.js'))) {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  await require('esbuild').build({
    entryPoints: [path.join(ROOT, 'test', 'e2e', 'suite.ts')],
    outfile: SUITE_OUT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'error',
  });
  const workspace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradient-lens-e2e-')), 'workspace');
  fs.cpSync(path.join(ROOT, 'test', 'e2e', 'workspace'), workspace, { recursive: true });

  const { runTests } = require('@vscode/test-electron');
  try {
    await runTests({
      version: VSCODE_VERSION,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: SUITE_OUT,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { GRADIENT_LENS_E2E_RESULT: path.join(path.dirname(workspace), 'result.json') },
    });
  } catch (error) {
    console.error(`[test:electron] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
