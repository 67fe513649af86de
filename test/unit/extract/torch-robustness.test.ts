/** Bad or hostile input: the extractor stays bounded and never throws. */
import { describe, expect, it } from 'vitest';
import { extractTorchFrom, kinds } from './torch-fixture';
import { defined } from '../../defined';

describe('torch extractor robustness', () => {
  it('stays bounded on nested constant loops and recursion', async () => {
    const models = await extractTorchFrom(`
import torch.nn as nn

def forever(n):
    return forever(n + 1)

class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        total = 0
        for i in range(250):
            for j in range(250):
                for k in range(250):
                    total += 1
        self.fc = nn.Linear(4, forever(1))
        self.inner = Loop()

    def forward(self, x):
        return self.fc(x)
`);
    expect(models.map((m) => m.name)).toEqual(['Loop']);
    expect(models[0]!.layers[0]).toMatchObject({ kind: 'dense', inFeatures: 4, units: null });
  });

  it('caps unrolling and keeps every layer of a long comprehension apart', async () => {
    const [m] = await extractTorchFrom('import torch.nn as nn\nm = nn.Sequential(*[nn.Linear(8, 8) for _ in range(200)])\n');
    expect(defined(m).layers).toHaveLength(200);
    expect(defined(m).layers[199]!.unrolled).toEqual({ index: 199, count: 200 });
  });

  it('handles Python 2 statements, half-written code and odd statements without throwing', async () => {
    const models = await extractTorchFrom(`
import torch.nn as nn

class Ok(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        del self.fc
        self.fc = nn.Linear(3, 3)
        global G
        assert True
        lambda: None

    def forward(self, x, *args, **kwargs):
        yield self.fc(x)

print "old style"

class Half(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3,
`);
    expect(models.map((m) => m.name)).toEqual(['Ok']);
    expect(kinds(models[0]!)).toEqual(['dense']);
  });
});
