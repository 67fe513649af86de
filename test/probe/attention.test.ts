/**
 * Attention and positional tables in the probe: each framework's default draws (checked against
 * PyTorch 1.13: MultiheadAttention(64, 4) has in_proj max |w| 0.1531 = sqrt(6 / (64 + 192)), zero
 * in_proj_bias and out_proj.bias, out_proj max |w| 0.125 = 1 / sqrt(64)), Keras' EinsumDense fans,
 * the parameter counts, and clear refusals for inputs attention cannot read.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { buildNodes } from '../../src/probe/layers';
import { planModel } from '../../src/probe/plan';
import { Rng } from '../../src/probe/rng';
import { probeOptions } from '../../src/shared/probe';
import { keras, torch } from './ir-builder';
import { defined } from '../defined';
import { join } from 'node:path';
import { analyzeFixture } from '../unit/project-helper';

beforeAll(async () => {
  await selectBackend('cpu', null);
});

function attentionVars(model: ReturnType<ReturnType<typeof torch>['build']>) {
  const plan = planModel(model, probeOptions({ backend: 'cpu' }));
  const nodes = buildNodes(plan.layers, model.framework, new Rng(5), []);
  const node = defined(nodes.find((n) => n.planned.ir.kind === 'attention'));
  const stats = node.vars.map((v) => ({ name: v.name.split('/')[2], shape: v.shape, maxAbs: tf.max(tf.abs(v)).dataSync()[0]! }));
  return { plan, stats };
}

describe('attention in the probe', () => {
  it('torch nn.MultiheadAttention(64, 4): xavier_uniform in-projection, zero biases, nn.Linear out_proj; PyTorch parameter count', () => {
    const model = torch().asGraph().input([10, 64]).layer({ kind: 'input', name: 'x' }).layer({ kind: 'attention', name: 'attn', units: 64, inFeatures: 64, detail: { attention: { heads: 4, keyDim: 16, valueDim: 16 } }, inputs: ['x'] }).build();
    const { plan, stats } = attentionVars(model);
    expect(defined(plan.layers.find((l) => l.ir.kind === 'attention')).params).toBe(16_640); // sum(p.numel() for p in MultiheadAttention(64, 4).parameters())
    const xavier = Math.sqrt(6 / (64 + 3 * 64));
    for (const s of stats.filter((s) => ['query', 'key', 'value'].includes(defined(s.name)))) {
      expect(s.maxAbs).toBeLessThanOrEqual(xavier);
      expect(s.maxAbs).toBeGreaterThan(0.97 * xavier);
    }
    const out = defined(stats.find((s) => s.name === 'output'));
    expect(out.maxAbs).toBeLessThanOrEqual(1 / 8);
    expect(out.maxAbs).toBeGreaterThan(0.97 / 8);
    expect(stats.filter((s) => defined(s.name).endsWith('bias')).every((s) => s.maxAbs === 0)).toBe(true);
  });

  it('Keras MultiHeadAttention(num_heads=2, key_dim=8) on 32 features: glorot over the (32, 2, 8) and (2, 8, 32) kernels fans', () => {
    const model = keras().asGraph().input([6, 32]).layer({ kind: 'input', name: 'x' }).layer({ kind: 'attention', name: 'mha', detail: { attention: { heads: 2, keyDim: 8, valueDim: 8 } }, inputs: ['x', 'x'] }).build();
    const { plan, stats } = attentionVars(model);
    // Keras counts 3 x (32 x 2 x 8 + 2 x 8) + (2 x 8 x 32 + 32) = 2128 for this layer.
    expect(defined(plan.layers.find((l) => l.ir.kind === 'attention')).params).toBe(2128);
    expect(defined(plan.layers.at(-1)).outShape).toEqual([6, 32]);
    const inLimit = Math.sqrt(6 / (32 * 2 + 32 * 8));
    const query = defined(stats.find((s) => s.name === 'query'));
    expect(query.maxAbs).toBeLessThanOrEqual(inLimit);
    expect(query.maxAbs).toBeGreaterThan(0.95 * inLimit);
    const outLimit = Math.sqrt(6 / (8 * 2 + 32 * 2));
    const out = defined(stats.find((s) => s.name === 'output'));
    expect(out.maxAbs).toBeLessThanOrEqual(outLimit);
    expect(out.maxAbs).toBeGreaterThan(0.95 * outLimit);
  });

  it('refuses what it cannot read, naming the layer: a flat input, heads that do not divide the features, a table shorter than the sequence', () => {
    const flat = torch().asGraph().input([64]).layer({ kind: 'input', name: 'x' }).layer({ kind: 'attention', name: 'attn', units: 64, inFeatures: 64, detail: { attention: { heads: 4 } }, inputs: ['x'] }).build();
    expect(() => planModel(flat, probeOptions({}))).toThrow(/attn.*needs a \(time, features\) input per example but receives 64/);
    const uneven = keras().asGraph().input([5, 10]).layer({ kind: 'input', name: 'x' }).layer({ kind: 'attention', name: 'mha', detail: { attention: { heads: 3 } }, inputs: ['x'] }).build();
    expect(() => planModel(uneven, probeOptions({}))).toThrow(/10 features do not split into 3 heads/);
    const short = torch().input([30, 8]).layer({ kind: 'position-embedding', name: 'pos', units: 8, detail: { positions: 16 } }).build();
    expect(() => planModel(short, probeOptions({}))).toThrow(/pos.*has 16 positions but the sequence has 30/);
    const fits = torch().input([16, 8]).layer({ kind: 'position-embedding', name: 'pos', units: 8, detail: { positions: 16 } }).build();
    expect(planModel(fits, probeOptions({})).layers[0]!.params).toBe(128);
  });
});

describe('Keras MultiHeadAttention and a table of positions from source', () => {
  const fixture = join(__dirname, '../fixtures/probe/keras_transformer_block.py');

  it("reads mha(query, value) as an attention layer over its distinct inputs, with Keras' sizes and flags", async () => {
    const result = await analyzeFixture(fixture);
    const classifier = defined(result.models.find((m) => m.name === 'classifier'));
    const att = defined(classifier.layers.find((l) => l.kind === 'attention'));
    expect(att).toMatchObject({ name: 'att', units: 32, attention: { heads: 2, keyDim: 32, valueDim: null, causal: false } });
    expect(att.kernelInit).toMatchObject({ name: 'glorot_uniform', explicit: false });
    // Self-attention: one input, the embedded tokens plus their positions' learned table (tf.range rows of pos_emb).
    const [embedded] = att.inputs.map((id) => defined(classifier.layers.find((l) => l.id === id)));
    expect(embedded).toMatchObject({ kind: 'position-embedding', name: 'pos_emb', positions: 50, units: 32 });
    expect(embedded?.inputs.map((id) => classifier.layers.find((l) => l.id === id)?.name)).toEqual(['token_emb']);
    const decoder = defined(result.models.find((m) => m.name === 'decoder'));
    const [masked, cross] = decoder.layers.filter((l) => l.kind === 'attention');
    expect(masked?.kind === 'attention' && masked.attention.causal).toBe(true);
    expect(cross).toMatchObject({ units: 64, attention: { heads: 4, keyDim: 16, valueDim: 8 } });
    expect(cross?.inputs).toHaveLength(2);
    expect(result.findings).toEqual([]);
  });

  it("builds them with Keras' parameter counts (EinsumDense projections)", async () => {
    const result = await analyzeFixture(fixture);
    const classifier = planModel(defined(result.models.find((m) => m.name === 'classifier')), probeOptions({ backend: 'cpu' }));
    expect(classifier.layers.filter((l) => l.ir.kind === 'embedding' || l.ir.kind === 'position-embedding').map((l) => l.params)).toEqual([2000 * 32, 50 * 32]);
    const plan = planModel(defined(result.models.find((m) => m.name === 'decoder')), probeOptions({ backend: 'cpu' }));
    // (64*64+64)*3 + (4*16*64+64); query and key (64*64+64) each, value 64*4*8+32, output 4*8*64+64 (output_shape=64).
    expect(plan.layers.filter((l) => l.ir.kind === 'attention').map((l) => l.params)).toEqual([16_640, 4160 + 4160 + 2080 + 2112]);
  });
});
