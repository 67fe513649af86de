/** Data sources for GL501: image loaders traced to fit / training loops, scaled or not. */
import { describe, expect, it } from 'vitest';
import type { DataSourceIR } from '../../../src/shared/ir';
import { extractTraining } from '../../../src/analysis/extract/training';
import { lineOf, modelAt, parsePython } from './training-helpers';

const HEAD = `import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
`;

async function dataOf(body: string, head = HEAD): Promise<{ data: DataSourceIR[]; src: string }> {
  const src = head + body;
  const file = await parsePython('train.py', src);
  const model = modelAt('train.py', 'model', ['model'], lineOf(src, 'model = keras.Sequential('), lineOf(src, '])'), 'keras', ['flatten', 'dense']);
  extractTraining(file, [model]);
  return { data: model.training.data, src };
}

describe('Keras data reaching fit', () => {
  it('finds raw MNIST pixels passed to fit through reshape/astype', async () => {
    const { data, src } = await dataOf(`
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 28, 28).astype("float32")
model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test))
`);
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ loader: 'keras.datasets.mnist.load_data', kind: 'image', scaled: false });
    expect(data[0]!.range.start.line).toBe(lineOf(src, 'load_data()'));
    expect(data[0]!.reachesTraining?.start.line).toBe(lineOf(src, 'model.fit'));
  });

  it.each([
    ['division', 'x_train = x_train.astype("float32") / 255.0'],
    ['in-place division', 'x_train /= 255'],
    ['tuple assignment', 'x_train, x_test = x_train / 255.0, x_test / 255.0'],
    ['standardization', 'x_train = (x_train - x_train.mean()) / x_train.std()'],
  ])('sees scaling by %s', async (_what, line) => {
    const { data } = await dataOf(`
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
${line}
model.fit(x_train, y_train, epochs=5)
`);
    expect(data.map((d) => d.scaled)).toEqual([true]);
  });

  it('is unknown when scaling happens only on one branch or in a helper', async () => {
    const branch = await dataOf(`
(x_train, y_train), _ = keras.datasets.cifar10.load_data()
if NORMALIZE:
    x_train = x_train / 255.0
model.fit(x_train, y_train)
`);
    expect(branch.data).toEqual([]);
    const helper = await dataOf(`
(x_train, y_train), _ = keras.datasets.cifar10.load_data()
x_train = preprocess(x_train)
model.fit(x_train, y_train)
`);
    expect(helper.data).toEqual([]);
  });

  it('reads tf.data pipelines from image_dataset_from_directory', async () => {
    const raw = await dataOf(`
train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(28, 28))
train_ds = train_ds.cache().shuffle(1000).prefetch(tf.data.AUTOTUNE)
model.fit(train_ds, epochs=10)
`);
    expect(raw.data.map((d) => [d.loader, d.scaled])).toEqual([['keras.utils.image_dataset_from_directory', false]]);
    const scaled = await dataOf(`
normalization_layer = layers.Rescaling(1.0 / 255)
train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(28, 28))
train_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
model.fit(train_ds, epochs=10)
`);
    expect(scaled.data.map((d) => d.scaled)).toEqual([true]);
  });

  it('reads ImageDataGenerator options', async () => {
    const raw = await dataOf(`
datagen = keras.preprocessing.image.ImageDataGenerator(rotation_range=15, horizontal_flip=True)
train_gen = datagen.flow_from_directory("data/train", target_size=(28, 28))
model.fit(train_gen, epochs=10)
`);
    expect(raw.data.map((d) => d.scaled)).toEqual([false]);
    const scaled = await dataOf(`
datagen = keras.preprocessing.image.ImageDataGenerator(rescale=1.0 / 255)
model.fit(datagen.flow_from_directory("data/train"), epochs=10)
`);
    expect(scaled.data.map((d) => d.scaled)).toEqual([true]);
  });

  it('follows a dataset module bound to a name (the TensorFlow tutorials spelling)', async () => {
    const { data } = await dataOf(`
fashion_mnist = tf.keras.datasets.fashion_mnist
(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()
model.fit(train_images, train_labels, epochs=10)
`);
    expect(data.map((d) => [d.loader, d.scaled])).toEqual([['keras.datasets.fashion_mnist.load_data', false]]);
  });

  it('looks into tf.data.Dataset.from_tensor_slices and scaling map functions', async () => {
    const raw = await dataOf(`
(x_train, y_train), _ = keras.datasets.mnist.load_data()
train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(32)
model.fit(train_ds, epochs=5)
`);
    expect(raw.data.map((d) => d.scaled)).toEqual([false]);
    const scaled = await dataOf(`
def to_float(image, label):
    return tf.cast(image, tf.float32) / 255.0, label

(x_train, y_train), _ = keras.datasets.mnist.load_data()
train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).map(to_float).batch(32)
model.fit(train_ds, epochs=5)
`);
    expect(scaled.data.map((d) => d.scaled)).toEqual([true]);
  });

  it('follows images appended to a list from cv2.imread', async () => {
    const body = (conversion: string) => `
import cv2
images = []
for path in paths:
    img = cv2.imread(path)
    img = cv2.resize(img, (28, 28))
    images.append(img)
X = ${conversion}
model.fit(X, labels, epochs=3)
`;
    const split = await dataOf(body('np.array(images)').replace('model.fit(X, labels, epochs=3)', 'from sklearn.model_selection import train_test_split\nX_train, X_val, y_train, y_val = train_test_split(X, labels, test_size=0.2)\nmodel.fit(X_train, y_train, epochs=3)'));
    expect(split.data.map((d) => [d.loader, d.scaled])).toEqual([['cv2.imread', false]]);
    const raw = await dataOf(body('np.array(images)'));
    expect(raw.data.map((d) => [d.loader, d.scaled])).toEqual([['cv2.imread', false]]);
    const scaled = await dataOf(body('np.array(images, dtype="float32") / 255.0'));
    expect(scaled.data.map((d) => d.scaled)).toEqual([true]);
  });
});

const TORCH = `import torch
import torch.nn as nn
import torchvision
from torchvision import transforms

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)
        return None

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
`;

async function torchDataOf(body: string): Promise<DataSourceIR[]> {
  const src = TORCH + body;
  const file = await parsePython('train.py', src);
  const model = modelAt('train.py', 'Net', ['Net'], lineOf(src, 'class Net'), lineOf(src, 'return None'), 'torch', ['dense']);
  extractTraining(file, [model]);
  return model.training.data;
}

const LOOP = `
loader = torch.utils.data.DataLoader(train_set, batch_size=64)
for x, y in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x.float().flatten(1)), y)
    loss.backward()
    optimizer.step()
`;

describe('torchvision datasets', () => {
  it('ToTensor scales; PILToTensor alone does not', async () => {
    const scaled = await torchDataOf(`train_set = torchvision.datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())${LOOP}`);
    expect(scaled.map((d) => d.scaled)).toEqual([true]);
    const raw = await torchDataOf(`tf_raw = transforms.Compose([transforms.RandomRotation(10), transforms.PILToTensor()])
train_set = torchvision.datasets.MNIST("data", train=True, download=True, transform=tf_raw)${LOOP}`);
    expect(raw.map((d) => [d.loader, d.scaled])).toEqual([['torchvision.datasets.MNIST', false]]);
  });

  it('is unknown when the file divides pixels somewhere (e.g. in the loop)', async () => {
    const data = await torchDataOf(`train_set = torchvision.datasets.MNIST("data", transform=transforms.PILToTensor())${LOOP.replace('x.float()', '(x.float() / 255)')}`);
    expect(data.map((d) => d.scaled)).toEqual([null]);
  });
});
