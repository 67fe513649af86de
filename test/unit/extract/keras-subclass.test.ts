/** keras.Model subclasses: layers from __init__, order and functional activations from call(). */
import { describe, expect, it } from 'vitest';
import { extractFrom, kerasFixture, layerSummary, lineOf, modelNamed } from './extract-helper';
import { defined } from '../../defined';

describe('keras.Model subclasses', () => {
  it('reads the TF "advanced quickstart" model in call() order, naming layers by attribute', async () => {
    const text = kerasFixture('subclass_models.py');
    const models = await extractFrom(text);
    // ResidualBlock and GatedOutput are layers, not models.
    expect(models.map((m) => m.name)).toEqual(['MyModel', 'DeepMLP', 'WithCustomHead']);
    const model = modelNamed(models, 'MyModel');
    expect(model.style).toBe('keras-subclass');
    expect(model.exports).toEqual(['MyModel']);
    expect(model.layers.map((l) => l.name)).toEqual(['conv1', 'flatten', 'd1', 'd2']);
    expect(layerSummary(model)).toEqual(['conv2d:relu', 'flatten', 'dense:relu', 'dense']);
    expect(lineOf(model.layers[0]!)).toBe(text.split('\n').findIndex((l) => l.includes('self.conv1 = Conv2D')) + 1);
    expect(model.layers[0]).toMatchObject({ units: 32, kernelSize: [3, 3], fanIn: null, fanOut: 288 });
    // Input size unknown: the first Dense's fan-in stays unknown, the next one follows from units.
    expect(model.layers[2]!.fanIn).toBeNull();
    expect(model.layers[3]!.fanIn).toBe(128);
    expect(model.range.start.line + 1).toBe(text.split('\n').findIndex((l) => l.startsWith('class MyModel')) + 1);
    expect(model.nameRange.start.character).toBe('class '.length);
  });

  it('follows call() through functional activations, a list of custom blocks and a training-only branch', async () => {
    const text = kerasFixture('subclass_models.py');
    const model = modelNamed(await extractFrom(text), 'DeepMLP');
    const block = ['dense', 'activation:gelu', 'dense', 'add', 'layernorm'];
    expect(layerSummary(model)).toEqual(['dense', 'activation:relu', ...block, ...block, ...block, ...block, 'dropout', 'dense', 'activation:softmax']);
    expect(model.isGraph).toBe(true);
    expect(model.layers[1]!.activation).toMatchObject({ name: 'relu', source: 'functional', spelling: 'tf.nn.relu' });
    // Defaults of __init__ apply: width=256, depth=4.
    const denses = model.layers.filter((l) => l.kind === 'dense');
    expect(denses.map((l) => l.units)).toEqual([256, 256, 256, 256, 256, 256, 256, 256, 256, 10]);
    expect(denses.slice(1, 9).every((l) => l.fanIn === 256)).toBe(true);
    // Each block's residual adds the block input to its second Dense.
    const firstAdd = model.layers[5]!;
    expect(firstAdd).toMatchObject({ kind: 'add', inputs: ['L1', 'L4'] });
    expect(model.layers[2]!.unrolled).toEqual({ index: 0, count: 4 });
    expect(model.layers[17]!.unrolled).toEqual({ index: 3, count: 4 });
    // `training` is Keras' to pass: the dropout under `if training:` is conditional, not dropped.
    const dropout = defined(model.layers.find((l) => l.kind === 'dropout'));
    expect(dropout).toMatchObject({ rate: 0.1, conditional: true });
    expect(defined(defined(model.layers.at(-1)).activation).name).toBe('softmax');
  });

  it('inlines nested Sequentials and reports a custom layer with its own weights as unknown', async () => {
    const text = kerasFixture('subclass_models.py');
    const model = modelNamed(await extractFrom(text), 'WithCustomHead');
    expect(model.layers.map((l) => [l.kind, l.className])).toEqual([
      ['dense', 'Dense'],
      ['dense', 'Dense'],
      ['unknown', 'GatedOutput'],
    ]);
    expect(model.layers[2]!.name).toBe('gate');
    expect(model.unsupported).toEqual([{ what: 'custom layer GatedOutput (it creates its own weights)', range: model.layers[2]!.range }]);
  });

  it('reads helper methods, layer lists filled in loops, subclass-of-subclass, and __init__ order without call()', async () => {
    const models = await extractFrom(`
import tensorflow as tf
from tensorflow.keras import layers

class Base(tf.keras.Model):
    def __init__(self, n=2):
        super().__init__()
        self.hidden = []
        for i in range(n):
            self.hidden.append(layers.Dense(32 // (i + 1), activation='sigmoid', name=f'h{i}'))
        self.out = layers.Dense(1)

    def features(self, x):
        for h in self.hidden:
            x = h(x)
        return x

    def call(self, inputs):
        return self.out(self.features(inputs))

class Child(Base):
    pass

class NoCall(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.a = layers.Dense(8)
        self.b = layers.Dense(4)
`);
    expect(models.map((m) => m.name)).toEqual(['Base', 'Child', 'NoCall']);
    const base = modelNamed(models, 'Base');
    expect(layerSummary(base)).toEqual(['dense:sigmoid', 'dense:sigmoid', 'dense']);
    expect(base.layers.map((l) => l.units)).toEqual([32, 16, 1]);
    expect(base.layers[1]!.fanIn).toBe(32);
    expect(base.layers[0]!.unrolled).toEqual({ index: 0, count: 2 });
    expect(layerSummary(modelNamed(models, 'Child'))).toEqual(layerSummary(base));
    expect(modelNamed(models, 'NoCall').layers.map((l) => l.name)).toEqual(['a', 'b']);
    expect(modelNamed(models, 'NoCall').layers[1]!.fanIn).toBe(8);
  });

  it('leaves a Model subclass with no layers out, and never treats a plain class as a model', async () => {
    const models = await extractFrom(`
import tensorflow as tf
class GAN(tf.keras.Model):
    def __init__(self, generator, discriminator):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator

class Config:
    def __init__(self):
        self.units = 64
`);
    expect(models).toEqual([]);
  });
});

describe('layers made in build()', () => {
  it('reads layers a Model creates in build(input_shape) in call() order', async () => {
    const models = await extractFrom(`
import tensorflow as tf

class Lazy(tf.keras.Model):
    def build(self, input_shape):
        self.hidden = tf.keras.layers.Dense(input_shape[-1] * 2, activation="tanh")
        self.head = tf.keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.hidden(x))
`);
    const lazy = modelNamed(models, 'Lazy');
    expect(lazy.layers.map((l) => [l.name, l.kind, l.units])).toEqual([
      ['hidden', 'dense', null],
      ['head', 'dense', 1],
    ]);
    expect(defined(lazy.layers[0]!.activation).name).toBe('tanh');
  });
});

describe('a custom layer class named through a local alias (`block = Expand`)', () => {
  const blocks = ['conv2d', 'conv2d', 'conv2d', 'batchnorm']; // expand, depthwise (a conv2d), project, norm

  it('is the class: each `block(c, s)(x)` reads its layers as a direct call does', async () => {
    const model = modelNamed(await extractFrom(kerasFixture('aliased_block_class.py')), 'tiny_mobilenet');
    const kinds = layerSummary(model);
    expect(kinds.slice(2, 14)).toEqual([...blocks, ...blocks, ...blocks]);
    // Each settings row's widths: expanded 4x, then projected back (the depthwise conv keeps its input's).
    expect(model.layers.filter((l) => l.kind === 'conv2d' && l.units !== null).map((l) => l.units)).toEqual([64, 16, 96, 24, 128, 32]);
  });

  it('a helper behind functools.partial is an unknown layer with a note naming it and its line, not a silent pass-through', async () => {
    const model = modelNamed(await extractFrom(kerasFixture('aliased_block_class.py')), 'tiny_mobilenet');
    expect(layerSummary(model).slice(0, 2)).toEqual(['input', 'unknown']);
    expect(model.unsupported.map((u) => `${u.what} @${u.range.start.line + 1}`)).toEqual(['layer relu_stem @29']);
  });

  it('leaves the twin that calls the class and the helper by name as it was', async () => {
    const model = modelNamed(await extractFrom(kerasFixture('direct_block_class.py')), 'tiny_mobilenet');
    expect(layerSummary(model)).toEqual(['input', 'conv2d', 'activation:relu', ...blocks, ...blocks, ...blocks, 'global-pool', 'dense']);
    expect(model.unsupported).toEqual([]);
  });
});
