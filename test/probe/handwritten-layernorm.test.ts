/**
 * Layer normalizations written by hand (the Annotated Transformer's `a_2 * (x - mean) / (std + eps) + b_2`,
 * BERT ports' root of the mean centered square): a module whose forward is that formula is read as the
 * layer normalization of the last axis with its gain and offset, and the probe computes its spread as the
 * code does (torch's x.std is unbiased, eps outside the root). Before, x.std stopped the probe: "the probe
 * does not know x.std".
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { buildNodes } from '../../src/probe/layers';
import { planModel } from '../../src/probe/plan';
import { Rng } from '../../src/probe/rng';
import { runProbe } from '../../src/probe/run';
import type { LayerIR, ModelIR } from '../../src/shared/ir';
import { probeOptions } from '../../src/shared/probe';
import { analyzeFixture } from '../unit/project-helper';
import { defined } from '../defined';

const fixture = join(__dirname, '../fixtures/probe/torch_handwritten_layernorm.py');

async function modelOf(name: string): Promise<ModelIR> {
  const result = await analyzeFixture(fixture);
  return defined(result.models.find((m) => m.name === name));
}

const norms = (model: ModelIR): LayerIR[] => model.layers.filter((l) => l.kind === 'layernorm');

beforeAll(async () => {
  await selectBackend('cpu', null);
});

describe('a layer normalization written by hand', () => {
  it('is read as a layernorm of the last axis, with its eps and the spread it computes', async () => {
    const model = await modelOf('PreNormBlock');
    expect(model.layers.some((l) => l.kind === 'unknown')).toBe(false);
    expect(norms(model).map((l) => [l.name, l.className, l.kind === 'layernorm' ? { epsilon: l.norm.epsilon, spread: l.norm.spread } : null])).toEqual([
      ['norm1', 'StdNorm', { epsilon: 1e-6, spread: { unbiased: true, epsInsideRoot: false } }],
      ['norm2', 'RsqrtNorm', { epsilon: 1e-5, spread: { unbiased: false, epsInsideRoot: true } }],
      ['norm3', 'RootNorm', { epsilon: 1e-12, spread: { unbiased: false, epsInsideRoot: true } }],
    ]);
  });

  it("computes torch's numbers: (x - mean) / (unbiased std + eps), and trains the block through it", async () => {
    const model = await modelOf('PreNormBlock');
    const plan = planModel(model, probeOptions({ backend: 'cpu', inputShape: [6, 32] }));
    const nodes = buildNodes(plan.layers, model.framework, new Rng(2), []);
    const node = defined(nodes.find((n) => n.planned.ir.name === 'norm1'));
    const x = tf.add(tf.mul(tf.randomNormal([2, 6, 32], 0, 1, 'float32', 4), 3), 1);
    const mean = tf.mean(x, -1, true);
    const std = tf.sqrt(tf.div(tf.sum(tf.square(tf.sub(x, mean)), -1, true), 31));
    const expected = tf.div(tf.sub(x, mean), tf.add(std, 1e-6));
    const got = node.apply([x], { training: true, rng: new Rng(1) });
    expect(tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]).toBeLessThan(1e-5);
    const outcome = await runProbe(model, probeOptions({ backend: 'cpu', steps: 1, seed: 1, inputShape: [6, 32] }));
    if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
    expect(outcome.result.layers.filter((l) => l.kind === 'layernorm').map((l) => l.name)).toEqual(['norm1', 'norm2', 'norm3']);
  });

  it('is a layer, not a model of its own, and nothing of its formula is left unread', async () => {
    const result = await analyzeFixture(fixture);
    expect(result.models.map((m) => m.name)).toEqual(['PreNormBlock', 'CenteredBlock']);
    expect(result.notices.map((n) => n.message).filter((m) => /x\.(std|var)/.test(m))).toEqual([]);
  });

  it('a module that only centers its input (the twin) stays a module of its own, no layer normalization', async () => {
    const model = await modelOf('CenteredBlock');
    expect(norms(model)).toEqual([]);
  });
});
