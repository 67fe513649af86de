/**
 * Shared weights (LayerIR.sharesWeightsWith): a layer object applied twice holds one set of variables
 * in the probe, so its gradient is tfjs's gradient of the whole graph (the sum over applications, as
 * autograd gives it), its parameters count once, and the report shows one row for it. The twins are
 * the same models with two layers constructed (two sets of weights, two rows). The gradient values are
 * checked against PyTorch in reference-profiles.test.ts (shared.json).
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../src/shared/ir';
import { runProbe } from '../../src/probe/run';
import { formatProbeText } from '../../src/probe/report-text';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { modelPrediction } from '../../src/shared/knowledge/propagation';
import { extractFrom, kerasFixture, modelNamed } from '../unit/extract/extract-helper';
import { extractFixture } from '../unit/extract/torch-fixture';
import { defined } from '../defined';

const keras = async (name: string): Promise<ModelIR> => modelNamed(await extractFrom(kerasFixture('shared_layers.py'), 'shared_layers.py'), name);
const torch = async (name: string): Promise<ModelIR> => modelNamed(await extractFixture('shared_weights.py'), name);

async function probe(model: ModelIR, extra: Parameters<typeof probeOptions>[0] = {}): Promise<ProbeResult> {
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 2, seed: 1, ...extra }));
  if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.result;
}

/** "name params xN" per row with weights. */
const rows = (r: ProbeResult) => r.layers.filter((l) => l.params > 0).map((l) => `${l.name} ${l.params}${l.applications ? ` x${l.applications}` : ''}`);

describe('probe of shared weights', () => {
  it('shows one row per set of weights, applied twice, with a gradient every step (keras siamese)', async () => {
    const result = await probe(await keras('siamese'));
    expect(rows(result)).toEqual(['shared 2112 x2', 'dense 129']);
    expect(defined(result.layers.find((l) => l.name === 'shared')).gradNorm).toHaveLength(2);
    expect(formatProbeText(result)).toMatch(/ shared ×2 /);
  });

  it('shows two rows for two Dense layers constructed (the twin)', async () => {
    expect(rows(await probe(await keras('towers')))).toEqual(['dense 2112', 'dense_1 2112', 'dense_2 129']);
  });

  it('one row per Linear of a torch trunk called on two inputs', async () => {
    expect(rows(await probe(await torch('SiameseNet')))).toEqual(['trunk.0 2112 x2', 'trunk.2 1040 x2', 'head 17']);
    expect(rows(await probe(await torch('TwinTowers')))).toEqual(['left.0 2112', 'left.2 1040', 'right.0 2112', 'right.2 1040', 'head 17']);
  });

  it('probes an RNN cell stepped through time as its recurrent layer: one row, its gradient reaching it, no vanishing verdict', async () => {
    const result = await probe(await torch('UnrolledCell'));
    expect(rows(result)).toEqual(['cell 416', 'out 34']);
    expect(defined(result.layers.find((l) => l.name === 'cell')).gradNorm.every((g) => g > 0)).toBe(true);
    expect(result.verdicts.map((v) => v.kind)).not.toContain('vanishing');
  });

  it('counts shared parameters once against the budget', async () => {
    // Once: 2112 + 1040 + 17 = 3169; twice: 6321. The twin has 6321 of its own.
    const budget = { maxParams: 4000 };
    expect(rows(await probe(await torch('SiameseNet'), { budget }))).toHaveLength(3);
    const refused = await runProbe(await torch('TwinTowers'), probeOptions({ backend: 'wasm', steps: 1, budget }));
    expect(refused.ok ? null : refused.error.kind).toBe('budget');
  });
});

describe('prediction of shared weights', () => {
  it('predicts the sum of the applications\' squared gradients on the first application, none on the later ones', async () => {
    const shared = await torch('SiameseNet');
    const unshared: ModelIR = { ...shared, layers: shared.layers.map((l) => ({ ...l, sharesWeightsWith: null })) };
    const [p, q] = [modelPrediction(shared), modelPrediction(unshared)];
    if (!p.ok || !q.ok) throw new Error('no prediction');
    const ratio = (pred: typeof p, id: string) => defined(pred.layers.find((l) => l.layerId === id)?.log10GradRatio);
    for (const later of shared.layers.filter((l) => l.sharesWeightsWith !== null)) {
      const first = defined(later.sharesWeightsWith);
      expect(p.layers.find((l) => l.layerId === later.id)?.log10GradRatio).toBeNull();
      const sum = 10 ** (2 * ratio(q, first)) + 10 ** (2 * ratio(q, later.id));
      expect(ratio(p, first)).toBeCloseTo(0.5 * Math.log10(sum), 6);
    }
  });
});
