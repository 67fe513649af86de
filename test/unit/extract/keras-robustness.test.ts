/** Real-world mess: truncated files, deleted lines, recursion, huge loops, odd input. Never a crash, never a guess. */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { extractKerasDetailed } from '../../../src/analysis/extract/keras';
import { KERAS_FIXTURES, extractFrom, kerasFixture, modelNamed, parseFile } from './extract-helper';

async function detailed(text: string) {
  const file = await parseFile(text);
  try {
    return extractKerasDetailed(file);
  } finally {
    file.dispose();
  }
}

/** Every range of a model lies inside the text, and layer ids/inputs are consistent. */
function wellFormed(models: ModelIR[], text: string): void {
  const lines = text.split('\n');
  for (const model of models) {
    const ids = new Set(model.layers.map((l) => l.id));
    model.layers.forEach((layer, i) => {
      expect(layer.id).toBe(`L${i}`);
      expect(layer.range.start.line).toBeLessThan(lines.length);
      expect(layer.range.end.line).toBeLessThan(lines.length);
      for (const input of layer.inputs) {
        expect(ids.has(input)).toBe(true);
        expect(Number(input.slice(1))).toBeLessThan(i);
      }
      if (layer.fanIn !== null) expect(layer.fanIn).toBeGreaterThan(0);
    });
  }
  expect(new Set(models.map((m) => m.id)).size).toBe(models.length);
}

const fixtures = readdirSync(KERAS_FIXTURES).filter((f) => f.endsWith('.py'));

describe('robustness', () => {
  it.each(fixtures)('%s: every line-prefix of the file extracts without internal errors', async (name) => {
    const text = kerasFixture(name);
    const lines = text.split('\n');
    for (let n = 0; n <= lines.length; n++) {
      const prefix = lines.slice(0, n).join('\n');
      const result = await detailed(prefix);
      expect(result.errors).toEqual([]);
      wellFormed(result.models, prefix);
    }
  });

  it('random line deletions and duplications never break extraction', async () => {
    const sources = fixtures.map(kerasFixture);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: sources.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 6 }), async (which, edits) => {
        const lines = sources[which]!.split('\n');
        for (const [at, duplicate] of edits) {
          const i = at % lines.length;
          if (duplicate) lines.splice(i, 0, lines[i]!);
          else lines.splice(i, 1);
        }
        const text = lines.join('\n');
        const result = await detailed(text);
        expect(result.errors).toEqual([]);
        wellFormed(result.models, text);
      }),
      { numRuns: 60, seed: 20261123 },
    );
  });

  it('handles empty, blank and non-Python text', async () => {
    for (const text of ['', '\n\n', '\u0000\u0001\u0002binary\uFFFD', 'import tensorflow as tf\n)))(((\n']) expect(await extractFrom(text)).toEqual([]);
  });

  it('stops at recursive helpers and treats a loop too long to unroll as non-constant', async () => {
    const text = `
import tensorflow as tf
from tensorflow.keras import layers

def block(x, depth):
    x = layers.Dense(8, activation='relu')(x)
    return block(x, depth - 1)

inp = tf.keras.Input(shape=(4,))
out = block(inp, 3)
rec = tf.keras.Model(inp, out)

wide = tf.keras.Sequential()
for i in range(100000):
    wide.add(layers.Dense(2))
`;
    const result = await detailed(text);
    expect(result.errors).toEqual([]);
    const rec = modelNamed(result.models, 'rec');
    expect(rec.layers.filter((l) => l.kind === 'dense').length).toBeGreaterThanOrEqual(1);
    expect(rec.layers.filter((l) => l.kind === 'dense').length).toBeLessThanOrEqual(8);
    const wide = modelNamed(result.models, 'wide');
    expect(wide.layers).toHaveLength(1);
    expect(wide.layers[0]!.repeated).toBe(true);
  });

  it('extracts a model defined after a syntax error and inside an if __name__ guard, unmarked', async () => {
    const models = await extractFrom(`
from keras.models import Sequential
from keras.layers import Dense

def broken(:
    pass

if __name__ == '__main__':
    model = Sequential()
    model.add(Dense(4, input_dim=3, activation='relu'))
    model.add(Dense(1))
`);
    const model = modelNamed(models, 'model');
    expect(model.layers.map((l) => l.kind)).toEqual(['dense', 'dense']);
    expect(model.layers.every((l) => !l.conditional)).toBe(true);
  });
});

describe('odd but real code', () => {
  it('reads through notebook magics, typed assignments, **kwargs and Lambda layers', async () => {
    const text = `get_ipython().run_line_magic('matplotlib', 'inline')
!pip install -q tensorflow==2.15
import tensorflow as tf
from tensorflow import keras

cfg = dict(activation="relu", kernel_initializer="he_normal")

model: keras.Model = keras.Sequential([
    keras.layers.Lambda(lambda img: img / 255.0, input_shape=(8,)),
    keras.layers.Dense(32, **cfg),
    keras.layers.Lambda(lambda t: tf.reverse(t, [1])),
])
`;
    const model = modelNamed(await extractFrom(text), 'model');
    expect(model.layers.map((l) => l.kind)).toEqual(['rescaling', 'dense', 'unknown']);
    const dense = model.layers[1]!;
    // The splat may set activation and initializers: no default is claimed.
    expect(dense.activation).toMatchObject({ name: 'unknown', spelling: '**cfg' });
    expect(dense.kernelInit).toMatchObject({ name: 'unknown', spelling: '**cfg', explicit: true });
    expect(dense.units).toBe(32);
    expect(dense.fanIn).toBe(8);
    // A Lambda whose function does what the reader cannot model names that operation and its line.
    expect(model.unsupported.map((u) => u.what)).toEqual(['keras.layers.Lambda(lambda): tf.reverse (line 11) is not an operation the probe can read']);
  });
});

describe('pathological input', () => {
  it('survives a 3000-term expression next to a model', async () => {
    const sum = Array.from({ length: 3000 }, (_, i) => `v${i}`).join(' + ');
    const result = await detailed(`import keras\ntotal = ${sum}\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])\n`);
    expect(result.errors).toEqual([]);
    expect(modelNamed(result.models, 'm').layers[0]!.fanIn).toBe(3);
  });
});
