"""Reference cases for the convolution, normalization, recurrent and padding layers of issue 11 §3."""

CASES = [
    {
        "name": "DCGAN-style generator: ConvTranspose2d with output_padding, BatchNorm, ReLU, Tanh",
        "model": "Generator",
        "layout": "channels_first",
        "inputs": [{"shape": [8, 1, 1]}],
        "source": """import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 3, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)
""",
    },
    {
        "name": "ConvTranspose1d decoder (stride 2, output_padding 1)",
        "model": "Decoder",
        "layout": "channels_first",
        "inputs": [{"shape": [8, 6]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose1d(8, 8, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose1d(8, 4, kernel_size=5, stride=2, padding=2, output_padding=1)

    def forward(self, x):
        return self.up2(F.relu(self.up1(x)))
""",
    },
    {
        "name": "GroupNorm and InstanceNorm (torch defaults: affine=False) in a conv net",
        "model": "NormNet",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 12, 12]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class NormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(4, 8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.inorm = nn.InstanceNorm2d(8)
        self.conv3 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 3 * 3, 5)

    def forward(self, x):
        x = F.relu(self.gn(self.conv1(x)))
        x = F.relu(self.inorm(self.conv2(x)))
        x = F.relu(self.conv3(x))
        return self.fc(torch.flatten(x, 1))
""",
    },
    {
        "name": "grouped and dilated convolutions (groups=2, groups=channels, dilation=2)",
        "model": "GroupedNet",
        "layout": "channels_first",
        "inputs": [{"shape": [4, 12, 12]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class GroupedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 8, 3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.pointwise = nn.Conv2d(8, 8, 1)
        self.conv3 = nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2)
        self.fc = nn.Linear(8 * 6 * 6, 5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.pointwise(self.depthwise(x)))
        x = F.relu(self.conv3(x))
        return self.fc(torch.flatten(x, 1))
""",
    },
]

CASES.append({
    "name": "bidirectional two-layer LSTM read at the last step (torch concatenates the directions)",
    "model": "BiTagger",
    "layout": "channels_last",
    "inputs": [{"shape": [10, 6]}],
    "source": """import torch
from torch import nn


class BiTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 12, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(24, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])
""",
})

CASES.append({
    "name": "AlexNet-style local response normalization after ReLU convolutions (size 5 at the defaults, size 3 with a strong alpha)",
    "model": "AlexLike",
    "layout": "channels_first",
    "inputs": [{"shape": [3, 16, 16]}],
    "source": """import torch
from torch import nn


class AlexLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(5),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 24, 3, padding=1), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(24 * 4 * 4, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))
""",
})

CASES.append({
    "name": "squeeze-and-excitation: AdaptiveAvgPool2d(1) keeps (N, C, 1, 1), 1x1 convs, a sigmoid gate broadcast over the map",
    "model": "SENet",
    "layout": "channels_first",
    "inputs": [{"shape": [3, 12, 12]}],
    "source": """import torch
from torch import nn
import torch.nn.functional as F


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduction=2):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, channels // reduction, 1)
        self.expand = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x):
        s = self.pool(x)
        s = F.relu(self.reduce(s))
        return x * torch.sigmoid(self.expand(s))


class SENet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.se1 = SqueezeExcite(32)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.se2 = SqueezeExcite(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.se1(F.relu(self.conv1(x)))
        x = self.se2(F.relu(self.conv2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))
""",
})

CASES.append({
    "name": "encoder-decoder through a 1 x 1 bottleneck (BatchNorm eps=0.8 throughout): a strided ConvTranspose2d reads a 1 x 1 map its input conv's bias dominates, BatchNorm after",
    "model": "Inpainter",
    "layout": "channels_first",
    "inputs": [{"shape": [3, 16, 16]}],
    "source": """import torch
from torch import nn


def down(cin, cout, norm=True):
    block = [nn.Conv2d(cin, cout, 4, stride=2, padding=1)]
    if norm:
        block.append(nn.BatchNorm2d(cout, 0.8))
    return block + [nn.LeakyReLU(0.2)]


def up(cin, cout):
    return [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), nn.BatchNorm2d(cout, 0.8), nn.ReLU()]


class Inpainter(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            *down(3, 32, norm=False), *down(32, 64), *down(64, 128), *down(128, 128),
            nn.Conv2d(128, 500, 1),
            *up(500, 64), *up(64, 32),
            nn.Conv2d(32, 3, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.model(x)
""",
})
