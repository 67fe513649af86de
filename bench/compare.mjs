// Before/after on a busy machine (issue 10). Prints numbers; asserts nothing.
// Run: `node bench/compare.mjs OTHER_CHECKOUT [RUNS]` (e.g. a `git worktree add --detach /tmp/base main`).
// Bundles the engine of this checkout and of OTHER_CHECKOUT, then analyzes the generated files
// (bench/generate.mjs) with each in turn, interleaved, so both see the same load: a fresh project
// per run (parse + analysis, what `check` does per file), wall and CPU time, medians, and whether
// both engines give the same results (findings, models, notices); then the editor's case: one
// long-lived incremental project per engine, edits alternated between them (an activation flipped in
// the middle of a file, as bench/editor.mjs types it), and the median of the per-edit ratios.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEngine, ENGINE_EXPORTS } from './bundle-engine.mjs';
import { editAt, editSite, generateFile } from './generate.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const other = process.argv[2] ? resolve(process.argv[2]) : null;
const RUNS = Number(process.argv[3] ?? 7);
if (!other) {
  console.log('usage: node bench/compare.mjs OTHER_CHECKOUT [RUNS]');
  process.exit(2);
}

const engine = (root, name) => bundleEngine(root, `compare-${name}`, ENGINE_EXPORTS);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cpuMs = (start) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

async function measure(Project, text) {
  const project = await Project.create();
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  project.setFile('/bench/experiments.py', text);
  const results = project.analyzeAll();
  const sample = { wall: performance.now() - wallStart, cpu: cpuMs(cpuStart) };
  project.dispose();
  return { sample, results };
}

const engines = { this: await engine(here, 'this'), other: await engine(other, 'other') };
const parser = await engines.this.createPythonParser();
for (const [lines, kind] of [[250, 'dense'], [1000, 'dense'], [5000, 'dense'], [5000, 'typical']]) {
  const text = generateFile(lines, kind);
  const samples = { this: [], other: [], parse: [] };
  let same = true;
  for (let i = 0; i < RUNS; i++) {
    const parseStart = process.cpuUsage();
    parser.parse(text).delete();
    samples.parse.push(cpuMs(parseStart));
    const a = await measure(engines.this.Project, text);
    const b = await measure(engines.other.Project, text);
    samples.this.push(a.sample);
    samples.other.push(b.sample);
    if (i === 0) same = JSON.stringify(a.results) === JSON.stringify(b.results);
  }
  const cpu = (list) => median(list.map((s) => s.cpu));
  const wall = (list) => median(list.map((s) => s.wall));
  console.log(
    `${kind.padEnd(7)} ${String(text.split('\n').length - 1).padStart(5)} lines: this checkout CPU ${cpu(samples.this).toFixed(0)} ms (wall ${wall(samples.this).toFixed(0)}), ${other} CPU ${cpu(samples.other).toFixed(0)} ms (wall ${wall(samples.other).toFixed(0)}), ` +
      `ratio ${(cpu(samples.this) / cpu(samples.other)).toFixed(2)}; bare parse CPU ${median(samples.parse).toFixed(0)} ms, check/parse ${(cpu(samples.this) / median(samples.parse)).toFixed(1)}x (target <= 1.5x); same results: ${same ? 'yes' : 'NO'}`,
  );
}
parser.delete();

/** Per-edit wall times of each engine's editor project, the edits alternated between them (which goes first alternates too). */
async function editorEdits(text, edits) {
  const sides = [];
  for (const [name, { Project }] of Object.entries(engines)) {
    const project = await Project.create({ incremental: true });
    const path = `/bench/${name}/experiments.py`;
    project.setFile(path, text);
    project.analyzeFile(path);
    sides.push({ name, project, path, text, times: [] });
  }
  const at = editSite(text);
  for (let i = 0; i < edits; i++) {
    const [from, to] = i % 2 === 0 ? ['sigmoid', 'tanh'] : ['tanh', 'sigmoid'];
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
      const next = side.text.slice(0, at) + to + side.text.slice(at + from.length);
      const start = performance.now();
      side.project.setFile(side.path, next, editAt(side.text, at, from, to));
      side.project.analyzeFile(side.path);
      side.times.push(performance.now() - start);
      side.text = next;
    }
  }
  for (const side of sides) side.project.dispose();
  return Object.fromEntries(sides.map((side) => [side.name, side.times]));
}

for (const [lines, kind] of [[250, 'dense'], [5000, 'dense'], [5000, 'typical']]) {
  const times = await editorEdits(generateFile(lines, kind), RUNS * 40);
  const ratio = median(times.this.map((t, i) => t / times.other[i]));
  console.log(`editor project, ${kind} ${lines} lines, ${times.this.length} edits alternated: this checkout ${median(times.this).toFixed(1)} ms per edit, ${other} ${median(times.other).toFixed(1)} ms; median per-edit ratio ${ratio.toFixed(3)}`);
}
