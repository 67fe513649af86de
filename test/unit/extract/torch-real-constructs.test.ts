/**
 * Constructs of real torch forwards the probe used to refuse (issue 11, session 6), each with a clean
 * twin: an elementwise |x| (torch.abs / x.abs()) and a difference of two tensors, which is not a sum.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import { extractTorchFrom, model } from './torch-fixture';
import { defined } from '../../defined';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';

const merges = (m: ModelIR): string[] => m.layers.flatMap((l) => (l.kind === 'add' ? [l.merge.op] : []));
const activations = (m: ModelIR): string[] => m.layers.flatMap((l: LayerIR) => (l.kind === 'activation' ? [defined(l.activation).name] : []));

const DISTANCE = `import torch
from torch import nn

class Distance(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = nn.Linear(16, 8)
        self.right = nn.Linear(16, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x1, x2):
        d = torch.abs(self.left(x1) OP self.right(x2))
        return self.out(d).abs()
`;

describe('|a - b|', () => {
  it('reads torch.abs and x.abs() as the abs activation and a - b as a difference, first minus second', async () => {
    const m = model(await extractTorchFrom(DISTANCE.replace('OP', '-')), 'Distance');
    expect(merges(m)).toEqual(['subtract']);
    expect(activations(m)).toEqual(['abs', 'abs']);
    const diff = defined(m.layers.find((l) => l.kind === 'add'));
    const left = defined(m.layers.find((l) => l.name === 'left'));
    expect(diff.inputs[0]).toBe(left.id);
  });

  it.each(['torch.sub(self.left(x1), self.right(x2))', 'self.left(x1).sub(self.right(x2))'])('reads %s as the same difference', async (spelled) => {
    const m = model(await extractTorchFrom(DISTANCE.replace('self.left(x1) OP self.right(x2)', spelled)), 'Distance');
    expect(merges(m)).toEqual(['subtract']);
  });

  it('keeps a + b a sum (the twin)', async () => {
    const m = model(await extractTorchFrom(DISTANCE.replace('OP', '+')), 'Distance');
    expect(merges(m)).toEqual(['add']);
  });
});

const PRETRAINED = `import torch
from torch import nn

class Classifier(nn.Module):
    def __init__(self, weights):
        super().__init__()
        self.emb = nn.Embedding.from_pretrained(ARGS)
        UNFREEZE
        self.trunk = nn.Sequential(nn.Linear(50, 32), nn.ReLU(), nn.Linear(32, 32))
        TRUNK
        self.fc = nn.Linear(32, 2)

    def forward(self, x):
        return self.fc(self.trunk(self.emb(x).mean(dim=1)))
`;

const pretrained = async (args: string, unfreeze = '', trunk = ''): Promise<ModelIR> =>
  model(await extractTorchFrom(PRETRAINED.replace('ARGS', args).replace('UNFREEZE', unfreeze || 'pass').replace('TRUNK', trunk || 'pass')), 'Classifier');
const frozen = (m: ModelIR): string[] => m.layers.filter((l) => l.frozen).map((l) => l.name);

describe('frozen weights', () => {
  it('reads nn.Embedding.from_pretrained as an Embedding sized by its weights, frozen by default', async () => {
    const m = await pretrained('torch.randn(1000, 50)');
    const emb = defined(m.layers.find((l) => l.name === 'emb'));
    expect(emb.kind).toBe('embedding');
    expect([emb.inFeatures, emb.units]).toEqual([1000, 50]);
    expect(emb.kernelInit?.name).toBe('random_normal');
    expect(frozen(m)).toEqual(['emb']);
  });

  it('trains it with freeze=False or weight.requires_grad = True (the twins); unknown vectors leave the sizes to the probe', async () => {
    expect(frozen(await pretrained('torch.randn(1000, 50), freeze=False'))).toEqual([]);
    expect(frozen(await pretrained('weights', 'self.emb.weight.requires_grad = True'))).toEqual([]);
    const emb = defined((await pretrained('weights')).layers.find((l) => l.name === 'emb'));
    expect([emb.inFeatures, emb.units]).toEqual([null, null]);
  });

  it('freezes the layers whose parameters are set requires_grad = False, or a module given requires_grad_(False)', async () => {
    expect(frozen(await pretrained('weights, freeze=False', '', 'for p in self.trunk.parameters():\n            p.requires_grad = False'))).toEqual(['trunk.0', 'trunk.2']);
    expect(frozen(await pretrained('weights, freeze=False', '', 'self.trunk[2].requires_grad_(False)'))).toEqual(['trunk.2']);
    expect(frozen(await pretrained('weights, freeze=False', '', 'self.trunk.requires_grad_()'))).toEqual([]);
  });
});

const BLOCKS = `import torch
from torch import nn

class Block(nn.Module):
    def __init__(self, in_channels, out_channels, non_linearity):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.act = non_linearity()

    def forward(self, x):
        return self.act(self.conv(x))

class Net(nn.Module):
    def __init__(self, channels=(4, 8)):
        super().__init__()
        self.blocks = nn.ModuleList()
        previous = 1
        for c in channels:
            self.blocks.append(Block(previous, c, nn.ELU))
            previous = c

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return torch.cat((x, x), 1)
`;

describe('a class only another class builds', () => {
  it('is read with the arguments of its first instantiation there (the activation class it is given)', async () => {
    const block = model(await extractTorchFrom(BLOCKS), 'Block');
    expect(activations(block)).toEqual(['elu']);
    expect(block.layers.find((l) => l.kind === 'conv2d')?.inFeatures).toBe(1);
  });

  it('keeps its defaults when nothing builds it (the twin): the class argument stays unknown', async () => {
    const alone = model(await extractTorchFrom(BLOCKS.slice(0, BLOCKS.indexOf('class Net'))), 'Block');
    expect(activations(alone)).toEqual([]);
    expect(alone.layers.some((l) => l.kind === 'unknown')).toBe(true);
  });

  it('torch.cat((x, x), 1) joins the tensor with itself: both operands are inputs of the concat', async () => {
    const net = model(await extractTorchFrom(BLOCKS), 'Net');
    const cat = defined(net.layers.find((l) => l.kind === 'concat'));
    const last = defined(net.layers[net.layers.indexOf(cat) - 1]);
    expect(cat.inputs).toEqual([last.id, last.id]);
  });
});

const SOFT_POSITIONS = `import numpy as np
import torch
from torch import nn

def build_grid(resolution):
    ranges = [np.linspace(0., 1., num=r) for r in resolution]
    grid = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1)[None]
    return torch.from_numpy(np.concatenate([grid, 1.0 - grid], axis=-1))

class Decoder(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.embedding = nn.Linear(4, hidden)
        self.grid = GRID
        self.deconv = nn.ConvTranspose2d(hidden, 3, 4, stride=2, padding=1)

    def forward(self, x):
        x = x + self.embedding(self.grid.to(x.device))
        return self.deconv(x.permute(0, 3, 1, 2))
`;

let project: Project;
beforeAll(async () => {
  project = await Project.create();
});
afterAll(() => {
  project.dispose();
});

/** The model as the whole analyzer gives it (with its input shape guess). */
function analyzed(text: string, name: string): ModelIR {
  project.setFile('/virtual/model.py', text);
  return model(project.analyzeFile('/virtual/model.py').models, name);
}

describe('a Linear of a grid the module holds (a soft position embedding)', () => {
  it.each(['build_grid((8, 8))', 'torch.zeros(1, 8, 8, 4)'])('reads %s as a constant input of its own, not the model input', async (grid) => {
    const m = model(await extractTorchFrom(SOFT_POSITIONS.replace('GRID', grid)), 'Decoder');
    const constant = defined(m.layers.find((l) => l.kind === 'input' && l.className === 'constant'));
    const embedding = defined(m.layers.find((l) => l.name === 'embedding'));
    expect(embedding.inputs).toEqual([constant.id]);
    // The input is what the layer after the sum reads, permuted back: the transposed conv reads a
    // 32-channel map (C, H, W) that x.permute(0, 3, 1, 2) made of x's (H, W, C), fed as torch holds it.
    const guess = defined(analyzed(SOFT_POSITIONS.replace('GRID', grid), 'Decoder').inputGuess);
    expect(guess.layout).toBe('channels_last');
    expect(guess.shape).toHaveLength(3);
    expect(guess.shape[2]).toBe(32);
  });

  it('keeps a Linear of the data reading the data (the twin)', async () => {
    const m = model(await extractTorchFrom(SOFT_POSITIONS.replace('GRID', 'None').replace('self.embedding(self.grid.to(x.device))', 'self.embedding(x)').replace('nn.Linear(4, hidden)', 'nn.Linear(hidden, hidden)')), 'Decoder');
    expect(m.layers.some((l) => l.className === 'constant')).toBe(false);
  });
});

const SLOTS = `import torch
from torch import nn

class Slots(nn.Module):
    def __init__(self, num_slots=5, dim=16):
        super().__init__()
        self.num_slots = num_slots
        self.slots_mu = nn.Parameter(torch.randn(1, 1, dim))
        self.slots_sigma = nn.Parameter(torch.rand(1, 1, dim))
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim)

    def forward(self, inputs):
        b = inputs.size(0)
        mu = self.slots_mu.expand(b, SLOTS, -1)
        sigma = self.slots_sigma.expand(b, SLOTS, -1)
        return self.fc(self.norm(torch.normal(mu, sigma)))
`;

describe('noise drawn around learned slot parameters', () => {
  it('has the shape of the (1, 1, D) mean broadcast to the slots: num_slots x D', async () => {
    const m = model(await extractTorchFrom(SLOTS.replaceAll('SLOTS', 'self.num_slots')), 'Slots');
    const noise = defined(m.layers.find((l) => l.kind === 'input' && l.className === 'noise'));
    expect(noise.kind === 'input' ? noise.shape : null).toEqual([5, 16]);
  });

  it('keeps one row when the number of slots is not known (the twin)', async () => {
    const m = model(await extractTorchFrom(SLOTS.replaceAll('SLOTS', '-1')), 'Slots');
    const noise = defined(m.layers.find((l) => l.kind === 'input' && l.className === 'noise'));
    expect(noise.kind === 'input' ? noise.shape : null).toEqual([1, 16]);
  });
});

const VIEW_AFTER = `import torch
from torch import nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        BODY
`;

describe('x.view(-1, k)', () => {
  it("folds an LSTM's steps into the batch (through a dropout): a view the next Linear reads per step", async () => {
    const m = model(await extractTorchFrom(VIEW_AFTER.replace('BODY', 'out, _ = self.lstm(self.embed(x))\n        return self.fc(self.drop(out).view(-1, 32))')), 'Net');
    const view = defined(m.layers.find((l) => l.kind === 'reshape' || l.kind === 'flatten'));
    expect(view.kind === 'reshape' ? view.reshape.op : view.kind).toBe('view');
  });

  it('stays a flatten on a conv map (the twin)', async () => {
    const m = model(await extractTorchFrom(VIEW_AFTER.replace('BODY', 'x = F.relu(self.conv(x))\n        return self.fc(x.view(-1, 32))')), 'Net');
    expect(m.layers.some((l) => l.kind === 'flatten')).toBe(true);
  });
});

const NO_GRAD = `import torch
from torch import nn

class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        WITH
            features = self.trunk(x)
        return self.head(features)
`;

describe('with torch.no_grad() in forward', () => {
  it.each(['with torch.no_grad():', 'with torch.set_grad_enabled(False):'])('freezes the layers applied under %s', async (w) => {
    const m = model(await extractTorchFrom(NO_GRAD.replace('WITH', w)), 'Probe');
    expect(frozen(m)).toEqual(['trunk.0', 'trunk.1']);
  });

  it('leaves them trained under another context manager or set_grad_enabled(True) (the twins)', async () => {
    expect(frozen(model(await extractTorchFrom(NO_GRAD.replace('WITH', 'with torch.set_grad_enabled(True):')), 'Probe'))).toEqual([]);
    expect(frozen(model(await extractTorchFrom(NO_GRAD.replace('WITH', 'with torch.autocast("cpu"):')), 'Probe'))).toEqual([]);
  });

  it('marks the layers under it as stopping the gradient, and freezes a layer that feeds only them', async () => {
    const m = model(await extractTorchFrom(UPSTREAM.replace('SIDE', 'self.side(x)')), 'Upstream');
    expect(m.layers.filter((l) => l.noGrad).map((l) => l.name)).toEqual(['block.0', 'block.1']);
    expect(frozen(m)).toEqual(['embed', 'block.0', 'block.1']);
  });

  it('trains a module applied under it and again outside it, whose no_grad application still stops the gradient', async () => {
    const m = model(await extractTorchFrom(HALF_FROZEN), 'HalfFrozen');
    const weighted = m.layers.filter((l) => l.kind === 'dense');
    expect(weighted.map((l) => `${l.name}${l.noGrad ? ' no_grad' : ''}${l.frozen ? ' frozen' : ''}${l.sharesWeightsWith ? ' shared' : ''}`)).toEqual(['trunk.0 no_grad', 'trunk.0 shared', 'head']);
  });

  it('trains a layer that also feeds a trained branch (the twin)', async () => {
    const m = model(await extractTorchFrom(UPSTREAM.replace('SIDE', 'self.side(h)')), 'Upstream');
    expect(frozen(m)).toEqual(['block.0', 'block.1']);
  });
});

const UPSTREAM = `import torch
from torch import nn

class Upstream(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 16)
        self.block = nn.Sequential(nn.Linear(16, 32), nn.Tanh())
        self.side = nn.Linear(16, 32)
        self.head = nn.Linear(64, 4)

    def forward(self, x):
        h = torch.tanh(self.embed(x))
        with torch.no_grad():
            z = self.block(h)
        return self.head(torch.cat([z, torch.tanh(SIDE)], dim=1))
`;

const HALF_FROZEN = `import torch
from torch import nn

class HalfFrozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(24, 16), nn.Tanh())
        self.head = nn.Linear(32, 2)

    def forward(self, anchor, other):
        with torch.no_grad():
            target = self.trunk(anchor)
        return self.head(torch.cat([target, self.trunk(other)], dim=1))
`;

/** A GPT-2 block as minGPT writes it: a GELU module whose forward is the tanh formula, and the MLP's forward a lambda made in __init__. */
const GPT_BLOCK = `import math
import torch
import torch.nn as nn


class NewGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Block(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.ln = nn.LayerNorm(n_embd)
        self.mlp = nn.ModuleDict(dict(
            c_fc=nn.Linear(n_embd, 4 * n_embd),
            c_proj=nn.Linear(4 * n_embd, n_embd),
            act=ACT,
            dropout=nn.Dropout(0.1),
        ))
        m = self.mlp
        self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))

    def forward(self, x):
        return x + self.mlpf(self.ln(x))


block = Block(64)
`;

describe('a GPT-2 block written by hand', () => {
  it('reads the GELU formula as gelu and runs the lambda with the names of __init__', async () => {
    const m = model(await extractTorchFrom(GPT_BLOCK.replace('ACT', 'NewGELU()')), 'Block');
    expect(m.layers.map((l) => l.kind)).toEqual(['input', 'layernorm', 'dense', 'activation', 'dense', 'dropout', 'add']);
    expect(activations(m)).toEqual(['gelu']);
    // A first LayerNorm(64) normalizes the last dimension: the input has 64 features.
    expect(m.inputShape).toEqual([64]);
  });

  it('reads a formula that is no catalog activation as an unknown step, not as gelu', async () => {
    const cubic = GPT_BLOCK.replace('0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))', 'x + 0.1 * torch.pow(x, 3.0)');
    const m = model(await extractTorchFrom(cubic.replace('ACT', 'NewGELU()')), 'Block');
    expect(activations(m)).toEqual([]);
    expect(m.layers.map((l) => l.kind)).toContain('unknown');
  });

  it('reads nn.GELU() in the same place alike', async () => {
    const m = model(await extractTorchFrom(GPT_BLOCK.replace('ACT', 'nn.GELU()')), 'Block');
    expect(activations(m)).toEqual(['gelu']);
  });
});
