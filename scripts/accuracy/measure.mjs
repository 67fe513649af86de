// `npm run accuracy`: measures the analyzer and the probe on the accuracy sample (docs/accuracy.md).
// Materialises the sample (materialize.mjs), runs `gradient-lens check --format json` once per
// repository folder (so cross-file imports resolve as in a workspace), compares the findings with
// the judgements in docs/accuracy/sample.json, then probes every model the analyzer extracted
// (`gradient-lens probe FILE --line N --steps 1 --backend wasm --format json`, a notebook's model at
// `--cell C --line N` as check reported it) and records whether it
// builds, why not, how long the first result took, and whether the prediction lint and hovers show
// agrees with what the probe measured at that step (the comparison the panel shows, within a decade).
// Prints the tables; asserts nothing.
//
// Flags: --no-probe, --probe-timeout <s> (default 90), --markdown (tables as Markdown),
//        --out <file> (all numbers as JSON; default <cache>/results.json), --only <repo substring>,
//        --from <results.json> (print a saved run again, e.g. as Markdown, without measuring).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleEngine } from '../../bench/bundle-engine.mjs';
import { materialize } from './materialize.mjs';
import { cacheRoot, filesRoot, loadSample, repoFolder, repoRoot } from './sample.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : fallback;
};
const probeEnabled = !flag('--no-probe');
const probeTimeoutMs = Number(option('--probe-timeout', '90')) * 1000;
const markdown = flag('--markdown');
const outFile = option('--out', join(cacheRoot, 'results.json'));
const only = option('--only', '');
const from = option('--from', '');
const cli = join(repoRoot, 'dist', 'cli.js');

/**
 * CPU milliseconds of this process's finished children and their finished children (Linux: cutime +
 * cstime of /proc/self/stat, clock ticks of 10 ms); null elsewhere. Commands run one at a time, so
 * the difference around one is its CPU time, the probe worker's included: on a machine shared with
 * other work that is the number to compare, not the wall time.
 */
function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // Fields 16 and 17 of stat(5), counted after the command name: 14 and 15 here.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/** Runs a command; resolves with its output, exit code, wall time and CPU time (never rejects). */
function run(args, { cwd, timeoutMs }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const cpuBefore = childrenCpuMs();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs) : null;
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const cpuAfter = childrenCpuMs();
      resolve({ stdout, stderr, code, timedOut, ms: performance.now() - started, cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore });
    });
  });
}

/** A judged location: a line number, or "cN:L" (cell N, line L in it) in a notebook. */
const locKey = (cell, line) => (cell ? `c${cell}:${line}` : String(line));
const judgedKey = (loc) => String(loc);

/**
 * The analyzer's model for a judged one: same location, or the same name when that name is unique
 * in the file (a builder function's model is named after its variable at the assignment; `alt`
 * lists such names and notebook locations). Each analyzer model answers for one judged model.
 */
function findModel(analyzerModels, judged, claimed) {
  const free = analyzerModels.filter((m) => !claimed.has(m));
  const locs = new Set([judged.line, ...(judged.alt ?? []).map((a) => a.line).filter((l) => l !== undefined)].map(judgedKey));
  const byLoc = free.find((m) => locs.has(locKey(m.cell, m.line)));
  if (byLoc) return byLoc;
  const names = new Set([judged.name, ...(judged.alt ?? []).map((a) => a.name)]);
  const named = free.filter((m) => names.has(m.name));
  const unique = named.length === 1 && analyzerModels.filter((m) => names.has(m.name)).length === 1;
  return unique ? named[0] : undefined;
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ratio = (num, den) => (den === 0 ? null : num / den);
const pct = (value) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`);

/** Sorts a probe refusal into the categories issue 11 counts, from the probe's error kind and message. */
function refusalCategory(kind, message) {
  const m = message.toLowerCase();
  if (/timed out|time budget/.test(m)) return 'time';
  if (kind === 'budget' || /over the probe budget/.test(m)) return 'over budget';
  if (kind === 'crash') return 'probe crash';
  if (kind === 'shape') return /cannot tell the input shape/.test(m) ? 'input shape unknown' : 'input shape contradicts the code';
  if (/not a constant|cannot read/.test(m)) return 'non-constant size';
  if (/several inputs/.test(m)) return 'several inputs';
  return 'unsupported layer';
}

/** The constructs the issues name, shown in the per-construct table (the JSON keeps every tag). */
const KEY_CONSTRUCTS = [
  'framework:torch', 'framework:keras', 'framework:tf1', 'framework:none', 'cross-file', 'notebook', 'course', 'keras1',
  'no-imports', 'undefined-receiver', 'partial-imports', 'subclass', 'keras-subclass', 'keras-functional', 'keras-seq-add',
  'nn-sequential', 'builder-function', 'helper-layers', 'splat-helper', 'loop-unrolled', 'closures-returning-layers',
  'activation-as-argument', 'sizes-from-args', 'config-dict-sizes', 'apply-init', 'classname-init', 'recurrent',
  'merge-of-sequentials', 'multi-input', 'training-loop', 'training-function', 'trainer-class', 'training-method-in-model',
  'model-passed-to-function', 'lightning', 'rebound-variable', 'residual', 'attention', 'selu', 'image-data',
];

function tally(map, key, field) {
  const entry = map.get(key) ?? { tp: 0, fp: 0, fn: 0, models: 0, extracted: 0, files: 0 };
  entry[field] += 1;
  map.set(key, entry);
}

async function main() {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  if (!(await materialize({ quiet: true }))) console.error('some sample files are missing; they are reported as errors below');
  const sample = loadSample();
  const files = sample.files.filter((f) => !only || f.repo.includes(only));
  const verdicts = new Map(sample.findings.map((f) => [`${f.repo}|${f.path}|${f.rule}|${judgedKey(f.line)}`, f]));

  // 1. The analyzer, once per repository folder.
  const reports = new Map();
  const checkTimes = [];
  for (const repo of [...new Set(files.map((f) => f.repo))]) {
    const folder = join(filesRoot, repoFolder(repo));
    const result = await run([cli, 'check', '.', '--format', 'json'], { cwd: folder, timeoutMs: 300_000 });
    checkTimes.push({ repo, ms: result.ms });
    let parsed = null;
    try {
      parsed = JSON.parse(result.stdout);
    } catch {
      console.error(`check failed on ${repo} (exit ${result.code}): ${result.stderr.split('\n')[0]}`);
      continue;
    }
    for (const file of parsed.files) reports.set(`${repo}|${file.path.replace(/^\.\//, '')}`, file);
  }

  // 2. Findings against judgements.
  const perRule = new Map();
  // Every rule gets a row, also those with neither instances nor findings (their silence is measured too).
  const catalog = await run([cli, 'rules'], { cwd: repoRoot, timeoutMs: 60_000 });
  for (const code of catalog.stdout.match(/^GL\d{3}/gm) ?? []) perRule.set(code, { tp: 0, fp: 0, fn: 0, models: 0, extracted: 0, files: 0 });
  const perConstruct = new Map();
  const misses = [];
  const falseAlarms = [];
  const unjudged = [];
  const ambiguousHits = [];
  const modelRows = [];
  let fileErrors = 0;
  for (const entry of files) {
    const report = reports.get(`${entry.repo}|${entry.path}`);
    const constructs = [...(entry.constructs ?? []), `framework:${entry.framework ?? 'unknown'}`];
    for (const c of constructs) tally(perConstruct, c, 'files');
    if (!report || report.error) {
      fileErrors += 1;
      console.error(`no result for ${entry.repo}/${entry.path}${report?.error ? `: ${report.error}` : ''}`);
    }
    const diagnostics = report?.diagnostics ?? [];
    const matched = new Set();
    for (const instance of entry.instances) {
      const lines = new Set(instance.lines.map(judgedKey));
      const hits = diagnostics.filter((d) => d.code === instance.rule && lines.has(locKey(d.cell, d.line)));
      hits.forEach((d) => matched.add(d));
      const field = hits.length > 0 ? 'tp' : 'fn';
      tally(perRule, instance.rule, field);
      for (const c of constructs) tally(perConstruct, c, field);
      if (hits.length === 0) misses.push({ repo: entry.repo, path: entry.path, rule: instance.rule, lines: instance.lines, note: instance.note ?? '', cause: instance.missCause ?? '' });
    }
    for (const d of diagnostics) {
      if (matched.has(d)) continue;
      const key = locKey(d.cell, d.line);
      const ambiguous = entry.ambiguous.find((a) => a.rule === d.code && a.lines.map(judgedKey).includes(key));
      if (ambiguous) {
        ambiguousHits.push({ repo: entry.repo, path: entry.path, rule: d.code, line: key });
        continue;
      }
      const verdict = verdicts.get(`${entry.repo}|${entry.path}|${d.code}|${key}`);
      const row = { repo: entry.repo, path: entry.path, rule: d.code, line: key, message: d.message, cause: verdict?.cause ?? '' };
      if (!verdict) unjudged.push(row);
      tally(perRule, d.code, 'fp');
      for (const c of constructs) tally(perConstruct, c, 'fp');
      falseAlarms.push(row);
    }
    const claimed = new Set();
    for (const model of entry.models) {
      const found = findModel(report?.models ?? [], model, claimed);
      if (found) claimed.add(found);
      for (const c of constructs) {
        tally(perConstruct, c, 'models');
        if (found) tally(perConstruct, c, 'extracted');
      }
      modelRows.push({ repo: entry.repo, path: entry.path, name: model.name, line: model.line, extracted: Boolean(found) });
    }
  }

  // 3. The probe, on every model the analyzer extracted.
  const probes = [];
  if (probeEnabled) {
    // The comparison of prediction and measurement the panel and the CLI's text report show.
    const { predictedBesideMeasured } = await bundleEngine(repoRoot, 'prediction-gap', ["export { predictedBesideMeasured } from './src/shared/prediction-gap';"]);
    for (const entry of files) {
      const report = reports.get(`${entry.repo}|${entry.path}`);
      if (!report?.models?.length) continue;
      for (const model of report.models) {
        // The model's name when no other model of the file has it (models a class's calls build share its
        // line), else the location exactly as check reported it: the probe takes a notebook's cell and line too.
        const unique = report.models.filter((m) => m.name === model.name).length === 1;
        const at = unique ? ['--model', model.name] : model.cell ? ['--cell', String(model.cell), '--line', String(model.line)] : ['--line', String(model.line)];
        const args = [cli, 'probe', entry.path, ...at, '--steps', '1', '--backend', 'wasm', '--format', 'json'];
        const result = await run(args, { cwd: join(filesRoot, repoFolder(entry.repo)), timeoutMs: probeTimeoutMs });
        let built = false;
        let reason = '';
        let kind = '';
        /** Where prediction and measurement are more than a decade apart; null without a comparison. */
        let gaps = null;
        if (result.timedOut) reason = `timed out after ${probeTimeoutMs / 1000} s`;
        else {
          try {
            const parsed = JSON.parse(result.stdout);
            built = Array.isArray(parsed.layers) && parsed.layers.length > 0;
            if (typeof parsed.durationMs === 'number') result.durationMs = parsed.durationMs;
            const comparison = built ? predictedBesideMeasured(parsed) : null;
            if (comparison && !comparison.unavailable) gaps = comparison.gaps;
            if (parsed.error) {
              reason = String(parsed.error.message ?? '');
              kind = String(parsed.error.kind ?? '');
            } else if (!built) reason = 'no layers in the result';
          } catch {
            reason = (result.stderr.trim().split('\n').find((l) => l.trim()) ?? `exit ${result.code}`).replace(/^.*?: /, '');
          }
        }
        const category = built ? '' : refusalCategory(kind, reason);
        probes.push({ repo: entry.repo, path: entry.path, model: model.name, line: locKey(model.cell, model.line), built, kind, reason, category, gaps, ms: Math.round(result.ms), cpuMs: result.cpuMs, probeMs: result.durationMs });
        process.stderr.write(built ? '.' : 'x');
      }
    }
    process.stderr.write('\n');
  }

  // 4. Numbers.
  const sum = (map, field) => [...map.values()].reduce((s, e) => s + e[field], 0);
  const tp = sum(perRule, 'tp');
  const fp = sum(perRule, 'fp');
  const fn = sum(perRule, 'fn');
  const extracted = modelRows.filter((m) => m.extracted).length;
  const built = probes.filter((p) => p.built);
  const refusals = new Map();
  for (const p of probes.filter((q) => !q.built)) refusals.set(p.category, (refusals.get(p.category) ?? 0) + 1);
  const builtTimes = built.map((p) => p.ms);
  const compared = built.filter((p) => Array.isArray(p.gaps));
  const projects = new Set(files.filter((f) => f.project).map((f) => `${f.repo}|${f.project}`));
  const headline = {
    files: files.length,
    repositories: new Set(files.map((f) => f.repo)).size,
    multiFileProjects: projects.size,
    fileErrors,
    instances: tp + fn,
    truePositives: tp,
    falseAlarms: fp,
    misses: fn,
    recall: ratio(tp, tp + fn),
    precision: ratio(tp, tp + fp),
    ambiguousJudged: files.reduce((s, f) => s + f.ambiguous.length, 0),
    findingsOnAmbiguous: ambiguousHits.length,
    modelsJudged: modelRows.length,
    modelsExtracted: extracted,
    modelsExtractedShare: ratio(extracted, modelRows.length),
    analyzerModels: probes.length,
    probeBuilt: built.length,
    probeBuiltShare: ratio(built.length, probes.length),
    predictionCompared: compared.length,
    predictionAgrees: compared.filter((p) => p.gaps.length === 0).length,
    probeFirstResultMsP50: percentile(builtTimes, 50),
    probeFirstResultMsP95: percentile(builtTimes, 95),
    // The probe's own build + first step, without starting node and loading tfjs.
    probeInProcessMsP50: percentile(built.map((p) => p.probeMs ?? 0), 50),
    probeInProcessMsP95: percentile(built.map((p) => p.probeMs ?? 0), 95),
    // CPU time of the whole request (CLI and worker): what survives other work on the machine.
    probeFirstResultCpuMsP50: percentile(built.map((p) => p.cpuMs ?? 0), 50),
    probeFirstResultCpuMsP95: percentile(built.map((p) => p.cpuMs ?? 0), 95),
    checkMsPerRepoP50: Math.round(percentile(checkTimes.map((t) => t.ms), 50) ?? 0),
    checkMsPerRepoMax: Math.round(Math.max(0, ...checkTimes.map((t) => t.ms))),
  };
  const results = {
    measuredAt: new Date().toISOString(),
    headline,
    perRule: Object.fromEntries([...perRule].sort()),
    perConstruct: Object.fromEntries([...perConstruct].sort()),
    misses,
    falseAlarms,
    unjudged,
    ambiguousHits,
    models: modelRows,
    probes,
    refusals: Object.fromEntries(refusals),
    checkTimes,
  };
  writeFileSync(outFile, `${JSON.stringify(results, null, 1)}\n`);
  print(results);
}

function table(headers, rows) {
  if (markdown) {
    return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

function print(results) {
  const h = results.headline;
  console.log(table(['measure', 'value'], [
    ['files / repositories / multi-file projects', `${h.files} / ${h.repositories} / ${h.multiFileProjects}`],
    ['files the analyzer could not read', h.fileErrors],
    ['real instances (judged)', h.instances],
    ['found / missed / false alarms', `${h.truePositives} / ${h.misses} / ${h.falseAlarms}`],
    ['recall (target >= 0.90)', pct(h.recall)],
    ['precision (target >= 0.95)', pct(h.precision)],
    ['ambiguous cases (excluded) / findings on them', `${h.ambiguousJudged} / ${h.findingsOnAmbiguous}`],
    ['models extracted (target >= 97 %)', `${h.modelsExtracted} / ${h.modelsJudged} = ${pct(h.modelsExtractedShare)}`],
    ['probe builds, of the models the analyzer extracts (target >= 90 %)', `${h.probeBuilt} / ${h.analyzerModels} = ${pct(h.probeBuiltShare)}`],
    ['prediction within a decade of the probe at step 1 (first/last ratio, every layer), of the built models with a prediction', h.predictionCompared == null ? 'n/a' : `${h.predictionAgrees} / ${h.predictionCompared} = ${pct(ratio(h.predictionAgrees, h.predictionCompared))}`],
    ['probe time to first result (steps=1, wasm, wall) p50 / p95', h.probeFirstResultMsP50 === null ? 'n/a' : `${(h.probeFirstResultMsP50 / 1000).toFixed(1)} s / ${(h.probeFirstResultMsP95 / 1000).toFixed(1)} s`],
    ['probe time to first result, CPU (CLI + worker) p50 / p95', h.probeFirstResultCpuMsP50 == null ? 'n/a' : `${(h.probeFirstResultCpuMsP50 / 1000).toFixed(1)} s / ${(h.probeFirstResultCpuMsP95 / 1000).toFixed(1)} s`],
    ['probe build + first step in process (durationMs) p50 / p95', h.probeInProcessMsP50 == null ? 'n/a' : `${(h.probeInProcessMsP50 / 1000).toFixed(1)} s / ${(h.probeInProcessMsP95 / 1000).toFixed(1)} s`],
    ['check per repository folder, median / slowest', `${(h.checkMsPerRepoP50 / 1000).toFixed(1)} s / ${(h.checkMsPerRepoMax / 1000).toFixed(1)} s`],
  ]));
  console.log(`\nPer rule\n${table(['rule', 'found', 'missed', 'false', 'recall', 'precision'], Object.entries(results.perRule).map(([rule, e]) => [rule, e.tp, e.fn, e.fp, pct(ratio(e.tp, e.tp + e.fn)), pct(ratio(e.tp, e.tp + e.fp))]))}`);
  const constructs = flag('--all-constructs') ? Object.keys(results.perConstruct) : KEY_CONSTRUCTS.filter((c) => results.perConstruct[c]);
  const constructRow = (c) => {
    const e = results.perConstruct[c];
    return [c, e.files, e.tp, e.fn, e.fp, pct(ratio(e.tp, e.tp + e.fn)), pct(ratio(e.tp, e.tp + e.fp)), e.models ? `${e.extracted}/${e.models}` : '-'];
  };
  console.log(`\nPer construct (--all-constructs for every tag)\n${table(['construct', 'files', 'found', 'missed', 'false', 'recall', 'precision', 'models extracted'], constructs.map(constructRow))}`);
  console.log(`\nMisses\n${table(['file', 'rule', 'lines', 'cause'], results.misses.map((m) => [`${m.repo}/${m.path}`, m.rule, m.lines.join(','), m.cause || m.note]))}`);
  console.log(`\nFalse alarms\n${table(['file', 'rule', 'line', 'cause'], results.falseAlarms.map((f) => [`${f.repo}/${f.path}`, f.rule, f.line, f.cause || `(unjudged) ${f.message.slice(0, 90)}`]))}`);
  const missed = results.models.filter((m) => !m.extracted);
  console.log(`\nModels not extracted\n${table(['file', 'model', 'line'], missed.map((m) => [`${m.repo}/${m.path}`, m.name, m.line]))}`);
  if (results.probes.length) {
    console.log(`\nProbe refusals by reason\n${table(['reason', 'models'], Object.entries(results.refusals).sort((a, b) => b[1] - a[1]))}`);
    const slowest = results.probes.filter((p) => p.built && typeof p.cpuMs === 'number').sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 12);
    if (slowest.length) console.log(`\nSlowest first results (CPU of CLI + worker)\n${table(['file', 'model', 'line', 'CPU s', 'wall s'], slowest.map((p) => [`${p.repo}/${p.path}`, p.model.slice(0, 50), p.line, (p.cpuMs / 1000).toFixed(1), (p.ms / 1000).toFixed(1)]))}`);
    const apart = results.probes.filter((p) => p.gaps?.length);
    if (apart.length) console.log(`\nPrediction and probe more than a decade apart\n${table(['file', 'model', 'line', 'where'], apart.map((p) => [`${p.repo}/${p.path}`, p.model.slice(0, 50), p.line, p.gaps.join('; ').slice(0, 220)]))}`);
    const refused = results.probes.filter((p) => !p.built);
    console.log(`\nProbe refusals\n${table(['file', 'model', 'line', 'kind', 'reason'], refused.map((p) => [`${p.repo}/${p.path}`, p.model, p.line, p.kind, p.reason.slice(0, 140)]))}`);
  }
  if (results.unjudged.length) console.log(`\n${results.unjudged.length} finding(s) not matched by a judgement: judge them in docs/accuracy/sample.json ("findings").`);
}

if (from) print(JSON.parse(readFileSync(from, 'utf8')));
else await main();
