/**
 * Classes a model takes from modules outside the analyzed files: a note names them, and no finding
 * is invented for them; the same classes from a module that is analyzed get no such note.
 */
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../project-helper';
import type { FileResult } from '../../../src/analysis/api';
import { defined } from '../../defined';

const analyze = analyzeFiles;

const outsideNotes = (r: FileResult) => r.notices.filter((n) => n.message.includes('not among the analyzed files')).map((n) => n.message);

const restorer = `import torch
import torch.nn as nn
from mypkg.blocks import ConvBlock, Head
from mypkg.config import Config

class Restorer(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.cfg = Config()
        self.b1 = ConvBlock(ch, 32)
        self.b2 = ConvBlock(32, 32)
        self.head = Head(32, ch)
        self.apply(self._zero)

    def _zero(self, mod):
        if isinstance(mod, nn.Conv2d):
            nn.init.constant_(mod.weight, 0)

    def forward(self, x):
        return self.head(self.b2(self.b1(x)))
`;

const blocks = `import torch.nn as nn

class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return self.conv(x)

class Head(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.conv(x)
`;

describe('classes from modules outside the analyzed files', () => {
  it('names them in one note per module, on the import, and invents no finding', async () => {
    const [r] = await analyze({ '/w/restore.py': restorer });
    expect(outsideNotes(defined(r))).toEqual(['Line 3: ConvBlock, Head come from mypkg.blocks, which is not among the analyzed files: their layers are not analyzed']);
    expect(defined(r).notices.find((n) => n.message.includes('not among the analyzed files'))?.range?.start.line).toBe(2);
    // The model itself, with no layer understood, is not reported: a note at its class says so and why.
    expect(defined(r).notices.filter((n) => n.message.includes('Restorer is not analyzed')).map((n) => n.range?.start.line)).toEqual([5]);
    expect(defined(r).findings).toEqual([]);
  });

  it('says nothing when the module is one of the analyzed files (absolute or relative import)', async () => {
    const results = await analyze({ '/w/mypkg/__init__.py': '', '/w/mypkg/blocks.py': blocks, '/w/restore.py': restorer });
    expect(results.flatMap(outsideNotes)).toEqual([]);
    const relative = await analyze({ '/w/pkg/__init__.py': '', '/w/pkg/blocks.py': blocks, '/w/pkg/restore.py': restorer.replace('from mypkg.blocks import', 'from .blocks import') });
    expect(relative.flatMap(outsideNotes)).toEqual([]);
  });

  it('names a library class used as a layer in a Keras Sequential, not one used elsewhere', async () => {
    const text = `from tensorflow import keras
from tensorflow.keras import layers
from addons.layers import WeightNormDense
from addons.callbacks import TimeStopping

model = keras.Sequential([layers.Dense(64, activation='relu', input_shape=(8,)), WeightNormDense(1)])
stop = TimeStopping(seconds=60)
`;
    const [r] = await analyze({ '/w/m.py': text });
    expect(outsideNotes(defined(r))).toEqual(['Line 3: WeightNormDense comes from addons.layers, which is not among the analyzed files: its layers are not analyzed']);
  });

  it('says nothing for framework classes and for files without model code', async () => {
    const plain = `from mypkg.config import Config
from mypkg.io import Reader
cfg = Config()
rows = Reader(cfg.path).read()
`;
    const [a] = await analyze({ '/w/io.py': plain });
    expect(defined(a).notices).toEqual([]);
    const [b] = await analyze({ '/w/net.py': 'import torch.nn as nn\nfrom torch.nn import Linear\nnet = nn.Sequential(Linear(4, 4), nn.ReLU(), Linear(4, 1))\n' });
    expect(outsideNotes(defined(b))).toEqual([]);
  });
});
