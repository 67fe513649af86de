// Editor benchmark (issue 3). Prints numbers; asserts nothing. Run: `node bench/editor.mjs [--no-vscode] [--no-vsix]`.
//  1. one-character edit -> publishDiagnostics on generated 5,000-line files (model-dense, and a typical
//     script with few models), over real JSON-RPC
//     (dist/server.js --stdio): p50 / p95 / max over EDITS edits (target: p95 <= 50 ms);
//  2. server start: spawn -> initialize answered -> first diagnostics of that file;
//  3. server memory (RSS, V8 heap) after the run, from the gradientLens/serverStatus request;
//  4. extension activation time inside real VS Code (code-server, via scripts/run-e2e.js), when installed;
//  5. .vsix size (`vsce package`), and what it contains.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const rpc = require('vscode-languageserver-protocol/node');
const EDITS = 120;
const LINES = 5000;
const args = new Set(process.argv.slice(2));

/** ~40 lines of model code: a deep Keras MLP (findings), a PyTorch module and its training loop. */
function block(i) {
  const act = ['relu', 'sigmoid', 'tanh', 'elu', 'selu'][i % 5];
  return `
# --- experiment ${i} -------------------------------------------------------
def make_classifier_${i}(classes=10):
    return keras.Sequential([
        layers.Dense(${256 + i}, activation="${act}", input_shape=(784,)),
        layers.Dense(128, activation="${act}"),
        layers.Dropout(0.3),
        layers.Dense(128, activation="${act}"),
        layers.BatchNormalization(),
        layers.Dense(classes, activation="softmax"),
    ])


class Encoder${i}(nn.Module):
    def __init__(self, hidden=${128 + (i % 3) * 64}):
        super().__init__()
        self.embed = nn.Embedding(5000, 64)
        self.rnn = nn.GRU(64, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 2)

    def forward(self, tokens):
        states, _ = self.rnn(self.embed(tokens))
        return self.out(states[:, -1])


def fit_encoder_${i}(batches):
    encoder = Encoder${i}()
    opt = torch.optim.Adam(encoder.parameters(), lr=${i % 2 ? '0.5' : '1e-3'})
    for tokens, labels in batches:
        opt.zero_grad()
        loss = F.cross_entropy(encoder(tokens), labels)
        loss.backward()
        opt.step()
`;
}

/** ~5 lines of ordinary (non-model) research code. */
function helper(i) {
  return `\ndef normalize_${i}(batch, eps=1e-${(i % 6) + 3}):\n    mean = sum(batch) / len(batch)\n    return [(x - mean) / (abs(mean) + eps) for x in batch]\n`;
}

/** `lines` lines: model blocks, each followed by `helpersPerBlock` helper functions. */
function generate(lines, helpersPerBlock) {
  let text = 'import torch\nfrom torch import nn\nimport torch.nn.functional as F\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n';
  for (let i = 0; text.split('\n').length < lines; i++) {
    if (helpersPerBlock !== Infinity) text += block(i);
    else text += helper(i);
    for (let j = 0; j < helpersPerBlock && helpersPerBlock !== Infinity; j++) text += helper(i * 1000 + j);
  }
  return text.split('\n').slice(0, lines).join('\n') + '\n';
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (n) => `${n.toFixed(1)} ms`;
const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;

function ensureBuilt() {
  if (existsSync(join(root, 'dist', 'server.js')) && existsSync(join(root, 'dist', 'extension.js'))) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

async function benchServer(label, helpersPerBlock) {
  console.log(`--- ${label}`);
  const dir = mkdtempSync(join(tmpdir(), 'gl-bench-'));
  const file = join(dir, 'experiments.py');
  const text = generate(LINES, helpersPerBlock);
  writeFileSync(file, text);
  const uri = pathToFileURL(file).href;

  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'dist', 'server.js'), '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = rpc.createProtocolConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const waiting = new Map();
  let lastCount = 0;
  connection.onNotification(rpc.PublishDiagnosticsNotification.type, (p) => {
    if (p.uri !== uri) return;
    lastCount = p.diagnostics.length;
    waiting.get(p.version)?.(performance.now());
  });
  connection.onRequest(rpc.ConfigurationRequest.type, (p) => p.items.map(() => ({})));
  connection.listen();
  const published = (version) => new Promise((resolve) => waiting.set(version, resolve));

  await connection.sendRequest(rpc.InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: { workspace: { configuration: true } } });
  const tInit = performance.now();
  await connection.sendNotification(rpc.InitializedNotification.type, {});
  let version = 1;
  const first = published(version);
  await connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version, text } });
  const tFirst = await first;
  console.log(`server start: initialize ${ms(tInit - t0)}, first diagnostics of the ${LINES}-line file ${ms(tFirst - t0)} (${lastCount} diagnostics)`);

  // One-character edits inside a layer size on line `line`: type a digit, then delete it again.
  const allLines = text.split('\n');
  const lineNo = Math.max(0, allLines.findIndex((l) => l.includes('layers.Dense(128') || l.includes('scale=')));
  const col = allLines[lineNo].search(/\d/) + 1;
  const latencies = [];
  const analyzerMs = [];
  for (let i = 0; i < EDITS; i++) {
    version++;
    const insert = i % 2 === 0;
    const range = insert ? { start: { line: lineNo, character: col }, end: { line: lineNo, character: col } } : { start: { line: lineNo, character: col }, end: { line: lineNo, character: col + 1 } };
    const done = published(version);
    const sent = performance.now();
    await connection.sendNotification(rpc.DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text: insert ? '4' : '' }] });
    latencies.push((await done) - sent);
    analyzerMs.push((await connection.sendRequest('gradientLens/serverStatus')).lastAnalyzerMs);
    await new Promise((r) => setTimeout(r, 30)); // a typing pause, so each edit is analyzed on its own
  }
  latencies.sort((a, b) => a - b);
  analyzerMs.sort((a, b) => a - b);
  console.log(`edit -> publishDiagnostics (${EDITS} one-character edits, ${LINES} lines): p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, max ${ms(latencies[latencies.length - 1])}  (target p95 <= 50 ms); of which the analyzer itself (in the worker): p50 ${ms(percentile(analyzerMs, 50))}, p95 ${ms(percentile(analyzerMs, 95))}`);

  const status = await connection.sendRequest('gradientLens/serverStatus');
  console.log(`server memory after the run: RSS ${mb(status.rssBytes)} (process incl. analysis worker), main-thread V8 heap ${mb(status.heapUsedBytes)}; last analysis (worker round trip) ${ms(status.lastAnalysisMs)}`);
  await connection.sendRequest(rpc.ShutdownRequest.type);
  await connection.sendNotification(rpc.ExitNotification.type);
  connection.dispose();
  rmSync(dir, { recursive: true, force: true });
}

function benchActivation() {
  if (args.has('--no-vscode')) return;
  if (!existsSync(join(root, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server')) || !existsSync('/usr/bin/chromium')) {
    console.log('activation in VS Code: skipped (run `bash scripts/install-code-server.sh` first)');
    return;
  }
  const report = join(mkdtempSync(join(tmpdir(), 'gl-bench-e2e-')), 'report.json');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-e2e.js')], { cwd: root, env: { ...process.env, GRADIENT_LENS_E2E_REPORT: report }, encoding: 'utf8' });
  if (!existsSync(report)) {
    console.log(`activation in VS Code: no report (e2e exit ${r.status})`);
    return;
  }
  const result = JSON.parse(readFileSync(report, 'utf8'));
  console.log(`activation in VS Code ${result.vscode} (code-server): ${ms(result.activationMs)} from activate() to the server answering initialize (e2e: ${result.passed} passed, ${result.failed} failed)`);
}

function benchVsix() {
  if (args.has('--no-vsix')) return;
  const out = join(mkdtempSync(join(tmpdir(), 'gl-bench-vsix-')), 'gradient-lens.vsix');
  const r = spawnSync('npm', ['run', '--silent', 'package', '--', '--out', out], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(out)) {
    console.log(`.vsix: vsce package failed\n${r.stderr}`);
    return;
  }
  const listing = spawnSync('npx', ['vsce', 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' }).stdout.trim().split('\n');
  console.log(`.vsix size: ${(statSync(out).size / 1024).toFixed(0)} KiB (${listing.length} files: ${listing.join(', ')})`);
}

ensureBuilt();
if (!args.has('--only-plain')) await benchServer('model-dense file: two models and a training loop every ~40 lines', 0);
if (!args.has('--only-plain')) await benchServer('typical research script: a model block every ~400 lines among helper code', 80);
await benchServer('no models at all (the server and parser path alone)', Infinity);
benchActivation();
benchVsix();
