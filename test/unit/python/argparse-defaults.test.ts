/**
 * Script-level sizes from argparse: `opt.img_size` with `opt = parser.parse_args()` is the default of
 * `--img_size` (dashes read as underscores, `dest=` renames), with the parser at the module's level, in
 * the function that parses it, or in a function whose parse the script calls; anything else stays unknown.
 */
import { describe, expect, it } from 'vitest';
import { extractTorchFrom, model } from '../extract/torch-fixture';

const script = (args: string, use: string) => `
import argparse
import torch.nn as nn

parser = argparse.ArgumentParser()
${args}
opt = parser.parse_args()

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(${use}, 10)

    def forward(self, x):
        return self.fc(x)
`;

async function inFeatures(args: string, use: string): Promise<number | null> {
  const net = model(await extractTorchFrom(script(args, use)), 'Net');
  return net.layers.find((l) => l.kind === 'dense')?.inFeatures ?? null;
}

describe('argparse defaults as constants', () => {
  it('reads --name, --dashed-name and dest= defaults, and arithmetic on them', async () => {
    expect(await inFeatures('parser.add_argument("--latent_dim", type=int, default=100)', 'opt.latent_dim')).toBe(100);
    expect(await inFeatures('parser.add_argument("--img-size", type=int, default=28)', 'opt.img_size ** 2')).toBe(784);
    expect(await inFeatures('parser.add_argument("-z", "--zdim", dest="latent", type=int, default=64)', 'opt.latent')).toBe(64);
  });

  it('an argument without a default, an unknown name or another object stays unknown', async () => {
    expect(await inFeatures('parser.add_argument("--latent_dim", type=int, required=True)', 'opt.latent_dim')).toBeNull();
    expect(await inFeatures('parser.add_argument("--latent_dim", type=int, default=100)', 'opt.hidden')).toBeNull();
    expect(await inFeatures('parser.add_argument("--latent_dim", type=int, default=100)', 'config.latent_dim')).toBeNull();
  });

  it('reads a parser built and parsed in a function: `args = get_args()` at the top, and `def main()` that parses and builds', async () => {
    const NET = `class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc(x)
`;
    const getArgs = (returned: string) => `
import argparse
import torch.nn as nn


def get_args():
    parser = argparse.ArgumentParser(description="Train the net")
    parser.add_argument("--hidden", "-H", type=int, default=48)
    ${returned}


${NET}

if __name__ == "__main__":
    args = get_args()
    net = Net(args.hidden)
`;
    const hidden = async (text: string) => model(await extractTorchFrom(text), 'Net').layers.find((l) => l.kind === 'dense')?.inFeatures ?? null;
    expect(await hidden(getArgs('return parser.parse_args()'))).toBe(48);
    expect(await hidden(getArgs('args = parser.parse_args()\n    return args'))).toBe(48);
    // A function that returns something else than the parse: unknown.
    expect(await hidden(getArgs('return parser'))).toBeNull();
    const main = `
import argparse
import torch.nn as nn


${NET}

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=36)
    args = parser.parse_args()
    net = Net(args.hidden)
    return net


if __name__ == "__main__":
    main()
`;
    expect(await hidden(main)).toBe(36);
  });
});
