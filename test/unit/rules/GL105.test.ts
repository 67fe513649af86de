import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/activation-applied-twice';
import { act, buildModel, contextFor, dense } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>) => rule.check(model, contextFor(rule, {}, {}));
const logits = (name: string, onOutput: boolean | null = true) => ({ name, fromLogits: true, at: { file: 'train.py', range: { start: { line: 40, character: 11 }, end: { line: 40, character: 30 } } }, onOutput, output: null, appliedFirst: null });

describe('GL105 activation-applied-twice (IR)', () => {
  it('reports a softmax output under a loss that applies its own, with the class count and where the loss is', () => {
    const model = buildModel({ framework: 'torch', layers: [dense(256), act('relu'), dense(10), act('softmax')] });
    model.training.losses = [logits('sparse_categorical_crossentropy')];
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).range.start.line).toBe(3);
    expect(defined(finding).message).toContain('at 10 classes it cannot fall below 1.46 nats');
    expect(defined(finding).message).toContain('(CrossEntropyLoss, train.py:41)');
    expect(defined(finding).related.map((r) => [r.location.file, r.location.range.start.line])).toEqual([['train.py', 40]]);
    expect(defined(defined(finding).whatIf).ops).toEqual([{ op: 'set-activation', layerId: 'L3', activation: 'linear' }]);
  });

  it('reports a sigmoid under a loss with logits, not one under a loss that reads probabilities', () => {
    const model = buildModel({ framework: 'torch', layers: [dense(64), act('relu'), dense(1, { activation: 'sigmoid' })] });
    model.training.losses = [logits('binary_crossentropy')];
    expect(check(model).map((f) => f.range.start.line)).toEqual([2]);
    model.training.losses = [{ name: 'binary_crossentropy', fromLogits: false, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(check(model)).toEqual([]);
  });

  it("is silent for a loss that reads another model's output (a generator trained through its discriminator), or whose input is not known", () => {
    const generator = buildModel({ framework: 'torch', layers: [dense(256), act('relu'), dense(784), act('sigmoid')] });
    generator.training.losses = [logits('binary_crossentropy', false)];
    expect(check(generator)).toEqual([]);
    generator.training.losses = [logits('binary_crossentropy', null)];
    expect(check(generator)).toEqual([]);
  });

  it('is silent for logits, for log-softmax, without a written loss, and for a loss that reads probabilities', () => {
    const plain = buildModel({ framework: 'torch', layers: [dense(64), act('relu'), dense(10)] });
    plain.training.losses = [logits('sparse_categorical_crossentropy')];
    expect(check(plain)).toEqual([]);
    const logSoftmax = buildModel({ framework: 'torch', layers: [dense(64), act('relu'), dense(10), act('log_softmax')] });
    logSoftmax.training.losses = [logits('sparse_categorical_crossentropy')];
    expect(check(logSoftmax)).toEqual([]);
    const unwritten = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(10, { activation: 'softmax' })] });
    expect(check(unwritten)).toEqual([]);
    unwritten.training.losses = [{ name: 'categorical_crossentropy', fromLogits: false, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(check(unwritten)).toEqual([]);
  });
});

describeRuleFixtures('GL105');
