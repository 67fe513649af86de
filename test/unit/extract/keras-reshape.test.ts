/**
 * A Keras Reshape whose target holds a size computed from a value the code does not fix
 * (`Reshape((int(input_length / 13), 13))`): Keras fits the input's total, so the size is what -1
 * infers; the input is guessed consistent with it and the guess says why. Two unknown sizes stay
 * unknown, and a target of known values is evaluated.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { extractFile } from '../../../src/analysis/extract';
import { parseFile } from './extract-helper';
import { defined } from '../../defined';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';
import { analyzeFiles } from '../project-helper';

async function modelOf(target: string): Promise<ModelIR> {
  const file = await parseFile(`from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Conv1D, Dense, Flatten, Reshape
model = Sequential()
model.add(Reshape(${target}, input_shape=(input_length, )))
model.add(Conv1D(8, kernel_size=3, activation='relu', padding='same'))
model.add(Flatten())
model.add(Dense(4, activation='softmax'))
`);
  try {
    return defined(extractFile(file).models[0]);
  } finally {
    file.dispose();
  }
}

const targetOf = (model: ModelIR) => {
  const reshape = defined(model.layers[0]);
  return reshape.kind === 'reshape' && reshape.reshape.op === 'reshape' ? reshape.reshape.target : undefined;
};

describe('Keras Reshape with a computed size', () => {
  it('reads the one size computed from an unknown value as the size Keras infers (-1), and guesses the input to fit', async () => {
    const model = await modelOf('(int(input_length / 13), 13)');
    expect(targetOf(model)).toEqual([-1, 13]);
    expect(model.inputGuess).toMatchObject({ shape: [260], source: 'default' });
    expect(model.inputGuess?.evidence).toMatch(/^Reshape \(line 4\) makes it \(20, 13\): the size it computes from a value the code does not fix is 20 by default$/);
    const plan = planModel(model, probeOptions({ backend: 'cpu' }));
    expect(plan.layers.map((l) => l.outShape)).toEqual([[20, 13], [20, 8], [160], [4]]);
  });

  it('evaluates a target of known values', async () => {
    expect(targetOf(await modelOf('(int(260 / 13), 13)'))).toEqual([20, 13]);
  });

  it('leaves a target with two unknown sizes unknown (clean twin: no guess from it)', async () => {
    const model = await modelOf('(steps, features)');
    expect(targetOf(model)).toBeNull();
    expect(model.inputGuess?.evidence ?? '').not.toMatch(/Reshape/);
  });
});

describe('sizes from a configuration object another file makes', () => {
  // config.py: `args = argparse.Namespace(img_rows=28, img_col=28, channels=1)`; the GAN script imports it.
  const CONFIG = 'import argparse\n\nargs = argparse.Namespace(\n    img_rows=28,\n    img_col=28,\n    channels=1\n)\n';
  const GAN = `from keras.layers import Input, Dense, Reshape, LeakyReLU
from keras.models import Sequential, Model
import numpy as np
from config import args

img_shape = (args.img_rows, args.img_col, args.channels)

generator = Sequential()
generator.add(Dense(256, input_dim=100))
generator.add(LeakyReLU(alpha=0.2))
generator.add(Dense(np.prod(img_shape), activation="tanh"))
generator.add(Reshape(img_shape))
`;
  const reshapeOf = async (files: Record<string, string>) => {
    const [result] = await analyzeFiles(files);
    const model = defined(result?.models.find((m) => m.name === 'generator'));
    const targets = model.layers.flatMap((l) => (l.kind === 'reshape' && l.reshape.op === 'reshape' ? [l.reshape.target] : []));
    return { target: targets[0], units: model.layers.filter((l) => l.kind === 'dense').map((l) => l.units) };
  };

  it('reads args.img_rows as the Namespace is made there: the Reshape target and the Dense before it', async () => {
    expect(await reshapeOf({ '/ws/gan.py': GAN, '/ws/config.py': CONFIG })).toEqual({ target: [28, 28, 1], units: [256, 784] });
  });

  it('leaves them unknown when the script changes the attribute, or without the config file', async () => {
    expect((await reshapeOf({ '/ws/gan.py': GAN.replace('img_shape = ', 'args.img_rows = 32\nimg_shape = '), '/ws/config.py': CONFIG })).target).toBeNull();
    expect((await reshapeOf({ '/ws/gan.py': GAN })).target).toBeNull();
  });

  // The same sizes passed to a builder of a third file: main.py calls models.py's build_generator(img_shape).
  const MODELS = `from keras.layers import Dense, Reshape, LeakyReLU
from keras.models import Sequential
import numpy as np

def build_generator(img_shape):
    model = Sequential()
    model.add(Dense(256, input_shape=(100,)))
    model.add(LeakyReLU(alpha=0.2))
    model.add(Dense(np.prod(img_shape), activation='tanh'))
    model.add(Reshape(img_shape))
    return model
`;
  const MAIN = 'from models import build_generator\nfrom config import args\n\nimg_shape = (args.img_rows, args.img_col, args.channels)\ngenerator = build_generator(img_shape)\n';
  const builderOf = async (files: Record<string, string>) => {
    const results = await analyzeFiles(files);
    const model = defined(results.flatMap((r) => r.models).find((m) => m.file === '/ws/models.py'));
    const targets = model.layers.flatMap((l) => (l.kind === 'reshape' && l.reshape.op === 'reshape' ? [l.reshape.target] : []));
    return { target: targets[0], units: model.layers.filter((l) => l.kind === 'dense').map((l) => l.units) };
  };

  it('reads them in the arguments of a call of another file\'s builder, whatever order the files come in', async () => {
    // The builder's file first: its call sites are read before the calling file is extracted.
    expect(await builderOf({ '/ws/models.py': MODELS, '/ws/main.py': MAIN, '/ws/config.py': CONFIG })).toEqual({ target: [28, 28, 1], units: [256, 784] });
    expect(await builderOf({ '/ws/config.py': CONFIG, '/ws/main.py': MAIN, '/ws/models.py': MODELS })).toEqual({ target: [28, 28, 1], units: [256, 784] });
    // Clean twin: without the config file the sizes stay unknown.
    expect((await builderOf({ '/ws/models.py': MODELS, '/ws/main.py': MAIN })).target).toBeNull();
  });
});
