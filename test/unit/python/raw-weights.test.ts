/**
 * Raw weight tensors used with @, torch.matmul / mm or F.linear are linear layers: the initialization
 * rules judge them (real parser, extractor and rules over fixtures).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { analyzeFixture } from '../project-helper';
import { defined } from '../../defined';

const FIXTURES = join(__dirname, '../../fixtures/core');

const analyze = (name: string): Promise<FileResult> => analyzeFixture(join(FIXTURES, name));

describe('raw weight tensors', () => {
  it('each computation is a model of linear layers, sized by how the weight is used', async () => {
    const r = await analyze('raw_weights_bad.py');
    const byName = new Map(r.models.map((m) => [m.name, m]));
    expect([...byName.keys()].sort()).toEqual(['TensorNet', 'weights v1, v2', 'weights w1, w2', 'weights wa, wb']);
    for (const m of r.models) expect(m.layers.map((l) => l.kind)).toEqual(['dense', 'activation', 'dense']);
    // x @ W: rows are inputs; F.linear(x, W): rows are outputs.
    expect(defined(byName.get('weights wa, wb')).layers[0]).toMatchObject({ inFeatures: 512, units: 64, fanIn: 512, useBias: false, kernelInit: { name: 'random_normal', params: { std: 1 } } });
    expect(defined(byName.get('weights v1, v2')).layers[0]).toMatchObject({ inFeatures: 512, units: 256 });
    expect(defined(byName.get('weights v1, v2')).layers[2]).toMatchObject({ inFeatures: 256, units: 4 });
    expect(defined(byName.get('TensorNet')).layers[0]).toMatchObject({ name: 'w1', inFeatures: 512, units: 64 });
  });

  it('reports N(0, 1) as too large (GL203) on every weight, hidden (fan_in 512, relu) and head (fan_in 64 or 256), however it is spelled', async () => {
    const r = await analyze('raw_weights_bad.py');
    expect(r.findings.map((f) => `${f.code} ${f.range.start.line + 1}`)).toEqual(['GL203 9', 'GL203 10', 'GL203 18', 'GL203 19', 'GL203 25', 'GL203 26', 'GL203 34', 'GL203 35']);
    expect(r.findings[0]!.message).toMatch(/'wa' is 16\.0x/);
  });

  it('the clean twin: He-scaled weights, an nn.init call on an empty weight, and data tensors are silent', async () => {
    const r = await analyze('raw_weights_clean.py');
    expect(r.findings).toEqual([]);
    const names = r.models.map((m) => m.name).sort();
    expect(names).toEqual(['weights w1', 'weights wa, wb']);
    const wa = defined(r.models.find((m) => m.name === 'weights wa, wb')).layers[0]!;
    expect(defined(wa.kernelInit).params.std).toBeCloseTo(Math.sqrt(2 / 512));
    expect(defined(r.models.find((m) => m.name === 'weights w1')).layers[0]!.kernelInit).toMatchObject({ name: 'kaiming_normal' });
  });
});
