/**
 * The evaluation core's policies, on realistic PyTorch code: unknown conditions explore both branches,
 * optional forward parameters are unknown, skip connections from the model input keep both edges,
 * modules without forward read in registration order, and limits end in a note, never a hang.
 */
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import { extractTorchFrom, kinds, model } from '../extract/torch-fixture';
import { extractFrom, layerSummary, modelNamed } from '../extract/extract-helper';
import { defined } from '../../defined';
import { modelPrediction } from '../../../src/shared/knowledge/propagation';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';

async function noticesOf(text: string): Promise<string[]> {
  const project = await Project.create();
  try {
    project.setFile('/ws/model.py', text);
    return project.analyzeFile('/ws/model.py').notices.map((n) => n.message);
  } finally {
    project.dispose();
  }
}

describe('residual connections from the model input (issue 11)', () => {
  const residual = (update: string) => `
import torch
from torch import nn

class ResMLP(nn.Module):
    def __init__(self, width=64, depth=10):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        for block in self.blocks:
            ${update}
        return self.head(x)
`;

  for (const update of ['x = x + torch.tanh(block(x))', 'x = torch.tanh(block(x)) + x', 'x += torch.tanh(block(x))', 'x = torch.add(x, torch.tanh(block(x)))']) {
    it(`keeps the first skip connection: ${update}`, async () => {
      const m = model(await extractTorchFrom(residual(update)), 'ResMLP');
      const adds = m.layers.filter((l) => l.kind === 'add');
      expect(adds).toHaveLength(10);
      expect(m.layers[0]!.kind).toBe('input');
      // Every Add has two inputs: the running sum (the model input for the first) and its branch.
      for (const add of adds) expect(add.inputs).toHaveLength(2);
      expect(adds[0]!.inputs).toContain('L0');
      expect(m.isGraph).toBe(true);
    });
  }

  it('a plain chain gets no input layer', async () => {
    const m = model(await extractTorchFrom(residual('x = torch.tanh(block(x))')), 'ResMLP');
    expect(m.layers[0]!.kind).toBe('dense');
    expect(m.layers.some((l) => l.kind === 'input')).toBe(false);
  });
});

describe('unknown conditions and optional forward parameters', () => {
  const scorer = (signature: string, test: string) => `
import torch
from torch import nn

class Scorer(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.enc = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 128), nn.ReLU(), nn.BatchNorm1d(128), nn.Linear(128, 1))

    def forward(${signature}):
        h = self.enc(z)
        if ${test}:
            return self.mlp(h)
        return h
`;

  for (const [signature, test] of [
    ['self, z, score=None', 'score is not None'],
    ['self, z, score=False', 'score'],
    ['self, z, *, mask=None', 'mask is not None'],
    ['self, z, return_score: bool = False', 'return_score'],
  ] as const) {
    it(`explores the branch guarded by an optional parameter (${signature})`, async () => {
      const m = model(await extractTorchFrom(scorer(signature, test)), 'Scorer');
      expect(kinds(m)).toEqual(['dense', 'dense', 'activation:relu', 'batchnorm', 'dense']);
      expect(m.layers[0]!.conditional).toBe(false);
      expect(m.layers.slice(1).every((l) => l.conditional)).toBe(true);
    });
  }

  it('a call that passes the argument inside the model uses its value (call-site arguments, not unknown)', async () => {
    const text = scorer('self, z, score=None', 'score is not None').replace('class Scorer', 'class Inner').replace(/Scorer/g, 'Inner') + `

class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()

    def forward(self, x):
        return self.inner(x)
`;
    const outer = model(await extractTorchFrom(text), 'Outer');
    // Inner is called with one argument: score is None, the mlp branch never runs.
    expect(kinds(outer)).toEqual(['dense']);
  });

  it('merges the names both branches assign, and a loss computed on one branch is not a layer', async () => {
    const m = model(
      await extractTorchFrom(`
import torch
import torch.nn.functional as F
from torch import nn

class Clf(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.out = nn.Linear(10, 2)

    def forward(self, x, targets=None):
        x = self.fc(x)
        if x.sum() > 0:
            x = torch.relu(x)
        else:
            x = torch.tanh(x)
        logits = self.out(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, 2), targets.view(-1))
        return logits, loss
`),
      'Clf',
    );
    expect(kinds(m)).toEqual(['dense', 'activation:relu', 'activation:tanh', 'dense']);
    const [, relu, tanh, out] = m.layers;
    expect(defined(out).inputs.sort()).toEqual([defined(relu).id, defined(tanh).id].sort());
  });

  it('in __init__, a layer made on one branch only is conditional; attributes both branches set keep the first module', async () => {
    const m = model(
      await extractTorchFrom(`
from torch import nn

class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        if cfg.norm:
            self.norm = nn.BatchNorm1d(8)
        else:
            self.norm = nn.Identity()
        if cfg.dropout:
            self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = self.norm(self.fc(x))
        if hasattr(self, 'drop'):
            x = self.drop(x)
        return x
`),
      'Net',
    );
    expect(kinds(m).slice(0, 2)).toEqual(['dense', 'batchnorm']);
    expect(m.layers[0]!.conditional).toBe(false);
    expect(m.layers[1]!.conditional).toBe(true);
  });
});

describe('Keras: the same policy for an unknown condition', () => {
  const functional = (branches: string) => `
import keras
from keras import layers

def make_model(inputs_shape, use_norm, wide):
    inputs = keras.Input(shape=inputs_shape)
    x = layers.Dense(32, activation='relu')(inputs)
${branches}
    outputs = layers.Dense(1)(x)
    return keras.Model(inputs, outputs)
`;

  it('each branch reads the state before the if: no edge between the branches, the next layer reads both', async () => {
    const m = modelNamed(await extractFrom(functional(`    if wide:
        x = layers.Dense(64, activation='relu')(x)
    else:
        x = layers.Dropout(0.5)(x)`)), 'make_model');
    expect(layerSummary(m)).toEqual(['input', 'dense:relu', 'dense:relu', 'dropout', 'dense']);
    const [, first, wide, dropout, out] = m.layers;
    // The Dropout of the else branch reads the first Dense, not the if branch's Dense.
    expect(defined(dropout).inputs).toEqual([defined(first).id]);
    expect(defined(wide).inputs).toEqual([defined(first).id]);
    expect(defined(out).inputs.sort()).toEqual([defined(wide).id, defined(dropout).id].sort());
    expect([wide, dropout].every((l) => defined(l).conditional)).toBe(true);
    expect(defined(out).conditional).toBe(false);
  });

  it('a layer on one branch only is conditional, and the path around it stays (the empty else)', async () => {
    const m = modelNamed(await extractFrom(functional(`    if use_norm:
        x = layers.BatchNormalization()(x)`)), 'make_model');
    const [, first, norm, out] = m.layers;
    expect(defined(norm).conditional).toBe(true);
    expect(defined(out).inputs.sort()).toEqual([defined(first).id, defined(norm).id].sort());
  });

  it('a known condition picks its branch: nothing conditional, one path', async () => {
    const m = modelNamed(await extractFrom(functional(`    wide = True
    if wide:
        x = layers.Dense(64, activation='relu')(x)
    else:
        x = layers.Dropout(0.5)(x)`)), 'make_model');
    expect(layerSummary(m)).toEqual(['input', 'dense:relu', 'dense:relu', 'dense']);
    expect(m.layers.some((l) => l.conditional)).toBe(false);
  });
});

describe('a module without forward', () => {
  const coder = `
from torch import nn

class Coder(nn.Module):
    def __init__(self, d_in=784, d_code=32):
        super().__init__()
        self.down = nn.Sequential(nn.Linear(d_in, 256), nn.ReLU(), nn.BatchNorm1d(256), nn.Linear(256, d_code))
`;

  it('reads its layers in registration order, with a note', async () => {
    const m = model(await extractTorchFrom(coder), 'Coder');
    expect(kinds(m)).toEqual(['dense', 'activation:relu', 'batchnorm', 'dense']);
    expect((await noticesOf(coder)).some((n) => /Coder has no forward\(\): its layers are read in the order __init__ registers them/.test(n))).toBe(true);
  });

  it('a base class that another class completes with forward is not a model of its own', async () => {
    const models = await extractTorchFrom(`${coder}

class Full(Coder):
    def forward(self, x):
        return self.down(x)
`);
    expect(models.map((m) => m.name)).toEqual(['Full']);
  });
});

describe('limits end in a note naming the construct and its line', () => {
  it('recursion', async () => {
    const text = `
from torch import nn

def block(n):
    return nn.Sequential(nn.Linear(8, 8), block(n + 1))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = block(0)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.body(x))
`;
    const notices = await noticesOf(text);
    expect(notices.some((n) => /^Line 4: block\(\): calls nested deeper than 10 \(recursion or self-reference\)/.test(n))).toBe(true);
  });

  it('a huge constant loop is read once, not unrolled', async () => {
    const text = `
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(64):
            for j in range(128):
                self.layers.append(nn.Linear(8, 8))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
`;
    const notices = await noticesOf(text);
    expect(notices.some((n) => /^Line 9: for j in range\(128\): a loop longer than/.test(n))).toBe(true);
  });

  it("a training loop over its epochs runs its step once: a script's 200 x 50 steps neither hit the loop limit nor lose the raw-tensor model the step trains", async () => {
    const text = `
import torch

n_epochs = 200
batches = 50
w1 = torch.randn(784, 128, requires_grad=True)
w2 = torch.randn(128, 10, requires_grad=True)
losses = []
for epoch in range(n_epochs):
    for i in range(batches):
        x = torch.randn(64, 784)
        loss = torch.sigmoid(x @ w1).matmul(w2).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            for w in (w1, w2):
                w -= 0.01 * w.grad
                w.grad.zero_()
        losses.append(loss.item())
`;
    const project = await Project.create();
    try {
      project.setFile('/ws/train.py', text);
      const result = project.analyzeFile('/ws/train.py');
      expect(result.notices.map((n) => n.message).filter((m) => /a loop longer than/.test(m))).toEqual([]);
      expect(result.models.map((m) => m.layers.filter((l) => l.kind !== 'activation').length)).toEqual([2]);
    } finally {
      project.dispose();
    }
  });

  it('a branch of an unknown condition that rebinds a name, in any spelling the readers follow, leaves it unknown after the if; one that binds nothing leaves it as it was', async () => {
    const widthAfter = async (branch: string) => {
      const models = await extractTorchFrom(`
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, flag):
        super().__init__()
        width = 64
        if flag:
${branch
  .split('\n')
  .map((line) => `            ${line}`)
  .join('\n')}
        self.fc = nn.Linear(10, width)

    def forward(self, x):
        return self.fc(x)
`);
      return model(models, 'Net').layers[0]?.units ?? null;
    };
    const rebinding = [
      'width = 128',
      'width += 64',
      'width, depth = 128, 2',
      'width: int = 128',
      '[width] = [128]',
      'for width in (32, 128):\n    pass',
      'while flag:\n    width = 128',
      'def width():\n    pass',
      'if flag > 1:\n    width = 128',
      'if flag > 1:\n    pass\nelse:\n    width = 128',
    ];
    for (const branch of rebinding) expect(await widthAfter(branch), branch).toBeNull();
    for (const branch of ['print(width)', 'pass', 'raise ValueError(width)', 'assert width > 0', 'if flag > 1:\n    print(width)']) expect(await widthAfter(branch), branch).toBe(64);
  });

  it('a constant loop that only builds (no training step in it) is still unrolled, each iteration with its own value', async () => {
    const models = await extractTorchFrom(`
from torch import nn

class Pyramid(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [256, 128, 64, 32]
        self.blocks = nn.ModuleList()
        for i in range(3):
            self.blocks.append(nn.Linear(widths[i], widths[i + 1]))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x
`);
    expect(model(models, 'Pyramid').layers.map((l) => l.units)).toEqual([128, 64, 32]);
  });

  it('a model of more layer applications than the trace records is read part-way: one notice, and no flow judged on the part', async () => {
    const text = `
from torch import nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(8, 8), nn.Tanh())])

    def forward(self, x):
        return self.body(x)

class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(200)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x
`;
    const project = await Project.create();
    try {
      project.setFile('/ws/deep.py', text);
      const result = project.analyzeFile('/ws/deep.py');
      const deep = defined(result.models.find((m) => m.name === 'Deep'), 'Deep');
      expect(deep.truncated).toMatch(/^more than 4000 layer applications/);
      const cut = result.notices.filter((n) => n.message.includes('layer applications'));
      expect(cut.map((n) => n.message)).toEqual([expect.stringMatching(/^Line 7: model 'Deep' has more than 4000 layer applications; the rest of the model is left out; no gradient flow is predicted or probed/)]);
      // A saturating stack in the part read is still a finding; no prediction grades the part.
      expect(modelPrediction(deep)).toMatchObject({ ok: false, reason: expect.stringMatching(/only a part of model Deep/) });
      expect(() => planModel(deep, probeOptions({ backend: 'cpu' }))).toThrow(/only a part of model Deep/);
      // The block, read whole, is judged.
      expect(modelPrediction(defined(result.models.find((m) => m.name === 'Block'), 'Block')).ok).toBe(true);
    } finally {
      project.dispose();
    }
  });

  it('Keras: nested constant loops past the unrolling cap are read once, with a note', async () => {
    const text = `
import numpy as np
from keras.models import Sequential
from keras.layers import Dense, LSTM

model = Sequential()
model.add(LSTM(64, input_shape=(7, 12)))
model.add(Dense(12, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer='adam')

for iteration in range(1, 200):
    seed = model.predict(np.zeros((8, 7, 12)))
    for i in range(30):
        row = np.random.randint(0, 8)
        guess = model.predict_classes(np.zeros((1, 7, 12)), verbose=0)
`;
    const notices = await noticesOf(text);
    expect(notices.some((n) => /^Line 13: for i in range\(30\): a loop longer than 256 iterations \(or 4096 when nested\) is read once/.test(n))).toBe(true);
  });

  it('Keras: the statement budget of the file ends the reading with one note where it ran out', async () => {
    const body = Array.from({ length: 400 }, (_, i) => `    value_${i} = step * ${i}`).join('\n');
    const text = `from keras.models import Sequential
from keras.layers import Dense

model = Sequential([Dense(4, input_shape=(3,))])
for step in range(250):
${body}
`;
    const notices = await noticesOf(text);
    expect(notices.filter((n) => /the evaluation budget of 100000 statements was used up/.test(n))).toHaveLength(1);
  });

  it('self-referencing names do not hang', async () => {
    const m = await extractTorchFrom(`
from torch import nn
a = b
b = a
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(a, b)
        self.fc.child = self.fc
    def forward(self, x):
        return self.fc(x)
`);
    expect(kinds(model(m, 'Net'))).toEqual(['dense']);
  });
});

describe('rest parameters take what no named parameter took (one core for both frameworks)', () => {
  it('PyTorch: `*sizes` of a builder holds the positions passed, so its layers have their sizes', async () => {
    const text = `
import torch.nn as nn

def mlp(*sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)

model = mlp(784, 256, 10)
`;
    const dense = model(await extractTorchFrom(text), 'mlp').layers.filter((l) => l.kind === 'dense');
    expect(dense.map((l) => [l.inFeatures, l.units])).toEqual([
      [784, 256],
      [256, 10],
    ]);
  });

  it('PyTorch: `*sizes` holds only what was passed: one size makes no Linear', async () => {
    const text = `
import torch.nn as nn

def mlp(*sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)

model = mlp(784)
`;
    const layers = (await extractTorchFrom(text)).flatMap((m) => m.layers);
    expect(layers.filter((l) => l.kind === 'dense')).toEqual([]);
  });

  it('PyTorch: `**kw` forwarded to a layer constructor gives it the keywords the caller wrote', async () => {
    const text = `
import torch.nn as nn

def conv(**kw):
    return nn.Conv2d(**kw)

net = nn.Sequential(conv(in_channels=3, out_channels=16, kernel_size=3), nn.ReLU())
`;
    const first = defined(model(await extractTorchFrom(text), 'net').layers[0]);
    expect([first.kind, first.inFeatures, first.units, first.kernelSize]).toEqual(['conv2d', 3, 16, [3, 3]]);
  });

  it('PyTorch: `**kw` with nothing passed leaves the layer sizes unknown, not invented', async () => {
    const text = `
import torch.nn as nn

def conv(**kw):
    return nn.Conv2d(**kw)

net = nn.Sequential(conv(), nn.ReLU())
`;
    const first = defined(model(await extractTorchFrom(text), 'net').layers[0]);
    expect([first.kind, first.units]).toEqual(['conv2d', null]);
  });

  it('Keras: `*units` and `**dense_kw` of a helper applied to a tensor', async () => {
    const text = `
from tensorflow import keras
from tensorflow.keras import layers

def stack(x, *units, **dense_kw):
    for u in units:
        x = layers.Dense(u, **dense_kw)(x)
    return x

inputs = keras.Input(shape=(32,))
outputs = layers.Dense(1)(stack(inputs, 64, 16, activation="relu"))
model = keras.Model(inputs, outputs)
`;
    const dense = modelNamed(await extractFrom(text), 'model').layers.filter((l) => l.kind === 'dense');
    expect(dense.map((l) => l.units)).toEqual([64, 16, 1]);
  });
});
