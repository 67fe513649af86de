/**
 * Scaling a model to the probe's budget keeps BatchNorm meaningful: every BatchNorm still normalizes
 * each channel over at least 12 values (batch x positions). At 2 values its outputs are +-1 whatever
 * its input and no gradient passes back (a ResNet-152 trunk scaled to a 1x1 image at batch 2 showed
 * NaN everywhere); a network without BatchNorm may shrink further.
 */
import { describe, expect, it } from 'vitest';
import { planWithinBudget } from '../../src/probe/scale';
import { size } from '../../src/probe/plan';
import { probeOptions } from '../../src/shared/probe';
import { defined } from '../defined';
import { analyzeText } from '../unit/project-helper';

const convNet = (norm: boolean) => `
import torch
from torch import nn

class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        channels = 3
        for width in [256, 256, 512, 512]:
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1)]
            ${norm ? 'layers += [nn.BatchNorm2d(width)]' : 'pass'}
            layers += [nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(512, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.features(x)), 1))

net = Trunk()
out = net(torch.randn(32, 3, 128, 128))
`;

async function scaled(text: string) {
  const model = defined((await analyzeText(text, '/w/trunk.py')).models[0]);
  // A tight step budget forces both a smaller batch and a smaller image.
  return planWithinBudget(model, probeOptions({ budget: { maxStepMs: 20 } }));
}

const fewestNormValues = (plan: Awaited<ReturnType<typeof scaled>>) =>
  Math.min(...plan.plan.layers.filter((l) => l.ir.kind === 'batchnorm').map((l) => size(l.outShape.slice(0, -1)) * plan.batchSize));

describe('scaling keeps BatchNorm statistics meaningful', () => {
  it('a BatchNorm conv net is scaled, but every BatchNorm still sees >= 12 values per channel', async () => {
    const result = await scaled(convNet(true));
    expect(result.plan.inputShape[0]).toBeLessThan(128);
    expect(fewestNormValues(result)).toBeGreaterThanOrEqual(12);
  });

  it('its twin without BatchNorm may shrink further', async () => {
    const withNorm = await scaled(convNet(true));
    const without = await scaled(convNet(false));
    expect(size(without.plan.inputShape) * without.batchSize).toBeLessThan(size(withNorm.plan.inputShape) * withNorm.batchSize);
  });
});
