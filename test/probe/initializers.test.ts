/** Initial weights follow each framework's formulas: bounds, variances, truncation, orthogonality. */
import { describe, expect, it } from 'vitest';
import { init, initialValues, kernelFans, UnknownInitializerError } from '../../src/probe/initializers';
import { initializerStats } from '../../src/shared/knowledge/initializers';
import { calculateGain } from '../../src/shared/knowledge/math';
import { Rng } from '../../src/probe/rng';
import '@tensorflow/tfjs-backend-cpu';
import { defined } from '../defined';

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let sq = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), maxAbs };
}

const shape = [256, 128];
const fans = kernelFans(shape);
const draw = (spec: ReturnType<typeof init>, framework: 'keras' | 'torch' = 'keras', s = shape) => initialValues(spec, framework, s, kernelFans(s), new Rng(11));

describe('initializers', () => {
  it('draws a uniform array as the same numbers, in the same order, as single draws (seeded runs do not move)', () => {
    const single = new Rng(7);
    const bulk = new Rng(7);
    const one = Float32Array.from({ length: 1001 }, () => single.uniform(-0.3, 0.2));
    expect(Array.from(bulk.uniformArray(1001, -0.3, 0.2))).toEqual(Array.from(one));
    // The generator continues from the same state.
    expect(bulk.next()).toBe(single.next());
    expect(Array.from(new Rng(8).uniformArray(50, -0.3, 0.2))).not.toEqual(Array.from(one.slice(0, 50)));
  });

  it('draws normal arrays as the same numbers as single draws, across a pending spare and odd lengths', () => {
    const single = new Rng(5);
    const bulk = new Rng(5);
    const one = Float64Array.from({ length: 7 }, () => 0.5 + 2 * single.normal());
    expect(Array.from(bulk.normalInto(new Float64Array(7), 0.5, 2))).toEqual(Array.from(one));
    // The odd draw left a spare behind in both; the next array starts with it.
    const next = Float32Array.from({ length: 4 }, () => single.normal());
    expect(Array.from(bulk.normalInto(new Float32Array(4)))).toEqual(Array.from(next));
    expect(bulk.next()).toBe(single.next());
    expect(Array.from(new Rng(6).normalInto(new Float64Array(7), 0.5, 2))).not.toEqual(Array.from(one));
  });

  it('draws a truncated normal as one redraw at a time would: same values, generator left at the same place', () => {
    const spec = init('truncated_normal', { mean: 0.1, stddev: 0.3 });
    const stats = initializerStats({ ...spec, framework: 'keras' }, 256, 128);
    const t = defined(stats.truncation);
    const single = new Rng(9);
    const expected = new Float32Array(1001);
    for (let i = 0; i < expected.length; i++) {
      let v = t.center + t.stddev * single.normal();
      while (v < t.low || v > t.high) v = t.center + t.stddev * single.normal();
      expected[i] = v;
    }
    const bulk = new Rng(9);
    const values = initialValues(spec, 'keras', [1001], fans, bulk);
    expect(Array.from(values)).toEqual(Array.from(expected));
    expect(bulk.next()).toBe(single.next());
    expect(values.every((v) => v >= Math.fround(t.low) && v <= Math.fround(t.high))).toBe(true);
  });

  it('computes fans with the receptive field, as both frameworks do', () => {
    expect(kernelFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(fans).toEqual({ fanIn: 256, fanOut: 128 });
  });

  it('PyTorch default Linear weight: kaiming_uniform(a=sqrt 5) is U(-1/sqrt(fan_in), 1/sqrt(fan_in))', () => {
    const bound = 1 / Math.sqrt(256);
    const s = stats(draw(init('kaiming_uniform', { a: Math.sqrt(5) }, { nonlinearity: 'leaky_relu', mode: 'fan_in' }), 'torch'));
    expect(s.maxAbs).toBeLessThanOrEqual(bound);
    expect(s.maxAbs).toBeGreaterThan(0.98 * bound);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 3);
  });

  it('PyTorch default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from the kernel fan-in', () => {
    const s = stats(initialValues(init('torch_default_bias'), 'torch', [128], fans, new Rng(3)));
    expect(s.maxAbs).toBeLessThanOrEqual(1 / 16);
    expect(s.maxAbs).toBeGreaterThan(0.9 / 16);
  });

  it('Keras glorot_uniform limit sqrt(6 / (fan_in + fan_out))', () => {
    const limit = Math.sqrt(6 / (256 + 128));
    const s = stats(draw(init('glorot_uniform')));
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
  });

  it('Keras he_normal is a truncated normal with the variance 2 / fan_in restored', () => {
    const s = stats(draw(init('he_normal')));
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 256), 3);
    expect(s.maxAbs).toBeLessThanOrEqual((2 * Math.sqrt(2 / 256)) / 0.87962566103423978 + 1e-6);
  });

  it('torch kaiming_normal(relu) is a plain normal with std sqrt(2 / fan_in)', () => {
    const values = draw(init('kaiming_normal', { a: 0 }, { nonlinearity: 'relu', mode: 'fan_in' }), 'torch');
    const s = stats(values);
    // A sample std of n normal draws has a relative standard error of 1/sqrt(2n); allow 4 of them.
    expect(Math.abs(s.std / Math.sqrt(2 / 256) - 1)).toBeLessThan(4 / Math.sqrt(2 * values.length));
    expect(s.maxAbs).toBeGreaterThan(3 * Math.sqrt(2 / 256));
  });

  it('RandomNormal stddev and torch normal_ std; torch trunc_normal_ cuts at absolute bounds', () => {
    expect(stats(draw(init('random_normal', { mean: 0, stddev: 1 }))).std).toBeCloseTo(1, 1);
    expect(stats(draw(init('random_normal', { mean: 0, std: 0.02 }), 'torch')).std).toBeCloseTo(0.02, 3);
    expect(stats(draw(init('truncated_normal', { mean: 0, std: 1, a: -0.5, b: 0.5 }), 'torch')).maxAbs).toBeLessThanOrEqual(0.5);
  });

  it('calculate_gain matches torch', () => {
    expect(calculateGain('tanh', undefined)).toBeCloseTo(5 / 3);
    expect(calculateGain('relu', undefined)).toBeCloseTo(Math.SQRT2);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(2 / 6));
    expect(calculateGain('selu', undefined)).toBe(0.75);
    expect(calculateGain('sigmoid', undefined)).toBe(1);
  });

  // 256x768 and 768x256 are big enough to be orthonormalized in blocks with the backend's products.
  it('orthogonal gives orthonormal columns (tall) or rows (wide)', () => {
    for (const [rows, cols] of [[64, 16], [16, 64], [256, 768], [768, 256]] as const) {
      const w = draw(init('orthogonal', { gain: 1 }), 'keras', [rows, cols]);
      const vectors = rows >= cols ? cols : rows;
      const length = rows >= cols ? rows : cols;
      const at = (v: number, i: number) => (rows >= cols ? w[i * cols + v]! : w[v * cols + i]!);
      for (let p = 0; p < vectors; p += 5) {
        for (let q = 0; q < vectors; q += 3) {
          let dot = 0;
          for (let i = 0; i < length; i++) dot += at(p, i) * at(q, i);
          expect(dot).toBeCloseTo(p === q ? 1 : 0, 4);
        }
      }
    }
    // Blocked or not, the same Q: the first rows of a wide draw are those of a draw with fewer rows (Gram-Schmidt keeps its prefix).
    const wide = draw(init('orthogonal', { gain: 1 }), 'keras', [256, 768]);
    const fewer = draw(init('orthogonal', { gain: 1 }), 'keras', [16, 768]);
    expect(Array.from(fewer).every((v, i) => Math.abs(v - wide[i]!) < 1e-4)).toBe(true);
  });

  it('constants, identity and variance_scaling with mode and distribution', () => {
    expect([...draw(init('constant', { value: 0.3 }), 'keras', [2, 2])]).toEqual(new Array(4).fill(Math.fround(0.3)));
    expect([...draw(init('identity', { gain: 2 }), 'keras', [2, 3])]).toEqual([2, 0, 0, 0, 2, 0]);
    const s = stats(draw(init('variance_scaling', { scale: 2 }, { mode: 'fan_out', distribution: 'uniform' })));
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 128), 3);
  });

  it('the same seed draws the same values', () => {
    expect(draw(init('glorot_normal'))).toEqual(draw(init('glorot_normal')));
  });
});

describe('the probe draws what the knowledge base (hovers, prediction) says', () => {
  const cases: [string, ReturnType<typeof init>, 'keras' | 'torch'][] = [
    ['Keras he_normal', init('he_normal'), 'keras'],
    ['Keras TruncatedNormal(stddev=0.1)', init('truncated_normal', { mean: 0, stddev: 0.1 }), 'keras'],
    ['torch trunc_normal_(std=0.5, a=-0.3, b=0.6)', init('truncated_normal', { mean: 0.1, std: 0.5, a: -0.3, b: 0.6 }), 'torch'],
    ['torch default Linear weight', init('kaiming_uniform', { a: Math.sqrt(5) }, { nonlinearity: 'leaky_relu', mode: 'fan_in' }), 'torch'],
    ['torch xavier_normal_(gain=5/3)', init('xavier_normal', { gain: 5 / 3 }), 'torch'],
    ['Keras RandomUniform(-0.05, 0.05)', init('random_uniform', { minval: -0.05, maxval: 0.05 }), 'keras'],
  ];
  it.each(cases)('%s: sample mean and std match initializerStats', (_name, spec, framework) => {
    const expected = initializerStats({ ...spec, framework }, fans.fanIn, fans.fanOut);
    const s = stats(draw(spec, framework));
    expect(expected.std).not.toBeNull();
    expect(s.std).toBeCloseTo(defined(expected.std), 2);
    expect(s.mean).toBeCloseTo(defined(expected.mean), 2);
    expect(s.std / defined(expected.std)).toBeGreaterThan(0.97);
    expect(s.std / defined(expected.std)).toBeLessThan(1.03);
  });

  it('refuses what the knowledge base cannot describe instead of guessing a default', () => {
    expect(() => draw(init('random_normal', { mean: 0 }))).toThrow(UnknownInitializerError);
    expect(() => draw(init('kaiming_normal'), 'torch')).toThrow(UnknownInitializerError);
    expect(() => draw(init('orthogonal'))).toThrow(UnknownInitializerError);
  });
});
