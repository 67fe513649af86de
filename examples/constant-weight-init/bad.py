"""An MLP whose hidden layer starts from all-zero weights: its ReLU units are dead from step one.

Try: gradient-lens check examples/constant-weight-init/bad.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, in_features: int = 784, hidden: int = 256, num_classes: int = 10):
        super().__init__()
        self.hidden = nn.Linear(in_features, hidden)
        self.classifier = nn.Linear(hidden, num_classes)
        # "Start from a clean slate": zero weights and zero biases.
        nn.init.zeros_(self.hidden.weight)
        nn.init.zeros_(self.hidden.bias)

    def forward(self, x):
        return self.classifier(F.relu(self.hidden(x)))


model = MLP()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for step in range(200):
    images = torch.randn(64, 784)
    labels = torch.randint(0, 10, (64,))
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
