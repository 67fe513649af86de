"""Reference cases for tensor operations written in forward: transposes, unsqueeze/squeeze, products of two
computed tensors (`q @ k.transpose(-2, -1)`, torch.einsum), split, a tril causal mask and softmax over a
dim= other than the last. The sources are the probe's own fixtures (test/fixtures/probe-tensor-ops), read
here so that one copy of each model exists."""
import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "test", "fixtures", "probe-tensor-ops")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


CASES = [
    {
        "name": "token mixer: Linear over x.transpose(1, 2), q @ k^T attention, einsum slot read-out, softmax(dim=1), unsqueeze/squeeze",
        "model": "TokenMixer",
        "layout": "channels_last",
        "inputs": [{"shape": [16, 32]}],
        "source": fixture("torch_token_mixer.py"),
    },
    {
        "name": "minGPT-shaped block: c_attn(x).split, view + transpose heads, q @ k^T masked by a tril buffer, softmax(dim=-1), att @ v, transpose + view back",
        "model": "Block",
        "layout": "channels_last",
        "inputs": [{"shape": [16, 64]}],
        "source": fixture("torch_causal_self_attention.py"),
    },
    {
        "name": "minGPT-shaped GPT: token and position Embeddings, two such blocks, lm_head",
        "model": "GPT",
        "layout": "channels_last",
        "inputs": [{"shape": [16], "tokens": 100}],
        "source": fixture("torch_causal_self_attention.py"),
    },
]
