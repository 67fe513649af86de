// Probe benchmark (issue 4, "Measured"). Prints numbers; asserts nothing. Run: `node bench/probe.mjs [filter]`.
// Bundles bench/probe-cases.ts once, then runs every case in a fresh process per backend (cpu, wasm,
// and tfjs-node when it is installed), so one backend's state never colours another's numbers.
// Columns: median ms per training step (after the first), tfjs kernels per step, the first step
// (includes building), the in-process total (first case: includes backend start), the whole request
// through the worker process (fork + tfjs load + probe) as the CLI and the editor's first probe make it,
// the same on the standby worker the editor starts after each probe for the next one (loaded while
// idle), the time from the request to the first (provisional, after step 1) verdict through the fresh
// worker and through the standby one, and the target for it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const filter = process.argv[2] ?? '';
const out = mkdtempSync(join(tmpdir(), 'gl-probe-bench-'));
const bundle = join(out, 'probe-bench.cjs');
await esbuild.build({
  entryPoints: [join(root, 'bench/probe-cases.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: bundle,
  external: ['@tensorflow/tfjs-node'],
  logLevel: 'error',
});

const worker = join(out, 'probe-worker.js');
await esbuild.build({
  entryPoints: [join(root, 'src/probe/worker.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: worker,
  external: ['@tensorflow/tfjs-node'],
  logLevel: 'error',
});

/** A CPU-speed reference printed with the numbers: shared CI machines vary a lot with load. */
function calibrationMs() {
  const t = performance.now();
  let s = 0;
  for (let i = 0; i < 1e8; i++) s += i * 0.5;
  return s > 0 ? performance.now() - t : 0;
}
console.log(`calibration: a 1e8-iteration JS loop takes ${calibrationMs().toFixed(0)} ms here now (an unloaded modern core: ~100 ms)`);
console.log("each case's process runs with the probe worker's V8 settings (src/probe/v8-flags.ts), as the CLI and the extension probe");

const backends = ['wasm', 'cpu'];
try {
  require.resolve('@tensorflow/tfjs-node');
  backends.unshift('node');
} catch {
  console.log('(tfjs-node is not installed here: measuring wasm and cpu only)');
}

const fmt = (ms) => (ms === undefined ? '-' : `${ms.toFixed(1)}`);
/** ', A on the main thread, B on the others' (V8's and the wasm backend's; each a median over steps) when the case measured threads apart (Linux), else ''. */
const threadSplit = (r) => (r.mainCpuMsPerStep == null ? '' : ` (main thread ${fmt(r.mainCpuMsPerStep)}, other threads ${fmt(r.otherThreadsCpuMsPerStep)})`);
/** Per backend, per case: the probe's ms/step (wall and CPU), for the PyTorch comparison. */
const measured = new Map();
/** Per backend, the MLP probe's ms/step in a process that has run it before (JIT warm), from the interleaved rounds. */
const warm = new Map();
console.log(`${'case'.padEnd(44)} ${'backend'.padEnd(10)} ${'ms/step'.padStart(8)} ${'ops/step'.padStart(9)} ${'1st step'.padStart(9)} ${'in-proc'.padStart(9)} ${'worker'.padStart(9)} ${'standby'.padStart(9)} ${'1st verd.'.padStart(10)} ${'standby 1st'.padStart(11)} ${'target'.padStart(7)}  verdicts`);
for (const backend of backends) {
  // Run from the repo root so the wasm binaries resolve from node_modules.
  const run = spawnSync(process.execPath, [bundle, backend, filter], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, PROBE_WORKER: worker } });
  if (run.status !== 0) console.log(`${backend}: failed\n${run.stderr}`);
  for (const line of run.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const r = JSON.parse(line);
    if (r.baseline) {
      const ratio = (r.msPerStep / r.probeMsPerStep).toFixed(2);
      console.log(`  interleaved, ${r.backend}: ${r.baseline} ${fmt(r.msPerStep)} ms/step vs the probe ${fmt(r.probeMsPerStep)} ms/step (probe ${ratio}x as fast)`);
      warm.set(`${r.backend}|${r.case}`, r);
      continue;
    }
    if (r.error) {
      console.log(`${r.case.padEnd(44)} ${backend.padEnd(10)} error: ${r.error}`);
      continue;
    }
    measured.set(`${r.backend}|${r.case}`, r);
    const firstVerdict = r.workerFirstVerdictMs ?? r.firstVerdictMs;
    const slow = firstVerdict === null || firstVerdict > r.targetMs;
    console.log(`${r.case.padEnd(44)} ${r.backend.padEnd(10)} ${fmt(r.msPerStep).padStart(8)} ${String(r.kernelsPerStep).padStart(9)} ${fmt(r.firstStepMs).padStart(9)} ${fmt(r.totalMs).padStart(9)} ${fmt(r.workerMs ?? undefined).padStart(9)} ${fmt(r.standbyMs ?? undefined).padStart(9)} ${fmt(firstVerdict ?? undefined).padStart(10)} ${fmt(r.standbyFirstVerdictMs ?? undefined).padStart(11)} ${String(r.targetMs).padStart(6)}${slow ? '!' : ' '} ${r.verdicts.join(',')}`);
  }
}

// Issue 10: the probe's ms/step against PyTorch 1.13 on one CPU thread, same networks, same run. CPU
// time (all the probe's threads) is the ratio that survives a shared machine's load; wall time is what
// the user waits for. The CNN's target is judged on wall time, its kernels running on the wasm backend's
// threads (src/probe/wasm-threads.ts) against PyTorch's one, with the CPU ratio printed beside it; the
// MLP's on CPU time, its kernels too small to gain from threads.
const torch = spawnSync('/usr/bin/python3', [join(root, 'bench/torch-reference.py'), filter], { encoding: 'utf8' });
if (torch.status !== 0) {
  console.log(`PyTorch reference not run (/usr/bin/python3 with torch: apt-get install python3-torch): ${(torch.stderr || torch.error?.message || '').trim().split('\n').pop()}`);
} else {
  const targets = { '20x Dense(64) sigmoid MLP, batch 64': { ratio: 1.0, on: 'CPU' }, '4-conv CIFAR CNN (BatchNorm, 6-layer head), batch 32': { ratio: 1.5, on: 'wall' } };
  for (const line of torch.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const t = JSON.parse(line);
    for (const backend of ['wasm', 'tensorflow', 'cpu']) {
      const r = measured.get(`${backend}|${t.case}`);
      if (!r) continue;
      const ratios = { CPU: r.cpuMsPerStep / t.cpuMsPerStep, wall: r.msPerStep / t.msPerStep };
      const target = targets[t.case];
      const verdict = target === undefined || backend !== 'wasm' ? '' : ` (target <= ${target.ratio}x ${target.on}: ${ratios[target.on] <= target.ratio ? 'met' : 'NOT met'})`;
      const threads = r.threads ? `, ${r.threads} thread${r.threads > 1 ? 's' : ''}` : '';
      console.log(`vs PyTorch ${t.torch}, 1 thread: ${t.case} on ${backend}${threads}: probe ${fmt(r.cpuMsPerStep)} ms/step CPU${threadSplit(r)} (${fmt(r.msPerStep)} wall), PyTorch ${fmt(t.cpuMsPerStep)} ms/step CPU (${fmt(t.msPerStep)} wall): ratio ${ratios.CPU.toFixed(2)}x CPU, ${ratios.wall.toFixed(2)}x wall${verdict}`);
      const w = warm.get(`${backend}|${t.case}`);
      // The first run's steps include compiling tfjs' JavaScript (a fresh process); PyTorch's are after warm-up.
      if (w) console.log(`  the same, probe in a warm process (later runs, 11 steps each): ${fmt(w.probe.cpuMsPerStep)} ms/step CPU${threadSplit(w.probe)} (${fmt(w.probeMsPerStep)} wall): ratio ${(w.probe.cpuMsPerStep / t.cpuMsPerStep).toFixed(2)}x CPU, ${(w.probeMsPerStep / t.msPerStep).toFixed(2)}x wall`);
    }
  }
}
rmSync(out, { recursive: true, force: true });
