"""Reference cases for torch forwards with several inputs and with noise drawn inside forward: each
forward() argument is an input of its own (a label an Embedding reads, a skip tensor a block joins),
and the reparameterisation's N(0, 1) draw is an input no gradient reaches."""

CASES = [
    {
        "name": "conditional generator: an Embedding of class labels multiplied into the noise",
        "model": "Generator",
        "layout": "channels_last",
        "inputs": [{"shape": [16]}, {"shape": [], "tokens": 10}],
        "source": """import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, n_classes=10, latent_dim=16):
        super().__init__()
        self.label_emb = nn.Embedding(n_classes, latent_dim)
        self.l1 = nn.Sequential(nn.Linear(latent_dim, 64), nn.LeakyReLU(0.2))
        self.l2 = nn.Linear(64, 32)
        self.out = nn.Linear(32, 8)

    def forward(self, noise, labels):
        gen_input = torch.mul(self.label_emb(labels), noise)
        return self.out(torch.tanh(self.l2(self.l1(gen_input))))
""",
    },
    {
        "name": "VAE: mu + randn_like(std) * exp(log_var / 2), then a decoder",
        "model": "VAE",
        "layout": "channels_last",
        "inputs": [{"shape": [48]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class VAE(nn.Module):
    def __init__(self, image_size=48, h_dim=32, z_dim=8):
        super().__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(h_dim, z_dim)
        self.fc4 = nn.Linear(z_dim, h_dim)
        self.fc5 = nn.Linear(h_dim, image_size)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc2(h), self.fc3(h)

    def reparameterize(self, mu, log_var):
        std = torch.exp(log_var / 2)
        eps = torch.randn_like(std)
        return mu + eps * std

    def forward(self, x):
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var)
        return self.fc5(F.relu(self.fc4(z)))
""",
    },
    {
        "name": "U-Net up block: transposed conv, then torch.cat with the skip tensor passed to forward",
        "model": "UpBlock",
        "layout": "channels_first",
        "inputs": [{"shape": [8, 4, 4]}, {"shape": [4, 8, 8]}],
        "source": """import torch
from torch import nn


class UpBlock(nn.Module):
    def __init__(self, in_size=8, out_size=4):
        super().__init__()
        self.model = nn.Sequential(
            nn.ConvTranspose2d(in_size, out_size, 4, 2, 1, bias=False),
            nn.ReLU(inplace=True),
        )
        self.conv = nn.Conv2d(2 * out_size, 3, 3, padding=1)

    def forward(self, x, skip_input):
        x = self.model(x)
        x = torch.cat((x, skip_input), 1)
        return self.conv(x)
""",
    },
]
