// The probe panel: webview bundle size, and the time from a probe request to the first chart drawn
// for the examples' MLPs, in headless Chromium with the real bundle and a real probe. Prints numbers;
// nothing is asserted. Run after `npm run build`: `node bench/panel.mjs`.
//
// "Request" = spawning `node dist/cli.js probe FILE --format json` (parse + the probe worker + the
// probe) and handing its JSON to an already-open panel; "first chart" = the panel's charts-drawn
// message. The CLI adds a Node start and a parse that the editor (warm language server) does not pay.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (f) => join(root, 'dist', f);
const EXAMPLES = [
  'examples/saturating-activation-stack/bad.py',
  'examples/saturating-activation-stack/clean.py',
  'examples/init-activation-mismatch/bad.py',
  'examples/init-activation-mismatch/clean.py',
  'test/fixtures/probe/keras_deep_sigmoid.py',
];
const RUNS = Number(process.env.BENCH_RUNS || 3);

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const js = readFileSync(dist('webview/webview.js'));
const css = readFileSync(dist('webview/webview.css'));
console.log(`webview bundle: dist/webview/webview.js ${kb(js.length)} (${kb(gzipSync(js).length)} gzip), webview.css ${kb(css.length)}`);

// The page builder is TypeScript: bundle it in memory and import it.
const built = await esbuild.build({ entryPoints: [join(root, 'src/shared/panel-page.ts')], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'error' });
const { panelPageHtml } = await import(`data:text/javascript;base64,${Buffer.from(built.outputFiles[0].text).toString('base64')}`);
const html = panelPageHtml({ nonce: 'bench0bench0bench0bench0bench0be', title: 'bench', resourceOrigin: null, script: { inline: js.toString('utf8') }, style: { inline: css.toString('utf8') }, initialState: null });

function probeJson(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [dist('cli.js'), 'probe', file, '--format', 'json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || code === 1 ? resolve(JSON.parse(out)) : reject(new Error(`probe ${file} exited ${code}: ${err.trim().split('\n').slice(-2).join(' ')}`))));
  });
}

const userDataDir = mkdtempSync(join(tmpdir(), 'gl-bench-panel-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
  viewport: { width: 900, height: 1200 },
});
try {
  const url = 'http://panel.gradient-lens.invalid/index.html';
  console.log(`request -> first chart drawn (median of ${RUNS}; probe = CLI run, render = webview)`);
  for (const file of EXAMPLES) {
    const totals = [];
    const renders = [];
    const probeMs = [];
    let layers = 0;
    let heap = 0;
    let failure = null;
    for (let i = 0; i < RUNS && !failure; i++) {
      const page = await context.newPage();
      await page.addInitScript(() => {
        window.__posted = [];
        window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => null, setState: () => {} });
      });
      await page.route(url, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: html }));
      await page.goto(url);
      const started = performance.now();
      const result = await probeJson(file).catch((error) => {
        failure = error;
        return null;
      });
      if (!result) {
        await page.close();
        break;
      }
      layers = result.layers.length;
      probeMs.push(result.durationMs);
      await page.evaluate((r) => window.postMessage({ type: 'show-result', result: r, whatIfs: [], modelId: 'm', documentUri: 'file:///m.py' }, '*'), result);
      const drawn = await page.waitForFunction(() => window.__posted.find((m) => m.type === 'charts-drawn'));
      const { renderMs } = await drawn.jsonValue();
      totals.push(performance.now() - started);
      renders.push(renderMs);
      heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
      await page.close();
    }
    if (failure) {
      console.log(`  ${file.padEnd(48)} failed: ${failure.message}`);
      continue;
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`  ${file.padEnd(48)} ${String(layers).padStart(2)} layers  total ${median(totals).toFixed(0).padStart(5)} ms  (probe itself ${median(probeMs).toFixed(0).padStart(5)} ms)  render ${median(renders).toFixed(0).padStart(4)} ms  panel JS heap ${(heap / 1048576).toFixed(1)} MB`);
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
