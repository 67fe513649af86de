"""Reference cases for heads trained on different losses: the gradient each head's loss puts on it sets
how the heads, and the trunk under them, compare at the first step. An ACGAN-style discriminator whose
sigmoid head trains under BCELoss and whose softmax head under CrossEntropyLoss, which applies a softmax
of its own (the softmax twice, as torch computes it: the head gets about 1/C^2 of a plain softmax's
gradient); a two-head regressor whose sigmoid head trains under BCEWithLogitsLoss (the sigmoid twice)
beside a linear head under MSELoss; and a softmax head under NLLLoss, which expects log-probabilities and
on probabilities computes -p (its head gets about 1/C^2 of cross-entropy's gradient) beside a linear
head; and a linear head whose loss call applies F.softmax before CrossEntropyLoss (the softmax twice,
at the call); and a softmax head over 50 classes under BCELoss of one-hot labels (each class scored as its
own 0/1 label: about 1/(C-1)^2 of cross-entropy's gradient) beside a linear head under MSELoss. Each
source holds the training code the analyzer reads the criteria from (never run: the loop is in a
function)."""

CASES = [
    {
        "name": "ACGAN-style discriminator: a sigmoid head under BCELoss, a softmax head under CrossEntropyLoss (softmax twice)",
        "model": "Discriminator",
        "layout": "channels_last",
        "inputs": [{"shape": [64]}],
        "losses": ["BCELoss", "CrossEntropyLoss"],
        "probeLoss": "binary-crossentropy + categorical-crossentropy-logits",
        "source": """import torch
from torch import nn


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2))
        self.adv_layer = nn.Sequential(nn.Linear(128, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(128, 10), nn.Softmax(dim=1))

    def forward(self, x):
        out = self.body(x)
        validity = self.adv_layer(out)
        label = self.aux_layer(out)
        return validity, label


adversarial_loss = nn.BCELoss()
auxiliary_loss = nn.CrossEntropyLoss()
discriminator = Discriminator()
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=2e-4)


def train(loader):
    for x, valid, labels in loader:
        optimizer_D.zero_grad()
        real_pred, real_aux = discriminator(x)
        d_loss = (adversarial_loss(real_pred, valid) + auxiliary_loss(real_aux, labels)) / 2
        d_loss.backward()
        optimizer_D.step()
""",
    },
    {
        "name": "two heads: a sigmoid head under BCEWithLogitsLoss (sigmoid twice) and a linear head of 4 under MSELoss",
        "model": "TwoHeads",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "losses": ["BCEWithLogitsLoss", "MSELoss"],
        "probeLoss": "binary-crossentropy-logits + mse",
        "source": """import torch
from torch import nn


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh())
        self.flag = nn.Sequential(nn.Linear(64, 3), nn.Sigmoid())
        self.value = nn.Linear(64, 4)

    def forward(self, x):
        h = self.trunk(x)
        return self.flag(h), self.value(h)


model = TwoHeads()
flag_loss = nn.BCEWithLogitsLoss()
value_loss = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def train(loader):
    for x, flags, values in loader:
        optimizer.zero_grad()
        flag, value = model(x)
        loss = flag_loss(flag, flags)
        loss += value_loss(value, values)
        loss.backward()
        optimizer.step()
""",
    },
    {
        "name": "StarGAN-style discriminator: a PatchGAN map and a class score, each under MSELoss (a mean over its own elements)",
        "model": "Discriminator",
        "layout": "channels_first",
        "inputs": [{"shape": [3, 32, 32]}],
        "losses": ["MSELoss", "MSELoss"],
        "probeLoss": "mse",
        "source": """import torch
from torch import nn


class Discriminator(nn.Module):
    def __init__(self, c_dim=5):
        super().__init__()
        layers = [nn.Conv2d(3, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.01)]
        channels = 32
        for _ in range(3):
            layers += [nn.Conv2d(channels, channels * 2, 4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            channels *= 2
        self.model = nn.Sequential(*layers)
        self.out1 = nn.Conv2d(channels, 1, 3, padding=1, bias=False)
        self.out2 = nn.Conv2d(channels, c_dim, 2, bias=False)

    def forward(self, img):
        feature_repr = self.model(img)
        out_adv = self.out1(feature_repr)
        out_cls = self.out2(feature_repr)
        return out_adv, out_cls.view(out_cls.size(0), -1)


discriminator = Discriminator()
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4)


def train(loader):
    for imgs, valid, labels in loader:
        optimizer.zero_grad()
        out_adv, out_cls = discriminator(imgs)
        loss = criterion(out_adv, valid) + criterion(out_cls, labels)
        loss.backward()
        optimizer.step()
""",
    },
    {
        "name": "a softmax head under NLLLoss (which reads log-probabilities: on probabilities it computes -p) beside a linear head of 2 under MSELoss",
        "model": "Tagger",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "losses": ["NLLLoss", "MSELoss"],
        "probeLoss": "nll + mse",
        "source": """import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.tag = nn.Sequential(nn.Linear(64, 8), nn.Softmax(dim=1))
        self.box = nn.Linear(64, 2)

    def forward(self, x):
        h = self.trunk(x)
        return self.tag(h), self.box(h)


model = Tagger()
tag_loss = nn.NLLLoss()
box_loss = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def train(loader):
    for x, tags, boxes in loader:
        optimizer.zero_grad()
        tag, box = model(x)
        loss = tag_loss(tag, tags) + box_loss(box, boxes)
        loss.backward()
        optimizer.step()
""",
    },
    {
        "name": "a linear class head whose loss call applies F.softmax before CrossEntropyLoss (softmax twice at the call) beside a sigmoid head of 2 under BCELoss",
        "model": "Tagger",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "losses": ["CrossEntropyLoss", "BCELoss"],
        "applied": ["softmax", None],
        "probeLoss": "categorical-crossentropy-logits + binary-crossentropy",
        "source": """import torch
import torch.nn.functional as F
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.tag = nn.Linear(64, 8)
        self.box = nn.Sequential(nn.Linear(64, 2), nn.Sigmoid())

    def forward(self, x):
        h = self.trunk(x)
        return self.tag(h), self.box(h)


model = Tagger()
tag_loss = nn.CrossEntropyLoss()
box_loss = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def train(loader):
    for x, tags, boxes in loader:
        optimizer.zero_grad()
        tag, box = model(x)
        loss = tag_loss(F.softmax(tag, dim=1), tags) + box_loss(box, boxes)
        loss.backward()
        optimizer.step()
""",
    },
    {
        "name": "a softmax head over 50 classes under BCELoss of one-hot labels beside a linear head under MSELoss",
        "model": "Classifier",
        "layout": "channels_last",
        "inputs": [{"shape": [32]}],
        "losses": ["BCELoss", "MSELoss"],
        "oneHot": [True, False],
        "probeLoss": "binary-crossentropy + mse",
        "source": """import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.classes = nn.Sequential(nn.Linear(64, 50), nn.Softmax(dim=1))
        self.offset = nn.Linear(64, 2)

    def forward(self, x):
        h = self.trunk(x)
        return self.classes(h), self.offset(h)


model = Classifier()
class_loss = nn.BCELoss()
offset_loss = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def train(loader):
    for x, onehot, offsets in loader:
        optimizer.zero_grad()
        probabilities, offset = model(x)
        loss = class_loss(probabilities, onehot) + offset_loss(offset, offsets)
        loss.backward()
        optimizer.step()
""",
    },
]
