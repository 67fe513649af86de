/**
 * Frozen layers (LayerIR.frozen: requires_grad = False, nn.Embedding.from_pretrained): the signal passes
 * through them, but the probe neither measures a gradient for their weights nor changes them; the layers
 * around them train as before. The twin is the same model with nothing frozen.
 */
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { probeOptions } from '../../src/shared/probe';
import type { ProbeResult } from '../../src/shared/probe';
import { torch } from './ir-builder';

const model = (frozen: boolean) =>
  torch('trunk')
    .input([16])
    .layer({ kind: 'dense', name: 'trunk', units: 32, inFeatures: 16, activation: 'tanh', frozen })
    .layer({ kind: 'dense', name: 'head', units: 4, inFeatures: 32 })
    .withLoss('mse')
    .withOptimizer('sgd', { learningRate: 0.1 })
    .build();

async function probe(frozen: boolean): Promise<ProbeResult> {
  const outcome = await runProbe(model(frozen), probeOptions({ backend: 'cpu', steps: 3, seed: 1 }));
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.result;
}

const layer = (r: ProbeResult, name: string) => r.layers.find((l) => l.name === name);

describe('frozen layers', () => {
  it('measure no gradient or update for a frozen layer, say so, and train the rest', async () => {
    const result = await probe(true);
    const trunk = layer(result, 'trunk');
    expect(trunk?.gradNorm ?? []).toEqual([]);
    expect(trunk?.updateRatio ?? []).toEqual([]);
    expect(layer(result, 'head')?.gradNorm).toHaveLength(3);
    expect(result.notices.some((n) => /frozen/.test(n.message) && /trunk/.test(n.message))).toBe(true);
  });

  it('the twin with nothing frozen measures both, with the same gradient for the head at step 1', async () => {
    const [free, frozen] = [await probe(false), await probe(true)];
    expect(layer(free, 'trunk')?.gradNorm).toHaveLength(3);
    expect(free.notices.some((n) => /frozen/.test(n.message))).toBe(false);
    expect(layer(frozen, 'head')?.gradNorm[0]).toBeCloseTo(layer(free, 'head')?.gradNorm[0] ?? NaN, 5);
  });
});
