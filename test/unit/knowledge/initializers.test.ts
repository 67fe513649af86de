import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Framework, InitializerName } from '../../../src/shared/ir';
import { calculateGain, initFamily, initializerDoc, initializerStats, KERAS_TRUNCATION_STD_FACTOR, recommendedInit, targetStd, truncatedNormalMoments } from '../../../src/shared/knowledge';
import { defined } from '../../defined';

const spec = (name: InitializerName, framework: Framework, params: Record<string, number> = {}, options: Record<string, string> = {}) => ({ name, framework, params, options });

describe('initializerStats: Keras semantics', () => {
  it('glorot_uniform for Dense(256) after 784 inputs has limit sqrt(6/1040)', () => {
    const s = initializerStats(spec('glorot_uniform', 'keras'), 784, 256);
    expect(s.distribution).toBe('uniform');
    expect(s.limit).toBeCloseTo(0.075955, 5);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 1040), 9);
    expect(s.mean).toBe(0);
  });

  it('he_normal is a truncated normal whose stddev is divided by 0.8796 so the effective std is sqrt(2/fan_in)', () => {
    const s = initializerStats(spec('he_normal', 'keras'), 784, 256);
    expect(s.distribution).toBe('truncated_normal');
    expect(s.std).toBeCloseTo(0.050508, 6);
    expect(s.stddevParam).toBeCloseTo(0.050508 / 0.87962566103423978, 6);
    expect(s.limit).toBeNull();
  });

  it('the truncation constant is the std of a standard normal cut at ±2', () => {
    expect(truncatedNormalMoments(0, 1, -2, 2).std).toBeCloseTo(KERAS_TRUNCATION_STD_FACTOR, 6);
  });

  it('lecun_normal and lecun_uniform aim for Var = 1/fan_in', () => {
    expect(initializerStats(spec('lecun_normal', 'keras'), 100, 10).std).toBeCloseTo(0.1, 9);
    expect(initializerStats(spec('lecun_uniform', 'keras'), 100, 10).limit).toBeCloseTo(Math.sqrt(3 / 100), 9);
  });

  it('VarianceScaling(scale=2, fan_avg, uniform) uses n = (fan_in + fan_out)/2', () => {
    const s = initializerStats(spec('variance_scaling', 'keras', { scale: 2 }, { mode: 'fan_avg', distribution: 'uniform' }), 784, 256);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 520), 9);
    expect(s.limit).toBeCloseTo(0.107417, 5);
  });

  it('VarianceScaling with its defaults (scale 1, fan_in, truncated normal)', () => {
    const s = initializerStats(spec('variance_scaling', 'keras', { scale: 1 }, { mode: 'fan_in', distribution: 'truncated_normal' }), 100, 7);
    expect(s.distribution).toBe('truncated_normal');
    expect(s.std).toBeCloseTo(0.1, 9);
    expect(s.stddevParam).toBeCloseTo(0.1 / KERAS_TRUNCATION_STD_FACTOR, 9);
  });

  it('RandomNormal / RandomUniform / TruncatedNormal with their 0.05-scale defaults', () => {
    expect(initializerStats(spec('random_normal', 'keras', { mean: 0, stddev: 0.05 }), 784, 256).std).toBe(0.05);
    const u = initializerStats(spec('random_uniform', 'keras', { minval: -0.05, maxval: 0.05 }), 784, 256);
    expect(u.limit).toBeCloseTo(0.05, 12);
    expect(u.std).toBeCloseTo(0.1 / Math.sqrt(12), 9);
    expect(initializerStats(spec('truncated_normal', 'keras', { mean: 0, stddev: 0.05 }), 784, 256).std).toBeCloseTo(0.05 * KERAS_TRUNCATION_STD_FACTOR, 9);
  });

  it('RandomNormal(stddev=1.0) does not depend on the fans', () => {
    expect(initializerStats(spec('random_normal', 'keras', { mean: 0, stddev: 1 }), null, null).std).toBe(1);
  });

  it('constants have std 0 and their value as mean', () => {
    expect(initializerStats(spec('zeros', 'keras'), 10, 10)).toMatchObject({ distribution: 'constant', mean: 0, std: 0 });
    expect(initializerStats(spec('ones', 'torch'), 10, 10)).toMatchObject({ mean: 1, std: 0, rms: 1 });
    expect(initializerStats(spec('constant', 'keras', { value: 0.01 }), 10, 10).mean).toBe(0.01);
    expect(initializerStats(spec('constant', 'torch', { val: 0.5 }), 10, 10).mean).toBe(0.5);
  });

  it('orthogonal entries have E[w²] = gain²/max(fan_in, fan_out)', () => {
    expect(initializerStats(spec('orthogonal', 'keras', { gain: 1 }), 256, 128).std).toBeCloseTo(1 / 16, 9);
  });

  it('a parameter written but not evaluable (std=config.initializer_range) gives null numbers, never a default', () => {
    expect(initializerStats(spec('random_normal', 'torch', { mean: 0 }), 768, 768).std).toBeNull();
    expect(initializerStats(spec('random_uniform', 'keras', { minval: -0.05 }), 768, 768).std).toBeNull();
    expect(initializerStats(spec('kaiming_normal', 'torch', { a: 0 }, { mode: 'fan_in' }), 768, 768).std).toBeNull();
    expect(initializerStats(spec('constant', 'torch'), 768, 768)).toMatchObject({ distribution: 'constant', std: 0, mean: null });
  });

  it('unknown fans give null numbers, never a guess', () => {
    const s = initializerStats(spec('glorot_uniform', 'keras'), 784, null);
    expect(s.std).toBeNull();
    expect(s.limit).toBeNull();
    expect(initializerStats(spec('unknown', 'keras'), 10, 10).std).toBeNull();
  });
});

describe('initializerStats: PyTorch semantics', () => {
  const torchDefault = spec('kaiming_uniform', 'torch', { a: Math.sqrt(5) }, { mode: 'fan_in', nonlinearity: 'leaky_relu' });

  it('default nn.Linear(784, 256) weight is U(-1/sqrt(784), 1/sqrt(784))', () => {
    const s = initializerStats(torchDefault, 784, 256);
    expect(s.limit).toBeCloseTo(0.035714, 6);
    expect(s.std).toBeCloseTo(1 / Math.sqrt(3 * 784), 9);
  });

  it('default bias has the same bound', () => {
    expect(initializerStats(spec('torch_default_bias', 'torch'), 784, 256).limit).toBeCloseTo(1 / 28, 9);
  });

  it("kaiming_normal_(nonlinearity='relu') is an untruncated normal with std sqrt(2/fan_in)", () => {
    const s = initializerStats(spec('kaiming_normal', 'torch', { a: 0 }, { mode: 'fan_in', nonlinearity: 'relu' }), 784, 256);
    expect(s.distribution).toBe('normal');
    expect(s.std).toBeCloseTo(0.050508, 6);
  });

  it('kaiming_uniform_ defaults (a=0, leaky_relu) equal he_uniform', () => {
    expect(initializerStats(spec('kaiming_uniform', 'torch', { a: 0 }, { mode: 'fan_in', nonlinearity: 'leaky_relu' }), 784, 256).limit).toBeCloseTo(Math.sqrt(6 / 784), 9);
  });

  it('kaiming honours a, mode and nonlinearity', () => {
    expect(initializerStats(spec('kaiming_normal', 'torch', { a: 0.2 }, { mode: 'fan_in', nonlinearity: 'leaky_relu' }), 100, 10).std).toBeCloseTo(Math.sqrt(2 / 1.04) / 10, 9);
    expect(initializerStats(spec('kaiming_normal', 'torch', {}, { mode: 'fan_out', nonlinearity: 'relu' }), 100, 512).std).toBeCloseTo(0.0625, 9);
    expect(initializerStats(spec('kaiming_normal', 'torch', { a: 0 }, { mode: 'fan_in', nonlinearity: 'tanh' }), 100, 10).std).toBeCloseTo(1 / 6, 9);
    expect(initializerStats(spec('kaiming_normal', 'torch', { a: 0 }, { mode: 'fan_in', nonlinearity: 'selu' }), 100, 10).std).toBeCloseTo(0.075, 9);
  });

  it('xavier_* take a gain', () => {
    const s = initializerStats(spec('xavier_uniform', 'torch', { gain: 5 / 3 }), 100, 100);
    expect(s.std).toBeCloseTo((5 / 3) * 0.1, 9);
    expect(s.limit).toBeCloseTo((5 / 3) * Math.sqrt(6 / 200), 9);
    expect(initializerStats(spec('xavier_normal', 'torch', { gain: 1 }), 100, 100).distribution).toBe('normal');
  });

  it('normal_ defaults to N(0, 1) and uniform_ to U(0, 1), which is not zero-mean', () => {
    expect(initializerStats(spec('random_normal', 'torch', { mean: 0, std: 1 }), 784, 256).std).toBe(1);
    const u = initializerStats(spec('random_uniform', 'torch', { a: 0, b: 1 }), 784, 256);
    expect(u.mean).toBe(0.5);
    expect(u.limit).toBeNull();
    expect(u.rms).toBeCloseTo(Math.sqrt(1 / 3), 9);
    expect(initializerStats(spec('random_uniform', 'torch', { a: -1, b: 1 }), 784, 256).limit).toBe(1);
  });

  it('trunc_normal_ cuts at absolute bounds: std=0.02 is effectively untruncated, std=1 loses 12%', () => {
    expect(initializerStats(spec('truncated_normal', 'torch', { mean: 0, std: 0.02, a: -2, b: 2 }), 768, 768).std).toBeCloseTo(0.02, 8);
    expect(initializerStats(spec('truncated_normal', 'torch', { mean: 0, std: 1, a: -2, b: 2 }), 768, 768).std).toBeCloseTo(KERAS_TRUNCATION_STD_FACTOR, 6);
  });

  it('calculate_gain matches PyTorch', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('sigmoid')).toBe(1);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.0001)), 12);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(calculateGain('selu')).toBe(0.75);
    expect(calculateGain('swish')).toBeNull();
  });
});

describe('families', () => {
  it('classifies by effective variance, not by spelling', () => {
    expect(initFamily(spec('he_normal', 'keras'))).toBe('he');
    expect(initFamily(spec('kaiming_uniform', 'torch', { a: Math.sqrt(5) }, { mode: 'fan_in', nonlinearity: 'leaky_relu' }))).toBe('torch-default');
    expect(initFamily(spec('kaiming_normal', 'torch', { a: 0 }, { nonlinearity: 'linear' }))).toBe('lecun');
    expect(initFamily(spec('kaiming_normal', 'torch', { a: 0 }, { nonlinearity: 'selu' }))).toBe('scaled');
    expect(initFamily(spec('kaiming_normal', 'torch', { a: 0 }, { nonlinearity: 'tanh' }))).toBe('scaled');
    expect(initFamily(spec('kaiming_uniform', 'torch', { a: 0.2 }, { nonlinearity: 'leaky_relu' }))).toBe('he');
    expect(initFamily(spec('variance_scaling', 'keras', { scale: 2 }, { mode: 'fan_in' }))).toBe('he');
    expect(initFamily(spec('variance_scaling', 'keras', { scale: 1 }, { mode: 'fan_avg' }))).toBe('glorot');
    expect(initFamily(spec('xavier_uniform', 'torch', { gain: 5 / 3 }))).toBe('scaled');
    expect(initFamily(spec('random_normal', 'keras'))).toBe('fixed');
    expect(initFamily(spec('kaiming_normal', 'torch', {}, {}))).toBe('unknown');
  });
});

describe('recommended initializers preserve variance', () => {
  const activations = ['relu', 'leaky_relu', 'prelu', 'elu', 'gelu', 'swish', 'selu', 'tanh', 'sigmoid', 'softsign', 'softmax', 'linear'] as const;
  it('their effective std is within 1.7x of targetStd for any fans, in both frameworks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 20000 }), fc.constantFrom(...activations), fc.constantFrom<Framework>('keras', 'torch'), (fanIn, fanOut, act, framework) => {
        const rec = defined(recommendedInit(act, framework));
        const target = defined(targetStd(act, fanIn, fanOut, framework));
        const std = defined(initializerStats({ ...rec.init, framework }, fanIn, fanOut).std);
        const ratio = std / target.std;
        return ratio > 1 / 1.7 && ratio < 1.7;
      }),
    );
  });
});

describe('initializerDoc', () => {
  it('documents both frameworks where they differ', () => {
    const he = initializerDoc('he_normal');
    expect(he.variance).toBe('Var(W) = 2 / fan_in');
    expect(he.difference).toMatch(/truncated/);
    expect(he.references).toContain('he2015');
    expect(initializerDoc('variance_scaling').torch).toBeNull();
    expect(initializerDoc('random_normal').difference).toMatch(/std=1\.0/);
  });
});
