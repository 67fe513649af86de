"""Reference cases for a GPT written as nanoGPT writes one (test/fixtures/probe-tensor-ops/torch_gpt_config.py):
a dataclass config, blocks in a ModuleList inside a ModuleDict, N(0, 0.02) weights from self.apply and
the scaled residual projections from a named_parameters() loop. torch 1.13 has no
F.scaled_dot_product_attention, so its `hasattr` flag is False here and torch computes attention by
hand; the probe reads the fused call (the same math). The probe's hand-written path gives the same
gradients as its fused one (test/probe/gpt-attention.test.ts); the prediction reads the hand-written
scores as products and misses this case's attention layers by more than a decade, so it is not a case
here (prediction-vs-torch.test holds every case to a decade). forward returns the logits alone here (the fixture's loss
in forward is read elsewhere), so both sides train them on the mean squared error."""
import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "test", "fixtures", "probe-tensor-ops")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def replaced(text, old, new):
    assert old in text, old
    return text.replace(old, new)


LOSS = "        if targets is None:\n            return logits\n        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))\n"
# The reference script builds the class with no arguments: its config becomes a default.
SOURCE = replaced(replaced(fixture("torch_gpt_config.py"), LOSS, "        return logits\n"), "class TinyGPT(nn.Module):\n    def __init__(self, cfg):", "class TinyGPT(nn.Module):\n    def __init__(self, cfg=TinyConfig(depth=2)):")

CASES = [
    {
        "name": "nanoGPT-style GPT, F.scaled_dot_product_attention(q, k, v, is_causal=True) (torch: its manual path)",
        "model": "TinyGPT",
        "layout": "channels_last",
        "inputs": [{"shape": [16], "tokens": 96}],
        "source": SOURCE,
    },
]
