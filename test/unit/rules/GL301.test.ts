import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Project } from '../../../src/analysis/project';
import { describeRuleFixtures } from './fixture-fixes';
import { fixturesOf } from './fixture-harness';
import { rule } from '../../../src/analysis/rules/normalization/batchnorm-after-activation';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}) => rule.check(model, contextFor(rule, {}, sources));

describe('GL301 batchnorm-after-activation (IR)', () => {
  it('notes BatchNorm right after a fused activation, as information, with a what-if to the clean form (reordered, no bias)', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu' }), layerOf('batchnorm'), dense(10, { activation: 'softmax' })] });
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).severity).toBe('information');
    expect(defined(finding).range.start.line).toBe(1);
    expect(defined(defined(finding).whatIf).ops).toEqual([
      { op: 'set-activation', layerId: 'L0', activation: 'linear' },
      { op: 'insert-after', afterLayerId: 'L1', kind: 'activation', activation: 'relu' },
      { op: 'set-use-bias', layerId: 'L0', value: false },
    ]);
    const withoutBias = buildModel({ layers: [dense(256, { activation: 'relu', useBias: false }), layerOf('batchnorm'), dense(10, { activation: 'softmax' })] });
    expect(defined(check(withoutBias)[0]!.whatIf).ops.map((o) => o.op)).toEqual(['set-activation', 'insert-after']);
  });

  it('notes BatchNorm after a separate activation layer and proposes moving it before', () => {
    const model = buildModel({ framework: 'torch', layers: [layerOf('conv2d', { units: 32 }), act('relu'), layerOf('batchnorm'), layerOf('conv2d')] });
    const [finding] = check(model);
    expect(defined(finding).range.start.line).toBe(2);
    expect(defined(defined(finding).whatIf).ops).toEqual([
      { op: 'move-before', layerId: 'L2', beforeLayerId: 'L1' },
      { op: 'set-use-bias', layerId: 'L0', value: false },
    ]);
  });

  it('is silent for the original order, linear layers, unknown activations, layer norm and SELU (GL104)', () => {
    expect(check(buildModel({ layers: [dense(64, { useBias: false }), layerOf('batchnorm'), act('relu'), dense(1)] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(64, { activation: 'unknown' }), layerOf('batchnorm'), dense(1)] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(64, { activation: 'gelu' }), layerOf('layernorm'), dense(1)] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(64, { activation: 'selu' }), layerOf('batchnorm'), dense(1)] }))).toEqual([]);
  });

  it('looks through a Dropout between the activation and the BatchNorm, without a text fix (swapping two calls would not fix the order)', () => {
    const [finding] = check(buildModel({ layers: [dense(64, { activation: 'relu' }), layerOf('dropout'), layerOf('batchnorm'), dense(1)] }));
    expect(defined(finding).range.start.line).toBe(2);
    expect(defined(finding).fixes).toEqual([]);
  });

  it('respects a severity override', () => {
    const model = buildModel({ layers: [dense(8, { activation: 'tanh' }), layerOf('batchnorm'), dense(1)] });
    expect(rule.check(model, contextFor(rule, { severity: { GL301: 'warning' } }))[0]!.severity).toBe('warning');
  });

  it('swaps the two calls in call-ordered code and drops the conv bias, but not in a subclassed model', () => {
    const source = 'model = keras.Sequential([\n    layers.Conv2D(32, 3),\n    layers.ReLU(),\n    layers.BatchNormalization(),\n    layers.Flatten(),\n])';
    const layers = [
      { kind: 'conv2d' as const, units: 32, range: findRange(source, 'layers.Conv2D(32, 3)') },
      { kind: 'activation' as const, range: findRange(source, 'layers.ReLU()'), activation: 'relu' as const },
      { kind: 'batchnorm' as const, range: findRange(source, 'layers.BatchNormalization()') },
      { kind: 'flatten' as const, range: findRange(source, 'layers.Flatten()') },
    ];
    const [finding] = check(buildModel({ layers }), { [FILE]: source });
    expect(applyEdits(source, defined(finding).fixes[0]!.edits)).toBe(
      'model = keras.Sequential([\n    layers.Conv2D(32, 3, use_bias=False),\n    layers.BatchNormalization(),\n    layers.ReLU(),\n    layers.Flatten(),\n])',
    );
    const [subclassed] = check(buildModel({ layers, style: 'keras-subclass' }), { [FILE]: source });
    expect(defined(subclassed).fixes).toEqual([]);
  });
});

describe('GL301 fused-activation fix (Keras)', () => {
  const fusedModel = (source: string, style: 'keras-sequential' | 'keras-add' | 'keras-functional', dense: string, norm: string) =>
    buildModel({
      style,
      layers: [
        { kind: 'dense', units: 300, range: findRange(source, dense), activation: { name: 'relu', spelling: '"relu"', range: findRange(source, '"relu"'), source: 'kwarg', params: {} } },
        { kind: 'batchnorm', className: 'layers.BatchNormalization', range: findRange(source, norm) },
        { kind: 'dense', units: 10, range: findRange(source, 'layers.Dense(10)') },
      ],
    });

  it('moves activation= to an Activation layer after the BatchNorm and drops the bias, in each call-ordered style', () => {
    const cases: [string, 'keras-sequential' | 'keras-add' | 'keras-functional', string, string, string][] = [
      [
        'm = keras.Sequential([\n    layers.Dense(300, activation="relu", input_shape=(8,)),\n    layers.BatchNormalization(),  # norm\n    layers.Dense(10),\n])\n',
        'keras-sequential',
        'layers.Dense(300, activation="relu", input_shape=(8,))',
        'm = keras.Sequential([\n    layers.Dense(300, use_bias=False, input_shape=(8,)),\n    layers.BatchNormalization(),  # norm\n    layers.Activation("relu"),\n    layers.Dense(10),\n])\n',
        'layers.BatchNormalization()',
      ],
      [
        'model.add(layers.Dense(300, activation="relu"))\nmodel.add(layers.BatchNormalization())\nmodel.add(layers.Dense(10))\n',
        'keras-add',
        'layers.Dense(300, activation="relu")',
        'model.add(layers.Dense(300, use_bias=False))\nmodel.add(layers.BatchNormalization())\nmodel.add(layers.Activation("relu"))\nmodel.add(layers.Dense(10))\n',
        'layers.BatchNormalization()',
      ],
      [
        'x = layers.Dense(300, activation="relu")(inputs)\nx = layers.BatchNormalization()(x)\ny = layers.Dense(10)(x)\n',
        'keras-functional',
        'layers.Dense(300, activation="relu")',
        'x = layers.Dense(300, use_bias=False)(inputs)\nx = layers.BatchNormalization()(x)\nx = layers.Activation("relu")(x)\ny = layers.Dense(10)(x)\n',
        'layers.BatchNormalization()',
      ],
    ];
    for (const [source, style, dense, expected, norm] of cases) {
      const [finding] = check(fusedModel(source, style, dense, norm), { [FILE]: source });
      expect(applyEdits(source, defined(finding).fixes[0]!.edits), style).toBe(expected);
    }
  });

  it('keeps an explicit use_bias argument in its place and sets it to False', () => {
    const source = 'model.add(layers.Dense(300, activation="relu", use_bias=True))\nmodel.add(layers.BatchNormalization())\nmodel.add(layers.Dense(10))\n';
    const [finding] = check(fusedModel(source, 'keras-add', 'layers.Dense(300, activation="relu", use_bias=True)', 'layers.BatchNormalization()'), { [FILE]: source });
    expect(applyEdits(source, defined(finding).fixes[0]!.edits)).toBe('model.add(layers.Dense(300, use_bias=False))\nmodel.add(layers.BatchNormalization())\nmodel.add(layers.Activation("relu"))\nmodel.add(layers.Dense(10))\n');
  });

  it('gives no text fix when the BatchNorm output goes to another name', () => {
    const source = 'h = layers.Dense(300, activation="relu")(inputs)\nx = layers.BatchNormalization()(h)\ny = layers.Dense(10)(x)\n';
    const [finding] = check(fusedModel(source, 'keras-functional', 'layers.Dense(300, activation="relu")', 'layers.BatchNormalization()'), { [FILE]: source });
    expect(defined(finding).fixes).toEqual([]);
  });
});

describe('GL301 fixes lead to the clean form', () => {
  it('applying a fix on a bad fixture raises no GL302 (bias before BatchNorm) and keeps the file clean of new findings', async () => {
    let checked = 0;
    for (const path of fixturesOf('GL301').bad) {
      const text = readFileSync(path, 'utf8');
      const project = await Project.create();
      project.setFile(path, text);
      const before = project.analyzeAll()[0]!;
      for (const fix of before.findings.filter((f) => f.code === 'GL301').flatMap((f) => f.fixes)) {
        project.setFile(path, applyEdits(text, fix.edits));
        const after = project.analyzeAll()[0]!;
        const codes = (r: typeof after) => r.findings.map((f) => f.code).filter((c) => c !== 'GL301');
        expect(codes(after), `${path}: ${fix.title}`).toEqual(codes(before));
        expect(codes(after)).not.toContain('GL302');
        checked++;
      }
      project.dispose();
    }
    expect(checked).toBeGreaterThan(2);
  });
});

describeRuleFixtures('GL301');
