"""The same ten-layer MLP with ReLU and He (Kaiming) initialization: gradients reach the first layer.

Try: gradient-lens probe examples/saturating-activation-stack/clean_deep_torch.py
"""
import torch
import torch.nn as nn

DEPTH = 10
WIDTH = 128


class DeepReluMLP(nn.Module):
    def __init__(self, in_features: int = 784, num_classes: int = 10):
        super().__init__()
        self.inp = nn.Linear(in_features, WIDTH)
        self.hidden = nn.ModuleList([nn.Linear(WIDTH, WIDTH) for _ in range(DEPTH)])
        self.out = nn.Linear(WIDTH, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = torch.relu(self.inp(x))
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x)


model = DeepReluMLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()


def train_step(x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
