"""The policy with a ReLU hidden layer; softmax only turns the final logits into probabilities."""
import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self, n_obs: int = 8, n_actions: int = 4):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_obs, 64),
            nn.ReLU(),
            nn.Linear(64, n_actions),
        )

    def forward(self, obs):
        return torch.softmax(self.body(obs), dim=-1)
