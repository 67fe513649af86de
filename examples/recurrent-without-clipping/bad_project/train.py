"""Trains model.SequenceClassifier. Gradient Lens reports GL401 here at optimizer.step() and on the
GRU in model.py: nothing clips the gradient between backward() and step()."""
import torch
from torch import nn

from model import SequenceClassifier


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for features, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(features), labels)
        loss.backward()
        optimizer.step()


def main(loader, epochs=10):
    model = SequenceClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        train_epoch(model, loader, optimizer, criterion)
    return model
