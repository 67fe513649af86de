#!/usr/bin/env node
// Opens examples/ in VS Code with this repository's extension loaded (as a development extension):
// desktop VS Code when `code` is on PATH, otherwise code-server on 127.0.0.1 (installed into
// .vscode-test/ by scripts/install-code-server.sh if needed), printing the URL to open.
// Usage: node scripts/open-examples.js [--port N] [--code-server]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples');
const HOST_DIR = path.join(ROOT, '.vscode-test');
const CODE_SERVER = path.join(HOST_DIR, 'code-server', 'node_modules', '.bin', 'code-server');
const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const PORT = Number(portArg >= 0 ? args[portArg + 1] : process.env.PORT || 8080);

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function ensureBuilt() {
  if (fs.existsSync(path.join(ROOT, 'dist', 'extension.js')) && fs.existsSync(path.join(ROOT, 'dist', 'server.js'))) return;
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

function openDesktop() {
  const result = spawnSync('code', ['--extensionDevelopmentPath', ROOT, EXAMPLES], { stdio: 'inherit' });
  process.exit(result.status ?? 0);
}

const healthy = (url) =>
  new Promise((resolve) => {
    const request = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode < 500);
    });
    request.on('error', () => resolve(false));
  });

async function openCodeServer() {
  if (!fs.existsSync(CODE_SERVER)) {
    console.log('code-server is not installed yet: installing it into .vscode-test/ (about a minute)...');
    const install = spawnSync('bash', [path.join(ROOT, 'scripts', 'install-code-server.sh')], { stdio: 'inherit' });
    if (install.status !== 0) process.exit(install.status ?? 1);
  }
  const userData = path.join(HOST_DIR, 'examples-user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settings = path.join(userData, 'User', 'settings.json');
  if (!fs.existsSync(settings)) fs.writeFileSync(settings, JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' }, null, 2));
  const server = spawn(
    CODE_SERVER,
    ['--bind-addr', `127.0.0.1:${PORT}`, '--auth', 'none', '--user-data-dir', userData, '--extensions-dir', path.join(HOST_DIR, 'examples-extensions'), '--disable-telemetry', '--disable-update-check'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, XDG_CONFIG_HOME: path.join(HOST_DIR, 'xdg', 'config'), XDG_DATA_HOME: path.join(HOST_DIR, 'xdg', 'data') } },
  );
  const stop = () => server.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.on('exit', (code) => process.exit(code ?? 0));
  while (!(await healthy(`http://127.0.0.1:${PORT}/healthz`))) await new Promise((r) => setTimeout(r, 200));
  const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${PORT}${ROOT}`]]);
  console.log('\nGradient Lens examples are open in VS Code (code-server) at:\n');
  console.log(`  http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(EXAMPLES)}&payload=${encodeURIComponent(payload)}\n`);
  console.log('Open that URL in a browser on this machine (or forward the port). Ctrl-C stops the server.');
}

ensureBuilt();
if (!args.includes('--code-server') && onPath('code')) openDesktop();
else openCodeServer().catch((error) => {
  console.error(error);
  process.exit(1);
});
