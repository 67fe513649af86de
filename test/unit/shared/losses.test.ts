/**
 * The loss each output trains on (shared/losses.ts), which the probe trains and the prediction starts
 * from: the losses the code computes, each put on the output made for it, and the framework's meaning of
 * a loss that applies its own softmax or sigmoid.
 */
import { describe, expect, it } from 'vitest';
import { headGradientSquare, resolveLosses } from '../../../src/shared/losses';
import type { ProbeNotice } from '../../../src/shared/probe';
import type { ActivationName } from '../../../src/shared/ir';
import { keras, torch } from '../../probe/ir-builder';
import { predictPropagation } from '../../../src/shared/knowledge/propagation';
import { extractedModels, modelNamed } from '../extract/extract-helper';
import { defined } from '../../defined';

/** A trunk with a sigmoid head, a softmax head and a linear head, as a GAN discriminator returns them. */
const threeHeads = () =>
  torch('Discriminator')
    .input([64])
    .asGraph()
    .dense(128, 'leaky_relu', { name: 'body' })
    .dense(1, 'sigmoid', { name: 'adv', inputs: ['body'] })
    .dense(10, 'softmax', { name: 'aux', inputs: ['body'] })
    .dense(2, undefined, { name: 'latent', inputs: ['body'] });

const kinds = (model: ReturnType<ReturnType<typeof threeHeads>['build']>, notices: ProbeNotice[] = []) => resolveLosses(model, notices).map((t) => `${model.layers[t.index]!.name}: ${t.kind}`);

describe('the loss on each output', () => {
  it("puts each of a training's losses on the head made for it; CrossEntropyLoss on a softmax computes the softmax twice", () => {
    const notices: ProbeNotice[] = [];
    const model = threeHeads().withLoss('binary_crossentropy', false).withLoss('sparse_categorical_crossentropy', true).withLoss('mse', null).build();
    expect(kinds(model, notices)).toEqual(['adv: binary-crossentropy', 'aux: categorical-crossentropy-logits', 'latent: mse']);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/aux ends in a softmax and its loss applies a softmax of its own/);
  });

  it('gives the heads no activation names the one loss the others leave (InfoGAN: mse beside a softmax head)', () => {
    const model = threeHeads().withLoss('mse', null).withLoss('sparse_categorical_crossentropy', true).build();
    expect(kinds(model)).toEqual(['adv: mse', 'aux: categorical-crossentropy-logits', 'latent: mse']);
  });

  it('reads probabilities where the loss says so, and one loss applies to every output (clean twin)', () => {
    const notices: ProbeNotice[] = [];
    const model = threeHeads().withLoss('sparse_categorical_crossentropy', false).build();
    expect(kinds(model, notices)).toEqual(['adv: categorical-crossentropy-logits', 'aux: categorical-crossentropy', 'latent: categorical-crossentropy-logits']);
    expect(notices.map((n) => n.message).join('\n')).not.toMatch(/twice|of its own/);
  });

  it("puts a loss written for an output's name on that output (Keras' loss={...}), the others by their activation", () => {
    // Two losses of one family: only the names decide which head gets which.
    const model = threeHeads().withLoss('mse', null, 'adv').withLoss('mae', null, 'latent').withLoss('sparse_categorical_crossentropy', false).build();
    expect(kinds(model)).toEqual(['adv: mse', 'aux: categorical-crossentropy', 'latent: mae']);
    const unnamed = threeHeads().withLoss('mse', null).withLoss('mae', null).withLoss('sparse_categorical_crossentropy', false).build();
    expect(kinds(unnamed)).toEqual(['adv: binary-crossentropy', 'aux: categorical-crossentropy', 'latent: mse']);
  });

  it('computes NLLLoss as torch does, minus the class\'s value: a note where the output is not log-probabilities', () => {
    const notices: ProbeNotice[] = [];
    const model = threeHeads().withLoss('nll', null).build();
    expect(kinds(model, notices)).toEqual(['adv: nll', 'aux: nll', 'latent: nll']);
    expect(notices.map((n) => n.message)).toEqual(expect.arrayContaining([expect.stringMatching(/aux ends in a softmax and NLLLoss expects log-probabilities: the loss is minus the class's probability/), expect.stringMatching(/latent ends in no activation and NLLLoss expects log-probabilities: the loss is minus the class's value/)]));
    const logSoftmax = torch('Tagger').input([16]).dense(8, 'log_softmax').withLoss('nll', null).build();
    const quiet: ProbeNotice[] = [];
    expect(resolveLosses(logSoftmax, quiet).map((t) => t.kind)).toEqual(['nll']);
    expect(quiet.map((n) => n.message).join('\n')).not.toMatch(/NLLLoss/);
    // `nll(F.log_softmax(out), y)`: the loss reads log-probabilities of the output, not the output (cross-entropy).
    const wrapped = threeHeads().build();
    wrapped.training.losses = [{ name: 'nll', fromLogits: null, at: null, onOutput: false, output: null, appliedFirst: null }];
    expect(kinds(wrapped)).toEqual(['adv: categorical-crossentropy-logits', 'aux: categorical-crossentropy', 'latent: categorical-crossentropy-logits']);
  });

  it('reads the output through the activation the loss call applies first (criterion(F.softmax(out), y)), for the probe to apply it too', () => {
    const notices: ProbeNotice[] = [];
    const model = torch('Net').input([16]).dense(32, 'relu').dense(10).build();
    model.training.losses = [{ name: 'sparse_categorical_crossentropy', fromLogits: true, at: null, onOutput: true, output: null, appliedFirst: { name: 'softmax', at: { file: 'train.py', range: { start: { line: 9, character: 20 }, end: { line: 9, character: 40 } } } } }];
    expect(resolveLosses(model, notices).map(({ kind, activation, applied }) => ({ kind, activation, applied }))).toEqual([{ kind: 'categorical-crossentropy-logits', activation: 'softmax', applied: 'softmax' }]);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/The loss call applies a softmax to .* and its loss applies a softmax of its own/);
  });

  it("computes Keras' probability losses as Keras does on an output that is not a softmax's or a sigmoid's, with a note", () => {
    const head = (activation?: ActivationName) => keras('Classifier').input([16]).dense(32, 'relu').dense(10, activation);
    const notices: ProbeNotice[] = [];
    expect(resolveLosses(head().withLoss('sparse_categorical_crossentropy').build(), notices).map((t) => t.kind)).toEqual(['sparse-crossentropy-clipped']);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/ends in no activation and sparse_categorical_crossentropy expects probabilities: Keras clips the values to \[1e-7, 1 - 1e-7\]/);
    expect(resolveLosses(head('tanh').withLoss('categorical_crossentropy').build(), []).map((t) => t.kind)).toEqual(['categorical-crossentropy-clipped']);
    expect(resolveLosses(head().withLoss('binary_crossentropy').build(), []).map((t) => t.kind)).toEqual(['binary-crossentropy']);
    // Clean twins: the activation the loss expects, or from_logits=True.
    const quiet: ProbeNotice[] = [];
    expect(resolveLosses(head('softmax').withLoss('sparse_categorical_crossentropy').build(), quiet).map((t) => t.kind)).toEqual(['categorical-crossentropy']);
    expect(resolveLosses(head().withLoss('sparse_categorical_crossentropy', true).build(), quiet).map((t) => t.kind)).toEqual(['categorical-crossentropy-logits']);
    expect(resolveLosses(head('sigmoid').withLoss('binary_crossentropy').build(), quiet).map((t) => t.kind)).toEqual(['binary-crossentropy']);
    expect(quiet.map((n) => n.message).join('\n')).not.toMatch(/expects probabilities/);
  });

  it("says torch's BCELoss stops on values outside [0, 1], where the probe computes BCEWithLogitsLoss in its place", () => {
    const notices: ProbeNotice[] = [];
    const model = torch('Detector').input([64]).dense(32, 'relu').dense(1).withLoss('binary_crossentropy').build();
    expect(resolveLosses(model, notices).map((t) => t.kind)).toEqual(['binary-crossentropy-logits']);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/ends in no activation and BCELoss expects probabilities: torch stops with an error on values outside \[0, 1\]/);
    const quiet: ProbeNotice[] = [];
    resolveLosses(torch('Detector').input([64]).dense(32, 'relu').dense(1, 'sigmoid').withLoss('binary_crossentropy').build(), quiet);
    expect(quiet.map((n) => n.message).join('\n')).not.toMatch(/BCELoss/);
  });

  it('reads a softmax as probabilities under a binary cross-entropy (no clipping note, no error note), in Keras and torch', () => {
    const notices: ProbeNotice[] = [];
    const kerasModel = keras('Tagger').input([16]).dense(32, 'relu').dense(10, 'softmax').withLoss('binary_crossentropy').build();
    const torchModel = torch('Tagger').input([16]).dense(32, 'relu').dense(10, 'softmax').withLoss('binary_crossentropy').build();
    expect([...resolveLosses(kerasModel, notices), ...resolveLosses(torchModel, notices)].map((t) => t.kind)).toEqual(['binary-crossentropy', 'binary-crossentropy']);
    expect(notices.map((n) => n.message).join('\n')).not.toMatch(/expects probabilities/);
  });

  it("gives a linear head the one regression loss and a softmax head the loss left (BCELoss beside MSELoss), not the softmax's own", () => {
    const model = torch('Classifier').input([32]).asGraph().dense(64, 'relu', { name: 'trunk' }).dense(50, 'softmax', { name: 'classes', inputs: ['trunk'] }).dense(2, undefined, { name: 'offset', inputs: ['trunk'] }).withLoss('binary_crossentropy', false).withLoss('mse', null).build();
    expect(kinds(model)).toEqual(['classes: binary-crossentropy', 'offset: mse']);
  });

  it("chooses from the activation where the training's losses do not decide", () => {
    const model = threeHeads().withLoss('mae', null).withLoss('huber', null).build();
    expect(kinds(model)).toEqual(['adv: binary-crossentropy', 'aux: categorical-crossentropy', 'latent: mse']);
  });
});

describe('the gradient a head gets from its loss', () => {
  it('is (C-1)/C for a softmax under cross-entropy, 1/C^2 of it when the loss applies another softmax', () => {
    expect(headGradientSquare('categorical-crossentropy', 'softmax', 10, 1, 1)).toBeCloseTo(0.9, 12);
    expect(headGradientSquare('categorical-crossentropy-logits', 'softmax', 10, 1, 1)).toBeCloseTo(0.009, 12);
    expect(headGradientSquare('categorical-crossentropy-logits', null, 10, 1, 1)).toBeCloseTo(0.9, 12);
  });

  it('is that of cross-entropy for NLLLoss on log-probabilities, 1/C^2 of it on a softmax, the whole unit on logits', () => {
    expect(headGradientSquare('nll', 'log_softmax', 10, 1, 1)).toBeCloseTo(0.9, 12);
    expect(headGradientSquare('nll', 'softmax', 10, 1, 1)).toBeCloseTo(0.009, 12);
    expect(headGradientSquare('nll', null, 10, 1, 1)).toBeCloseTo(1, 12);
  });

  it('averages elementwise losses over the units and every loss over the positions', () => {
    expect(headGradientSquare('binary-crossentropy', 'sigmoid', 1, 1, 0.25)).toBeCloseTo(0.25, 12);
    expect(headGradientSquare('binary-crossentropy', 'sigmoid', 4, 1, 0.25)).toBeCloseTo(1 / 16, 12);
    expect(headGradientSquare('mse', null, 4, 5, 1)).toBeCloseTo((4 * 2) / 4 / 5, 12);
    // The sigmoid twice: sigma(sigma(0)) = 0.62 against 0/1 labels, times the slope 1/4.
    expect(defined(headGradientSquare('binary-crossentropy-logits', 'sigmoid', 1, 1, 0.25)) / defined(headGradientSquare('binary-crossentropy', 'sigmoid', 1, 1, 0.25))).toBeCloseTo(0.0662, 3);
  });

  it("is not predicted for Keras' probability losses on values that are not probabilities (set by the values nearest zero)", () => {
    expect(headGradientSquare('sparse-crossentropy-clipped', null, 10, 1, 1)).toBeNull();
    expect(headGradientSquare('categorical-crossentropy-clipped', 'tanh', 10, 1, 1)).toBeNull();
    expect(headGradientSquare('binary-crossentropy', null, 1, 1, 1)).toBeNull();
  });

  it('leaves a second head it does not model unpredicted, saying why: clipped values, or a loss on an activation it has no scale for', async () => {
    const reason = async (activation: string) => {
      const source = `from tensorflow import keras
from tensorflow.keras import layers
inputs = keras.Input(shape=(16,))
trunk = layers.Dense(32, activation="relu")(inputs)
flag = layers.Dense(1, ${activation}name="flag")(trunk)
offset = layers.Dense(2, name="offset")(trunk)
model = keras.Model(inputs, [flag, offset])
model.compile(optimizer="adam", loss={"flag": "binary_crossentropy", "offset": "mse"})
`;
      const prediction = predictPropagation(modelNamed(await extractedModels(source), 'model'));
      return prediction.ok ? 'ok' : prediction.reason;
    };
    expect(await reason('')).toMatch(/reads values that are not probabilities as probabilities/);
    expect(await reason('activation="hard_sigmoid", ')).toMatch(/does not model binary-crossentropy on a hard_sigmoid/);
    expect(await reason('activation="sigmoid", ')).toBe('ok');
  });

  it('is 1/(C (C - 1)) for binary cross-entropy on a softmax of one-hot labels, 1/(C - 1)^2 of cross-entropy\'s (PyTorch: 0.0111 at 10 classes)', () => {
    expect(headGradientSquare('binary-crossentropy', 'softmax', 10, 1, 1)).toBeCloseTo(1 / 90, 12);
  });

  it("takes Huber's slope of 1 beyond an error of 1", () => {
    // E[min(e^2, 1)] for e ~ N(0, 1): 1 - 2 phi(1) = 0.516.
    expect(headGradientSquare('huber', null, 1, 1, 0)).toBeCloseTo(0.5161, 3);
    expect(headGradientSquare('huber', null, 1, 1, 1e4)).toBeCloseTo(1, 1);
  });
});
