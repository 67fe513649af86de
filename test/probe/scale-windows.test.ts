/**
 * Scaling never cuts a convolution's or pooling's window: at a 1x1 image a ResNet-50's 3x3
 * convolutions read their centre tap only and PyTorch's own first/last-hidden gradient ratio grows
 * from ~400 (224x224 and 32x32) to ~2,400, so a probe there measures another model. Padding layers
 * in front of a 'valid' convolution (Keras ResNet50V2) add no data: the window must fit the content.
 */
import { describe, expect, it } from 'vitest';
import type { PlannedLayer } from '../../src/probe/plan';
import { planWithinBudget } from '../../src/probe/scale';
import { probeOptions } from '../../src/shared/probe';
import { defined } from '../defined';
import { analyzeText } from '../unit/project-helper';

const torchTrunk = `
import torch
from torch import nn

class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        channels = 3
        for width in [64, 64, 128, 128]:
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.features(x)), 1))

net = Trunk()
out = net(torch.randn(32, 3, 128, 128))
`;

const kerasPadded = `
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.ZeroPadding2D(3)(inputs)
x = layers.Conv2D(32, 7, strides=2)(x)
x = layers.ZeroPadding2D(1)(x)
x = layers.Conv2D(64, 3, strides=2)(x)
x = layers.ZeroPadding2D(1)(x)
x = layers.Conv2D(64, 3)(x)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10)(x))
`;

async function scaled(text: string, path: string) {
  const model = defined((await analyzeText(text, path)).models[0]);
  // A tight step time forces the smallest image the rules allow.
  return planWithinBudget(model, probeOptions({ budget: { maxStepMs: 1 } }));
}

const convs = (layers: PlannedLayer[]) => layers.filter((l) => l.ir.kind === 'conv2d');

describe('scaling keeps every window whole', () => {
  it("a strided BatchNorm trunk shrinks only until its last 3x3 convolution's input is 3 wide", async () => {
    const { plan } = await scaled(torchTrunk, '/w/trunk.py');
    // 128 -> 64 -> 32 -> 16 at the last convolution's input: 24 would give 3 there, 16 gives 2.
    expect(plan.inputShape[0]).toBeLessThan(128);
    expect(Math.min(...convs(plan.layers).map((l) => l.inShapes[0]![0]!))).toBeGreaterThanOrEqual(3);
    expect(plan.notices.map((n) => n.message).join('\n')).toMatch(/input 128x128x3 -> 32x32x3/);
  });

  it("a padded 'valid' convolution counts the padding layer's input, not its padded output", async () => {
    const { plan } = await scaled(kerasPadded, '/w/padded.py');
    const padded = plan.layers.filter((l) => l.ir.kind === 'reshape');
    const windows = [7, 3, 3];
    expect(padded.map((l) => l.inShapes[0]![0]!).every((side, i) => side >= windows[i]!)).toBe(true);
    expect(plan.inputShape[0]).toBeLessThan(64);
  });
});

const torchPatches = (table: boolean) => `
import torch
from torch import nn

class TinyViT(nn.Module):
    def __init__(self, image=64, patch=16, dim=32):
        super().__init__()
        self.patches = nn.Conv2d(3, dim, patch, stride=patch)
        ${table ? 'self.pos = nn.Parameter(torch.zeros(1, (image // patch) ** 2, dim))' : 'self.pos = None'}
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        tokens = self.patches(x).flatten(2).transpose(1, 2)
        ${table ? 'tokens = tokens + self.pos' : ''}
        out, _ = self.attn(tokens, tokens, tokens)
        return self.head(out.mean(dim=1))
`;

/** The ViT at the 64x64 image its table is sized for, over a tight step time. */
async function scaledPatches(table: boolean) {
  const model = defined((await analyzeText(torchPatches(table), '/w/vit.py')).models[0]);
  return planWithinBudget(model, probeOptions({ inputShape: [64, 64, 3], budget: { maxStepMs: 1 } }));
}

describe("scaling keeps a ViT's patches", () => {
  it('an image whose patches a positional table counts keeps its size; only the batch shrinks', async () => {
    const { plan, batchSize } = await scaledPatches(true);
    expect(plan.inputShape).toEqual([64, 64, 3]);
    expect(defined(plan.layers.find((l) => l.ir.kind === 'position-embedding')).outShape).toEqual([16, 32]);
    expect(batchSize).toBeLessThan(32);
  });

  it('the same patches without a table (the twin) shrink as before', async () => {
    const { plan } = await scaledPatches(false);
    expect(plan.inputShape[0]).toBeLessThan(64);
  });
});

describe('a model over the time budget with nothing left to scale', () => {
  it('says so, with its cost, instead of an empty list of changes', async () => {
    // Flatten -> Dense fixes the image side; at batch 1 there is nothing to make smaller.
    const text = `from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([keras.Input((64, 64, 3))]
                         + [layers.Conv2D(128, 3, padding="same", activation="relu") for _ in range(6)]
                         + [layers.Flatten(), layers.Dense(10, activation="softmax")])
`;
    const model = defined((await analyzeText(text, '/project/slow.py')).models[0]);
    const { plan, batchSize } = planWithinBudget(model, probeOptions({ batchSize: 1 }));
    expect(batchSize).toBe(1);
    const messages = plan.notices.map((n) => n.message);
    expect(messages).toContainEqual(expect.stringMatching(/^Over the probe's time budget per step, with nothing left to scale \(batch 1, input 64x64x3\): about [\d,]+ M multiply-adds per step, estimated at [\d.]+ s on the wasm backend\.$/));
    expect(messages.some((m) => m.includes('Scaled to'))).toBe(false);
  });
});
