"""Reference cases for layers the probe built before the reference harness existed."""

CASES = [
    {
        "name": "deep tanh MLP (nn.Sequential, torch defaults)",
        "model": "model",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "source": """import torch
from torch import nn

model = nn.Sequential(
    nn.Linear(32, 64), nn.Tanh(),
    nn.Linear(64, 64), nn.Tanh(),
    nn.Linear(64, 64), nn.Tanh(),
    nn.Linear(64, 64), nn.Tanh(),
    nn.Linear(64, 64), nn.Tanh(),
    nn.Linear(64, 8),
)
""",
    },
    {
        "name": "CNN with BatchNorm, ReLU, max pooling",
        "model": "SmallCnn",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 12, 12]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc(x)
""",
    },
    {
        "name": "two-layer LSTM read at the last step",
        "model": "Tagger",
        "layout": "channels_last",
        "inputs": [{"shape": [12, 8]}],
        "source": """import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])
""",
    },
    {
        "name": "Embedding + GRU language model head",
        "model": "CharGru",
        "layout": "channels_last",
        "inputs": [{"shape": [10], "tokens": 30}],
        "source": """import torch
from torch import nn


class CharGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16)
        self.gru = nn.GRU(16, 24, batch_first=True)
        self.out = nn.Linear(24, 30)

    def forward(self, x):
        h, _ = self.gru(self.embed(x))
        return self.out(h)
""",
    },
]
