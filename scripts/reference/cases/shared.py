"""Reference cases for shared weights (issue 11): a module object applied more than once holds one set
of parameters, whose gradient is the sum over its applications. PyTorch sums it by autograd; the probe
must measure that sum in one row per module (the forward pre-hook of torch_profiles.py records each
module once, at its first call). A siamese MLP whose trunk embeds both inputs (each Linear of the trunk
applied twice, on independent inputs); one residual-free tanh block applied four times in depth (the
same weights at every depth, whose contributions are correlated); and a siamese trunk whose two
embeddings are concatenated (both branches reach the head by different weights)."""

CASES = [
    {
        "name": "siamese MLP: one nn.Sequential trunk called on two inputs, |a - b| into a Linear head",
        "model": "Siamese",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}, {"shape": [32]}],
        "source": """import torch
from torch import nn


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 16))
        self.head = nn.Linear(16, 1)

    def forward(self, a, b):
        ea = self.trunk(a)
        eb = self.trunk(b)
        return self.head(torch.abs(ea - eb))
""",
    },
    {
        "name": "one tanh block applied four times in depth (an RNN-like reuse: every depth's gradient lands on one weight)",
        "model": "Tied",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "source": """import torch
from torch import nn


class Tied(nn.Module):
    def __init__(self, steps=4):
        super().__init__()
        self.steps = steps
        self.inp = nn.Linear(32, 32)
        self.block = nn.Linear(32, 32)
        self.out = nn.Linear(32, 4)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        for _ in range(self.steps):
            h = torch.tanh(self.block(h))
        return self.out(h)
""",
    },
    {
        "name": "siamese trunk with concatenated embeddings: a ReLU trunk called twice, torch.cat into the head",
        "model": "Concat",
        "layout": "channels_last",
        "inputs": [{"shape": [24]}, {"shape": [24]}],
        "source": """import torch
from torch import nn


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(24, 48), nn.ReLU(), nn.Linear(48, 32), nn.ReLU())
        self.head = nn.Linear(64, 2)

    def forward(self, a, b):
        return self.head(torch.cat([self.trunk(a), self.trunk(b)], dim=1))
""",
    },
]
