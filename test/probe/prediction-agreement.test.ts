/**
 * Issue 9: the static prediction against the probe's measurement, on every example and every probe
 * test model (real tree-sitter, real tfjs). The predicted first / last-hidden gradient ratio lies
 * within one decade of the probe's step-1 ratio; lint and probe agree on vanishing; and the table in
 * docs/propagation.md is what this test measures (GRADIENT_LENS_WRITE_DOCS=1 rewrites it).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import type { Finding } from '../../src/shared/findings';
import type { ModelIR } from '../../src/shared/ir';
import { predictedBesideMeasured } from '../../src/shared/prediction-gap';
import { modelPrediction } from '../../src/shared/knowledge/propagation';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';

const ROOT = join(__dirname, '../..');
const DOC = join(ROOT, 'docs/propagation.md');

function pythonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return pythonFiles(path);
      return name.endsWith('.py') ? [path] : [];
    });
}

/** Every example, and every probe test model. */
const FILES = [...pythonFiles(join(ROOT, 'examples')), ...pythonFiles(join(ROOT, 'test/fixtures/probe'))];

interface Row {
  file: string;
  model: string;
  line: number;
  predicted: number | null;
  measured: number | null;
  /** Why a row has no comparison (no prediction, probe refused, no finite gradient). */
  note: string;
  grade: string;
  lintVanishing: boolean;
  lintScale: boolean;
  verdicts: string[];
  /** Layers whose gradient or output std the prediction puts more than a decade from the probe's step 1 (the panel's comparison). */
  gaps: string[];
}

/**
 * log10 of gradNorm(first weighted) / gradNorm(last hidden weighted) at the probe's first step, in the
 * prediction's measure: the comparison the panel shows (predictedBesideMeasured).
 */
function measuredRatio(result: ProbeResult): number | null {
  return predictedBesideMeasured(result)?.firstLast.measured ?? null;
}

const rows: Row[] = [];
let project: Project;

beforeAll(async () => {
  project = await Project.create();
  for (const path of FILES) project.setFile(path, readFileSync(path, 'utf8'));
  for (const path of FILES) {
    const analyzed = project.analyzeFile(path);
    for (const model of analyzed.models) rows.push(await measure(path, model, analyzed.findings.filter((f) => f.modelId === model.id)));
  }
}, 600_000);

afterAll(() => { project.dispose(); });

async function measure(path: string, model: ModelIR, findings: Finding[]): Promise<Row> {
  const prediction = modelPrediction(model);
  const row: Row = {
    file: relative(ROOT, path),
    model: model.name,
    line: model.nameRange.start.line + 1,
    predicted: prediction.ok ? prediction.log10FirstLastRatio : null,
    measured: null,
    note: prediction.ok ? (prediction.log10FirstLastRatio === null ? 'one weighted layer' : '') : `no prediction: ${prediction.reason}`,
    grade: prediction.ok ? (prediction.grade ?? '-') : '-',
    lintVanishing: findings.some((f) => f.code === 'GL101' && f.severity === 'warning'),
    lintScale: findings.some((f) => f.code === 'GL101' || f.code === 'GL203'),
    verdicts: [],
    gaps: [],
  };
  // Batch 8 keeps every example inside the probe's size budget; 3 steps give the verdicts a median. No
  // step-time budget: the table must not move when src/probe/cost.ts is recalibrated.
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 3, batchSize: 8, seed: 0, budget: { maxStepMs: Number.POSITIVE_INFINITY } }));
  if (!outcome.ok) {
    row.note ||= `probe: ${outcome.error.kind}`;
    return row;
  }
  row.verdicts = outcome.result.verdicts.map((v) => v.kind);
  row.gaps = predictedBesideMeasured(outcome.result)?.gaps ?? [];
  row.measured = measuredRatio(outcome.result);
  if (row.measured === null && !row.note) row.note = 'probe: no finite first/last ratio (a zero or non-finite gradient)';
  return row;
}

const fixed = (value: number | null): string => (value === null ? '-' : value.toFixed(2));

function table(): string {
  const lines = [
    '| file | model | predicted log10 ratio | measured (step 1) | grade | lint | probe verdicts | note |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.file} | ${r.model} (line ${r.line}) | ${fixed(r.predicted)} | ${fixed(r.measured)} | ${r.grade} | ${r.lintVanishing ? 'GL101 warning' : r.lintScale ? 'GL101/GL203' : '-'} | ${r.verdicts.join(', ') || '-'} | ${r.note} |`),
  ];
  return lines.join('\n');
}

const HEADER = `# Predicted against measured gradient flow

Gradient Lens predicts, from the code alone, how much of the last hidden layer's gradient the first
weighted layer gets at initialization (mean-field signal propagation, \`src/shared/knowledge/propagation.ts\`).
The probe measures the same ratio on TensorFlow.js at its first training step (wasm backend, batch 8,
seed 0, standardized synthetic inputs). Both are log10 of gradient-norm ratios, taken at equal weight
norm (|∇W|·|W|) when every layer compared feeds a normalization (docs/probe.md, "Scale-free layers":
the BatchNorm models below); grades use the shared
thresholds of \`src/shared/gradient-flow.ts\` (vanishing below -3, attenuated below -1, exploding above
log10 70 = 1.85), and as the probe's verdicts do, a model is also graded vanishing (exploding) when
any other layer on the path is below (above) those thresholds of the last hidden layer (a U-Net's
bottleneck). The table is written by \`test/probe/prediction-agreement.test.ts\`
(\`GRADIENT_LENS_WRITE_DOCS=1 npx vitest run test/probe/prediction-agreement.test.ts\`), and that
test fails when it differs from what it measures.

`;

describe('predicted against measured gradient flow', () => {
  it('covers every example and every probe test model', () => {
    // Every example file and probe model defines a model (project folders also hold training scripts).
    const modelFiles = FILES.map((f) => relative(ROOT, f)).filter((f) => /^examples\/[^/]+\/(bad|clean)[^/]*\.py$/.test(f) || f.startsWith('test/fixtures/probe/'));
    expect(modelFiles.filter((f) => !rows.some((r) => r.file === f))).toEqual([]);
    // Only models whose probe has no finite ratio (zero or non-finite gradients) go without a comparison.
    expect(rows.filter((r) => r.predicted === null || (r.measured === null && !/no finite/.test(r.note)))).toEqual([]);
  });

  it('predicts the first/last-hidden ratio within one decade of the probe', () => {
    const off = rows.filter((r) => r.predicted !== null && r.measured !== null && Math.abs(r.predicted - r.measured) > 1);
    expect(off.map((r) => `${r.file} ${r.model}: predicted ${fixed(r.predicted)}, measured ${fixed(r.measured)}`)).toEqual([]);
  });

  it('predicts every layer within one decade of the probe: gradient and output std, as the panel compares them', () => {
    expect(rows.filter((r) => r.gaps.length > 0).map((r) => `${r.file} ${r.model}: ${r.gaps.join('; ')}`)).toEqual([]);
  });

  it('lint and probe agree: GL101 at warning level <=> probe vanishing (or a GL203 scale finding)', () => {
    for (const r of rows.filter((x) => x.verdicts.length > 0 || x.lintVanishing)) {
      const probeVanishing = r.verdicts.includes('vanishing');
      if (r.lintVanishing) expect(probeVanishing, `${r.file} ${r.model}: GL101 warning but the probe says ${r.verdicts.join(', ')}`).toBe(true);
      if (probeVanishing) expect(r.lintScale, `${r.file} ${r.model}: the probe says vanishing but lint has neither GL101 nor GL203`).toBe(true);
    }
  });

  it('docs/propagation.md holds this table', () => {
    const text = `${HEADER}${table()}\n`;
    if (process.env.GRADIENT_LENS_WRITE_DOCS === '1') writeFileSync(DOC, text);
    const doc = readFileSync(DOC, 'utf8');
    const parse = (s: string) => s.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| file')).map((l) => l.split(' | '));
    const written = parse(doc);
    const now = parse(text);
    expect(written.map((c) => `${c[0]} ${c[1]}`), 'docs/propagation.md lists other models: regenerate it').toEqual(now.map((c) => `${c[0]} ${c[1]}`));
    written.forEach((cells, i) => {
      const current = now[i]!;
      // Predictions are exact; measurements may move in the last digit with the tfjs build.
      expect(cells[2], `${cells[0]} predicted`).toBe(current[2]);
      const [a, b] = [Number(cells[3]), Number(current[3])];
      if (Number.isFinite(a) || Number.isFinite(b)) expect(Math.abs(a - b), `${cells[0]} measured`).toBeLessThan(0.1);
      expect(cells.slice(4).join(' | '), `${cells[0]} grades and verdicts`).toBe(current.slice(4).join(' | '));
    });
  });
});
