"""A GRU sequence classifier. train.py clips its gradients."""
import torch.nn as nn


class SequenceClassifier(nn.Module):
    def __init__(self, n_features=16, hidden=128, n_classes=4):
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1, :])
