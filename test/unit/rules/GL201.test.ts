import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/initialization/constant-weight-init';
import type { InitializerIR } from '../../../src/shared/ir';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';
import { join } from 'node:path';
import { analyzePaths } from './fixture-harness';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}) => rule.check(model, contextFor(rule, {}, sources));

const written = (text: string, snippet: string, init: Omit<InitializerIR, 'range' | 'spelling' | 'explicit'>, nth = 0): InitializerIR => ({
  ...init, spelling: snippet, range: findRange(text, snippet, nth), explicit: true,
});

describe('GL201 constant-weight-init (IR)', () => {
  it('reports zeros, ones and constant kernels on hidden layers', () => {
    const model = buildModel({
      layers: [
        dense(64, { activation: 'relu', kernelInit: 'zeros', fanIn: 10, fanOut: 64 }),
        dense(64, { activation: 'tanh', kernelInit: 'ones', fanIn: 64, fanOut: 64 }),
        dense(64, { activation: 'tanh', kernelInit: { name: 'constant', params: { value: 0.01 }, options: {}, spelling: 'Constant(0.01)', range: null, explicit: true, framework: 'keras' } }),
        dense(1, { activation: 'sigmoid' }),
      ],
    });
    const findings = check(model);
    expect(findings.map((f) => f.range.start.line)).toEqual([0, 1, 2]);
    expect(findings[0]!.message).toMatch(/every weight = 0.*relu.*never learns/);
    expect(findings[1]!.message).toContain('every weight = 1');
    expect(findings[2]!.message).toContain('every weight = 0.01');
    expect(defined(findings[0]!.whatIf).ops).toEqual([{ op: 'set-kernel-init', layerId: 'L0', init: { name: 'he_normal', params: {}, options: {} } }]);
    expect(defined(findings[1]!.whatIf).ops[0]).toMatchObject({ init: { name: 'glorot_uniform' } });
  });

  it('is silent for the output layer, biases and normalization layers', () => {
    const model = buildModel({
      layers: [dense(64, { activation: 'relu', fanIn: 10, fanOut: 64 }), layerOf('batchnorm', { kernelInit: 'ones' }), dense(10, { activation: 'softmax', kernelInit: 'zeros' })],
    });
    expect(check(model)).toEqual([]);
  });

  it('is silent for the zero-initialized last layer of a residual branch', () => {
    const model = buildModel({
      isGraph: true,
      layers: [
        dense(64, { activation: 'relu' }),
        dense(64, { activation: 'relu', inputs: [0] }),
        dense(64, { kernelInit: 'zeros', inputs: [1] }),
        layerOf('add', { inputs: [0, 2] }),
        dense(10, { inputs: [3] }),
      ],
    });
    expect(check(model)).toEqual([]);
  });

  it('reports a shared nn.init.zeros_ once, on the line it is written, with the layers related', () => {
    const text = [
      'import torch.nn as nn',
      'def init_weights(m):',
      '    if isinstance(m, nn.Linear):',
      '        nn.init.zeros_(m.weight)',
      '',
    ].join('\n');
    const init = written(text, 'nn.init.zeros_(m.weight)', { name: 'zeros', params: {}, options: {}, framework: 'torch' });
    const model = buildModel({
      framework: 'torch',
      layers: [dense(128, { kernelInit: init, line: 10, fanIn: 784, fanOut: 128 }), act('relu', { line: 11 }), dense(128, { kernelInit: init, line: 12 }), act('relu', { line: 13 }), dense(10, { kernelInit: init, line: 14 })],
    });
    const findings = check(model, { [FILE]: text });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(3);
    expect(findings[0]!.message).toContain('and 1 more layer');
    expect(findings[0]!.related.map((r) => r.location.range.start.line)).toEqual([10, 12]);
    const fix = findings[0]!.fixes[0]!;
    expect(fix.safety).toBe('unsafe');
    expect(applyEdits(text, fix.edits)).toContain("nn.init.kaiming_normal_(m.weight, nonlinearity='relu')");
  });

  it('rewrites a Keras string in its own quote style', () => {
    const text = 'model = Sequential([Dense(64, activation="tanh", kernel_initializer="zeros"), Dense(1)])\n';
    const init = written(text, '"zeros"', { name: 'zeros', params: {}, options: {}, framework: 'keras' });
    const model = buildModel({ layers: [dense(64, { activation: 'tanh', kernelInit: init }), dense(1)] });
    const [finding] = check(model, { [FILE]: text });
    expect(applyEdits(text, defined(finding).fixes[0]!.edits)).toContain('kernel_initializer="glorot_uniform"');
  });
});

describe('GL201 on a layer applied twice (shared weights)', () => {
  it('names the one layer, not a second application as another layer', async () => {
    const [result] = await analyzePaths([join(__dirname, '../../fixtures/rules/GL201/bad_torch_shared_trunk_zero.py')]);
    const finding = defined(result?.findings.find((f) => f.code === 'GL201'));
    expect(finding.message).toMatch(/^Hidden layer 'trunk.0' starts with every weight = 0/);
    expect(finding.message).not.toMatch(/more layer/);
    expect(defined(finding.whatIf).ops).toHaveLength(1);
  });
});

describeRuleFixtures('GL201');
