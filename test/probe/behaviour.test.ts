/**
 * Known training behaviour reproduced by the probe (real tfjs, wasm backend): each problem model has a
 * clean twin that must stay silent.
 */
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeOutcome, type ProbeResult, type VerdictKind } from '../../src/shared/probe';
import type { ModelIR } from '../../src/shared/ir';
import type { WhatIf } from '../../src/shared/findings';
import { initializer, keras, torch } from './ir-builder';
import { defined } from '../defined';

const options = (extra: Parameters<typeof probeOptions>[0] = {}) => probeOptions({ backend: 'wasm', steps: 12, batchSize: 32, seed: 7, ...extra });

function ok(outcome: ProbeOutcome): ProbeResult {
  if (!outcome.ok) throw new Error(`probe failed: ${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.result;
}

async function probe(model: ModelIR, extra: Parameters<typeof probeOptions>[0] = {}, whatIf: WhatIf | null = null): Promise<ProbeResult> {
  return ok(await runProbe(model, options(extra), { whatIf }));
}

const kinds = (r: ProbeResult): VerdictKind[] => r.verdicts.map((v) => v.kind);

/** The MLP of GL101: 10 sigmoid Dense(64) layers with Keras' default glorot_uniform. */
const deepSigmoid = () => keras('deep_sigmoid').input([32]).denseStack(10, 64, 'sigmoid').dense(10, 'softmax').withLoss('categorical_crossentropy').build();

describe('vanishing gradients', () => {
  it('a deep sigmoid MLP with default init vanishes: first/last ratio orders of magnitude below 1e-3', async () => {
    const result = await probe(deepSigmoid());
    const verdict = result.verdicts.find((v) => v.kind === 'vanishing');
    expect(verdict).toBeDefined();
    expect(defined(verdict).evidence.firstLastRatio as number).toBeLessThan(1e-5);
    expect(defined(verdict).layers[0]).toBe(result.layers[0]!.name);
    expect(defined(verdict).message).toContain(`line ${result.layers[0]!.line}`);
  });

  it('streams a provisional vanishing verdict after the first step', async () => {
    const early: { step: number; kinds: VerdictKind[] }[] = [];
    await runProbe(deepSigmoid(), options(), {
      onProgress: (e) => {
        if (e.verdicts) early.push({ step: e.step, kinds: e.verdicts.map((v) => v.kind) });
      },
    });
    expect(early[0]).toEqual({ step: 1, kinds: ['vanishing'] });
    // Every PROVISIONAL_VERDICT_EVERY steps and the last one; a slow machine adds time-based ones.
    expect(early.map((e) => e.step)).toEqual(expect.arrayContaining([1, 5, 10]));
  });

  it('the same MLP with relu + he_normal does not', async () => {
    const model = keras('deep_relu').input([32]).denseStack(10, 64, 'relu', { kernelInit: initializer('he_normal') }).dense(10, 'softmax').build();
    const result = await probe(model);
    expect(kinds(result)).toEqual([]);
    const first = result.layers[0]!.gradNorm[0]!;
    const last = result.layers[result.layers.length - 1]!.gradNorm[0]!;
    expect(first / last).toBeGreaterThan(1e-2);
  });

  it('the what-if of a GL101 finding (relu + he_normal) removes the vanishing verdict, same seed and data', async () => {
    const model = deepSigmoid();
    const hidden = model.layers.slice(0, 10);
    const whatIf: WhatIf = {
      title: 'relu + he_normal instead of sigmoid',
      ops: hidden.flatMap((l) => [
        { op: 'set-activation' as const, layerId: l.id, activation: 'relu' as const },
        { op: 'set-kernel-init' as const, layerId: l.id, init: { name: 'he_normal' as const, params: {}, options: {} } },
      ]),
    };
    const result = await probe(model, {}, whatIf);
    expect(kinds(result)).toContain('vanishing');
    expect(result.whatIf).not.toBeNull();
    expect(kinds(defined(result.whatIf))).not.toContain('vanishing');
    expect(result.whatIfTitle).toBe(whatIf.title);
    expect(defined(result.whatIf).seed).toBe(result.seed);
  });
});

describe('symmetry', () => {
  it('zero-initialized hidden layers keep identical units', async () => {
    // The last zero layer is fed distinct gradients by the randomly initialized output layer, so the
    // copies that never separate are the ones before it.
    const model = keras('zeros').input([16]).denseStack(3, 32, 'tanh', { kernelInit: initializer('zeros') }).dense(4, 'softmax').build();
    const result = await probe(model);
    const verdict = result.verdicts.find((v) => v.kind === 'symmetry');
    expect(verdict?.layers).toEqual(result.layers.slice(0, 2).map((l) => l.name));
    expect(defined(verdict).evidence.duplicateFractions).toEqual([1, 1]);
  });

  it('the default-initialized twin has no symmetric layer', async () => {
    const result = await probe(keras('twin').input([16]).denseStack(3, 32, 'tanh').dense(4, 'softmax').build());
    expect(kinds(result)).not.toContain('symmetry');
  });
});

describe('saturation', () => {
  it('stddev=1.0 init on a deep tanh stack saturates', async () => {
    const model = keras('tanh_big').input([64]).denseStack(6, 128, 'tanh', { kernelInit: initializer('random_normal', { mean: 0, stddev: 1.0 }) }).dense(1).build();
    const result = await probe(model);
    const verdict = result.verdicts.find((v) => v.kind === 'saturation');
    expect(verdict).toBeDefined();
    expect(defined(verdict).layers.length).toBeGreaterThanOrEqual(5);
    expect(Math.min(...(defined(verdict).evidence.fractions as number[]))).toBeGreaterThan(0.5);
  });

  it('glorot init on the same stack does not', async () => {
    const result = await probe(keras('tanh_glorot').input([64]).denseStack(6, 128, 'tanh').dense(1).build());
    expect(kinds(result)).not.toContain('saturation');
  });

  it('raw 0..255 inputs saturate a sigmoid first layer that standardized inputs do not', async () => {
    const model = keras('pixels').input([784]).dense(64, 'sigmoid').dense(10, 'softmax').build();
    const raw = await probe(model, { rawInputMax: 255 });
    const standardized = await probe(model);
    expect(defined(raw.layers[0]!.saturated)[0]).toBeGreaterThan(0.5);
    expect(defined(standardized.layers[0]!.saturated)[0]).toBeLessThan(0.2);
  });
});

describe('dead units', () => {
  it('a strongly negative bias kills ReLU units', async () => {
    const model = keras('dead').input([16]).dense(32, 'relu', { biasInit: initializer('constant', { value: -10 }) }).dense(2).build();
    const result = await probe(model);
    const verdict = result.verdicts.find((v) => v.kind === 'dead-units');
    expect(verdict?.layers).toEqual([result.layers[0]!.name]);
  });

  it('default bias keeps them alive', async () => {
    const result = await probe(keras('alive').input([16]).dense(32, 'relu').dense(2).build());
    expect(kinds(result)).not.toContain('dead-units');
  });
});

describe('exploding and non-finite', () => {
  const lstm = (clipnorm: number | null) =>
    torch('lstm')
      .input([20, 8])
      .layer({ kind: 'lstm', units: 32, inFeatures: 8 })
      .layer({ kind: 'dense', units: 1, inFeatures: 32 })
      .withLoss('mse')
      .withOptimizer('sgd', { learningRate: 50, clipnorm })
      .build();

  it('an LSTM with a huge learning rate and no clipping goes non-finite or explodes', async () => {
    const result = await probe(lstm(null), { steps: 20 });
    expect(kinds(result).some((k) => k === 'non-finite' || k === 'exploding')).toBe(true);
  });

  it('stays finite with clipnorm', async () => {
    const result = await probe(lstm(1), { steps: 20 });
    expect(kinds(result)).not.toContain('non-finite');
    expect(result.loss.every(Number.isFinite)).toBe(true);
    expect(result.steps).toBe(20);
  });
});

describe('determinism', () => {
  it('the same seed gives the same numbers; another seed other numbers', async () => {
    const model = keras('det').input([8]).dense(16, 'relu').layer({ kind: 'dropout', detail: { rate: 0.5 } }).dense(3, 'softmax').build();
    const a = await probe(model);
    const b = await probe(model);
    const c = await probe(model, { seed: 8 });
    expect(b.loss).toEqual(a.loss);
    expect(b.layers.map((l) => l.gradNorm)).toEqual(a.layers.map((l) => l.gradNorm));
    expect(c.loss).not.toEqual(a.loss);
  });
});
