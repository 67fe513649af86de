import { describe, expect, it } from 'vitest';
import { activationInfo, isIdentityActivation, layerInfo, negativeSlope, recommendedInit, REFERENCES, targetStd } from '../../../src/shared/knowledge';
import { defined } from '../../defined';

describe('targetStd', () => {
  it('uses He (2/fan_in) for the ReLU family', () => {
    expect(targetStd('relu', 784, 256)).toMatchObject({ convention: 'he', varianceFormula: '2 / fan_in' });
    expect(defined(targetStd('relu', 784, 256)).std).toBeCloseTo(0.050508, 6);
    expect(defined(targetStd('gelu', 784, 256)).convention).toBe('he');
  });

  it('handles the leaky slope, with framework defaults when none is written', () => {
    expect(defined(targetStd({ name: 'leaky_relu', params: { alpha: 0.2 } }, 100, 10)).std).toBeCloseTo(Math.sqrt(2 / (1.04 * 100)), 9);
    expect(defined(targetStd('leaky_relu', 100, 10, 'keras')).std).toBeCloseTo(Math.sqrt(2 / (1.09 * 100)), 9);
    expect(defined(targetStd('leaky_relu', 100, 10, 'torch')).std).toBeCloseTo(Math.sqrt(2 / (1.0001 * 100)), 9);
    expect(negativeSlope('prelu', 'torch')).toBe(0.25);
    expect(negativeSlope('prelu', 'keras')).toBe(0);
  });

  it('uses LeCun (1/fan_in) for SELU and Glorot (2/(fan_in+fan_out)) for tanh, sigmoid, softmax and linear', () => {
    expect(targetStd('selu', 100, 10)).toMatchObject({ convention: 'lecun', std: 0.1 });
    for (const act of ['tanh', 'sigmoid', 'softmax', 'linear'] as const) {
      expect(defined(targetStd(act, 784, 256)).convention).toBe('glorot');
      expect(defined(targetStd(act, 784, 256)).std).toBeCloseTo(Math.sqrt(2 / 1040), 9);
    }
  });

  it('returns null when a needed fan is unknown or no convention applies', () => {
    expect(targetStd('relu', null, 10)).toBeNull();
    expect(targetStd('tanh', 100, null)).toBeNull();
    expect(targetStd('exponential', 100, 10)).toBeNull();
    expect(targetStd('unknown', 100, 10)).toBeNull();
  });
});

describe('isIdentityActivation', () => {
  it("is true for 'linear' and a leaky ReLU whose written slope is 1 (torch's nn.LeakyReLU(True), Keras' alpha=1.0), not for a learned PReLU or the defaults", () => {
    expect(isIdentityActivation('linear')).toBe(true);
    expect(isIdentityActivation({ name: 'leaky_relu', params: { negative_slope: 1 } }, 'torch')).toBe(true);
    expect(isIdentityActivation({ name: 'leaky_relu', params: { alpha: 1 } }, 'keras')).toBe(true);
    expect(isIdentityActivation({ name: 'leaky_relu', params: { negative_slope: 0.2 } }, 'torch')).toBe(false);
    expect(isIdentityActivation('leaky_relu', 'torch')).toBe(false);
    expect(isIdentityActivation('leaky_relu', 'keras')).toBe(false);
    expect(isIdentityActivation({ name: 'prelu', params: { init: 1 } }, 'torch')).toBe(false);
    expect(isIdentityActivation({ name: 'elu', params: { alpha: 1 } }, 'torch')).toBe(false);
  });
});

describe('recommendedInit', () => {
  it('gives the exact spelling to write in each framework', () => {
    expect(defined(recommendedInit('relu', 'keras')).spelling).toBe("'he_normal'");
    expect(defined(recommendedInit('relu', 'torch')).spelling).toBe("nn.init.kaiming_normal_(w, nonlinearity='relu')");
    expect(defined(recommendedInit({ name: 'leaky_relu', params: { negative_slope: 0.2 } }, 'torch')).spelling).toBe("nn.init.kaiming_normal_(w, a=0.2, nonlinearity='leaky_relu')");
    expect(defined(recommendedInit('selu', 'keras')).spelling).toBe("'lecun_normal'");
    expect(defined(recommendedInit('selu', 'torch')).spelling).toBe("nn.init.kaiming_normal_(w, nonlinearity='linear')");
    expect(defined(recommendedInit('tanh', 'keras')).spelling).toBe("'glorot_uniform'");
    expect(defined(recommendedInit('tanh', 'torch')).spelling).toBe("nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain('tanh'))");
    expect(recommendedInit('unknown', 'keras')).toBeNull();
  });
});

describe('activationInfo', () => {
  it('sigmoid is not zero-centred and its derivative is at most 1/4', () => {
    const s = activationInfo('sigmoid');
    expect(s.zeroCentred).toBe(false);
    expect(s.maxDerivative).toMatch(/^0\.25/);
    expect(s.range).toBe('(0, 1)');
    expect(s.suitedInit).toEqual({ keras: "'glorot_uniform'", torch: 'nn.init.xavier_uniform_(w)' });
    expect(defined(activationInfo('selu').suitedInit).torch).toBe("nn.init.kaiming_normal_(w, nonlinearity='linear')");
    expect(activationInfo('unknown').suitedInit).toBeNull();
  });

  it('tanh is zero-centred with derivative 1 at 0; relu is not zero-centred', () => {
    expect(activationInfo('tanh').zeroCentred).toBe(true);
    expect(activationInfo('tanh').derivativeAtZero).toBe('1');
    expect(activationInfo('relu').zeroCentred).toBe(false);
    expect(activationInfo('prelu').zeroCentred).toBe(false);
    expect(activationInfo('softmax').zeroCentred).toBe(false);
  });

  it('matches numerically computed bounds of the smooth ReLUs', () => {
    const gelu = (x: number) => (x * (1 + erfApprox(x / Math.SQRT2))) / 2;
    const swish = (x: number) => x / (1 + Math.exp(-x));
    expect(minimum(gelu)).toBeCloseTo(-0.17, 2);
    expect(minimum(swish)).toBeCloseTo(-0.2785, 3);
    expect(activationInfo('gelu').range).toContain('0.170');
    expect(activationInfo('swish').range).toContain('0.278');
  });

  it('cites a paper for every known activation', () => {
    for (const name of ['relu', 'leaky_relu', 'selu', 'sigmoid', 'tanh', 'elu', 'gelu'] as const) {
      const refs = activationInfo(name).references;
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(REFERENCES[r].url).toMatch(/^https:/);
    }
  });
});

describe('layerInfo', () => {
  it('knows normalization and dropout layers and nothing else', () => {
    expect(defined(layerInfo('batchnorm')).references).toContain('ioffe2015');
    expect(defined(layerInfo('batchnorm')).frameworks).toMatch(/0\.99/);
    expect(defined(layerInfo('alpha-dropout')).references).toContain('klambauer2017');
    expect(layerInfo('dropout')).not.toBeNull();
    expect(layerInfo('layernorm')).not.toBeNull();
    expect(layerInfo('dense')).toBeNull();
  });
});

function minimum(f: (x: number) => number): number {
  let m = Infinity;
  for (let x = -6; x < 2; x += 1e-3) m = Math.min(m, f(x));
  return m;
}

function erfApprox(x: number): number {
  // Abramowitz & Stegun 7.1.26: an independent check of the knowledge base's numbers.
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
