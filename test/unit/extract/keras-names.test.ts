/** Names the code gives: layers named by formatted strings in unrolled loops, and models' `name=`. */
import { describe, expect, it } from 'vitest';
import { extractFrom, modelNamed } from './extract-helper';
import { defined } from '../../defined';

const SOURCE = `
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential(name="mlp")
for i in range(3):
    model.add(layers.Dense(32, activation="relu", name=f"h{i}"))
model.add(layers.Dense(1, name="out"))

inputs = keras.Input(shape=(8,))
x = inputs
for i in range(2):
    x = layers.Dense(16, name="dense_%d" % i)(x)
    x = layers.Dense(16, name="block{}_{}".format(i, "a"))(x)
net = keras.Model(inputs, x, name="functional_net")

def build(prefix):
    m = keras.Sequential()
    for i in range(2):
        m.add(layers.Dense(4, name=f"{prefix}{i:02d}"))
    return m
`;

describe('names written in the code', () => {
  it('evaluates f-strings, % and .format in unrolled loops, and keeps Sequential(name=) / Model(name=)', async () => {
    const models = await extractFrom(SOURCE);
    const mlp = modelNamed(models, 'model');
    expect(mlp.layers.map((l) => l.name)).toEqual(['h0', 'h1', 'h2', 'out']);
    expect(mlp.declaredName).toBe('mlp');
    const net = modelNamed(models, 'net');
    expect(net.layers.map((l) => l.name)).toEqual(['input', 'dense_0', 'block0_a', 'dense_1', 'block1_a']);
    expect(net.declaredName).toBe('functional_net');
  });

  it('falls back to generated names when a formatted name is not a constant (format specs, unknown parts)', async () => {
    const models = await extractFrom(SOURCE);
    const built = defined(models.find((m) => m.name === 'm' || m.exports.includes('build')));
    expect(built.declaredName).toBeNull();
    expect(built.layers.map((l) => l.name)).toEqual(['dense', 'dense_1']);
  });
});
