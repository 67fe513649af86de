/**
 * Scaling plans the model once per candidate image size: a network still over the budget at a 1x1
 * image was planned again at 1x1 for every doubling of the scale factor until it overflowed (~1,000
 * plans; seconds before the first step of a ResNet-152). Counted through the planner module.
 */
import { describe, expect, it, vi } from 'vitest';
import { ProbeFailure } from '../../src/probe/errors';
import { planWithinBudget } from '../../src/probe/scale';
import { probeOptions } from '../../src/shared/probe';
import { defined } from '../defined';
import { analyzeText } from '../unit/project-helper';

const calls = vi.hoisted(() => ({ plans: 0 }));

vi.mock('../../src/probe/plan', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/probe/plan')>();
  return {
    ...original,
    planModel: (...args: Parameters<typeof original.planModel>) => {
      calls.plans++;
      return original.planModel(...args);
    },
  };
});

const convNet = `
import torch
from torch import nn

class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.features(x)), 1))

net = Trunk()
out = net(torch.randn(32, 3, 64, 64))
`;

async function scaledWith(maxStepMacs: number) {
  const model = defined((await analyzeText(convNet, '/w/trunk.py')).models[0]);
  calls.plans = 0;
  const result = planWithinBudget(model, probeOptions({ budget: { maxStepMacs } }));
  return { result, plans: calls.plans };
}

describe('scaling to the budget', () => {
  it('a network over the budget at the smallest faithful image is refused after one plan per image size', async () => {
    const model = defined((await analyzeText(convNet, '/w/trunk.py')).models[0]);
    calls.plans = 0;
    let failure: unknown = null;
    try {
      planWithinBudget(model, probeOptions({ budget: { maxStepMacs: 1 } }));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ProbeFailure);
    expect((failure as ProbeFailure).kind).toBe('budget');
    // Down to 4x4 (its 3x3 kernels still whole), refused at 2x2: the smallest size is named.
    expect((failure as ProbeFailure).message).toMatch(/at input 4x4x3 and batch 1,.*at 2x2x3, nn\.Conv2d 'features\.0' \(line \d+\)'s window of 3 would see an input side of 2/);
    // 64 -> 32 -> 16 -> 8 -> 4 -> 2, and the first plan: a handful, not one per doubling until overflow.
    expect(calls.plans).toBeLessThan(20);
  });

  it('a network that fits at a smaller image stops there', async () => {
    const { result, plans } = await scaledWith(2e8);
    expect(result.plan.inputShape[0]).toBeGreaterThan(1);
    expect(result.plan.inputShape[0]).toBeLessThan(64);
    expect(plans).toBeLessThan(20);
  });
});
