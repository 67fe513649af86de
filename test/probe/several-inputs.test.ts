/**
 * Models with several inputs (Keras functional models with several Input layers): one synthetic
 * input each, with its own shape and kind (token ids for the one an Embedding reads), named in a
 * note; every branch is trained and measured. A recurrent layer started from another one's states
 * (`initial_state=`) trains the encoder through them; states that do not fit are refused.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../src/shared/ir';
import { extractFile } from '../../src/analysis/extract';
import { planModel } from '../../src/probe/plan';
import { runProbe } from '../../src/probe/run';
import { probeOptions } from '../../src/shared/probe';
import { parseFile } from '../unit/extract/extract-helper';
import { defined } from '../defined';
import { makeInputs } from '../../src/probe/data';
import { Rng } from '../../src/probe/rng';

async function modelOf(text: string, name = 'model'): Promise<ModelIR> {
  const file = await parseFile(text);
  try {
    return defined(extractFile(file).models.find((m) => m.name === name));
  } finally {
    file.dispose();
  }
}

const options = probeOptions({ backend: 'wasm', steps: 1, batchSize: 4 });

/** Review text (token ids) and hashtag features, joined before the classifier. */
const TEXT_AND_FEATURES = `from tensorflow import keras
from tensorflow.keras import layers
text = keras.Input(shape=(50,), name='text')
tags = keras.Input(shape=(8,), name='tags')
x = layers.Embedding(1000, 16)(text)
x = layers.LSTM(32)(x)
h = layers.Dense(16, activation='relu')(tags)
x = layers.concatenate([x, h])
out = layers.Dense(1, activation='sigmoid')(x)
model = keras.Model(inputs=[text, tags], outputs=out)
model.compile(optimizer='adam', loss='binary_crossentropy')
`;

const SEQ2SEQ = `from tensorflow import keras
from tensorflow.keras import layers
encoder_input = layers.Input(shape=(None, 12))
_, h, c = layers.LSTM(64, return_state=True)(encoder_input)
decoder_input = layers.Input(shape=(None, 12))
x = layers.LSTM(64, return_sequences=True)(decoder_input, initial_state=[h, c])
out = layers.Dense(12, activation='softmax')(x)
model = keras.Model([encoder_input, decoder_input], out)
`;

/** The inference half of a seq2seq model: the decoder started from state placeholders, one Input each. */
const INFERENCE_DECODER = `from tensorflow import keras
from tensorflow.keras import layers
decoder_input = layers.Input(shape=(None, 12))
state_h = layers.Input(shape=(64,))
state_c = layers.Input(shape=(64,))
x, h, c = layers.LSTM(64, return_sequences=True, return_state=True)(decoder_input, initial_state=[state_h, state_c])
out = layers.Dense(12, activation='softmax')(x)
model = keras.Model([decoder_input, state_h, state_c], [out, h, c])
`;

/** Keras 1: two Sequential encoders merged into the classifier; `fit([xa, xb], y)` feeds one array each. */
const KERAS1_MERGE = `from keras.models import Sequential
from keras.layers import Merge, LSTM, Dense
encoder_a = Sequential()
encoder_a.add(LSTM(32, input_shape=(8, 16)))
encoder_b = Sequential()
encoder_b.add(Dense(32, input_dim=784))
model = Sequential()
model.add(Merge([encoder_a, encoder_b], mode='MODE'))
model.add(Dense(10, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
`;

describe('several inputs', () => {
  it('plans one input per Input layer, tokens for the one an Embedding reads, and names each', async () => {
    const model = await modelOf(TEXT_AND_FEATURES);
    const plan = planModel(model, options);
    expect(plan.inputShape).toEqual([50]);
    expect(plan.input).toEqual({ kind: 'tokens', vocabulary: 1000 });
    expect(plan.extraInputs).toEqual([{ layer: expect.any(Number) as number, shape: [8], input: { kind: 'float' } }]);
    expect(plan.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/^Input 2 of 2 .*'tags'.*: 8 from the model code\.$/));
  });

  it('trains and measures both branches', async () => {
    const outcome = await runProbe(await modelOf(TEXT_AND_FEATURES), options);
    if (!outcome.ok) throw new Error(outcome.error.message);
    const weighted = outcome.result.layers.filter((l) => l.params > 0);
    expect(weighted.map((l) => l.kind)).toEqual(['embedding', 'lstm', 'dense', 'dense']);
    for (const layer of weighted) expect(defined(layer.gradNorm[0]), layer.name).toBeGreaterThan(0);
  });

  it('keeps a single-input model to one input (clean twin)', async () => {
    const single = TEXT_AND_FEATURES.replace("h = layers.Dense(16, activation='relu')(tags)\nx = layers.concatenate([x, h])\n", '').replace('inputs=[text, tags]', 'inputs=text');
    const plan = planModel(await modelOf(single), options);
    expect(plan.extraInputs).toEqual([]);
    expect(plan.notices.map((n) => n.message).join('\n')).not.toMatch(/Input 2 of/);
  });

  it('starts a decoder LSTM from the encoder state: the encoder trains through h and c', async () => {
    const outcome = await runProbe(await modelOf(SEQ2SEQ), options);
    if (!outcome.ok) throw new Error(outcome.error.message);
    const [encoder, decoder] = outcome.result.layers.filter((l) => l.kind === 'lstm');
    expect(defined(defined(encoder).gradNorm[0])).toBeGreaterThan(0);
    expect(defined(defined(decoder).gradNorm[0])).toBeGreaterThan(0);
    const encoderPrediction = defined(defined(outcome.result.prediction).layers.find((l) => l.id === defined(encoder).id));
    expect(Number.isFinite(encoderPrediction.log10GradRatio)).toBe(true);
  });

  it('feeds an inference decoder one synthetic input per state placeholder', async () => {
    const model = await modelOf(INFERENCE_DECODER);
    const plan = planModel(model, options);
    expect(plan.extraInputs.map((e) => e.shape)).toEqual([[64], [64]]);
    const outcome = await runProbe(model, options);
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect(defined(outcome.result.layers.find((l) => l.kind === 'lstm')?.gradNorm[0])).toBeGreaterThan(0);
  });

  it('feeds each branch of a Keras 1 Merge its own input and trains both', async () => {
    const model = await modelOf(KERAS1_MERGE.replace('MODE', 'concat'));
    const plan = planModel(model, options);
    expect(plan.inputShape).toEqual([8, 16]);
    expect(plan.extraInputs.map((e) => e.shape)).toEqual([[784]]);
    const outcome = await runProbe(model, options);
    if (!outcome.ok) throw new Error(outcome.error.message);
    const weighted = outcome.result.layers.filter((l) => l.params > 0);
    expect(weighted.map((l) => l.kind)).toEqual(['lstm', 'dense', 'dense']);
    for (const layer of weighted) expect(defined(layer.gradNorm[0]), layer.name).toBeGreaterThan(0);
  });

  it("refuses a Keras 1 Merge mode it has no layer for, naming it (clean twin: mode='concat' above)", async () => {
    const model = await modelOf(KERAS1_MERGE.replace('MODE', 'cos'));
    expect(() => planModel(model, options)).toThrow(/Merge .*line 8.*the probe does not know Merge/);
  });

  it('refuses states that do not fit the layer, naming the sizes', async () => {
    const model = await modelOf(SEQ2SEQ.replace('layers.LSTM(64, return_state=True)', 'layers.LSTM(32, return_state=True)'));
    expect(() => planModel(model, options)).toThrow(/LSTM .*starts from the state of .*LSTM.*, whose states do not fit its 64 units/);
    const wrong = await modelOf(INFERENCE_DECODER.replace('state_c = layers.Input(shape=(64,))', 'state_c = layers.Input(shape=(32,))'));
    expect(() => planModel(wrong, options)).toThrow(/initial_state= needs 2 states of 64 values per example but receives 64, 32/);
  });
});

/** A conditional GAN generator (PyTorch-GAN acgan): the label's Embedding multiplied into the noise. */
const TORCH_CONDITIONAL = `import torch
from torch import nn

class Generator(nn.Module):
    def __init__(self, n_classes=10, latent_dim=16):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, latent_dim)
        self.l1 = nn.Sequential(nn.Linear(latent_dim, 32), nn.LeakyReLU(0.2))
        self.out = nn.Linear(32, 8)

    def forward(self, noise, labels):
        gen_input = torch.mul(self.label_emb(labels), noise)
        return self.out(self.l1(gen_input))
`;

/** A VAE whose forward draws its own noise (torch.randn_like). */
const TORCH_VAE = `import torch
from torch import nn

class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(48, 32)
        self.mu = nn.Linear(32, 8)
        self.log_var = nn.Linear(32, 8)
        self.dec = nn.Linear(8, 48)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        mu, log_var = self.mu(h), self.log_var(h)
        std = torch.exp(0.5 * log_var)
        return self.dec(mu + torch.randn_like(std) * std)
`;

describe('several inputs of a torch forward', () => {
  it('feeds one label id per example to the Embedding, and the noise the shape of what it is multiplied with', async () => {
    const plan = planModel(await modelOf(TORCH_CONDITIONAL, 'Generator'), options);
    expect(plan.inputShape).toEqual([16]);
    expect(plan.input).toEqual({ kind: 'float' });
    expect(plan.extraInputs).toEqual([{ layer: 1, shape: [], input: { kind: 'tokens', vocabulary: 10 } }]);
    const messages = plan.notices.map((n) => n.message);
    expect(messages).toContainEqual(expect.stringMatching(/^Input 2 of 2 .*'labels'.*: one integer id per example, a label nn\.Embedding 'label_emb'/));
    expect(messages).toContainEqual(expect.stringMatching(/^Input 1 of 2: 16 per example, as the other operand of torch\.mul/));
  });

  it('trains the label Embedding and the layers after the product', async () => {
    const outcome = await runProbe(await modelOf(TORCH_CONDITIONAL, 'Generator'), options);
    if (!outcome.ok) throw new Error(outcome.error.message);
    const weighted = outcome.result.layers.filter((l) => l.params > 0);
    expect(weighted.map((l) => l.name)).toEqual(['label_emb', 'l1.0', 'out']);
    for (const layer of weighted) expect(defined(layer.gradNorm[0]), layer.name).toBeGreaterThan(0);
  });

  it('feeds drawn noise N(0, 1) even when the data is fed raw-scale', async () => {
    const plan = planModel(await modelOf(TORCH_VAE, 'VAE'), options);
    expect(plan.extraInputs).toEqual([{ layer: expect.any(Number) as number, shape: [8], input: { kind: 'noise' } }]);
    const [data, noise] = makeInputs(plan, 64, new Rng(1), 255);
    const values = Array.from(await defined(noise).data());
    expect(Math.min(...values)).toBeLessThan(0);
    expect(Math.min(...Array.from(await defined(data).data()))).toBeGreaterThanOrEqual(0);
    data?.dispose();
    noise?.dispose();
  });

  it('splits what a Linear reads after torch.cat of three arguments among them (an InfoGAN generator)', async () => {
    const text = `import torch
from torch import nn

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(74, 32)

    def forward(self, noise, labels, code):
        return self.l1(torch.cat((noise, labels, code), -1))
`;
    const plan = planModel(await modelOf(text, 'Generator'), options);
    expect(plan.inputShape).toEqual([24]);
    expect(plan.extraInputs.map((e) => e.shape)).toEqual([[25], [25]]);
    expect(plan.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/'code'.*a share of the 74 features .* \(the split is a guess/));
  });

  it('gives the memory a cross-attention reads the shape of its query', async () => {
    const text = `import torch
from torch import nn

class Decoder(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.cross = nn.MultiheadAttention(d, 2, batch_first=True)

    def forward(self, x, memory):
        h = self.proj(x)
        out, _ = self.cross(h, memory, memory)
        return out
`;
    const plan = planModel(await modelOf(text, 'Decoder'), probeOptions({ backend: 'wasm', steps: 1, batchSize: 4, inputShape: [10, 16] }));
    expect(plan.extraInputs.map((e) => e.shape)).toEqual([[10, 16]]);
  });

  it("gives a seq2seq's target the source's sequence length (entered or guessed), and the default beside an input that is no sequence", async () => {
    const text = `import torch
from torch import nn

class Seq2Seq(nn.Module):
    def __init__(self, vocab=50, hidden=24):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, 16)
        self.tgt_embed = nn.Embedding(vocab, 16)
        self.encoder = nn.GRU(16, hidden, batch_first=True)
        self.decoder = nn.GRU(16, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, src, tgt):
        _, hidden = self.encoder(self.src_embed(src))
        output, _ = self.decoder(self.tgt_embed(tgt), hidden)
        return self.out(output)
`;
    const model = await modelOf(text, 'Seq2Seq');
    const entered = planModel(model, probeOptions({ backend: 'wasm', steps: 1, batchSize: 4, inputShape: [8] }));
    expect(entered.extraInputs.map((e) => e.shape)).toEqual([[8]]);
    expect(entered.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/input 'tgt'.*8 integer tokens per example, token ids .*'tgt_embed'.* reads \(sequence length 8 as the first input's\)/));
    // Only the encoder's final state is read: which of its steps goes on is no note's business.
    expect(entered.notices.map((n) => n.message).filter((m) => /'encoder'/.test(m))).toEqual([]);
    const guessed = planModel(model, options);
    expect(guessed.extraInputs.map((e) => e.shape)).toEqual([[guessed.inputShape[0]]]);
    // A sequence beside features that are no sequence keeps the default length.
    const tagged = planModel(
      await modelOf(`from tensorflow import keras
from tensorflow.keras import layers
tags = keras.Input(shape=(12,))
words = keras.Input(shape=(None,))
x = layers.LSTM(16)(layers.Embedding(50, 8)(words))
model = keras.Model(inputs=[tags, words], outputs=layers.Dense(1)(layers.concatenate([layers.Dense(16)(tags), x])))
`),
      probeOptions({ backend: 'wasm', steps: 1, batchSize: 4, inputShape: [12] }),
    );
    expect(tagged.extraInputs.map((e) => e.shape)).toEqual([[options.sequenceLength]]);
  });

  it('gives a second input read by a Linear whose in_features the caller sets the default features, with a warning', async () => {
    const model = await modelOf(`import torch.nn as nn


class TwoTower(nn.Module):
    def __init__(self, a_dim, b_dim, hidden):
        super().__init__()
        self.a = nn.Linear(a_dim, hidden)
        self.b = nn.Linear(b_dim, hidden)

    def forward(self, xa, xb):
        return self.a(xa) + self.b(xb)
`, 'TwoTower');
    const planned = planModel(model, options);
    expect(planned.extraInputs.map((e) => e.shape)).toEqual([planned.inputShape]);
    expect(planned.notices.some((n) => n.severity === 'warning' && /input 'xb'.*the code does not fix the in_features of nn\.Linear 'b'/.test(n.message))).toBe(true);
  });

  it('refuses an argument no layer says the shape of, naming it', async () => {
    const text = TORCH_CONDITIONAL.replace('torch.mul(self.label_emb(labels), noise)', 'torch.mul(torch.tanh(labels), noise)');
    const model = await modelOf(text, 'Generator');
    expect(() => planModel(model, options)).toThrow(/input 'labels' .*cannot tell the shape of input 2 of 2/);
  });
});
