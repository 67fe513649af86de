/**
 * A GPT as nanoGPT writes one (test/fixtures/probe-tensor-ops/torch_gpt_config.py): F.scaled_dot_product_attention
 * (torch >= 2.0) and its hand-written twin with the scores scaled by 1 / sqrt(k.size(-1)) are read as
 * tensor operations the prediction and the probe compute; the loss forward computes when given targets
 * is the loss, and what only it reads is no output. The PyTorch numbers are in
 * test/fixtures/probe/reference/gpt_config.json (reference-profiles.test).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import { planModel, type PlannedLayer } from '../../src/probe/plan';
import { runProbe } from '../../src/probe/run';
import { tensorOpApply } from '../../src/probe/tensor-ops';
import type { ModelIR, TensorOpConfig } from '../../src/shared/ir';
import { makeLayer, modelOutputs } from '../../src/shared/layers';
import { predictPropagation } from '../../src/shared/knowledge/propagation';
import { probeOptions } from '../../src/shared/probe';
import { tensorOpOutput } from '../../src/shared/shapes';
import { defined } from '../defined';

const fixture = join(__dirname, '../fixtures/probe-tensor-ops/torch_gpt_config.py');
const source = readFileSync(fixture, 'utf8');
/** The same model where torch has no fused attention: the hand-written branch. */
const byHand = source.replace('hasattr(F, "scaled_dot_product_attention")', 'False');
let project: Project;

beforeAll(async () => {
  project = await Project.create();
  await tf.setBackend('cpu');
});
afterAll(() => { project.dispose(); });

function modelOf(text: string, name: string, path = fixture): ModelIR {
  project.setFile(path, text);
  return defined(project.analyzeFile(path).models.find((m) => m.name === name));
}

const opsOf = (model: ModelIR) => model.layers.flatMap((l) => (l.kind === 'tensor-op' && l.op ? [l.op] : []));
const options = (extra: Parameters<typeof probeOptions>[0] = {}) => probeOptions({ backend: 'cpu', steps: 1, seed: 5, batchSize: 4, ...extra });

function planned(op: TensorOpConfig, inShapes: number[][]): PlannedLayer {
  const ir = makeLayer({ kind: 'tensor-op', op, className: 'op', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } });
  return { ir, inputs: [], inShapes, outShape: [], params: 0, lastStepOnly: false, axis: null, channelsLast: { inputs: inShapes.map(() => false), output: false } };
}

describe('F.scaled_dot_product_attention and a scale by a size, as tensor operations', () => {
  const attention: TensorOpConfig = { op: 'dot-product-attention', causal: true, scale: null, dropout: 0 };

  it('gives the query positions with the values\' size, and refuses shapes that do not fit', () => {
    expect(tensorOpOutput(attention, [[4, 10, 8], [4, 12, 8], [4, 12, 6]])).toEqual([4, 10, 6]);
    expect(tensorOpOutput(attention, [[4, 10, 8], [4, 12, 7], [4, 12, 6]])).toBeNull();
    expect(tensorOpOutput(attention, [[4, 10, 8], [4, 12, 8], [4, 11, 6]])).toBeNull();
    expect(tensorOpOutput({ op: 'size-scale', axis: -1, power: -0.5, factor: 1 }, [[4, 10, 10], [4, 10, 8]])).toEqual([4, 10, 10]);
  });

  it('computes softmax(q k^T / sqrt(E) + causal mask) v, as torch does', () => {
    const [q, k, v] = [1, 2, 3].map((seed) => tf.randomNormal([2, 3, 5, 8], 0, 1, 'float32', seed)) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const out = tensorOpApply(planned(attention, [[3, 5, 8], [3, 5, 8], [3, 5, 8]]))([q, k, v]);
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(8));
    const above = tf.greater(tf.reshape(tf.range(0, 5), [1, 5]), tf.reshape(tf.range(0, 5), [5, 1]));
    const expected = tf.matMul(tf.softmax(tf.where(tf.broadcastTo(above, scores.shape), tf.fill(scores.shape, -Infinity), scores)), v);
    expect(tf.max(tf.abs(tf.sub(out, expected))).dataSync()[0]).toBeLessThan(1e-5);
    // The first query sees only the first value.
    expect(tf.max(tf.abs(tf.sub(tf.slice(out, [0, 0, 0, 0], [2, 3, 1, 8]), tf.slice(v, [0, 0, 0, 0], [2, 3, 1, 8])))).dataSync()[0]).toBeLessThan(1e-5);
    const scaled = tensorOpApply(planned({ op: 'size-scale', axis: -1, power: -0.5, factor: 1 }, [[3, 5, 5], [3, 5, 8]]))([scores, k]);
    expect(tf.max(tf.abs(tf.sub(scaled, tf.mul(scores, 1 / Math.sqrt(8))))).dataSync()[0]).toBeLessThan(1e-6);
  });
});

describe('a GPT written as nanoGPT writes it', () => {
  it('reads the fused attention with its causal flag, the loss forward computes, and one output', () => {
    const model = modelOf(source, 'TinyGPT');
    const attention = opsOf(model).filter((op) => op.op === 'dot-product-attention');
    expect(attention).toEqual([
      { op: 'dot-product-attention', causal: true, scale: null, dropout: 0 },
      { op: 'dot-product-attention', causal: true, scale: null, dropout: 0 },
    ]);
    expect(model.unsupported).toEqual([]);
    // F.cross_entropy(logits.view(-1, V), targets.view(-1)): the loss, and its views are no outputs.
    expect(model.training.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy']);
    expect(modelOutputs(model).map((i) => model.layers[i]!.name)).toEqual(['head']);
    expect(model.layers.filter((l) => l.name === 'head')).toHaveLength(1);
    const prediction = predictPropagation(model);
    expect(prediction.ok).toBe(true);
  });

  it('reads the hand-written scores scaled by 1 / sqrt(k.size(-1)) as a scale by the key size', () => {
    const model = modelOf(byHand, 'TinyGPT', fixture.replace('.py', '_by_hand.py'));
    const ops = opsOf(model);
    expect(ops.filter((op) => op.op === 'size-scale')).toEqual([
      { op: 'size-scale', axis: -1, power: -0.5, factor: 1 },
      { op: 'size-scale', axis: -1, power: -0.5, factor: 1 },
    ]);
    expect(ops.filter((op) => op.op === 'causal-mask')).toHaveLength(2);
    const plan = planModel(model, options({ inputShape: [12] }));
    const scale = defined(plan.layers.find((l) => l.ir.kind === 'tensor-op' && l.ir.op?.op === 'size-scale'));
    // The scores (heads, T, T) and the keys (heads, T, head size) they are scaled by.
    expect(scale.inShapes).toEqual([[4, 12, 12], [4, 12, 16]]);
  });

  it('the probe trains both to the same gradients at the same seed', async () => {
    const fused = await runProbe(modelOf(source, 'TinyGPT'), options({ inputShape: [16] }));
    const manual = await runProbe(modelOf(byHand, 'TinyGPT', fixture.replace('.py', '_by_hand.py')), options({ inputShape: [16] }));
    if (!fused.ok || !manual.ok) throw new Error('not probed');
    expect(fused.result.lossName).toBe('categorical-crossentropy-logits');
    const norms = (layers: typeof fused.result.layers) => layers.filter((l) => l.gradNorm.length > 0).map((l) => [l.name, l.gradNorm[0]]);
    const a = norms(fused.result.layers);
    const b = norms(manual.result.layers);
    expect(a.map(([name]) => name)).toEqual(b.map(([name]) => name));
    a.forEach(([, g], i) => {
      expect(g as number).toBeCloseTo(defined(b[i])[1] as number, 5);
    });
  });

  it('an attn_mask it does not read stops the flow with a note naming the call', () => {
    const text = source.replace('F.scaled_dot_product_attention(q, k, v, is_causal=True)', 'F.scaled_dot_product_attention(q, k, v, attn_mask=self.extra)');
    const model = modelOf(text, 'SelfAttention', fixture.replace('.py', '_mask.py'));
    expect(model.unsupported.map((u) => u.what)).toEqual(['F.scaled_dot_product_attention(...) with an attn_mask or an argument that is not a constant']);
  });

  it('says that tied weights are not read', () => {
    const text = source.replace('        self.apply(self._init)\n', '        self.body.tokens.weight = self.head.weight\n        self.apply(self._init)\n');
    const path = fixture.replace('.py', '_tied.py');
    project.setFile(path, text);
    const notes = project.analyzeFile(path).notices.map((n) => n.message);
    expect(notes.some((m) => m.includes('self.body.tokens.weight = self.head.weight') && m.includes('weight tying is not read'))).toBe(true);
  });
});
