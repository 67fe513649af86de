import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/binary-loss-on-softmax';
import type { LossIR } from '../../../src/shared/ir';
import { act, buildModel, contextFor, dense } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>) => rule.check(model, contextFor(rule, {}, {}));
const bce = (fields: Partial<LossIR> = {}): LossIR => ({ name: 'binary_crossentropy', fromLogits: false, at: { file: 'train.py', range: { start: { line: 20, character: 4 }, end: { line: 20, character: 30 } } }, onOutput: true, output: null, appliedFirst: null, ...fields });

describe('GL107 binary-loss-on-softmax (IR)', () => {
  it('reports a softmax over C >= 3 classes under binary cross-entropy, with 1/(C-1)^2 and, in Keras, the binary accuracy', () => {
    const model = buildModel({ layers: [dense(128, { activation: 'relu' }), dense(10, { activation: 'softmax' })] });
    model.training.losses = [bce()];
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).message).toMatch(/softmax over 10 classes and binary_crossentropy \(train\.py:21\) scores each class as an independent 0\/1 label: .* 1\/9\^2 of cross-entropy's, and metrics=\["accuracy"\] becomes binary accuracy over the 10 units \(0\.90/);
    const torchModel = buildModel({ framework: 'torch', layers: [dense(256), act('relu'), dense(5), act('softmax')] });
    torchModel.training.losses = [bce()];
    expect(check(torchModel).map((f) => f.message)).toEqual([expect.stringMatching(/softmax over 5 classes and BCELoss .* 1\/4\^2 of cross-entropy's\. Use CrossEntropyLoss on the logits/)]);
  });

  it('is silent at two classes (cross-entropy exactly), on a sigmoid, on logits, and for a loss that reads another output', () => {
    const two = buildModel({ layers: [dense(32, { activation: 'relu' }), dense(2, { activation: 'softmax' })] });
    two.training.losses = [bce()];
    expect(check(two)).toEqual([]);
    const sigmoid = buildModel({ layers: [dense(32, { activation: 'relu' }), dense(12, { activation: 'sigmoid' })] });
    sigmoid.training.losses = [bce()];
    expect(check(sigmoid)).toEqual([]);
    const softmax = buildModel({ layers: [dense(32, { activation: 'relu' }), dense(10, { activation: 'softmax' })] });
    softmax.training.losses = [bce({ onOutput: false })];
    expect(check(softmax)).toEqual([]);
    softmax.training.losses = [{ ...bce(), name: 'categorical_crossentropy' }];
    expect(check(softmax)).toEqual([]);
  });

  it('counts no classes when the output layer\'s width is unknown, rather than the hidden layer\'s before it', () => {
    const unknownWidth = buildModel({ layers: [dense(420, { activation: 'relu' }), { kind: 'dense', units: null }, act('softmax')] });
    unknownWidth.training.losses = [bce()];
    expect(check(unknownWidth)).toEqual([]);
    // Twin: the same model with its width written is reported at that width.
    const written = buildModel({ layers: [dense(420, { activation: 'relu' }), dense(7), act('softmax')] });
    written.training.losses = [bce()];
    expect(check(written).map((f) => f.message)).toEqual([expect.stringMatching(/softmax over 7 classes/)]);
  });
});

describeRuleFixtures('GL107');
