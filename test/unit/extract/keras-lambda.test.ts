/**
 * Keras Lambda layers whose function the workspace writes become the graph they compute (noise drawn
 * with K.random_normal is an input fed N(0, 1), K.exp the exponential activation, `+ - *` merges, a
 * constant factor a rescaling); a function doing what the reader cannot model stays one unknown layer
 * that names the operation and its line. K.int_shape(x) gives the static shape the shape module computes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';
import { isNoiseInput } from '../../../src/shared/layers';
import { extractedModels, kerasFixture, lineOf } from './extract-helper';
import { defined } from '../../defined';

async function modelOf(text: string, name: string): Promise<ModelIR> {
  return defined((await extractedModels(text)).find((m) => m.name === name));
}

const kinds = (model: ModelIR) => model.layers.map((l) => (l.kind === 'activation' ? `activation:${l.activation?.name ?? '?'}` : l.kind === 'input' && isNoiseInput(l) ? 'noise' : l.kind));
const byId = (model: ModelIR, id: string): LayerIR => defined(model.layers.find((l) => l.id === id));

const VAE = `from keras.layers import Input, Dense, Lambda
from keras.models import Model
from keras import backend as K

latent = 3

def reparameterize(args):
    mu, log_var = args
    eps = K.random_normal(shape=(K.shape(mu)[0], latent))
    return mu + K.exp(log_var / 2) * eps

inputs = Input(shape=(20,))
h = Dense(16, activation='relu')(inputs)
mu = Dense(latent)(h)
log_var = Dense(latent)(h)
z = Lambda(reparameterize)([mu, log_var])
out = Dense(20, activation='sigmoid')(Dense(16, activation='relu')(z))
vae = Model(inputs, out)
`;

describe('Lambda layers read through their function', () => {
  it('a VAE sampling function becomes noise, rescaling, exp, multiply and add', async () => {
    const vae = await modelOf(VAE, 'vae');
    expect(kinds(vae)).toEqual(['input', 'dense', 'dense', 'dense', 'noise', 'rescaling', 'activation:exponential', 'multiply', 'add', 'dense', 'dense']);
    expect(vae.unsupported).toEqual([]);
    const [noise, half, exp, mul, add] = vae.layers.slice(4);
    // The noise's shape is its shape= without the batch entry.
    expect(defined(noise).kind === 'input' && defined(noise).inputs).toEqual([]);
    expect(noise?.kind === 'input' ? noise.shape : null).toEqual([3]);
    expect(lineOf(defined(noise))).toBe(9);
    expect(half?.kind === 'rescaling' ? [half.scale, half.offset] : null).toEqual([0.5, 0]);
    expect(defined(half).inputs).toEqual(['L3']);
    expect(defined(exp).inputs).toEqual([defined(half).id]);
    expect(defined(mul).inputs).toEqual([defined(exp).id, defined(noise).id]);
    expect(defined(add).inputs).toEqual(['L2', defined(mul).id]);
    // The probe feeds the noise as a second input of its declared size.
    const plan = planModel(vae, probeOptions({ backend: 'wasm' }));
    expect(plan.extraInputs.map((e) => [e.shape, e.input.kind])).toEqual([[[3], 'noise']]);
  });

  it('noise with another spread is rescaled; a shape= the code computes takes the other operand of the product', async () => {
    const text = VAE.replace('shape=(K.shape(mu)[0], latent))', 'shape=K.shape(mu), mean=0., stddev=0.1)');
    const vae = await modelOf(text, 'vae');
    expect(kinds(vae).slice(4, 7)).toEqual(['noise', 'rescaling', 'rescaling']);
    const scaled = byId(vae, 'L5');
    expect(scaled.kind === 'rescaling' ? [scaled.scale, scaled.offset] : null).toEqual([0.1, 0]);
    const plan = planModel(vae, probeOptions({ backend: 'wasm' }));
    expect(plan.extraInputs.map((e) => e.shape)).toEqual([[3]]);
  });

  it('a lambda expression on a list of tensors: Subtract, and a negation as a rescaling by -1', async () => {
    const text = `import tensorflow as tf
from tensorflow.keras import layers
a = layers.Input(shape=(8,))
b = layers.Input(shape=(8,))
d = layers.Lambda(lambda t: -(t[0] - t[1]))([layers.Dense(4)(a), layers.Dense(4)(b)])
model = tf.keras.Model([a, b], layers.Dense(1)(d))
`;
    const model = await modelOf(text, 'model');
    expect(kinds(model)).toEqual(['input', 'input', 'dense', 'dense', 'add', 'rescaling', 'dense']);
    const sub = byId(model, 'L4');
    expect(sub.kind === 'add' ? sub.merge.op : null).toBe('subtract');
    expect(sub.inputs).toEqual(['L2', 'L3']);
    expect(model.unsupported).toEqual([]);
  });

  it('a function the reader cannot follow leaves one unknown layer naming the operation and its line', async () => {
    const text = VAE.replace('return mu + K.exp(log_var / 2) * eps', 'return K.mean(mu, axis=-1) + eps');
    const vae = await modelOf(text, 'vae');
    expect(kinds(vae)).toEqual(['input', 'dense', 'dense', 'dense', 'unknown', 'dense', 'dense']);
    expect(byId(vae, 'L4').inputs).toEqual(['L2', 'L3']);
    expect(vae.unsupported.map((u) => [u.what, u.range.start.line + 1])).toEqual([['Lambda(reparameterize): K.mean (line 10) is not an operation the probe can read', 10]]);
    expect(() => planModel(vae, probeOptions({ backend: 'wasm' }))).toThrow(/Lambda\(reparameterize\)/);
  });

  it("reads a tensor's .shape in the function as its static shape, not as an operation", async () => {
    const text = VAE.replace('eps = K.random_normal(shape=(K.shape(mu)[0], latent))', 'eps = K.random_normal(shape=(K.shape(mu)[0], mu.shape[1]))');
    const vae = await modelOf(text, 'vae');
    expect(vae.unsupported).toEqual([]);
    const noise = byId(vae, 'L4');
    expect(noise.kind === 'input' ? noise.shape : null).toEqual([3]);
  });

  it('a Lambda whose function is not in the workspace stays unknown', async () => {
    const text = VAE.replace('Lambda(reparameterize)', 'Lambda(some_library.sample)');
    const vae = await modelOf(text, 'vae');
    expect(kinds(vae)).toContain('unknown');
    expect(kinds(vae)).not.toContain('noise');
  });

  it('a Lambda in a Sequential reads its function on the previous layer', async () => {
    const text = `from tensorflow import keras
from tensorflow.keras import backend as K
model = keras.Sequential([
    keras.layers.Dense(8, input_shape=(4,)),
    keras.layers.Lambda(lambda x: K.tanh(x) * 2.0),
    keras.layers.Dense(1),
])
`;
    const model = await modelOf(text, 'model');
    expect(kinds(model)).toEqual(['dense', 'activation:tanh', 'rescaling', 'dense']);
    expect(model.unsupported).toEqual([]);
  });
});

describe('K.int_shape', () => {
  const DECODER = `import numpy as np
from keras import layers
from keras import backend as K
from keras.models import Model

inp = layers.Input(shape=(28, 28, 1))
x = layers.Conv2D(8, 3, strides=2, padding='same')(inp)
before = K.int_shape(x)
x = layers.Flatten()(x)
code = layers.Dense(2)(x)
encoder = Model(inp, code)

latent = layers.Input(K.int_shape(code)[1:])
y = layers.Dense(np.prod(before[1:]))(latent)
y = layers.Reshape(before[1:])(y)
y = layers.Conv2DTranspose(1, 3, strides=2, padding='same')(y)
decoder = Model(latent, y)
`;

  it('gives the static shape of a tensor, read inline or through a name, sliced and multiplied', async () => {
    const decoder = await modelOf(DECODER, 'decoder');
    expect(decoder.inputShape).toEqual([2]);
    expect(decoder.layers[1]?.units).toBe(14 * 14 * 8);
    const reshape = defined(decoder.layers[2]);
    expect(reshape.kind === 'reshape' ? reshape.reshape : null).toEqual({ op: 'reshape', target: [14, 14, 8] });
    expect(planModel(decoder, probeOptions({ backend: 'wasm' })).layers.at(-1)?.outShape).toEqual([28, 28, 1]);
  });

  it('stays unknown when the input shape is not written', async () => {
    const decoder = await modelOf(DECODER.replace('shape=(28, 28, 1)', 'shape=(None, None, 1)'), 'decoder');
    const reshape = defined(decoder.layers[2]);
    expect(reshape.kind === 'reshape' ? reshape.reshape : null).toEqual({ op: 'reshape', target: null });
  });

  // An autoencoder's bottleneck as tutorials write it: the shape before Flatten kept for the Reshape back.
  const AUTOENCODER = (kept: string) => `import numpy as np
from keras.layers import Input, Conv2D, Flatten, Dense, Reshape, Conv2DTranspose
from keras.models import Model

inp = Input((28, 28, 1))
x = Conv2D(20, (3, 3), strides=2, padding="same")(inp)
x_shape = ${kept}
x = Flatten()(x)
x = Dense(units=np.prod(x_shape), activation="relu")(x)
x = Reshape(target_shape=x_shape)(x)
out = Conv2DTranspose(1, (3, 3), strides=2, padding="same", activation="sigmoid")(x)
autoencoder = Model(inp, out)
`;

  it.each(['np.asarray(x.shape[1:], dtype=np.int)', 'np.array(x.shape[1:])', 'tuple(x.shape[1:])', 'list(x.shape)[1:]', 'x.get_shape().as_list()[1:]'])('gives the static shape kept as %s', async (kept) => {
    const autoencoder = await modelOf(AUTOENCODER(kept), 'autoencoder');
    const reshape = defined(autoencoder.layers.find((l) => l.kind === 'reshape'));
    expect(reshape.reshape).toEqual({ op: 'reshape', target: [14, 14, 20] });
    expect(autoencoder.layers.find((l) => l.kind === 'dense')?.units).toBe(14 * 14 * 20);
  });

  it('stays unknown through a function the reader cannot see', async () => {
    const autoencoder = await modelOf(AUTOENCODER('as_sizes(x.shape[1:])'), 'autoencoder');
    const reshape = defined(autoencoder.layers.find((l) => l.kind === 'reshape'));
    expect(reshape.reshape).toEqual({ op: 'reshape', target: null });
  });
});

describe('sizes computed with K.int_shape when the caller gives the input shape', () => {
  // A ResNet shortcut as Keras ResNet builders write it: a projection when the shapes differ, its stride
  // and filters from the two shapes, the layout axes set by a helper through `global`.
  const RESNET = `from keras.models import Model
from keras.layers import Input, Conv2D, AveragePooling2D, Flatten, Dense, add
from keras import backend as K

def _axes():
    global ROWS, COLS, CHANNELS
    if K.image_data_format() == 'channels_last':
        ROWS, COLS, CHANNELS = 1, 2, 3
    else:
        CHANNELS, ROWS, COLS = 1, 2, 3

def shortcut(x, residual):
    a = K.int_shape(x)
    b = K.int_shape(residual)
    stride = int(round(a[ROWS] / b[ROWS]))
    same_channels = a[CHANNELS] == b[CHANNELS]
    if stride > 1 or not same_channels:
        x = Conv2D(b[CHANNELS], (1, 1), strides=(stride, stride))(x)
    return add([x, residual])

def build(input_shape, classes):
    _axes()
    inp = Input(shape=input_shape)
    x = Conv2D(16, 3, padding='same')(inp)
    x = shortcut(x, Conv2D(16, 3, padding='same')(x))
    x = shortcut(x, Conv2D(32, 3, strides=2, padding='same')(x))
    s = K.int_shape(x)
    x = AveragePooling2D(pool_size=(s[ROWS], s[COLS]))(x)
    return Model(inp, Dense(classes, activation='softmax')(Flatten()(x)))

model = build(INPUT, 10)
`;
  const layersOf = (model: ModelIR) => model.layers.map((l) => {
    if (l.kind === 'conv2d') return `conv${l.units ?? '?'}/${l.conv.strides?.join('x') ?? '?'}${l.conditional ? '?' : ''}`;
    if (l.kind === 'add') return `add(${l.inputs.join(',')})`;
    if (l.kind === 'avgpool') return `pool${l.kernelSize?.join('x') ?? '?'}`;
    return l.kind;
  });

  it('reads them for the guessed input: an identity skip where shapes agree, a strided projection where they differ', async () => {
    const model = await modelOf(RESNET.replace('INPUT', 'get_shape()'), 'build');
    expect(layersOf(model)).toEqual(['input', 'conv16/1', 'conv16/1', 'add(L1,L2)', 'conv32/2', 'conv32/2x2', 'add(L5,L4)', 'pool16x16', 'flatten', 'dense']);
    expect(model.sizedForInput?.shape).toEqual([32, 32, 3]);
    expect(model.inputGuess).toEqual(model.sizedForInput);
    const plan = planModel(model, probeOptions({ backend: 'wasm' }));
    expect(plan.layers.find((l) => l.ir.kind === 'avgpool')?.outShape).toEqual([1, 1, 32]);
    expect(plan.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/K\.int_shape\) are read for 32x32x3, the input probed/));
    // Another input given to the probe: the sizes were read for the guess, and it says so.
    const other = planModel(model, probeOptions({ backend: 'wasm', inputShape: [64, 64, 3] }));
    expect(other.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/were read for 32x32x3; for 64x64x3 the code may build them otherwise/));
  });

  it('a written input shape needs no guess', async () => {
    const model = await modelOf(RESNET.replace('INPUT', '(8, 8, 3)'), 'build');
    expect(layersOf(model)).toEqual(['input', 'conv16/1', 'conv16/1', 'add(L1,L2)', 'conv32/2', 'conv32/2x2', 'add(L5,L4)', 'pool4x4', 'flatten', 'dense']);
    expect(model.sizedForInput).toBeUndefined();
    expect(model.inputGuess?.source).toBe('model');
  });

  it('a global written under a condition the reader cannot decide stays unknown', async () => {
    const text = RESNET.replace("K.image_data_format() == 'channels_last'", 'use_last').replace('INPUT', '(8, 8, 3)');
    const model = await modelOf(text, 'build');
    // The projection's stride and filters are unknown: it is conditional, and the skip reads both paths.
    expect(layersOf(model)).toEqual(['input', 'conv16/1', 'conv16/1', 'conv?/??', 'add(L3,L1,L2)', 'conv32/2', 'conv?/??', 'add(L6,L4,L5)', 'pool?', 'flatten', 'dense']);
  });
});

describe("a Keras tensor's static shape written as x.shape", () => {
  /** Dense units and Reshape targets, in order. */
  const widths = (model: ModelIR): unknown[] => model.layers.flatMap((l): unknown[] => (l.kind === 'dense' ? [l.units] : l.kind === 'reshape' && l.reshape.op === 'reshape' ? [l.reshape.target] : []));

  it('x.shape[k], x.shape.as_list()[k] and tf.keras.backend.int_shape(x)[k] read the channel count, as K.int_shape does', async () => {
    const model = await modelOf(kerasFixture('squeeze_excite_static_width.py'), 'gated_net');
    expect(widths(model)).toEqual([[1, 1, 24], 6, 24, [1, 1, 40], 5, 40, 10]);
    expect(planModel(model, probeOptions({ backend: 'wasm' })).layers.at(-1)?.outShape).toEqual([10]);
  });

  it('leaves the twin that reads K.int_shape once as it was', async () => {
    const model = await modelOf(kerasFixture('squeeze_excite_int_shape.py'), 'gated_net');
    expect(widths(model)).toEqual([[1, 1, 24], 6, 24, [1, 1, 40], 5, 40, 10]);
  });
});

describe('functions that add an axis or copy values, in Lambdas and model code', () => {
  /** Each layer: kind, with a Reshape's target and a Concatenate's axis and count of inputs. */
  const described = (model: ModelIR): string[] =>
    model.layers.map((l) => {
      if (l.kind === 'reshape' && l.reshape.op === 'reshape') return `reshape${JSON.stringify(l.reshape.target)}`;
      if (l.kind === 'concat') return `concat@${String(l.merge.axis)}x${l.inputs.length}`;
      return l.kind;
    });

  it('K.repeat_elements of a one-channel gate, K.expand_dims and tf.tile are the layers that compute them', async () => {
    const model = await modelOf(readFileSync(join(__dirname, '../../fixtures/probe/keras_attention_gate_tiles.py'), 'utf8'), 'segmenter');
    expect(model.unsupported).toEqual([]);
    expect(described(model)).toEqual([
      'input', 'input', 'input',
      // The attention gate: its sigmoid map repeated over the 16 channels it multiplies.
      'conv2d', 'conv2d', 'add', 'activation', 'conv2d', 'activation', 'concat@3x16', 'multiply',
      // Image pooling: (16,) -> (1, 16) -> (1, 1, 16), convolved, then tiled over the 32 x 32 map.
      'global-pool', 'reshape[1,16]', 'reshape[1,1,16]', 'conv2d', 'batchnorm', 'activation', 'concat@1x32', 'concat@2x32',
      // The label tiled over the image.
      'reshape[1,1,4]', 'concat@1x32', 'concat@2x32',
      'concat@nullx3', 'conv2d', 'conv2d',
    ]);
    // Each copy reads the same tensor.
    const gate = defined(model.layers.find((l) => l.kind === 'concat'));
    expect(new Set(gate.inputs).size).toBe(1);
    // The probe builds it: 16 + 16 + 4 channels at 32 x 32 reach the 3x3 convolution.
    const plan = planModel(model, probeOptions({ backend: 'wasm' }));
    expect(plan.layers.find((l) => l.ir.kind === 'concat' && l.ir.merge.axis === null)?.outShape).toEqual([32, 32, 36]);
  });

  it('what is not a copy stays one unknown layer naming the call: a repeat along an axis of several channels, a tile of the batch, a TF1 resize', async () => {
    const text = `from keras import backend as K
from keras.layers import Input, Conv2D, Lambda
from keras.models import Model
import tensorflow as tf

x = Input((8, 8, 3))
y = Conv2D(4, 3, padding="same")(x)
spread = Lambda(lambda t: K.repeat_elements(t, 2, axis=3))(y)
doubled = Lambda(lambda t: tf.tile(t, [2, 1, 1, 1]))(spread)
legacy = Lambda(lambda t: tf.compat.v1.image.resize(t, (12, 12)))(y)
model = Model(x, [Conv2D(1, 1)(doubled), Conv2D(1, 1)(legacy)])
`;
    const model = await modelOf(text, 'model');
    expect(described(model)).toEqual(['input', 'conv2d', 'unknown', 'unknown', 'unknown', 'conv2d', 'conv2d']);
    // TF1's default bilinear resize samples neither at half-pixel centres nor at aligned corners: no interpolation the probe has.
    expect(model.unsupported.map((u) => [u.what, u.range.start.line + 1])).toEqual([
      ['Lambda(lambda): K.repeat_elements (line 8) is not an operation the probe can read', 8],
      ['Lambda(lambda): tf.tile (line 9) is not an operation the probe can read', 9],
      ['Lambda(lambda): tf.compat.v1.image.resize (line 10) is not an operation the probe can read', 10],
    ]);
  });
});
