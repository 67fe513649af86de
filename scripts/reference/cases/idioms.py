"""Reference cases for idioms of real torch forwards that change a tensor's shape or pick part of it:
a text CNN that transposes (batch, time, embed) to (batch, embed, time) for Conv1d and max-pools over
time; a bidirectional GRU classifier that joins the last layer's two final states
(torch.cat((h_n[-2], h_n[-1]), 1)); mean pooling of embeddings over the sequence (x.mean(dim=1)); a
CNN whose global average pool is squeezed (F.adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)); and an
LSTM packed with pack_padded_sequence whose final hidden state is classified."""

CASES = [
    {
        "name": "text CNN: Embedding, transpose(1, 2), Conv1d, ReLU, max over time, Linear",
        "model": "TextCNN",
        "layout": "channels_last",
        "inputs": [{"shape": [20], "tokens": 50}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class TextCNN(nn.Module):
    def __init__(self, vocab=50, embed=16, filters=24, classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.conv = nn.Conv1d(embed, filters, kernel_size=3)
        self.fc = nn.Linear(filters, classes)

    def forward(self, x):
        x = self.embedding(x).transpose(1, 2)
        x = F.relu(self.conv(x))
        x = F.max_pool1d(x, x.size(2)).squeeze(2)
        return self.fc(x)
""",
    },
    {
        "name": "bidirectional 2-layer GRU classifier on the last layer's two final states, torch.cat((h_n[-2], h_n[-1]), 1)",
        "model": "BiGRU",
        "layout": "channels_last",
        "inputs": [{"shape": [12], "tokens": 50}],
        "source": """import torch
from torch import nn


class BiGRU(nn.Module):
    def __init__(self, vocab=50, embed=16, hidden=20, classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(hidden * 2, classes)

    def forward(self, x):
        _, hidden = self.rnn(self.embedding(x))
        return self.fc(torch.cat((hidden[-2], hidden[-1]), dim=1))
""",
    },
    {
        "name": "mean of embeddings over the sequence, then an MLP (fastText-style)",
        "model": "MeanBag",
        "layout": "channels_last",
        "inputs": [{"shape": [15], "tokens": 50}],
        "source": """import torch
from torch import nn


class MeanBag(nn.Module):
    def __init__(self, vocab=50, embed=16, hidden=32, classes=5):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.hidden = nn.Linear(embed, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.embedding(x).mean(dim=1)
        return self.out(torch.tanh(self.hidden(x)))
""",
    },
    {
        "name": "CNN with a squeezed global average pool: adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)",
        "model": "SqueezedPool",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 16, 16]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class SqueezedPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)
        return self.fc(x)
""",
    },
    {
        "name": "LSTM classifier on the final hidden state h_n[-1] of a one-layer LSTM",
        "model": "LastHidden",
        "layout": "channels_last",
        "inputs": [{"shape": [10, 8]}],
        "source": """import torch
from torch import nn


class LastHidden(nn.Module):
    def __init__(self, features=8, hidden=24, classes=3):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(h_n[-1])
""",
    },
    {
        "name": "a residual block with a 1x1 projection shortcut, BatchNorm and ReLU (ResNet basic block)",
        "model": "Residual",
        "layout": "channels_first",
        "inputs": [{"shape": [8, 12, 12]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class Residual(nn.Module):
    def __init__(self, cin=8, cout=16):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout))
        self.fc = nn.Linear(cout, 10)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = F.relu(out + self.shortcut(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))
""",
    },
]
