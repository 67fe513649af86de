"""Reference cases for activations written by hand as a formula: a GPT-2 MLP block (pre-LN, residual)
whose GELU is minGPT's NewGELU module (the tanh formula with torch.pow) and whose MLP forward is a
lambda made in __init__; and a small MLP with a swish function of the file and BERT's erf GELU."""

CASES = [
    {
        "name": "GPT-2 MLP block: LayerNorm, Linear, NewGELU (tanh formula), Linear, Dropout, residual; MLP forward a lambda",
        "model": "Block",
        "layout": "channels_last",
        "inputs": [{"shape": [48]}],
        "source": """import math
import torch
import torch.nn as nn


class NewGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Block(nn.Module):
    def __init__(self, n_embd=48):
        super().__init__()
        self.ln = nn.LayerNorm(n_embd)
        self.mlp = nn.ModuleDict(dict(
            c_fc=nn.Linear(n_embd, 4 * n_embd),
            c_proj=nn.Linear(4 * n_embd, n_embd),
            act=NewGELU(),
            dropout=nn.Dropout(0.0),
        ))
        m = self.mlp
        self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))
        self.head = nn.Linear(n_embd, 5)

    def forward(self, x):
        x = x + self.mlpf(self.ln(x))
        return self.head(x)
""",
    },
    {
        "name": "MLP with a swish function of the file and BERT's erf GELU function",
        "model": "FormulaMLP",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "source": """import math
import torch
import torch.nn as nn


def swish(x):
    return x * torch.sigmoid(x)


def gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class FormulaMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 64)
        self.out = nn.Linear(64, 3)

    def forward(self, x):
        x = swish(self.fc1(x))
        x = gelu(self.fc2(x))
        x = swish(self.fc3(x))
        return self.out(x)
""",
    },
]
