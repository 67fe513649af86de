/**
 * Frozen layers (LayerIR.frozen: requires_grad = False, nn.Embedding.from_pretrained): the signal passes
 * through them, but the probe neither measures a gradient for their weights nor changes them; the layers
 * around them train as before. The twin is the same model with nothing frozen.
 */
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { probeOptions } from '../../src/shared/probe';
import type { ProbeResult } from '../../src/shared/probe';
import { keras, torch } from './ir-builder';
import type { ModelIR } from '../../src/shared/ir';
import { modelPrediction } from '../../src/shared/knowledge/propagation';
import { extractTorchFrom } from '../unit/extract/torch-fixture';
import { defined } from '../defined';

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

describe("a Keras model built from a model frozen with trainable = False (a GAN's combined model)", () => {
  it('trains the generator only, and the note says why in Keras terms', async () => {
    const gan = keras('gan')
      .input([8])
      .layer({ kind: 'dense', name: 'g', units: 16, inFeatures: 8, activation: 'tanh' })
      .layer({ kind: 'dense', name: 'd', units: 1, inFeatures: 16, activation: 'sigmoid', frozen: true })
      .withLoss('binary_crossentropy')
      .build();
    const outcome = await runProbe(gan, probeOptions({ backend: 'cpu', steps: 2, seed: 1 }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect(layer(outcome.result, 'd')?.gradNorm ?? []).toEqual([]);
    expect(layer(outcome.result, 'g')?.gradNorm).toHaveLength(2);
    const note = defined(outcome.result.notices.find((n) => /frozen/.test(n.message))).message;
    expect(note).toMatch(/sets trainable = False on them before this model is built/);
    expect(note).not.toMatch(/torch/);
  });
});

const MIXED = `import torch
from torch import nn

class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 32)
        self.block = nn.Sequential(nn.Linear(32, 64), nn.Tanh())
        self.side = nn.Linear(32, 4)
        self.head = nn.Linear(68, 4)

    def forward(self, x):
        h = torch.tanh(self.embed(x))
        with torch.no_grad():
            z = self.block(h)
        s = torch.tanh(self.side(h))
        return self.head(torch.cat([z, s], dim=1))
`;

describe('a layer feeding a torch.no_grad() block and a trained branch', () => {
  /** log10 of embed's gradient over head's: measured at step 1 and predicted. */
  async function embedRatios(stop: boolean): Promise<{ measured: number; predicted: number }> {
    const extracted = defined((await extractTorchFrom(MIXED)).find((m) => m.name === 'Mixed'));
    // The twin lets the gradient through the block (as if it were not under no_grad), still not training it.
    const model: ModelIR = stop ? extracted : { ...extracted, layers: extracted.layers.map((l) => ({ ...l, noGrad: false })) };
    const outcome = await runProbe(model, probeOptions({ backend: 'cpu', steps: 1, seed: 2 }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    const norm = (name: string) => defined(layer(outcome.result, name)?.gradNorm[0]);
    const prediction = modelPrediction(model);
    if (!prediction.ok) throw new Error(prediction.reason);
    const predicted = (name: string) => defined(prediction.layers.find((p) => p.name === name)?.log10GradRatio);
    return { measured: Math.log10(norm('embed') / norm('head')), predicted: predicted('embed') - predicted('head') };
  }

  it('gets its gradient through the trained branch only, measured and predicted (PyTorch: reference no_grad.json)', async () => {
    const [stopped, through] = [await embedRatios(true), await embedRatios(false)];
    // The wide block carries most of embed's gradient when it lets it through (PyTorch: ~0.6 decades).
    expect(through.measured - stopped.measured).toBeGreaterThan(0.3);
    expect(through.predicted - stopped.predicted).toBeGreaterThan(0.3);
  });
});
