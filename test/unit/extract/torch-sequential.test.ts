/** nn.Sequential models: literal, OrderedDict, *comprehension, *list built by loops, factory functions. */
import { describe, expect, it } from 'vitest';
import { extractFixture, extractTorchFrom, fixture, kinds, line, lineOf, model } from './torch-fixture';
import { defined } from '../../defined';

describe('torch nn.Sequential built by helper functions (PPO-style MLPs)', async () => {
  const text = fixture('mlp_builders.py');
  const models = await extractFixture('mlp_builders.py');

  it('finds each top-level Sequential once, named by its variable or factory', () => {
    expect(models.map((m) => [m.name, m.exports])).toEqual([
      ['mlp', ['mlp']],
      ['build_critic', ['build_critic']],
      ['classifier', ['classifier']],
    ]);
    expect(models.every((m) => m.style === 'torch-sequential' && !m.isGraph)).toBe(true);
  });

  it('unrolls `layers += [...]` in a loop with the call-site sizes and activation class', () => {
    const mlp = model(models, 'mlp');
    expect(kinds(mlp)).toEqual(['dense', 'activation:tanh', 'dense', 'activation:tanh', 'dense', 'activation:linear']);
    expect(mlp.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units])).toEqual([[8, 64], [64, 64], [64, 4]]);
    expect(mlp.layers.map((l) => l.unrolled?.index)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(mlp.layers.every((l) => l.unrolled?.count === 3)).toBe(true);
    // Every copy points back at the one line that made it.
    expect(new Set(mlp.layers.map(line))).toEqual(new Set([lineOf(text, 'layers += [nn.Linear(sizes[j]')]));
    expect(mlp.layers.map((l) => l.name)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(mlp.inputShape).toEqual([8]);
  });

  it('follows zip/enumerate loops and init helpers that return the layer', () => {
    const critic = model(models, 'build_critic');
    expect(kinds(critic)).toEqual(['dense', 'activation:relu', 'dense', 'activation:relu', 'dense']);
    expect(critic.layers[0]!.kernelInit).toMatchObject({ name: 'orthogonal', params: { gain: Math.SQRT2 }, explicit: true });
    expect(defined(critic.layers[4]!.kernelInit).params.gain).toBe(1);
    expect(critic.layers[4]!.biasInit).toMatchObject({ name: 'constant', params: { value: 0 }, explicit: true });
    expect(critic.layers[4]).toMatchObject({ inFeatures: 64, units: 1 });
  });

  it('names layers by their OrderedDict keys', () => {
    const clf = model(models, 'classifier');
    expect(clf.layers.map((l) => l.name)).toEqual(['fc1', 'relu1', 'drop', 'fc2', 'softmax']);
    expect(clf.layers[2]).toMatchObject({ kind: 'dropout', rate: 0.25 });
    expect(clf.layers[4]!.activation).toMatchObject({ name: 'log_softmax', params: { dim: 1 }, source: 'layer', spelling: 'nn.LogSoftmax(dim=1)' });
    expect(clf.nameRange.start.line + 1).toBe(lineOf(text, 'classifier = nn.Sequential'));
  });
});

describe('torch nn.Sequential: inline forms', () => {
  it('expands *[comprehension] and keeps each copy apart', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
n = 4
net = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), *[nn.Sequential(nn.Linear(64, 64), nn.Tanh()) for _ in range(n)], nn.Linear(64, 1))
`);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:tanh', ...Array<string[]>(4).fill(['dense', 'activation:tanh']).flat(), 'dense']);
    expect(defined(m).layers[2]).toMatchObject({ name: '2.0', unrolled: { index: 0, count: 4 } });
    expect(defined(m).layers[9]!.unrolled).toEqual({ index: 3, count: 4 });
    expect(defined(m).exports).toEqual(['net']);
  });

  it('does not report a Sequential nested in another one as a model of its own', async () => {
    const models = await extractTorchFrom(`
import torch.nn as nn
blocks = [nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU()) for _ in range(2)]
encoder = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), *blocks, nn.Flatten())
`);
    expect(models.map((m) => m.name)).toEqual(['encoder']);
    expect(kinds(models[0]!)).toEqual(['conv2d', 'activation:relu', 'conv2d', 'activation:relu', 'conv2d', 'activation:relu', 'flatten']);
  });

  it('keeps [layer] * n apart as n layers', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
model = nn.Sequential(*([nn.Linear(10, 10), nn.Sigmoid()] * 3))
`);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:sigmoid', 'dense', 'activation:sigmoid', 'dense', 'activation:sigmoid']);
    expect(defined(m).layers[4]!.unrolled).toEqual({ index: 2, count: 3 });
  });

  it('reads add_module and .append on a module-level Sequential', async () => {
    const [m] = await extractTorchFrom(`
from torch import nn
model = nn.Sequential()
model.add_module('fc1', nn.Linear(20, 10))
model.add_module('act', nn.SELU())
model.append(nn.Linear(10, 1))
`);
    expect(defined(m).layers.map((l) => l.name)).toEqual(['fc1', 'act', '2']);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:selu', 'dense']);
  });

  it('makes unknown items of a Sequential unknown layers', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
from mylib import make_block
model = nn.Sequential(nn.Linear(8, 8), make_block(8), nn.Linear(8, 8))
`);
    expect(kinds(defined(m))).toEqual(['dense', 'unknown', 'dense']);
    expect(defined(m).unsupported).toHaveLength(1);
    expect(defined(m).unsupported[0]!.what).toContain('make_block');
  });

  it('finds a Sequential written inside a method of a plain class', async () => {
    const models = await extractTorchFrom(`
import torch.nn as nn
class Agent:
    def __init__(self):
        self.q = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))
`);
    expect(models.map((m) => m.name)).toEqual(['q']);
    expect(models[0]!.exports).toEqual([]);
  });
});

describe('torch nn.Sequential attributes inside modules (DCGAN)', async () => {
  const text = fixture('dcgan.py');
  const models = await extractFixture('dcgan.py');

  it('inlines self.main and reads module-level constants', () => {
    const g = model(models, 'Generator');
    expect(kinds(g)).toEqual(['conv-transpose', 'batchnorm', 'activation:relu', 'conv-transpose', 'batchnorm', 'activation:relu', 'conv-transpose', 'activation:tanh']);
    expect(g.layers[0]).toMatchObject({ name: 'main.0', inFeatures: 100, units: 512, kernelSize: [4, 4], useBias: false, biasInit: null, conv: { strides: [1], padding: [0] } });
    // ConvTranspose weights are (in, out, k, k): torch's fan_in is out*k*k.
    expect(g.layers[0]).toMatchObject({ fanIn: 8192, fanOut: 1600 });
    const d = model(models, 'Discriminator');
    expect(d.layers[1]!.activation).toMatchObject({ name: 'leaky_relu', params: { negative_slope: 0.2 } });
    // `.view(-1, 1).squeeze(1)`: a flatten, then the squeeze of its one feature.
    expect(kinds(d).slice(-3)).toEqual(['activation:sigmoid', 'flatten', 'tensor-op']);
  });

  it('applies weights_init through netG.apply with the class-name filter', () => {
    const g = model(models, 'Generator');
    const conv = g.layers[0]!;
    expect(conv.kernelInit).toMatchObject({ name: 'random_normal', params: { mean: 0, std: 0.02 }, explicit: true });
    expect(defined(defined(conv.kernelInit).range).start.line + 1).toBe(lineOf(text, "nn.init.normal_(m.weight.data, 0.0, 0.02)"));
    const bn = g.layers[1]!;
    expect(bn.kernelInit).toMatchObject({ name: 'random_normal', params: { mean: 1, std: 0.02 } });
    expect(bn.biasInit).toMatchObject({ name: 'constant', params: { value: 0 }, explicit: true });
    // Activations have no weights: nothing was written on them.
    expect(g.layers[2]!.kernelInit).toBeNull();
  });
});
