import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/softmax-in-hidden-layer';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}) => rule.check(model, contextFor(rule, {}, sources));

describe('GL102 softmax-in-hidden-layer (IR)', () => {
  it('reports a fused softmax that feeds another dense layer', () => {
    const model = buildModel({ layers: [dense(128, { activation: 'softmax' }), dense(10, { activation: 'softmax' })] });
    const findings = check(model);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(0);
    expect(findings[0]!.related[0]!.location.range.start.line).toBe(1);
    expect(defined(findings[0]!.whatIf).ops).toEqual([{ op: 'set-activation', layerId: 'L0', activation: 'relu' }]);
  });

  it('reports a softmax layer before a recurrent layer, through dropout and reshape', () => {
    const model = buildModel({ layers: [dense(64), act('softmax'), layerOf('dropout'), layerOf('reshape'), layerOf('lstm', { units: 32 }), dense(1)] });
    expect(check(model).map((f) => f.range.start.line)).toEqual([1]);
  });

  it('accepts softmax (and log_softmax) on the output, also behind a reshape', () => {
    expect(check(buildModel({ layers: [dense(64, { activation: 'relu' }), dense(10, { activation: 'softmax' })] }))).toEqual([]);
    expect(check(buildModel({ framework: 'torch', layers: [dense(64), act('relu'), dense(10), act('log_softmax'), layerOf('reshape')] }))).toEqual([]);
  });

  it('accepts attention weights that are multiplied with values', () => {
    const model = buildModel({
      isGraph: true,
      style: 'keras-functional',
      layers: [layerOf('input'), dense(64, { activation: 'tanh' }), dense(1, { inputs: [1] }), act('softmax', { inputs: [2] }), layerOf('multiply', { inputs: [0, 3] }), dense(10, { activation: 'softmax', inputs: [4] })],
    });
    expect(check(model)).toEqual([]);
  });

  it('does not guess when the consumer is unknown or the softmax output fans out', () => {
    expect(check(buildModel({ layers: [dense(8, { activation: 'softmax' }), layerOf('unknown'), dense(2)] }))).toEqual([]);
    const fanOut = buildModel({
      isGraph: true,
      layers: [layerOf('input'), dense(8, { activation: 'softmax' }), dense(4, { inputs: [1] }), dense(4, { inputs: [1] }), layerOf('concat', { inputs: [2, 3] })],
    });
    expect(check(fanOut)).toEqual([]);
  });

  it('replaces nn.Softmax(dim=1) with nn.ReLU() and the Keras string with relu', () => {
    const torchSource = 'nn.Sequential(nn.Linear(20, 64), nn.Softmax(dim=1), nn.Linear(64, 2))';
    const torchModel = buildModel({
      framework: 'torch',
      layers: [
        { kind: 'dense', range: findRange(torchSource, 'nn.Linear(20, 64)') },
        { kind: 'activation', range: findRange(torchSource, 'nn.Softmax(dim=1)'), activation: { name: 'softmax', spelling: 'nn.Softmax(dim=1)', range: findRange(torchSource, 'nn.Softmax(dim=1)'), source: 'layer', params: {} } },
        { kind: 'dense', range: findRange(torchSource, 'nn.Linear(64, 2)') },
      ],
    });
    const [torchFinding] = check(torchModel, { [FILE]: torchSource });
    expect(applyEdits(torchSource, defined(torchFinding).fixes[0]!.edits)).toBe('nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))');

    const kerasSource = 'x = layers.Dense(32, activation="softmax")(x)\ny = layers.Dense(1)(x)';
    const kerasModel = buildModel({
      layers: [
        { kind: 'dense', range: findRange(kerasSource, 'layers.Dense(32, activation="softmax")'), activation: { name: 'softmax', spelling: '"softmax"', range: findRange(kerasSource, '"softmax"'), source: 'kwarg', params: {} } },
        { kind: 'dense', range: findRange(kerasSource, 'layers.Dense(1)') },
      ],
    });
    const [kerasFinding] = check(kerasModel, { [FILE]: kerasSource });
    expect(applyEdits(kerasSource, defined(kerasFinding).fixes[0]!.edits)).toBe('x = layers.Dense(32, activation="relu")(x)\ny = layers.Dense(1)(x)');
  });

  it('offers no text fix for F.softmax(x, dim=-1), whose arguments relu would not take', () => {
    const source = 'x = self.fc2(F.softmax(self.fc1(x), dim=-1))';
    const model = buildModel({
      framework: 'torch',
      style: 'torch-module',
      layers: [
        { kind: 'dense', range: findRange(source, 'self.fc1(x)') },
        { kind: 'activation', range: findRange(source, 'F.softmax'), activation: { name: 'softmax', spelling: 'F.softmax', range: findRange(source, 'F.softmax'), source: 'functional', params: {} } },
        { kind: 'dense', range: findRange(source, 'self.fc2') },
      ],
    });
    const [finding] = check(model, { [FILE]: source });
    expect(defined(finding).fixes).toEqual([]);
    expect(defined(finding).whatIf).not.toBeNull();
  });
});

describeRuleFixtures('GL102');
