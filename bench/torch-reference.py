"""PyTorch reference speeds for bench/probe.mjs (issue 10, "Probe speed"): the same networks, batch and
SGD step as the probe's benchmark cases, on one CPU thread (the wasm backend runs on one). Prints one
JSON line per case: the median milliseconds per training step after warm-up, wall and CPU (the
machine is shared: CPU time is the comparison that survives load). Run with /usr/bin/python3
(Debian's python3-torch, 1.13); bench/probe.mjs runs it and prints the ratios."""
import json
import statistics
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(0)


def dense_stack():
    layers = []
    for _ in range(20):
        layers += [nn.Linear(64, 64), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(64, 10)), (64, 64)


def cifar_cnn():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    head = [nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU()]
    for _ in range(4):
        head += [nn.Linear(256, 256), nn.ReLU()]
    head += [nn.Linear(256, 10)]
    body = block(3, 32) + block(32, 32) + [nn.MaxPool2d(2)] + block(32, 64) + block(64, 64) + [nn.MaxPool2d(2)]
    return nn.Sequential(*body, *head), (32, 3, 32, 32)


CASES = {
    '20x Dense(64) sigmoid MLP, batch 64': dense_stack,
    '4-conv CIFAR CNN (BatchNorm, 6-layer head), batch 32': cifar_cnn,
}


def ms_per_step(make, steps=12):
    model, shape = make()
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    cpu = []
    for _ in range(steps + 2):
        start = time.perf_counter()
        start_cpu = time.process_time()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        # The probe reads every layer's gradient norm each step; so does the reference.
        norms = [p.grad.norm() for p in model.parameters()]
        optimizer.step()
        float(loss)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times[2:]), statistics.median(cpu[2:])


if __name__ == '__main__':
    only = sys.argv[1] if len(sys.argv) > 1 else ''
    for name, make in CASES.items():
        if only in name:
            wall, cpu = ms_per_step(make)
            print(json.dumps({'case': name, 'torch': torch.__version__, 'msPerStep': wall, 'cpuMsPerStep': cpu}))
