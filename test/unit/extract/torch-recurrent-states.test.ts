/**
 * torch recurrent layers in forward: a state another layer computed (`self.decoder(y, hidden)`) is an
 * input of the layer after its sequence, as Keras' initial_state=; a state of zeros is none. Whether a
 * layer's every step is read (`self.fc(out)`) or only its last (`out[:, -1]`) is read from the code. A
 * bidirectional layer's final state `h_n[-1]` is one direction, half of its output's features.
 */
import { describe, expect, it } from 'vitest';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';
import { isRecurrent } from '../../../src/shared/layers';
import { extractFixture, model } from './torch-fixture';
import { defined } from '../../defined';

const models = async (): Promise<ModelIR[]> => extractFixture('recurrent_states.py');
const named = (m: ModelIR, name: string): LayerIR => defined(m.layers.find((l) => l.name === name));
const returnSequences = (layer: LayerIR) => (isRecurrent(layer) ? layer.recurrent.returnSequences : 'not recurrent');

describe('torch recurrent states and steps', () => {
  it("starts the decoder from the encoder's final hidden: the encoder feeds it after its sequence", async () => {
    const m = model(await models(), 'Seq2Seq');
    const decoder = named(m, 'decoder');
    expect(decoder.inputs).toEqual([named(m, 'tgt_embed').id, named(m, 'encoder').id]);
    expect(returnSequences(decoder)).toBe(true);
    // The encoder's steps are thrown away (`_, hidden = ...`): only its final state is read.
    expect(returnSequences(named(m, 'encoder'))).toBeNull();
  });

  it('reads (h, c) of a two-level encoder as one state input of the decoder', async () => {
    const m = model(await models(), 'StackedSeq2Seq');
    expect(named(m, 'decoder').inputs.slice(1)).toEqual([named(m, 'encoder').id]);
  });

  it('adds no input for a state of zeros made in forward (x.data.new(...).fill_(0))', async () => {
    const m = model(await models(), 'ZeroStarted');
    expect(named(m, 'gru').inputs.length).toBeLessThanOrEqual(1);
    expect(m.layers.some((l) => l.kind === 'unknown')).toBe(false);
  });

  it('reads every step when the head takes the whole output, the last step when it takes out[:, -1, :]', async () => {
    const all = await models();
    expect(returnSequences(named(model(all, 'LanguageModel'), 'lstm'))).toBe(true);
    expect(returnSequences(named(model(all, 'LastStepClassifier'), 'lstm'))).toBeNull();
  });

  const inputsOf = (m: ModelIR, name: string): LayerIR[] => named(m, name).inputs.map((id) => defined(m.layers.find((l) => l.id === id)));

  it("reads h_n[-1] of a bidirectional GRU as its backward direction's half of the features, the twin's as the output", async () => {
    const all = await models();
    const [state] = inputsOf(model(all, 'BidirectionalLastState'), 'fc');
    expect(state).toMatchObject({ kind: 'tensor-op', op: { op: 'split', axis: -1, index: 1, by: { chunks: 2 } } });
    expect(inputsOf(model(all, 'BidirectionalLastState'), defined(state).name).map((l) => l.name)).toEqual(['gru']);
    expect(inputsOf(model(all, 'UnidirectionalLastState'), 'fc').map((l) => l.name)).toEqual(['gru']);
  });

  it("reads torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1), the last layer's two directions in order, as the output itself", async () => {
    const m = model(await models(), 'BidirectionalBothStates');
    expect(inputsOf(m, 'fc').map((l) => l.name)).toEqual(['lstm']);
    expect(m.layers.some((l) => l.kind === 'tensor-op' || l.kind === 'concat')).toBe(false);
  });

  it('joins two steps of a bidirectional LSTM, torch.cat([x[:, -1, :], x[:, 0, :]]), as two copies of its output', async () => {
    const m = model(await models(), 'BidirectionalBothEnds');
    const [joined] = inputsOf(m, 'fc');
    expect(joined?.kind).toBe('concat');
    expect(inputsOf(m, defined(joined).name).map((l) => l.name)).toEqual(['rnn', 'rnn']);
  });
});
