/** Keras functional graphs: Input -> layers -> keras.Model, residuals, merges, helpers, multiple inputs. */
import { describe, expect, it } from 'vitest';
import { extractFrom, kerasFixture, layerSummary, lineOf, modelNamed } from './extract-helper';
import { defined } from '../../defined';

describe('functional models', () => {
  it('inlines a residual helper per call and wires the Add inputs (keras.io ResNet style)', async () => {
    const text = kerasFixture('resnet_functional.py');
    const model = modelNamed(await extractFrom(text), 'build_resnet');
    expect(model.style).toBe('keras-functional');
    expect(model.isGraph).toBe(true);
    expect(model.exports).toEqual(['build_resnet']);
    expect(model.inputShape).toEqual([32, 32, 3]);
    expect(model.layers[0]).toMatchObject({ kind: 'input', name: 'image', shape: [32, 32, 3] });
    expect(model.layers[1]).toMatchObject({ kind: 'rescaling', scale: 1 / 255 });
    // stem conv, then two residual blocks of 7 layers each (downsample=False: no projection conv).
    const block = ['conv2d', 'batchnorm', 'activation:relu', 'conv2d', 'batchnorm', 'add', 'activation:relu'];
    expect(layerSummary(model)).toEqual(['input', 'rescaling', 'conv2d', ...block, ...block, 'global-pool', 'dropout', 'dense:softmax']);
    const adds = model.layers.filter((l) => l.kind === 'add');
    // First block: shortcut is the stem conv (L2); second block: the first block's output (L9).
    expect(adds.map((l) => l.inputs)).toEqual([
      ['L7', 'L2'],
      ['L14', 'L9'],
    ]);
    const convs = model.layers.filter((l) => l.kind === 'conv2d');
    expect(convs.map((c) => c.units)).toEqual([16, 16, 16, 32, 32]);
    expect(convs.map((c) => c.fanIn)).toEqual([27, 144, 144, 144, 288]);
    expect(convs[1]).toMatchObject({ useBias: false, biasInit: null, kernelInit: { name: 'he_normal', explicit: true, spelling: '"he_normal"' } });
    // Both blocks come from the one helper: the copies point at the helper's lines, unrolled by the loop.
    const helperConvLine = text.split('\n').findIndex((l) => l.includes('x = layers.Conv2D(filters, 3, strides=strides')) + 1;
    expect(lineOf(convs[1]!)).toBe(helperConvLine);
    expect(lineOf(convs[3]!)).toBe(helperConvLine);
    expect(convs[1]!.unrolled).toEqual({ index: 0, count: 2 });
    expect(convs[3]!.unrolled).toEqual({ index: 1, count: 2 });
    expect(defined(model.layers.at(-1)).fanIn).toBe(32);
    expect(model.range.start.line + 1).toBe(text.split('\n').findIndex((l) => l.includes('inputs = keras.Input')) + 1);
  });

  it('reads a two-input model with a concatenation and named outputs', async () => {
    const model = modelNamed(await extractFrom(kerasFixture('resnet_functional.py')), 'ticket_model');
    expect(model.exports).toEqual(['ticket_model']);
    expect(layerSummary(model)).toEqual(['input', 'input', 'embedding', 'embedding', 'lstm:tanh', 'lstm:tanh', 'concat', 'dense:sigmoid']);
    const concat = model.layers[6]!;
    expect(concat.inputs).toEqual(['L4', 'L5']);
    expect(model.layers[7]).toMatchObject({ name: 'priority', fanIn: 160, units: 1 });
    expect(model.layers[4]).toMatchObject({ units: 128, inFeatures: 64, fanIn: 64, fanOut: 512 });
    expect(model.layers[2]!.kernelInit).toMatchObject({ name: 'random_uniform', explicit: false, params: { minval: -0.05, maxval: 0.05 } });
  });

  it('reads Bidirectional and TimeDistributed wrappers', async () => {
    const models = await extractFrom(kerasFixture('recurrent_text.py'));
    const sentiment = modelNamed(models, 'sentiment');
    expect(layerSummary(sentiment)).toEqual(['input', 'embedding', 'lstm:tanh', 'lstm:tanh', 'dense:sigmoid']);
    const bi = sentiment.layers[2]!;
    expect(bi).toMatchObject({ className: 'L.Bidirectional(L.LSTM)', units: 64, fanIn: 128, fanOut: 256, recurrent: { bidirectional: true, mergeMode: 'concat', returnSequences: true, recurrentActivation: 'sigmoid' } });
    expect(bi.recurrentInit).toMatchObject({ name: 'orthogonal', explicit: false });
    expect(bi.activation).toMatchObject({ name: 'tanh', source: 'default' });
    // Concatenated directions: 2 * 64 features reach the next LSTM and the Dense.
    expect(sentiment.layers[3]!.fanIn).toBe(128);
    expect(sentiment.layers[4]!.fanIn).toBe(128);
    const tagger = modelNamed(models, 'tagger');
    expect(tagger.inputShape).toEqual([40]);
    expect(tagger.layers[1]).toMatchObject({ kind: 'gru', fanIn: 32, fanOut: 144, recurrent: { recurrentActivation: 'hard_sigmoid', dropout: 0.2 } });
    expect(tagger.layers[3]).toMatchObject({ kind: 'dense', className: 'L.TimeDistributed(L.Dense)', fanIn: 16, fanOut: 9, timeDistributed: true });
    const forecaster = modelNamed(models, 'forecaster');
    expect(forecaster.inputShape).toEqual([10, 3]);
    expect(forecaster.layers[0]).toMatchObject({ kind: 'lstm', fanIn: 3, fanOut: 200, recurrentInit: { name: 'glorot_uniform', explicit: true } });
    expect(forecaster.layers[1]).toMatchObject({ kind: 'reshape', reshape: { op: 'repeat-vector', n: 5 } });
    expect(forecaster.layers[3]!.fanIn).toBe(50);
  });

  it('chains Sequential sub-models applied to tensors and reports what it cannot model', async () => {
    const text = kerasFixture('factories.py');
    const models = await extractFrom(text);
    const auto = modelNamed(models, 'make_autoencoder');
    expect(layerSummary(auto)).toEqual(['input', 'dense:relu', 'dense:relu', 'dense:relu', 'dense:sigmoid']);
    expect(auto.layers.map((l) => l.fanIn)).toEqual([null, 784, 64, 8, 64]);
    // The encoder and decoder Sequentials are models of their own, not exported (make_autoencoder returns neither).
    expect(modelNamed(models, 'encoder').exports).toEqual([]);
    const head = modelNamed(models, 'head');
    expect(head.layers.map((l) => l.kind)).toEqual(['input', 'unknown', 'unknown', 'backbone', 'global-pool', 'attention', 'dense']);
    expect(head.layers[3]).toMatchObject({ className: 'keras.applications.MobileNetV2', name: 'backbone' });
    // Not frozen: its layers train, which is not modelled (keras-applications.test).
    expect(head.unsupported.map((u) => u.what)).toEqual([
      'keras.applications.MobileNetV2 (not frozen: its layers train)',
    ]);
  });

  it('treats x + shortcut, Concatenate()(..) and tf ops as graph nodes; keeps unknown calls as pass-through', async () => {
    const models = await extractFrom(`
import tensorflow as tf
from tensorflow.keras import layers, Model, Input

inp = Input((64,))
h = layers.Dense(64, activation='relu')(inp)
h = tf.squeeze(h)
skip = h
h = layers.Dense(64)(h)
h = h + skip
a = layers.Dense(8)(h)
b = layers.Dense(8)(h)
c = layers.Concatenate(axis=-1)([a, b])
d = tf.concat([a, c], axis=-1)
out = layers.Dense(3, activation='softmax')(d)
net = Model(inputs=inp, outputs=out)
`);
    const net = modelNamed(models, 'net');
    expect(layerSummary(net)).toEqual(['input', 'dense:relu', 'dense', 'add', 'dense', 'dense', 'concat', 'concat', 'dense:softmax']);
    expect(net.layers[3]).toMatchObject({ className: '+', inputs: ['L2', 'L1'] });
    expect(net.layers[6]).toMatchObject({ inputs: ['L4', 'L5'], merge: { op: 'concatenate', axis: -1 } });
    expect(net.layers[7]).toMatchObject({ className: 'tf.concat', inputs: ['L4', 'L6'] });
    expect(net.layers[8]!.fanIn).toBe(8 + 16);
  });

  it('only includes the layers that feed the outputs, and several models of one scope stay apart', async () => {
    const models = await extractFrom(`
from tensorflow import keras
inputs = keras.Input(shape=(10,))
shared = keras.layers.Dense(16, activation='relu')(inputs)
out_a = keras.layers.Dense(1, name='a')(shared)
out_b = keras.layers.Dense(2, name='b')(shared)
model_a = keras.Model(inputs, out_a)
model_b = keras.Model(inputs, out_b)
both = keras.Model(inputs, [out_a, out_b])
`);
    expect(models.map((m) => m.name)).toEqual(['model_a', 'model_b', 'both']);
    expect(modelNamed(models, 'model_a').layers.map((l) => l.name)).toEqual(['input', 'dense', 'a']);
    expect(modelNamed(models, 'model_b').layers.map((l) => l.name)).toEqual(['input', 'dense', 'b']);
    expect(modelNamed(models, 'both').layers.map((l) => l.name)).toEqual(['input', 'dense', 'a', 'b']);
    expect(new Set(models.map((m) => m.id)).size).toBe(3);
  });

  it('applies tf.nn activations between layers as functional activations', async () => {
    const models = await extractFrom(`
import tensorflow as tf
x_in = tf.keras.Input(shape=(5,))
x = tf.nn.leaky_relu(tf.keras.layers.Dense(4)(x_in), alpha=0.1)
x = tf.keras.activations.selu(tf.keras.layers.Dense(4, kernel_initializer='lecun_normal')(x))
mdl = tf.keras.Model(x_in, x)
`);
    const mdl = modelNamed(models, 'mdl');
    expect(layerSummary(mdl)).toEqual(['input', 'dense', 'activation:leaky_relu', 'dense', 'activation:selu']);
    expect(mdl.layers[2]!.activation).toMatchObject({ source: 'functional', spelling: 'tf.nn.leaky_relu', params: { alpha: 0.1 } });
    expect(defined(mdl.layers[4]!.activation).range).toEqual({ start: { line: 4, character: 4 }, end: { line: 4, character: 4 + "tf.keras.activations.selu".length } });
  });
});

describe('factories read with what they are built with', () => {
  const text = `
import keras
from keras import layers

image_size = (180, 180)

def make_model(input_shape, num_classes, width=32):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(width, 3, strides=2, padding="same")(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        activation = "sigmoid"
        units = 1
    else:
        activation = "softmax"
        units = num_classes
    outputs = layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, outputs)

model = make_model(input_shape=image_size + (3,), num_classes=2)
`;

  it('binds the constant arguments of the single call site', async () => {
    const model = modelNamed(await extractFrom(text), 'make_model');
    expect(model.inputShape).toEqual([180, 180, 3]);
    expect(model.layers[1]).toMatchObject({ units: 32, fanIn: 27, fanOut: 288 });
    expect(model.layers.at(-1)).toMatchObject({ units: 1, fanIn: 32, activation: { name: 'sigmoid' } });
    expect(defined(model.layers.at(-1)).conditional).toBe(false);
  });

  it('reads a factory called twice once per call: two models, each named after its call', async () => {
    const twice = text + 'other = make_model((64, 64, 3), 10)\n';
    const models = await extractFrom(twice);
    expect(models.map((m) => m.name).sort()).toEqual(['make_model((64, 64, 3), 10)', 'make_model(input_shape=image_size + (3,), num_classes=2)']);
    const binary = modelNamed(models, 'make_model(input_shape=image_size + (3,), num_classes=2)');
    expect(binary.inputShape).toEqual([180, 180, 3]);
    expect(binary.layers.at(-1)).toMatchObject({ units: 1, activation: { name: 'sigmoid' } });
    expect(binary.instance).toMatchObject({ label: 'make_model(input_shape=image_size + (3,), num_classes=2)', range: { start: { line: 19 } } });
    const multi = modelNamed(models, 'make_model((64, 64, 3), 10)');
    expect(multi.inputShape).toEqual([64, 64, 3]);
    expect(multi.layers.at(-1)).toMatchObject({ units: 10, activation: { name: 'softmax' } });
    expect(multi.layers[1]!.units).toBe(32);
  });

  it('collapses calls that build the same model into one, named after the factory', async () => {
    const same = text + 'again = make_model(input_shape=(180, 180, 3), num_classes=2)\n';
    const models = await extractFrom(same);
    expect(models.map((m) => m.name)).toEqual(['make_model']);
    expect(models[0]!.instance).toBeUndefined();
  });

  it('a call with unknown arguments leaves them unknown (not their defaults), and no branch constant survives an unknown condition', async () => {
    const unknown = text.replace('model = make_model(input_shape=image_size + (3,), num_classes=2)', 'model = make_model(input_shape=args.shape, num_classes=args.classes)');
    const model = modelNamed(await extractFrom(unknown), 'make_model');
    expect(model.inputShape).toBeNull();
    const head = defined(model.layers.at(-1));
    expect(head.units).toBeNull();
    expect(head.activation).toMatchObject({ name: 'unknown', spelling: 'activation' });
    // Not guessed from a default either: width keeps its declared default.
    expect(model.layers[1]!.units).toBe(32);
  });
});

describe('transfer learning', () => {
  it('reads base_model.output / base_model.input: the pretrained model is one backbone layer, frozen by the loop over its layers', async () => {
    const models = await extractFrom(`
from tensorflow.keras.applications import ResNet50
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.models import Model

base_model = ResNet50(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
for layer in base_model.layers:
    layer.trainable = False
x = base_model.output
x = GlobalAveragePooling2D()(x)
x = Dense(1024, activation='relu')(x)
predictions = Dense(5, activation='softmax')(base_model.output if False else x)
model = Model(inputs=base_model.input, outputs=predictions)
`);
    const model = modelNamed(models, 'model');
    expect(model.layers.map((l) => [l.kind, l.className])).toEqual([
      ['backbone', 'ResNet50'],
      ['global-pool', 'GlobalAveragePooling2D'],
      ['dense', 'Dense'],
      ['dense', 'Dense'],
    ]);
    expect(model.inputShape).toEqual([224, 224, 3]);
    expect(model.layers[1]!.inputs).toEqual(['L0']);
    expect(model.layers[3]!.fanIn).toBe(1024);
    // The loop over base_model.layers makes no layer, and freezes the base: nothing to report.
    expect(model.layers[0]).toMatchObject({ backbone: { architecture: 'ResNet50', training: 'frozen' } });
    expect(model.unsupported).toEqual([]);
  });
});

describe('outputs and inputs of other models', () => {
  // Found on held-out real code (session 34): both were dropped without a word, so the model read as its head alone.
  it('reads base.layers[-1].output as base.output: the backbone stays in the model, and the head layer reads its width', async () => {
    const read = async (output: string) => modelNamed(await extractFrom(`
from tensorflow.keras.applications import VGG19
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.models import Model

base = VGG19(weights=None, include_top=False, input_shape=(71, 71, 3))
h = GlobalAveragePooling2D()(${output})
h = Dense(512, activation='selu')(h)
out = Dense(7, activation='softmax')(Dense(256, activation='selu')(h))
model = Model(inputs=base.inputs, outputs=out)
`), 'model');
    const last = await read('base.layers[-1].output');
    expect(last.layers.map((l) => l.kind)).toEqual(['backbone', 'global-pool', 'dense', 'dense', 'dense']);
    expect(last.layers[1]!.inputs).toEqual(['L0']);
    expect(last.layers).toEqual((await read('base.output')).layers);
  });

  it('reads the .input and .output of functional sub-models merged into a larger one', async () => {
    const model = modelNamed(await extractFrom(`
from keras.layers import Input, Dense, concatenate
from keras.models import Model

a = Input(shape=(10,))
b = Input(shape=(20,))
left = Model(inputs=a, outputs=Dense(8, activation='relu')(a))
right = Model(inputs=b, outputs=Dense(8, activation='relu')(b))
merged = concatenate([left.output, right.output])
out = Dense(1)(Dense(4, activation='relu')(merged))
net = Model(inputs=[left.input, right.input], outputs=out)
`), 'net');
    expect(model.layers.map((l) => [l.kind, l.inputs])).toEqual([
      ['input', []], ['input', []], ['dense', ['L0']], ['dense', ['L1']], ['concat', ['L2', 'L3']], ['dense', ['L4']], ['dense', ['L5']],
    ]);
  });
});

describe('layer classes the reader cannot see', () => {
  // Found on held-out real code (session 34): made into a variable and applied later, they were passed
  // through without a word (the model read as Input -> pooling -> Dense, predicted healthy).
  const source = (apply: string) => `
from tensorflow import keras
from tensorflow.keras import layers
from text_blocks import TransformerBlock

inputs = layers.Input(shape=(100,))
${apply}
x = layers.GlobalAveragePooling1D()(x)
model = keras.Model(inputs, layers.Dense(1, activation='sigmoid')(x))
`;

  it('made into a variable, then applied: an unknown layer where applied, with a note, as when applied at once', async () => {
    const later = modelNamed(await extractFrom(source('emb = TokenAndPositionEmbedding(100, 5000, 32)\nx = emb(inputs)\nblock = TransformerBlock(32, 2)\nx = block(x)')), 'model');
    const atOnce = modelNamed(await extractFrom(source('x = TokenAndPositionEmbedding(100, 5000, 32)(inputs)\nx = TransformerBlock(32, 2)(x)')), 'model');
    for (const model of [later, atOnce]) {
      expect(model.layers.map((l) => (l.kind === 'unknown' ? l.className : l.kind))).toEqual(['input', 'TokenAndPositionEmbedding', 'TransformerBlock', 'global-pool', 'dense']);
      expect(model.unsupported.map((u) => u.what)).toEqual(['layer TokenAndPositionEmbedding', 'layer TransformerBlock']);
    }
  });
});

describe('U-Net', () => {
  it('wires skip connections kept in a list, reads helper defaults and per-call arguments', async () => {
    const text = kerasFixture('unet_segmentation.py');
    const model = modelNamed(await extractFrom(text), 'unet');
    expect(model.exports).toEqual(['unet']);
    expect(model.inputShape).toEqual([128, 128, 3]);
    const convs = model.layers.filter((l) => l.kind === 'conv2d');
    // 3 encoder blocks, the bottleneck, 3 decoder blocks (2 convs each), then the 1x1 head.
    expect(convs.map((c) => c.units)).toEqual([16, 16, 32, 32, 64, 64, 128, 128, 64, 64, 32, 32, 16, 16, 1]);
    // Decoder convs see the upsampled path concatenated with the skip: twice the channels.
    expect(convs[8]!.fanIn).toBe(128 * 9);
    expect(convs[14]!.fanIn).toBe(16);
    // Only the bottleneck block has dropout > 0.
    expect(model.layers.flatMap((l) => (l.kind === 'dropout' ? [l.rate] : []))).toEqual([0.3]);
    const concats = model.layers.filter((l) => l.kind === 'concat');
    const id = (l: { id: string }) => l.id;
    const encoderOutputs = model.layers.filter((l, i) => l.kind === 'activation' && model.layers[i + 1]?.kind === 'maxpool').map(id);
    expect(concats.map((c) => c.inputs[1])).toEqual([...encoderOutputs].reverse());
    // The helper's convs are copies of one call: unrolled where a loop made them, not in the bottleneck.
    expect(convs[0]!.unrolled).toEqual({ index: 0, count: 6 });
    expect(convs[6]!.unrolled).toBeNull();
    expect(model.layers.filter((l) => l.kind === 'conv-transpose').map((l) => [l.units, l.fanIn, l.fanOut])).toEqual([
      [64, 64 * 9, 128 * 9],
      [32, 32 * 9, 64 * 9],
      [16, 16 * 9, 32 * 9],
    ]);
  });
});

describe('models applied as layers', () => {
  it('expands functional sub-models applied to tensors (autoencoder = decoder(encoder(x)))', async () => {
    const models = await extractFrom(`
from tensorflow import keras
from tensorflow.keras import layers

encoder_inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Flatten()(x)
z = layers.Dense(2, name="z")(x)
encoder = keras.Model(encoder_inputs, z, name="encoder")

latent_inputs = keras.Input(shape=(2,))
x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
x = layers.Reshape((7, 7, 64))(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

autoencoder = keras.Model(encoder_inputs, decoder(encoder(encoder_inputs)))
`);
    expect(models.map((m) => m.name)).toEqual(['encoder', 'autoencoder', 'decoder']);
    const auto = modelNamed(models, 'autoencoder');
    // The decoder's Input is replaced by the encoder's output.
    expect(auto.layers.map((l) => l.kind)).toEqual(['input', 'conv2d', 'flatten', 'dense', 'dense', 'reshape', 'conv-transpose']);
    expect(auto.layers[4]).toMatchObject({ inputs: ['L3'], fanIn: 2, units: 3136 });
    expect(auto.layers[6]).toMatchObject({ fanIn: 9, fanOut: 576 });
    expect(modelNamed(models, 'decoder').layers[0]!.kind).toBe('input');
  });
});
