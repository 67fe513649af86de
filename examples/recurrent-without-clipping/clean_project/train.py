"""Trains model.SequenceClassifier with the gradient norm clipped to 1.0 before every step."""
import torch
from torch import nn

from model import SequenceClassifier


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for features, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(features), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()


def main(loader, epochs=10):
    model = SequenceClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        train_epoch(model, loader, optimizer, criterion)
    return model
