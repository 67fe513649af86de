/**
 * Framework names used without imports (notebook fragments, course snippets), star imports and
 * private import paths: what they are read as, the note that says so, and the files where the same
 * spellings are the file's own names and must stay so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { analyzeText } from '../project-helper';
import { assumeFrameworkNames } from '../../../src/analysis/extract/assumed-imports';
import { layerSummary, parseFile } from './extract-helper';

const FIXTURES = join(__dirname, '../../fixtures/constructs');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

const analyzeOne = (text: string, path = '/w/snippet.py'): Promise<FileResult> => analyzeText(text, path);

const codes = (r: FileResult) => r.findings.map((f) => f.code);
/** Note messages without the engine's `Line N: ` prefix (lines are asserted on the ranges). */
const notes = (r: FileResult) => r.notices.map((n) => n.message.replace(/^Line \d+: /, ''));

async function resolveAfterAssumptions(text: string, names: string[]): Promise<Record<string, string | null>> {
  const file = await parseFile(text);
  try {
    assumeFrameworkNames(file);
    return Object.fromEntries(names.map((n) => [n, file.imports.has(n) ? file.imports.resolve(n) : null]));
  } finally {
    file.dispose();
  }
}

describe('framework names without imports', () => {
  it('reads a Keras notebook fragment and says Keras was assumed, on the line of the first use', async () => {
    const text = `clf = Sequential([Dense(300, activation='sigmoid', input_shape=(40,)),
                  Dense(200, activation='sigmoid'), Dense(100, activation='sigmoid'),
                  Dense(5, activation='softmax')])
`;
    const r = await analyzeOne(text);
    expect(codes(r)).toContain('GL101');
    expect(r.models.map((m) => m.framework)).toEqual(['keras']);
    const note = r.notices.find((n) => n.message.includes('Keras was assumed'));
    expect(note?.message).toBe("Line 1: Keras was assumed: no import found for 'Sequential', 'Dense'");
    expect(note?.range?.start.line).toBe(0);
    expect(note?.severity).toBe('information');
  });

  it('takes the first use in code, not a spelling in a comment, a docstring or an f-string before it, and lists the names in the order the code uses them', async () => {
    const text = `"""Trains a Dense(10) head on a Sequential stack."""
# Dense(64) layers, then Activation('relu')
print(f"building {Dense(1)}")

clf = Sequential()
clf.add(Activation('relu'))
clf.add(Dense(64, activation='sigmoid', input_shape=(40,)))
clf.add(Dense(64, activation='sigmoid'))
clf.add(Dense(64, activation='sigmoid'))
`;
    const r = await analyzeOne(text);
    expect(r.models.map((m) => m.framework)).toEqual(['keras']);
    const note = r.notices.find((n) => n.message.includes('Keras was assumed'));
    expect(note?.message).toBe("Line 5: Keras was assumed: no import found for 'Sequential', 'Activation', 'Dense'");
    expect(note?.range?.start.line).toBe(4);
  });

  it('reads a Keras 1 course snippet built with .add() (Sequential, Dense, Activation bare)', async () => {
    const r = await analyzeOne(fixture('keras1_course_snippet.py'));
    expect(r.models).toHaveLength(1);
    expect(r.models[0]!.layers.filter((l) => l.kind === 'dense')).toHaveLength(4);
    expect(codes(r)).toContain('GL101');
    expect(notes(r)).toContain("Keras was assumed: no import found for 'Sequential', 'Dense', 'Activation'");
  });

  it('reads `keras.Input` / `layers.Dense` without their import as the Keras modules', async () => {
    const r = await analyzeOne(fixture('keras_layers_module_no_import.py'));
    expect(r.models.map((m) => m.style)).toEqual(['keras-functional']);
    expect(codes(r)).toContain('GL101');
    expect(notes(r)).toContain("Keras was assumed: no import found for 'keras', 'layers'");
  });

  it('reads a torch module whose imports were in another cell (nn.Module, nn.Linear, torch.sigmoid)', async () => {
    const r = await analyzeOne(fixture('torch_no_imports.py'));
    expect(r.models.map((m) => `${m.framework}:${m.name}`)).toEqual(['torch:Net']);
    expect(layerSummary(r.models[0]!)).toEqual(['dense', 'activation:sigmoid', 'dense', 'activation:sigmoid', 'dense', 'activation:sigmoid', 'dense']);
    expect(codes(r)).toContain('GL101');
    expect(notes(r)).toContain("PyTorch was assumed: no import found for 'nn', 'torch'");
  });

  it('takes a bare name spelled alike in both frameworks from the rest of the file', async () => {
    // Sequential and Dropout exist in both; Linear says torch, Dense says Keras.
    expect(await resolveAfterAssumptions('net = Sequential(Linear(4, 8), Dropout(0.1))\n', ['Sequential', 'Dropout', 'Linear'])).toEqual({
      Sequential: 'torch.nn.Sequential',
      Dropout: 'torch.nn.Dropout',
      Linear: 'torch.nn.Linear',
    });
    expect(await resolveAfterAssumptions('net = Sequential([Dense(8), Dropout(0.1)])\n', ['Sequential', 'Dropout'])).toEqual({
      Sequential: 'keras.models.Sequential',
      Dropout: 'keras.layers.Dropout',
    });
    expect(await resolveAfterAssumptions('import torch\nnet = Sequential(Dropout(0.1))\n', ['Sequential'])).toEqual({ Sequential: 'torch.nn.Sequential' });
  });

  it('leaves names the file defines alone: its own Dense class, Sequential function and nn class', async () => {
    const r = await analyzeOne(fixture('own_names_numpy.py'));
    expect(r.models).toEqual([]);
    expect(r.findings).toEqual([]);
    expect(r.notices).toEqual([]);
    expect(await resolveAfterAssumptions(fixture('own_names_numpy.py'), ['Dense', 'Sequential', 'nn'])).toEqual({ Dense: null, Sequential: null, nn: null });
  });

  it('leaves names imported from another library alone', async () => {
    const r = await analyzeOne(fixture('imported_lookalikes.py'));
    expect(r.models).toEqual([]);
    expect(r.notices).toEqual([]);
    expect(await resolveAfterAssumptions(fixture('imported_lookalikes.py'), ['Dense', 'nn'])).toEqual({ Dense: 'minidl.layers.Dense', nn: 'minidl.nn' });
  });

  it('leaves parameters, loop variables and assigned names alone', async () => {
    const r = await analyzeOne(fixture('bound_by_parameter.py'));
    expect(r.models).toEqual([]);
    expect(r.notices).toEqual([]);
    const text = 'for nn in range(3):\n    print(nn.bit_length())\nwith open("f") as layers:\n    layers.read()\ntf, F = 1, 2\nprint(tf.real, F.real)\n';
    expect(await resolveAfterAssumptions(text, ['nn', 'layers', 'tf', 'F'])).toEqual({ nn: null, layers: null, tf: null, F: null });
  });

  it('says nothing when the assumed names built nothing', async () => {
    const r = await analyzeOne('print(layers.Dense)\n');
    expect(r.models).toEqual([]);
    expect(r.notices).toEqual([]);
  });
});

describe('star imports', () => {
  it('reads nn.Conv2d through `from pkg import *` by its spelling, with a note naming the star import', async () => {
    const text = `import torch
from mypkg.common import *

class Restorer(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1)
        self.head = nn.Conv2d(32, ch, 1)
        self.apply(self._zero)

    def _zero(self, mod):
        if isinstance(mod, nn.Conv2d):
            nn.init.constant_(mod.weight, 0)

    def forward(self, x):
        return self.head(torch.relu(self.c2(torch.relu(self.c1(x)))))
`;
    const r = await analyzeOne(text);
    expect(codes(r)).toContain('GL201');
    expect(notes(r)).toContain("Read by spelling: 'nn' as torch.nn; only `from mypkg.common import *` can bind it");
    // Twin: the same module with `from torch import nn` needs no note, and finds the same.
    const twin = await analyzeOne(text.replace('from mypkg.common import *', 'from torch import nn'));
    expect(codes(twin)).toEqual(codes(r));
    expect(twin.notices).toEqual([]);
  });

  it('reads `from torch.nn import *` names (Sequential, Linear, Sigmoid) as torch.nn classes', async () => {
    const r = await analyzeOne(fixture('torch_star_nn.py'));
    expect(r.models.map((m) => `${m.framework}:${m.style}`)).toEqual(['torch:torch-sequential']);
    expect(codes(r)).toContain('GL101');
    expect(notes(r)).toContain("Star import `from torch.nn import *`: read 'Sequential' as torch.nn.Sequential, 'Linear' as torch.nn.Linear, 'Sigmoid' as torch.nn.Sigmoid");
  });

  it('reads `from keras.models import *` / `from keras.layers import *` by module', async () => {
    const r = await analyzeOne(fixture('keras_star_layers.py'));
    expect(codes(r)).toEqual(['GL201']);
    expect(notes(r)).toEqual([
      "Star import `from keras.models import *`: read 'Sequential' as keras.models.Sequential",
      "Star import `from keras.layers import *`: read 'Dense' as keras.layers.Dense",
    ]);
  });

  it('does not read a name through a star import when the file binds it', async () => {
    const text = 'from mypkg.common import *\nfrom torch import nn\nnet = nn.Sequential(nn.Linear(4, 4))\n';
    const r = await analyzeOne(text);
    expect(r.models).toHaveLength(1);
    expect(r.notices).toEqual([]);
  });
});

describe('internal and legacy import paths', () => {
  const body = `reg = Sequential()
reg.add(Dense(4, input_dim=3, kernel_initializer="zeros", activation="relu"))
reg.add(Dense(1))
reg.compile(optimizer="sgd", loss="mse")
`;
  for (const [prefix, canonical] of [
    ['tensorflow.python.keras._impl.keras', 'keras'],
    ['tensorflow.python.keras', 'keras'],
    ['tensorflow.contrib.keras.python.keras', 'keras'],
    ['tensorflow.contrib.keras.api.keras', 'keras'],
    ['tensorflow.contrib.keras', 'keras'],
    ['keras.api', 'keras'],
    ['keras.src', 'keras'],
    ['keras._impl.keras', 'keras'],
  ] as const) {
    it(`reads ${prefix}.layers as ${canonical}.layers, with a note`, async () => {
      const r = await analyzeOne(`from ${prefix}.layers import Dense\nfrom ${prefix}.models import Sequential\n${body}`);
      expect(codes(r)).toEqual(['GL201']);
      expect(notes(r)).toContain(`Import path ${prefix}.layers is internal or legacy; read as ${canonical}.layers`);
    });
  }

  it('says nothing for the public spellings (tensorflow.keras, keras)', async () => {
    for (const prefix of ['tensorflow.keras', 'keras']) {
      const r = await analyzeOne(`from ${prefix}.layers import Dense\nfrom ${prefix}.models import Sequential\n${body}`);
      expect(codes(r)).toEqual(['GL201']);
      expect(r.notices).toEqual([]);
    }
  });

  it('reads torch.nn.modules.<file>.<Class> as torch.nn.<Class>', async () => {
    const text = `import torch
from torch.nn.modules.linear import Linear
from torch.nn.modules.container import Sequential
from torch.nn.modules.activation import Sigmoid

net = Sequential(Linear(16, 16), Sigmoid(), Linear(16, 16), Sigmoid(), Linear(16, 16), Sigmoid(), Linear(16, 1))
`;
    const r = await analyzeOne(text);
    expect(codes(r)).toEqual(['GL101']);
    expect(notes(r)).toContain('Import path torch.nn.modules.linear is internal or legacy; read as torch.nn');
  });
});

describe('.add() on a receiver the file never builds', () => {
  it('reads the receiver as a Keras Sequential built before its first .add, with a note', async () => {
    const text = `from keras.layers import Conv2D, BatchNormalization, Flatten, Dense
feat.add(Conv2D(8, 3, activation='relu', input_shape=(28, 28, 1)))
feat.add(BatchNormalization())
feat.add(Flatten()); feat.add(Dense(10, activation='softmax'))
`;
    const r = await analyzeOne(text);
    expect(r.models.map((m) => `${m.name}:${m.style}`)).toEqual(['feat:keras-add']);
    expect(layerSummary(r.models[0]!)).toEqual(['conv2d:relu', 'batchnorm', 'flatten', 'dense:softmax']);
    expect(codes(r)).toEqual(['GL301']);
    const note = r.notices.find((n) => n.message.includes('implicit'));
    expect(note?.message).toBe("Line 2: An implicit Keras Sequential was assumed for 'feat': it is never built in this file");
    expect(note?.range?.start.line).toBe(1);
  });

  it('works with tf.keras spellings and keeps compile facts on the model', async () => {
    const r = await analyzeOne(fixture('add_on_unbuilt_receiver.py'));
    expect(r.models.map((m) => m.name)).toEqual(['net']);
    expect(r.models[0]!.training.compile).not.toBeNull();
    expect(codes(r)).toContain('GL101');
  });

  it('works in a fragment with no imports at all (both assumptions noted)', async () => {
    const r = await analyzeOne("model.add(Dense(32, input_dim=8, kernel_initializer='zeros', activation='relu'))\nmodel.add(Dense(1))\n");
    expect(codes(r)).toEqual(['GL201']);
    expect(notes(r)).toEqual(["Keras was assumed: no import found for 'Dense'", "An implicit Keras Sequential was assumed for 'model': it is never built in this file"]);
  });

  it('reads no model from a fragment that only adds weightless layers (a cell showing `model.add(layers.Dropout(0.5))`)', async () => {
    const r = await analyzeOne("from keras import layers\nmodel.add(layers.Dropout(0.5))\n");
    expect(r.models).toEqual([]);
    expect(r.notices.map((n) => n.message).join('\n')).not.toMatch(/implicit/);
    // Its twin with a weighted layer is a model.
    const weighted = await analyzeOne("from keras import layers\nmodel.add(layers.Dropout(0.5))\nmodel.add(layers.Dense(1))\n");
    expect(weighted.models.map((m) => m.name)).toEqual(['model']);
  });

  it('leaves a receiver the file builds (from another module) alone, and .add on a set', async () => {
    const r = await analyzeOne(fixture('add_on_built_receiver.py'));
    expect(r.models).toEqual([]);
    expect(r.notices).toEqual([]);
  });

  it('leaves a receiver bound as a parameter or loop variable alone', async () => {
    const text = `from keras.layers import Dense
for head in heads:
    head.add(Dense(4, kernel_initializer='zeros', activation='relu'))
def extend(trunk):
    trunk.add(Dense(4, kernel_initializer='zeros', activation='relu'))
`;
    const r = await analyzeOne(text);
    expect(r.models).toEqual([]);
    expect(r.notices).toEqual([]);
  });
});
