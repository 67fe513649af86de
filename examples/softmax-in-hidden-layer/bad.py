"""A policy network whose hidden layer is a softmax: its 64 units compete instead of encoding features."""
import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self, n_obs: int = 8, n_actions: int = 4):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_obs, 64),
            nn.Softmax(dim=-1),
            nn.Linear(64, n_actions),
        )

    def forward(self, obs):
        return torch.softmax(self.body(obs), dim=-1)
