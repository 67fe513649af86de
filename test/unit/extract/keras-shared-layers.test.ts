/**
 * A Keras layer object called more than once holds one set of weights: every later call names the
 * first in `sharesWeightsWith` (functional calls, a sub-model applied again, a custom layer instance
 * called twice, a layer reused in a subclass's call()). Layers constructed per call are the twins.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { extractFrom, kerasFixture, modelNamed, sharing } from './extract-helper';

const models = async (): Promise<ModelIR[]> => extractFrom(kerasFixture('shared_layers.py'), 'shared_layers.py');

describe('shared weights (keras)', () => {
  it('marks the second call of one Dense on another input as the first', async () => {
    expect(sharing(modelNamed(await models(), 'siamese'))).toEqual(['shared@L3 -> L2']);
  });

  it('marks each layer of a sub-model applied to two inputs, named as its first call', async () => {
    expect(sharing(modelNamed(await models(), 'matcher'))).toEqual(['dense@L4 -> L2', 'dense_1@L5 -> L3']);
  });

  it('marks every call of one Dense applied in a loop', async () => {
    expect(sharing(modelNamed(await models(), 'recurrent'))).toEqual(['step@L2 -> L1', 'step@L3 -> L1']);
  });

  it('marks a layer a subclassed model calls twice in call()', async () => {
    expect(sharing(modelNamed(await models(), 'Tied'))).toEqual(['hidden@L1 -> L0']);
  });

  it('marks the layers of one custom layer instance called on two inputs', async () => {
    expect(sharing(modelNamed(await models(), 'tied_projection'))).toEqual(['dense@L4 -> L2', 'norm@L5 -> L3']);
  });

  it.each(['towers', 'stacked', 'Untied', 'two_projections'])('shares nothing in %s (a layer constructed per call)', async (name) => {
    const m = modelNamed(await models(), name);
    expect(m.layers.filter((l) => l.kind === 'dense').length).toBeGreaterThan(2);
    expect(sharing(m)).toEqual([]);
  });
});
