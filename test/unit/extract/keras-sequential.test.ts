/** Keras Sequential models: lists, .add() calls, loops, comprehensions, conditions, old and new spellings. */
import { describe, expect, it } from 'vitest';
import { modelPrediction } from '../../../src/shared/knowledge/propagation';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';
import { extractFrom, kerasFixture, layerSummary, lineOf, modelNamed } from './extract-helper';
import { defined } from '../../defined';

/** 1-based line of the first line of `text` containing `snippet`. */
function lineWith(text: string, snippet: string, occurrence = 0): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(snippet) ? [i + 1] : []));
  if (hits[occurrence] === undefined) throw new Error(`no line with ${snippet}`);
  return hits[occurrence];
}

describe('Sequential([...]) lists', () => {
  it('reads the TensorFlow beginner quickstart', async () => {
    const text = kerasFixture('mnist_tutorial.py');
    const models = await extractFrom(text, 'mnist_tutorial.py');
    expect(models.map((m) => m.name)).toEqual(['model']);
    const model = models[0]!;
    expect(model.framework).toBe('keras');
    expect(model.style).toBe('keras-sequential');
    expect(model.exports).toEqual(['model']);
    expect(model.inputShape).toEqual([28, 28]);
    expect(layerSummary(model)).toEqual(['flatten', 'dense:relu', 'dropout', 'dense']);
    const [flatten, hidden, dropout, logits] = model.layers;
    expect(lineOf(defined(flatten))).toBe(lineWith(text, 'Flatten('));
    expect(defined(hidden).units).toBe(128);
    expect(defined(hidden).fanIn).toBe(784);
    expect(defined(hidden).fanOut).toBe(128);
    expect(defined(hidden).kernelInit).toMatchObject({ name: 'glorot_uniform', explicit: false, range: null, spelling: '(default)' });
    expect(defined(hidden).biasInit).toMatchObject({ name: 'zeros', explicit: false });
    expect(defined(hidden).useBias).toBe(true);
    expect(dropout).toMatchObject({ kind: 'dropout', rate: 0.2 });
    expect(defined(logits).activation).toMatchObject({ name: 'linear', source: 'default', range: null });
    expect(defined(logits).inputs).toEqual([defined(dropout).id]);
    expect(model.range.start.line + 1).toBe(lineWith(text, 'model = tf.keras.models.Sequential'));
    expect(model.range.end.line + 1).toBe(lineWith(text, '])'));
    expect(model.nameRange.start).toEqual({ line: lineWith(text, 'model = tf.keras') - 1, character: 0 });
    expect(model.training.optimizer).toBeNull();
  });

  it('tolerates comments, blank lines and trailing commas inside the list', async () => {
    const text = kerasFixture('kaggle_notebook.py');
    const baseline = modelNamed(await extractFrom(text), 'baseline');
    // The commented-out Dropout is not a layer.
    expect(layerSummary(baseline)).toEqual(['dense:relu', 'dense:softmax']);
    expect(baseline.inputShape).toEqual([93]);
    expect(lineOf(baseline.layers[1]!)).toBe(lineWith(text, "Dense(9, activation='softmax')"));
  });

  it('expands *splatted lists and names list items like ModuleList entries', async () => {
    const stacked = modelNamed(await extractFrom(kerasFixture('factories.py')), 'stacked');
    expect(layerSummary(stacked)).toEqual(['input', 'dense:relu', 'dense:relu', 'dense:relu', 'dense']);
    expect(stacked.layers.slice(1, 4).map((l) => l.name)).toEqual(['blocks.0', 'blocks.1', 'blocks.2']);
    expect(stacked.layers.slice(1, 4).map((l) => l.unrolled)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
    expect(stacked.layers[4]!.fanIn).toBe(32);
  });

  it('records known no-weight augmentation layers as identity, without reporting them; a pipeline of them alone is no model', async () => {
    const models = await extractFrom(kerasFixture('factories.py'));
    expect(models.map((m) => m.name)).not.toContain('augment');
    const head = modelNamed(models, 'head');
    expect(head.layers.filter((l) => l.kind === 'unknown' && l.identity).map((l) => l.className)).toEqual(['layers.RandomFlip', 'layers.RandomRotation']);
    expect(head.unsupported.map((u) => u.what).join()).not.toMatch(/Random/);
  });

  it('passes the input through augmentation layers in the prediction and the probe', async () => {
    const models = await extractFrom(kerasFixture('augmentation.py'));
    expect(models.map((m) => m.name)).toEqual(['model']);
    const model = modelNamed(models, 'model');
    const prediction = modelPrediction(model);
    expect(prediction.ok).toBe(true);
    const plan = planModel(model, probeOptions({ backend: 'cpu' }));
    expect(plan.notices.filter((n) => n.message.includes('passes its input through unchanged')).map((n) => n.line)).toEqual([7, 8, 9]);
    expect(plan.notices.filter((n) => n.severity === 'warning')).toEqual([]);
  });

  it('reads keras.layers.Identity as the linear activation, as torch nn.Identity, so the prediction and the probe pass through it', async () => {
    const text = [
      'from tensorflow import keras',
      'from tensorflow.keras import layers',
      'model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(32, activation="relu"), layers.Identity(), layers.Dense(1)])',
      '',
    ].join('\n');
    const model = modelNamed(await extractFrom(text), 'model');
    expect(model.layers.map((l) => l.kind)).toEqual(['input', 'dense', 'activation', 'dense']);
    expect(model.layers[2]).toMatchObject({ activation: { name: 'linear' } });
    expect(model.unsupported).toEqual([]);
    expect(modelPrediction(model).ok).toBe(true);
    expect(planModel(model, probeOptions({ backend: 'cpu' })).notices.filter((n) => n.severity === 'warning')).toEqual([]);
  });
});

describe('model.add(...)', () => {
  it('reads Keras 1 spellings: init=, Convolution2D(32, 3, 3), border_mode', async () => {
    const text = kerasFixture('keras1_mlp.py');
    const models = await extractFrom(text);
    const mlp = modelNamed(models, 'model');
    expect(mlp.style).toBe('keras-add');
    expect(layerSummary(mlp)).toEqual(['dense', 'activation:relu', 'dropout', 'dense', 'activation:relu', 'dropout', 'dense:softmax']);
    expect(mlp.layers[0]!.kernelInit).toMatchObject({ name: 'random_uniform', explicit: true, params: { minval: -0.05, maxval: 0.05 }, spelling: "'uniform'" });
    expect(mlp.layers[6]!.units).toBe(10);
    expect(mlp.range.end.line + 1).toBe(lineWith(text, "model.add(Dense(num_classes, activation='softmax'))"));
    const cnn = modelNamed(models, 'cnn');
    const conv = cnn.layers[0]!;
    expect(conv.kind).toBe('conv2d');
    expect(conv.kernelSize).toEqual([3, 3]);
    // Keras 1 positions: (nb_filter, nb_row, nb_col, init, ...): the 3 is the kernel, not a stride.
    expect(conv).toMatchObject({ conv: { padding: 'same', strides: [1], dilation: [1], groups: 1, variant: 'standard' } });
    expect([conv.fanIn, conv.fanOut]).toEqual([9, 288]);
    expect(conv).toMatchObject({ units: 32, useBias: true });
    expect(mlp.layers[0]).toMatchObject({ kind: 'dense', units: 512, useBias: true });
    expect(mlp.layers[2]).toMatchObject({ kind: 'dropout', rate: 0.2 });
    // 28x28 'same' conv, 2x2 pool -> 14*14*32 features into the Dense.
    expect(cnn.layers[4]!.fanIn).toBe(14 * 14 * 32);
  });

  it('finds tf.keras without an import (notebook export) and computes conv/pool shapes', async () => {
    const model = modelNamed(await extractFrom(kerasFixture('notebook_no_import.py')), 'model');
    expect(layerSummary(model)).toEqual(['conv2d:relu', 'maxpool', 'conv2d:relu', 'maxpool', 'flatten', 'dense:relu', 'dense:sigmoid']);
    // 64 -> 62 -> 31 -> 29 -> 14 ; 14*14*128 = 25088
    expect(model.layers[5]!.fanIn).toBe(25088);
    expect(model.layers[2]!.fanIn).toBe(64 * 9);
    expect(model.layers[5]!.activation).toMatchObject({ name: 'relu', spelling: 'tf.nn.relu', source: 'kwarg' });
  });

  it('unrolls constant loops; a factory function exports its name', async () => {
    const text = `
import tensorflow as tf
from tensorflow.keras.layers import Dense, BatchNormalization as BN

DEPTH = 3

def build_model():
    model = tf.keras.Sequential()
    for i in range(DEPTH):
        model.add(Dense(64 * (i + 1), activation='sigmoid', input_shape=(10,) if i == 0 else None))
        model.add(BN())
    model.add(Dense(1))
    return model
`;
    const model = modelNamed(await extractFrom(text), 'model');
    expect(model.exports).toEqual(['build_model']);
    expect(layerSummary(model)).toEqual(['dense:sigmoid', 'batchnorm', 'dense:sigmoid', 'batchnorm', 'dense:sigmoid', 'batchnorm', 'dense']);
    expect(model.layers.filter((l) => l.kind === 'dense').map((l) => l.units)).toEqual([64, 128, 192, 1]);
    const denseLine = lineWith(text, 'model.add(Dense(64');
    expect(model.layers.filter((l) => l.kind === 'batchnorm').every((l) => lineOf(l) === denseLine + 1)).toBe(true);
    expect(model.layers[2]!.unrolled).toEqual({ index: 1, count: 3 });
    expect(model.layers[2]!.range).toEqual(model.layers[0]!.range);
    expect(model.layers[6]!.unrolled).toBeNull();
    expect(model.inputShape).toEqual([10]);
    expect(model.layers[2]!.fanIn).toBe(64);
    expect(model.layers[6]!.fanIn).toBe(192);
  });

  it('unrolls model.add inside a list comprehension', async () => {
    const models = await extractFrom(`
from keras.models import Sequential
from keras.layers import Dense
model = Sequential()
[model.add(Dense(16, activation='tanh')) for _ in range(4)]
model.add(Dense(1, activation='sigmoid'))
`);
    const model = modelNamed(models, 'model');
    expect(layerSummary(model)).toEqual(['dense:tanh', 'dense:tanh', 'dense:tanh', 'dense:tanh', 'dense:sigmoid']);
    expect(model.layers.slice(0, 4).map((l) => l.unrolled?.index)).toEqual([0, 1, 2, 3]);
  });

  it('marks layers under unknown conditions and loops with unknown bounds, keeps going after syntax errors and Python 2 prints', async () => {
    const text = kerasFixture('kaggle_notebook.py');
    const models = await extractFrom(text);
    expect(models.map((m) => m.name)).toEqual(['model', 'baseline']);
    const model = modelNamed(models, 'model');
    expect(layerSummary(model)).toEqual(['dense', 'activation:tanh', 'batchnorm', 'dense:tanh', 'dense:softmax']);
    const [first, , bn, repeated, out] = model.layers;
    expect(defined(first).kernelInit).toMatchObject({ name: 'random_normal', params: { mean: 0, stddev: 1 }, explicit: true });
    expect(defined(first).fanIn).toBe(93);
    expect(defined(bn).conditional).toBe(true);
    expect(defined(first).conditional).toBe(false);
    expect(defined(repeated).repeated).toBe(true);
    expect(defined(repeated).unrolled).toBeNull();
    expect(defined(out).repeated).toBe(false);
    expect(model.unsupported).toEqual([
      { what: 'layers built in a loop with non-constant bounds (read as one pass)', range: expect.any(Object) },
    ]);
    // The multi-line Dense(...) with a comment and trailing comma: range spans the whole call.
    expect(defined(out).units).toBe(9);
    const lines = text.split('\n');
    expect(defined(out).range.start.line).toBe(lines.indexOf('model.add(Dense('));
    expect(defined(out).range.end.line).toBe(lines.indexOf('))', defined(out).range.start.line));
  });

  it('evaluates conditions it can know: a constant flag picks its branch', async () => {
    const models = await extractFrom(`
from tensorflow import keras
USE_BN = False
model = keras.Sequential()
model.add(keras.layers.Dense(32, input_shape=(8,)))
if USE_BN:
    model.add(keras.layers.BatchNormalization())
else:
    model.add(keras.layers.Dropout(0.1))
`);
    expect(layerSummary(modelNamed(models, 'model'))).toEqual(['dense', 'dropout']);
    expect(modelNamed(models, 'model').layers[1]!.conditional).toBe(false);
  });
});

describe('import spellings', () => {
  it.each([
    ['import tensorflow as tf', 'tf.keras.layers.Dense', 'tf.keras.Sequential'],
    ['from tensorflow import keras', 'keras.layers.Dense', 'keras.Sequential'],
    ['import keras', 'keras.layers.Dense', 'keras.models.Sequential'],
    ['from keras import layers, models', 'layers.Dense', 'models.Sequential'],
    ['import tensorflow.keras.layers as L\nfrom tensorflow.keras.models import Sequential', 'L.Dense', 'Sequential'],
    ['from tensorflow.keras.layers import Dense as FC\nfrom tensorflow.keras import Sequential', 'FC', 'Sequential'],
    ['from tensorflow.python.keras.layers import Dense\nfrom tensorflow.python.keras.models import Sequential', 'Dense', 'Sequential'],
  ])('%s', async (imports, dense, sequential) => {
    const models = await extractFrom(`${imports}\nnet = ${sequential}([${dense}(4, activation='relu', input_shape=(3,)), ${dense}(1)])\n`);
    const net = modelNamed(models, 'net');
    expect(layerSummary(net)).toEqual(['dense:relu', 'dense']);
    expect(net.layers[0]!.className).toBe(dense);
    expect(net.layers[1]!.fanIn).toBe(4);
  });

  it('ignores a file without Keras even when its classes are called Dense and Sequential', async () => {
    expect(await extractFrom(kerasFixture('not_keras.py'))).toEqual([]);
  });

  it('does not take a local Dense class for a Keras layer in a Keras file', async () => {
    const models = await extractFrom(`
import tensorflow as tf
class Dense:
    pass
model = tf.keras.Sequential([tf.keras.layers.Dense(3), Dense()])
`);
    const model = modelNamed(models, 'model');
    expect(model.layers.map((l) => l.kind)).toEqual(['dense', 'unknown']);
    expect(model.unsupported.map((u) => u.what)).toEqual(['layer Dense']);
  });
});

describe('layer catalog', () => {
  it('maps every supported Keras class onto its IR kind, with sizes and fans', async () => {
    const models = await extractFrom(`
from tensorflow import keras
from tensorflow.keras import layers

seq = keras.Sequential([
    layers.InputLayer(input_shape=(100, 8)),
    layers.Normalization(),
    layers.Conv1D(16, 5, strides=1, padding="causal", dilation_rate=2, activation="selu", kernel_initializer="lecun_normal"),
    layers.AlphaDropout(0.1),
    layers.SpatialDropout1D(0.2),
    layers.GaussianDropout(0.1),
    layers.GroupNormalization(groups=4),
    layers.LayerNormalization(epsilon=1e-5),
    layers.MaxPool1D(2),
    layers.AveragePooling1D(pool_size=5),
    layers.GlobalMaxPooling1D(),
    layers.Dense(8, use_bias=False),
    layers.BatchNormalization(momentum=0.9, epsilon=1e-3),
    layers.ELU(),
])

vol = keras.Sequential([
    layers.Conv3D(4, 3, input_shape=(16, 16, 16, 1)),
    layers.MaxPooling3D(),
])

cf = keras.Sequential([
    layers.Conv2D(8, 3, data_format="channels_first", input_shape=(3, 32, 32)),
    layers.DepthwiseConv2D(3, depth_multiplier=2, data_format="channels_first"),
    layers.UpSampling2D(),
    layers.ZeroPadding2D(1),
    layers.Permute((2, 1, 3)),
])
`);
    const seq = modelNamed(models, 'seq');
    expect(seq.layers.map((l) => l.kind)).toEqual([
      'input', 'rescaling', 'conv1d', 'alpha-dropout', 'dropout', 'dropout', 'groupnorm', 'layernorm', 'maxpool', 'avgpool', 'global-pool', 'dense', 'batchnorm', 'activation',
    ]);
    expect(seq.inputShape).toEqual([100, 8]);
    const conv = seq.layers[2]!;
    expect(conv).toMatchObject({ units: 16, kernelSize: [5], fanIn: 40, fanOut: 80, activation: { name: 'selu' }, kernelInit: { name: 'lecun_normal' } });
    expect(conv).toMatchObject({ conv: { padding: 'causal', dilation: [2], strides: [1] } });
    expect(seq.layers[6]).toMatchObject({ kind: 'groupnorm', norm: { groups: 4 } });
    expect(seq.layers[7]).toMatchObject({ kind: 'layernorm', norm: { epsilon: 1e-5 } });
    // causal keeps 100 steps; /2 -> 50; pool 5 -> 10; global pool -> 16 channels.
    expect(seq.layers[11]).toMatchObject({ fanIn: 16, useBias: false, biasInit: null });
    expect(seq.layers[12]).toMatchObject({ norm: { momentum: 0.9, epsilon: 1e-3 } });
    expect(seq.layers[13]!.activation).toMatchObject({ name: 'elu', params: { alpha: 1 } });
    const vol = modelNamed(models, 'vol');
    expect(vol.layers.map((l) => l.kind)).toEqual(['conv3d', 'maxpool']);
    expect(vol.layers[0]).toMatchObject({ kernelSize: [3, 3, 3], fanIn: 27, fanOut: 108 });
    const cf = modelNamed(models, 'cf');
    expect(cf.layers.map((l) => l.kind)).toEqual(['conv2d', 'conv2d', 'reshape', 'reshape', 'reshape']);
    expect(cf.layers[0]).toMatchObject({ inFeatures: 3, fanIn: 27, fanOut: 72 });
    // Depthwise: 8 channels in, 2 per channel out; fans of the depthwise kernel.
    expect(cf.layers[1]).toMatchObject({ inFeatures: 8, fanIn: 72, fanOut: 18, conv: { variant: 'depthwise', depthMultiplier: 2 } });
    expect(cf.layers.slice(2).map((l) => (l.kind === 'reshape' ? l.reshape.op : null))).toEqual(['upsampling', 'zero-padding', 'permute']);
  });
});

describe('configuration lists', () => {
  it('indexes constant lists in loops over range(len(...))', async () => {
    const model = modelNamed(
      await extractFrom(`
from keras.models import Sequential
from keras.layers import Dense
UNITS = [128, 64, 32]
ACTS = ["tanh", "tanh", "sigmoid"]
model = Sequential()
for i in range(len(UNITS)):
    model.add(Dense(UNITS[i], activation=ACTS[i], input_shape=(10,) if i == 0 else None))
for units, act in zip(UNITS[1:], ACTS):
    pass
model.add(Dense(1))
`),
      'model',
    );
    expect(layerSummary(model)).toEqual(['dense:tanh', 'dense:tanh', 'dense:sigmoid', 'dense']);
    expect(model.layers.map((l) => l.units)).toEqual([128, 64, 32, 1]);
    expect(model.layers.map((l) => l.fanIn)).toEqual([10, 128, 64, 32]);
    expect(model.layers[2]!.activation).toMatchObject({ spelling: 'ACTS[i]', source: 'kwarg' });
  });
});
