/**
 * What a torch forward reads besides its first argument: each other required argument is an input of
 * its own (an Input layer placed just before the layer that first reads it), noise drawn in forward
 * (the reparameterisation's randn_like) is an input marked as noise, and the elementwise steps around
 * it (torch.exp, a constant factor, torch.cat's dim) are modelled. Each with a clean twin.
 */
import { describe, expect, it } from 'vitest';
import { extractTorchFrom, kinds, model } from './torch-fixture';
import { defined } from '../../defined';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';
import { isNoiseInput } from '../../../src/shared/layers';

const byId = (m: ModelIR, id: string): LayerIR => defined(m.layers.find((l) => l.id === id));

const CONDITIONAL = `import torch
from torch import nn

class Generator(nn.Module):
    def __init__(self, n_classes=10, latent_dim=16):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, latent_dim)
        self.l1 = nn.Linear(latent_dim, 32)

    def forward(self, noise, labels):
        gen_input = torch.mul(self.label_emb(labels), noise)
        return self.l1(gen_input)
`;

const VAE = `import torch
from torch import nn

class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(48, 32)
        self.mu = nn.Linear(32, 8)
        self.log_var = nn.Linear(32, 8)
        self.dec = nn.Linear(8, 48)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        mu, log_var = self.mu(h), self.log_var(h)
        std = torch.exp(log_var / 2)
        eps = torch.randn_like(std)
        return self.dec(mu + eps * std)
`;

describe('torch forward arguments after the first', () => {
  it('makes each required argument an input, listed just before the layer that reads it first', async () => {
    const gen = model(await extractTorchFrom(CONDITIONAL), 'Generator');
    expect(kinds(gen)).toEqual(['input', 'input', 'embedding', 'multiply', 'dense']);
    const [main, labels, embedding, product] = gen.layers;
    expect(gen.isGraph).toBe(true);
    expect(labels).toMatchObject({ kind: 'input', name: 'labels', inputs: [] });
    expect(defined(labels).range.start.line + 1).toBe(10);
    expect(isNoiseInput(defined(labels))).toBe(false);
    expect(embedding?.inputs).toEqual([defined(labels).id]);
    expect(defined(product).inputs.sort()).toEqual([defined(embedding).id, defined(main).id].sort());
  });

  it('keeps an optional argument (mask=None) unknown, and a one-argument forward a chain (clean twin)', async () => {
    const single = CONDITIONAL.replace('def forward(self, noise, labels):', 'def forward(self, noise, labels=None):');
    const gen = model(await extractTorchFrom(single), 'Generator');
    expect(gen.layers.filter((l) => l.kind === 'input').map((l) => l.name)).not.toContain('labels');
    expect(gen.layers.filter((l) => l.kind === 'input' && l.inputs.length === 0).length).toBeLessThanOrEqual(1);
    const chain = model(await extractTorchFrom(CONDITIONAL.replace('torch.mul(self.label_emb(labels), noise)', 'noise')), 'Generator');
    expect(kinds(chain)).toEqual(['dense']);
    expect(chain.isGraph).toBe(false);
  });
});

describe('noise drawn in forward', () => {
  it('reads the reparameterisation as exp, a scaled input, a product with a noise input and a sum', async () => {
    const vae = model(await extractTorchFrom(VAE), 'VAE');
    expect(kinds(vae)).toEqual(['input', 'dense', 'activation:relu', 'dense', 'dense', 'rescaling', 'activation:exponential', 'input', 'multiply', 'add', 'dense']);
    const halved = defined(vae.layers.find((l) => l.kind === 'rescaling'));
    expect(halved).toMatchObject({ scale: 0.5, offset: 0 });
    const noise = defined(vae.layers.find((l) => l.kind === 'input' && l.inputs.length === 0 && l.id !== 'L0'));
    expect(isNoiseInput(noise)).toBe(true);
    const product = defined(vae.layers.find((l) => l.kind === 'multiply'));
    expect(product.inputs.map((id) => byId(vae, id).kind).sort()).toEqual(['activation', 'input']);
    const sum = defined(vae.layers.find((l) => l.kind === 'add'));
    expect(sum.inputs.map((id) => byId(vae, id).name).sort()).toEqual(['mu', 'multiply']);
  });

  it('draws no input for a constant made like a tensor (zeros_like), and scales nothing by 1 (clean twin)', async () => {
    const text = VAE.replace('torch.randn_like(std)', 'torch.zeros_like(std)').replace('log_var / 2', 'log_var / 1');
    const vae = model(await extractTorchFrom(text), 'VAE');
    expect(vae.layers.filter((l) => l.kind === 'input')).toEqual([]);
    expect(vae.isGraph).toBe(true); // a constant times std passes std through, so the sum still joins both heads
    expect(kinds(vae)).not.toContain('multiply');
    expect(kinds(vae)).not.toContain('rescaling');
  });

  it('leaves the model input unscaled by x / 255 (the probe feeds standardized values)', async () => {
    const text = VAE.replace('h = torch.relu(self.fc1(x))', 'h = torch.relu(self.fc1(x / 255.0))');
    const vae = model(await extractTorchFrom(text), 'VAE');
    expect(vae.layers.filter((l) => l.kind === 'rescaling')).toHaveLength(1);
  });
});

describe('torch.cat', () => {
  const join = (call: string) => `import torch
from torch import nn

class Join(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 3, padding=1)
        self.c = nn.Conv2d(8, 2, 3, padding=1)

    def forward(self, x):
        return self.c(${call})
`;
  it.each([
    ['torch.cat((self.a(x), self.b(x)), 1)', 1],
    ['torch.cat([self.a(x), self.b(x)], dim=-1)', -1],
    ['torch.cat((self.a(x), self.b(x)))', 0],
  ])('reads the joined axis of %s', async (call, axis) => {
    const m = model(await extractTorchFrom(join(call)), 'Join');
    const concat = defined(m.layers.find((l) => l.kind === 'concat'));
    expect(concat.kind === 'concat' && concat.merge.axis).toBe(axis);
  });
});
