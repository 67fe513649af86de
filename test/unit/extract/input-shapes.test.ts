/** The analyzer's input-shape guess: model code, data code, example tensors, layer constraints, defaults. */
import { describe, expect, it } from 'vitest';
import { extractedModels as models } from './extract-helper';
import { defined } from '../../defined';

async function guessOf(text: string, name?: string) {
  const all = await models(text);
  const model = name ? all.find((m) => m.name === name) : all[0];
  expect(model, `model ${name ?? '(first)'} extracted`).toBeDefined();
  return defined(model).inputGuess;
}

const TORCH_CNN = `import torch
from torch import nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)
`;

const TORCH_RESNETISH = `import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = self.pool(x).flatten(1)
        return self.fc(x)
`;

describe('input shape guess', () => {
  it('takes a shape the model declares, as the model source', async () => {
    const guess = await guessOf('from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])\n');
    expect(guess).toMatchObject({ shape: [28, 28, 1], source: 'model', layout: 'channels_last' });
  });

  it('reads torchvision CIFAR10 for a conv net, and its transforms override the size', async () => {
    const data = `\nimport torchvision\nimport torchvision.transforms as T\ntrain = torchvision.datasets.CIFAR10('.', download=True, transform=T.ToTensor())\nnet = Net()\n`;
    expect(await guessOf(TORCH_RESNETISH + data)).toMatchObject({ shape: [3, 32, 32], source: 'data', layout: 'channels_first', evidence: expect.stringMatching(/CIFAR10 \(line \d+\)/) });
    const resized = data.replace('T.ToTensor()', 'T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()])');
    expect(await guessOf(TORCH_RESNETISH + resized)).toMatchObject({ shape: [3, 224, 224], source: 'data' });
  });

  it('ignores data that does not fit the first layer (MNIST for a 3-channel conv) and falls back to the Flatten constraint', async () => {
    const text = TORCH_CNN + '\nfrom torchvision import datasets\nds = datasets.MNIST(".", download=True)\n';
    expect(await guessOf(text)).toMatchObject({ shape: [3, 32, 32], source: 'constraint', evidence: expect.stringMatching(/Flatten.*32/) });
  });

  it('solves H x W from the Linear after the Flatten (LeNet on 32x32)', async () => {
    expect(await guessOf(TORCH_CNN)).toMatchObject({ shape: [3, 32, 32], source: 'constraint' });
  });

  it('reads an example tensor and a torchsummary call', async () => {
    expect(await guessOf(TORCH_RESNETISH + '\nnet = Net()\nout = net(torch.randn(1, 3, 64, 64))\n')).toMatchObject({ shape: [3, 64, 64], source: 'example', evidence: expect.stringMatching(/torch\.randn\(1, 3, 64, 64\)/) });
    expect(await guessOf(TORCH_RESNETISH + '\nfrom torchsummary import summary\nsummary(Net(), (3, 96, 96))\n')).toMatchObject({ shape: [3, 96, 96], source: 'example' });
  });

  it('reads keras.datasets and a reshape for a Keras conv net without input_shape', async () => {
    const text = `from tensorflow import keras
from tensorflow.keras import layers
(x_train, y_train), _ = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 28, 28, 1) / 255.0
model = keras.Sequential([layers.Conv2D(8, 3, activation='relu'), layers.Flatten(), layers.Dense(10)])
model.compile('adam', 'sparse_categorical_crossentropy')
model.fit(x_train, y_train)
`;
    expect(await guessOf(text)).toMatchObject({ shape: [28, 28, 1], source: 'data' });
  });

  it('reads image_dataset_from_directory(image_size=) into a partly declared Keras shape', async () => {
    const text = `import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
train = keras.utils.image_dataset_from_directory('flowers', image_size=(180, 180), batch_size=32)
model = keras.Sequential([layers.Rescaling(1./255, input_shape=(None, None, 3)), layers.Conv2D(16, 3), layers.GlobalAveragePooling2D(), layers.Dense(5)])
`;
    expect(await guessOf(text)).toMatchObject({ shape: [180, 180, 3], source: 'data', evidence: expect.stringMatching(/image_dataset_from_directory/) });
  });

  it('reads MNIST row by row for a recurrent first layer', async () => {
    const text = `import torch
from torch import nn
from torchvision import datasets
class RNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)
    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])
ds = datasets.MNIST('.', train=True)
`;
    expect(await guessOf(text)).toMatchObject({ shape: [28, 28], source: 'data', layout: 'channels_last' });
  });

  it('gives token models a sequence length from the code, else the documented default', async () => {
    const base = `from tensorflow import keras
from tensorflow.keras import layers
model = keras.Sequential([layers.Embedding(1000, 32), layers.LSTM(32), layers.Dense(1)])
`;
    expect(await guessOf(base + 'x = keras.preprocessing.sequence.pad_sequences(seqs, maxlen=80)\n')).toMatchObject({ shape: [80], tokens: true });
    expect(await guessOf(base)).toMatchObject({ shape: [20], tokens: true, source: 'constraint' });
  });

  it('falls back to a documented default with the first layer named', async () => {
    const guess = await guessOf('from torch import nn\nnet = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))\n');
    expect(guess).toMatchObject({ shape: [1, 32, 32], source: 'default', evidence: expect.stringMatching(/32.*Conv2d/) });
  });

  it('does not take a weight tensor inside a model class for an example input', async () => {
    const text = TORCH_RESNETISH.replace('self.fc = nn.Linear(16, 10)', 'self.fc = nn.Linear(16, 10)\n        self.w = nn.Parameter(torch.randn(1, 3, 99, 99))');
    expect((await guessOf(text))?.source).not.toBe('example');
  });
});

describe('which model the file builds', () => {
  it('marks the trained model, not its building block', async () => {
    const text = `import torch
from torch import nn
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
    def forward(self, x):
        return torch.relu(self.fc(x))
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Block()
        self.out = nn.Linear(8, 2)
    def forward(self, x):
        return self.out(self.b(x))
net = Net()
`;
    const all = await models(text);
    expect(all.find((m) => m.name === 'Block')?.instantiated).toBe(false);
    expect(all.find((m) => m.name === 'Net')?.instantiated).toBe(true);
  });
});
