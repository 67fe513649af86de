/**
 * Keras 1/2-era spellings real code still has: `Merge([seq_a, seq_b], mode=...)` starting a Sequential,
 * a recurrent class chosen through a module-level alias (`RNN = recurrent.LSTM`), and a functional
 * encoder-decoder whose states are unpacked (`out, h, c = lstm(x)`) and passed as `initial_state=`.
 */
import { describe, expect, it } from 'vitest';
import { extractFrom, layerSummary, modelNamed, parseFile } from './extract-helper';
import { extractFile } from '../../../src/analysis/extract';
import { defined } from '../../defined';

const MERGED = `from keras.models import Sequential
from keras.layers import Dense, LSTM, Merge

left = Sequential()
left.add(LSTM(32, input_shape=(8, 16)))
right = Sequential()
right.add(Dense(32, input_dim=784))
model = Sequential()
model.add(Merge([left, right], mode='MODE'))
model.add(Dense(10, activation='softmax'))
`;

describe('Keras 1 Merge of Sequentials', () => {
  it('joins both branches in one merge node that the Sequential continues, each branch from an Input of its own', async () => {
    const models = await extractFrom(MERGED.replace('MODE', 'concat'));
    expect(models.map((m) => m.name)).toEqual(['left', 'right', 'model']);
    const model = modelNamed(models, 'model');
    expect(layerSummary(model)).toEqual(['input', 'lstm:tanh', 'input', 'dense', 'concat', 'dense:softmax']);
    const [leftInput, lstm, rightInput, dense, concat, head] = model.layers;
    expect(model.isGraph).toBe(true);
    expect(defined(lstm).inputs).toEqual([defined(leftInput).id]);
    expect(defined(dense).inputs).toEqual([defined(rightInput).id]);
    expect(defined(leftInput)).toMatchObject({ kind: 'input', shape: [8, 16], inputs: [] });
    expect(defined(rightInput)).toMatchObject({ kind: 'input', shape: [784], inputs: [] });
    expect(model.inputShape).toEqual([8, 16]);
    expect(defined(concat).inputs).toEqual([defined(lstm).id, defined(dense).id]);
    expect(defined(head).inputs).toEqual([defined(concat).id]);
    expect(defined(concat).range.start.line).toBe(8);
  });

  it('reads Merge in a file that uses Keras without importing it (a snippet), and TimeDistributedDense as a Dense', async () => {
    const snippet = MERGED.replace(/^from .*\n/gm, '').replace('right.add(Dense(32, input_dim=784))', 'right.add(Dense(32, input_dim=784))\nright.add(TimeDistributedDense(32))');
    const model = modelNamed(await extractFrom(snippet.replace('MODE', 'sum')), 'model');
    expect(layerSummary(model)).toEqual(['input', 'lstm:tanh', 'input', 'dense', 'dense', 'add', 'dense:softmax']);
  });

  it.each([
    ['sum', 'add'],
    ['mul', 'multiply'],
    ['ave', 'add'],
  ])("reads mode='%s' as a %s merge", async (mode, kind) => {
    const model = modelNamed(await extractFrom(MERGED.replace('MODE', mode)), 'model');
    expect(model.layers[4]!.kind).toBe(kind);
  });

  it("keeps a mode it has no layer for as an unknown layer, named in the model's unsupported list", async () => {
    const model = modelNamed(await extractFrom(MERGED.replace('MODE', 'cos')), 'model');
    expect(model.layers[4]!.kind).toBe('unknown');
    expect(model.unsupported.map((u) => u.what)).toEqual(["Merge with mode 'cos'"]);
  });
});

describe('module-level aliases of layer classes', () => {
  const aliased = `from keras.models import Sequential
from keras.layers import Dense, recurrent
RNN = recurrent.GRU
model = Sequential()
model.add(RNN(64, input_shape=(10, 3)))
model.add(Dense(1))
`;

  it('reads the alias as the class it names', async () => {
    const model = modelNamed(await extractFrom(aliased), 'model');
    expect(layerSummary(model)).toEqual(['gru:tanh', 'dense']);
    expect(model.layers[0]!.units).toBe(64);
  });

  it('does not follow a name assigned on two lines (which one reaches the call is not known)', async () => {
    const model = modelNamed(await extractFrom(aliased.replace('RNN = recurrent.GRU', 'RNN = recurrent.GRU\nRNN = recurrent.LSTM')), 'model');
    expect(model.layers[0]!.kind).toBe('unknown');
  });
});

describe('encoder-decoder with returned states', () => {
  it('unpacks the layer output into every target and connects initial_state to the decoder', async () => {
    const text = `from keras import Model, layers
src = layers.Input(shape=(None, 40))
_, h, c = layers.LSTM(64, return_state=True)(src)
tgt = layers.Input(shape=(None, 42))
out, _, _ = layers.LSTM(64, return_sequences=True, return_state=True)(tgt, initial_state=[h, c])
probs = layers.Dense(42, activation='softmax')(out)
trainer = Model([src, tgt], probs)
`;
    const model = modelNamed(await extractFrom(text), 'trainer');
    expect(layerSummary(model)).toEqual(['input', 'lstm:tanh', 'input', 'lstm:tanh', 'dense:softmax']);
    const [src, encoder, tgt, decoder, head] = model.layers;
    expect(defined(encoder).inputs).toEqual([defined(src).id]);
    expect(defined(decoder).inputs).toEqual([defined(tgt).id, defined(encoder).id]);
    expect(defined(head).inputs).toEqual([defined(decoder).id]);
  });
});

describe('helpers that take **params and return the function applying the layers', () => {
  const text = `from keras.layers import Activation, BatchNormalization, Conv2D, Input
from keras.models import Model

def conv_bn(**params):
    filters = params["filters"]
    strides = params.setdefault("strides", (1, 1))
    size = params.get("kernel_size", 3)
    def apply(x):
        return Activation("relu")(BatchNormalization()(Conv2D(filters, size, strides=strides)(x)))
    return apply

image = Input(shape=(32, 32, 3))
out = conv_bn(filters=32, strides=(2, 2))(image)
out = conv_bn(**{"filters": 64})(out)
net = Model(image, out)
`;

  it('runs each closure with the names of the call that made it', async () => {
    const model = modelNamed(await extractFrom(text), 'net');
    expect(layerSummary(model)).toEqual(['input', 'conv2d', 'batchnorm', 'activation:relu', 'conv2d', 'batchnorm', 'activation:relu']);
    const [, first, , , second] = model.layers;
    expect(first).toMatchObject({ units: 32, kernelSize: [3, 3], conv: { strides: [2, 2] } });
    expect(second).toMatchObject({ units: 64, kernelSize: [3, 3], conv: { strides: [1, 1] } });
  });
});

describe('Keras 0 signatures (Theano era)', () => {
  const keras0 = `from keras.models import Sequential
from keras.layers.core import Dense, Activation, Flatten
from keras.layers.convolutional import Convolution2D, MaxPooling2D
nb_class = 10
model = Sequential()
model.add(Convolution2D(4, 1, 5, 5, border_mode='valid'))
model.add(Activation('relu'))
model.add(MaxPooling2D(poolsize=(2, 2)))
model.add(Flatten())
model.add(Dense(4*12*12, 128, init='normal'))
model.add(Activation('relu'))
model.add(Dense(128, nb_class, init='normal'))
model.add(Activation('softmax'))
`;

  it('reads Dense(input_dim, output_dim) and Convolution2D(nb_filter, stack_size, nb_row, nb_col), channels first', async () => {
    const model = modelNamed(await extractFrom(keras0), 'model');
    expect(layerSummary(model)).toEqual(['conv2d', 'activation:relu', 'maxpool', 'flatten', 'dense', 'activation:relu', 'dense', 'activation:softmax']);
    const [conv, , pool, , hidden, , head] = model.layers;
    expect(conv).toMatchObject({ units: 4, inFeatures: 1, kernelSize: [5, 5], dataFormat: 'channels_first', activation: { name: 'linear' } });
    expect(pool).toMatchObject({ kernelSize: [2, 2] });
    expect(hidden).toMatchObject({ units: 128, inFeatures: 576, activation: { name: 'linear' }, kernelInit: { name: 'random_normal' } });
    expect(head).toMatchObject({ units: 10, inFeatures: 128, activation: { name: 'linear' } });
  });

  it('fixes the image side from the Dense after the Flatten, channels first', async () => {
    const file = await parseFile(keras0);
    try {
      const model = modelNamed(extractFile(file).models, 'model');
      expect(model.inputGuess).toMatchObject({ shape: [1, 28, 28], layout: 'channels_first', source: 'constraint' });
    } finally {
      file.dispose();
    }
  });

  it('keeps the Keras 1/2 readings (clean twins): Dense(64, "relu"), Convolution2D(32, 3, 3), Conv2D(32, 3, 1)', async () => {
    const text = `from keras.models import Sequential
from keras.layers import Dense, Convolution2D, Conv2D, Flatten
model = Sequential()
model.add(Convolution2D(32, 3, 3, input_shape=(28, 28, 1)))
model.add(Conv2D(16, 3, 1))
model.add(Flatten())
model.add(Dense(64, 'relu'))
`;
    const [k1, k2, , dense] = modelNamed(await extractFrom(text), 'model').layers;
    expect(k1).toMatchObject({ units: 32, kernelSize: [3, 3], dataFormat: null });
    expect(k2).toMatchObject({ units: 16, kernelSize: [3, 3], conv: { strides: [1] } });
    expect(dense).toMatchObject({ units: 64, activation: { name: 'relu' } });
  });
});
