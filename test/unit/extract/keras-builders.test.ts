/**
 * Keras builders read per call with the call's actual arguments (issue 8 §2): a static method of a
 * builder class (`NetBuilder.build(block_fn, ...)`) is read once per call of it, and a function of the
 * file passed as an argument (`block_fn`) is the block it builds, so its layers reach the rules.
 */
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';
import { analyzeFiles, analyzeText } from '../project-helper';
import { defined } from '../../defined';
import { extractFrom, kerasFixture, modelNamed } from './extract-helper';
import type { ModelIR } from '../../../src/shared/ir';
import { isNoiseInput } from '../../../src/shared/layers';

async function analyze(text: string): Promise<FileResult> {
  const project = await Project.create();
  try {
    project.setFile('/ws/resnet.py', text);
    return project.analyzeFile('/ws/resnet.py');
  } finally {
    project.dispose();
  }
}

const builder = (blocks: string) => `
from keras.layers import Input, Conv2D, BatchNormalization, Activation, Dense, Flatten
from keras.models import Model


def plain_block(filters):
    def f(x):
        y = Conv2D(filters, (3, 3), padding="same")(x)
        y = BatchNormalization()(y)
        return Activation("relu")(y)
    return f


def biasless_block(filters):
    def f(x):
        y = Conv2D(filters, (3, 3), padding="same", use_bias=False)(x)
        y = BatchNormalization()(y)
        return Activation("relu")(y)
    return f


class NetBuilder(object):
    @staticmethod
    def build(block_fn, repetitions):
        inputs = Input(shape=(32, 32, 3))
        x = inputs
        filters = 16
        for r in repetitions:
            for _ in range(r):
                x = block_fn(filters)(x)
            filters *= 2
        outputs = Dense(10, activation="softmax")(Flatten()(x))
        return Model(inputs, outputs)

${blocks}
`;

describe('a builder class whose static method takes the block function', () => {
  it('reads the block passed at each call: its conv -> BatchNorm pairs are findings', async () => {
    const result = await analyze(
      builder(`
    @staticmethod
    def small():
        return NetBuilder.build(plain_block, [1, 1])
`),
    );
    const convs = result.models.flatMap((m) => m.layers).filter((l) => l.kind === 'conv2d');
    expect(convs.map((l) => l.units)).toEqual([16, 32]);
    const gl302 = result.findings.filter((f) => f.code === 'GL302').map((f) => f.range.start.line + 1);
    expect(gl302).toEqual([8]);
  });

  it('a block without bias before BatchNorm is no finding (the same builder, the clean block passed)', async () => {
    const result = await analyze(
      builder(`
    @staticmethod
    def small():
        return NetBuilder.build(biasless_block, [1, 1])
`),
    );
    const convs = result.models.flatMap((m) => m.layers).filter((l) => l.kind === 'conv2d');
    expect(convs.map((l) => [l.units, l.useBias])).toEqual([
      [16, false],
      [32, false],
    ]);
    expect(result.findings.filter((f) => f.code === 'GL302')).toEqual([]);
  });

  it('two calls with different blocks are two models, each named after its call', async () => {
    const result = await analyze(
      builder(`
    @staticmethod
    def plain():
        return NetBuilder.build(plain_block, [1])

    @staticmethod
    def biasless():
        return NetBuilder.build(biasless_block, [1])
`),
    );
    const built = result.models.filter((m) => m.instance);
    expect(built.map((m) => m.name).sort()).toEqual(['NetBuilder.build(biasless_block, [1])', 'NetBuilder.build(plain_block, [1])']);
    expect(result.findings.filter((f) => f.code === 'GL302')).toHaveLength(1);
  });
});

const classifier = (instances: string) => `
from tensorflow import keras
from tensorflow.keras import layers


class Classifier(keras.Model):
    def __init__(self, hidden=64, init="glorot_uniform"):
        super().__init__()
        self.hidden = layers.Dense(hidden, activation="relu", kernel_initializer=init)
        self.head = layers.Dense(10)

    def call(self, x, training=None):
        return self.head(self.hidden(x))

${instances}
`;

describe('a Keras Model subclass is read per instance, with its constructor arguments', () => {
  it('two instances built differently are two models; only the zero-initialized one is a finding', async () => {
    const result = await analyze(classifier('small = Classifier(32)\nzeroed = Classifier(init="zeros")'));
    expect(result.models.map((m) => [m.name, m.layers[0]?.units])).toEqual([
      ['Classifier(32)', 32],
      ['Classifier(init="zeros")', 64],
    ]);
    const gl201 = result.findings.filter((f) => f.code === 'GL201');
    expect(gl201.map((f) => f.message.includes('Classifier(init="zeros")'))).toEqual([true]);
  });

  it('one instance is the model, named after its class, with the sizes its call passes', async () => {
    const result = await analyze(classifier('model = Classifier(32)'));
    expect(result.models.map((m) => [m.name, m.layers[0]?.units, m.instance])).toEqual([['Classifier', 32, undefined]]);
    expect(result.findings.filter((f) => f.code === 'GL201')).toEqual([]);
  });

  it('a class nobody instantiates is read once with its defaults', async () => {
    const result = await analyze(classifier(''));
    expect(result.models.map((m) => [m.name, m.layers[0]?.units])).toEqual([['Classifier', 64]]);
  });
});

describe('builders called from another file of the workspace', () => {
  for (const [call, findings] of [
    ['build(units=8, init="zeros")', 1],
    ['build(units=8)', 0],
  ] as const) {
    it(`a builder function is read with the arguments another file passes: ${call}`, async () => {
      const project = await Project.create();
      try {
        project.setFile(
          '/ws/model.py',
          `from tensorflow import keras
from tensorflow.keras import layers


def build(units=64, init="glorot_uniform"):
    return keras.Sequential([
        layers.Dense(units, activation="relu", kernel_initializer=init, input_shape=(16,)),
        layers.Dense(1),
    ])
`,
        );
        project.setFile('/ws/train.py', `from model import build\n\nmodel = ${call}\nmodel.compile(optimizer="adam", loss="mse")\n`);
        const result = project.analyzeFile('/ws/model.py');
        expect(result.models.map((m) => m.layers[0]?.units)).toEqual([8]);
        expect(result.findings.filter((f) => f.code === 'GL201')).toHaveLength(findings);
      } finally {
        project.dispose();
      }
    });
  }
});

describe('a Sequential made in __init__ and filled in another method', () => {
  it('is not called empty in silence: a note says its .add() calls are in another method, which is not followed', async () => {
    const text = `from keras.layers import Dense, LSTM
from keras.models import Sequential


class Forecaster:
    def __init__(self):
        self.model = Sequential()

    def build_model(self):
        self.model.add(LSTM(64, input_shape=(50, 4)))
        self.model.add(Dense(1))
        self.model.compile(loss='mse', optimizer='adam')
`;
    const result = await analyzeText(text, '/project/forecaster.py');
    expect(result.notices.map((n) => n.message)).toContainEqual('Line 7: self.model = Sequential() gets its layers outside this method (.add() calls in another method are not followed): none are read');
    // Made and filled in one method, it is read whole, with no such note.
    const together = await analyzeText(text.replace('        self.model = Sequential()\n', '        pass\n').replace('    def build_model(self):\n', '    def build_model(self):\n        self.model = Sequential()\n'), '/project/together.py');
    expect(together.models.find((m) => m.name === 'self.model')?.layers.map((l) => l.kind)).toEqual(['lstm', 'dense']);
    expect(together.notices.some((n) => n.message.includes('outside this method'))).toBe(false);
  });
});

/** What each merge of the model adds up: its layers' kinds by id, per add. */
function addOperands(model: ModelIR): string[][] {
  const kindOf = new Map(model.layers.map((l) => [l.id, l.kind]));
  return model.layers.filter((l) => l.kind === 'add').map((l) => l.inputs.map((id) => kindOf.get(id) ?? '?'));
}

describe('a shortcut model passed into the block and applied `if downsample:`', () => {
  it('runs one branch: the projection when one is passed, the identity when None is', async () => {
    const models = await extractFrom(kerasFixture('resnet_passed_shortcut.py'));
    const plain = modelNamed(models, 'small_resnet(plain_block, [2, 2])');
    // Stage 1 keeps its width (32 == 32, no projection); stage 2 strides: its first block projects.
    expect(addOperands(plain)).toEqual([['batchnorm', 'conv2d'], ['batchnorm', 'activation'], ['batchnorm', 'batchnorm'], ['batchnorm', 'activation']]);
    expect(plain.layers).toHaveLength(34);
    // `block.__name__` names the wide block, and the module's `global channels` starts at 32 for this
    // call whatever an earlier read left: both stages of the wide net project (32 != 128, then a stride).
    const wide = modelNamed(models, 'small_resnet(wide_block, [1, 1])');
    expect(addOperands(wide)).toEqual([['conv2d', 'batchnorm'], ['conv2d', 'batchnorm']]);
    expect(wide.layers.filter((l) => l.kind === 'conv2d').map((l) => l.units)).toEqual([32, 32, 32, 128, 128, 64, 64, 256, 256]);
  });

  it('leaves the twin whose block projects by a flag as it was', async () => {
    const models = await extractFrom(kerasFixture('resnet_fixed_shortcut.py'));
    const plain = modelNamed(models, 'small_resnet');
    expect(addOperands(plain)).toEqual([['batchnorm', 'conv2d'], ['batchnorm', 'activation'], ['batchnorm', 'batchnorm'], ['batchnorm', 'activation']]);
    expect(plain.layers).toHaveLength(34);
  });
});

describe('a builder called inside another function with the models that function made', () => {
  // main() makes the generator and the discriminator and passes them to create_gan and stack: the
  // combined models are read with what main passes, not with unknown arguments.
  const models = () => extractFrom(kerasFixture('gan_built_in_main.py'), 'gan.py');

  it('the combined functional model applies the generator, then the discriminator', async () => {
    const gan = modelNamed(await models(), 'gan');
    expect(gan.layers.map((l) => l.kind)).toEqual(['input', 'dense', 'activation', 'dense', 'dense', 'activation', 'dropout', 'dense']);
    expect(gan.layers.at(-1)?.activation?.name).toBe('sigmoid');
  });

  it('the stacked Sequential holds both models, in the order they are added', async () => {
    const stacked = modelNamed(await models(), 'model');
    expect(stacked.layers.filter((l) => l.kind === 'dense').map((l) => l.units)).toEqual([256, 784, 256, 1]);
  });

  it("the discriminator frozen by create_gan (trainable = False) does not train in the models built after, and trains in its own", async () => {
    const all = await models();
    const frozen = (name: string) => modelNamed(all, name).layers.filter((l) => l.kind === 'dense').map((l) => l.frozen);
    // gan applies the generator, then the frozen discriminator; stack() is called after create_gan froze it.
    expect(frozen('gan')).toEqual([false, false, true, true]);
    expect(frozen('model')).toEqual([false, false, true, true]);
    expect(frozen('d')).toEqual([false, false]);
    expect(frozen('g')).toEqual([false, false]);
    // The twin that never freezes it trains every layer.
    const twin = await extractFrom(kerasFixture('gan_built_in_main.py').replace('    discriminator.trainable = False\n', ''), 'gan.py');
    expect(twin.flatMap((m) => m.layers).some((l) => l.frozen)).toBe(false);
  });

  it('freezes the discriminator as well through a loop over its layers, but not through a part of them or a condition', async () => {
    const written = (loop: string) => kerasFixture('gan_built_in_main.py').replace('    discriminator.trainable = False\n', loop);
    const frozenIn = async (loop: string) => {
      const all = await extractFrom(written(loop), 'gan.py');
      return modelNamed(all, 'gan').layers.filter((l) => l.kind === 'dense').map((l) => l.frozen);
    };
    expect(await frozenIn('    for layer in discriminator.layers:\n        layer.trainable = False\n')).toEqual([false, false, true, true]);
    expect(await frozenIn('    for layer in discriminator.layers[:]:\n        layer.trainable = False\n')).toEqual([false, false, true, true]);
    // Twins: the last layers only, and the Dense layers under a condition, are not every layer of it.
    expect(await frozenIn('    for layer in discriminator.layers[:-1]:\n        layer.trainable = False\n')).toEqual([false, false, false, false]);
    expect(await frozenIn('    for layer in discriminator.layers:\n        if layer.name.startswith("dense"):\n            layer.trainable = False\n')).toEqual([false, false, false, false]);
  });

  it('reading main() for its arguments adds no model of its own', async () => {
    const result = await analyzeText(kerasFixture('gan_built_in_main.py'), 'gan.py');
    expect(result.models.map((m) => m.name).sort()).toEqual(['d', 'g', 'gan', 'model']);
  });
});

describe('builder methods of a plain class read what its __init__ sets on self', () => {
  const dense = (model: ModelIR) => model.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units]);

  it('sizes the GAN networks from the constants __init__ sets, as the Keras-GAN classes write them', async () => {
    const all = await extractFrom(kerasFixture('gan_class.py'), 'gan.py');
    // latent_dim 100 in, np.prod(img_shape) = 784 out, reshaped to the image; the discriminator reads 28x28x1.
    expect(dense(modelNamed(all, 'build_generator'))).toEqual([[100, 256], [256, 512], [512, 784]]);
    const reshape = modelNamed(all, 'build_generator').layers.find((l) => l.kind === 'reshape');
    expect(reshape?.kind === 'reshape' && reshape.reshape.op === 'reshape' ? reshape.reshape.target : null).toEqual([28, 28, 1]);
    expect(dense(modelNamed(all, 'build_discriminator'))).toEqual([[784, 512], [512, 256], [256, 1]]);
    // The combined model built in __init__ holds both, with the same sizes.
    expect(dense(modelNamed(all, 'self.combined'))).toEqual([[100, 256], [256, 512], [512, 784], [784, 512], [512, 256], [256, 1]]);
  });

  it('reads __init__ with the instantiation\'s arguments; sizes the instantiations disagree on stay unknown', async () => {
    const zMean = async (main: string) => {
      const all = await extractFrom(kerasFixture('gan_class.py').replace('    vae = VAE(latent_dim=16)\n', main), 'gan.py');
      return dense(modelNamed(all, 'vae'))[1];
    };
    expect(await zMean('    vae = VAE(latent_dim=16)\n')).toEqual([256, 16]);
    expect(await zMean('    small = VAE(latent_dim=16)\n    large = VAE(latent_dim=16)\n')).toEqual([256, 16]);
    expect(await zMean('    small = VAE(latent_dim=16)\n    large = VAE(latent_dim=32)\n')).toEqual([256, null]);
    // Not instantiated in the file: __init__'s defaults.
    expect(await zMean('')).toEqual([256, 2]);
  });

  it('runs a method passed to Lambda (self.__sampling) with the instance\'s attributes', async () => {
    const vae = modelNamed(await extractFrom(kerasFixture('gan_class.py'), 'gan.py'), 'vae');
    expect(vae.layers.filter((l) => l.kind === 'unknown')).toEqual([]);
    // The noise it draws is shaped (batch, self.latent_dim), added to the mean.
    expect(vae.layers.filter(isNoiseInput).map((l) => (l.kind === 'input' ? l.shape : null))).toEqual([[16]]);
    // Twin: a method the class does not define stays an unknown layer, named.
    const missing = modelNamed(await extractFrom(kerasFixture('gan_class.py').replace('Lambda(self.__sampling', 'Lambda(self.__resample'), 'gan.py'), 'vae');
    expect(missing.layers.filter((l) => l.kind === 'unknown').map((l) => l.className)).toEqual(['Lambda']);
  });
});

describe('builder methods of a plain class another file instantiates', () => {
  it('read __init__ with the arguments of that file\'s call', async () => {
    const vaeClass = kerasFixture('gan_class.py').replace(/\nif __name__ == '__main__':[\s\S]*$/, '\n');
    const zMean = async (train: string) => {
      const [result] = await analyzeFiles({ '/ws/models.py': vaeClass, '/ws/train.py': train });
      const vae = defined(result).models.find((m) => m.name === 'vae');
      return vae?.layers.filter((l) => l.kind === 'dense').map((l) => l.units)[1];
    };
    expect(await zMean('from models import VAE\n\nvae = VAE(latent_dim=32)\n')).toBe(32);
    // Twin: nobody passes latent_dim, so __init__'s default holds.
    expect(await zMean('from models import VAE\n\nvae = VAE()\n')).toBe(2);
  });
});
