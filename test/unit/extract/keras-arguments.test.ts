/** Activations and initializers in every spelling: canonical names, parameters, spelling and range of the written value. */
import { describe, expect, it } from 'vitest';
import type { Range } from '../../../src/shared/ir';
import { extractFrom, kerasFixture, modelNamed } from './extract-helper';
import { defined } from '../../defined';

/** The source text a range covers. */
function textAt(text: string, range: Range | null): string | null {
  if (!range) return null;
  const lines = text.split('\n');
  if (range.start.line === range.end.line) return lines[range.start.line]!.slice(range.start.character, range.end.character);
  return [lines[range.start.line]!.slice(range.start.character), ...lines.slice(range.start.line + 1, range.end.line), lines[range.end.line]!.slice(0, range.end.character)].join('\n');
}

describe('activations', () => {
  it('canonicalizes strings, functions, names bound once and activation layers', async () => {
    const text = kerasFixture('activations_zoo.py');
    const acts = modelNamed(await extractFrom(text), 'acts');
    const views = acts.layers.map((l) => [defined(l.activation).name, defined(l.activation).source, textAt(text, defined(l.activation).range), defined(l.activation).params]);
    expect(views).toEqual([
      ['relu', 'kwarg', "'relu'", {}],
      ['tanh', 'kwarg', 'ACT', {}],
      ['relu', 'kwarg', 'tf.nn.relu', {}],
      ['tanh', 'kwarg', 'keras.activations.tanh', {}],
      ['leaky_relu', 'kwarg', 'tf.nn.leaky_relu', { alpha: 0.2 }],
      ['leaky_relu', 'kwarg', 'LeakyReLU(alpha=0.1)', { alpha: 0.1 }],
      ['linear', 'kwarg', 'None', {}],
      ['swish', 'kwarg', "'swish'", {}],
      ['unknown', 'kwarg', 'lambda t: t * 2', {}],
      ['linear', 'default', null, {}],
      ['sigmoid', 'layer', "'sigmoid'", {}],
      ['softsign', 'layer', 'tf.nn.softsign', {}],
      ['relu', 'layer', 'ReLU()', {}],
      ['relu6', 'layer', 'ReLU(max_value=6)', { max_value: 6 }],
      ['leaky_relu', 'layer', 'LeakyReLU(0.2)', { alpha: 0.2 }],
      ['leaky_relu', 'layer', 'LeakyReLU(negative_slope=0.05)', { alpha: 0.05 }],
      ['leaky_relu', 'layer', 'LeakyReLU()', { alpha: 0.3 }],
      ['prelu', 'layer', 'PReLU()', {}],
      ['elu', 'layer', 'ELU(alpha=0.5)', { alpha: 0.5 }],
      ['softmax', 'layer', 'Softmax()', {}],
      ['hard_sigmoid', 'kwarg', "'hard_sigmoid'", {}],
    ]);
    // A name bound once keeps the written range (for fixes) but spells what it resolves to.
    expect(defined(acts.layers[1]!.activation).spelling).toBe("'tanh'");
    expect(acts.layers.slice(10, 20).every((l) => l.kind === 'activation' && l.kernelInit === null)).toBe(true);
  });
});

describe('activations written as a formula', () => {
  const text = `import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

SCALE = 1.7


def gelu(x):
    cdf = 0.5 * (1.0 + tf.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * tf.pow(x, 3))))
    return x * cdf


def scaled(x):
    return x * SCALE


def swish(x):
    return x * tf.sigmoid(x)


formulas = keras.Sequential([
    layers.Dense(64, activation=gelu, input_shape=(16,)),
    layers.Activation(gelu),
    layers.Dense(64, activation=swish),
    layers.Dense(64, activation=scaled),
    layers.Dense(1),
])
`;

  it('reads a function of the file that computes a catalog activation as that activation, and no other', async () => {
    const m = modelNamed(await extractFrom(text), 'formulas');
    expect(m.layers.map((l) => [defined(l.activation).name, defined(l.activation).source, textAt(text, defined(l.activation).range)])).toEqual([
      ['gelu', 'kwarg', 'gelu'],
      ['gelu', 'layer', 'gelu'],
      ['swish', 'kwarg', 'swish'],
      ['unknown', 'kwarg', 'scaled'],
      ['linear', 'default', null],
    ]);
  });
});

describe('initializers', () => {
  it('reads strings, classes, functions, tf.*_initializer and names bound once, with Keras defaults filled in', async () => {
    const text = kerasFixture('initializers_zoo.py');
    const zoo = modelNamed(await extractFrom(text), 'zoo');
    const kernel = zoo.layers.map((l) => defined(l.kernelInit));
    const views = kernel.map((k) => [k.name, k.params, k.options, textAt(text, k.range), k.explicit]);
    expect(views).toEqual([
      ['he_normal', {}, {}, "'he_normal'", true],
      ['he_normal', {}, {}, 'he', true],
      ['he_uniform', {}, {}, 'keras.initializers.he_uniform(seed=1)', true],
      ['constant', { value: 0.01 }, {}, 'initializers.Constant(SMALL)', true],
      ['random_normal', { mean: 0, stddev: 1 }, {}, 'initializers.RandomNormal(stddev=1.0)', true],
      ['random_uniform', { minval: -1, maxval: 1 }, {}, 'initializers.RandomUniform(-1, 1)', true],
      ['truncated_normal', { mean: 0, stddev: 0.02 }, {}, 'initializers.TruncatedNormal(mean=0., stddev=0.02)', true],
      ['variance_scaling', { scale: 2 }, { mode: 'fan_avg', distribution: 'uniform' }, "VarianceScaling(scale=2., mode='fan_avg', distribution='uniform')", true],
      ['orthogonal', { gain: 1.5 }, {}, 'Orthogonal(gain=1.5)', true],
      ['zeros', {}, {}, 'initializers.Zeros()', true],
      ['lecun_normal', {}, {}, "'lecun_normal'", true],
      ['random_normal', { mean: 0, stddev: 0.5 }, {}, 'tf.random_normal_initializer(stddev=0.5)', true],
      ['glorot_normal', {}, {}, 'initializers.glorot_normal', true],
      ['unknown', {}, {}, 'my_custom_init', true],
      ['random_uniform', { minval: -0.05, maxval: 0.05 }, {}, "'uniform'", true],
      ['glorot_normal', {}, {}, "'glorot_normal'", true],
    ]);
    expect(kernel[1]!.spelling).toBe('HeNormal(seed=42)');
    expect(kernel.every((k) => k.framework === 'keras')).toBe(true);
    // argsRange points at the written kernel_initializer value, where a fix replaces it.
    expect(textAt(text, zoo.layers[4]!.argsRange)).toBe('initializers.RandomNormal(stddev=1.0)');
  });

  it('records bias and recurrent initializers, and no bias at all when use_bias=False', async () => {
    const zoo = modelNamed(await extractFrom(kerasFixture('initializers_zoo.py')), 'zoo');
    expect(zoo.layers[3]!.biasInit).toMatchObject({ name: 'constant', params: { value: 0.1 }, explicit: true });
    expect(zoo.layers[0]!.biasInit).toMatchObject({ name: 'zeros', explicit: false, range: null });
    expect(zoo.layers[9]).toMatchObject({ useBias: false, biasInit: null });
    const lstm = zoo.layers[15]!;
    expect(lstm.recurrentInit).toMatchObject({ name: 'orthogonal', explicit: true, params: { gain: 1 } });
    expect(lstm.fanIn).toBe(32);
    expect(lstm.fanOut).toBe(128);
  });

  it('leaves an argument it cannot evaluate unknown instead of assuming the default', async () => {
    const models = await extractFrom(`
import sys
from tensorflow.keras import layers, models, initializers
std = float(sys.argv[1])
m = models.Sequential([layers.Dense(4, input_shape=(2,), kernel_initializer=initializers.RandomNormal(stddev=std))])
`);
    expect(modelNamed(models, 'm').layers[0]!.kernelInit).toMatchObject({ name: 'random_normal', params: { mean: 0 } });
    expect(defined(modelNamed(models, 'm').layers[0]!.kernelInit).params.stddev).toBeUndefined();
  });

  it('inserts at the end of the argument list when no kernel_initializer is written', async () => {
    const text = `from keras.layers import Dense\nfrom keras.models import Sequential\nm = Sequential([Dense(3, input_dim=2)])\n`;
    const layer = modelNamed(await extractFrom(text), 'm').layers[0]!;
    expect(layer.argsRange).toEqual({ start: { line: 2, character: 36 }, end: { line: 2, character: 36 } });
    expect(text.split('\n')[2]![36]).toBe(')');
  });
});
