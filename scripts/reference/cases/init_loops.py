"""Reference cases for initialization that real code writes after building the layers: a loop over
self.modules() with isinstance tests (torchvision's ResNet: kaiming_normal_ fan_out for convolutions,
BatchNorm weight 1 and bias 0, a normal Linear); a DCGAN-style weights_init given to self.apply that
tests the class name (m.weight.data.normal_(0.0, 0.02)); and xavier_uniform_ on every parameter of
dimension above one (the transformer idiom `for p in self.parameters(): if p.dim() > 1: ...`)."""

CASES = [
    {
        "name": "self.modules() loop: kaiming_normal_(mode='fan_out', nonlinearity='relu') on convs, constant_ BatchNorm, normal_ Linear",
        "model": "Net",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 8, 8]}],
        "source": """import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(16, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))
""",
    },
    {
        "name": "DCGAN weights_init through self.apply: normal_(0.0, 0.02) on Conv and Linear weights by class name",
        "model": "Disc",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 16, 16]}],
        "source": """import torch
from torch import nn


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find('Linear') != -1:
        m.weight.data.normal_(0.0, 0.02)
        m.bias.data.fill_(0)


class Disc(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 16, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        )
        self.fc = nn.Linear(64 * 2 * 2, 1)
        self.apply(weights_init)

    def forward(self, x):
        return self.fc(self.main(x).view(x.size(0), -1))
""",
    },
    {
        "name": "xavier_uniform_ on every parameter of dimension above one, a tanh MLP",
        "model": "Xavier",
        "layout": "channels_last",
        "inputs": [{"shape": [20]}],
        "source": """import torch
from torch import nn


class Xavier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(20, 64), nn.Tanh(),
            nn.Linear(64, 64), nn.Tanh(),
            nn.Linear(64, 64), nn.Tanh(),
            nn.Linear(64, 4),
        )
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, x):
        return self.net(x)
""",
    },
]
