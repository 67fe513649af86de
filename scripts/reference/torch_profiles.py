"""PyTorch reference gradient profiles for the probe (docs/probe.md, "Reference profiles").

Usage: /usr/bin/python3 scripts/reference/torch_profiles.py scripts/reference/cases/GROUP.py [...]
writes test/fixtures/probe/reference/GROUP.json for each case file.

A case file defines CASES, a list of dicts:
  name    what the case shows
  source  Python source of the model, exactly what the analyzer reads in the test
  model   the class (or module-level variable) in `source` that is the model
  inputs  one entry per forward() argument, without the batch dimension, in torch's layout:
          {"shape": [3, 16, 16]} (N(0, 1) values) or {"shape": [20], "tokens": 50} (ids in [0, 50))
  layout  "channels_first" (images, Conv1d inputs) or "channels_last" (features, sequences)
  toleranceDecades (optional) a wider tolerance for a noisy case, with a reason in "why"
  losses  (optional) torch criteria by name, one per output forward returns, summed as the training
          loss (targets as the probe draws them); the source's own training code must compute the same,
          and "probeLoss" names the loss the probe must report for it
  applied (optional, with losses) per output, the activation the training's loss call applies to it
          first ("softmax", "sigmoid", "log_softmax" over the last axis, or null)
  oneHot  (optional, with losses) per output, whether its BCELoss targets are one-hot rows (a softmax's
          labels, as the probe draws them for a softmax) rather than independent 0/1 labels

For every case this runs the probe's procedure with PyTorch's own default initialization: a batch of
32 standardized Gaussian inputs (integer tokens for an Embedding), N(0, 1) targets of the output's
shape and the mean squared error (the probe's loss for a linear last layer and no criterion), or the
case's own criteria, one backward pass. Per leaf module with parameters, in the order forward() first calls them, the L2 norm
of the gradient of all its parameters (frozen modules, whose parameters do not require grad, are left out), as log10 of the ratio to the last such module: the step-1
gradient profile; null for a module whose gradient is exactly zero in every seed (behind a zero-initialized scale). Averaged over SEEDS seeds (mean and standard deviation of the per-seed log ratios).
"""
import json
import math
import os
import runpy
import sys

import torch

BATCH = 32
SEEDS = 16
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "probe", "reference")


def make_input(spec, generator):
    shape = [BATCH] + list(spec["shape"])
    if "tokens" in spec:
        return torch.randint(0, spec["tokens"], shape, generator=generator)
    return torch.randn(shape, generator=generator)


def case_loss(case, output, generator):
    """The mean squared error against N(0, 1) targets; with "losses", the sum of those torch criteria, one
    per output forward returns (in its order), on targets as the probe draws them."""
    if "losses" not in case:
        return torch.nn.functional.mse_loss(output, torch.randn(output.shape, generator=generator))
    outputs = output if isinstance(output, tuple) else (output,)
    total = 0
    applied = case.get("applied", [None] * len(case["losses"]))
    one_hot = case.get("oneHot", [False] * len(case["losses"]))
    for name, out, first, rows in zip(case["losses"], outputs, applied, one_hot):
        criterion = getattr(torch.nn, name)()
        if name in ("CrossEntropyLoss", "NLLLoss"):
            target = torch.randint(0, out.shape[-1], out.shape[:-1], generator=generator)
        elif rows:
            target = torch.nn.functional.one_hot(torch.randint(0, out.shape[-1], out.shape[:-1], generator=generator), out.shape[-1]).float()
        elif name in ("BCELoss", "BCEWithLogitsLoss"):
            target = torch.randint(0, 2, out.shape, generator=generator).float()
        else:
            target = torch.randn(out.shape, generator=generator)
        if first is not None:
            out = getattr(torch, first)(out, dim=-1) if first != "sigmoid" else torch.sigmoid(out)
        total = total + criterion(out, target)
    return total


def one_profile(case, seed):
    namespace = {}
    exec(compile(case["source"], case["name"], "exec"), namespace)
    torch.manual_seed(seed)
    target = namespace[case["model"]]
    model = target() if isinstance(target, type) else target
    model.train()
    order = []
    # Frozen modules (no parameter requires grad) get no gradient; the probe measures none for them either.
    weighted = [(name, m) for name, m in model.named_modules() if any(p.requires_grad for p in m.parameters(recurse=False))]

    def remember(module, _inputs):
        if module not in order:
            order.append(module)

    hooks = [m.register_forward_pre_hook(remember) for _, m in weighted]
    generator = torch.Generator().manual_seed(10_000 + seed)
    inputs = [make_input(spec, generator) for spec in case["inputs"]]
    output = model(*inputs)
    loss = case_loss(case, output, generator)
    loss.backward()
    for h in hooks:
        h.remove()
    names = {m: name for name, m in weighted}
    # A module forward never calls (nn.MultiheadAttention's out_proj, used through F.multi_head_attention_forward)
    # belongs to its nearest called ancestor, as the probe's attention layer holds its output projection.
    owned = {m: list(m.parameters(recurse=False)) for m in order}
    called_names = {names[m]: m for m in order}
    for name, module in weighted:
        if module in owned:
            continue
        parts = name.split(".")
        ancestor = next((called_names[".".join(parts[:k])] for k in range(len(parts) - 1, 0, -1) if ".".join(parts[:k]) in called_names), None)
        if ancestor is not None:
            owned[ancestor].extend(module.parameters(recurse=False))
    norms = []
    # A module used under torch.no_grad() gets no gradient at all: left out, as the probe leaves it out.
    order = [m for m in order if any(p.grad is not None for p in owned[m])]
    for module in order:
        squares = sum(float((p.grad.double() ** 2).sum()) for p in owned[module] if p.grad is not None)
        norms.append((names[module], type(module).__name__, math.sqrt(squares)))
    last = norms[-1][2]
    return [(name, cls, math.log10(norm / last) if norm > 0 and last > 0 else None) for name, cls, norm in norms]


def reference(case):
    runs = [one_profile(case, seed) for seed in range(SEEDS)]
    layers = []
    for i, (name, cls, _) in enumerate(runs[0]):
        values = [run[i][2] for run in runs if run[i][2] is not None]
        if not values:
            # No gradient at step 1 in any seed (a zero-initialized scale in front of it): null, the probe must give exactly zero.
            layers.append({"module": name, "class": cls, "log10Ratio": None, "std": None})
            continue
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        layers.append({"module": name, "class": cls, "log10Ratio": round(mean, 4), "std": round(std, 4)})
    out = {k: case[k] for k in ("name", "source", "model", "inputs", "layout") if k in case}
    for k in ("toleranceDecades", "why", "probeLoss"):
        if k in case:
            out[k] = case[k]
    out["loss"] = " + ".join(case["losses"]) if "losses" in case else "mse"
    out["batch"] = BATCH
    out["seeds"] = SEEDS
    out["layers"] = layers
    return out


def main(paths):
    torch.set_num_threads(1)
    for path in paths:
        cases = runpy.run_path(path)["CASES"]
        group = os.path.splitext(os.path.basename(path))[0]
        result = {
            "generator": "scripts/reference/torch_profiles.py",
            "torch": torch.__version__,
            "cases": [reference(case) for case in cases],
        }
        os.makedirs(OUT, exist_ok=True)
        target = os.path.join(OUT, group + ".json")
        with open(target, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
        print(f"{target}: {len(cases)} cases")


if __name__ == "__main__":
    main(sys.argv[1:] or [os.path.join(os.path.dirname(__file__), "cases", "layers.py")])
