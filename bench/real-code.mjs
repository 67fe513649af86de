// `check` on real code (issue 10): every Python file of the accuracy sample's repositories (docs/accuracy/
// sample.json) at their pinned commits, read from local snapshots (ACCURACY_MIRROR, as for `npm run
// accuracy`). Each file is parsed bare and checked in a fresh project (parse + analysis, what `check`
// does per file), in CPU time, each the least of RUNS passes after a first one (a file takes a few
// milliseconds, and a collection in the middle of one doubles it); the sums are compared, for all files,
// for the files with models and for the rest, and the files that cost most beyond their parse are
// listed: a slow construct on real code shows there first. Prints numbers; asserts nothing.
// Run: `ACCURACY_MIRROR=<folder of snapshots> node bench/real-code.mjs`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEngine, ENGINE_EXPORTS } from './bundle-engine.mjs';
import { loadSample, repoFolder } from '../scripts/accuracy/sample.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 3;
const LISTED = 8;
/** Larger files are data, not code someone edits (a 6-line file of 600 kB): not counted. */
const MAX_BYTES = 256 * 1024;

const mirror = process.env.ACCURACY_MIRROR;
if (!mirror) {
  console.log('real code: not measured; set ACCURACY_MIRROR to a folder of the accuracy sample\'s snapshots (docs/accuracy.md) to check every Python file of its repositories against their parse');
  process.exit(0);
}

/** The Python files of every sample repository the mirror holds, at the pinned commit. */
function sampleFiles() {
  const sample = loadSample();
  const files = [];
  const missing = [];
  for (const [repo, { commit }] of Object.entries(sample.repositories)) {
    const base = join(mirror, repoFolder(repo), 'repo');
    const gitDir = existsSync(join(base, '.git')) ? join(base, '.git') : base;
    if (!existsSync(gitDir)) {
      missing.push(repo);
      continue;
    }
    const git = (...args) => execFileSync('git', ['--git-dir', gitDir, ...args], { maxBuffer: 256 * 1024 * 1024 });
    let paths;
    try {
      paths = git('ls-tree', '-r', '-z', '--name-only', commit).toString('utf8').split('\0').filter((p) => p.endsWith('.py'));
    } catch {
      missing.push(repo);
      continue;
    }
    for (const path of paths) {
      const bytes = git('show', `${commit}:${path}`);
      if (bytes.length <= MAX_BYTES && !bytes.includes(0)) files.push({ name: `${repo}/${path}`, text: bytes.toString('utf8') });
    }
  }
  return { files, repositories: Object.keys(sample.repositories).length, missing };
}

const cpuMs = (start) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

const { files, repositories, missing } = sampleFiles();
const { Project, createPythonParser } = await bundleEngine(root, 'engine', ENGINE_EXPORTS);
const parser = await createPythonParser();
const rows = files.map((f) => ({ ...f, lines: f.text.split('\n').length, parse: Infinity, check: Infinity, models: 0 }));
for (let pass = 0; pass <= RUNS; pass++) {
  for (const row of rows) {
    let start = process.cpuUsage();
    parser.parse(row.text).delete();
    const parse = cpuMs(start);
    const project = await Project.create();
    start = process.cpuUsage();
    project.setFile('/bench/real.py', row.text);
    const results = project.analyzeAll();
    const check = cpuMs(start);
    project.dispose();
    // The first pass compiles the engine: not counted.
    if (pass === 0) continue;
    row.parse = Math.min(row.parse, parse);
    row.check = Math.min(row.check, check);
    row.models = results.reduce((n, r) => n + r.models.length, 0);
  }
}
parser.delete();

const ms = (value) => `${value.toFixed(0)} ms`;
const summary = (label, subset) => {
  const parse = subset.reduce((a, r) => a + r.parse, 0);
  const check = subset.reduce((a, r) => a + r.check, 0);
  const lines = subset.reduce((a, r) => a + r.lines, 0);
  console.log(`  ${label}: ${subset.length} files, ${lines.toLocaleString('en')} lines: check ${ms(check)} = ${(check / parse).toFixed(2)}x the bare parse (${ms(parse)})`);
};
console.log(`real code: every Python file of the accuracy sample's repositories (${repositories - missing.length} of ${repositories} in ACCURACY_MIRROR${missing.length ? `; missing: ${missing.join(', ')}` : ''}), each checked in a fresh project, CPU, the least of ${RUNS} runs per file   (issue 10's target for a 5,000-line file: <= 1.5x the parse)`);
summary('all', rows);
summary('with models', rows.filter((r) => r.models > 0));
summary('without models', rows.filter((r) => r.models === 0));
console.log(`  the ${LISTED} files that cost most beyond their parse:`);
for (const r of [...rows].sort((a, b) => b.check - b.parse - (a.check - a.parse)).slice(0, LISTED)) {
  console.log(`    ${(r.check - r.parse).toFixed(1).padStart(6)} ms beyond a ${r.parse.toFixed(1)} ms parse (${(r.check / r.parse).toFixed(1)}x), ${r.lines} lines, ${r.models} models: ${r.name}`);
}
