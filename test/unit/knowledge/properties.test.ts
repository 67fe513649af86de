/** Invariants of the initializer math over random parameters and layer sizes (fast-check). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Framework, InitializerName } from '../../../src/shared/ir';
import { initializerStats, KERAS_TRUNCATION_STD_FACTOR, targetStd } from '../../../src/shared/knowledge';
import { defined } from '../../defined';

const fan = fc.integer({ min: 1, max: 100_000 });
const framework = fc.constantFrom<Framework>('keras', 'torch');
const scaled: InitializerName[] = ['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal'];

describe('initializer math invariants', () => {
  it('Keras variance-scaling initializers have the same effective std whatever the distribution', () => {
    fc.assert(
      fc.property(fan, fan, fc.double({ min: 0.01, max: 10, noNaN: true }), fc.constantFrom('fan_in', 'fan_out', 'fan_avg'), (fanIn, fanOut, scale, mode) => {
        const stds = ['uniform', 'truncated_normal', 'untruncated_normal'].map(
          (distribution) => defined(initializerStats({ name: 'variance_scaling', framework: 'keras', params: { scale }, options: { mode, distribution } }, fanIn, fanOut).std),
        );
        const n = mode === 'fan_in' ? fanIn : mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
        return stds.every((s) => Math.abs(s - Math.sqrt(scale / n)) < 1e-12 * Math.max(1, s));
      }),
    );
  });

  it('uniform initializers have limit = sqrt(3)·std, and truncated Keras normals a stddev parameter = std / 0.8796', () => {
    fc.assert(
      fc.property(fc.constantFrom(...scaled), fan, fan, (name, fanIn, fanOut) => {
        const s = initializerStats({ name, framework: 'keras', params: {}, options: {} }, fanIn, fanOut);
        if (s.distribution === 'uniform') return Math.abs(defined(s.limit) - Math.sqrt(3) * defined(s.std)) < 1e-12;
        return s.distribution === 'truncated_normal' && Math.abs(defined(s.stddevParam) * KERAS_TRUNCATION_STD_FACTOR - defined(s.std)) < 1e-12;
      }),
    );
  });

  it('never produces NaN or negative numbers, whatever the parameters', () => {
    const names: InitializerName[] = ['zeros', 'ones', 'constant', 'random_normal', 'random_uniform', 'truncated_normal', ...scaled, 'variance_scaling', 'orthogonal', 'identity', 'xavier_uniform', 'xavier_normal', 'kaiming_uniform', 'kaiming_normal', 'torch_default_bias', 'unknown'];
    const num = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(fc.constantFrom(...names), framework, fc.dictionary(fc.constantFrom('mean', 'std', 'stddev', 'a', 'b', 'minval', 'maxval', 'value', 'gain', 'scale'), num), fc.option(fan), fc.option(fan), (name, fw, params, fanIn, fanOut) => {
        const s = initializerStats({ name, framework: fw, params, options: { mode: 'fan_in', nonlinearity: 'relu', distribution: 'uniform' } }, fanIn, fanOut);
        const values = [s.mean, s.std, s.limit, s.rms, s.stddevParam].filter((v): v is number => v !== null);
        return values.every((v) => !Number.isNaN(v)) && [s.std, s.limit, s.rms].every((v) => v === null || v >= 0);
      }),
    );
  });

  it('the ReLU target is sqrt(2) times the SELU (LeCun) target for the same fan_in', () => {
    fc.assert(fc.property(fan, fan, (fanIn, fanOut) => Math.abs(defined(targetStd('relu', fanIn, fanOut)).std / defined(targetStd('selu', fanIn, fanOut)).std - Math.SQRT2) < 1e-12));
  });

  it('agrees with a hand-worked example', () => {
    expect(initializerStats({ name: 'he_uniform', framework: 'keras', params: {}, options: {} }, 288, 576).limit).toBeCloseTo(Math.sqrt(6 / 288), 12);
  });
});
