/**
 * Keras code that adds an axis or copies values (K.expand_dims, tf.tile, K.repeat_elements of a
 * one-channel gate) is read as Reshape and Concatenate layers (analysis/extract/keras/copies.ts): the
 * probe computes with them exactly what TensorFlow computes with the functions themselves.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { planModel } from '../../src/probe/plan';
import { buildNodes } from '../../src/probe/layers';
import { Rng } from '../../src/probe/rng';
import { probeOptions } from '../../src/shared/probe';
import { extractedModels } from '../unit/extract/extract-helper';
import { defined } from '../defined';

const SOURCE = readFileSync(join(__dirname, '../fixtures/probe/keras_attention_gate_tiles.py'), 'utf8');

/** Every layer's output on one batch of the model's inputs (of these shapes), by layer name. */
async function outputs(source = SOURCE, name = 'segmenter', shapes = [[2, 32, 32, 16], [2, 32, 32, 32], [2, 4]]): Promise<Map<string, tf.Tensor>> {
  const model = defined((await extractedModels(source, 'model.py')).find((m) => m.name === name));
  const plan = planModel(model, probeOptions({ batchSize: 2 }));
  const nodes = buildNodes(plan.layers, 'keras', new Rng(3), []);
  const data = new Rng(4);
  const feed = (shape: number[]) => tf.tensor(data.fill(shape.reduce((a, b) => a * b, 1), () => data.normal()), shape);
  const inputs = shapes.map(feed);
  const out: tf.Tensor[] = [];
  let next = 0;
  for (const node of nodes) {
    if (node.planned.ir.kind === 'input') {
      out.push(inputs[next++]!);
      continue;
    }
    out.push(node.apply(node.planned.inputs.map((i) => out[i]!), { training: false, rng: new Rng(0) }));
  }
  return new Map(nodes.map((n, i) => [n.planned.ir.name, out[i]!]));
}

describe('copies of a tensor in the probe', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('K.repeat_elements(gate, 16, axis=3), K.expand_dims twice and tf.tile(t, [1, 32, 32, 1]) compute what TensorFlow computes', async () => {
    const at = await outputs();
    const value = (name: string) => defined(at.get(name));
    // The gate: a one-channel sigmoid map repeated over 16 channels (repeating a size-1 axis is tiling it).
    expect(value('concat').shape).toEqual([2, 32, 32, 16]);
    expect(Array.from(value('concat').dataSync())).toEqual(Array.from(tf.tile(value('activation_1'), [1, 1, 1, 16]).dataSync()));
    // Image pooling: (2, 16) -> (2, 1, 1, 16), then tiled over the map.
    expect(Array.from(value('reshape_1').dataSync())).toEqual(Array.from(tf.expandDims(tf.expandDims(value('global_pool'), 1), 1).dataSync()));
    expect(value('concat_2').shape).toEqual([2, 32, 32, 16]);
    expect(Array.from(value('concat_2').dataSync())).toEqual(Array.from(tf.tile(value('activation_2'), [1, 32, 32, 1]).dataSync()));
    // The label map: every position holds the example's label vector.
    expect(Array.from(value('concat_4').dataSync())).toEqual(Array.from(tf.tile(value('reshape_2'), [1, 32, 32, 1]).dataSync()));
  });

  it("tf.image.resize (TF2's half-pixel bilinear, TF1's with align_corners=True, nearest by a whole factor) interpolates as TensorFlow does", async () => {
    const source = `import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

image = keras.Input(shape=(6, 6, 3))
x = layers.Conv2D(4, 3, padding="same")(image)
half_pixel = layers.Lambda(lambda t: tf.image.resize(t, (15, 15)))(x)
aligned = layers.Lambda(lambda t: tf.compat.v1.image.resize(t, [15, 15], method="bilinear", align_corners=True))(x)
nearest = layers.Lambda(lambda t: tf.image.resize(t, (12, 12), method="nearest"))(x)
pooled = layers.Reshape((1, 1, 4))(layers.GlobalAveragePooling2D()(x))
spread = layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (6, 6)))(pooled)
joined = layers.Concatenate()([layers.Conv2D(2, 1)(half_pixel), layers.Conv2D(2, 1)(aligned)])
model = keras.Model(image, [joined, nearest, spread])
`;
    const at = await outputs(source, 'model', [[2, 6, 6, 3]]);
    const value = (name: string) => Array.from(defined(at.get(name)).dataSync());
    const conv = defined(at.get('conv2d')) as tf.Tensor4D;
    const close = (a: number[], b: number[]) => {
      expect(a).toHaveLength(b.length);
      a.forEach((v, i) => { expect(v).toBeCloseTo(b[i]!, 5); });
    };
    close(value('reshape'), Array.from(tf.image.resizeBilinear(conv, [15, 15], false, true).dataSync()));
    close(value('reshape_1'), Array.from(tf.image.resizeBilinear(conv, [15, 15], true).dataSync()));
    close(value('reshape_2'), Array.from(tf.image.resizeNearestNeighbor(conv, [12, 12], false, true).dataSync()));
    close(value('reshape_4'), Array.from(tf.tile(defined(at.get('reshape_3')), [1, 6, 6, 1]).dataSync()));
  });
});
