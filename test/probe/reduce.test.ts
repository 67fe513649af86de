/**
 * The 3-D views of src/probe/reduce.ts give exactly the values of the plain reductions and transposes,
 * for shapes that take the view (many rows, a divisible count) and shapes that do not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { finiteChannelMeans, pooledMemberSums, reduceLeading, transposeMatrix } from '../../src/probe/reduce';
import { Rng } from '../../src/probe/rng';
import { defined } from '../defined';

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

describe('pooled sums on wasm', () => {
  it.each([[[1, 32, 25088]], [[2, 128, 64, 32]], [[1, 8, 32768]]])('sums each member of %j as tf.sum does, to float32 rounding, whatever its last axis (a Flatten of 25,088 features among them)', async (shape) => {
    await selectBackend('wasm');
    const x = random(shape, 4);
    const pooled = defined(pooledMemberSums(x), 'pooled sums');
    const reference = values(tf.sum(x, shape.slice(1).map((_, i) => i + 1)));
    values(pooled).forEach((v, i) => {
      expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(1e-4 * Math.sqrt(x.size));
    });
  });

  it('leaves channels the pooling cannot take to the plain reductions (16,384 channels failed with an out-of-bounds access)', async () => {
    await selectBackend('wasm');
    const x = random([32, 16384], 5);
    expect(finiteChannelMeans(x)).toBeNull();
    expect(values(reduceLeading(x, 'max'))).toEqual(values(tf.max(x, [0])));
  });
});
