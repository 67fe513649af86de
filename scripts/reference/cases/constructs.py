"""Reference cases for torch constructs of real forwards (issue 11, session 6): an elementwise |a - b|
of two branches (a siamese distance); frozen weights (nn.Embedding.from_pretrained, requires_grad = False
in a loop over a trunk's parameters), which get no gradient and are left out of the profile; a block whose activation class its owner passes in,
and torch.cat((h, h), 1), a tensor joined with itself (twice the channels, twice the gradient back); a
soft position embedding, a Linear of a grid the module holds added to the features (one grid for the batch);
out.view(-1, hidden) on an LSTM's steps, which folds time into the batch (the decoder runs on every step);
a trunk run under torch.no_grad(), which gets no gradient."""

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
    {
        "name": "frozen weights: a pretrained Embedding (freeze=True by default) and a trunk layer whose parameters do not require grad",
        "model": "Frozen",
        "layout": "channels_last",
        "inputs": [{"shape": [], "tokens": 50}],
        "source": """import torch
from torch import nn


class Frozen(nn.Module):
    def __init__(self, vectors=torch.randn(50, 16)):
        super().__init__()
        self.emb = nn.Embedding.from_pretrained(vectors)
        self.trunk = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh())
        for p in self.trunk[0].parameters():
            p.requires_grad = False
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.trunk(self.emb(x)))
""",
    },
    {
        "name": "U-Net parts: blocks given their activation class by the model, and torch.cat of a tensor with itself",
        "model": "Twice",
        "layout": "channels_first",
        "inputs": [{"shape": [2, 8, 8]}],
        "source": """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, in_channels, out_channels, non_linearity):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.act = non_linearity()

    def forward(self, x):
        return self.act(self.conv(x))


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block(2, 4, nn.ELU)
        self.second = Block(8, 4, nn.Tanh)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        h = self.first(x)
        h = torch.cat((h, h), 1)
        return self.head(self.second(h))
""",
    },
    {
        "name": "soft position embedding: a Linear of a constant grid held by the module, added to conv features",
        "model": "PosEncoder",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 8, 8]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class PosEncoder(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.conv = nn.Conv2d(3, hidden, 3, padding=1)
        self.embedding = nn.Linear(4, hidden)
        self.grid = torch.randn(1, 8, 8, 4)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        x = F.relu(self.conv(x)).permute(0, 2, 3, 1)
        x = x + self.embedding(self.grid)
        return self.head(x)
""",
    },
    {
        "name": "language model: out.view(-1, hidden) on the LSTM's steps, then a Linear on every step",
        "model": "WordLM",
        "layout": "channels_last",
        "inputs": [{"shape": [12], "tokens": 50}],
        "source": """import torch
from torch import nn


class WordLM(nn.Module):
    def __init__(self, vocab=50, embed=16, hidden=24):
        super().__init__()
        self.hidden = hidden
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.drop = nn.Dropout(0.0)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        out = self.drop(out)
        return self.decoder(out.contiguous().view(-1, self.hidden))
""",
    },
    {
        "name": "a pre-trained trunk run under torch.no_grad(), a head trained on its features",
        "model": "Probe",
        "layout": "channels_last",
        "inputs": [{"shape": [16]}],
        "source": """import torch
from torch import nn


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))

    def forward(self, x):
        with torch.no_grad():
            features = self.trunk(x)
        return self.head(features)
""",
    },
]
