"""Reference cases for nn.Upsample (issue 11 §3, the interferogram U-Net decoder): bilinear with and
without align_corners, nearest to a size=, nearest by a non-integer scale factor."""

CASES = [
    {
        "name": "decoder: Upsample bilinear align_corners=True, then nearest to size=(14, 14)",
        "model": "Decoder",
        "layout": "channels_first",
        "inputs": [{"shape": [6, 3, 3]}],
        "source": """import torch
from torch import nn


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(6, 8, 3, padding=1)
        self.up1 = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.up2 = nn.Upsample(size=(14, 14))
        self.conv3 = nn.Conv2d(8, 2, 3, padding=1)

    def forward(self, x):
        x = self.up1(torch.relu(self.conv1(x)))
        x = self.up2(torch.relu(self.conv2(x)))
        return self.conv3(x)
""",
    },
    {
        "name": "decoder: Upsample bilinear (align_corners=False) x2 twice, UpsamplingBilinear2d",
        "model": "Decoder",
        "layout": "channels_first",
        "inputs": [{"shape": [4, 2, 2]}],
        "source": """import torch
from torch import nn


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(4, 8, 1),
            nn.Tanh(),
            nn.Upsample(scale_factor=2, mode='bilinear'),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.Tanh(),
            nn.Upsample(scale_factor=(2, 2), mode='bilinear', align_corners=False),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.Tanh(),
            nn.UpsamplingBilinear2d(scale_factor=2),
            nn.Conv2d(8, 1, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)
""",
    },
    {
        "name": "1-D: Upsample nearest by 1.5 and linear by 2 after Conv1d",
        "model": "Stretch",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 8]}],
        "source": """import torch
from torch import nn


class Stretch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 6, 3, padding=1)
        self.up1 = nn.Upsample(scale_factor=1.5)
        self.conv2 = nn.Conv1d(6, 6, 3, padding=1)
        self.up2 = nn.Upsample(scale_factor=2, mode='linear')
        self.conv3 = nn.Conv1d(6, 2, 3, padding=1)

    def forward(self, x):
        x = self.up1(torch.relu(self.conv1(x)))
        x = self.up2(torch.relu(self.conv2(x)))
        return self.conv3(x)
""",
    },
]
