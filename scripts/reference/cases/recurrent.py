"""Reference cases for recurrent state and steps in torch forwards (session 8's fixes, 2a0dccb and
75f2c5a): a GRU seq2seq whose decoder starts from the encoder's final hidden state (the encoder trains
only through that state); an LSTMCell stepped through time in a Python loop (one recurrent layer, not
one layer per step); an LSTM whose every step a Linear reads (the sequence, not the last step, goes on);
and a two-level LSTM encoder handing its (h, c) to a two-level decoder, level by level."""

CASES = [
    {
        "name": "GRU seq2seq: the decoder starts from the encoder's final hidden state, a Linear on every decoder step",
        "model": "Seq2Seq",
        "layout": "channels_last",
        "inputs": [{"shape": [8], "tokens": 50}, {"shape": [8], "tokens": 50}],
        "source": """import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab=50, embed=16, hidden=24):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, embed)
        self.tgt_embed = nn.Embedding(vocab, embed)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        self.decoder = nn.GRU(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, src, tgt):
        _, hidden = self.encoder(self.src_embed(src))
        output, _ = self.decoder(self.tgt_embed(tgt), hidden)
        return self.out(output)
""",
    },
    {
        "name": "an LSTMCell stepped through time in a loop from zero states, a Linear on the last hidden state",
        "model": "Stepped",
        "layout": "channels_last",
        "inputs": [{"shape": [10, 6]}],
        "source": """import torch
from torch import nn


class Stepped(nn.Module):
    def __init__(self, features=6, hidden=16):
        super().__init__()
        self.hidden = hidden
        self.cell = nn.LSTMCell(features, hidden)
        self.fc = nn.Linear(hidden, 3)

    def forward(self, x):
        h = torch.zeros(x.size(0), self.hidden)
        c = torch.zeros(x.size(0), self.hidden)
        for t in range(x.size(1)):
            h, c = self.cell(x[:, t], (h, c))
        return self.fc(h)
""",
    },
    {
        "name": "an LSTM whose every step a Linear reads (the sequence goes on, not the last step)",
        "model": "Tagger",
        "layout": "channels_last",
        "inputs": [{"shape": [10, 6]}],
        "source": """import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self, features=6, hidden=16, tags=5):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, tags)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out)
""",
    },
    {
        "name": "a two-level LSTM encoder hands (h, c) to a two-level LSTM decoder, level by level",
        "model": "Stacked",
        "layout": "channels_last",
        "inputs": [{"shape": [8, 6]}, {"shape": [8, 6]}],
        "source": """import torch
from torch import nn


class Stacked(nn.Module):
    def __init__(self, features=6, hidden=16):
        super().__init__()
        self.encoder = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.decoder = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, 4)

    def forward(self, source, target):
        _, (h, c) = self.encoder(source)
        out, _ = self.decoder(target, (h, c))
        return self.fc(out[:, -1])
""",
    },
]
