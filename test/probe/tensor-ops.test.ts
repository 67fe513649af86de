/**
 * torch tensor operations written in forward (LayerIR kind 'tensor-op'): the probe computes their
 * shapes and values in torch's axis order, whatever layout it keeps images in, and trains through them.
 * Values are checked against the same computation written with plain tfjs ops in torch's order; the
 * gradients of einsum (which tfjs-core 4.22 cannot differentiate) against a product tfjs can.
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
import { makeLayer } from '../../src/shared/layers';
import { probeOptions } from '../../src/shared/probe';
import { tensorOpOutput } from '../../src/shared/shapes';
import { defined } from '../defined';

const fixtures = join(__dirname, '../fixtures/probe-tensor-ops');
let project: Project;

beforeAll(async () => {
  project = await Project.create();
  await tf.setBackend('cpu');
});
afterAll(() => { project.dispose(); });

function modelOf(file: string, name: string, text?: string): ModelIR {
  const path = join(fixtures, file);
  project.setFile(path, text ?? readFileSync(path, 'utf8'));
  return defined(project.analyzeFile(path).models.find((m) => m.name === name));
}

const options = (extra: Parameters<typeof probeOptions>[0] = {}) => probeOptions({ backend: 'cpu', steps: 2, seed: 3, ...extra });

/** A planned tensor operation on given per-example shapes, in torch's order unless said otherwise. */
function planned(op: TensorOpConfig, inShapes: number[][], channelsLast = { inputs: inShapes.map(() => false), output: false }): PlannedLayer {
  const ir = makeLayer({ kind: 'tensor-op', op, className: 'op', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } });
  return { ir, inputs: [], inShapes, outShape: [], params: 0, lastStepOnly: false, axis: null, channelsLast };
}

const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const close = (a: tf.Tensor, b: tf.Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
};

describe('tensor operations: shapes as torch computes them', () => {
  it.each([
    [{ op: 'transpose', axes: [1, 2] }, [[5, 7]], [7, 5]],
    [{ op: 'transpose', axes: [-2, -1] }, [[4, 5, 7]], [4, 7, 5]],
    [{ op: 'permute', order: [0, 3, 1, 2] }, [[8, 8, 3]], [3, 8, 8]],
    [{ op: 'unsqueeze', axis: 1 }, [[256]], [1, 256]],
    [{ op: 'unsqueeze', axis: -1 }, [[5, 7]], [5, 7, 1]],
    [{ op: 'squeeze', axis: 1 }, [[1, 256]], [256]],
    [{ op: 'squeeze', axis: 1 }, [[3, 256]], [3, 256]],
    [{ op: 'squeeze', axis: null }, [[1, 6, 1]], [6]],
    [{ op: 'matmul', equation: null }, [[4, 5, 8], [4, 8, 5]], [4, 5, 5]],
    [{ op: 'matmul', equation: null }, [[4, 5, 8], [1, 8, 3]], [4, 5, 3]],
    [{ op: 'matmul', equation: 'bid,bjd->bij' }, [[10, 6], [3, 6]], [10, 3]],
    [{ op: 'matmul', equation: 'bij, bid -> bjd' }, [[10, 3], [10, 6]], [3, 6]],
    [{ op: 'matmul', equation: 'bnwh,bnd->bnwhd' }, [[2, 8, 8], [2, 14]], [2, 8, 8, 14]],
    [{ op: 'split', axis: 2, index: 2, by: { size: 64 } }, [[16, 192]], [16, 64]],
    [{ op: 'split', axis: -1, index: 1, by: { size: 5 } }, [[7]], [2]],
    [{ op: 'split', axis: 1, index: 1, by: { sizes: [3, 13] } }, [[16, 8]], [13, 8]],
    [{ op: 'split', axis: 1, index: 2, by: { chunks: 3 } }, [[10]], [2]],
    [{ op: 'causal-mask' }, [[4, 16, 16]], [4, 16, 16]],
    [{ op: 'flatten', start: 2, end: -1 }, [[48, 4, 4]], [48, 16]],
    [{ op: 'flatten', start: 1, end: 2 }, [[3, 4, 5]], [12, 5]],
    [{ op: 'flatten', start: -2, end: -1 }, [[3, 4, 5]], [3, 20]],
  ] as [TensorOpConfig, number[][], number[]][])('%j of %j gives %j', (op, shapes, out) => {
    expect(tensorOpOutput(op, shapes)).toEqual(out);
  });

  it.each([
    [{ op: 'transpose', axes: [0, 1] }, [[5, 7]]],
    [{ op: 'matmul', equation: null }, [[5, 8], [7, 5]]],
    [{ op: 'matmul', equation: null }, [[4, 5, 8], [8, 3]]],
    [{ op: 'matmul', equation: 'ibd,jbd->bij' }, [[10, 6], [3, 6]]],
    [{ op: 'permute', order: [0, 2] }, [[5, 7]]],
    [{ op: 'split', axis: 1, index: 3, by: { chunks: 4 } }, [[6]]],
    [{ op: 'split', axis: 1, index: 0, by: { sizes: [3, 4] } }, [[8]]],
    [{ op: 'flatten', start: 0, end: 1 }, [[5, 7]]],
    [{ op: 'flatten', start: 3, end: 2 }, [[3, 4, 5]]],
    [{ op: 'flatten', start: 2, end: -1 }, [[5]]],
  ] as [TensorOpConfig, number[][]][])('%j of %j is not computed (the batch would move, or the shapes do not fit)', (op, shapes) => {
    expect(tensorOpOutput(op, shapes)).toBeNull();
  });
});

describe('tensor operations: values and gradients', () => {
  it('transpose, permute, unsqueeze and squeeze move the values as torch does', () => {
    const x = random([2, 3, 4, 5], 1);
    close(tensorOpApply(planned({ op: 'transpose', axes: [1, -1] }, [[3, 4, 5]]))([x]), tf.transpose(x, [0, 3, 2, 1]));
    close(tensorOpApply(planned({ op: 'permute', order: [0, 2, 3, 1] }, [[3, 4, 5]]))([x]), tf.transpose(x, [0, 2, 3, 1]));
    close(tensorOpApply(planned({ op: 'unsqueeze', axis: 2 }, [[3, 4, 5]]))([x]), tf.reshape(x, [2, 3, 1, 4, 5]));
    const one = random([2, 1, 5], 2);
    close(tensorOpApply(planned({ op: 'squeeze', axis: null }, [[1, 5]]))([one]), tf.reshape(one, [2, 5]));
  });

  it('an image the probe holds channels-last is permuted as torch holds it, channels first', () => {
    // torch: x (N, C, H, W).permute(0, 2, 3, 1) is (N, H, W, C), the probe's own layout of x.
    const probeImage = random([2, 4, 6, 3], 3);
    const op = tensorOpApply(planned({ op: 'permute', order: [0, 2, 3, 1] }, [[4, 6, 3]], { inputs: [true], output: false }));
    close(op([probeImage]), probeImage);
    // And back for a reader that wants channels last: (N, H, W, C).permute(0, 3, 1, 2) is the probe's image again.
    const back = tensorOpApply(planned({ op: 'permute', order: [0, 3, 1, 2] }, [[4, 6, 3]], { inputs: [false], output: true }));
    close(back([probeImage]), probeImage);
  });

  it('flatten(2) of an image the probe holds channels-last joins its sides as torch does, per channel', () => {
    // torch: a (N, C, H, W) map's flatten(2) is (N, C, H*W), row by row; the probe holds the map as (N, H, W, C).
    const probeImage = random([2, 4, 6, 3], 13);
    const op = tensorOpApply(planned({ op: 'flatten', start: 2, end: -1 }, [[4, 6, 3]], { inputs: [true], output: false }));
    close(op([probeImage]), tf.reshape(tf.transpose(probeImage, [0, 3, 1, 2]), [2, 3, 24]));
  });

  it('batched products broadcast their leading axes; einsum is transposes and one product, with gradients', () => {
    const a = random([2, 4, 5, 8], 4);
    const b = random([2, 4, 8, 3], 5);
    close(tensorOpApply(planned({ op: 'matmul', equation: null }, [[4, 5, 8], [4, 8, 3]]))([a, b]), tf.reshape(tf.matMul(tf.reshape<tf.Rank.R3>(a, [8, 5, 8]), tf.reshape<tf.Rank.R3>(b, [8, 8, 3])), [2, 4, 5, 3]));
    // A side of 1 broadcasts: one (8, 3) matrix per example for all 4 of its (5, 8) ones.
    const w = random([2, 1, 8, 3], 6);
    const product = tensorOpApply(planned({ op: 'matmul', equation: null }, [[4, 5, 8], [1, 8, 3]]))([a, w]);
    close(product, tf.matMul(a, tf.broadcastTo(w, [2, 4, 8, 3])));
    // Slot attention's updates: einsum('bij,bid->bjd', attn, v) is attn^T v per example.
    const attn = random([2, 10, 3], 7);
    const v = random([2, 10, 6], 8);
    const einsum = tensorOpApply(planned({ op: 'matmul', equation: 'bij,bid->bjd' }, [[10, 3], [10, 6]]));
    close(einsum([attn, v]), tf.matMul(attn, v, true, false));
    const weights = random([2, 3, 6], 9);
    const [ga, gv] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(einsum([p, q]), weights)))([attn, v]);
    const [ra, rv] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, true, false), weights)))([attn, v]);
    close(defined(ga), defined(ra));
    close(defined(gv), defined(rv));
    // A letter only one operand has, dropped by the output, is summed first: 'bid,bjd->bi' sums j and d.
    const summed = tensorOpApply(planned({ op: 'matmul', equation: 'bid,bjd->bi' }, [[10, 6], [3, 6]]))([v, random([2, 3, 6], 10)]);
    expect(summed.shape).toEqual([2, 10]);
  });
});

describe('split and the causal mask', () => {
  it('a split takes its part of the axis; the causal mask hides what is above the diagonal', () => {
    const x = random([2, 4, 12], 11);
    close(tensorOpApply(planned({ op: 'split', axis: 2, index: 1, by: { size: 4 } }, [[4, 12]]))([x]), tf.slice(x, [0, 0, 4], [2, 4, 4]));
    const scores = random([2, 3, 5, 5], 12);
    const masked = tensorOpApply(planned({ op: 'causal-mask' }, [[3, 5, 5]]))([scores]);
    const values = masked.arraySync() as number[][][][];
    const original = scores.arraySync() as number[][][][];
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        const [got, was] = [values[1]![2]![i]![j]!, original[1]![2]![i]![j]!];
        if (j > i) expect(got).toBeLessThan(-1e8);
        else expect(got).toBe(was);
      }
    }
  });
});

describe('a GPT written by hand (minGPT / nanoGPT style)', () => {
  it('reads the split, the heads, the tril mask and the join back as torch computes them', () => {
    const model = modelOf('torch_causal_self_attention.py', 'CausalSelfAttention');
    const ops = model.layers.flatMap((l) => (l.kind === 'tensor-op' && l.op ? [l.op] : []));
    expect(ops.flatMap((op) => (op.op === 'split' ? [op.index] : []))).toEqual([0, 1, 2]);
    expect(ops.map((op) => op.op)).toEqual(['split', 'split', 'split', 'transpose', 'transpose', 'transpose', 'transpose', 'matmul', 'causal-mask', 'matmul', 'transpose']);
    const plan = planModel(model, options({ inputShape: [16, 64] }));
    const shape = (name: string) => defined(plan.layers.find((l) => l.ir.name === name)).outShape;
    const views = plan.layers.filter((l) => l.ir.kind === 'reshape').map((l) => l.outShape);
    // q.view(B, T, n_head, C // n_head) and y.view(B, T, C): B, T, C computed by the code, T kept from the input.
    expect(views).toEqual([[16, 4, 16], [16, 4, 16], [16, 4, 16], [16, 64]]);
    const parts = plan.layers.filter((l) => l.ir.kind === 'tensor-op');
    expect(parts.map((l) => l.outShape).slice(0, -1)).toEqual([[16, 64], [16, 64], [16, 64], [4, 16, 16], [4, 16, 16], [4, 16, 16], [4, 16, 16], [4, 16, 16], [4, 16, 16], [4, 16, 16]]);
    // Every head stays in torch's order; only the last transpose, which a view of 3 axes reads, leaves channels-last (as views read them).
    expect(parts.map((l) => l.channelsLast?.output)).toEqual([false, false, false, false, false, false, false, false, false, false, true]);
    expect(shape('c_proj')).toEqual([16, 64]);
  });

  it('with the head count unknown too, the split has no one answer: refused, not read as (T, C, 1)', () => {
    const text = readFileSync(join(fixtures, 'torch_causal_self_attention.py'), 'utf8').replace('def __init__(self, n_embd=64, n_head=4, block_size=16):\n        super', 'def __init__(self, n_embd=64, n_head=settings.N_HEAD, block_size=16):\n        super').split('class Block')[0];
    const model = modelOf('unknown_heads.py', 'CausalSelfAttention', text);
    expect(() => planModel(model, options({ inputShape: [16, 64] }))).toThrow(/k\.view\(\?, \?, \?, \?\) on an input of 16x64 per example: 3 of its sizes are values the code computes/);
  });

  it('a block alone is fed a (time, features) sequence; the whole GPT as many tokens as its position table holds', () => {
    const block = modelOf('torch_causal_self_attention.py', 'Block');
    expect(block.inputGuess).toMatchObject({ shape: [20, 64], layout: 'channels_last' });
    const gpt = modelOf('torch_causal_self_attention.py', 'GPT');
    expect(gpt.inputGuess).toMatchObject({ shape: [16], tokens: true });
  });

  it('time-major attention (the batch at axis 1) is not computed: its transposes and products pass through as before', () => {
    const text = readFileSync(join(fixtures, 'torch_causal_self_attention.py'), 'utf8').replace('B, T, C = x.size()', 'x = x.transpose(0, 1)\n        B, T, C = x.size()');
    const model = modelOf('time_major.py', 'CausalSelfAttention', text);
    expect(model.layers.some((l) => l.kind === 'tensor-op')).toBe(false);
  });
});

describe('a token mixer written with tensor operations', () => {
  it('is traced into tensor operations, planned in torch order and trained through', async () => {
    const model = modelOf('torch_token_mixer.py', 'TokenMixer');
    const ops = model.layers.flatMap((l) => (l.kind === 'tensor-op' && l.op ? [l.op.op] : []));
    expect(ops).toEqual(['transpose', 'transpose', 'transpose', 'matmul', 'matmul', 'matmul', 'unsqueeze', 'squeeze']);
    expect(model.layers.some((l) => l.shapePassedThrough !== undefined)).toBe(false);
    const plan = planModel(model, options({ inputShape: [16, 32] }));
    const shapes = plan.layers.filter((l) => l.ir.kind === 'tensor-op').map((l) => l.outShape);
    expect(shapes).toEqual([[32, 16], [16, 32], [32, 16], [16, 16], [16, 32], [4, 32], [1, 32], [32]]);
    // softmax(self.slots(x), dim=1) normalizes over the 16 tokens, not the 4 slots.
    const slotSoftmax = defined(plan.layers.find((l) => l.ir.kind === 'activation' && l.ir.activation?.params.dim === 1));
    expect(slotSoftmax.inShapes[0]).toEqual([16, 4]);
    const outcome = await runProbe(model, options({ inputShape: [16, 32] }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    const dense = outcome.result.layers.filter((l) => l.kind === 'dense');
    expect(dense.map((l) => l.name)).toEqual(['token_mix', 'query', 'key', 'slots', 'summary', 'head']);
    // Every Linear learns: were the softmax over the slots, the slot weights would sum to one and `slots` get no gradient.
    for (const layer of dense) expect(layer.gradNorm[0]).toBeGreaterThan(1e-3);
  });
});

describe('vision-transformer patch embeddings: flatten(2) then transpose(1, 2)', () => {
  it.each([
    ['PatchClassifier', 'x.flatten(2)', 48],
    ['FunctionalPatches', 'torch.flatten(x, start_dim=2)', 32],
    ['SequentialPatches', 'nn.Flatten(2)', 32],
  ])('%s (%s) makes one token of every patch, its channels as features', async (name, _spelling, dim) => {
    const model = modelOf('torch_patch_embedding.py', name);
    const ops = model.layers.flatMap((l) => (l.kind === 'tensor-op' && l.op ? [l.op] : []));
    expect(ops.slice(0, 2)).toEqual([{ op: 'flatten', start: 2, end: -1 }, { op: 'transpose', axes: [1, 2] }]);
    expect(model.layers.some((l) => l.kind === 'flatten')).toBe(false);
    const plan = planModel(model, options({ inputShape: [32, 32, 3] }));
    const patches = dim === 48 ? 16 : 64;
    // torch: (B, dim, H/p, W/p) -> (B, dim, patches) -> (B, patches, dim).
    expect(plan.layers.filter((l) => l.ir.kind === 'tensor-op').map((l) => l.outShape)).toEqual([[dim, patches], [patches, dim]]);
    const outcome = await runProbe(model, options({ inputShape: [32, 32, 3] }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    for (const layer of outcome.result.layers.filter((l) => l.kind === 'conv2d' || l.kind === 'dense')) expect(layer.gradNorm[0]).toBeGreaterThan(1e-3);
  });

  it('flatten(1) before a classifier stays the flatten layer of every axis after the batch', () => {
    const model = modelOf('torch_patch_embedding.py', 'ConvPooled');
    expect(model.layers.map((l) => l.kind)).toEqual(['conv2d', 'activation', 'maxpool', 'flatten', 'dense']);
    const plan = planModel(model, options({ inputShape: [32, 32, 3] }));
    expect(defined(plan.layers.find((l) => l.ir.kind === 'flatten')).outShape).toEqual([1024]);
  });
});
