/** nn.Module subclasses: layers from __init__, execution order and functional activations from forward. */
import { describe, expect, it } from 'vitest';
import { extractFixture, extractTorchFrom, fixture, kinds, line, lineOf, model } from './torch-fixture';
import { defined } from '../../defined';
import { EvalNotes } from '../../../src/analysis/python/limits';

describe('torch nn.Module: the CIFAR-10 tutorial CNN', async () => {
  const text = fixture('cifar_tutorial.py');
  const models = await extractFixture('cifar_tutorial.py');
  const net = model(models, 'Net');

  it('is one torch-module model named and exported by its class', () => {
    expect(models.map((m) => m.name)).toEqual(['Net']);
    expect(net.framework).toBe('torch');
    expect(net.style).toBe('torch-module');
    expect(net.exports).toEqual(['Net']);
    expect(net.nameRange.start.line + 1).toBe(lineOf(text, 'class Net('));
    expect(net.isGraph).toBe(false);
  });

  it('orders layers as forward calls them, with the shared pool called twice', () => {
    expect(kinds(net)).toEqual([
      'conv2d', 'activation:relu', 'maxpool',
      'conv2d', 'activation:relu', 'maxpool',
      'flatten', 'dense', 'activation:relu', 'dense', 'activation:relu', 'dense',
    ]);
    expect(net.layers.map((l) => l.name).filter((n) => !n.startsWith('activation'))).toEqual(['conv1', 'pool', 'conv2', 'pool', 'flatten', 'fc1', 'fc2', 'fc3']);
    expect(net.layers.map((l) => l.id)).toEqual(net.layers.map((_, i) => `L${i}`));
  });

  it('computes sizes and fans, receptive field included for convolutions', () => {
    const [conv1, , , conv2] = net.layers;
    expect(conv1).toMatchObject({ inFeatures: 3, units: 6, kernelSize: [5, 5], fanIn: 75, fanOut: 150, useBias: true });
    expect(conv2).toMatchObject({ inFeatures: 6, units: 16, fanIn: 150, fanOut: 400 });
    const fc1 = defined(net.layers.find((l) => l.name === 'fc1'));
    expect(fc1).toMatchObject({ kind: 'dense', className: 'nn.Linear', inFeatures: 400, units: 120, fanIn: 400, fanOut: 120 });
    expect(line(fc1)).toBe(lineOf(text, 'self.fc1 = nn.Linear'));
    expect(net.inputShape).toEqual([3, null, null]);
  });

  it('records functional activations with their call range and spelling', () => {
    const relu = net.layers[1]!;
    expect(relu.activation).toMatchObject({ name: 'relu', spelling: 'F.relu', source: 'functional' });
    expect(line(relu)).toBe(lineOf(text, 'x = self.pool(F.relu(self.conv1(x)))'));
    expect(defined(relu.activation).range).toEqual(relu.range);
  });

  it('carries the PyTorch default initializers, flagged as defaults', () => {
    const fc3 = net.layers[net.layers.length - 1]!;
    expect(fc3.kernelInit).toMatchObject({ name: 'kaiming_uniform', params: { a: Math.sqrt(5) }, explicit: false, range: null, framework: 'torch' });
    expect(fc3.biasInit).toMatchObject({ name: 'torch_default_bias', explicit: false });
  });
});

describe('torch nn.Module: residual blocks (ResNet)', async () => {
  const text = fixture('resnet_small.py');
  const models = await extractFixture('resnet_small.py');
  const resnet = model(models, 'ResNet');

  it('inlines custom blocks built by _make_layer and marks the model as a graph', () => {
    expect(resnet.isGraph).toBe(true);
    const adds = resnet.layers.filter((l) => l.kind === 'add');
    expect(adds).toHaveLength(4);
    expect(adds.every((a) => a.inputs.length === 2)).toBe(true);
    expect(resnet.layers.map((l) => l.name)).toContain('layer2.1.conv2');
  });

  it('adds the downsample path only where the class attribute `expansion` makes it necessary', () => {
    const downsample = resnet.layers.filter((l) => l.name.includes('downsample'));
    expect(downsample.map((l) => l.name)).toEqual(['layer2.0.downsample.0', 'layer2.0.downsample.1']);
    expect(downsample[0]).toMatchObject({ inFeatures: 16, units: 32, kernelSize: [1, 1], fanIn: 16, fanOut: 32 });
    // The skip joins the block's output with the downsampled input.
    const add = defined(resnet.layers.find((l) => l.kind === 'add' && l.inputs.includes(defined(resnet.layers.find((x) => x.name === 'layer2.0.downsample.1')).id)));
    expect(add.inputs).toContain(defined(resnet.layers.find((l) => l.name === 'layer2.0.bn2')).id);
  });

  it('resolves sizes threaded through self.inplanes and helper functions', () => {
    const conv = defined(resnet.layers.find((l) => l.name === 'layer2.0.conv1'));
    expect(conv).toMatchObject({ inFeatures: 16, units: 32, fanIn: 144, fanOut: 288, useBias: false });
    expect(line(conv)).toBe(lineOf(text, 'return nn.Conv2d(in_planes'));
    expect(defined(resnet.layers.find((l) => l.name === 'layer1.1.conv1')).unrolled).toEqual({ index: 0, count: 1 });
  });

  it('applies the `for m in self.modules()` isinstance filter', () => {
    const conv = defined(resnet.layers.find((l) => l.name === 'conv1'));
    expect(conv.kernelInit).toMatchObject({ name: 'kaiming_normal', options: { mode: 'fan_out', nonlinearity: 'relu' }, params: { a: 0 }, explicit: true });
    expect(defined(defined(conv.kernelInit).range).start.line + 1).toBe(lineOf(text, 'nn.init.kaiming_normal_(m.weight'));
    const bn = defined(resnet.layers.find((l) => l.name === 'layer1.0.bn1'));
    expect(bn.kernelInit).toMatchObject({ name: 'constant', params: { value: 1 }, explicit: true });
    expect(bn.biasInit).toMatchObject({ name: 'constant', params: { value: 0 } });
    // The Linear head is neither a Conv2d nor a norm layer: its default stays.
    expect(defined(defined(resnet.layers.find((l) => l.name === 'fc')).kernelInit).explicit).toBe(false);
  });

  it('extracts the block class on its own, with unknown sizes left null rather than guessed', () => {
    const block = model(models, 'BasicBlock');
    // The skip connection reads the block's input: the input is a layer, so the Add keeps both edges.
    expect(kinds(block)).toEqual(['input', 'conv2d', 'batchnorm', 'activation:relu', 'conv2d', 'batchnorm', 'add', 'activation:relu']);
    expect(block.layers[1]).toMatchObject({ inFeatures: null, units: null, fanIn: null, inputs: ['L0'] });
    expect(block.layers[6]!.inputs).toEqual(['L5', 'L0']);
  });
});

describe('torch nn.Module: U-Net skip connections', async () => {
  const unet = model(await extractFixture('unet_small.py'), 'TinyUNet');

  it('joins encoder and decoder paths with a concat node', () => {
    const concat = defined(unet.layers.find((l) => l.kind === 'concat'));
    expect(concat.className).toBe('torch.cat');
    const inc = defined(unet.layers.find((l) => l.name === 'inc.double_conv.5'));
    const up = defined(unet.layers.find((l) => l.name === 'up'));
    expect(concat.inputs).toEqual([inc.id, up.id]);
    expect(defined(unet.layers.find((l) => l.name === 'down.0')).inputs).toEqual([inc.id]);
    expect(up).toMatchObject({ kind: 'conv-transpose', inFeatures: 32, units: 16, fanIn: 64, fanOut: 128 });
  });
});

describe('torch nn.Module: recurrent models', async () => {
  const text = fixture('lstm_classifier.py');
  const models = await extractFixture('lstm_classifier.py');

  it('reads Embedding and LSTM sizes and options', () => {
    const m = model(models, 'SentimentLSTM');
    expect(kinds(m)).toEqual(['embedding', 'lstm', 'dropout', 'dense']);
    const [emb, lstm, drop, fc] = m.layers;
    expect(emb).toMatchObject({ inFeatures: 20000, units: 128, paddingIdx: 0 });
    expect(defined(emb).kernelInit).toMatchObject({ name: 'random_normal', params: { mean: 0, std: 1 }, explicit: false });
    expect(lstm).toMatchObject({ inFeatures: 128, units: 256, fanIn: 128, fanOut: 1024, recurrent: { numLayers: 2, batchFirst: true, dropout: 0.3, bidirectional: true } });
    expect(defined(lstm).activation).toMatchObject({ name: 'tanh', source: 'default', range: null });
    expect(drop).toMatchObject({ kind: 'dropout', rate: 0.3 });
    expect(fc).toMatchObject({ inFeatures: 512, units: 2 });
  });

  it('routes named_parameters() init loops to kernel, recurrent kernel and bias', () => {
    const lstm = model(models, 'SentimentLSTM').layers[1]!;
    expect(lstm.kernelInit).toMatchObject({ name: 'xavier_uniform', params: { gain: 1 }, explicit: true });
    expect(lstm.recurrentInit).toMatchObject({ name: 'orthogonal', params: { gain: 1 }, explicit: true });
    expect(defined(defined(lstm.recurrentInit).range).start.line + 1).toBe(lineOf(text, 'nn.init.orthogonal_(param.data)'));
    expect(lstm.biasInit).toMatchObject({ name: 'constant', params: { value: 0 }, explicit: true });
  });

  it('keeps RNN nonlinearity and default uniform(-1/sqrt(h), 1/sqrt(h)) weights', () => {
    const m = model(models, 'CharRNN');
    expect(kinds(m)).toEqual(['simple-rnn', 'gru', 'dense']);
    const rnn = m.layers[0]!;
    expect(rnn.activation).toMatchObject({ name: 'relu', source: 'kwarg' });
    expect(rnn).toMatchObject({ activation: { name: 'relu' }, recurrent: { batchFirst: true } });
    expect(rnn.recurrentInit).toMatchObject({ name: 'random_uniform', params: { a: -0.1, b: 0.1 }, explicit: false });
    expect(m.layers[1]).toMatchObject({ fanIn: 100, fanOut: 300 });
    // n_chars has no default and the class is never instantiated here: unknown, not guessed.
    expect(rnn.inFeatures).toBeNull();
    expect(m.layers[2]!.units).toBeNull();
  });
});

describe('torch nn.Module: awkward real-world spellings', async () => {
  const text = fixture('nasty.py');
  const models = await extractFixture('nasty.py');

  it('still extracts the classes around a syntax error', () => {
    expect(models.map((m) => m.name)).toEqual(['Gated', 'Head', 'Weird', 'AfterError']);
    expect(kinds(model(models, 'AfterError'))).toEqual(['dense', 'batchnorm', 'activation:relu']);
  });

  it('follows `from torch.nn import Module`, setattr/getattr layers and the constant branch', () => {
    const gated = model(models, 'Gated');
    expect(kinds(gated)).toEqual(['dense', 'activation:tanh', 'dense', 'activation:tanh', 'dense', 'activation:tanh', 'activation:relu', 'dense']);
    expect(gated.layers.map((l) => l.name).slice(0, 3)).toEqual(['fc0', 'act', 'fc1']);
    expect(gated.layers[0]!.className).toBe('Linear');
    expect(gated.layers[0]!.unrolled).toEqual({ index: 0, count: 3 });
    // use_dropout defaults to False: the else branch (x.relu()) runs, the dropout never does.
    expect(gated.layers.some((l) => l.kind === 'dropout')).toBe(false);
    expect(gated.layers[6]!.activation).toMatchObject({ name: 'relu', spelling: 'x.relu', source: 'functional' });
  });

  it('leaves out layers that forward never calls, so they cannot produce findings', () => {
    const gated = model(models, 'Gated');
    expect(gated.layers.some((l) => l.name === 'unused_head')).toBe(false);
    expect(gated.layers).toHaveLength(8);
    expect(line(gated.layers[7]!)).toBe(lineOf(text, 'self.out = Linear(n_out, 1)'));
  });

  it('treats an nn.Sequential subclass as a sequential body', () => {
    expect(kinds(model(models, 'Head'))).toEqual(['dense', 'activation:relu', 'dense']);
  });

  it('turns what it cannot model into unknown layers listed as unsupported, never silently dropped', () => {
    const weird = model(models, 'Weird');
    // The opaque backbone is an unknown layer; nn.TransformerEncoderLayer(512, 8) is torch's post-LN layer, expanded.
    const encoder = ['attention', 'dropout', 'add', 'layernorm', 'dense', 'activation:relu', 'dropout', 'dense', 'dropout', 'add', 'layernorm'];
    expect(kinds(weird)).toEqual(['unknown', ...encoder, 'activation:swish', 'dense']);
    expect(weird.unsupported.map((u) => u.what)).toEqual(['module torchvision_like_factory(...)']);
    expect(weird.layers[1]!.range.start.line + 1).toBe(lineOf(text, 'nn.TransformerEncoderLayer(512, 8)'));
    expect(weird.layers[5]).toMatchObject({ name: 'attn.linear1', units: 2048, inFeatures: 512 });
    // swish(x) = x * torch.sigmoid(x), a function of the file: read as the swish it computes, where it is called.
    expect(weird.layers[12]!.range.start.line + 1).toBe(lineOf(text, 'x = swish(x)'));
    expect(weird.isGraph).toBe(true);
  });
});

describe('torch nn.Module: inline sources', () => {
  it('uses the only instantiation in the file for constructor arguments', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
import torch.nn.functional as F

class MLP(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.l1 = nn.Linear(n_in, n_hidden)
        self.l2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.l2(F.elu(self.l1(x), alpha=0.5))

if __name__ == "__main__":
    net = MLP(20, 50, 3)
`);
    expect(defined(m).layers.map((l) => [l.inFeatures, l.units])).toEqual([[20, 50], [null, null], [50, 3]]);
    expect(defined(m).layers[1]!.activation).toMatchObject({ name: 'elu', params: { alpha: 0.5 } });
  });

  it("reads a bool where F.leaky_relu takes its slope as the number it is (True == 1.0), and inplace= as no slope", async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
import torch.nn.functional as F

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(20, 50)
        self.l2 = nn.Linear(50, 50)
        self.l3 = nn.Linear(50, 3)

    def forward(self, x):
        x = F.leaky_relu(self.l1(x), True)
        x = F.leaky_relu(self.l2(x), inplace=True)
        return self.l3(x)
`);
    const slopes = defined(m).layers.filter((l) => l.kind === 'activation').map((l) => l.activation?.params);
    expect(slopes).toEqual([{ negative_slope: 1 }, { negative_slope: 0.01 }]);
  });

  it('follows helper methods, ModuleDict lookups and loops over .items()', async () => {
    const [m] = await extractTorchFrom(`
from torch import nn

class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(16, 32)
        self.heads = nn.ModuleDict({'a': nn.Linear(32, 2), 'b': nn.Linear(32, 4)})

    def features(self, x):
        return nn.functional.gelu(self.trunk(x))

    def forward(self, x):
        h = self.features(x)
        outs = {}
        for name, head in self.heads.items():
            outs[name] = head(h)
        return outs
`);
    expect(defined(m).layers.map((l) => l.name)).toEqual(['trunk', 'activation', 'heads.a', 'heads.b']);
    expect(defined(m).layers[3]!.inputs).toEqual(['L1']);
    expect(defined(m).isGraph).toBe(true);
  });

  it('turns a layer loop with unknown bounds into an unknown layer instead of a false adjacency', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn

class Deep(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.inp = nn.Linear(8, 8)
        self.body = nn.ModuleList()
        for _ in range(depth):
            self.body.append(nn.Linear(8, 8))
            self.body.append(nn.ReLU())
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        x = self.inp(x)
        for layer in self.body:
            x = layer(x)
        return self.out(x)
`);
    expect(kinds(defined(m))).toEqual(['dense', 'unknown', 'dense']);
    expect(defined(m).unsupported[0]!.what).toMatch(/loop with non-constant bounds/);
  });

  it('a single layer an optimizer trains whole is a model (a logistic regression); a layer trained beside others, or never, is not', async () => {
    const models = await extractTorchFrom(`
import torch
import torch.nn as nn

model = nn.Linear(784, 10)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

embed = nn.Embedding(1000, 64)
head = nn.Linear(64, 2)
opt2 = torch.optim.Adam(list(head.parameters()) + list(embed.parameters()), lr=1e-3)
probe = nn.Linear(10, 1)
`);
    expect(models.map((m) => [m.name, m.range.start.line + 1, kinds(m)])).toEqual([['model', 5, ['dense']]]);
  });

  it('a model whose every layer comes from such a loop is not reported, and a note at its class says why', async () => {
    const notes = new EvalNotes();
    const models = await extractTorchFrom(`
import torch.nn as nn

class Generator(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        layers = []
        for _ in range(blocks):
            layers += [nn.Conv2d(64, 64, 3, padding=1), nn.ReLU()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)
`, 'model.py', notes);
    expect(models).toEqual([]);
    expect(notes.notes.map((n) => [n.range.start.line + 1, n.what])).toEqual([[4, 'Generator is not analyzed: none of its layers is understood (line 13: layers built in a loop with non-constant bounds)']]);
  });

  it('explores both branches of a condition whose value is unknown, marking their layers conditional', async () => {
    const [m] = await extractTorchFrom(`
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        x = self.fc(x)
        if x.mean() > 0:
            x = torch.sigmoid(x)
        else:
            x = torch.tanh(x)
        return x
`);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:sigmoid', 'activation:tanh']);
    const [fc, sigmoid, tanh] = defined(m).layers;
    // Each branch reads the dense output; neither follows the other.
    expect(defined(sigmoid).inputs).toEqual([defined(fc).id]);
    expect(defined(tanh).inputs).toEqual([defined(fc).id]);
    expect(defined(fc).conditional).toBe(false);
    expect(defined(sigmoid).conditional).toBe(true);
    expect(defined(tanh).conditional).toBe(true);
  });

  it('takes the branch of a known condition only, unmarked', async () => {
    const [m] = await extractTorchFrom(`
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, squash=True):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.squash = squash

    def forward(self, x):
        x = self.fc(x)
        if self.squash:
            x = torch.sigmoid(x)
        else:
            x = torch.tanh(x)
        return x
`);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:sigmoid']);
    expect(defined(m).layers.every((l) => !l.conditional)).toBe(true);
  });

  it('accepts torch.nn.Module, LightningModule and base classes of the same file', async () => {
    const models = await extractTorchFrom(`
import torch
import pytorch_lightning as pl

class Base(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Linear(10, 5)

class Child(Base):
    def __init__(self):
        super().__init__()
        self.dec = torch.nn.Linear(5, 10)

    def forward(self, x):
        return self.dec(torch.relu(self.enc(x)))

class NotAModel:
    def __init__(self):
        self.fc = torch.nn.Linear(1, 1)
`);
    // Base has no forward: it is not a runnable model on its own.
    expect(models.map((m) => m.name)).toEqual(['Child']);
    expect(kinds(models[0]!)).toEqual(['dense', 'activation:relu', 'dense']);
  });

  it('extracts a LightningModule with forward using a helper method', async () => {
    const m = model(await extractFixture('lightning_ae.py'), 'LitAutoEncoder');
    expect(kinds(m)).toEqual(['flatten', 'dense', 'activation:relu', 'dense', 'dense', 'activation:relu', 'dense', 'activation:sigmoid']);
    expect(m.layers[1]).toMatchObject({ name: 'encoder.0', inFeatures: 784, units: 64 });
  });

  it('returns nothing for files without torch', async () => {
    expect(await extractTorchFrom('import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(3)])\n')).toEqual([]);
    expect(await extractTorchFrom('')).toEqual([]);
  });
});

describe('torch nn.Module: VAE with helper methods and a static reparameterization', async () => {
  const vae = model(await extractFixture('vae.py'), 'VAE');

  it('forks after fc1 into mu and logvar, and merges them again in the reparameterization', () => {
    const byName = (n: string) => defined(vae.layers.find((l) => l.name === n));
    const act = vae.layers[3]!;
    expect(byName('fc21').inputs).toEqual([act.id]);
    expect(byName('fc22').inputs).toEqual([act.id]);
    // exp_ is the exponential activation; the noise normal_() draws is another model input that the product reads.
    const exp = defined(vae.layers.find((l) => l.className === 'Tensor.exp_'));
    expect(exp).toMatchObject({ kind: 'activation', activation: { name: 'exponential' }, inputs: [byName('fc22').id] });
    const noise = defined(vae.layers.find((l) => l.kind === 'input' && l.className === 'noise'));
    const product = defined(vae.layers.find((l) => l.kind === 'multiply'));
    expect(product.inputs.sort()).toEqual([noise.id, exp.id].sort());
    const add = defined(vae.layers.find((l) => l.kind === 'add'));
    expect(add.inputs.sort()).toEqual([byName('fc21').id, product.id].sort());
    expect(byName('fc3').inputs).toEqual([add.id]);
    expect(vae.unsupported).toEqual([]);
    expect(kinds(vae).slice(-4)).toEqual(['dense', 'activation:relu', 'dense', 'activation:sigmoid']);
  });
});

describe('torch nn.Module: losses and explicit base-class __init__ calls', () => {
  it('does not turn a loss computed in forward into a layer', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
import torch.nn.functional as F

class Base(nn.Module):
    def __init__(self, width):
        nn.Module.__init__(self)
        self.fc = nn.Linear(width, width)

class Classifier(Base):
    def __init__(self):
        Base.__init__(self, 32)
        self.head = nn.Linear(32, 5)
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x, y=None):
        logits = self.head(F.relu(self.fc(x)))
        loss = self.criterion(logits, y)
        aux = F.mse_loss(logits, logits.detach())
        return logits, loss + aux
`);
    expect(defined(m).name).toBe('Classifier');
    expect(kinds(defined(m))).toEqual(['dense', 'activation:relu', 'dense']);
    expect(defined(m).layers[0]).toMatchObject({ name: 'fc', inFeatures: 32, units: 32 });
    expect(defined(m).unsupported).toEqual([]);
  });
});

describe('torch nn.Module: activations chosen through tables and arguments', () => {
  it('resolves a module-level activation table, an activation function stored on self, and a module default argument', async () => {
    const [m] = await extractTorchFrom(`
import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {'relu': nn.ReLU, 'tanh': nn.Tanh, 'gelu': nn.GELU}

class Net(nn.Module):
    def __init__(self, act='tanh', gate=torch.sigmoid, out_act=nn.Softplus()):
        super().__init__()
        self.fc1 = nn.Linear(10, 20)
        self.act = ACTIVATIONS[act]()
        self.fc2 = nn.Linear(20, 20)
        self.gate = gate
        self.fc3 = nn.Linear(20, 1)
        self.out_act = out_act

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.gate(self.fc2(x))
        return self.out_act(self.fc3(x))
`);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:tanh', 'dense', 'activation:sigmoid', 'dense', 'activation:softplus']);
    expect(defined(m).layers[3]!.activation).toMatchObject({ spelling: 'torch.sigmoid', source: 'functional' });
    expect(defined(m).layers[5]!.activation).toMatchObject({ source: 'layer', params: { beta: 1, threshold: 20 } });
  });
});

describe('torch nn.Module: paired containers and annotated attributes', () => {
  it('walks zip(self.convs, self.bns) and annotated self attributes', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
import torch.nn.functional as F

class Tower(nn.Module):
    def __init__(self, widths=(3, 16, 32)):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            self.convs.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False))
            self.bns.append(nn.BatchNorm2d(c_out))
        self.head: nn.Linear = nn.Linear(widths[-1], 10)
        self.use_relu = True

    def forward(self, x):
        for conv, bn in zip(self.convs, self.bns):
            x = bn(conv(x))
            x = F.relu(x) if self.use_relu else x
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)
`);
    expect(kinds(defined(m))).toEqual(['conv2d', 'batchnorm', 'activation:relu', 'conv2d', 'batchnorm', 'activation:relu', 'global-pool', 'flatten', 'dense']);
    expect(defined(m).layers.map((l) => l.name).slice(0, 5)).toEqual(['convs.0', 'bns.0', 'activation', 'convs.1', 'bns.1']);
    expect(defined(m).layers[3]).toMatchObject({ inFeatures: 16, units: 32, useBias: false, unrolled: { index: 1, count: 2 } });
    expect(defined(m).layers[8]).toMatchObject({ inFeatures: 32, units: 10 });
    expect(defined(m).isGraph).toBe(false);
  });
});

describe('torch nn.Module: a block only another class builds is read as that class builds it', () => {
  // The block is read from the instance its builder makes (tanh), not from its own defaults (relu): the
  // builder, written after it, runs first. The block's own code calling its name does not count.
  const source = (block: string) => `import torch
import torch.nn as nn


class ${block}(nn.Module):
    def __init__(self, act=nn.ReLU):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = act()

    def forward(self, x):
        return self.act(self.fc(x))

    def again(self):
        return ${block}()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = ${block}(act=nn.Tanh)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.inner(x))
`;

  it('takes the activation class the builder passes', async () => {
    const models = await extractTorchFrom(source('Block'));
    expect(kinds(model(models, 'Block'))).toEqual(['dense', 'activation:tanh']);
  });
});
