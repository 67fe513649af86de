/** Initializers: nn.init calls, in-place tensor methods, apply() functions and module loops. */
import { describe, expect, it } from 'vitest';
import type { InitializerIR, LayerIR } from '../../../src/shared/ir';
import { extractFixture, extractTorchFrom, fixture, lineOf, model } from './torch-fixture';
import { defined } from '../../defined';

/** The single model of a snippet whose layers are created in __init__ of `Net`. */
async function layersOf(init: string, forward = 'return self.fc2(torch.relu(self.fc1(x)))'): Promise<LayerIR[]> {
  const text = `
import math
import torch
import torch.nn as nn
from torch.nn import init

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(100, 50)
        self.fc2 = nn.Linear(50, 10)
${init
  .trim()
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}

    def forward(self, x):
        ${forward}
`;
  const models = await extractTorchFrom(text);
  return model(models, 'Net').layers.filter((l) => l.kind === 'dense');
}

const pick = (i: InitializerIR | null) => (i ? { name: i.name, params: i.params, options: i.options, explicit: i.explicit } : null);

describe('torch initializers: nn.init spellings', () => {
  it.each([
    ["nn.init.kaiming_normal_(self.fc1.weight, nonlinearity='relu')", 'kaiming_normal', { a: 0 }, { mode: 'fan_in', nonlinearity: 'relu' }],
    ["nn.init.kaiming_uniform_(self.fc1.weight, a=0.2, mode='fan_out')", 'kaiming_uniform', { a: 0.2 }, { mode: 'fan_out', nonlinearity: 'leaky_relu' }],
    ['nn.init.xavier_uniform_(self.fc1.weight)', 'xavier_uniform', { gain: 1 }, {}],
    ["nn.init.xavier_normal_(self.fc1.weight, gain=nn.init.calculate_gain('tanh'))", 'xavier_normal', { gain: 5 / 3 }, {}],
    ["nn.init.xavier_uniform_(self.fc1.weight, gain=init.calculate_gain('leaky_relu', 0.2))", 'xavier_uniform', { gain: Math.sqrt(2 / 1.04) }, {}],
    ['torch.nn.init.normal_(self.fc1.weight, 0, 1)', 'random_normal', { mean: 0, std: 1 }, {}],
    ['init.normal_(self.fc1.weight, std=0.01)', 'random_normal', { mean: 0, std: 0.01 }, {}],
    ['nn.init.uniform_(self.fc1.weight, a=-1, b=1)', 'random_uniform', { a: -1, b: 1 }, {}],
    ['nn.init.uniform_(self.fc1.weight, -1 / math.sqrt(100), 1 / math.sqrt(100))', 'random_uniform', { a: -0.1, b: 0.1 }, {}],
    ['nn.init.trunc_normal_(self.fc1.weight, std=0.02)', 'truncated_normal', { mean: 0, std: 0.02, a: -2, b: 2 }, {}],
    ['nn.init.constant_(self.fc1.weight, 0.5)', 'constant', { value: 0.5 }, {}],
    ['nn.init.zeros_(self.fc1.weight)', 'zeros', {}, {}],
    ['nn.init.ones_(self.fc1.weight)', 'ones', {}, {}],
    ['nn.init.orthogonal_(self.fc1.weight, gain=math.sqrt(2))', 'orthogonal', { gain: Math.SQRT2 }, {}],
    ['nn.init.eye_(self.fc1.weight)', 'identity', {}, {}],
    ['nn.init.xavier_uniform(self.fc1.weight)', 'xavier_uniform', { gain: 1 }, {}],
    ['self.fc1.weight.data.normal_(0, 0.01)', 'random_normal', { mean: 0, std: 0.01 }, {}],
    ['self.fc1.weight.data.uniform_(-0.08, 0.08)', 'random_uniform', { a: -0.08, b: 0.08 }, {}],
    ['self.fc1.weight.data.fill_(0)', 'constant', { value: 0 }, {}],
    ['self.fc1.weight.data.zero_()', 'zeros', {}, {}],
  ])('%s', async (call, name, params, options) => {
    const [fc1, fc2] = await layersOf(call);
    expect(pick(defined(fc1).kernelInit)).toEqual({ name, params, options, explicit: true });
    expect(defined(defined(fc1).kernelInit).spelling).toBe(call);
    expect(defined(defined(fc1).kernelInit).framework).toBe('torch');
    // Only the layer the call names changes.
    expect(defined(defined(fc2).kernelInit).explicit).toBe(false);
    expect(defined(defined(fc1).biasInit).explicit).toBe(false);
  });

  it('writes bias calls to the bias, and keeps the range of the call', async () => {
    const [fc1] = await layersOf('nn.init.constant_(self.fc1.bias, 0.01)');
    expect(pick(defined(fc1).biasInit)).toEqual({ name: 'constant', params: { value: 0.01 }, options: {}, explicit: true });
    expect(defined(defined(fc1).kernelInit).explicit).toBe(false);
    expect(defined(defined(fc1).biasInit).range).toMatchObject({ start: { line: 11, character: 8 }, end: { line: 11, character: 8 + 'nn.init.constant_(self.fc1.bias, 0.01)'.length } });
  });

  it('reads in-place writes under torch.no_grad()', async () => {
    const [fc1] = await layersOf(`
with torch.no_grad():
    self.fc1.weight.fill_(0)
    self.fc1.bias.zero_()`);
    expect(pick(defined(fc1).kernelInit)).toMatchObject({ name: 'constant', params: { value: 0 } });
    expect(defined(defined(fc1).biasInit).name).toBe('zeros');
  });

  it('the last write wins, in execution order', async () => {
    const [fc1] = await layersOf(`
nn.init.zeros_(self.fc1.weight)
nn.init.xavier_uniform_(self.fc1.weight)`);
    expect(defined(defined(fc1).kernelInit).name).toBe('xavier_uniform');
  });

  it('leaves a parameter it cannot compute out of params instead of guessing it', async () => {
    const [fc1] = await layersOf('nn.init.normal_(self.fc1.weight, 0, self.sigma)');
    expect(defined(fc1).kernelInit).toMatchObject({ name: 'random_normal', params: { mean: 0 } });
    expect(defined(defined(fc1).kernelInit).params.std).toBeUndefined();
  });
});

describe('torch initializers: filters in apply() functions and module loops', () => {
  it('honours isinstance filters with tuples and type(m) == checks', async () => {
    const layers = await layersOf(
      `
self.bn = nn.BatchNorm1d(50)
for m in self.modules():
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_uniform_(m.weight, nonlinearity='relu')
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif type(m) == nn.BatchNorm1d:
        m.weight.data.fill_(1)`,
      'return self.fc2(torch.relu(self.bn(self.fc1(x))))',
    );
    expect(layers.map((l) => pick(l.kernelInit)?.name)).toEqual(['kaiming_uniform', 'kaiming_uniform']);
    expect(layers.map((l) => l.biasInit?.name)).toEqual(['zeros', 'zeros']);
  });

  it('walks the containers in modules() and named_modules() as torch does: each block and Sequential, by its path', async () => {
    const models = await extractTorchFrom(`
import torch.nn as nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.fc(x))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(), Block(), Block())
        for name, m in self.named_modules():
            if name == 'blocks.1':
                nn.init.zeros_(m.bn.weight)
        for m in self.modules():
            if isinstance(m, nn.Sequential):
                nn.init.ones_(m[2].bn.bias)

    def forward(self, x):
        return self.blocks(x)

net = Net()
`);
    const net = defined(models.find((m) => m.name === 'Net'), 'Net');
    const bn = (path: string) => defined(net.layers.find((l) => l.name === path), path);
    expect(bn('blocks.1.bn').kernelInit?.name).toBe('zeros');
    expect(bn('blocks.0.bn').kernelInit?.name).not.toBe('zeros');
    expect(bn('blocks.2.bn').biasInit?.name).toBe('ones');
    expect(bn('blocks.1.bn').biasInit?.name).not.toBe('ones');
  });

  it('skips bias writes for layers built with bias=False', async () => {
    const [m] = await extractTorchFrom(`
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)
        if m.bias is not None:
            nn.init.constant_(m.bias, 0.1)

model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Tanh(), nn.Linear(4, 2))
model.apply(init_weights)
`);
    expect(defined(m).layers[0]).toMatchObject({ useBias: false, biasInit: null });
    expect(defined(defined(m).layers[0]!.kernelInit).name).toBe('xavier_normal');
    expect(pick(defined(m).layers[2]!.biasInit)).toMatchObject({ name: 'constant', params: { value: 0.1 } });
  });

  it('initializes every weight matrix of `for p in model.parameters(): if p.dim() > 1` (Annotated Transformer)', async () => {
    const models = await extractFixture('transformer_clones.py');
    const enc = model(models, 'Encoder');
    const dense = enc.layers.filter((l) => l.kind === 'dense');
    expect(dense).toHaveLength(4);
    expect(dense.every((l) => l.kernelInit?.name === 'xavier_uniform' && l.kernelInit.explicit)).toBe(true);
    // Biases and LayerNorm scales are 1-D: untouched.
    expect(dense.every((l) => l.biasInit?.explicit === false)).toBe(true);
    expect(enc.layers.filter((l) => l.kind === 'layernorm').every((l) => l.kernelInit?.name === 'ones' && !l.kernelInit.explicit)).toBe(true);
    // copy.deepcopy clones have their own slots, one per unrolled copy.
    expect(dense.map((l) => l.unrolled)).toEqual([
      { index: 0, count: 2 },
      { index: 0, count: 2 },
      { index: 1, count: 2 },
      { index: 1, count: 2 },
    ]);
    expect(enc.unsupported).toEqual([]);
    // The loop reaches nn.MultiheadAttention's projection matrices too; its 1-D biases keep torch's zeros.
    const attention = enc.layers.filter((l) => l.kind === 'attention');
    expect(attention.map((l) => [l.name, l.kernelInit?.name, l.kernelInit?.explicit, l.biasInit?.name, l.biasInit?.explicit])).toEqual([
      ['layers.0.self_attn', 'xavier_uniform', true, 'zeros', false],
      ['layers.1.self_attn', 'xavier_uniform', true, 'zeros', false],
    ]);
    // attn_mask=mask with mask=None: no mask, so not causal.
    expect(attention.every((l) => !l.attention.causal)).toBe(true);
  });

  it('computes LeCun-style std from layer sizes in a modules() loop (SNN)', async () => {
    const text = fixture('selu_net.py');
    const snn = model(await extractFixture('selu_net.py'), 'SNN');
    const dense = snn.layers.filter((l) => l.kind === 'dense');
    expect(dense.map((l) => defined(l.kernelInit).params.std)).toEqual([0.1, 1 / Math.sqrt(512), 1 / Math.sqrt(512), 1 / Math.sqrt(512), 1 / Math.sqrt(512)]);
    expect(defined(defined(dense[0]!.kernelInit).range).start.line + 1).toBe(lineOf(text, 'nn.init.normal_(m.weight, 0, 1 / math.sqrt(m.in_features))'));
    expect(snn.layers.filter((l) => l.kind === 'alpha-dropout')).toHaveLength(4);
  });

  it('applies self.apply(self._init_weights) and a module-level model.apply(fn)', async () => {
    const models = await extractFixture('deep_sigmoid.py');
    const deep = model(models, 'DeepSigmoidNet');
    expect(deep.layers.filter((l) => l.kind === 'dense').every((l) => l.kernelInit?.name === 'random_normal' && l.kernelInit.params.std === 1 && l.biasInit?.name === 'zeros')).toBe(true);
    const tanh = model(models, 'TanhStack');
    expect(tanh.layers.filter((l) => l.kind === 'dense').map((l) => pick(l.kernelInit))).toEqual(
      Array(5).fill({ name: 'random_uniform', params: { a: -1, b: 1 }, options: {}, explicit: true }),
    );
    expect(tanh.layers[0]!.biasInit).toMatchObject({ name: 'constant', params: { value: 0.01 } });
  });

  it('reads the DCGAN-style classname.find filter with direct .data writes', async () => {
    const [m] = await extractTorchFrom(`
import math
import torch.nn as nn

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
        m.weight.data.normal_(0, math.sqrt(2. / n))
    elif 'BatchNorm' in classname:
        m.weight.data.fill_(1)
        m.bias.data.zero_()

net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
net.apply(weights_init)
`);
    expect(pick(defined(m).layers[0]!.kernelInit)).toEqual({ name: 'random_normal', params: { mean: 0, std: Math.sqrt(2 / 72) }, options: {}, explicit: true });
    expect(defined(defined(m).layers[0]!.biasInit).explicit).toBe(false);
    expect(pick(defined(m).layers[1]!.kernelInit)).toMatchObject({ name: 'constant', params: { value: 1 } });
    expect(defined(defined(m).layers[1]!.biasInit).name).toBe('zeros');
  });
});
