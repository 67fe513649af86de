#!/usr/bin/env node
// `npm run test:e2e`: the end-to-end suite (test/e2e/suite.ts) inside a real VS Code.
// code-server 4.100.3 (VS Code 1.100.3) runs on 127.0.0.1 with this repository loaded as a development
// extension; headless Debian chromium (driven by playwright-core) opens the workbench, which starts
// the extension host; the suite writes its results to a file this script reads. Exits non-zero on
// any failure. Sets up Chromium and code-server first (scripts/test-setup.js) when either is missing.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const HOST_DIR = path.join(ROOT, '.vscode-test');
const CODE_SERVER = path.join(process.env.GRADIENT_LENS_CODE_SERVER_DIR || path.join(HOST_DIR, 'code-server'), 'node_modules', '.bin', 'code-server');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SUITE_OUT = path.join(ROOT, 'out', 'e2e', 'suite.js');
const TIMEOUT_MS = Number(process.env.GRADIENT_LENS_E2E_TIMEOUT_MS || 240_000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`[e2e] ${msg}`);

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** Builds the bundles when absent, and always the suite (it is small and must match the source). */
async function buildArtifacts() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js')) || !fs.existsSync(path.join(ROOT, 'dist', 'server.js')) || process.env.GRADIENT_LENS_E2E_REBUILD) {
    log('building dist/ (node esbuild.mjs)');
    run(process.execPath, ['esbuild.mjs']);
  }
  const esbuild = require('esbuild');
  await esbuild.build({
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
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const healthy = (url) =>
  new Promise((resolve) => {
    const request = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode < 500);
    });
    request.on('error', () => resolve(false));
  });

/** The suite may ask for a picture of the workbench (README images) by writing <result>.screenshot with a name. */
async function serviceScreenshot(page, resultFile) {
  const request = `${resultFile}.screenshot`;
  if (!fs.existsSync(request)) return;
  const name = fs.readFileSync(request, 'utf8').trim().replace(/[^\w.-]/g, '') || 'workbench';
  const dir = path.join(ROOT, 'test-results', 'e2e');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) }).catch((error) => log(`screenshot ${name} failed: ${error.message}`));
  fs.rmSync(request, { force: true });
  fs.writeFileSync(`${request}.done`, name);
}

/**
 * Warnings VS Code logged about this extension in the extension host log (e.g. a window-scoped
 * setting read for a resource): the suite passing is not enough when the host complains.
 */
function extensionHostWarnings(logsDir) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/exthost\.log$/.test(entry.name)) {
        for (const line of fs.readFileSync(full, 'utf8').split('\n')) if (/\[(warning|error)\] \[gradient-lens\.gradient-lens\]/.test(line)) found.push(line.trim());
      }
    }
  };
  walk(logsDir);
  return found;
}

async function main() {
  if (!fs.existsSync(CODE_SERVER) || !fs.existsSync(CHROMIUM)) {
    run(process.execPath, [path.join(ROOT, 'scripts', 'test-setup.js')]);
  }
  await buildArtifacts();

  fs.mkdirSync(HOST_DIR, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(HOST_DIR, 'run-'));
  const workspace = path.join(runDir, 'workspace');
  fs.cpSync(path.join(ROOT, 'test', 'e2e', 'workspace'), workspace, { recursive: true });
  const resultFile = path.join(runDir, 'result.json');
  const userData = path.join(runDir, 'user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'extensions.autoCheckUpdates': false, 'telemetry.telemetryLevel': 'off' }),
  );

  const port = await freePort();
  const env = {
    ...process.env,
    GRADIENT_LENS_E2E_RESULT: resultFile,
    XDG_CONFIG_HOME: path.join(HOST_DIR, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(HOST_DIR, 'xdg', 'data'),
  };
  const serverLog = path.join(runDir, 'code-server.log');
  const started = Date.now();
  const codeServer = spawn(
    CODE_SERVER,
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--user-data-dir', userData, '--extensions-dir', path.join(runDir, 'extensions'),
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'],
    { env, stdio: ['ignore', fs.openSync(serverLog, 'w'), fs.openSync(serverLog, 'a')], detached: true },
  );
  let browser = null;
  // code-server runs in its own process group (detached): stop exactly that group, nothing else.
  const stopCodeServer = () => {
    try {
      process.kill(-codeServer.pid, 'SIGTERM');
    } catch {}
  };
  process.on('exit', () => {
    try {
      process.kill(-codeServer.pid, 'SIGKILL');
    } catch {}
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

  let exitCode = 1;
  try {
    const deadline = Date.now() + 60_000;
    while (!(await healthy(`http://127.0.0.1:${port}/healthz`))) {
      if (Date.now() > deadline || codeServer.exitCode !== null) throw new Error(`code-server did not start; see ${serverLog}`);
      await sleep(100);
    }
    log(`code-server up on 127.0.0.1:${port} in ${Date.now() - started} ms`);

    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(SUITE_OUT)],
    ]);
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;

    const { chromium } = require('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      env: { ...process.env, XDG_CONFIG_HOME: path.join(runDir, 'xdg-chromium') },
    });
    const page = await browser.newPage();
    await page.goto(url);

    const end = Date.now() + TIMEOUT_MS;
    while (!fs.existsSync(resultFile) && Date.now() < end) {
      await serviceScreenshot(page, resultFile);
      await sleep(200);
    }
    if (!fs.existsSync(resultFile)) throw new Error(`the suite wrote no results within ${TIMEOUT_MS / 1000} s; see ${serverLog}`);
    const report = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
    for (const r of report.results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms} ms)${r.ok ? '' : `\n${r.error}`}`);
    console.log(`VS Code ${report.vscode} (code-server); activation ${report.activationMs === null ? '?' : report.activationMs.toFixed(0)} ms; wall ${Date.now() - started} ms`);
    console.log(`${report.passed} passed, ${report.failed} failed`);
    const hostWarnings = extensionHostWarnings(path.join(userData, 'logs'));
    for (const line of hostWarnings) console.log(`FAIL extension host warning about Gradient Lens: ${line}`);
    exitCode = report.failed === 0 && report.passed > 0 && hostWarnings.length === 0 ? 0 : 1;
    if (process.env.GRADIENT_LENS_E2E_REPORT) fs.copyFileSync(resultFile, process.env.GRADIENT_LENS_E2E_REPORT);
  } catch (error) {
    console.error(`[e2e] ${error instanceof Error ? error.message : String(error)}`);
    try {
      console.error(fs.readFileSync(serverLog, 'utf8').split('\n').slice(-40).join('\n'));
    } catch {}
  } finally {
    if (browser) await browser.close().catch(() => {});
    stopCodeServer();
    await Promise.race([new Promise((r) => (codeServer.exitCode !== null ? r() : codeServer.once('exit', r))), sleep(5000)]);
    if (exitCode === 0 && !process.env.GRADIENT_LENS_E2E_KEEP) fs.rmSync(runDir, { recursive: true, force: true });
    else log(`run folder kept: ${runDir}`);
  }
  process.exit(exitCode);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

