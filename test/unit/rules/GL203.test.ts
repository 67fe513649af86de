import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/initialization/init-scale-off';
import type { InitializerIR, LayerKind } from '../../../src/shared/ir';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';
import { join } from 'node:path';
import { analyzePaths } from './fixture-harness';
import { modelPrediction } from '../../../src/shared/knowledge/propagation';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}, thresholds: Record<string, number> = {}) =>
  rule.check(model, contextFor(rule, { thresholds }, sources));

const kerasInit = (name: InitializerIR['name'], params: Record<string, number> = {}, options: Record<string, string> = {}): InitializerIR => ({
  name, params, options, spelling: name, range: null, explicit: true, framework: 'keras',
});

describe('GL203 init-scale-off (IR)', () => {
  it('reports RandomNormal(stddev=1.0) on Dense(256, relu) after 784 inputs with both numbers', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: kerasInit('random_normal', { mean: 0, stddev: 1 }), fanIn: 784, fanOut: 256 }), dense(10, { activation: 'softmax', fanIn: 256, fanOut: 10 })] });
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    // He: sqrt(2/784) = 0.05051; 1 / 0.05051 = 19.8
    expect(defined(finding).message).toContain('Weight std 1 of');
    expect(defined(finding).message).toContain('is 19.8x the variance-preserving 0.05051 for relu with fan_in 784');
    expect(defined(defined(finding).whatIf).ops).toEqual([{ op: 'set-kernel-init', layerId: 'L0', init: { name: 'he_normal', params: {}, options: {} } }]);
  });

  it('uses Glorot for tanh and names both fans', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'tanh', kernelInit: kerasInit('random_uniform', { minval: -1, maxval: 1 }), fanIn: 784, fanOut: 256 }), dense(10, { fanIn: 256, fanOut: 10 })] });
    const [finding] = check(model);
    // U(-1, 1): std 1/sqrt(3) = 0.5774; Glorot sqrt(2/1040) = 0.04385 -> 13.2x
    expect(defined(finding).message).toContain('Weight std 0.5774');
    expect(defined(finding).message).toContain('13.2x the variance-preserving 0.04385 for tanh with fan_in 784 and fan_out 256');
  });

  it('counts a non-zero mean: torch uniform_ default U(0, 1)', () => {
    const init: InitializerIR = { name: 'random_uniform', params: { a: 0, b: 1 }, options: {}, spelling: 'nn.init.uniform_(w)', range: null, explicit: true, framework: 'torch' };
    const model = buildModel({ framework: 'torch', layers: [dense(64, { kernelInit: init, fanIn: 100, fanOut: 64 }), act('relu'), dense(1, { fanIn: 64, fanOut: 1 })] });
    const [finding] = check(model);
    expect(defined(finding).message).toContain('Weight RMS 0.5774 (mean 0.5, std 0.2887)');
  });

  it('reports too-small weights only in hidden layers of deep enough models', () => {
    const small = kerasInit('random_normal', { mean: 0, stddev: 0.001 });
    const shallow = buildModel({ layers: [dense(64, { activation: 'relu', kernelInit: small, fanIn: 100, fanOut: 64 }), dense(1, { fanIn: 64, fanOut: 1 })] });
    expect(check(shallow)).toEqual([]);
    const deep = buildModel({
      layers: [
        dense(64, { activation: 'relu', kernelInit: small, fanIn: 100, fanOut: 64 }),
        dense(64, { activation: 'relu', kernelInit: small, fanIn: 64, fanOut: 64 }),
        dense(1, { kernelInit: small, fanIn: 64, fanOut: 1 }),
      ],
    });
    const findings = check(deep);
    expect(findings.map((f) => f.range.start.line)).toEqual([0, 1]);
    expect(findings[0]!.message).toContain('is 141.4x below the variance-preserving 0.1414');
  });

  it('lets a normalization layer reset a too-small scale (DCGAN: N(0, 0.02) with BatchNorm every other layer)', () => {
    const small = kerasInit('random_normal', { mean: 0, stddev: 0.02 });
    const model = buildModel({
      layers: [
        dense(64, { activation: 'relu', kernelInit: small, fanIn: 48, fanOut: 64 }),
        dense(128, { kernelInit: small, fanIn: 64, fanOut: 128 }),
        layerOf('batchnorm'),
        act('relu'),
        dense(1, { activation: 'sigmoid', kernelInit: small, fanIn: 128, fanOut: 1 }),
      ],
    });
    expect(check(model)).toEqual([]);
  });

  it("accepts He's fan_out normalization (VGG/ResNet: normal_(0, sqrt(2 / (k*k*out_channels))))", () => {
    const fanOutHe = kerasInit('random_normal', { mean: 0, std: Math.sqrt(2 / 576) });
    const model = buildModel({
      framework: 'torch',
      layers: [
        layerOf('conv2d', { kernelInit: { ...fanOutHe, framework: 'torch' }, fanIn: 27, fanOut: 576 }),
        act('relu'),
        layerOf('conv2d', { kernelInit: { ...fanOutHe, framework: 'torch' }, fanIn: 576, fanOut: 576 }),
        act('relu'),
        layerOf('conv2d', { kernelInit: { ...fanOutHe, framework: 'torch' }, fanIn: 576, fanOut: 576 }),
        act('relu'),
        dense(10, { fanIn: 64, fanOut: 10 }),
      ],
    });
    expect(check(model)).toEqual([]);
  });

  it('does not compound a small scale across residual sums: pre-LN blocks at N(0, 0.02), d_model 384', () => {
    const small = kerasInit('random_normal', { mean: 0, stddev: 0.02 });
    const blocks = (residual: boolean) => {
      const layers: Parameters<typeof buildModel>[0]['layers'] = [dense(384, { kernelInit: small, fanIn: 384, fanOut: 384 })];
      let stream = 0;
      for (let b = 0; b < 6; b++) {
        const from = stream;
        if (residual) layers.push(layerOf('layernorm', { inputs: [from] }));
        layers.push(dense(384, { activation: 'relu', kernelInit: small, fanIn: 384, fanOut: 384, inputs: [layers.length - 1] }));
        // An operation the propagation model does not know (a masked softmax over the scores): no prediction, the layers' ratios decide.
        layers.push(layerOf('unknown', { inputs: [layers.length - 1] }));
        layers.push(dense(384, { kernelInit: small, fanIn: 384, fanOut: 384, inputs: [layers.length - 1] }));
        if (residual) layers.push(layerOf('add', { inputs: [from, layers.length - 1] }));
        stream = layers.length - 1;
      }
      layers.push(dense(10, { fanIn: 384, fanOut: 10, inputs: [stream] }));
      return buildModel({ isGraph: true, layers });
    };
    const residual = blocks(true);
    expect(modelPrediction(residual).ok).toBe(false);
    expect(check(residual)).toEqual([]);
    // Without the skips the same layers are one chain: the shrink compounds over all of them.
    const [chained] = check(blocks(false));
    expect(defined(chained).message).toMatch(/over 13 hidden layers without normalization the signal's std shrinks ~\d/);
  });

  it('respects the factor option and stays silent within it', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: kerasInit('random_normal', { mean: 0, stddev: 0.1 }), fanIn: 784, fanOut: 256 }), dense(10, { fanIn: 256, fanOut: 10 })] });
    expect(check(model)).toEqual([]); // 0.1 is 1.98x He's fan_in value and 1.13x its fan_out value 0.0884
    expect(check(model, {}, { 'init-scale-factor': 1.5 })).toEqual([]);
    expect(check(model, {}, { 'init-scale-factor': 1.1 })).toHaveLength(1);
  });

  it('does not judge defaults, unknown sizes, normalized layers, constants, SELU or GL202 families', () => {
    const big = kerasInit('random_normal', { mean: 0, stddev: 1 });
    const cases = [
      buildModel({ layers: [dense(256, { activation: 'relu', fanIn: 20, fanOut: 256 }), dense(1, { fanIn: 256, fanOut: 1 })] }),
      buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: big }), dense(1)] }),
      buildModel({ layers: [dense(256, { kernelInit: big, fanIn: 784, fanOut: 256 }), layerOf('batchnorm'), act('relu'), dense(1, { fanIn: 256, fanOut: 1 })] }),
      buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: kerasInit('ones'), fanIn: 784, fanOut: 256 }), dense(1, { fanIn: 256, fanOut: 1 })] }),
      buildModel({ layers: [dense(256, { activation: 'selu', kernelInit: big, fanIn: 784, fanOut: 256 }), dense(1, { fanIn: 256, fanOut: 1 })] }),
      buildModel({ layers: [dense(256, { activation: 'tanh', kernelInit: kerasInit('he_normal'), fanIn: 20, fanOut: 256 }), dense(1, { fanIn: 256, fanOut: 1 })] }),
      buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: kerasInit('unknown'), fanIn: 784, fanOut: 256 }), dense(1, { fanIn: 256, fanOut: 1 })] }),
    ];
    for (const model of cases) expect(check(model)).toEqual([]);
  });

  it('reports VarianceScaling with a large scale', () => {
    const model = buildModel({ layers: [dense(128, { activation: 'relu', kernelInit: kerasInit('variance_scaling', { scale: 50 }, { mode: 'fan_in', distribution: 'truncated_normal' }), fanIn: 64, fanOut: 128 }), dense(1, { fanIn: 128, fanOut: 1 })] });
    expect(check(model)[0]!.message).toContain('is 5.0x the variance-preserving');
  });

  it('rewrites w.data.normal_(0, 1) into kaiming_normal_ on the same tensor (unsafe)', () => {
    const text = 'import torch\nimport torch.nn as nn\n\nself.fc1.weight.data.normal_(0, 1)\n';
    const init: InitializerIR = { name: 'random_normal', params: { mean: 0, std: 1 }, options: {}, spelling: 'self.fc1.weight.data.normal_(0, 1)', range: findRange(text, 'self.fc1.weight.data.normal_(0, 1)'), explicit: true, framework: 'torch' };
    const model = buildModel({ framework: 'torch', layers: [dense(256, { kernelInit: init, fanIn: 784, fanOut: 256, line: 8 }), act('relu', { line: 9 }), dense(10, { fanIn: 256, fanOut: 10, line: 10 })] });
    const [finding] = check(model, { [FILE]: text });
    expect(defined(finding).range.start.line).toBe(3);
    expect(defined(finding).fixes[0]!.safety).toBe('unsafe');
    expect(applyEdits(text, defined(finding).fixes[0]!.edits)).toContain("nn.init.kaiming_normal_(self.fc1.weight, nonlinearity='relu')");
  });
});

describe('GL203 on a layer applied twice (shared weights)', () => {
  it('names the one layer, not a second application as another layer', async () => {
    const [result] = await analyzePaths([join(__dirname, '../../fixtures/rules/GL203/bad_torch_shared_trunk_normal.py')]);
    const finding = defined(result?.findings.find((f) => f.code === 'GL203'));
    expect(finding.message).toMatch(/^Weight std 3 of 'trunk.2' is /);
    expect(finding.message).not.toMatch(/more layer/);
  });
});

describeRuleFixtures('GL203');

describe('initialization rules on random models (fast-check)', () => {
  const inits: InitializerIR['name'][] = ['zeros', 'ones', 'constant', 'random_normal', 'random_uniform', 'truncated_normal', 'glorot_uniform', 'he_normal', 'lecun_normal', 'variance_scaling', 'orthogonal', 'identity', 'xavier_uniform', 'kaiming_normal', 'unknown'];
  const acts = ['relu', 'tanh', 'sigmoid', 'selu', 'leaky_relu', 'gelu', 'softmax', 'linear', 'unknown'] as const;
  const layerArb = fc.record({
    kind: fc.constantFrom<LayerKind>('dense', 'conv2d', 'batchnorm', 'dropout', 'activation', 'flatten', 'add', 'unknown'),
    activation: fc.option(fc.constantFrom(...acts), { nil: undefined }),
    init: fc.option(fc.constantFrom(...inits), { nil: undefined }),
    std: fc.double({ min: 1e-4, max: 10, noNaN: true }),
    fanIn: fc.option(fc.integer({ min: 1, max: 4096 }), { nil: null }),
    fanOut: fc.option(fc.integer({ min: 1, max: 4096 }), { nil: null }),
  });

  it('never throw, report only weight layers, and GL203 messages carry both numbers', async () => {
    const { rule: gl201 } = await import('../../../src/analysis/rules/initialization/constant-weight-init');
    const { rule: gl202 } = await import('../../../src/analysis/rules/initialization/init-activation-mismatch');
    fc.assert(
      fc.property(fc.array(layerArb, { minLength: 1, maxLength: 12 }), fc.constantFrom<'keras' | 'torch'>('keras', 'torch'), fc.boolean(), (specs, framework, isGraph) => {
        const model = buildModel({
          framework,
          isGraph,
          layers: specs.map((s) => ({
            kind: s.kind,
            activation: s.kind === 'activation' ? (s.activation ?? 'relu') : s.activation,
            kernelInit: s.init === undefined ? undefined : { name: s.init, params: { mean: 0, stddev: s.std, std: s.std, minval: -s.std, maxval: s.std, a: 0, b: s.std, value: 0.1, scale: s.std, gain: 1 }, options: { mode: 'fan_in', nonlinearity: 'relu', distribution: 'uniform' }, spelling: s.init, range: null, explicit: true, framework },
            fanIn: s.fanIn,
            fanOut: s.fanOut,
          })),
        });
        for (const r of [gl201, gl202, rule]) {
          for (const f of r.check(model, contextFor(r, { thresholds: { 'judge-default-init': true } }))) {
            expect(f.code).toBe(r.meta.code);
            expect(model.layers.some((l) => ['dense', 'conv2d'].includes(l.kind))).toBe(true);
            if (r === rule) expect(f.message).toMatch(/\d.*x (below )?the variance-preserving \d/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
