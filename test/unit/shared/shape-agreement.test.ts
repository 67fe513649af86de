/**
 * One model of shapes: the analyzer (propagateShapes on the extracted IR) and the probe's planner
 * read the same shape module, so on real model code they agree layer by layer, and both agree with
 * sizes computed by hand from the frameworks' formulas.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { cloneLayer } from '../../../src/shared/layers';
import { firstShapeConflict, propagateShapes, type Shape } from '../../../src/shared/shapes';
import { probeOptions } from '../../../src/shared/probe';
import { planModel } from '../../../src/probe/plan';
import { ProbeFailure } from '../../../src/probe/errors';
import { extractFrom } from '../extract/extract-helper';

async function onlyModel(source: string): Promise<ModelIR> {
  const models = await extractFrom(source);
  expect(models).toHaveLength(1);
  return models[0]!;
}

/** The analyzer's output shape of every layer, channels-last (torch shapes moved from C-first). */
function analyzerShapes(model: ModelIR, input: Shape): (Shape | null)[] {
  const layers = model.layers.map((l) => cloneLayer(l));
  const shapes = propagateShapes(layers, input, { framework: model.framework });
  return layers.map((l) => {
    const s = shapes.get(l.id) ?? null;
    if (!s || model.framework !== 'torch' || s.length < 2) return s;
    return [...s.slice(1), s[0]!];
  });
}

/** The probe planner's output shape of every layer (always channels-last). */
function probeShapes(model: ModelIR, inputChannelsLast: number[]): Shape[] {
  return planModel(model, probeOptions({ inputShape: inputChannelsLast })).layers.map((l) => l.outShape);
}

describe('analyzer and probe agree on shapes', () => {
  it('Keras Conv2D(16, (3, 3), strides=(2, 2), padding="same") -> Flatten -> Dense: 16x16x16 = 4096 features', async () => {
    const model = await onlyModel(`
from tensorflow import keras
from tensorflow.keras import layers
model = keras.Sequential([
    layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same", activation="relu", input_shape=(32, 32, 3)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
`);
    expect(model.layers[0]).toMatchObject({ kind: 'conv2d', conv: { strides: [2, 2], padding: 'same' } });
    expect(model.layers[2]!.fanIn).toBe(4096);
    const expected = [[16, 16, 16], [4096], [10]];
    expect(analyzerShapes(model, [32, 32, 3])).toEqual(expected);
    expect(probeShapes(model, [32, 32, 3])).toEqual(expected);
  });

  it('Keras valid padding, int strides, tuple pool strides and dilation', async () => {
    const model = await onlyModel(`
from tensorflow.keras import Sequential
from tensorflow.keras.layers import Conv2D, MaxPooling2D, Flatten, Dense
model = Sequential()
model.add(Conv2D(8, 3, strides=2, input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(3, 3), strides=(2, 2)))
model.add(Conv2D(4, 3, dilation_rate=2))
model.add(Flatten())
model.add(Dense(1))
`);
    // floor((28-3)/2)+1 = 13; floor((13-3)/2)+1 = 6; dilated kernel spans 5: 6-5+1 = 2.
    const expected = [[13, 13, 8], [6, 6, 8], [2, 2, 4], [16], [1]];
    expect(analyzerShapes(model, [28, 28, 1])).toEqual(expected);
    expect(probeShapes(model, [28, 28, 1])).toEqual(expected);
    expect(model.layers[4]!.fanIn).toBe(16);
  });

  it('Keras 1 spellings: Convolution2D(32, 3, 3, border_mode=, subsample=) and MaxPooling2D(border_mode=)', async () => {
    const model = await onlyModel(`
from keras.models import Sequential
from keras.layers import Convolution2D, MaxPooling2D, Flatten, Dense
model = Sequential()
model.add(Convolution2D(32, 3, 3, border_mode='same', subsample=(2, 2), init='he_normal', input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(2, 2), border_mode='valid'))
model.add(Flatten())
model.add(Dense(output_dim=10, init='uniform', W_regularizer=None))
`);
    expect(model.layers[0]).toMatchObject({ units: 32, kernelSize: [3, 3], kernelInit: { name: 'he_normal' }, conv: { strides: [2, 2], padding: 'same' } });
    expect(model.layers[3]).toMatchObject({ units: 10, kernelInit: { name: 'random_uniform' } });
    const expected = [[14, 14, 32], [7, 7, 32], [1568], [10]];
    expect(analyzerShapes(model, [28, 28, 1])).toEqual(expected);
    expect(probeShapes(model, [28, 28, 1])).toEqual(expected);
  });

  it('Keras 1 written for Theano: merge(concat_axis=1) joins the channels and BatchNormalization(axis=1) normalizes them, for the analyzer and the probe alike', async () => {
    const model = await onlyModel(`
from keras.layers import Input, merge, Flatten, Dense, BatchNormalization
from keras.layers.convolutional import Convolution2D
from keras.models import Model
inp = Input(shape=(1, 28, 28))
a = Convolution2D(16, 3, 3, activation='relu', border_mode='same')(inp)
b = Convolution2D(16, 5, 5, activation='relu', border_mode='same')(inp)
m = merge([a, b], mode='concat', concat_axis=1)
c = Convolution2D(32, 3, 3, activation='relu', border_mode='same', subsample=(2, 2))(m)
c = BatchNormalization(axis=1)(c)
out = Dense(10, activation='softmax')(Flatten()(c))
model = Model(input=inp, output=out)
`);
    const concat = model.layers.findIndex((l) => l.kind === 'concat');
    expect(model.layers[concat + 1]).toMatchObject({ kind: 'conv2d', inFeatures: 32 });
    expect(model.layers.find((l) => l.kind === 'batchnorm')).toMatchObject({ inFeatures: 32 });
    // The analyzer keeps the Theano order (channels first); the probe computes channels-last.
    expect(analyzerShapes(model, [1, 28, 28])[concat]).toEqual([32, 28, 28]);
    expect(probeShapes(model, [28, 28, 1])[concat]).toEqual([28, 28, 32]);
    expect(probeShapes(model, [28, 28, 1]).at(-1)).toEqual([10]);
  });

  it('a bare tf.keras.layers.Layer(input_shape=...) first in a Sequential passes its input on, for the analyzer and the probe alike', async () => {
    const model = await onlyModel(`
import tensorflow as tf
model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Layer(input_shape=(32, 32, 3)))
model.add(tf.keras.layers.Conv2D(16, 3, padding='same', activation='relu'))
model.add(tf.keras.layers.Flatten())
model.add(tf.keras.layers.Dense(10, activation='softmax'))
`);
    expect(model.layers.find((l) => l.kind === 'conv2d')).toMatchObject({ inFeatures: 3 });
    const expected = [[32, 32, 3], [32, 32, 16], [16384], [10]];
    expect(analyzerShapes(model, [32, 32, 3]).slice(-4)).toEqual(expected);
    expect(probeShapes(model, [32, 32, 3]).slice(-4)).toEqual(expected);
  });

  it('PyTorch int and tuple stride / padding / dilation, padded pools and ceil_mode', async () => {
    const model = await onlyModel(`
import torch.nn as nn
net = nn.Sequential(
    nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(3, stride=2, padding=1),
    nn.Conv2d(8, 16, (3, 3), stride=(1, 1), padding=(2, 2), dilation=2),
    nn.Conv2d(16, 16, 2),
    nn.MaxPool2d(2, 2, ceil_mode=True),
    nn.Flatten(),
    nn.Linear(256, 10),
)
`);
    expect(model.layers[0]).toMatchObject({ conv: { strides: [2], padding: [1], dilation: [1] } });
    expect(model.layers[3]).toMatchObject({ conv: { strides: [1, 1], padding: [2, 2], dilation: [2] } });
    expect(model.layers[5]).toMatchObject({ pool: { strides: [2], ceilMode: true } });
    // 32 -> floor((32+2-3)/2)+1 = 16 -> floor((16+2-3)/2)+1 = 8 -> 8+4-5+1 = 8 -> 7 -> ceil((7-2)/2)+1 = 4.
    const expected = [[16, 16, 8], [16, 16, 8], [8, 8, 8], [8, 8, 16], [7, 7, 16], [4, 4, 16], [256], [10]];
    expect(analyzerShapes(model, [3, 32, 32])).toEqual(expected);
    expect(probeShapes(model, [32, 32, 3])).toEqual(expected);
  });

  it('PyTorch Conv1d with padding, AvgPool1d and adaptive pooling', async () => {
    const model = await onlyModel(`
import torch.nn as nn
net = nn.Sequential(
    nn.Conv1d(4, 8, 5, stride=2, padding=2),
    nn.AvgPool1d(kernel_size=2),
    nn.AdaptiveMaxPool1d(5),
    nn.Flatten(),
    nn.Linear(40, 1),
)
`);
    // floor((20+4-5)/2)+1 = 10 -> 5 -> adaptive to 5.
    const expected = [[10, 8], [5, 8], [5, 8], [40], [1]];
    expect(analyzerShapes(model, [4, 20])).toEqual(expected);
    expect(probeShapes(model, [20, 4])).toEqual(expected);
  });

  it('a Linear whose in_features does not match the convolutions is refused by the probe, which names both sizes', async () => {
    const model = await onlyModel(`
import torch.nn as nn
net = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.Flatten(), nn.Linear(100, 2))
`);
    // floor((12-3)/2)+1 = 5: 5*5*4 = 100 fits a 12x12 input, not a 28x28 one (13*13*4 = 676).
    expect(probeShapes(model, [12, 12, 1]).at(-1)).toEqual([2]);
    expect(() => probeShapes(model, [28, 28, 1])).toThrow(ProbeFailure);
    expect(() => probeShapes(model, [28, 28, 1])).toThrow(/expects 100 input features but receives 676/);
  });

  it('the probe refuses a plan by the shared shape rules, in the words the analyzer uses (and accepts what they accept)', async () => {
    const model = await onlyModel(`
import torch.nn as nn
net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(16, 4, 3), nn.Flatten(), nn.Linear(4, 2))
`);
    // Analyzer layout (channels first) and probe layout (channels last) of the same 3x10x10 input.
    // The walk fills in sizes in the copies it is given, made as it reaches each layer: none past the conflict.
    const before = JSON.stringify(model.layers);
    const copied: number[] = [];
    const conflict = firstShapeConflict(model.layers, [3, 10, 10], { framework: 'torch' }, (l, i) => (copied.push(i), cloneLayer(l)));
    expect(conflict?.reason).toBe('expects 16 input channels but receives 8');
    expect(copied).toEqual([0, 1, 2]);
    expect(JSON.stringify(model.layers)).toBe(before);
    expect(() => probeShapes(model, [10, 10, 3])).toThrow(`'${conflict?.layer.name ?? ''}' (line 3): ${conflict?.reason ?? ''}`);
    // Its clean twin: every channel count fits, no conflict, and the probe plans it.
    const fits = await onlyModel(`
import torch.nn as nn
net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3), nn.Flatten(), nn.Linear(144, 2))
`);
    expect(firstShapeConflict(fits.layers, [3, 10, 10], { framework: 'torch' }, (l) => cloneLayer(l))).toBeNull();
    expect(probeShapes(fits, [10, 10, 3]).at(-1)).toEqual([2]);
  });
});
