/**
 * 3-D convolutions (Keras Conv3D / Keras 1 Convolution3D, torch Conv3d): the probe's convolution, a sum
 * over kernel depth of 2-D convolutions, computes what tf.conv3d computes on the cpu backend, values and
 * gradients, on wasm too (whose own Conv3D gradients are wrong); Keras code with Conv3D and MaxPooling3D
 * probes from source; what the probe does not build in 3-D is refused by name. The gradient profile
 * against PyTorch is in reference-profiles.test.ts (scripts/reference/cases/conv3d.py).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { makeConv3d } from '../../src/probe/conv';
import { planModel } from '../../src/probe/plan';
import { runProbe } from '../../src/probe/run';
import { probeOptions } from '../../src/shared/probe';
import { extractFrom, modelNamed, parseFile } from '../unit/extract/extract-helper';
import { extractFile } from '../../src/analysis/extract';
import { defined } from '../defined';

type Strides = [number, number, number];
const STRIDES: Strides[] = [[1, 1, 1], [2, 2, 2], [2, 1, 3]];

/** Output and both gradients of sum(conv(x, w)^2), as plain arrays. */
function outcome(conv: (x: tf.Tensor5D, w: tf.Tensor5D) => tf.Tensor): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor5d(Array.from({ length: 2 * 9 * 8 * 7 * 3 }, (_, i) => Math.sin(i * 1.3)), [2, 9, 8, 7, 3]);
    const w = tf.tensor5d(Array.from({ length: 3 * 2 * 3 * 3 * 4 }, (_, i) => Math.cos(i * 0.7)), [3, 2, 3, 3, 4]);
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(conv(a as tf.Tensor5D, b as tf.Tensor5D)));
    const [dx, dw] = tf.grads(loss)([x, w]);
    return [conv(x, w), defined(dx), defined(dw)].map((t) => Array.from(t.dataSync()));
  });
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)));
  expect(worst / scale).toBeLessThan(1e-5);
}

describe('3-D convolution', () => {
  it.each(STRIDES)('matches tf.conv3d on cpu, values and gradients, on cpu and wasm (strides %i, %i, %i)', async (...strides) => {
    await selectBackend('cpu');
    const reference = outcome((x, w) => tf.conv3d(x, w, strides, 'valid'));
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend(backend);
      const mine = outcome(makeConv3d(strides));
      reference.forEach((expected, i) => { expectClose(defined(mine[i]), expected); });
    }
  });

  const KERAS = `from tensorflow import keras
from tensorflow.keras import layers
model = keras.Sequential([
    layers.Conv3D(8, 3, activation='relu', input_shape=(10, 10, 10, 1)),
    layers.MaxPooling3D(2),
    layers.Conv3D(8, 3, padding='same', strides=2, activation='relu'),
    layers.GlobalAveragePooling3D(),
    layers.Dense(2, activation='softmax'),
])
`;

  it('probes a Keras Conv3D / MaxPooling3D net from source, every conv learning', async () => {
    const model = modelNamed(await extractFrom(KERAS), 'model');
    const options = probeOptions({ backend: 'wasm', steps: 2, batchSize: 4 });
    expect(planModel(model, options).layers.map((l) => l.outShape)).toEqual([[8, 8, 8, 8], [4, 4, 4, 8], [2, 2, 2, 8], [8], [2]]);
    const result = await runProbe(model, options);
    if (!result.ok) throw new Error(result.error.message);
    const convs = result.result.layers.filter((l) => l.kind === 'conv3d');
    expect(convs.map((l) => l.params)).toEqual([8 * 27 + 8, 8 * 27 * 8 + 8]);
    for (const conv of convs) expect(defined(conv.gradNorm[0])).toBeGreaterThan(0);
  });

  it('reads Keras 1 Convolution3D(nb_filter, kernel_dim1, kernel_dim2, kernel_dim3) on a channels-first input', async () => {
    const text = `from keras.models import Sequential
from keras.layers import Convolution3D, Flatten, Dense
model = Sequential()
model.add(Convolution3D(nb_filter=4, kernel_dim1=3, kernel_dim2=3, kernel_dim3=3, input_shape=(1, 7, 7, 7)))
model.add(Convolution3D(4, 2, 2, 2))
model.add(Flatten())
model.add(Dense(1))
`;
    const file = await parseFile(text);
    const model = modelNamed(extractFile(file).models, 'model');
    file.dispose();
    expect(model.layers.map((l) => l.kernelSize)).toEqual([[3, 3, 3], [2, 2, 2], null, null]);
    expect(model.layers[0]).toMatchObject({ units: 4, dataFormat: 'channels_first' });
    const plan = planModel(model, probeOptions({ backend: 'cpu' }));
    expect(plan.inputShape).toEqual([7, 7, 7, 1]);
    expect(plan.layers.map((l) => l.outShape)).toEqual([[5, 5, 5, 4], [4, 4, 4, 4], [256], [1]]);
  });

  it('refuses a dilated 3-D convolution by name (clean twin: the undilated net above)', async () => {
    const model = modelNamed(await extractFrom(KERAS.replace("layers.Conv3D(8, 3, activation='relu',", "layers.Conv3D(8, 3, dilation_rate=2, activation='relu',")), 'model');
    expect(() => planModel(model, probeOptions({ backend: 'cpu' }))).toThrow(/Conv3D .*dilated or causal 3-D convolutions are not supported by the probe/);
  });
});
