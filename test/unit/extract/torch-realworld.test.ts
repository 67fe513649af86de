/** Larger files written the way public PyTorch projects write them: GPT blocks, Kaggle CNNs, DQN. */
import { describe, expect, it } from 'vitest';
import { extractFixture, extractTorchFrom, fixture, kinds, line, lineOf, model } from './torch-fixture';
import { defined } from '../../defined';
import { analyzeText } from '../project-helper';
import type { ModelIR } from '../../../src/shared/ir';

describe('a nanoGPT-style model with a dataclass config', async () => {
  const text = fixture('gpt_mini.py');
  const models = await extractFixture('gpt_mini.py');
  const gpt = model(models, 'GPT');

  it('reads sizes from the dataclass defaults and unrolls the ModuleList of blocks', () => {
    expect(models.map((m) => m.name)).toEqual(['MLP', 'Block', 'GPT']);
    const wte = gpt.layers[0]!;
    expect(wte).toMatchObject({ name: 'transformer.wte', kind: 'embedding', inFeatures: 65, units: 128 });
    const fcs = gpt.layers.filter((l) => l.name.endsWith('mlp.c_fc'));
    expect(fcs.map((l) => l.name)).toEqual([0, 1, 2, 3].map((i) => `transformer.h.${i}.mlp.c_fc`));
    expect(fcs.map((l) => l.unrolled)).toEqual([0, 1, 2, 3].map((index) => ({ index, count: 4 })));
    expect(fcs[0]).toMatchObject({ inFeatures: 128, units: 512, fanIn: 128, fanOut: 512 });
    expect(gpt.layers[gpt.layers.length - 1]).toMatchObject({ name: 'lm_head', inFeatures: 128, units: 65, useBias: false });
  });

  it('applies _init_weights to every Linear and Embedding, then the scaled c_proj init by parameter name', () => {
    const dense = gpt.layers.filter((l) => l.kind === 'dense');
    const cProj = dense.filter((l) => l.name.endsWith('c_proj'));
    expect(cProj.every((l) => defined(l.kernelInit).params.std === 0.02 / Math.sqrt(8))).toBe(true);
    expect(defined(defined(cProj[0]!.kernelInit).range).start.line + 1).toBe(lineOf(text, 'std=0.02 / math.sqrt(2 * config.n_layer)'));
    expect(dense.filter((l) => !l.name.endsWith('c_proj')).every((l) => defined(l.kernelInit).params.std === 0.02 && defined(l.kernelInit).explicit)).toBe(true);
    expect(gpt.layers.filter((l) => l.kind === 'embedding').every((l) => defined(l.kernelInit).params.std === 0.02)).toBe(true);
    expect(dense.filter((l) => l.useBias).every((l) => defined(l.biasInit).name === 'zeros')).toBe(true);
  });

  it('keeps pre-norm residuals as add nodes, the wpe table of positions, and the missing attention class as an unknown layer', () => {
    expect(gpt.isGraph).toBe(true);
    // tok_emb + pos_emb with pos_emb = wpe(torch.arange(t)): a learned positional table, not a residual.
    expect(gpt.layers.filter((l) => l.kind === 'add')).toHaveLength(8);
    expect(gpt.layers[1]).toMatchObject({ kind: 'position-embedding', name: 'transformer.wpe', inputs: ['L0'] });
    const attn = gpt.layers.filter((l) => l.kind === 'unknown');
    expect(attn.map((l) => l.name)).toEqual([0, 1, 2, 3].map((i) => `transformer.h.${i}.attn`));
    expect(gpt.unsupported).toEqual([{ what: 'module CausalSelfAttention(...)', range: attn[0]!.range }]);
    // Dropout(p=0.0) from the config is still a dropout layer with its rate.
    expect(gpt.layers.find((l) => l.name === 'transformer.drop')).toMatchObject({ kind: 'dropout', rate: 0 });
  });
});

describe('Kaggle-style MNIST models', async () => {
  const text = fixture('mnist_kaggle.py');
  const models = await extractFixture('mnist_kaggle.py');

  it('models functional pooling, dropout and log_softmax in LeNet', () => {
    const lenet = model(models, 'LeNet');
    expect(kinds(lenet)).toEqual([
      'conv2d', 'activation:relu', 'maxpool', 'conv2d', 'activation:relu', 'maxpool', 'flatten',
      'dense', 'activation:relu', 'dropout', 'dense', 'activation:relu', 'dense', 'activation:log_softmax',
    ]);
    expect(lenet.layers[2]!.kernelSize).toEqual([2, 2]);
    expect(lenet.layers[9]).toMatchObject({ className: 'F.dropout', rate: 0.3 });
    expect(lenet.layers[13]!.activation).toMatchObject({ name: 'log_softmax', params: { dim: 1 }, source: 'functional' });
    expect(lenet.layers[6]!.range.start.line + 1).toBe(lineOf(text, 'x = x.view(-1, self.num_flat_features(x))'));
  });

  it('unrolls zip(dims[:-1], dims[1:]) and evaluates the last-layer condition in forward', () => {
    const mlp = model(models, 'MLP');
    expect(kinds(mlp)).toEqual(['flatten', 'dense', 'activation:relu', 'dense', 'activation:relu', 'dense']);
    expect(mlp.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units])).toEqual([[784, 512], [512, 256], [256, 10]]);
    expect(mlp.layers[2]!.className).toBe('nn.ReLU');
  });

  it('reads the Atari DQN stack', () => {
    const dqn = model(models, 'DQN');
    expect(kinds(dqn)).toEqual(['conv2d', 'activation:relu', 'conv2d', 'activation:relu', 'conv2d', 'activation:relu', 'flatten', 'dense', 'activation:relu', 'dense']);
    expect(dqn.layers[0]).toMatchObject({ inFeatures: 4, units: 32, kernelSize: [8, 8], fanIn: 256, conv: { strides: [4] } });
    expect(dqn.layers[9]!.units).toBe(6);
    expect(dqn.inputShape).toEqual([4, null, null]);
  });
});

describe('older example-repository idioms', () => {
  it('runs the Sequential that nn.parallel.data_parallel is given, and sees through DataParallel/spectral_norm', async () => {
    const models = await extractTorchFrom(`
import torch
import torch.nn as nn
from torch.nn.utils import spectral_norm

class Gen(nn.Module):
    def __init__(self, ngpu=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(nn.ConvTranspose2d(100, 64, 4, 1, 0, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
                                  nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, input):
        gpu_ids = None
        if isinstance(input.data, torch.cuda.FloatTensor) and self.ngpu > 1:
            gpu_ids = range(self.ngpu)
        return nn.parallel.data_parallel(self.main, input, gpu_ids)

critic = nn.Sequential(spectral_norm(nn.Linear(16, 16)), nn.LeakyReLU(0.1), spectral_norm(nn.Linear(16, 1)))
netG = nn.DataParallel(Gen())
`);
    expect(kinds(model(models, 'Gen'))).toEqual(['conv-transpose', 'batchnorm', 'activation:relu', 'conv-transpose', 'activation:tanh']);
    expect(kinds(model(models, 'critic'))).toEqual(['dense', 'activation:leaky_relu', 'dense']);
    expect(models.every((m) => m.unsupported.length === 0)).toBe(true);
  });

  it('keeps the flow when forward constructs a module around a tensor by mistake', async () => {
    const [m] = await extractTorchFrom(`
import torch
import torch.nn.functional as F

class MyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 32, 3, 1, 1)
        self.dense1 = torch.nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = torch.nn.ReLU(x)
        x = F.max_pool2d(x, 2)
        return self.dense1(x)
`);
    expect(kinds(defined(m))).toEqual(['conv2d', 'unknown', 'maxpool', 'dense']);
    expect(defined(m).layers.map((l) => l.inputs)).toEqual([[], ['L0'], ['L1'], ['L2']]);
  });

  it('follows getattr(nn, name) when the name is constant and lists built with comprehensions in forward', async () => {
    const [m] = await extractTorchFrom(`
import torch
import torch.nn as nn
import torch.nn.functional as F

class TextCNN(nn.Module):
    def __init__(self, vocab=5000, dim=64, n_filters=16, sizes=(3, 4, 5), n_classes=2, cell='GRU'):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.convs = nn.ModuleList([nn.Conv2d(1, n_filters, (k, dim)) for k in sizes])
        self.rnn = getattr(nn, cell)(input_size=dim, hidden_size=dim, batch_first=True)
        self.fc = nn.Linear(len(sizes) * n_filters, n_classes)

    def forward(self, x):
        x = self.embed(x).unsqueeze(1)
        xs = [F.relu(conv(x)).squeeze(3) for conv in self.convs]
        xs = [F.max_pool1d(i, i.size(2)).squeeze(2) for i in xs]
        return self.fc(torch.cat(xs, 1))
`);
    // unsqueeze(1) and each squeeze are tensor operations of their own (the probe computes their shapes).
    expect(kinds(defined(m))).toEqual(['embedding', 'tensor-op', 'conv2d', 'activation:relu', 'tensor-op', 'conv2d', 'activation:relu', 'tensor-op', 'conv2d', 'activation:relu', 'tensor-op', 'maxpool', 'tensor-op', 'maxpool', 'tensor-op', 'maxpool', 'tensor-op', 'concat', 'dense']);
    expect(defined(m).layers[1]).toMatchObject({ kind: 'tensor-op', op: { op: 'unsqueeze', axis: 1 } });
    expect(defined(m).layers[8]).toMatchObject({ kernelSize: [5, 64], fanIn: 320 });
    expect(defined(m).layers[17]!.inputs).toEqual(['L12', 'L14', 'L16']);
    expect(defined(m).layers[18]).toMatchObject({ inFeatures: 48, units: 2 });
  });
});

describe('word language models (pytorch/examples idioms)', async () => {
  const models = await extractFixture('word_lm.py');

  it('keeps an RNN chosen by a runtime name as one unknown layer in an intact chain', () => {
    const lm = model(models, 'RNNLM');
    expect(kinds(lm)).toEqual(['embedding', 'dropout', 'unknown', 'dropout', 'dense', 'flatten', 'activation:log_softmax']);
    expect(lm.layers.map((l) => l.inputs)).toEqual([[], ['L0'], ['L1'], ['L2'], ['L3'], ['L4'], ['L5']]);
    expect(lm.layers[2]!.name).toBe('rnn');
    expect(lm.unsupported.map((u) => u.what)).toEqual(['module getattr(nn, cell)(...)']);
    // Sizes come from required constructor arguments: unknown, never guessed.
    expect(lm.layers[4]).toMatchObject({ inFeatures: null, units: null });
    expect(lm.layers[4]!.kernelInit).toMatchObject({ name: 'random_uniform', params: { a: -0.1, b: 0.1 }, explicit: true });
    expect(lm.layers[0]!.kernelInit).toMatchObject({ name: 'random_uniform', params: { a: -0.1, b: 0.1 } });
  });

  it('reads the old init.orthogonal/init.gain spellings', () => {
    const sp = model(models, 'SubPixel');
    expect(sp.layers[0]!.kernelInit).toMatchObject({ name: 'orthogonal', params: { gain: Math.SQRT2 }, explicit: true });
    expect(sp.layers[2]).toMatchObject({ units: 9, fanOut: 81, conv: { strides: [1, 1], padding: [1, 1] } });
    expect(sp.layers[3]!.kind).toBe('reshape');
  });

  it('accepts a subclass of another torch.nn class and keeps its inherited internals unknown', () => {
    const tf = model(models, 'TransformerLM');
    expect(kinds(tf)).toEqual(['embedding', 'rescaling', 'unknown', 'dense', 'activation:log_softmax']);
    // `emb * math.sqrt(self.ninp)`: the embedding is scaled by sqrt(64) before the encoder reads it.
    expect(tf.layers[1]).toMatchObject({ kind: 'rescaling', scale: 8, offset: 0 });
    expect(tf.unsupported.map((u) => u.what)).toEqual(['call self.encoder(...)']);
  });
});

describe('modern idioms: einops and activation checkpointing', () => {
  it('passes tensors through einops, models its layers, and follows checkpoint(fn, x)', async () => {
    const [m] = await extractTorchFrom(`
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from einops import rearrange
from einops.layers.torch import Rearrange, Reduce

class MixerBlock(nn.Module):
    def __init__(self, dim=64, depth=2):
        super().__init__()
        self.to_tokens = Rearrange('b c h w -> b (h w) c')
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU()) for _ in range(depth)])
        self.pool = Reduce('b n c -> b c', 'mean')
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.to_tokens(x)
        for blk in self.blocks:
            x = x + checkpoint(blk, x)
        x = rearrange(x, 'b n c -> b n c')
        return self.head(self.pool(x))
`);
    expect(kinds(defined(m))).toEqual(['reshape', 'layernorm', 'dense', 'activation:gelu', 'add', 'layernorm', 'dense', 'activation:gelu', 'add', 'global-pool', 'dense']);
    expect(defined(m).layers[4]!.inputs).toEqual(['L0', 'L3']);
    expect(defined(m).unsupported).toEqual([]);
  });
});

describe('attention written by hand', () => {
  it('does not report the softmax over q @ k^T as a hidden activation', async () => {
    const [m] = await extractTorchFrom(`
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

class SelfAttention(nn.Module):
    def __init__(self, dim=64, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(C, dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(torch.ones(T, T) == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = torch.matmul(att, v)
        scores = torch.bmm(q, k.transpose(1, 2)).softmax(dim=-1)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C)) + torch.bmm(scores, v)
`);
    expect(kinds(defined(m))).not.toContain('activation:softmax');
    expect(kinds(defined(m)).slice(0, 2)).toEqual(['dense', 'reshape']);
    expect(defined(defined(m).layers.find((l) => l.name === 'proj')).inputs).toEqual(['L1']);
  });

  it('still reports a softmax applied to a layer output', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn
import torch.nn.functional as F

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 2)

    def forward(self, x):
        return self.b(F.softmax(self.a(x), dim=-1))
`);
    expect(kinds(defined(m))).toEqual(['dense', 'activation:softmax', 'dense']);
  });
});

describe('VGG built from a configuration table', async () => {
  const text = fixture('vgg_cifar.py');
  const vgg = model(await extractFixture('vgg_cifar.py'), 'VGG');

  it('uses the instantiation VGG("VGG13", batch_norm=False) and threads in_channels through the loop', () => {
    const convs = vgg.layers.filter((l) => l.kind === 'conv2d');
    expect(convs.map((l) => [l.inFeatures, l.units])).toEqual([
      [3, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 512], [512, 512], [512, 512], [512, 512],
    ]);
    expect(vgg.layers.some((l) => l.kind === 'batchnorm')).toBe(false);
    expect(vgg.layers.filter((l) => l.kind === 'maxpool')).toHaveLength(5);
    expect(kinds(vgg).slice(0, 5)).toEqual(['conv2d', 'activation:relu', 'conv2d', 'activation:relu', 'maxpool']);
    expect(kinds(vgg).slice(-3)).toEqual(['avgpool', 'flatten', 'dense']);
    // Every conv copy points back at the one constructor line, with its loop position.
    expect(new Set(convs.map(line))).toEqual(new Set([lineOf(text, 'conv = nn.Conv2d(in_channels, x')]));
    expect(convs[2]!.unrolled).toEqual({ index: 3, count: 15 });
    expect(convs[9]!.name).toBe(`features.${vgg.layers.indexOf(convs[9]!)}`);
  });
});

describe('models held by an object of a plain class (an RL agent, a trainer)', () => {
  it('reads the Q-network an Agent the script makes holds, with the sizes it is made with', async () => {
    const text = fixture('dqn_agent.py');
    const qNet = model(await extractTorchFrom(text, 'dqn_agent.py'), 'q_net');
    expect(qNet.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units])).toEqual([[8, 64], [64, 64], [64, 64], [64, 4]]);
    expect(qNet.range.start.line + 1).toBe(lineOf(text, 'self.q_net = nn.Sequential('));
    const result = await analyzeText(text, 'dqn_agent.py');
    expect(result.findings.map((f) => f.code)).toEqual(['GL101']);
  });

  it('still takes a Sequential put into a module object as a part of it, not a model', async () => {
    // Twin: the same Sequential assigned onto an nn.Module the script makes belongs to that module.
    const text = fixture('dqn_agent.py').replace('class Agent:', 'class Agent(nn.Module):').replace('        self.action_size = action_size\n', '        super().__init__()\n        self.action_size = action_size\n');
    const names = (await extractTorchFrom(text, 'dqn_agent.py')).map((m) => m.name);
    expect(names).not.toContain('q_net');
  });
});

describe('a class defined twice', () => {
  const first = 'class Encoder(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(16, 8)\n\n    def forward(self, x):\n        return self.fc(x)\n';
  const second = 'class Encoder(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(16, 32)\n        self.fc2 = nn.Linear(32, 8)\n\n    def forward(self, x):\n        return self.fc2(torch.relu(self.fc1(x)))\n';
  const indent = (text: string) => text.replace(/^(?=.)/gm, '    ');

  it('is the later definition when the module (or a notebook cell run again) defines it again', async () => {
    const encoder = model(await extractTorchFrom(`import torch\nimport torch.nn as nn\n\n${first}\n\n${second}\n\nnet = Encoder()\n`), 'Encoder');
    expect(encoder.layers.filter((l) => l.kind === 'dense').map((l) => l.units)).toEqual([32, 8]);
  });

  it('is the first definition when the two are branches, only one of which runs (try/except)', async () => {
    const text = `import torch\nimport torch.nn as nn\n\ntry:\n${indent(first)}except ImportError:\n${indent(second)}\nnet = Encoder()\n`;
    const encoder = model(await extractTorchFrom(text), 'Encoder');
    expect(encoder.layers.filter((l) => l.kind === 'dense').map((l) => l.units)).toEqual([8]);
  });
});

describe('a `while` loop over constants (a DCGAN pyramid built while the side is above 4)', () => {
  const convs = (m: ModelIR) => m.layers.filter((l) => l.kind === 'conv2d').map((l) => [l.inFeatures, l.units]);

  it('is unrolled pass by pass, each pass an iteration of the loop', async () => {
    const text = fixture('dcgan_pyramid.py');
    const netD = model(await extractTorchFrom(text, 'dcgan_pyramid.py'), 'PyramidDiscriminator');
    expect(convs(netD)).toEqual([[3, 64], [64, 128], [128, 256], [256, 512], [512, 1]]);
    expect(netD.layers.filter((l) => l.name.startsWith('main.pyramid') && l.kind === 'conv2d').map((l) => l.unrolled)).toEqual([0, 1, 2].map((index) => ({ index, count: 3 })));
    const result = await analyzeText(text, 'dcgan_pyramid.py');
    expect(result.findings.map((f) => `${f.code}:${f.range.start.line + 1}`)).toEqual([`GL302:${lineOf(text, 'nn.Conv2d(in_feat, out_feat, 4, 2, 1)')}`]);
  });

  it('runs as many passes as the sizes give, and none it cannot know', async () => {
    const larger = model(await extractTorchFrom(fixture('dcgan_pyramid.py').replace('default=64', 'default=128'), 'dcgan_pyramid.py'), 'PyramidDiscriminator');
    expect(convs(larger).map(([, out]) => out)).toEqual([64, 128, 256, 512, 1024, 1]);
    // Twin: a side the code does not fix leaves the loop unknown, as before, with a note.
    const unknownSide = fixture('dcgan_pyramid.py').replace('netD = PyramidDiscriminator(opt.imageSize,', 'netD = PyramidDiscriminator(int(input()),');
    const unknown = await extractTorchFrom(unknownSide, 'dcgan_pyramid.py');
    expect(unknown.flatMap((m) => m.layers).filter((l) => l.name.startsWith('main.pyramid'))).toEqual([]);
    const result = await analyzeText(unknownSide, 'dcgan_pyramid.py');
    expect(result.notices.map((n) => n.message).join('\n')).toMatch(/non-constant bounds/);
  });

  it('leaves a training loop counting its steps, and a `while True:` loop, as loops of unknown bounds, with no note', async () => {
    const training = `${fixture('dcgan_pyramid.py')}
step = 0
while step < 100000:
    loss = netD(torch.randn(64, 3, 64, 64)).mean()
    optimizerD.zero_grad()
    loss.backward()
    optimizerD.step()
    step += 1
while True:
    if netD(torch.randn(1, 3, 64, 64)).item() > 0:
        break
`;
    const result = await analyzeText(training, 'dcgan_pyramid.py');
    expect(result.notices).toEqual([]);
    expect(convs(model(result.models, 'PyramidDiscriminator')).map(([, out]) => out)).toEqual([64, 128, 256, 512, 1]);
  });
});
