/**
 * A normalization scale the code initializes at zero (zero-initialized residual branches): the probe
 * starts γ where the code does, so, as in PyTorch (test/fixtures/probe/reference/zero_init.json), the
 * branch's layers get exactly zero gradient at step 1; they are marked `gated`, left out of the measured
 * flow as the prediction leaves them out, and a notice names them. The twin at the default γ = 1 has
 * none of this.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { flowPathLayers } from '../../src/shared/probe-flow';
import { modelPrediction } from '../../src/shared/knowledge/propagation';
import { extractedModels, modelNamed } from '../unit/extract/extract-helper';

const ZERO_INIT = readFileSync(join(__dirname, '../fixtures/zero-init/torch_zero_init_residual.py'), 'utf8');
const CLEAN = readFileSync(join(__dirname, '../fixtures/zero-init/torch_residual_clean.py'), 'utf8');

async function probe(source: string): Promise<{ result: ProbeResult; gradeOf: string | null }> {
  const model = modelNamed(await extractedModels(source), 'Net');
  // A small image keeps the 12-block network quick; the gating does not depend on the size.
  const ir = { ...model, inputGuess: { shape: [3, 8, 8], tokens: false, layout: 'channels_first' as const, source: 'user' as const, evidence: 'test' } };
  const run = await runProbe(ir, probeOptions({ backend: 'wasm', steps: 3, batchSize: 16 }));
  if (!run.ok) throw new Error(run.error.message);
  const p = modelPrediction(ir);
  return { result: run.result, gradeOf: p.ok ? p.grade : null };
}

describe('probe: zero-initialized normalization scales', () => {
  it('gives the gated branch layers zero gradient at step 1, leaves them out of the flow and says why', { timeout: 120_000 }, async () => {
    const { result, gradeOf } = await probe(ZERO_INIT);
    const gated = result.layers.filter((l) => l.gated === true);
    expect(gated.map((l) => l.name).slice(0, 2)).toEqual(['blocks.0.conv1', 'blocks.0.conv2']);
    expect(gated).toHaveLength(24);
    for (const l of gated) expect(l.gradNorm[0]).toBe(0);
    // From the second step the trained γ lets a gradient through.
    expect(gated.some((l) => (l.gradNorm[2] ?? 0) > 0)).toBe(true);
    const path = flowPathLayers(result.layers).map((l) => l.name);
    expect(path).toEqual(['stem', 'fc']);
    const notice = result.notices.find((n) => n.message.includes('scale starts at zero'));
    expect(notice?.message).toMatch(/^blocks\.0\.conv1 \(line \d+\), blocks\.0\.conv2 \(line \d+\), blocks\.1\.conv1 \(line \d+\) and 21 more:/);
    expect(result.verdicts.filter((v) => v.kind === 'vanishing' || v.kind === 'exploding')).toEqual([]);
    expect(gradeOf).toBe('healthy');
  });

  it('the twin at the default scale: nothing gated, every conv on the flow path, no notice', { timeout: 120_000 }, async () => {
    const { result } = await probe(CLEAN);
    expect(result.layers.some((l) => l.gated === true)).toBe(false);
    expect(flowPathLayers(result.layers).length).toBe(26);
    expect(result.layers.find((l) => l.name === 'blocks.0.conv1')?.gradNorm[0]).toBeGreaterThan(0);
    expect(result.notices.some((n) => n.message.includes('scale starts at zero'))).toBe(false);
  });
});
