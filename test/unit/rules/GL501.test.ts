import { describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import type { DataSourceIR } from '../../../src/shared/ir';
import { expectFixture, fixturesOf } from './fixture-harness';
import { rule } from '../../../src/analysis/rules/data/unscaled-input';
import { buildModel, contextFor, dense, lineRange, layerOf, type LayerSpec } from './ir-builder';
import { defined } from '../../defined';

function data(scaled: boolean | null, file = '/project/model.py'): DataSourceIR {
  return { file, loader: 'keras.datasets.mnist.load_data', range: lineRange(10, 39, 71), kind: 'image', scaled, reachesTraining: lineRange(14, 0, 30) };
}

function check(layers: LayerSpec[], source: DataSourceIR) {
  const model = buildModel({ layers });
  model.training.data.push(source);
  return rule.check(model, contextFor(rule));
}

const MLP: LayerSpec[] = [layerOf('flatten'), dense(128, { activation: 'relu' }), dense(10, { activation: 'softmax' })];

describe('GL501 unscaled-input (IR)', () => {
  it('reports raw image data at the loader, pointing at where it reaches training', () => {
    const [finding] = check(MLP, data(false));
    expect(defined(finding).range).toEqual(lineRange(10, 39, 71));
    expect(defined(finding).message).toMatch(/^Images from keras\.datasets\.mnist\.load_data reach training as raw 0\.\.255 pixels/);
    expect(defined(finding).related[0]!.location.range).toEqual(lineRange(14, 0, 30));
    expect(defined(finding).fixes).toEqual([]);
  });

  it('stays silent for scaled or unknown data', () => {
    expect(check(MLP, data(true))).toEqual([]);
    expect(check(MLP, data(null))).toEqual([]);
  });

  it('accepts a Rescaling or BatchNorm layer before the first learning layer, and not after it', () => {
    expect(check([layerOf('rescaling'), ...MLP], data(false))).toEqual([]);
    expect(check([layerOf('batchnorm'), ...MLP], data(false))).toEqual([]);
    expect(check([dense(64, { activation: 'relu' }), layerOf('batchnorm'), dense(10)], data(false))).toHaveLength(1);
  });

  it('does not guess when an unknown layer comes first', () => {
    expect(check([layerOf('unknown'), ...MLP], data(false))).toEqual([]);
  });

  it('reports in the data’s file', () => {
    const [finding] = check(MLP, data(false, '/project/train.py'));
    expect(defined(finding).file).toBe('/project/train.py');
  });
});

describe('GL501 fixtures (real analyzer)', () => {
  const { bad, clean } = fixturesOf('GL501');

  it.each([...bad, ...clean].map((p) => [basename(p), p]))('%s', async (_name, path) => {
    await expectFixture(path);
  });
});
