/**
 * imported-heads.ts: a word is taken for another framework's only as an attribute of a name the file
 * binds by importing that framework and by nothing else; the torch and Keras readers skip a function
 * on that ground only, so a file that imports both frameworks keeps each framework's models.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PyFile } from '../../../src/analysis/python/file';
import { ImportedHeads, withinPackages } from '../../../src/analysis/python/imported-heads';
import { extractedModels, layerSummary, parseFile } from '../extract/extract-helper';

const BOTH = `import torch
import torch.nn as nn
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
`;

const opened: PyFile[] = [];
afterEach(() => {
  for (const file of opened.splice(0)) file.dispose();
});

/** Whether the word `word` (its first occurrence after the imports) is read as a Keras / TensorFlow attribute in `text`. */
async function kerasAttribute(body: string, word: string): Promise<boolean> {
  const text = BOTH + body;
  const file = await parseFile(text);
  opened.push(file);
  const at = text.indexOf(word, BOTH.length);
  expect(at).toBeGreaterThan(0);
  return new ImportedHeads(file, withinPackages(['keras', 'tensorflow'])).attributeOfFramework(text, at);
}

describe('imported heads', () => {
  it('reads attributes of imported Keras and TensorFlow names as theirs', async () => {
    expect(await kerasAttribute('m = keras.Sequential([layers.Dense(3)])\n', 'Sequential')).toBe(true);
    expect(await kerasAttribute('h = layers.LSTM(8)\n', 'LSTM')).toBe(true);
    expect(await kerasAttribute('y = tf.nn.relu(x)\n', 'nn.relu')).toBe(true);
    expect(await kerasAttribute('c = tf.keras.layers.Conv2D(3, 3)\n', 'Conv2D')).toBe(true);
  });

  it('does not read torch names, bare words or attributes of other objects as Keras', async () => {
    expect(await kerasAttribute('m = nn.Sequential(nn.Linear(3, 4))\n', 'Sequential')).toBe(false);
    expect(await kerasAttribute('m = Sequential()\n', 'Sequential')).toBe(false);
    expect(await kerasAttribute('m = self.layers.LSTM(8)\n', 'LSTM')).toBe(false);
    expect(await kerasAttribute('m = x . keras.Sequential()\n', 'Sequential')).toBe(false);
    expect(await kerasAttribute('m = x.\\\n    keras.Sequential()\n', 'Sequential')).toBe(false);
    expect(await kerasAttribute('m = \u00f1layers.LSTM(8)\n', 'LSTM')).toBe(false);
    expect(await kerasAttribute('m = make().Sequential()\n', 'Sequential')).toBe(false);
  });

  it('does not trust a head the file binds otherwise too', async () => {
    // A parameter, an assignment, a loop variable, another import, an attribute replaced.
    expect(await kerasAttribute('def f(layers):\n    return layers.Linear(3, 4)\n', 'Linear')).toBe(false);
    expect(await kerasAttribute('layers = nn\nm = layers.Linear(3, 4)\n', 'Linear')).toBe(false);
    expect(await kerasAttribute('for layers in (nn,):\n    m = layers.Linear(3, 4)\n', 'Linear')).toBe(false);
    expect(await kerasAttribute('try:\n    pass\nexcept ImportError:\n    import torch.nn as layers\nm = layers.Linear(3, 4)\n', 'Linear')).toBe(false);
    expect(await kerasAttribute('layers.Linear = nn.Linear\nm = layers.Linear(3, 4)\n', 'Linear(3')).toBe(false);
    expect(await kerasAttribute('layers.Linear: type = nn.Linear\nm = layers.Linear(3, 4)\n', 'Linear(3')).toBe(false);
    // Read (not bound) elsewhere: still the import's.
    expect(await kerasAttribute('print(layers.__name__)\nm = layers.LSTM(8)\n', 'LSTM')).toBe(true);
  });

  it('keeps the models of a file that imports both frameworks', async () => {
    // Each builder is read by its framework's reader only; the mixed one by both.
    const models = await extractedModels(`${BOTH}
def build_keras():
    return keras.Sequential([keras.Input(shape=(8,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])


def build_torch():
    return nn.Sequential(nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))


def build_both():
    head = nn.Sequential(nn.Linear(8, 2), nn.Sigmoid())
    body = keras.Sequential([keras.Input(shape=(8,)), layers.LSTM(4)])
    return head, body
`);
    expect(models.map((m) => `${m.framework} ${m.name}: ${layerSummary(m).join(' ')}`).sort()).toEqual([
      'keras body: input lstm:tanh',
      'keras build_keras: input dense:tanh dense',
      'torch build_torch: dense activation:tanh dense',
      'torch head: dense activation:sigmoid',
    ]);
  });
});
