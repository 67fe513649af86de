/**
 * The mean-field model against textbook values (He et al. 2015, Glorot & Bengio 2010, Klambauer et
 * al. 2017, Schoenholz et al. 2017) and the quadrature against closed forms.
 */
import { describe, expect, it } from 'vitest';
import type { InitializerIR } from '../../../src/shared/ir';
import { activationMoments, gaussianExpectation, maximumMoments, scalarActivation } from '../../../src/shared/knowledge/activation-functions';
import { normalCdf } from '../../../src/shared/knowledge/math';
import { predictPropagation, type PropagatedModel } from '../../../src/shared/knowledge/propagation';
import { gradeFlowRatio } from '../../../src/shared/gradient-flow';
import { act, buildModel, dense, layerOf, type LayerSpec } from '../rules/ir-builder';
import { defined } from '../../defined';
import { extractFrom, modelNamed } from '../extract/extract-helper';
import { flowOutliersClause } from '../../../src/shared/knowledge/flow-outliers';
import { DEFAULT_IMAGE_SIDE } from '../../../src/shared/input-defaults';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function init(name: InitializerIR['name'], params: Record<string, number> = {}, framework: 'keras' | 'torch' = 'keras'): InitializerIR {
  return { name, params, options: {}, spelling: name, range: null, explicit: true, framework };
}

/** The prediction's layers for the model `name` that `source` defines, read by the real analyzer. */
async function predictedLayers(source: string, name: string): Promise<PropagatedModel['layers']> {
  const p = predictPropagation(modelNamed(await extractFrom(source), name));
  if (!p.ok) throw new Error(p.reason);
  return p.layers;
}

/** A PyTorch module `Net` whose forward applies `layers` (an nn.Sequential's arguments) in order. */
const torchSequential = (layers: string): string => `
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(${layers})

    def forward(self, x):
        return self.model(x)
`;

/** `depth` square Dense(width) layers with `activation` and `kernel`, then a 10-way output. */
function stack(depth: number, width: number, activation: string, kernel: InitializerIR, extra: LayerSpec[] = []): PropagatedModel {
  const hidden: LayerSpec[] = Array.from({ length: depth }, () => dense(width, { activation: activation as never, kernelInit: kernel, fanIn: width, fanOut: width }));
  const model = buildModel({ layers: [...hidden, ...extra, dense(10, { activation: 'softmax', fanIn: width, fanOut: 10 })] });
  model.inputShape = [width];
  const prediction = predictPropagation(model);
  if (!prediction.ok) throw new Error(prediction.reason);
  return prediction;
}

describe('softmax and log_softmax outputs', () => {
  it('log_softmax keeps the logits spread around -log(n) (what the probe measures), softmax sits at 1/n', () => {
    const kernel = init('glorot_uniform');
    const last = (activation: 'softmax' | 'log_softmax') => {
      const model = buildModel({ layers: [dense(64, { activation: 'tanh', kernelInit: kernel, fanIn: 64, fanOut: 64 }), dense(500, { activation, kernelInit: kernel, fanIn: 64, fanOut: 500 })] });
      model.inputShape = [64];
      const prediction = predictPropagation(model);
      if (!prediction.ok) throw new Error(prediction.reason);
      return defined(prediction.layers[prediction.layers.length - 1]);
    };
    const logProbs = last('log_softmax');
    const probs = last('softmax');
    // Logits of std well under 1 over 500 words: log-probabilities about -log(500) with the logits' own spread.
    expect(logProbs.predictedMean).toBeLessThan(-Math.log(500));
    expect(logProbs.predictedMean).toBeGreaterThan(-Math.log(500) - 0.5);
    expect(logProbs.predictedStd).toBeGreaterThan(0.1);
    expect(probs.predictedMean).toBeCloseTo(1 / 500, 6);
    expect(probs.predictedStd).toBeLessThan(0.01);
  });
});

describe('Gauss-Hermite quadrature', () => {
  it('the moments of the largest of k values: textbook values, and the two quadratures of the order-statistic density, narrow (Hermite) and wide (panels)', () => {
    // The larger of two standard normals: E[M] = 1/sqrt(pi), E[M^2] = 1.
    const two = maximumMoments((z) => z, 2, 0, 1);
    expect(two.mean).toBeCloseTo(1 / Math.sqrt(Math.PI), 7);
    expect(two.second).toBeCloseTo(1, 7);
    const tanh = defined(scalarActivation('tanh', 'torch'));
    for (const [k, mean, variance] of [[4, 0.3, 0.8], [9, -1, 2], [4, 2, 40]] as const) {
      const sd = Math.sqrt(variance);
      const density = (z: number) => k * normalCdf((z - mean) / sd) ** (k - 1);
      const both = maximumMoments((z) => tanh.f(z), k, mean, variance);
      expect(both.mean).toBeCloseTo(gaussianExpectation((z) => density(z) * tanh.f(z), mean, variance), 12);
      expect(both.second).toBeCloseTo(gaussianExpectation((z) => density(z) * tanh.f(z) ** 2, mean, variance), 12);
    }
  });

  it('integrates polynomials and rectifiers exactly', () => {
    expect(gaussianExpectation((z) => z * z, 0, 2.5)).toBeCloseTo(2.5, 10);
    expect(gaussianExpectation((z) => z ** 4, 0, 1)).toBeCloseTo(3, 8);
    expect(gaussianExpectation((z) => z, 0.7, 3)).toBeCloseTo(0.7, 10);
    const relu = activationMoments(defined(scalarActivation('relu', 'keras')), 0, 4);
    expect(relu.second).toBeCloseTo(2, 10);
    expect(relu.slope).toBeCloseTo(0.5, 10);
    expect(relu.mean).toBeCloseTo(2 / Math.sqrt(2 * Math.PI), 2);
  });

  it('uses each framework constant: leaky slope, hard sigmoid', () => {
    const keras = activationMoments(defined(scalarActivation('leaky_relu', 'keras')), 0, 1);
    const torch = activationMoments(defined(scalarActivation('leaky_relu', 'torch')), 0, 1);
    expect(keras.second).toBeCloseTo((1 + 0.3 ** 2) / 2, 8);
    expect(torch.second).toBeCloseTo((1 + 0.01 ** 2) / 2, 8);
    // Near 0 only the slope counts: 0.2 (tf.keras 2) vs 1/6 (PyTorch).
    expect(activationMoments(defined(scalarActivation('hard_sigmoid', 'keras')), 0, 1e-4).slope).toBeCloseTo(0.04, 6);
    expect(activationMoments(defined(scalarActivation('hard_sigmoid', 'torch')), 0, 1e-4).slope).toBeCloseTo(1 / 36, 6);
  });
});

describe('mean-field recursions: textbook values', () => {
  it('relu + He keeps q (He et al. 2015)', () => {
    const p = stack(10, 256, 'relu', init('he_normal'));
    for (const layer of p.layers.slice(0, 10)) expect(layer.q).toBeCloseTo(1, 6);
    // ... and the squared gradient: chi = 2 · 1/2 = 1, so every hidden layer gets the same gradient.
    for (const layer of p.layers.slice(0, 10)) expect(layer.chi).toBeCloseTo(1, 6);
    expect(Math.abs(defined(p.log10FirstLastRatio))).toBeLessThan(0.05);
    expect(p.grade).toBe('healthy');
  });

  it('relu + Glorot halves q at every layer', () => {
    const p = stack(8, 256, 'relu', init('glorot_uniform'));
    for (let i = 1; i < 8; i++) expect(p.layers[i]!.q / p.layers[i - 1]!.q).toBeCloseTo(0.5, 6);
  });

  it('tanh + Glorot on square layers stays near chi = 1', () => {
    const p = stack(10, 128, 'tanh', init('glorot_uniform'));
    // The first layer sees q = 1 (E[tanh'²] ≈ 0.46); q then shrinks towards 0, where chi → 1.
    for (let i = 0; i < 10; i++) {
      expect(defined(p.layers[i]!.chi)).toBeLessThanOrEqual(1);
      if (i > 0) expect(defined(p.layers[i]!.chi)).toBeGreaterThan(defined(p.layers[i - 1]!.chi));
    }
    expect(defined(p.layers[9]!.chi)).toBeGreaterThan(0.8);
    expect(p.grade).not.toBe('vanishing');
  });

  it('sigmoid multiplies the gradient by at most 0.25 per layer, at any weight scale', () => {
    for (const stddev of [0.01, 0.1, 1]) {
      const p = stack(6, 100, 'sigmoid', init('random_normal', { mean: 0, stddev }));
      for (const layer of p.layers.slice(0, 6)) {
        const sigma2 = 100 * stddev * stddev;
        expect(Math.sqrt(defined(layer.chi) / sigma2)).toBeLessThanOrEqual(0.25 + 1e-9);
      }
    }
    expect(stack(10, 64, 'sigmoid', init('glorot_uniform')).grade).toBe('vanishing');
  });

  it('SELU + lecun_normal sits at its (0, 1) fixed point (Klambauer et al. 2017)', () => {
    const p = stack(12, 200, 'selu', init('lecun_normal'));
    for (const layer of p.layers.slice(0, 12)) {
      expect(layer.predictedMean).toBeCloseTo(0, 2);
      expect(layer.predictedStd).toBeCloseTo(1, 2);
    }
    expect(p.grade).toBe('healthy');
  });

  it('tanh at N(0, 1) explodes instead of vanishing (chi > 1 in the chaotic phase)', () => {
    const p = stack(6, 256, 'tanh', init('random_normal', { mean: 0, stddev: 1 }));
    expect(defined(p.layers[3]!.chi)).toBeGreaterThan(1);
    expect(p.grade).toBe('exploding');
  });

  it('normalization resets q, dropout scales it, residual merges add variances', () => {
    const small = init('random_normal', { mean: 0, stddev: 0.01 });
    const normed = buildModel({ layers: [dense(100, { kernelInit: small, fanIn: 100, fanOut: 100 }), layerOf('batchnorm'), layerOf('dropout', { detail: { rate: 0.5 } }), dense(10, { fanIn: 100, fanOut: 10 })] });
    normed.inputShape = [100];
    const p = predictPropagation(normed) as PropagatedModel;
    expect(p.layers[0]!.q).toBeCloseTo(100 * 1e-4, 8);
    // Keras' BatchNormalization adds its epsilon, 1e-3, to the variance 0.01 it divides by.
    const normalized = 0.01 / (0.01 + 1e-3);
    expect(p.layers[1]!.q).toBeCloseTo(normalized, 8);
    expect(p.layers[2]!.q).toBeCloseTo(2 * normalized, 8);
    const residual = buildModel({
      isGraph: true,
      layers: [layerOf('input'), dense(64, { kernelInit: init('lecun_normal'), fanIn: 64, fanOut: 64 }), layerOf('add', { inputs: [0, 1] }), dense(10, { fanIn: 64, fanOut: 10 })],
    });
    residual.inputShape = [64];
    const r = predictPropagation(residual) as PropagatedModel;
    expect(r.layers[2]!.q).toBeCloseTo(2, 6);
  });

  it('conv fans include the kernel, and an embedding sets q from its initializer', () => {
    const conv = buildModel({
      layers: [
        layerOf('conv2d', { units: 16, kernelInit: init('he_normal'), activation: 'relu', fanIn: 27, fanOut: 144 }),
        layerOf('conv2d', { units: 16, kernelInit: init('random_normal', { mean: 0, stddev: 0.1 }), fanIn: 144, fanOut: 144 }),
        layerOf('flatten'),
        dense(10, { fanIn: 16 * 32 * 32, fanOut: 10 }),
      ],
    });
    conv.inputShape = [32, 32, 3];
    const c = predictPropagation(conv) as PropagatedModel;
    expect(c.ok, JSON.stringify(c)).toBe(true);
    expect(c.layers[0]!.q).toBeCloseTo(1, 6);
    expect(c.layers[1]!.q).toBeCloseTo(144 * 0.01, 6);
    const embedded = buildModel({ layers: [layerOf('embedding', { units: 32, inFeatures: 1000, kernelInit: init('random_uniform', { minval: -0.05, maxval: 0.05 }), fanIn: 1000, fanOut: 32 }), layerOf('flatten'), dense(1)] });
    const e = predictPropagation(embedded) as PropagatedModel;
    expect(e.ok, JSON.stringify(e)).toBe(true);
    expect(e.layers[0]!.q).toBeCloseTo(0.05 ** 2 / 3, 8);
  });

  it('recurrent layers run over their sequence length: a long tanh RNN loses the early steps', () => {
    const rnn = (steps: number) => {
      const model = buildModel({
        layers: [
          layerOf('simple-rnn', { units: 32, inFeatures: 8, activation: 'tanh', kernelInit: init('glorot_uniform'), fanIn: 8, fanOut: 32 }),
          dense(16, { activation: 'relu', kernelInit: init('he_normal'), fanIn: 32, fanOut: 16 }),
          dense(1, { fanIn: 16, fanOut: 1 }),
        ],
      });
      model.layers[0]!.recurrentInit = init('orthogonal', { gain: 1 });
      model.inputShape = [steps, 8];
      return predictPropagation(model) as PropagatedModel;
    };
    const short = rnn(5);
    const long = rnn(100);
    // The cast above types ok as true; the propagation itself may still have refused.
    expect([short.ok, long.ok]).toEqual([true, true]);
    expect(long.layers[0]!.q).toBeGreaterThan(short.layers[0]!.q * 0.99);
    expect(Number.isFinite(long.log10FirstLastRatio)).toBe(true);
  });

  it('BatchNorm divides by the within-channel variance: a post-ReLU input mean is a per-channel constant it removes', () => {
    // relu + He: z ~ N(0, 2), so relu(z) has q = 1 but variance 1 − 1/π; a fixed linear layer (σ_w² = 2)
    // gives each channel the variance 2·(1 − 1/π), and the rest of its q (2) is the spread of channel means.
    const model = (norm: 'batchnorm' | 'layernorm') => {
      const m = buildModel({
        layers: [
          dense(256, { activation: 'relu', kernelInit: init('he_normal'), fanIn: 256, fanOut: 256 }),
          dense(256, { kernelInit: init('he_normal'), useBias: false, fanIn: 256, fanOut: 256 }),
          layerOf(norm),
          dense(10, { fanIn: 256, fanOut: 10 }),
        ],
      });
      m.inputShape = [256];
      return predictPropagation(m) as PropagatedModel;
    };
    const batch = model('batchnorm');
    // (the quadrature's relu mean is good to 2 digits: the kink)
    expect(batch.layers[2]!.chi).toBeCloseTo(1 / (2 * (1 - 1 / Math.PI)), 2);
    // LayerNorm normalizes each example over its features: the spread of channel means counts (q = 2, plus Keras' epsilon 1e-3).
    const layer = model('layernorm');
    expect(layer.layers[2]!.chi).toBeCloseTo(1 / (2 + 1e-3), 6);
  });

  it("a layer read by BatchNorm has a weight gradient blind to its input's mean; without BatchNorm the mean counts", () => {
    // The same input mean in every channel (a constant bias): BatchNorm's gradient sums to zero per channel.
    const ratio = (bias: 'zeros' | 'ones', normalized: boolean) => {
      const m = buildModel({
        layers: [
          dense(128, { kernelInit: init('he_normal'), fanIn: 128, fanOut: 128 }),
          dense(128, { kernelInit: init('he_normal'), useBias: false, fanIn: 128, fanOut: 128 }),
          ...(normalized ? [layerOf('batchnorm')] : []),
          dense(10, { fanIn: 128, fanOut: 10 }),
        ],
      });
      m.layers[0]!.biasInit = init(bias);
      m.inputShape = [128];
      const p = predictPropagation(m) as PropagatedModel;
      // The second layer's weight gradient over the first's (whose input, the data, has no mean).
      return defined(p.layers[1]!.log10GradRatio) - defined(p.layers[0]!.log10GradRatio);
    };
    expect(ratio('ones', true)).toBeCloseTo(ratio('zeros', true), 9);
    // Without it, a weight sees x·δ with x's second moment 2 + 1 instead of 2.
    expect(ratio('ones', false) - ratio('zeros', false)).toBeCloseTo(0.5 * Math.log10(3 / 2), 2);
  });

  it("a PyTorch block whose sizes are constructor arguments is propagated with the input the probe feeds and the probe's sizes", () => {
    const block = (guess: boolean) => {
      const m = buildModel({
        framework: 'torch',
        layers: [
          layerOf('conv2d', { name: 'conv1' }),
          layerOf('batchnorm'),
          act('relu'),
          layerOf('conv2d', { name: 'conv2' }),
          layerOf('batchnorm'),
        ],
      });
      for (const layer of m.layers) if (layer.kind === 'conv2d') layer.kernelSize = [3, 3];
      if (guess) m.inputGuess = { shape: [3, 32, 32], tokens: false, layout: 'channels_first', source: 'data', evidence: 'CIFAR10' };
      return predictPropagation(m);
    };
    const known = block(true);
    expect(known.ok, JSON.stringify(known)).toBe(true);
    if (known.ok) {
      expect(known.assumptions.join('; ')).toMatch(/representative sizes .*conv1 \(line 1\) 128.*conv2 \(line 4\) 128/);
      expect(known.assumptions.join('; ')).toMatch(/input sizes read from the incoming signal \(conv1 \(line 1\) 3, conv2 \(line 4\) 128\)/);
      expect(Number.isFinite(known.log10FirstLastRatio)).toBe(true);
    }
    // With nothing saying the input, the first conv's fan_in stays unknown, and the prediction says so.
    const unknown = block(false);
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.reason).toMatch(/fan_in of conv2d 'conv1'/);
  });

  it('a dense layer reading both arms of an undecided branch passes its gradient to each, never NaN', () => {
    const kernel = init('glorot_uniform');
    const model = buildModel({
      isGraph: true,
      layers: [
        dense(64, { activation: 'relu', kernelInit: kernel, fanIn: 32, fanOut: 64 }),
        dense(64, { activation: 'tanh', kernelInit: kernel, fanIn: 64, fanOut: 64, inputs: [0] }),
        dense(64, { activation: 'relu', kernelInit: kernel, fanIn: 64, fanOut: 64, inputs: [0] }),
        dense(10, { kernelInit: kernel, fanIn: 64, fanOut: 10, inputs: [1, 2] }),
      ],
    });
    model.inputShape = [32];
    const p = predictPropagation(model);
    expect(p.ok, JSON.stringify(p)).toBe(true);
    if (!p.ok) return;
    for (const layer of p.layers) {
      expect(Number.isNaN(layer.predictedStd)).toBe(false);
      if (layer.weighted) expect(Number.isFinite(layer.log10GradRatio)).toBe(true);
    }
    // Both arms receive the head's gradient, so the first layer's is about the same size as theirs, not vanishing.
    expect(Math.abs(defined(p.log10FirstLastRatio))).toBeLessThan(1);
    expect(p.grade).not.toBe('vanishing');
  });

  it('a second Input of a graph reads the model input, and the first branch gets no gradient through it', () => {
    const kernel = init('glorot_uniform');
    // Two inputs, each through a tanh Dense of its own, concatenated into the head: the arms are mirror images.
    const model = buildModel({
      isGraph: true,
      layers: [
        layerOf('input', { inputs: [] }),
        dense(64, { activation: 'tanh', kernelInit: kernel, fanIn: 32, fanOut: 64, inputs: [0] }),
        dense(64, { activation: 'tanh', kernelInit: init('random_normal', { mean: 0, stddev: 0.05 }), fanIn: 64, fanOut: 64, inputs: [1] }),
        layerOf('input', { inputs: [] }),
        dense(64, { activation: 'tanh', kernelInit: kernel, fanIn: 32, fanOut: 64, inputs: [3] }),
        layerOf('concat', { inputs: [2, 4] }),
        dense(1, { kernelInit: kernel, fanIn: 128, fanOut: 1, inputs: [5] }),
      ],
    });
    model.inputShape = [32];
    const p = predictPropagation(model);
    expect(p.ok, JSON.stringify(p)).toBe(true);
    if (!p.ok) return;
    const [, firstArm, shrunk, secondInput, secondArm] = p.layers;
    expect(defined(secondInput).predictedStd).toBeCloseTo(1, 6);
    // The second arm's first layer sees what the first arm's first layer sees, not the first arm's shrunk output.
    expect(defined(secondArm).predictedStd).toBeCloseTo(defined(firstArm).predictedStd, 6);
    expect(defined(shrunk).predictedStd).toBeLessThan(defined(firstArm).predictedStd / 2);
    // The first arm's gradient comes through its own output only: below the second arm's, which the concat reaches directly.
    expect(defined(defined(firstArm).log10GradRatio)).toBeLessThan(defined(defined(secondArm).log10GradRatio));
  });

  it("a second Input whose shape the code writes feeds its branch that shape, as the probe does: a captioning model's words run their GRU over 16 steps, not over the image's pixels", async () => {
    const models = await extractFrom(`
from tensorflow import keras
from tensorflow.keras import layers

image = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(16, 3, activation="relu")(image)
x = layers.GlobalAveragePooling2D()(x)
image_vector = layers.Dense(128, activation="relu")(x)

words = keras.Input(shape=(16,))
w = layers.Embedding(5000, 64)(words)
sentence = layers.GRU(128, return_sequences=True)(w)
sentence = layers.GlobalAveragePooling1D()(sentence)

joined = layers.concatenate([image_vector, sentence])
captioner = keras.Model([image, words], layers.Dense(5000, activation="softmax")(joined))

tokens = keras.Input(shape=(16,))
t = layers.Embedding(5000, 64)(tokens)
alone = layers.GRU(128, return_sequences=True)(t)
alone = layers.GlobalAveragePooling1D()(alone)
language = keras.Model(tokens, layers.Dense(5000, activation="softmax")(alone))
`);
    const gruOf = (name: string) => {
      const p = predictPropagation(modelNamed(models, name));
      if (!p.ok) throw new Error(p.reason);
      return defined(p.layers.find((l) => l.kind === 'gru'));
    };
    const joined = gruOf('captioner');
    const alone = gruOf('language');
    // A GRU's output over a sequence depends on its length: the same branch fed the image's 62x62 positions differs.
    expect(joined.predictedStd).toBeCloseTo(alone.predictedStd, 10);
    expect(joined.q).toBeCloseTo(alone.q, 10);
  });

  it('a concatenation along positions (a pooled vector tiled over the map) weighs each input by its positions, not as extra channels', async () => {
    const source = (joinedBy: string) => `
from tensorflow import keras
from tensorflow.keras import layers
import tensorflow as tf

image = keras.Input(shape=(16, 16, 8))
x = layers.Conv2D(8, 3, padding="same", activation="relu")(image)
pooled = layers.GlobalAveragePooling2D()(x)
pooled = layers.Reshape((1, 1, 8))(layers.Dense(8, activation="tanh")(pooled))
${joinedBy}
joined = layers.Concatenate()([x, spread])
model = keras.Model(image, layers.Conv2D(1, 1, activation="sigmoid")(joined))
`;
    // The same values spread over the 16 x 16 map by tiling and by nearest upsampling (which the model already knows).
    const tiled = await predictedLayers(source('spread = layers.Lambda(lambda t: tf.tile(t, [1, 16, 16, 1]))(pooled)'), 'model');
    const upsampled = await predictedLayers(source('spread = layers.UpSampling2D(size=(16, 16))(pooled)'), 'model');
    const joined = (layers: PropagatedModel['layers']) => defined(layers.filter((l) => l.kind === 'concat').at(-1));
    expect(joined(tiled).predictedStd).toBeCloseTo(joined(upsampled).predictedStd, 6);
    const first = (layers: PropagatedModel['layers']) => defined(defined(layers.find((l) => l.kind === 'conv2d')).log10GradRatio);
    expect(first(tiled)).toBeCloseTo(first(upsampled), 6);
  });

  it('a seq2seq decoder after RepeatVector(n) runs its LSTM over n steps, as the probe builds it', async () => {
    const decoder = async (n: number) => {
      const layers = await predictedLayers(`
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(7, 12)),
    layers.LSTM(128),
    layers.RepeatVector(${n}),
    layers.LSTM(128, return_sequences=True),
    layers.TimeDistributed(layers.Dense(12, activation="softmax")),
])
`, 'model');
      return defined(layers.filter((l) => l.kind === 'lstm')[1]);
    };
    const [one, four, forty] = [await decoder(1), await decoder(4), await decoder(40)];
    // From h_0 = 0 the hidden state grows over the steps: its mean square over 4 or 40 steps exceeds the first step's.
    expect(four.q).toBeGreaterThan(one.q * 1.05);
    expect(forty.q).toBeGreaterThan(four.q);
  });

  it('a Reshape into (steps, features) gives the LSTM after it those steps and features, as the probe builds them: the same as an input of that shape', async () => {
    const lstmsOf = async (front: string) => {
      const layers = await predictedLayers(`
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
${front}
    layers.LSTM(64, return_sequences=True),
    layers.LSTM(64),
    layers.Dense(10, activation="softmax"),
])
`, 'model');
      return layers.filter((l) => l.kind === 'lstm');
    };
    // A flat vector of 20 x 13 features read as 20 steps of 13 (a keyword spotter's MFCC frames), not as one step of 260.
    const reshaped = await lstmsOf(`
    layers.Reshape((20, 13), input_shape=(260,)),`);
    const sequence = await lstmsOf(`
    keras.Input(shape=(20, 13)),`);
    expect(reshaped).toHaveLength(2);
    reshaped.forEach((lstm, i) => {
      expect(lstm.q).toBeCloseTo(defined(sequence[i]).q, 10);
      expect(lstm.log10GradRatio).toBeCloseTo(defined(defined(sequence[i]).log10GradRatio), 10);
    });
  });

  it('a pooling window slides over the dimensions its layer names: MaxPooling1D(2) takes the larger of 2 at any length, AvgPool2d(1) passes its input', async () => {
    const pooledStd = async (steps: number) => {
      const layers = await predictedLayers(`
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(${steps}, 8)),
    layers.Conv1D(16, 1, activation="tanh"),
    layers.MaxPooling1D(2),
    layers.Flatten(),
    layers.Dense(4, activation="softmax"),
])
`, 'model');
      return defined(layers.find((l) => l.kind === 'maxpool')).predictedStd;
    };
    // 20 steps are no square map: a window of 2 x 2 would be the larger of 4. (A 1-wide kernel: a wider
    // one padded reads zeros at the border, a larger share of 2 steps than of 20.)
    expect(await pooledStd(20)).toBeCloseTo(await pooledStd(2), 10);

    const headRatio = async (pool: string) => {
      const layers = await predictedLayers(`
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(32)
        ${pool}
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(self.conv(x).relu())
        x = self.last(x)
        return self.fc(x.view(x.size(0), -1))
`, 'Net');
      return defined(layers.find((l) => l.kind === 'conv2d')).log10GradRatio;
    };
    // A 1 x 1 average of the one remaining position is the identity: the conv's gradient is as without it.
    expect(await headRatio('self.last = nn.AvgPool2d(kernel_size=1, stride=1)')).toBeCloseTo(defined(await headRatio('self.last = nn.Identity()')), 10);
  });

  it('nn.LeakyReLU(True) has the slope True == 1.0: predicted as the identity (nn.Identity), not as a leaky ReLU of slope 0.01', async () => {
    const predicted = async (activation: string) =>
      (await predictedLayers(torchSequential(`nn.Linear(64, 128), ${activation}, nn.Linear(128, 128), ${activation}, nn.Linear(128, 10)`), 'Net')).map((l) => [l.predictedStd, l.log10GradRatio]);
    const identity = await predicted('nn.Identity()');
    const leakyTrue = await predicted('nn.LeakyReLU(True)');
    leakyTrue.forEach(([std, grad], i) => {
      expect(std).toBeCloseTo(defined(identity[i]![0]), 10);
      if (grad === null) expect(identity[i]![1]).toBeNull();
      else expect(grad).toBeCloseTo(defined(identity[i]![1]), 10);
    });
    // inplace=True keeps torch's slope a = 0.01: the std of a leaky ReLU of N(0, s^2) is s sqrt((1 + a^2)/2 - (1 - a)^2/(2 pi)).
    const leaky = await predicted('nn.LeakyReLU(inplace=True)');
    expect(defined(leaky[1]![0]) / defined(leaky[0]![0])).toBeCloseTo(Math.sqrt((1 + 0.01 ** 2) / 2 - 0.99 ** 2 / (2 * Math.PI)), 2);
  });

  it("Python's sum(t) and abs(t) on a tensor are predicted as t.sum(0) and t.abs(): the layers before them stay connected to the output", async () => {
    // Found on a CBOW model (session 34): `sum(self.emb(idx))` was a value the reader did not know, which cut
    // the embedding off the output; the prediction then gave it a gradient 10^-100 of the last layer's.
    const bag = (sum: string) => `
import torch.nn as nn
import torch.nn.functional as F

class Bag(nn.Module):
    def __init__(self, vocab=5000, dim=100):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.fc1 = nn.Linear(dim, 128)
        self.fc2 = nn.Linear(128, vocab)

    def forward(self, idx):
        h = ${sum}
        return F.log_softmax(self.fc2(F.relu(self.fc1(h.view(1, -1)))), dim=1)
`;
    const gradients = async (sum: string) => (await predictedLayers(bag(sum), 'Bag')).map((l) => [l.name, l.log10GradRatio]);
    const method = await gradients('self.emb(idx).sum(0)');
    expect(await gradients('sum(self.emb(idx))')).toEqual(method);
    expect(method.find(([name]) => name === 'emb')?.[1]).toBeGreaterThan(-3);
    expect(await gradients('abs(self.emb(idx)).sum(0)')).toEqual(await gradients('self.emb(idx).abs().sum(0)'));
  });

  it("BatchNorm divides by the variance plus its eps: GAN tutorials' BatchNorm1d(n, 0.8) keeps its output well below unit variance", async () => {
    const normalizedStd = async (eps: string) => {
      const layers = await predictedLayers(torchSequential(`nn.Linear(100, 256), nn.BatchNorm1d(256${eps}), nn.LeakyReLU(0.2), nn.Linear(256, 784), nn.Tanh()`), 'Net');
      return defined(layers.find((l) => l.kind === 'batchnorm')).predictedStd;
    };
    // nn.Linear's default init (variance 1 / (3 fan_in)) on standardized inputs: within-channel variance 1/3.
    const v = 1 / 3;
    expect(await normalizedStd(', 0.8')).toBeCloseTo(Math.sqrt(v / (v + 0.8)), 3);
    expect(await normalizedStd(', eps=0.8')).toBeCloseTo(Math.sqrt(v / (v + 0.8)), 3);
    expect(await normalizedStd('')).toBeCloseTo(Math.sqrt(v / (v + 1e-5)), 3);
  });

  it("predicts the std one network shows over a batch: a single unit's bias is a constant, C channels show (C - 1)/C of their means' spread", async () => {
    const outputStd = async (units: number) => {
      const layers = await predictedLayers(torchSequential(`nn.Linear(8, ${units})`), 'Net');
      return defined(layers.find((l) => l.kind === 'dense')).predictedStd;
    };
    // nn.Linear's default draws: weights of variance 1 / (3 fan_in) on standardized inputs give each unit a
    // within-unit variance of 1/3; its bias, U(±1/sqrt(fan_in)), a constant of variance 1 / (3 fan_in) = 1/24.
    expect(await outputStd(1)).toBeCloseTo(Math.sqrt(1 / 3), 6);
    expect(await outputStd(4)).toBeCloseTo(Math.sqrt(1 / 3 + (3 / 4) * (1 / 24)), 6);
  });

  it('local response normalization divides by (k + alpha * q)^beta, the signal and the gradient alike', () => {
    const kernel = init('he_normal');
    const model = buildModel({
      framework: 'torch',
      layers: [
        dense(64, { activation: 'relu', kernelInit: kernel, fanIn: 64, fanOut: 64 }),
        layerOf('local-response-norm', { detail: { lrn: { size: 5, alpha: 1e-4, beta: 0.75, k: 2 } } }),
        dense(10, { kernelInit: kernel, fanIn: 64, fanOut: 10 }),
      ],
    });
    model.inputShape = [64];
    const p = predictPropagation(model);
    expect(p.ok, JSON.stringify(p)).toBe(true);
    if (!p.ok) return;
    const [relu, lrn] = p.layers as [(typeof p.layers)[number], (typeof p.layers)[number]];
    const scale = (2 + 1e-4 * relu.q) ** -0.75;
    expect(lrn.q / relu.q).toBeCloseTo(scale * scale, 6);
    expect(lrn.predictedStd / relu.predictedStd).toBeCloseTo(scale, 6);
  });

  it('grades hidden layers that get no gradient at all (zero kernels) against the output layer: vanishing, not a healthy 0/0', () => {
    const zero = init('zeros');
    const model = buildModel({
      framework: 'torch',
      layers: [
        dense(256, { activation: 'relu', kernelInit: zero, fanIn: 784, fanOut: 256 }),
        dense(128, { activation: 'relu', kernelInit: zero, fanIn: 256, fanOut: 128 }),
        dense(10, { kernelInit: zero, fanIn: 128, fanOut: 10 }),
      ],
    });
    model.inputShape = [784];
    const p = predictPropagation(model);
    expect(p.ok, JSON.stringify(p)).toBe(true);
    if (!p.ok) return;
    expect(p.against).toBe('output');
    expect(p.lastHidden?.layerId).toBe('L2');
    expect(p.grade).toBe('vanishing');
    // With He kernels the ratio is taken against the last hidden layer, as always.
    const he = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: init('he_normal'), fanIn: 784, fanOut: 256 }), dense(128, { activation: 'relu', kernelInit: init('he_normal'), fanIn: 256, fanOut: 128 }), dense(10, { fanIn: 128, fanOut: 10 })] });
    he.inputShape = [784];
    const healthy = predictPropagation(he);
    expect(healthy.ok && healthy.against).toBe('last-hidden');
  });

  it('says why it cannot propagate a model, naming the layer', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(10)] });
    const p = predictPropagation(model);
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.reason).toMatch(/fan_in of dense .*line 1/);
      expect(p.layerId).toBe('L0');
    }
  });

  it('grades ratios with the thresholds the probe uses', () => {
    expect(gradeFlowRatio(1e-7)).toBe('vanishing');
    expect(gradeFlowRatio(0.02)).toBe('attenuated');
    expect(gradeFlowRatio(0.3)).toBe('healthy');
    expect(gradeFlowRatio(500)).toBe('exploding');
    expect(gradeFlowRatio(Number.NaN)).toBe('vanishing');
  });
});

describe('transposed convolutions', () => {
  // Each output position of a stride-s transposed convolution sums in_channels * kernel / s inputs,
  // while both frameworks scale its init by out_channels * kernel (their fan_in of the stored weight).
  it('count the inputs each output reads, not the framework fan_in, forward and backward (Keras, kernel = stride)', async () => {
    const [model] = await extractFrom(['from tensorflow import keras', 'from tensorflow.keras import layers', 'inputs = keras.Input((8, 8, 16))', 'up = layers.Conv2DTranspose(8, (2, 2), strides=(2, 2))(inputs)', 'out = layers.Conv2D(1, 1)(up)', 'model = keras.Model(inputs, out)', ''].join('\n'));
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    const up = defined(p.layers.find((l) => l.kind === 'conv-transpose'));
    // Glorot: E[w^2] = 2 / (fan_in + fan_out) = 2 / (8*4 + 16*4); 16 inputs per output value.
    expect(up.q).toBeCloseTo((16 * 2) / 96, 6);
    expect(up.chi).toBeCloseTo((16 * 2) / 96, 6);
  });

  it('average the taps over the stride when the kernel overlaps (torch, kernel 4, stride 2)', async () => {
    const [model] = await extractFrom(['import torch.nn as nn', 'model = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.Conv2d(8, 1, 1))', 'import torch', 'model(torch.randn(2, 16, 8, 8))', ''].join('\n'));
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    const up = defined(p.layers.find((l) => l.kind === 'conv-transpose'));
    // kaiming_uniform(a=sqrt(5)): E[w^2] = 1 / (3 * fan_in), fan_in = 8 * 16. On the probe's default map of
    // side n, each side's n * 4 taps land on 2n outputs but for the two padding=1 crops away: 16 input
    // channels times ((4n - 2) / 2n)^2 taps per output value (4 per value on a large map).
    const n = DEFAULT_IMAGE_SIDE;
    expect(up.chi).toBeCloseTo((16 * ((4 * n - 2) / (2 * n)) ** 2) / (3 * 128), 6);
  });

  it("read one tap per output on a 1 x 1 map: DCGAN's first layer turns the noise into 4 x 4 maps without summing 16 taps", async () => {
    const [model] = await extractFrom(['from tensorflow import keras', 'from tensorflow.keras import layers', 'noise = keras.Input((1, 1, 100))', 'x = layers.Conv2DTranspose(64, 4, strides=1, padding="valid")(noise)', 'x = layers.Conv2D(3, 3, padding="same")(x)', 'model = keras.Model(noise, x)', ''].join('\n'));
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    const up = defined(p.layers.find((l) => l.kind === 'conv-transpose'));
    // Glorot on the (4, 4, 64, 100) kernel: E[w^2] = 2 / (16 * 64 + 16 * 100); 100 inputs per output value.
    expect(up.q).toBeCloseTo((100 * 2) / (16 * 64 + 16 * 100), 6);
  });

  it('a stride-2 one sums different taps at alternate positions, so the channel means its input brings vary within a channel (the BatchNorm after it divides by that too)', async () => {
    const [model] = await extractFrom(['from tensorflow import keras', 'from tensorflow.keras import layers', 'x0 = keras.Input((4, 4, 16))', 'x = layers.Conv2D(16, 1, activation="relu")(x0)', 'x = layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x)', 'x = layers.BatchNormalization()(x)', 'model = keras.Model(x0, layers.Conv2D(1, 1)(x))', ''].join('\n'));
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    // ReLU of N(0, 1) (Glorot 1 x 1 conv, 16 in and out): mean² 1/(2π), within-channel variance 1/2 − 1/(2π).
    const [meanSq, within] = [1 / (2 * Math.PI), 1 / 2 - 1 / (2 * Math.PI)];
    // 'same', stride 2 on a 4 x 4 map: 14 of the 16 taps per side land on 8 outputs; Glorot on the (4, 4, 8, 16) kernel.
    const terms = 16 * (14 / 8) ** 2;
    const w2 = 2 / (16 * 8 + 16 * 16);
    // Four classes of output positions, each with its own taps: 3/4 of the mean's part varies within a channel.
    const variance = terms * w2 * (within + (3 / 4) * meanSq);
    const norm = defined(p.layers.find((l) => l.kind === 'batchnorm'));
    // (the quadrature's ReLU mean is good to about 2 digits: the kink)
    expect(defined(norm.chi) / (1 / (variance + 1e-3))).toBeCloseTo(1, 2);
  });

  it('slide over as many dimensions as their kernel has (ConvTranspose1d is the same IR kind)', async () => {
    const [model] = await extractFrom(['import torch.nn as nn', 'model = nn.Sequential(nn.ConvTranspose1d(8, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(), nn.Conv1d(8, 1, 1))', 'import torch', 'model(torch.randn(2, 8, 6))', ''].join('\n'));
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    const up = defined(p.layers.find((l) => l.kind === 'conv-transpose'));
    // E[w^2] = 1 / (3 * 8 * 3). On the default length n, 3n taps land on 2n outputs but for the one padding=1
    // crops before (output_padding adds a position after): 8 channels * (3n - 1) / 2n inputs per output value.
    const n = DEFAULT_IMAGE_SIDE;
    expect(up.chi).toBeCloseTo((8 * (3 * n - 1)) / (2 * n) / 72, 6);
  });
});

describe('padded convolutions on small maps', () => {
  // A padded kernel's border taps read zeros: on a map not much larger than the kernel, each output sums
  // fewer inputs than its fan_in (what its initializer is scaled by), and the variance and gradient with it.
  const convChi = async (side: number, conv = 'nn.Conv2d(16, 16, 3, padding=1)') => {
    const [model] = await extractFrom(['import torch.nn as nn', `model = nn.Sequential(nn.Conv2d(16, 16, 1), ${conv}, nn.Conv2d(16, 1, 1))`, ''].join('\n'));
    const p = predictPropagation({ ...defined(model), inputGuess: { shape: [16, side, side], tokens: false, layout: 'channels_first', source: 'user', evidence: 'the test' } }) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    return defined(p.layers.filter((l) => l.kind === 'conv2d')[1]?.chi);
  };

  it('a 3 x 3 kernel padded by 1 reads 4 of its 9 taps per output on a 2 x 2 map and 1 on a 1 x 1 map', async () => {
    // kaiming_uniform(a=sqrt(5)): E[w^2] = 1 / (3 * 16 * 9); 16 channels times the taps that land.
    expect(await convChi(2)).toBeCloseTo((16 * 4) / (3 * 16 * 9), 6);
    expect(await convChi(1)).toBeCloseTo(16 / (3 * 16 * 9), 6);
    // On a 32 x 32 map each side's 32 outputs land 3 * 32 - 2 taps.
    expect(await convChi(32)).toBeCloseTo((16 * ((3 * 32 - 2) / 32) ** 2) / (3 * 16 * 9), 6);
  });

  it('reads the map the probe plans: after a 2x upsampling of a 1 x 1 map, 4 taps of 9 (the signal keeps one position)', async () => {
    expect(await convChi(1, 'nn.Upsample(scale_factor=2), nn.Conv2d(16, 16, 3, padding=1)')).toBeCloseTo((16 * 4) / (3 * 16 * 9), 6);
  });

  it('an unpadded kernel reads every tap, at its valid positions only (clean twin)', async () => {
    expect(await convChi(4, 'nn.Conv2d(16, 16, 3)')).toBeCloseTo((16 * 9) / (3 * 16 * 9), 6);
  });
});

describe('hand-written attention at the base width (d_model 512, 8 heads of 64)', () => {
  const wide = readFileSync(join(__dirname, '../../fixtures/probe/torch_attention_wide.py'), 'utf8');
  // The projections, not the inputs named alike (`forward(self, query, key, value)`).
  const grad = (layers: PropagatedModel['layers'], name: string) => defined(defined(layers.find((l) => l.name === name && l.kind === 'dense')).log10GradRatio);

  // At initialization the scores are small, so each query spreads its softmax nearly evenly over the 20 keys
  // (not over a head's 64 features): the attention output is about the mean of the values, and the value
  // and output projections get the same gradient; queries and keys mirror each other.
  it('spreads the softmax over the keys: value and output projections get the same gradient (matmul after transposes)', async () => {
    const layers = await predictedLayers(wide, 'MultiHeadedAttention');
    expect(Math.abs(grad(layers, 'value') - grad(layers, 'proj'))).toBeLessThan(0.15);
    expect(grad(layers, 'query')).toBeCloseTo(grad(layers, 'key'), 6);
    expect(grad(layers, 'query') - grad(layers, 'value')).toBeLessThan(-0.3);
  });

  it('counts the products of an einsum over named axes as the same attention does', async () => {
    const layers = await predictedLayers(wide, 'EinsumEncoderBlock');
    expect(Math.abs(grad(layers, 'to_qkv') - grad(layers, 'to_out'))).toBeLessThan(0.15);
  });
});

describe('layers far from the reference, judged as the probe judges its measurement', () => {
  const fixture = (dir: string, name: string) => readFileSync(join(__dirname, '../../fixtures', dir, name), 'utf8');

  it('grades a U-Net whose bottleneck gets below the vanishing threshold vanishing, naming the layers, while its first layer is fed through the skips', async () => {
    const models = await extractFrom(fixture('extract/keras', 'unet_deep.py'));
    const deep = predictPropagation(defined(models.find((m) => m.name === 'build_unet()'))) as PropagatedModel;
    expect(deep.ok).toBe(true);
    expect(deep.log10FirstLastRatio).toBeGreaterThan(-1);
    expect(deep.grade).toBe('vanishing');
    // The bottleneck block (after six levels of two convolutions) is among them.
    expect(deep.vanishingLayers.map((l) => l.name)).toEqual(expect.arrayContaining(['conv2d_12', 'conv2d_13']));
    expect(flowOutliersClause(deep)).toMatch(/^; \d+ layers get below 1e-3 of it: conv2d_\d+ \(line 8\)/);
    const shallow = predictPropagation(defined(models.find((m) => m.name === 'build_unet(depth=3)'))) as PropagatedModel;
    expect(shallow.grade).toBe('healthy');
    expect(shallow.vanishingLayers).toEqual([]);
    expect(flowOutliersClause(shallow)).toBe('');
  });

  it('does not count layers behind a zero-initialized residual branch: they get exactly nothing at the first step by design', async () => {
    const [model] = await extractFrom(fixture('rules/GL201', 'clean_keras_residual_zero_init.py'));
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.grade).toBe('healthy');
    expect(p.vanishingLayers).toEqual([]);
  });

  it('says nothing more when the first layer already vanishes', () => {
    const p = stack(10, 64, 'sigmoid', init('glorot_uniform'));
    expect(p.grade).toBe('vanishing');
    expect(p.vanishingLayers.length).toBeGreaterThan(1);
    expect(flowOutliersClause(p)).toBe('');
  });
});

describe('assumptions the prediction states', () => {
  it("names a torch operation whose change of shape it does not compute (an option-A shortcut's F.pad), which it takes as keeping the signal", async () => {
    const source = [
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      'class Block(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = nn.Conv2d(16, 32, 3, stride=2, padding=1)',
      '        self.head = nn.Linear(32, 10)',
      '    def forward(self, x):',
      '        y = self.conv(x) + F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8))',
      '        return self.head(y.mean((2, 3)))',
      '',
    ].join('\n');
    const [model] = await extractFrom(source);
    const p = predictPropagation(defined(model)) as PropagatedModel;
    expect(p.ok, JSON.stringify(p)).toBe(true);
    expect(p.assumptions.join('; ')).toMatch(/unchanged through F\.pad \(line 9\)/);
    const plain = await extractFrom(source.replace(' + F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8))', ''));
    expect((predictPropagation(defined(plain[0])) as PropagatedModel).assumptions.join('; ')).not.toMatch(/unchanged through/);
  });
});

describe('hover on a layer constructor', () => {
  it('shows the predicted std, the gradient ratio and what the initializer does', async () => {
    const { describeLayerHover } = await import('../../../src/shared/knowledge/hover');
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: init('he_normal'), fanIn: 256, fanOut: 256 }), dense(10, { fanIn: 256, fanOut: 10 })] });
    model.inputShape = [256];
    const text = describeLayerHover(model.layers[0]!, model);
    expect(text).toMatch(/#### Predicted at initialization/);
    // relu of N(0, 2): mean 2/sqrt(2π) ≈ 0.564, second moment 1, so std sqrt(1 − 0.318) ≈ 0.826.
    expect(text).toMatch(/output std 0\.82\d* \(mean 0\.56/);
    expect(text).toMatch(/weight-gradient norm ~[\d.e-]+ of the output layer's/);
    expect(text).toMatch(/fan_in · E\[w²\] = 2: the pre-activation's second moment is 2× the input's, and the squared gradient crossing the layer is multiplied by chi = 1/);
  });

  it('says why when the model cannot be propagated', async () => {
    const { describeLayerHover } = await import('../../../src/shared/knowledge/hover');
    const model = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(10)] });
    expect(describeLayerHover(model.layers[0]!, model)).toMatch(/No prediction for this model: `the fan_in of dense/);
  });
});
