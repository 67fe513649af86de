/**
 * Which kernel taps of a padded convolution read data (src/probe/conv.ts tapsReadingData): the probe
 * convolves with those only, and its output equals the padded convolution with the whole kernel.
 * Gradients through cut kernels are checked by gradients.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { tapsReadingData } from '../../src/probe/conv';
import { buildNodes } from '../../src/probe/layers';
import { planModel } from '../../src/probe/plan';
import { Rng } from '../../src/probe/rng';
import { probeOptions } from '../../src/shared/probe';
import { defined } from '../defined';
import { torch } from './ir-builder';

describe('kernel taps that read data', () => {
  it('a 3x3 kernel padded by 1 on a 1x1 map reads data with its centre only', () => {
    expect(tapsReadingData(1, 3, 1, 1, [1, 1])).toEqual({ first: 1, count: 1, pads: [0, 0] });
  });

  it('a 4x4 kernel padded by 1 on a 2x2 map (one output) needs its middle 2 taps', () => {
    expect(tapsReadingData(2, 4, 1, 1, [1, 1])).toEqual({ first: 1, count: 2, pads: [0, 0] });
  });

  it('on a map as big as the kernel every tap reads data: nothing is cut', () => {
    expect(tapsReadingData(5, 3, 1, 1, [1, 1])).toEqual({ first: 0, count: 3, pads: [1, 1] });
    expect(tapsReadingData(8, 4, 2, 1, [1, 1])).toEqual({ first: 0, count: 4, pads: [1, 1] });
  });

  it('a strided kernel whose first rows only meet padding loses them', () => {
    // Side 3, kernel 3, stride 2, pads 2: outputs at rows -2 and 0; tap 0 reads rows -2 and 0, tap 1 rows -1 and 1.
    expect(tapsReadingData(3, 3, 2, 1, [2, 2])).toEqual({ first: 0, count: 3, pads: [2, 2] });
    expect(tapsReadingData(1, 5, 1, 1, [2, 2])).toEqual({ first: 2, count: 1, pads: [0, 0] });
  });

  it('a dilated kernel keeps the taps that land on data', () => {
    // Side 2, kernel 3 at dilation 2, pads 2: tap 0 reads rows -2 and -1, tap 1 rows 0 and 1, tap 2 rows 2 and 3.
    expect(tapsReadingData(2, 3, 1, 2, [2, 2])).toEqual({ first: 1, count: 1, pads: [0, 0] });
    // Side 4: rows -2..1, 0..3, 2..5: every tap reads data.
    expect(tapsReadingData(4, 3, 1, 2, [2, 2])).toEqual({ first: 0, count: 3, pads: [2, 2] });
  });
});

describe.each(['cpu', 'wasm'] as const)('a convolution with its data-reading taps only, on %s', (backend) => {
  it.each([
    ['4x4 kernel, padding 1, 2x2 map', 2, 4],
    ['3x3 kernel, padding 1, 1x1 map', 1, 3],
    ['3x3 kernel, padding 1, 5x5 map (nothing cut)', 5, 3],
  ] as const)('%s: the output of the padded convolution with the whole kernel', async (_name, side, kernel) => {
    await selectBackend(backend);
    const model = torch().input([4, side, side]).layer({ kind: 'conv2d', units: 3, inFeatures: 4, kernelSize: [kernel], detail: { conv: { padding: [1] } } }).build();
    const plan = planModel(model, probeOptions({ batchSize: 2 }));
    const node = defined(buildNodes(plan.layers, 'torch', new Rng(1), []).find((n) => n.planned.ir.kind === 'conv2d'), 'conv node');
    const x = tf.tensor4d(new Rng(2).normalInto(new Float32Array(2 * side * side * 4)), [2, side, side, 4]);
    const out = node.apply([x], { training: true, rng: new Rng(3) });
    const whole = tf.add(tf.conv2d(x, defined(node.kernel) as tf.Tensor4D, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), defined(node.bias));
    expect(out.shape).toEqual(whole.shape);
    const reference = Array.from(whole.dataSync());
    Array.from(out.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(reference[i]!, 4);
    });
    // The same kernel without its middle tap gives other numbers: the comparison can fail.
    const middle = Math.floor(kernel / 2);
    const mask = tf.tensor(Array.from({ length: kernel * kernel }, (_, i) => (i === middle * kernel + middle ? 0 : 1)), [kernel, kernel, 1, 1]);
    const shifted = tf.conv2d(x, tf.mul<tf.Tensor4D>(defined(node.kernel), mask), 1, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    expect(Array.from(tf.add(shifted, defined(node.bias)).dataSync())).not.toEqual(Array.from(out.dataSync()));
    tf.dispose([x, out, whole, mask, shifted, ...node.vars]);
  });
});
