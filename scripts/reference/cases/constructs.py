"""Reference cases for torch constructs of real forwards (issue 11, session 6): an elementwise |a - b|
of two branches (a siamese distance), ..."""

CASES = [
    {
        "name": "siamese distance: torch.abs of the difference of two branches, then a Linear and .abs()",
        "model": "Distance",
        "layout": "channels_last",
        "inputs": [{"shape": [16]}, {"shape": [16]}],
        "source": """import torch
from torch import nn


class Distance(nn.Module):
    def __init__(self, features=16, hidden=32):
        super().__init__()
        self.left = nn.Sequential(nn.Linear(features, hidden), nn.Sigmoid())
        self.right = nn.Sequential(nn.Linear(features, hidden), nn.Sigmoid())
        self.out = nn.Linear(hidden, 1)

    def forward(self, x1, x2):
        distance = torch.abs(self.left(x1) - self.right(x2))
        return self.out(distance).abs()
""",
    },
]
