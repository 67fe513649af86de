"""Reference cases for normalization scales the code initializes: residual blocks whose last BatchNorm's
weight starts at zero (torchvision's zero_init_residual=True, Goyal et al. 2017), where no gradient reaches
a branch's convolutions at the first step (PyTorch gives them exactly zero), and a DCGAN-style init that
draws BatchNorm weights from N(1, 0.02)."""

CASES = [
    {
        "name": "residual blocks with nn.init.zeros_ on each block's last BatchNorm weight: the branches get no gradient at step 1",
        "model": "Net",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 8, 8]}],
        "source": """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(Block(8), Block(8), Block(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = self.blocks(x)
        return self.fc(torch.flatten(self.pool(x), 1))
""",
    },
    {
        "name": "DCGAN weights_init: BatchNorm weight normal_(1.0, 0.02), bias constant_ 0",
        "model": "Disc",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 16, 16]}],
        "source": """import torch
from torch import nn


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Disc(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 16, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 1, 2, 1, 0, bias=False),
        )
        self.apply(weights_init)

    def forward(self, x):
        return torch.flatten(self.main(x), 1)
""",
    },
]
