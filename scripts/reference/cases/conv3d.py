"""Reference cases for 3-D convolution and pooling (issue 11 §3: Keras Conv3D / Convolution3D, torch Conv3d)."""

CASES = [
    {
        "name": "Conv3D net with Keras' default init (glorot_uniform kernels, zero biases): valid, strided same-style padding, MaxPool3d",
        "model": "Volume",
        "layout": "channels_first",
        "inputs": [{"shape": [1, 9, 9, 9]}],
        "source": """import torch
from torch import nn
import torch.nn.functional as F


class Volume(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv3d(1, 8, 3)
        self.pool = nn.MaxPool3d(2)
        self.conv2 = nn.Conv3d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 2 * 2 * 2, 4)
        for layer in (self.conv1, self.conv2, self.fc):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))
""",
    },
    {
        "name": "Conv3d net with torch's default init, tanh, AvgPool3d",
        "model": "TorchVolume",
        "layout": "channels_first",
        "inputs": [{"shape": [2, 8, 8, 8]}],
        "source": """import torch
from torch import nn


class TorchVolume(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(2, 6, 3, padding=1),
            nn.Tanh(),
            nn.AvgPool3d(2),
            nn.Conv3d(6, 6, 3),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(6 * 2 * 2 * 2, 3),
        )

    def forward(self, x):
        return self.net(x)
""",
    },
]
