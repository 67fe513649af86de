/**
 * Input shapes the layers accept when the code gives none: a sequence layer reads (time, features),
 * and a default image the layers refuse (too small for a discriminator, the wrong width for a residual
 * skip, an image for a generator that reads a latent) gives way to the smallest shape they accept.
 * Each guess is checked against the probe's own plan, so the analyzer and the probe agree.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { extractFile } from '../../../src/analysis/extract';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';
import { parseFile } from './extract-helper';
import { defined } from '../../defined';

async function modelOf(text: string, name: string): Promise<ModelIR> {
  const file = await parseFile(text);
  try {
    return defined(extractFile(file).models.find((m) => m.name === name));
  } finally {
    file.dispose();
  }
}

/** The probe's plan input (channels last), or the probe's refusal. */
function planned(model: ModelIR): number[] | string {
  try {
    return planModel(model, probeOptions({ backend: 'wasm' })).inputShape;
  } catch (e) {
    return e instanceof Error ? e.message : 'failed';
  }
}

const KERAS_GRU = `import numpy as np
from keras import layers
from keras.models import Sequential
float_data = np.loadtxt('jena_climate.csv')
model = Sequential()
model.add(layers.GRU(32, input_shape=(None, float_data.shape[-1])))
model.add(layers.Dense(1))
model.compile(optimizer='rmsprop', loss='mae')
`;

const TORCH_RNN = `import torch
import torch.nn as nn

class SimpleRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.f = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.f(out[:, -1, :])
`;

const RESIDUAL_BLOCK = `import torch.nn as nn

class ResidualBlock(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Conv2d(in_features, in_features, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(in_features),
            nn.PReLU(),
            nn.Conv2d(in_features, in_features, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(in_features),
        )

    def forward(self, x):
        return x + self.conv_block(x)
`;

/** A PatchGAN-style discriminator: five 4x4 stride-2 convs need more than the default 32x32 image. */
const DISCRIMINATOR = `import torch.nn as nn

class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(128, 256, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(256, 512, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(512, 1, 4, 1, 0), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x)
`;

const DCGAN_GENERATOR = `import torch.nn as nn

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 3, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)
`;

const CYCLEGAN_BLOCK = `import torch.nn as nn

class ResidualBlock(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(in_features, in_features, 3),
            nn.InstanceNorm2d(in_features),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return x + self.block(x)
`;

const KERAS1_THEANO = `from keras.models import Sequential
from keras.layers import Convolution2D, MaxPooling2D, Flatten, Dense, Activation
model = Sequential()
model.add(Convolution2D(32, 3, 3, border_mode='valid', input_shape=(3, 100, 100)))
model.add(Activation('relu'))
model.add(Convolution2D(32, 3, 3))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(10))
`;

const TORCH_ENCODER = `import torch
from torch import nn

class Encoder(nn.Module):
    def __init__(self, embed_dim=256, num_heads=8):
        super().__init__()
        self.attention = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        out, _ = self.attention(x, x, x)
        return self.norm(x + out)

example = torch.randn(1, 1, 56, 56)
`;

describe('sequence inputs the code does not describe', () => {
  it('gives a Keras GRU with input_shape=(None, data.shape[-1]) a (time, features) input, naming both sizes', async () => {
    const model = await modelOf(KERAS_GRU, 'model');
    expect(model.inputGuess).toMatchObject({ shape: [20, 32], source: 'default', evidence: expect.stringMatching(/sequence length 20 by default, 32 features per step \(a representative value\)/) });
    expect(planned(model)).toEqual([20, 32]);
  });

  it('keeps the features a Keras recurrent layer declares (clean twin)', async () => {
    const model = await modelOf(KERAS_GRU.replace('float_data.shape[-1]', '14'), 'model');
    expect(model.inputGuess).toMatchObject({ shape: [20, 14], source: 'default', evidence: expect.not.stringMatching(/representative/) });
    expect(planned(model)).toEqual([20, 14]);
  });

  it('gives a torch nn.RNN(input_size, ...) a sequence, and keeps a constant input_size', async () => {
    const unknown = await modelOf(TORCH_RNN, 'SimpleRNN');
    expect(unknown.inputGuess).toMatchObject({ shape: [20, 32], layout: 'channels_last' });
    expect(planned(unknown)).toEqual([20, 32]);
    const known = await modelOf(TORCH_RNN.replace('nn.RNN(input_size,', 'nn.RNN(6,'), 'SimpleRNN');
    expect(known.inputGuess).toMatchObject({ shape: [20, 6] });
    expect(planned(known)).toEqual([20, 6]);
  });

  it('reads attention first as (time, features), not the image tensor of the file', async () => {
    const model = await modelOf(TORCH_ENCODER, 'Encoder');
    expect(model.inputGuess).toMatchObject({ shape: [20, 256], layout: 'channels_last', source: 'default' });
    expect(planned(model)).toEqual([20, 256]);
  });
});

describe('a default the layers accept', () => {
  it('feeds a ResidualBlock(in_features) the width its convs are built with, and says why', async () => {
    const model = await modelOf(RESIDUAL_BLOCK, 'ResidualBlock');
    expect(model.inputGuess).toMatchObject({ shape: [128, 32, 32], layout: 'channels_first', source: 'default', evidence: expect.stringMatching(/128 channels, side 32, the smallest input every layer accepts \(\+ at line 15 refuses 3x32x32\)/) });
    expect(planned(model)).toEqual([32, 32, 128]);
  });

  it('keeps the default image for a residual block of constant width 3 (clean twin)', async () => {
    const model = await modelOf(RESIDUAL_BLOCK.replaceAll('in_features,', '3,').replaceAll('(in_features)', '(3)'), 'ResidualBlock');
    expect(model.inputGuess).toMatchObject({ shape: [3, 32, 32], evidence: expect.not.stringMatching(/accepts/) });
  });

  it('skips data of the file that the block refuses (CIFAR next to a ResidualBlock of other widths)', async () => {
    const model = await modelOf(`${RESIDUAL_BLOCK}\nimport torchvision\ntrain = torchvision.datasets.CIFAR10('.', download=True)\n`, 'ResidualBlock');
    expect(model.inputGuess).toMatchObject({ shape: [128, 32, 32], source: 'default' });
  });

  it('takes the smallest image side a discriminator accepts (64), and the default 32 when three strided convs fit', async () => {
    const model = await modelOf(DISCRIMINATOR, 'Discriminator');
    expect(model.inputGuess).toMatchObject({ shape: [3, 64, 64], evidence: expect.stringMatching(/side 64, the smallest input every layer accepts/) });
    expect(planned(model)).toEqual([64, 64, 3]);
    const shallow = await modelOf(DISCRIMINATOR.replace('nn.Conv2d(256, 512, 4, 2, 1), nn.LeakyReLU(0.2),', '').replace('nn.Conv2d(512, 1, 4, 1, 0)', 'nn.Conv2d(256, 1, 4, 1, 0)'), 'Discriminator');
    expect(shallow.inputGuess).toMatchObject({ shape: [3, 32, 32], evidence: expect.not.stringMatching(/accepts/) });
    expect(planned(shallow)).toEqual([32, 32, 3]);
  });

  it('takes the ImageNet side (224) for an AlexNet-era classifier whose fixed 7x7 pool and Linear need it', async () => {
    // As torchvision wrote ResNet before adaptive pooling: AvgPool2d(7) on the 1/32 map, then Linear(512).
    const resnetLike = `import torch.nn as nn

class Net(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(128, 256, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(256, 512, 3, stride=2, padding=1), nn.ReLU())
        self.avgpool = nn.AvgPool2d(7, stride=1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.fc(x.view(x.size(0), -1))
`;
    const model = await modelOf(resnetLike, 'Net');
    expect(model.inputGuess).toMatchObject({ shape: [3, 224, 224], evidence: expect.stringMatching(/side 224, the smallest input every layer accepts \(nn\.AvgPool2d at line 11 refuses 3x32x32\)/) });
    expect(planned(model)).toEqual([224, 224, 3]);
  });

  it('feeds a DCGAN generator its latent (100 channels, 1x1)', async () => {
    const model = await modelOf(DCGAN_GENERATOR, 'Generator');
    expect(model.inputGuess).toMatchObject({ shape: [100, 1, 1], layout: 'channels_first' });
    expect(planned(model)).toEqual([1, 1, 100]);
  });
});

describe('what comes before the first conv, and how the conv net is laid out', () => {
  it('reads an image through a leading ReflectionPad2d (CycleGAN residual block)', async () => {
    const model = await modelOf(CYCLEGAN_BLOCK, 'ResidualBlock');
    expect(model.inputGuess).toMatchObject({ shape: [128, 32, 32], layout: 'channels_first' });
    expect(planned(model)).toEqual([32, 32, 128]);
  });

  it('reads a Keras 1 Convolution2D net on (3, 100, 100) channels first (Theano dim ordering)', async () => {
    const model = await modelOf(KERAS1_THEANO, 'model');
    expect(model.inputGuess).toMatchObject({ shape: [3, 100, 100], layout: 'channels_first', source: 'model' });
    expect(model.layers.find((l) => l.kind === 'conv2d')?.dataFormat).toBe('channels_first');
    expect(planned(model)).toEqual([100, 100, 3]);
  });

  it('keeps a Keras 1 net on (100, 100, 3) channels last, and a dim_ordering the code writes (clean twins)', async () => {
    const last = await modelOf(KERAS1_THEANO.replace('(3, 100, 100)', '(100, 100, 3)'), 'model');
    expect(last.inputGuess).toMatchObject({ shape: [100, 100, 3], layout: 'channels_last' });
    expect(last.layers.find((l) => l.kind === 'conv2d')?.dataFormat).toBeNull();
    const tf = await modelOf(KERAS1_THEANO.replace("border_mode='valid',", "border_mode='valid', dim_ordering='tf',"), 'model');
    expect(tf.layers.find((l) => l.kind === 'conv2d')?.dataFormat).toBe('channels_last');
    expect(planned(tf)).toMatch(/too small/);
  });
});

const KERAS_COMPUTED_POOL = `from keras.layers import Input, Conv2D, AveragePooling2D, Flatten, Dense
from keras.models import Model
from keras import backend as K
inp = Input(shape=(32, 32, 3))
x = Conv2D(16, 3, strides=2)(inp)
block_shape = K.int_shape(x)
x = AveragePooling2D(pool_size=(block_shape[1], block_shape[2]), strides=(1, 1))(x)
x = Flatten()(x)
out = Dense(10)(x)
model = Model(inp, out)
`;

const TORCH_KERNEL_ARGUMENT = `import torch.nn as nn

class Block(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=kernel_size, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x)).flatten(1))
`;

describe('sizes the code computes or leaves to an argument', () => {
  const noticesOf = (model: ModelIR) => planModel(model, probeOptions({ backend: 'wasm' })).notices.map((n) => n.message);

  it('reads a window computed with K.int_shape from the shapes the model declares', async () => {
    const model = await modelOf(KERAS_COMPUTED_POOL, 'model');
    expect(model.layers.find((l) => l.kind === 'avgpool')?.kernelSize).toEqual([15, 15]);
    const plan = planModel(model, probeOptions({ backend: 'wasm' }));
    expect(plan.layers.find((l) => l.ir.kind === 'avgpool')?.outShape).toEqual([1, 1, 16]);
    expect(noticesOf(model).join('\n')).not.toMatch(/global pool/);
    const constant = await modelOf(KERAS_COMPUTED_POOL.replace('pool_size=(block_shape[1], block_shape[2])', 'pool_size=(3, 3)'), 'model');
    expect(planModel(constant, probeOptions({ backend: 'wasm' })).layers.find((l) => l.ir.kind === 'avgpool')?.outShape).toEqual([13, 13, 16]);
    expect(noticesOf(constant).join('\n')).not.toMatch(/global pool/);
  });

  it('builds a conv whose kernel size is a constructor argument with a representative 3, named in a note', async () => {
    const model = await modelOf(TORCH_KERNEL_ARGUMENT, 'Block');
    expect(noticesOf(model)).toContainEqual(expect.stringMatching(/nn\.Conv2d .*kernel size 3 \(a representative value\)/));
    const constant = await modelOf(TORCH_KERNEL_ARGUMENT.replace('kernel_size=kernel_size', 'kernel_size=5'), 'Block');
    expect(noticesOf(constant).join('\n')).not.toMatch(/kernel size/);
  });
});

describe('a normalization first', () => {
  it('reads a Keras image model that normalizes and activates its input first (a pre-activation block) as an image: its BatchNormalization says no size, by design', async () => {
    const model = await modelOf(`from keras.layers import Input, BatchNormalization, Activation, Conv2D, GlobalAveragePooling2D, Dense
from keras.models import Model


def build(input_shape):
    inputs = Input(input_shape)
    x = BatchNormalization()(inputs)
    x = Activation("relu")(x)
    x = Conv2D(16, 3, padding="same", activation="relu")(x)
    return Model(inputs, Dense(1, activation="sigmoid")(GlobalAveragePooling2D()(x)))
`, 'build');
    expect(planned(model)).toHaveLength(3);
  });
});
