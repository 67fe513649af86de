/**
 * The probe's step-1 gradient profile against PyTorch's (scripts/reference/torch_profiles.py, run once
 * with torch; its numbers are committed in test/fixtures/probe/reference/*.json, and this test never runs
 * Python). Each case's model source goes through the real analyzer and the real probe on the wasm and
 * cpu backends; per weighted layer, the mean over a few seeds of log10(gradNorm / last layer's) must be
 * within the tolerance of PyTorch's mean over its seeds. Any JSON file in that folder is read, so a
 * new group of cases is a new file, not an edit here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import { runProbe } from '../../src/probe/run';
import type { ModelIR } from '../../src/shared/ir';
import { probeOptions, type BackendChoice } from '../../src/shared/probe';
import { referenceGroups, referenceModel } from './reference-cases';

/** Decades: wide enough for seed noise (the probe's and PyTorch's random streams differ), narrow enough that a wrong init (a factor sqrt(3) in scale is ~0.24 decades at every layer it touches, compounding with depth) or a wrong layer fails. */
const TOLERANCE_DECADES = 0.25;
/** Probe seeds averaged per case and backend. */
const PROBE_SEEDS = 4;

let project: Project;
beforeAll(async () => {
  project = await Project.create();
});
afterAll(() => {
  project.dispose();
});

/** Mean over seeds of log10(norm / last norm) per weighted layer, at step 1. */
async function probeProfile(model: ModelIR, backend: BackendChoice, batch: number, lossName: string): Promise<{ names: string[]; ratios: number[] }> {
  const sums: number[] = [];
  let names: string[] = [];
  for (let seed = 0; seed < PROBE_SEEDS; seed++) {
    const outcome = await runProbe(model, probeOptions({ backend, steps: 1, seed, batchSize: batch }));
    if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
    expect(outcome.result.backend).toBe(backend);
    expect(outcome.result.lossName).toBe(lossName);
    const weighted = outcome.result.layers.filter((l) => l.gradNorm.length > 0);
    names = weighted.map((l) => `${l.name} (${l.kind})`);
    const norms = weighted.map((l) => l.gradNorm[0]!);
    const last = norms[norms.length - 1]!;
    norms.forEach((n, i) => {
      sums[i] = (sums[i] ?? 0) + Math.log10(n / last);
    });
  }
  return { names, ratios: sums.map((s) => s / PROBE_SEEDS) };
}

describe.each(referenceGroups)('PyTorch reference profiles: $file', ({ group, data }) => {
  it('was written by the reference script', () => {
    expect(data.generator).toBe('scripts/reference/torch_profiles.py');
    expect(data.cases.length).toBeGreaterThan(0);
  });
  describe.each(data.cases.map((c, index) => ({ c, index, name: c.name })))('$name', ({ c, index }) => {
    // The cpu backend's convolutions are slow on a loaded 2-core machine.
    it.each(['wasm', 'cpu'] as const)('matches on %s', { timeout: 240_000 }, async (backend) => {
      const model = referenceModel(project, group, index, c);
      const { names, ratios } = await probeProfile(model, backend, c.batch, c.probeLoss ?? 'mse');
      const tolerance = c.toleranceDecades ?? TOLERANCE_DECADES;
      const table = c.layers.map((ref, i) => `${ref.module} ${ref.class}: torch ${ref.log10Ratio?.toFixed(3) ?? 'zero'} probe ${ratios[i]?.toFixed(3) ?? '-'} [${names[i] ?? 'missing'}]`).join('\n');
      expect(ratios.length, `weighted layers differ:\n${table}`).toBe(c.layers.length);
      c.layers.forEach((ref, i) => {
        // Exactly zero in PyTorch: exactly zero in every probe seed too (the mean of their logs is -Infinity).
        if (ref.log10Ratio === null) expect(ratios[i], `layer ${i} should get no gradient:\n${table}`).toBe(Number.NEGATIVE_INFINITY);
        else expect(Math.abs(ratios[i]! - ref.log10Ratio), `layer ${i} outside ${tolerance} decades:\n${table}`).toBeLessThanOrEqual(tolerance);
      });
    });
  });
});
