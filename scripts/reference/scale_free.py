"""PyTorch 1.13 reference for the flow at equal weight norm (docs/probe.md, "Scale-free layers").

Run: /usr/bin/python3 scripts/reference/scale_free.py > scripts/reference/scale_free.txt  (about 12 minutes, one thread)

For each model, at initialization (PyTorch's default init; the ResNet's torchvision init: kaiming_normal_
fan_out for convs, BatchNorm weight 1 bias 0), a batch of N(0, 1) inputs, N(0, 1) targets of the output's
shape and the mean squared error (the probe's loss without a criterion), one backward pass; per layer with
a kernel (Conv, Linear) in module order, |grad W| and |W|. Printed: log10 of the first layer's over the last
hidden layer's (the layer before the output layer) for the raw gradient norm and for |grad W|*|W|, mean and
spread over seeds. Then a short training run (SGD, lr 0.1, momentum 0.9) on one fixed batch: the loss at the
start, the lowest and at the end, and whether it stayed finite: whether the flow the ratios grade trains.
"""
import math
import os
import statistics
import torch
import torch.nn as nn

torch.set_num_threads(1)


class Bottleneck(nn.Module):
    def __init__(self, inputs, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """The torchvision bottleneck layout and initialization, written out (Debian's torch has no torchvision)."""

    def __init__(self, blocks=(3, 4, 6, 3)):
        super().__init__()
        self.inputs = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self.stage(64, blocks[0])
        self.layer2 = self.stage(128, blocks[1], 2)
        self.layer3 = self.stage(256, blocks[2], 2)
        self.layer4 = self.stage(512, blocks[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, 1000)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def stage(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inputs != planes * 4:
            downsample = nn.Sequential(nn.Conv2d(self.inputs, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inputs, planes, stride, downsample)]
        self.inputs = planes * 4
        layers += [Bottleneck(self.inputs, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def bn_mlp(depth, width=256, inputs=64):
    layers = []
    for i in range(depth):
        layers += [nn.Linear(inputs if i == 0 else width, width), nn.BatchNorm1d(width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def kernels(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def ratios(make, shape, batch, seeds):
    raw, unit = [], []
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = make()
        model.train()
        out = model(torch.randn(batch, *shape))
        nn.functional.mse_loss(out, torch.randn_like(out)).backward()
        ks = kernels(model)
        g = [k.weight.grad.norm().item() for k in ks]
        w = [k.weight.norm().item() for k in ks]
        raw.append(math.log10(g[0] / g[-2]))
        unit.append(math.log10(g[0] * w[0] / (g[-2] * w[-2])))
    return raw, unit


def trains(make, shape, batch, steps=60, lr=0.1):
    torch.manual_seed(0)
    model = make()
    model.train()
    x = torch.randn(batch, *shape)
    with torch.no_grad():
        y = torch.randn_like(model(x))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    finite = all(math.isfinite(v) for v in losses)
    return losses[0], min(v for v in losses if math.isfinite(v)), losses[-1], finite


FIXTURE = {}
for fixture in ("torch_bn_scale.py", "torch_depthwise.py"):
    exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../test/fixtures/scale-free", fixture)).read(), FIXTURE)

CASES = [
    ("ResNet-50 (torchvision layout), 32x32, batch 12", ResNet, (3, 32, 32), 12, 3),
    ("ResNet-50 (torchvision layout), 224x224, batch 4", ResNet, (3, 224, 224), 4, 2),
    ("ResNet-101 (torchvision layout), 32x32, batch 12", lambda: ResNet((3, 4, 23, 3)), (3, 32, 32), 12, 2),
    ("ResNet-152 (torchvision layout), 32x32, batch 12", lambda: ResNet((3, 8, 36, 3)), (3, 32, 32), 12, 2),
    ("plain MLP, 20 x (Linear 256, BatchNorm1d, ReLU), batch 32", lambda: bn_mlp(20), (64,), 32, 5),
    ("test/fixtures/scale-free/torch_bn_scale.py RescaledKernels, batch 32", FIXTURE["RescaledKernels"], (64,), 32, 5),
    ("test/fixtures/scale-free/torch_depthwise.py DepthwiseFirst, 8x32x32, batch 32", FIXTURE["DepthwiseFirst"], (8, 32, 32), 32, 8),
    ("test/fixtures/scale-free/torch_bn_scale.py DeepBatchNormMlp (50 x Linear 256, BatchNorm1d, ReLU), batch 32", FIXTURE["DeepBatchNormMlp"], (64,), 32, 5),
]

print("model | log10 raw first/last-hidden | log10 at equal weight norm | SGD lr 0.1, 60 steps: loss first, lowest, last, finite")
for name, make, shape, batch, seeds in CASES:
    raw, unit = ratios(make, shape, batch, seeds)
    spread = lambda v: statistics.pstdev(v) if len(v) > 1 else 0.0
    train = trains(make, shape, batch) if "224" not in name else None
    trained = "-" if train is None else "%.3g, %.3g, %.3g, %s" % train
    print("%s | %.2f ± %.2f | %.2f ± %.2f | %s" % (name, statistics.mean(raw), spread(raw), statistics.mean(unit), spread(unit), trained), flush=True)
