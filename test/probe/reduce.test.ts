/**
 * The 3-D views of src/probe/reduce.ts give exactly the values of the plain reductions and transposes,
 * for shapes that take the view (many rows, a divisible count) and shapes that do not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { reduceLeading, transposeMatrix } from '../../src/probe/reduce';
import { Rng } from '../../src/probe/rng';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

function random(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(new Rng(seed).normalInto(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

describe.each(['cpu', 'wasm'] as const)('views of big tensors on %s', (backend) => {
  it.each([[[512, 64]], [[256, 256]], [[64, 4096]], [[20, 30]], [[1021, 17]]])('transposes %j as tf.transpose does', async (shape) => {
    await selectBackend(backend);
    const m = random(shape, 1) as tf.Tensor2D;
    const t = transposeMatrix(m);
    expect(t.shape).toEqual([shape[1], shape[0]]);
    expect(values(t)).toEqual(values(tf.transpose(m)));
    // A plain copy is no transpose: the comparison can fail.
    expect(values(t)).not.toEqual(values(m));
  });

  it.each([[[4, 32, 32, 8], 0], [[2, 3, 64, 16, 4], 1], [[1021, 17], 0], [[5, 7, 3], 0]] as const)('reduces %j (keeping %i leading axes) as tf.sum and tf.max do', async (shape, keep) => {
    await selectBackend(backend);
    const x = random([...shape], 2);
    const axes = shape.slice(keep, -1).map((_, i) => keep + i);
    const sum = reduceLeading(x, 'sum', keep);
    expect(sum.shape).toEqual([...shape.slice(0, keep), shape[shape.length - 1]]);
    const reference = values(tf.sum(x, axes));
    values(sum).forEach((v, i) => {
      expect(v).toBeCloseTo(reference[i]!, 3);
    });
    expect(values(reduceLeading(x, 'max', keep))).toEqual(values(tf.max(x, axes)));
    // The channels are not reduced: a sum over every axis differs.
    expect(values(sum)).not.toEqual(values(tf.sum(x)));
  });

  it('keeps NaN and infinities as tf.max and tf.sum do (wasm pools only finite tensors)', async () => {
    await selectBackend(backend);
    const shape = [2, 3, 64, 16, 4];
    for (const bad of [NaN, -Infinity, Infinity]) {
      const data = new Rng(3).normalInto(new Float32Array(2 * 3 * 64 * 16 * 4));
      data[4 * 77 + 1] = bad;
      const x = tf.tensor(data, shape);
      for (const keep of [0, 1]) {
        const axes = shape.slice(keep, -1).map((_, i) => keep + i);
        expect(values(reduceLeading(x, 'max', keep))).toEqual(values(tf.max(x, axes)));
      }
      expect(values(reduceLeading(x, 'sum')).map(Number.isFinite)).toEqual(values(tf.sum(x, [0, 1, 2, 3])).map(Number.isFinite));
      x.dispose();
    }
  });
});
