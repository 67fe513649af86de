/**
 * Multi-head attention written by hand (the tutorials' split_heads / combine_heads, and a view(B, -1,
 * heads, d_k) of a fused q/k/v projection): the view that splits the features into heads keeps a
 * sequence axis, so the model reads (time, features). Read on one position, the residual around the
 * attention did not fit (64 vs 1x64), and a softmax over one key is constant: the query and key
 * projections got no gradient, and the probe reported them vanishing. A Linear viewed as an image's
 * channels (a generator) stays one vector.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import type { ModelIR } from '../../src/shared/ir';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { analyzeFixture } from '../unit/project-helper';
import { defined } from '../defined';

const fixture = join(__dirname, '../fixtures/probe/torch_handwritten_attention.py');

async function modelOf(name: string): Promise<ModelIR> {
  const result = await analyzeFixture(fixture);
  return defined(result.models.find((m) => m.name === name));
}

async function probe(model: ModelIR): Promise<ProbeResult> {
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 1, seed: 1, batchSize: 8 }));
  if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.result;
}

const gradient = (r: ProbeResult, name: string) => defined(defined(r.layers.find((l) => l.name === name)).gradNorm[0]);

describe('hand-written multi-head attention', () => {
  it('reads an encoder layer as (time, features) and trains its query and key projections', async () => {
    const model = await modelOf('EncoderLayer');
    expect(model.inputGuess).toMatchObject({ shape: [20, 64], source: 'default', evidence: expect.stringMatching(/features per step/) });
    const result = await probe(model);
    for (const name of ['self_attn.W_q', 'self_attn.W_k', 'self_attn.W_v', 'self_attn.W_o']) expect(gradient(result, name)).toBeGreaterThan(1e-6);
    expect(result.verdicts.map((v) => v.kind)).not.toContain('vanishing');
  });

  it('gives forward(Q, K, V) of the attention alone a sequence for each of its inputs, as long as the first', async () => {
    const model = await modelOf('MultiHeadAttention');
    expect(model.inputGuess?.shape).toEqual([20, 64]);
    const result = await probe(model);
    expect(result.notices.filter((n) => /Input [23] of 3 .*20x64 per example/.test(n.message))).toHaveLength(2);
    for (const name of ['W_q', 'W_k']) expect(gradient(result, name)).toBeGreaterThan(1e-6);
    expect(result.verdicts.map((v) => v.kind)).not.toContain('vanishing');
  });

  it('reads view(B, -1, heads, d_k) of a fused projection as heads over a sequence', async () => {
    const model = await modelOf('SelfAttention');
    expect(model.inputGuess?.shape).toEqual([20, 64]);
    const result = await probe(model);
    expect(gradient(result, 'qkv')).toBeGreaterThan(1e-6);
  });

  it('keeps a Linear viewed as the channels of an image one vector (clean twin)', async () => {
    const model = await modelOf('Generator');
    expect(model.inputGuess?.shape).toEqual([64]);
    await probe(model);
  });
});
