"""Reference cases for attention, transformer layers, learned positions and residual loops (issue 11 §3, §4)."""

CASES = [
    {
        "name": "10-block residual tanh MLP: x = x + torch.tanh(b(x)) over a ModuleList",
        "model": "ResMLP",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "source": """import torch
import torch.nn as nn


class ResMLP(nn.Module):
    def __init__(self, width=64, depth=10):
        super().__init__()
        self.inp = nn.Linear(32, width)
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.out = nn.Linear(width, 10)

    def forward(self, x):
        x = self.inp(x)
        for b in self.blocks:
            x = x + torch.tanh(b(x))
        return self.out(x)
""",
    },
    {
        "name": "pre-LN transformer classifier: TransformerEncoder(norm_first=True), Embedding positions, mean pooling",
        "model": "TransformerClassifier",
        "layout": "channels_last",
        "inputs": [{"shape": [12], "tokens": 100}],
        "source": """import torch
import torch.nn as nn


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size=100, d_model=32, nhead=4, num_layers=2, num_classes=3, max_len=16):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos_embedding = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=nhead, dim_feedforward=64, dropout=0.1, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers)
        self.fc = nn.Linear(d_model, num_classes)

    def forward(self, x):
        positions = torch.arange(x.size(1), device=x.device).unsqueeze(0)
        h = self.embedding(x) + self.pos_embedding(positions)
        h = self.encoder(h)
        h = h.mean(dim=1)
        return self.fc(h)
""",
    },
    {
        "name": "post-LN TransformerEncoderLayer with GELU on features (no embedding)",
        "model": "Encoder",
        "layout": "channels_last",
        "inputs": [{"shape": [10, 24]}],
        "source": """import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(24, 32)
        self.layer1 = nn.TransformerEncoderLayer(32, 4, dim_feedforward=128, dropout=0.0, activation="gelu", batch_first=True)
        self.layer2 = nn.TransformerEncoderLayer(32, 4, dim_feedforward=128, dropout=0.0, activation="gelu", batch_first=True)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        x = self.proj(x)
        x = self.layer1(x)
        x = self.layer2(x)
        return self.head(x)
""",
    },
    {
        "name": "GPT-style LM: custom Block (causal nn.MultiheadAttention + GELU MLP, pre-LN residuals), Embedding positions",
        "model": "TinyGPT",
        "layout": "channels_last",
        "inputs": [{"shape": [12], "tokens": 64}],
        "source": """import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_head, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        t = x.size(1)
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, attn_mask=mask, need_weights=False)
        x = x + a
        x = x + self.mlp(self.ln2(x))
        return x


class TinyGPT(nn.Module):
    def __init__(self, vocab=64, block_size=16, d_model=32, n_head=4, n_layer=3):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx):
        t = idx.size(1)
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))
""",
    },
    {
        "name": "post-LN encoder-decoder: TransformerDecoder over the encoder's memory, causal target mask",
        "model": "Seq2Seq",
        "layout": "channels_last",
        "inputs": [{"shape": [10], "tokens": 50}],
        "source": """import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab=50, d_model=32, nhead=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        enc = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, num_layers=2, norm=nn.LayerNorm(d_model))
        dec = nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(dec, num_layers=2)
        self.out = nn.Linear(d_model, vocab)

    def forward(self, src):
        x = self.embed(src)
        memory = self.encoder(x)
        mask = torch.triu(torch.full((src.size(1), src.size(1)), float("-inf")), diagonal=1)
        y = self.decoder(x, memory, tgt_mask=mask)
        return self.out(y)
""",
    },
]
