/**
 * The training pass on realistic code: which optimizer reaches compile, which loop trains which
 * model, what is clipped, and which facts go to imported models. Models are described by their
 * source lines (the training pass only needs a model's name, exports and range).
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { extractTraining } from '../../../src/analysis/extract/training';
import { lineOf, modelAt, parsePython } from './training-helpers';
import { defined } from '../../defined';

async function run(src: string, models: (src: string) => ModelIR[]) {
  const file = await parsePython('train.py', src);
  const ms = models(src);
  const external = extractTraining(file, ms);
  return { models: ms, external };
}

const kerasModel = (src: string, name = 'model', exportsList = [name], start = 'Sequential(', end = '])') => {
  const first = lineOf(src, start);
  return modelAt('train.py', name, exportsList, first, lineOf(src, end, first), 'keras', ['lstm', 'dense']);
};

const torchClass = (src: string, cls: string) => {
  const first = lineOf(src, `class ${cls}(`);
  return modelAt('train.py', cls, [cls], first, lineOf(src, 'return', first), 'torch', ['lstm', 'dense']);
};

const KERAS_HEAD = `import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
`;

describe('Keras optimizers reaching compile', () => {
  it('takes the optimizer passed to compile, not another one created nearby', async () => {
    const src = `${KERAS_HEAD}
model = keras.Sequential([
    layers.LSTM(64, input_shape=(100, 8)),
    layers.Dense(1),
])
clipped = keras.optimizers.SGD(learning_rate=0.01, clipnorm=1.0)
opt = keras.optimizers.Adam(learning_rate=3e-4)
model.compile(optimizer=opt, loss="mse")
model.fit(x, y, epochs=3)
`;
    const { models } = await run(src, (s) => [kerasModel(s)]);
    const t = models[0]!.training;
    expect(t.optimizer?.name).toBe('adam');
    expect(t.optimizer?.learningRate).toBeCloseTo(3e-4);
    expect(t.optimizer?.clipnorm).toBeNull();
    expect(t.optimizer?.range.start.line).toBe(lineOf(src, 'opt = keras'));
    expect(t.compile?.range.start.line).toBe(lineOf(src, 'model.compile'));
    expect(t.fit?.range.start.line).toBe(lineOf(src, 'model.fit'));
    expect(t.losses.map((l) => l.name)).toEqual(['mse']);
  });

  it('reads legacy lr=, clipvalue, global_clipnorm and module constants', async () => {
    const src = `${KERAS_HEAD}from tensorflow.keras.optimizers import RMSprop
LEARNING_RATE = 2e-3
model = keras.Sequential([
    layers.GRU(32),
    layers.Dense(1),
])
model.compile(optimizer=RMSprop(lr=LEARNING_RATE, clipvalue=0.5, global_clipnorm=5), loss=keras.losses.MeanSquaredError())
`;
    const { models } = await run(src, (s) => [kerasModel(s)]);
    const o = defined(models[0]!.training.optimizer);
    expect(o).toMatchObject({ name: 'rmsprop', learningRate: 0.002, clipvalue: 0.5, globalClipnorm: 5, clipnorm: null });
    expect(models[0]!.training.losses.map((l) => l.name)).toEqual(['mse']);
  });

  it('records strings as the framework default and a missing optimizer as RMSprop', async () => {
    const src = `${KERAS_HEAD}
model = keras.Sequential([
    layers.LSTM(64),
    layers.Dense(1),
])
model.compile(optimizer="adam", loss="categorical_crossentropy")
other = keras.Sequential([
    layers.SimpleRNN(8),
])
other.compile(loss="mse")
`;
    const { models } = await run(src, (s) => [kerasModel(s), kerasModel(s, 'other', ['other'], 'other = keras.Sequential(', '])')]);
    expect(models[0]!.training.optimizer).toMatchObject({ name: 'adam', learningRate: null, spelling: '"adam"' });
    expect(models[0]!.training.losses.map((l) => l.name)).toEqual(['categorical_crossentropy']);
    expect(models[1]!.training.optimizer).toMatchObject({ name: 'rmsprop', spelling: '(default)' });
  });

  it('leaves values it cannot know unresolved and conditional optimizers unknown', async () => {
    const src = `${KERAS_HEAD}import argparse
args = argparse.ArgumentParser().parse_args()
model = keras.Sequential([
    layers.LSTM(64),
])
if args.fast:
    opt = keras.optimizers.Adam(1e-2)
else:
    opt = keras.optimizers.SGD(1e-2)
model.compile(optimizer=opt, loss="mse")
second = keras.Sequential([
    layers.LSTM(64),
])
second.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr, clipnorm=args.clip), loss="mse")
`;
    const { models } = await run(src, (s) => [kerasModel(s), kerasModel(s, 'second', ['second'], 'second = keras', '])')]);
    expect(models[0]!.training.compile).not.toBeNull();
    expect(models[0]!.training.optimizer).toBeNull();
    const o = defined(models[1]!.training.optimizer);
    expect(o.learningRate).toBeNull();
    expect(o.learningRateRange).not.toBeNull();
    expect(o.unresolved).toEqual(['learning_rate', 'clipnorm']);
  });

  it('treats clipping set on the optimizer after construction as unknown clipping', async () => {
    const src = `${KERAS_HEAD}
model = keras.Sequential([
    layers.LSTM(64),
])
opt = keras.optimizers.Adam(1e-3)
opt.clipnorm = 1.0
model.compile(optimizer=opt, loss="mse")
`;
    const { models } = await run(src, (s) => [kerasModel(s)]);
    expect(models[0]!.training.optimizer?.unresolved).toContain('clipnorm');
  });

  it('reads optimizers reached through a star import', async () => {
    const src = `from keras.models import Sequential
from keras.layers import LSTM, Dense
from keras.optimizers import *

model = Sequential()
model.add(LSTM(32, input_shape=(10, 4)))
model.add(Dense(1))
model.compile(loss="mse", optimizer=Adam(lr=0.002))
`;
    const { models } = await run(src, (s) => [kerasModel(s, 'model', ['model'], 'model = Sequential()', 'model.add(Dense')]);
    expect(models[0]!.training.optimizer).toMatchObject({ name: 'adam', learningRate: 0.002 });
  });

  it('uses the initial rate of a learning-rate schedule', async () => {
    const src = `${KERAS_HEAD}
schedule = keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=0.05, decay_steps=1000, decay_rate=0.9)
model = keras.Sequential([
    layers.Dense(10),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
`;
    const { models } = await run(src, (s) => [kerasModel(s)]);
    expect(models[0]!.training.optimizer?.learningRate).toBe(0.05);
  });

  it('follows a factory function and sends facts about imported models to the linker', async () => {
    const src = `${KERAS_HEAD}from model import build_model
import models.net as net
from . import rnn as r

def build_local():
    m = keras.Sequential([
        layers.LSTM(4),
    ])
    return m

local = build_local()
local.compile(optimizer=keras.optimizers.Adam(clipnorm=1.0), loss="mse")
imported = build_model(vocab=100)
imported.compile(optimizer=keras.optimizers.Nadam(learning_rate=0.002), loss="sparse_categorical_crossentropy")
imported.fit(x, y)
other = net.Net()
other.compile(optimizer="sgd")
third = r.make()
third.compile(optimizer="adam")
pretrained = keras.applications.ResNet50()
pretrained.compile(optimizer="adam")
`;
    const { models, external } = await run(src, (s) => [kerasModel(s, 'm', ['build_local'], 'm = keras.Sequential(', '])')]);
    expect(models[0]!.training.optimizer?.clipnorm).toBe(1);
    expect(external.map((e) => [e.module, e.symbol])).toEqual([
      ['model', 'build_model'],
      ['models.net', 'Net'],
      ['.rnn', 'make'],
    ]);
    const first = external[0]!.training;
    expect(first.optimizer).toMatchObject({ name: 'nadam', learningRate: 0.002, file: 'train.py' });
    expect(first.fit?.range.start.line).toBe(lineOf(src, 'imported.fit'));
    expect(first.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy']);
  });
});

const TORCH_HEAD = `import torch
import torch.nn as nn
import torch.optim as optim
`;

const NET = `
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 32, batch_first=True)
        self.fc = nn.Linear(32, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])
`;

describe('PyTorch optimizers and loops', () => {
  it('pairs backward and step, sees a clip between them, and finds the loss', async () => {
    const src = `${TORCH_HEAD}${NET}
model = Net().to("cuda")
optimizer = optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10)
for epoch in range(10):
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    scheduler.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.optimizer).toMatchObject({ name: 'adam', learningRate: 1e-3 });
    expect(t.loops).toHaveLength(1);
    const loop = t.loops[0]!;
    expect(loop.backward.start.line).toBe(lineOf(src, 'loss.backward()'));
    expect(loop.step.start.line).toBe(lineOf(src, 'optimizer.step()'));
    expect(loop.clip).toMatchObject({ kind: 'norm' });
    expect(defined(loop.clip).range.start.line).toBe(lineOf(src, 'clip_grad_norm_'));
    expect(t.losses.map((l) => l.name)).toEqual(['mse']);
  });

  it('finds the loss a function of the file computes and returns, summed over outputs, through the criterion passed down', async () => {
    const src = `${TORCH_HEAD}${NET}
def predict_and_loss(images, labels, model, loss_fn):
    predictions = model(images)
    loss = 0
    for i in range(4):
        loss += loss_fn(predictions[i], labels[:, i])
    loss = loss / 4
    return loss, predictions

def train(model, loader, loss_fn, optimizer):
    for images, labels in loader:
        loss, _ = predict_and_loss(images, labels, model, loss_fn)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model = Net()
train(model, loader, nn.CrossEntropyLoss(), optim.AdamW(model.parameters(), lr=1e-3))
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.optimizer).toMatchObject({ name: 'adamw' });
    // torch's CrossEntropyLoss takes class indices.
    expect(t.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy']);
  });

  it('knows no loss when the function returns something else at that place (clean twin)', async () => {
    const src = `${TORCH_HEAD}${NET}
def predict_and_loss(images, labels, model, loss_fn):
    predictions = model(images)
    return predictions.sum(), loss_fn(predictions, labels)

def train(model, loader, loss_fn, optimizer):
    for images, labels in loader:
        loss, _ = predict_and_loss(images, labels, model, loss_fn)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model = Net()
train(model, loader, nn.CrossEntropyLoss(), optim.AdamW(model.parameters(), lr=1e-3))
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    expect(models[0]!.training.losses).toEqual([]);
  });

  it("reads a LightningModule's loss from what training_step returns, and a Trainer without gradient_clip_val as its unclipped loop", async () => {
    const src = `${TORCH_HEAD}import pytorch_lightning as pl

class Lit(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 32, batch_first=True)
        self.fc = nn.Linear(32, 1)
        self.criterion = nn.BCEWithLogitsLoss()

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train_loss", loss)
        return {"loss": loss}

model = Lit()
trainer = pl.Trainer(max_epochs=5)
trainer.fit(model, loader)
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Lit')]);
    const t = models[0]!.training;
    expect(t.losses.map((l) => l.name)).toEqual(['binary_crossentropy']);
    expect(t.loops).toHaveLength(1);
    expect(t.loops[0]).toMatchObject({ trainer: true, clip: null });
    expect(t.loops[0]!.step.start.line).toBe(lineOf(src, 'pl.Trainer('));
    // The clean twin: the Trainer clips by value at 0.5.
    const clipped = await run(src.replace('max_epochs=5', 'max_epochs=5, gradient_clip_val=0.5, gradient_clip_algorithm="value"'), (s) => [torchClass(s, 'Lit')]);
    expect(clipped.models[0]!.training.loops[0]!.clip).toMatchObject({ kind: 'value', threshold: 0.5 });
  });

  it('does not count clipping after step()', async () => {
    const src = `${TORCH_HEAD}from torch.nn.utils import clip_grad_norm_
${NET}
model = Net()
optimizer = optim.SGD(model.parameters(), 0.1, momentum=0.9)
for x, y in loader:
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    clip_grad_norm_(model.parameters(), 1.0)
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.optimizer).toMatchObject({ name: 'sgd', learningRate: 0.1, momentum: 0.9 });
    expect(t.loops).toHaveLength(1);
    expect(t.loops[0]!.clip).toBeNull();
    expect(t.losses.map((l) => l.name)).toEqual(['mse']);
  });

  it('traces a loop inside a function to the optimizer passed at its call site', async () => {
    const src = `${TORCH_HEAD}${NET}
def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 0.5)
        optimizer.step()

def main():
    net = Net()
    opt = optim.AdamW([{"params": net.lstm.parameters(), "lr": 3e-4}, {"params": net.fc.parameters(), "lr": 1e-3}], weight_decay=0.01)
    for epoch in range(5):
        train_epoch(net, loader, opt, nn.CrossEntropyLoss())
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.loops).toHaveLength(1);
    expect(t.loops[0]!.clip?.kind).toBe('value');
    expect(t.loops[0]!.optimizer).toMatchObject({ name: 'adamw', learningRate: 1e-3 });
    expect(t.loops[0]!.optimizer?.learningRateRange?.start.line).toBe(lineOf(src, 'opt = optim.AdamW'));
  });

  it('handles AMP: scaler.scale(loss).backward(), unscale_, clip, scaler.step(optimizer)', async () => {
    const src = `${TORCH_HEAD}${NET}
model = Net()
optimizer = torch.optim.Adam(model.parameters())
scaler = torch.cuda.amp.GradScaler()
for x, y in loader:
    with torch.autocast("cuda"):
        loss = nn.functional.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.loops).toHaveLength(1);
    expect(t.loops[0]!.step.start.line).toBe(lineOf(src, 'scaler.step(optimizer)'));
    expect(t.loops[0]!.clip?.kind).toBe('norm');
    expect(t.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy']);
  });

  it('attributes each GAN loop to the model whose parameters its optimizer updates', async () => {
    const src = `${TORCH_HEAD}
class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(16, 64)
        return None

class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 1)
        return None

G, D = Generator(), Discriminator()
opt_g = optim.Adam(G.parameters(), lr=2e-4)
opt_d = optim.Adam(D.parameters(), lr=2e-4)
for real in loader:
    d_loss = bce(D(real), ones) + bce(D(G(z).detach()), zeros)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = bce(D(G(z)), ones)
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Generator'), torchClass(s, 'Discriminator')]);
    const [g, d] = models;
    expect(defined(g).training.loops.map((l) => l.step.start.line)).toEqual([lineOf(src, 'opt_g.step()')]);
    expect(defined(d).training.loops.map((l) => l.step.start.line)).toEqual([lineOf(src, 'opt_d.step()')]);
  });

  it('falls back to the only model when the only loop cannot be traced, and not with two models', async () => {
    const loop = `
def fit(net, optimizer, loader):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
`;
    const one = await run(`${TORCH_HEAD}${NET}${loop}\nfit(Net(), make_optimizer(), loader)\n`, (s) => [torchClass(s, 'Net')]);
    expect(one.models[0]!.training.loops).toHaveLength(1);
    expect(one.models[0]!.training.loops[0]!.optimizer).toBeNull();
    const two = await run(`${TORCH_HEAD}${NET}${NET.replace('class Net', 'class Other')}${loop}`, (s) => [torchClass(s, 'Net'), torchClass(s, 'Other')]);
    expect(two.models.flatMap((m) => m.training.loops)).toHaveLength(0);
    // A helper module that the file never instantiates is not what the loop trains.
    const unused = await run(`${TORCH_HEAD}${NET.replace('class Net', 'class Helper')}${loop}`, (s) => [torchClass(s, 'Helper')]);
    expect(unused.models[0]!.training.loops).toHaveLength(0);
  });

  it('follows self.optimizer in a trainer class and hand-written clamp_ clipping', async () => {
    const src = `${TORCH_HEAD}${NET}
class Trainer:
    def __init__(self, model, lr=0.01):
        self.model = model
        self.optimizer = optim.RMSprop(self.model.parameters(), lr=lr)

    def step(self, x, y):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        for p in self.model.parameters():
            p.grad.data.clamp_(-1, 1)
        self.optimizer.step()

trainer = Trainer(Net())
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.optimizer).toMatchObject({ name: 'rmsprop', learningRate: 0.01 });
    expect(t.loops).toHaveLength(1);
    expect(t.loops[0]!.clip?.kind).toBe('value');
  });

  it('sends a loop over an imported model to the linker', async () => {
    const src = `${TORCH_HEAD}from .model import Net

model = Net(vocab_size=5000)
optimizer = optim.SGD(model.parameters(), lr=5.0)
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
`;
    const { external } = await run(src, () => []);
    expect(external).toHaveLength(1);
    expect(external[0]).toMatchObject({ module: '.model', symbol: 'Net' });
    expect(external[0]!.training.optimizer).toMatchObject({ name: 'sgd', learningRate: 5 });
    expect(external[0]!.training.loops).toHaveLength(1);
    expect(external[0]!.training.loops[0]!.file).toBe('train.py');
  });

  it('reads a TensorFlow GradientTape loop and its clipping', async () => {
    const src = `${KERAS_HEAD}
model = keras.Sequential([
    layers.LSTM(32),
    layers.Dense(1),
])
optimizer = keras.optimizers.Adam(1e-3)

@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    grads, _ = tf.clip_by_global_norm(grads, 5.0)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
`;
    const { models } = await run(src, (s) => [kerasModel(s)]);
    const t = models[0]!.training;
    expect(t.loops).toHaveLength(1);
    expect(t.loops[0]!.clip).toMatchObject({ kind: 'norm', threshold: 5 });
    expect(t.loops[0]!.optimizer?.name).toBe('adam');
  });

  it('reads each clipping threshold the code writes as a number, and only those', async () => {
    const loopWith = (clipLine: string, head = '') => `${TORCH_HEAD}import argparse
${head}${NET}
parser = argparse.ArgumentParser()
parser.add_argument("--clip", type=float)
args = parser.parse_args()
model = Net()
optimizer = optim.Adam(model.parameters())
for x, y in loader:
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    ${clipLine}
    optimizer.step()
`;
    const thresholdOf = async (clipLine: string, head = '') => {
      const src = loopWith(clipLine, head);
      const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
      const clip = defined(models[0]!.training.loops[0]!.clip);
      return [clip.kind, clip.threshold];
    };
    expect(await thresholdOf('nn.utils.clip_grad_norm_(model.parameters(), 0.25)')).toEqual(['norm', 0.25]);
    expect(await thresholdOf('torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=CLIP)', 'CLIP = 5\n')).toEqual(['norm', 5]);
    expect(await thresholdOf('nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)')).toEqual(['value', 0.1]);
    expect(await thresholdOf('for p in model.parameters(): p.grad.data.clamp_(-2, 2)')).toEqual(['value', 2]);
    // Written but unknown (a command-line flag with no default), or a helper of the project's: no number.
    expect(await thresholdOf('nn.utils.clip_grad_norm_(model.parameters(), args.clip)')).toEqual(['norm', null]);
    expect(await thresholdOf('clip_gradient(model, 0.5)')).toEqual(['norm', null]);
  });

  it('counts a project helper that clips (by name or by body) between backward and step', async () => {
    const src = `${TORCH_HEAD}${NET}
def clip_gradient(model, clip_value):
    for p in model.parameters():
        p.grad.data.clamp_(-clip_value, clip_value)

def stabilize(m):
    torch.nn.utils.clip_grad_norm_(m.parameters(), 5.0)

model = Net()
optimizer = optim.Adam(model.parameters())
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    clip_gradient(model, 1e-1)
    optimizer.step()
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    stabilize(model)
    optimizer.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    expect(models[0]!.training.loops.map((l) => l.clip !== null)).toEqual([true, true]);
  });

  it('attaches a loop whose optimizer spans several models to each of them', async () => {
    const src = `${TORCH_HEAD}
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(16, 64)
        return None

class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(64, 64)
        return None

encoder, decoder = Encoder(), Decoder()
optimizer = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
for src_batch, tgt_batch in loader:
    optimizer.zero_grad()
    loss = criterion(decoder(encoder(src_batch)), tgt_batch)
    loss.backward()
    optimizer.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Encoder'), torchClass(s, 'Decoder')]);
    expect(models.map((m) => m.training.loops.length)).toEqual([1, 1]);
    // The shared optimizer is recorded on the first model only, so GL402 reports it once.
    expect(models.map((m) => m.training.optimizer?.name ?? null)).toEqual(['adam', null]);
  });

  it('sees through accelerator.prepare and ignores torch-style model.compile()', async () => {
    const src = `${TORCH_HEAD}from accelerate import Accelerator
${NET}
accelerator = Accelerator()
model = Net()
model.compile()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
for batch in loader:
    loss = nn.functional.mse_loss(model(batch["x"]), batch["y"])
    accelerator.backward(loss)
    accelerator.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const t = models[0]!.training;
    expect(t.compile).toBeNull();
    expect(t.optimizer?.name).toBe('adamw');
    expect(t.loops.map((l) => l.clip?.kind)).toEqual(['norm']);
  });

  it('follows a closure returned by a step factory to the optimizer passed to the factory', async () => {
    const src = `${TORCH_HEAD}${NET}
def make_train_step(model, loss_fn, optimizer):
    def train_step(x, y):
        model.train()
        loss = loss_fn(y, model(x))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return train_step

net = Net()
opt = optim.SGD(net.parameters(), lr=0.05)
train_step = make_train_step(net, nn.MSELoss(), opt)
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    expect(models[0]!.training.loops).toHaveLength(1);
    expect(models[0]!.training.loops[0]!.optimizer).toMatchObject({ name: 'sgd', learningRate: 0.05 });
  });

  it('sends facts about a model reached through a star import of a project module', async () => {
    const src = `${TORCH_HEAD}from utils import *
from model import *

net = Net()
opt = optim.Adam(net.parameters(), lr=1e-3)
for x, y in loader:
    opt.zero_grad()
    criterion(net(x), y).backward()
    opt.step()
`;
    const { external } = await run(src, () => []);
    expect(external.map((e) => [e.module, e.symbol, e.training.loops.length])).toEqual([['model', 'Net', 1]]);
  });
});

describe('the losses a training computes', () => {
  const names = (m: ModelIR) => m.training.losses.map((l) => `${l.name}${l.fromLogits === null ? '' : l.fromLogits ? ' (logits)' : ' (probabilities)'}`);

  it("reads every criterion a GAN discriminator's loss adds up, and what each reads", async () => {
    const src = `${TORCH_HEAD}${NET}
adversarial_loss = torch.nn.BCELoss()
auxiliary_loss = torch.nn.CrossEntropyLoss()
net = Net()
optimizer_D = optim.Adam(net.parameters(), lr=2e-4)
for imgs, labels in loader:
    optimizer_D.zero_grad()
    real_pred, real_aux = net(imgs)
    d_real_loss = (adversarial_loss(real_pred, valid) + auxiliary_loss(real_aux, labels)) / 2
    fake_pred, fake_aux = net(fakes)
    d_fake_loss = (adversarial_loss(fake_pred, fake) + auxiliary_loss(fake_aux, gen_labels)) / 2
    d_loss = 0.5 * (d_real_loss + d_fake_loss)
    d_loss.backward()
    optimizer_D.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    expect(names(models[0]!)).toEqual(['binary_crossentropy (probabilities)', 'sparse_categorical_crossentropy (logits)']);
    // Each where the code makes the criterion it calls (the rules point there).
    const lineOf = (text: string) => src.split('\n').findIndex((line) => line.includes(text));
    expect(models[0]!.training.losses.map((l) => l.at?.range.start.line)).toEqual([lineOf('adversarial_loss = '), lineOf('auxiliary_loss = ')]);
  });

  it("says whether a loss reads the model's own output: a generator's reads its discriminator's", async () => {
    const gan = `${TORCH_HEAD}
class Generator(nn.Module):
    def forward(self, z):
        return z

class Discriminator(nn.Module):
    def forward(self, x):
        return x

generator = Generator()
discriminator = Discriminator()
criterion = nn.BCEWithLogitsLoss()
opt_g = optim.Adam(generator.parameters(), lr=2e-4)
opt_d = optim.Adam(discriminator.parameters(), lr=2e-4)
for real in loader:
    fake = generator(torch.randn(64, 100))
    opt_d.zero_grad()
    real_out, _ = discriminator(real)
    d_loss = criterion(real_out.view(-1), ones) + criterion(discriminator(fake.detach())[0], zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = criterion(discriminator(fake)[0], ones)
    g_loss.backward()
    opt_g.step()
`;
    const { models } = await run(gan, (s) => [torchClass(s, 'Generator'), torchClass(s, 'Discriminator')]);
    expect(models.map((m) => m.training.losses.map((l) => [l.name, l.onOutput]))).toEqual([[['binary_crossentropy', false]], [['binary_crossentropy', true]]]);
  });

  it('reads NLLLoss given F.log_softmax of the output as reading the output through log_softmax, and F.softmax / .sigmoid() the same way', async () => {
    const src = `${TORCH_HEAD}import torch.nn.functional as F
${NET}
net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.01)
criterion = nn.NLLLoss()
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(F.log_softmax(net(x), dim=1), y)
    loss.backward()
    optimizer.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    const read = (m: ModelIR) => m.training.losses.map((l) => [l.name, l.onOutput, l.appliedFirst?.name ?? null, l.appliedFirst?.at.range.start.character ?? null]);
    expect(read(defined(models[0]))).toEqual([['nll', true, 'log_softmax', 'loss = criterion('.length + 4]]);
    const direct = src.replace('criterion(F.log_softmax(net(x), dim=1), y)', 'criterion(net(x), y)');
    const { models: plain } = await run(direct, (s) => [torchClass(s, 'Net')]);
    expect(read(defined(plain[0]))).toEqual([['nll', true, null, null]]);
    const method = src.replace('nn.NLLLoss()', 'nn.BCEWithLogitsLoss()').replace('criterion(F.log_softmax(net(x), dim=1), y)', 'criterion(net(x).view(-1).sigmoid(), y)');
    const { models: sigmoid } = await run(method, (s) => [torchClass(s, 'Net')]);
    expect(read(defined(sigmoid[0])).map((r) => r.slice(0, 3))).toEqual([['binary_crossentropy', true, 'sigmoid']]);
    // Another function of the output (tanh) is another value: not the output.
    const tanh = src.replace('F.log_softmax(net(x), dim=1)', 'torch.tanh(net(x))');
    const { models: other } = await run(tanh, (s) => [torchClass(s, 'Net')]);
    expect(read(defined(other[0])).map((r) => r.slice(0, 3))).toEqual([['nll', false, null]]);
  });

  it('reads the loss a name held before `loss += term`, and BCEWithLogitsLoss as reading logits', async () => {
    const src = `${TORCH_HEAD}${NET}
net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.01)
flag_loss = nn.BCEWithLogitsLoss()
for x, flags, values in loader:
    optimizer.zero_grad()
    flag, value = net(x)
    loss = flag_loss(flag, flags)
    loss += nn.functional.mse_loss(value, values)
    loss.backward()
    optimizer.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    expect(names(models[0]!)).toEqual(['binary_crossentropy (logits)', 'mse']);
  });

  it('adds the losses of every loop that steps the model (InfoGAN: adversarial, then information)', async () => {
    const src = `${TORCH_HEAD}import itertools
${NET}
adversarial_loss = torch.nn.MSELoss()
categorical_loss = torch.nn.CrossEntropyLoss()
net = Net()
generator = Net()
optimizer_D = optim.Adam(net.parameters(), lr=2e-4)
optimizer_info = optim.Adam(itertools.chain(generator.parameters(), net.parameters()), lr=2e-4)
for imgs, labels in loader:
    optimizer_D.zero_grad()
    real_pred, _, _ = net(imgs)
    d_loss = adversarial_loss(real_pred, valid)
    d_loss.backward()
    optimizer_D.step()
    optimizer_info.zero_grad()
    _, pred_label, pred_code = net(generator(z))
    info_loss = categorical_loss(pred_label, gt_labels) + 0.1 * adversarial_loss(pred_code, code_input)
    info_loss.backward()
    optimizer_info.step()
`;
    const { models } = await run(src, (s) => [torchClass(s, 'Net')]);
    expect(names(models[0]!)).toEqual(['mse', 'sparse_categorical_crossentropy (logits)']);
  });

  it("reads compile's losses per output: a list in order, a dict by output name", async () => {
    const listed = `${KERAS_HEAD}
model = keras.Sequential([
    layers.LSTM(64, input_shape=(100, 8)),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss=["mean_absolute_error", keras.losses.BinaryCrossentropy(from_logits=True)])
`;
    const [fromList] = (await run(listed, (s) => [kerasModel(s)])).models;
    expect(defined(fromList).training.losses.map((l) => [l.name, l.fromLogits, l.output])).toEqual([['mae', null, null], ['binary_crossentropy', true, null]]);
    const keyed = listed.replace('["mean_absolute_error", keras.losses.BinaryCrossentropy(from_logits=True)]', '{"score": "mae", "won": "binary_crossentropy", "embedding": SupConLoss()}');
    const [fromDict] = (await run(keyed, (s) => [kerasModel(s)])).models;
    expect(defined(fromDict).training.losses.map((l) => [l.name, l.output])).toEqual([['mae', 'score'], ['binary_crossentropy', 'won']]);
  });

  it("reads Keras' from_logits=, and a loss string as reading probabilities", async () => {
    const logits = `${KERAS_HEAD}
model = keras.Sequential([
    layers.LSTM(64, input_shape=(100, 8)),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
`;
    const [withFlag] = (await run(logits, (s) => [kerasModel(s)])).models;
    expect(names(defined(withFlag))).toEqual(['sparse_categorical_crossentropy (logits)']);
    // Where compile's loss is written (the rules point there).
    const compileLine = logits.split('\n').findIndex((l) => l.startsWith('model.compile'));
    expect(defined(withFlag).training.losses[0]!.at?.range.start).toEqual({ line: compileLine, character: defined(logits.split('\n')[compileLine]).indexOf('keras.losses') });
    const plain = logits.replace('keras.losses.SparseCategoricalCrossentropy(from_logits=True)', '"sparse_categorical_crossentropy"');
    const [withString] = (await run(plain, (s) => [kerasModel(s)])).models;
    expect(names(defined(withString))).toEqual(['sparse_categorical_crossentropy (probabilities)']);
  });
});
