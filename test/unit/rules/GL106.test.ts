import { describe, expect, it } from 'vitest';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/loss-expects-probabilities';
import type { LossIR } from '../../../src/shared/ir';
import { act, buildModel, contextFor, dense } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>) => rule.check(model, contextFor(rule, {}, {}));
const loss = (name: string, fields: Partial<LossIR> = {}): LossIR => ({ name, fromLogits: /crossentropy/.test(name) ? false : null, at: { file: 'train.py', range: { start: { line: 30, character: 4 }, end: { line: 30, character: 40 } } }, onOutput: true, output: null, appliedFirst: null, ...fields });

describe('GL106 loss-expects-probabilities (IR)', () => {
  it("reports a Keras probability loss on an output of either sign, with where the loss is and the what-if of the activation it expects", () => {
    const model = buildModel({ layers: [dense(128, { activation: 'relu' }), dense(10)] });
    model.training.losses = [loss('sparse_categorical_crossentropy')];
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).message).toMatch(/sparse_categorical_crossentropy \(train\.py:31\) reads probabilities, .* ends the output in no activation: Keras clips what it reads to \[1e-7, 1 - 1e-7\]/);
    expect(defined(defined(finding).whatIf).ops).toEqual([{ op: 'set-activation', layerId: 'L1', activation: 'softmax' }]);
    model.training.losses = [loss('binary_crossentropy')];
    expect(defined(check(model)[0]).whatIf?.ops).toEqual([{ op: 'set-activation', layerId: 'L1', activation: 'sigmoid' }]);
  });

  it('is silent with from_logits=True, on a softmax or sigmoid, on values that are never negative, and where the loss reads another value', () => {
    const model = buildModel({ layers: [dense(128, { activation: 'relu' }), dense(10)] });
    model.training.losses = [loss('categorical_crossentropy', { fromLogits: true })];
    expect(check(model)).toEqual([]);
    model.training.losses = [loss('categorical_crossentropy', { onOutput: null })];
    expect(check(model)).toEqual([]);
    for (const activation of ['softmax', 'relu', 'softplus'] as const) {
      const ended = buildModel({ layers: [dense(128, { activation: 'relu' }), dense(10, { activation })] });
      ended.training.losses = [loss('categorical_crossentropy')];
      expect(check(ended), activation).toEqual([]);
    }
    const mse = buildModel({ layers: [dense(128, { activation: 'relu' }), dense(1)] });
    mse.training.losses = [loss('mse')];
    expect(check(mse)).toEqual([]);
  });

  it("is silent where the analyzer cannot see the output's last activation (a layer it does not know)", () => {
    const model = buildModel({ layers: [dense(128, { activation: 'relu' }), dense(10), { kind: 'unknown' }] });
    model.training.losses = [loss('sparse_categorical_crossentropy')];
    expect(check(model)).toEqual([]);
  });

  it("reports torch's NLLLoss on a softmax with the class count, on logits, and where the loss call applies the softmax, not on a log-softmax", () => {
    const softmax = buildModel({ framework: 'torch', layers: [dense(256), act('relu'), dense(10), act('softmax')] });
    softmax.training.losses = [loss('nll')];
    expect(check(softmax).map((f) => f.message)).toEqual([expect.stringMatching(/minus the right class's probability: its gradient on the logits is about 1\/10\^2 of cross-entropy's/)]);
    const logits = buildModel({ framework: 'torch', layers: [dense(256), act('relu'), dense(10)] });
    logits.training.losses = [loss('nll')];
    expect(check(logits).map((f) => f.message)).toEqual([expect.stringMatching(/which nothing bounds: it falls without end/)]);
    const call = { name: 'softmax' as const, at: { file: 'train.py', range: { start: { line: 40, character: 20 }, end: { line: 40, character: 45 } } } };
    logits.training.losses = [loss('nll', { appliedFirst: call })];
    const [atCall] = check(logits);
    expect([defined(atCall).file, defined(atCall).range.start.line, defined(atCall).whatIf]).toEqual(['train.py', 40, null]);
    expect(defined(atCall).message).toMatch(/the loss call applies a softmax to the output of/);
    const logSoftmax = buildModel({ framework: 'torch', layers: [dense(256), act('relu'), dense(10), act('log_softmax')] });
    logSoftmax.training.losses = [loss('nll')];
    expect(check(logSoftmax)).toEqual([]);
    logits.training.losses = [loss('nll', { appliedFirst: { ...call, name: 'log_softmax' } })];
    expect(check(logits)).toEqual([]);
  });
});

describe('GL106 on torch BCELoss (IR)', () => {
  it('reports BCELoss on an output that can be negative (torch stops with an error), not on a sigmoid or a ReLU', () => {
    const model = buildModel({ framework: 'torch', layers: [dense(32), act('relu'), dense(1)] });
    model.training.losses = [loss('binary_crossentropy')];
    const [finding, ...rest] = check(model);
    expect(rest).toEqual([]);
    expect(defined(finding).message).toMatch(/^BCELoss \(train\.py:31\) reads probabilities, .* torch stops at the first batch/);
    expect(defined(finding).whatIf?.ops).toEqual([{ op: 'set-activation', layerId: 'L2', activation: 'sigmoid' }]);
    for (const activation of ['sigmoid', 'relu'] as const) {
      const ended = buildModel({ framework: 'torch', layers: [dense(32), act('relu'), dense(1), act(activation)] });
      ended.training.losses = [loss('binary_crossentropy')];
      expect(check(ended), activation).toEqual([]);
    }
    model.training.losses = [loss('binary_crossentropy', { fromLogits: true })];
    expect(check(model)).toEqual([]);
  });
});

describeRuleFixtures('GL106');
