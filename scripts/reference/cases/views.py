"""Reference cases for torch views (x.view / x.reshape) between layers: what the tensor becomes decides
which axis the next layer reads, so a wrong view shows in the profile."""

CASES = [
    {
        "name": "DCGAN generator: a Linear viewed as a 16-channel map, BatchNorm2d, upsampling, convs",
        "model": "Generator",
        "layout": "channels_last",
        "inputs": [{"shape": [16]}],
        "source": """import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim=16, init_size=3):
        super().__init__()
        self.init_size = init_size
        self.l1 = nn.Linear(latent_dim, 16 * init_size ** 2)
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(16),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(16, 8, 3, stride=1, padding=1),
            nn.BatchNorm2d(8),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8, 1, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        out = self.l1(z)
        out = out.view(out.shape[0], 16, self.init_size, self.init_size)
        return self.conv_blocks(out)
""",
    },
    {
        "name": "LSTM language model folding time into the batch before one Linear decodes every step",
        "model": "RNNLM",
        "layout": "channels_last",
        "inputs": [{"shape": [12], "tokens": 50}],
        "source": """import torch
from torch import nn


class RNNLM(nn.Module):
    def __init__(self, vocab_size=50, embed_size=16, hidden_size=24):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, 1, batch_first=True)
        self.linear = nn.Linear(hidden_size, vocab_size)

    def forward(self, x):
        x = self.embed(x)
        out, (h, c) = self.lstm(x)
        out = out.reshape(out.size(0) * out.size(1), out.size(2))
        return self.linear(out)
""",
    },
    {
        "name": "per-slot logits viewed as a grid, a softmax over its last axis, then a Linear",
        "model": "SlotGrid",
        "layout": "channels_last",
        "inputs": [{"shape": [4, 16]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class SlotGrid(nn.Module):
    def __init__(self, slots=4, size=16, grid=6):
        super().__init__()
        self.slots = slots
        self.grid = grid
        self.logits = nn.Linear(size, grid * grid)
        self.head = nn.Linear(grid, 8)

    def forward(self, x):
        g = self.logits(x)
        g = g.view(x.size(0), self.slots, self.grid, self.grid)
        return self.head(F.softmax(g, dim=-1))
""",
    },
]
