import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/normalization/dropout-before-batchnorm';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}) => rule.check(model, contextFor(rule, {}, sources));

describe('GL303 dropout-before-batchnorm (IR)', () => {
  it('reports dropout feeding BatchNorm, at the dropout, with a move-before what-if', () => {
    const model = buildModel({ layers: [dense(512), layerOf('dropout', { detail: { rate: 0.5 } }), layerOf('batchnorm'), act('relu'), dense(10)] });
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).range.start.line).toBe(1);
    expect(defined(finding).severity).toBe('warning');
    expect(defined(defined(finding).whatIf).ops).toEqual([{ op: 'move-before', layerId: 'L2', beforeLayerId: 'L1' }]);
  });

  it('looks through flatten but not through learning layers, and ignores rate 0 and AlphaDropout', () => {
    expect(check(buildModel({ layers: [layerOf('conv2d'), layerOf('dropout'), layerOf('flatten'), layerOf('batchnorm'), dense(1)] }))).toHaveLength(1);
    expect(check(buildModel({ layers: [layerOf('dropout'), dense(64), layerOf('batchnorm')] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(8), layerOf('dropout', { detail: { rate: 0 } }), layerOf('batchnorm')] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(8), layerOf('alpha-dropout'), layerOf('batchnorm')] }))).toEqual([]);
    expect(check(buildModel({ layers: [dense(8), layerOf('batchnorm'), layerOf('dropout'), dense(1)] }))).toEqual([]);
  });

  it('swaps nn.Sequential items so the dropout follows the BatchNorm', () => {
    const source = 'nn.Sequential(nn.Linear(784, 512), nn.Dropout(0.5), nn.BatchNorm1d(512), nn.ReLU())';
    const model = buildModel({
      framework: 'torch',
      layers: [
        { kind: 'dense', range: findRange(source, 'nn.Linear(784, 512)') },
        { kind: 'dropout', range: findRange(source, 'nn.Dropout(0.5)') },
        { kind: 'batchnorm', range: findRange(source, 'nn.BatchNorm1d(512)') },
        { kind: 'activation', activation: 'relu', range: findRange(source, 'nn.ReLU()') },
      ],
    });
    const [finding] = check(model, { [FILE]: source });
    expect(applyEdits(source, defined(finding).fixes[0]!.edits)).toBe('nn.Sequential(nn.Linear(784, 512), nn.BatchNorm1d(512), nn.Dropout(0.5), nn.ReLU())');
  });
});

describeRuleFixtures('GL303');
