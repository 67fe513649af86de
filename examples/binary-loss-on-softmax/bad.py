"""An MNIST classifier ending in a softmax over 10 classes, trained on BCELoss of one-hot labels."""
import torch
from torch import nn

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 256),
    nn.ReLU(),
    nn.Linear(256, 10),
    nn.Softmax(dim=1),
)
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for images, onehot in loader:
    optimizer.zero_grad()
    loss = criterion(model(images), onehot)
    loss.backward()
    optimizer.step()
