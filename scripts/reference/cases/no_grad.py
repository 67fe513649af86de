"""Reference cases for torch.no_grad() inside forward (issue 11): the block's output has no grad_fn, so
no gradient flows back through it. A Linear that feeds both a no_grad block and a trained branch gets
its gradient from the trained branch only (a narrow one here: letting gradient through the wide
block would give it ~0.6 decades more); a Linear that feeds only the no_grad block gets none (left
out of the profile, as the probe freezes it)."""

CASES = [
    {
        "name": "no_grad block beside a trained branch: the Linear feeding both is trained through the branch only",
        "model": "Mixed",
        "layout": "channels_last",
        "inputs": [{"shape": [16]}],
        "source": """import torch
from torch import nn


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 32)
        self.block = nn.Sequential(nn.Linear(32, 64), nn.Tanh())
        self.side = nn.Linear(32, 4)
        self.head = nn.Linear(68, 4)

    def forward(self, x):
        h = torch.tanh(self.embed(x))
        with torch.no_grad():
            z = self.block(h)
        s = torch.tanh(self.side(h))
        return self.head(torch.cat([z, s], dim=1))
""",
    },
    {
        "name": "a Linear that feeds only a no_grad block gets no gradient (left out), the parallel branch trains",
        "model": "Upstream",
        "layout": "channels_last",
        "inputs": [{"shape": [16]}],
        "source": """import torch
from torch import nn


class Upstream(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 32)
        self.frozen_block = nn.Sequential(nn.Linear(32, 32), nn.Tanh())
        self.side = nn.Linear(16, 32)
        self.head = nn.Linear(64, 4)

    def forward(self, x):
        h = torch.tanh(self.embed(x))
        with torch.no_grad():
            z = self.frozen_block(h)
        s = torch.tanh(self.side(x))
        return self.head(torch.cat([z, s], dim=1))
""",
    },
]
CASES.append(
    {
        "name": "a siamese trunk applied once under no_grad and once outside: its weights train through the second branch only",
        "model": "HalfFrozen",
        "layout": "channels_last",
        "inputs": [{"shape": [24]}, {"shape": [24]}],
        "source": """import torch
from torch import nn


class HalfFrozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(24, 48), nn.Tanh(), nn.Linear(48, 16), nn.Tanh())
        self.head = nn.Linear(32, 2)

    def forward(self, anchor, other):
        with torch.no_grad():
            target = self.trunk(anchor)
        return self.head(torch.cat([target, self.trunk(other)], dim=1))
""",
    }
)
