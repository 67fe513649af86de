/**
 * Constructs of real torch forwards the probe used to refuse (issue 11, session 6), each with a clean
 * twin: an elementwise |x| (torch.abs / x.abs()) and a difference of two tensors, which is not a sum.
 */
import { describe, expect, it } from 'vitest';
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

  it('keeps a + b a sum (the twin)', async () => {
    const m = model(await extractTorchFrom(DISTANCE.replace('OP', '+')), 'Distance');
    expect(merges(m)).toEqual(['add']);
  });
});
