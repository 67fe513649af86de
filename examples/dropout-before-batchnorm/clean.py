"""Dropout after the BatchNorm and activation."""
import torch.nn as nn
import torch.nn.functional as F


class TabularNet(nn.Module):
    def __init__(self, n_features: int = 120):
        super().__init__()
        self.fc1 = nn.Linear(n_features, 256, bias=False)
        self.bn = nn.BatchNorm1d(256)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(256, 1)

    def forward(self, x):
        x = self.drop(F.relu(self.bn(self.fc1(x))))
        return self.fc2(x)
