"""A ten-layer sigmoid MLP in PyTorch: the probe shows the first layers' gradients vanish.

Try: gradient-lens check examples/saturating-activation-stack/bad_deep_torch.py
     gradient-lens probe examples/saturating-activation-stack/bad_deep_torch.py --what-if GL101
"""
import torch
import torch.nn as nn

DEPTH = 10
WIDTH = 128


class DeepSigmoidMLP(nn.Module):
    def __init__(self, in_features: int = 784, num_classes: int = 10):
        super().__init__()
        self.inp = nn.Linear(in_features, WIDTH)
        self.hidden = nn.ModuleList([nn.Linear(WIDTH, WIDTH) for _ in range(DEPTH)])
        self.out = nn.Linear(WIDTH, num_classes)

    def forward(self, x):
        x = torch.sigmoid(self.inp(x))
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.out(x)


model = DeepSigmoidMLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()


def train_step(x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
