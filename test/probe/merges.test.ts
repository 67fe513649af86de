/**
 * Elementwise merges compute what the framework computes: Keras Subtract (first minus second), Average,
 * Maximum and Minimum, torch `a - b` (all 'add' layers with their merge op), and Add stays a sum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import type { MergeConfig } from '../../src/shared/ir';
import { planModel } from '../../src/probe/plan';
import { buildNodes } from '../../src/probe/layers';
import { Rng } from '../../src/probe/rng';
import { probeOptions } from '../../src/shared/probe';
import { keras } from './ir-builder';

const model = (op: MergeConfig['op']) =>
  keras()
    .asGraph()
    .input([4])
    .layer({ kind: 'input', name: 'x' })
    .layer({ kind: 'dense', name: 'a', units: 3, inputs: ['x'] })
    .layer({ kind: 'dense', name: 'b', units: 3, inputs: ['x'] })
    .layer({ kind: 'add', name: 'merge', detail: { merge: { op, axis: null } }, inputs: ['a', 'b'] })
    .build();

/** The two branches' outputs and the merge's, on one batch. */
function run(op: MergeConfig['op']): { a: number[]; b: number[]; merged: number[] } {
  const plan = planModel(model(op), probeOptions({ batchSize: 2 }));
  const nodes = buildNodes(plan.layers, 'keras', new Rng(3), []);
  const data = new Rng(4);
  const x = tf.tensor(data.fill(8, () => data.normal()), [2, 4]);
  const outputs: tf.Tensor[] = [];
  for (const node of nodes) outputs.push(node.apply(node.planned.inputs.map((i) => (i < 0 ? x : outputs[i]!)), { training: false, rng: new Rng(0) }));
  const at = (name: string) => Array.from(outputs[nodes.findIndex((n) => n.planned.ir.name === name)]!.dataSync());
  return { a: at('a'), b: at('b'), merged: at('merge') };
}

const cases: [MergeConfig['op'], (a: number, b: number) => number][] = [
  ['add', (a, b) => a + b],
  ['subtract', (a, b) => a - b],
  ['average', (a, b) => (a + b) / 2],
  ['maximum', Math.max],
  ['minimum', Math.min],
];

describe('elementwise merges', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it.each(cases)('%s computes its operation, not a sum', (op, expected) => {
    const { a, b, merged } = run(op);
    merged.forEach((value, i) => {
      expect(value).toBeCloseTo(expected(a[i]!, b[i]!), 5);
    });
  });
});
