/** `gradient-lens probe` end to end: the built CLI, the analyzer, the worker process, real tfjs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProbeResult } from '../../src/shared/probe';
import { defined } from '../defined';
import { fixtureTree, runCli } from '../unit/cli/run-cli';

const fixtures = join(__dirname, '../fixtures/probe');
const probe = (...args: string[]) => runCli(['probe', ...args, '--steps', '6', '--backend', 'wasm'], fixtures);

describe('gradient-lens probe', () => {
  it('exits 1 on a vanishing model and prints one row per layer with its line', () => {
    const run = probe('keras_deep_sigmoid.py');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/backend wasm, 6 steps/);
    expect(run.stdout.split('\n').filter((l) => /^\s+9\s+dense/.test(l))).toHaveLength(10);
    expect(run.stdout).toMatch(/warning\s+vanishing: Gradients vanish/);
  });

  it('exits 0 on its healthy twin', () => {
    const run = probe('keras_deep_relu.py');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/healthy gradient flow/);
  });

  it('writes JSON version 1 with the what-if run, and a self-contained HTML report', () => {
    const out = fixtureTree({});
    try {
      const html = join(out.root, 'report.html');
      const run = probe('keras_deep_sigmoid.py', '--what-if', 'GL101', '--format', 'json', '--html', html, '--seed', '5');
      expect(run.status).toBe(1);
      const result: unknown = JSON.parse(run.stdout);
      expect(isProbeResult(result)).toBe(true);
      if (!isProbeResult(result)) return;
      expect(result.seed).toBe(5);
      expect(result.layers[0]).toMatchObject({ line: 9, kind: 'dense', params: 32 * 64 + 64 });
      expect(result.layers[0]!.gradNorm).toHaveLength(6);
      expect(result.verdicts.map((v) => v.kind)).toContain('vanishing');
      expect(result.whatIf?.verdicts.map((v) => v.kind)).not.toContain('vanishing');
      const page = readFileSync(html, 'utf8');
      expect(page).toMatch(/^<!DOCTYPE html>/);
      expect(page).toContain('Content-Security-Policy');
      // The panel's own report: its bundle inlined under a nonce, the result baked in as JSON.
      expect(page).toContain('id="gl-initial-state"');
      expect(page).not.toMatch(/<script src=|<link [^>]*href="https?:/);
      const baked = page.slice(page.indexOf('id="gl-initial-state">') + 'id="gl-initial-state">'.length);
      const state = JSON.parse(baked.slice(0, baked.indexOf('</script>'))) as { result: unknown };
      expect(isProbeResult(state.result)).toBe(true);
      if (isProbeResult(state.result)) expect(state.result.whatIfTitle).toMatch(/^relu \+ He initialization/);
    } finally {
      out.cleanup();
    }
  });

  it('escapes names from the code in the HTML report', () => {
    const tree = fixtureTree({
      'm.py': 'from tensorflow import keras\nfrom tensorflow.keras import layers\n\nmodel = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, name="<img src=x>"), layers.Dense(2)])\n',
    });
    try {
      const run = runCli(['probe', 'm.py', '--steps', '2', '--backend', 'wasm', '--html', 'r.html'], tree.root);
      expect(run.status).toBe(0);
      const page = readFileSync(join(tree.root, 'r.html'), 'utf8');
      expect(page).not.toContain('<img src=x>');
      expect(page).toContain('\\u003cimg src=x\\u003e');
    } finally {
      tree.cleanup();
    }
  });

  it('takes verdict thresholds from --threshold', () => {
    const lenient = probe('keras_deep_sigmoid.py', '--threshold', 'vanishingRatio=1e-12', '--threshold', 'attenuatedRatio=1e-12');
    expect(lenient.status).toBe(0);
    expect(runCli(['probe', 'keras_deep_sigmoid.py', '--threshold', 'vanishing=1'], fixtures)).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown key "vanishing"/) });
  });

  it('exits 2 with a clear message on errors', () => {
    expect(probe('keras_deep_sigmoid.py', '--model', 'nope')).toMatchObject({ status: 2, stderr: expect.stringMatching(/no model named "nope"/) });
    expect(probe('keras_deep_sigmoid.py', '--what-if', 'GL402')).toMatchObject({ status: 2, stderr: expect.stringMatching(/no GL402 finding with a what-if \(available: GL101\)/) });
    expect(runCli(['probe', 'keras_deep_sigmoid.py', '--steps', 'many'], fixtures)).toMatchObject({ status: 2, stderr: expect.stringMatching(/--steps must be an integer/) });
    expect(probe('missing.py')).toMatchObject({ status: 2, stderr: expect.stringMatching(/missing\.py: no such file/) });
    expect(runCli(['probe', 'keras_deep_sigmoid.py', '--backend', 'node'], fixtures)).toMatchObject({ status: 2, stderr: expect.stringMatching(/probe failed \(backend\)/) });
  });

  it('advises a smaller --batch or --input-shape only where it helps: not for a model over the parameter budget', () => {
    // 100,000 x 1,000 weights: 100 M parameters, over the 80 M budget whatever the batch and input.
    const tree = fixtureTree({ 'wide.py': 'import torch.nn as nn\n\nmodel = nn.Sequential(nn.Linear(100000, 1000), nn.ReLU(), nn.Linear(1000, 10))\n' });
    try {
      const run = runCli(['probe', 'wide.py', '--steps', '1', '--backend', 'wasm'], tree.root);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/probe failed \(budget\): model model has 100,0\d\d,\d{3} parameters, over the probe budget of 80,000,000.*a smaller batch or input does not change this/);
      expect(run.stderr).not.toMatch(/--batch|--input-shape/);
    } finally {
      tree.cleanup();
    }
  });

  it('asks to choose when a file defines several models, and --line picks one', () => {
    const tree = fixtureTree({
      'two.py': 'from torch import nn\n\nsmall = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\n\nbig = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))\n',
    });
    try {
      const ambiguous = runCli(['probe', 'two.py', '--backend', 'wasm'], tree.root);
      expect(ambiguous.status).toBe(2);
      expect(ambiguous.stderr).toMatch(/defines 2 models[\s\S]*small \(line 3\)[\s\S]*big \(line 5\)/);
      const picked = runCli(['probe', 'two.py', '--line', '5', '--steps', '2', '--backend', 'wasm', '--format', 'json'], tree.root);
      expect(picked.status).toBe(0);
      expect((JSON.parse(picked.stdout) as { model: { name: string } }).model.name).toBe('big');
    } finally {
      tree.cleanup();
    }
  });

  it('--line picks the innermost definition when one model is built inside another one\'s lines', () => {
    const tree = fixtureTree({
      'nested.py': [
        'from keras import layers, Model',
        'inp = layers.Input(shape=(4,))',
        'code = layers.Dense(2)(inp)',
        'latent = layers.Input(shape=(2,))',
        'decoder = Model(latent, layers.Dense(4)(latent))',
        'autoencoder = Model(inp, decoder(code))',
        '',
      ].join('\n'),
    });
    try {
      const nameAt = (line: string): string => {
        const picked = runCli(['probe', 'nested.py', '--line', line, '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
        expect(picked.status).toBe(0);
        return (JSON.parse(picked.stdout) as { model: { name: string } }).model.name;
      };
      expect(nameAt('4')).toBe('decoder');
      expect(nameAt('2')).toBe('autoencoder');
    } finally {
      tree.cleanup();
    }
  });

  it('--line on a call picks the model that call builds when a class is built with different arguments', () => {
    const tree = fixtureTree({
      'mlp.py': [
        'from torch import nn',
        '',
        'class Mlp(nn.Module):',
        '    def __init__(self, width):',
        '        super().__init__()',
        '        self.a, self.b = nn.Linear(4, width), nn.Linear(width, 2)',
        '',
        '    def forward(self, x):',
        '        return self.b(self.a(x).relu())',
        '',
        'narrow = Mlp(8)',
        'wide = Mlp(32)',
        '',
      ].join('\n'),
    });
    try {
      const widthAt = (line: string): number => {
        const picked = runCli(['probe', 'mlp.py', '--line', line, '--steps', '2', '--backend', 'wasm', '--format', 'json'], tree.root);
        expect(picked.status).toBe(0);
        const result = JSON.parse(picked.stdout) as { layers: { name: string; params: number }[] };
        return defined(result.layers.find((l) => l.name === 'a')).params;
      };
      expect(widthAt('11')).toBe(4 * 8 + 8);
      expect(widthAt('12')).toBe(4 * 32 + 32);
    } finally {
      tree.cleanup();
    }
  });

  it('reads the other files of the project: sizes and optimizer from the train.py that builds the model', () => {
    const model =
      'import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self, in_features: int, hidden: int, classes: int):\n        super().__init__()\n' +
      '        self.fc1 = nn.Linear(in_features, hidden)\n        self.act = nn.ReLU()\n        self.fc2 = nn.Linear(hidden, classes)\n\n    def forward(self, x):\n        return self.fc2(self.act(self.fc1(x)))\n';
    const tree = fixtureTree({
      'project/model.py': model,
      'project/train.py': 'import torch\nfrom model import Net\n\nmodel = Net(784, 128, 10)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n',
      'alone/model.py': model,
    });
    try {
      const json = (folder: string) => {
        const run = runCli(['probe', 'model.py', '--steps', '1', '--backend', 'wasm', '--format', 'json'], join(tree.root, folder));
        const result: unknown = JSON.parse(run.stdout);
        if (!isProbeResult(result)) throw new Error(run.stderr);
        return result;
      };
      const built = json('project');
      expect(built.inputShape).toEqual([784]);
      expect(built.optimizer).toBe('sgd(lr=0.1)');
      expect(built.layers.map((l) => l.params)).toContain(784 * 128 + 128);
      // The same file on its own: no call site, so representative sizes named in notes.
      const alone = json('alone');
      expect(alone.inputShape).not.toEqual([784]);
      expect(alone.notices.some((n) => /representative value/.test(n.message))).toBe(true);
    } finally {
      tree.cleanup();
    }
  });

  it('reads only the files that share facts with the probed one, and the whole project when its only model may be trained elsewhere', () => {
    const mlp = (name: string, width: number) =>
      `class ${name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(32, ${width})\n        self.fc2 = nn.Linear(${width}, 1)\n\n    def forward(self, x):\n        return self.fc2(torch.tanh(self.fc1(x)))\n\n\n`;
    const header = 'import torch\nimport torch.nn as nn\n\n\n';
    const tree = fixtureTree({
      // Two models in the probed file's group: an unrelated script's unbound `model` cannot be theirs.
      'gan/models.py': header + mlp('Generator', 16) + mlp('Discriminator', 8),
      'gan/train.py': 'import torch\nfrom models import Generator, Discriminator\n\ngen = Generator()\ndisc = Discriminator()\nopt_g = torch.optim.Adam(gen.parameters(), lr=0.0002)\nopt_d = torch.optim.Adam(disc.parameters(), lr=0.0001)\n',
      'gan/notes.py': 'import torch\n\nopt = torch.optim.SGD(model.parameters(), lr=0.3)\n',
      // One model in the whole project: the script that trains `model` without binding it trains it.
      'single/model.py': header + mlp('Net', 16),
      'single/notes.py': 'import torch\n\nopt = torch.optim.SGD(model.parameters(), lr=0.3)\n',
    });
    try {
      const optimizer = (folder: string, args: string[]) => {
        const run = runCli(['probe', ...args, '--steps', '1', '--backend', 'wasm', '--format', 'json'], join(tree.root, folder));
        const result: unknown = JSON.parse(run.stdout);
        if (!isProbeResult(result)) throw new Error(run.stderr);
        return result.optimizer;
      };
      expect(optimizer('gan', ['models.py', '--line', '5'])).toBe('adam(lr=0.0002)');
      expect(optimizer('single', ['model.py'])).toBe('sgd(lr=0.3)');
    } finally {
      tree.cleanup();
    }
  });

  it('defaults to the trained model when a file defines several', () => {
    const tree = fixtureTree({
      'two.py':
        'import torch\nfrom torch import nn\n\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 8)\n    def forward(self, x):\n        return torch.relu(self.fc(x))\n\n' +
        'class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.inp = nn.Linear(4, 8)\n        self.block = Block()\n        self.out = nn.Linear(8, 2)\n    def forward(self, x):\n        return self.out(self.block(self.inp(x)))\n\n' +
        'net = Net()\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\n',
    });
    try {
      const run = runCli(['probe', 'two.py', '--steps', '2', '--backend', 'wasm', '--format', 'json'], tree.root);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect((JSON.parse(run.stdout) as { model: { name: string } }).model.name).toBe('Net');
    } finally {
      tree.cleanup();
    }
  });
});

/**
 * experiment.ipynb, as Jupyter saves it: markdown between the code cells, a magic, an output.
 * check --format json reports baseline at cell 4 line 1, and MLP(8) and MLP(64) at cell 7 line 1
 * (their class); the instances are built at cell 8 line 1 and cell 9 line 2.
 */
describe('gradient-lens probe --line on a builder', () => {
  it('takes the def line the model listing names, though the model is made lines below it', () => {
    const tree = fixtureTree({
      'models.py': 'from keras.layers import Dense, Input\nfrom keras.models import Model\n\n\ndef build_classifier(classes):\n    hidden = 64\n    inputs = Input(shape=(20,))\n    x = Dense(hidden, activation="relu")(inputs)\n    outputs = Dense(classes, activation="softmax")(x)\n    return Model(inputs, outputs)\n\n\nclassifier = build_classifier(3)\n',
    });
    try {
      const refused = runCli(['probe', 'models.py', '--line', '1', '--backend', 'wasm'], tree.root);
      expect(refused.stderr).toMatch(/^ {2}build_classifier \(line 5\)$/m);
      const run = runCli(['probe', 'models.py', '--line', '5', '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
      const result: unknown = JSON.parse(run.stdout);
      expect(isProbeResult(result) && result.layers.filter((l) => l.kind === 'dense').map((l) => l.params)).toEqual([20 * 64 + 64, 64 * 3 + 3]);
    } finally {
      tree.cleanup();
    }
  });
});

describe('gradient-lens probe --line on a builder that makes two models from one Input', () => {
  it('refuses the line both start at and takes each model at the line that names it', () => {
    const tree = fixtureTree({
      'autoencoders.py': 'from tensorflow.keras import layers\nfrom tensorflow.keras.models import Model\n\n\ndef dense_autoencoder(dim=64, latent=8):\n    inputs = layers.Input(shape=(dim,))\n    code = layers.Dense(latent, activation="relu")(inputs)\n    encoder = Model(inputs, code)\n    decoded = layers.Dense(dim, activation="sigmoid")(code)\n    autoencoder = Model(inputs, decoded)\n    autoencoder.compile(optimizer="adam", loss="mse")\n    return autoencoder, encoder\n',
    });
    try {
      const refused = runCli(['probe', 'autoencoders.py', '--line', '6', '--backend', 'wasm'], tree.root);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/2 models start at line 6; give the line of one of them:\n {2}encoder \(line 8\)\n {2}autoencoder \(line 10\)/);
      const denseParams = (line: string) => {
        const run = runCli(['probe', 'autoencoders.py', '--line', line, '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
        const result: unknown = JSON.parse(run.stdout);
        return isProbeResult(result) ? result.layers.filter((l) => l.kind === 'dense').map((l) => l.params) : null;
      };
      expect(denseParams('8')).toEqual([64 * 8 + 8]);
      expect(denseParams('10')).toEqual([64 * 8 + 8, 8 * 64 + 64]);
    } finally {
      tree.cleanup();
    }
  });
});

describe('gradient-lens probe on a class built at several widths', () => {
  it('lists each model by the call that builds it, and refuses the class line, which names none of them', () => {
    const refused = runCli(['probe', 'torch_two_widths.py', '--line', '6', '--backend', 'wasm'], fixtures);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/line 6 defines Net, which 2 calls build with different arguments; give the line of one of them:\n {2}Net\(64\) \(line 20\)\n {2}Net\(512\) \(line 24\)/);
    const wide = runCli(['probe', 'torch_two_widths.py', '--line', '24', '--steps', '1', '--backend', 'wasm', '--format', 'json'], fixtures);
    const result: unknown = JSON.parse(wide.stdout);
    expect(isProbeResult(result) && result.layers.find((l) => l.name === 'fc1')?.params).toBe(784 * 512 + 512);
  });
});

describe('gradient-lens probe on a class another file builds at several widths', () => {
  it('refuses the class line and names each model for --model, with the call that builds it', () => {
    const tree = fixtureTree({
      'model.py': 'import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self, width):\n        super().__init__()\n        self.fc1 = nn.Linear(16, width)\n        self.fc2 = nn.Linear(width, 2)\n\n    def forward(self, x):\n        return self.fc2(torch.relu(self.fc1(x)))\n',
      'train.py': 'import torch\nfrom model import Net\n\nsmall = Net(8)\nlarge = Net(64)\nfor net in (small, large):\n    opt = torch.optim.SGD(net.parameters(), lr=0.1)\n',
    });
    try {
      const refused = runCli(['probe', 'model.py', '--line', '5', '--backend', 'wasm'], tree.root);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/line 5 defines Net, which 2 calls build with different arguments; choose one with --model:\n {2}--model "(Net\(8\)[^"]*)" \(built at train\.py:4\)\n {2}--model "(Net\(64\)[^"]*)" \(built at train\.py:5\)/);
      const name = defined(/--model "(Net\(64\)[^"]*)"/.exec(refused.stderr)?.[1]);
      const large = runCli(['probe', 'model.py', '--model', name, '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
      const result: unknown = JSON.parse(large.stdout);
      expect(isProbeResult(result) && result.layers.find((l) => l.name === 'fc1')?.params).toBe(16 * 64 + 64);
    } finally {
      tree.cleanup();
    }
  });
});

describe('gradient-lens probe on a class a notebook builds at several widths', () => {
  it('takes the names check gives the models the notebook builds', () => {
    const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
    const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [cell('from model import Net\n'), cell('small = Net(8)\nlarge = Net(64)\n')] });
    const tree = fixtureTree({
      'model.py': 'import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self, width):\n        super().__init__()\n        self.fc1 = nn.Linear(16, width)\n        self.fc2 = nn.Linear(width, 2)\n\n    def forward(self, x):\n        return self.fc2(torch.relu(self.fc1(x)))\n',
      'train.ipynb': notebook,
    });
    try {
      const checked = runCli(['check', '.', '--format', 'json'], tree.root);
      const names = (JSON.parse(checked.stdout) as { files: { path: string; models: { name: string }[] }[] }).files.find((f) => f.path.endsWith('model.py'))?.models.map((m) => m.name) ?? [];
      expect(names).toHaveLength(2);
      for (const name of names) {
        const run = runCli(['probe', 'model.py', '--model', name, '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
        const result: unknown = JSON.parse(run.stdout);
        const width = name.startsWith('Net(8)') ? 8 : 64;
        expect(isProbeResult(result) && result.layers.find((l) => l.name === 'fc1')?.params).toBe(16 * width + width);
      }
    } finally {
      tree.cleanup();
    }
  });
});

describe('gradient-lens probe on a class a notebook builds twice with the same call', () => {
  it('takes the name check gives each model, by the cell of its call, and the call\'s place check reports', () => {
    const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
    const net = 'import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        self.pool = nn.AdaptiveAvgPool2d(1)\n        self.fc = nn.Linear(8, 2)\n\n    def forward(self, x):\n        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))\n';
    const markdown = { cell_type: 'markdown', metadata: {}, source: 'Fine-tune a copy with ten classes.' };
    const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [cell(net), markdown, cell('net = Net()\nprint(net(torch.randn(2, 3, 64, 64)).shape)\n'), cell('tuned = Net()\ntuned.fc = nn.Linear(8, 10)\n')] });
    const tree = fixtureTree({ 'twice.ipynb': notebook });
    try {
      const checked = runCli(['check', 'twice.ipynb', '--format', 'json'], tree.root);
      const models = (JSON.parse(checked.stdout) as { files: { models: { name: string; cell?: number; line: number; instance?: { label: string; cell?: number; line?: number } }[] }[] }).files[0]?.models ?? [];
      // Named by cell as the notebook shows lines (the analyzer's own name counts lines of the joined code cells).
      expect(models.map((m) => [m.name, m.cell, m.line, m.instance])).toEqual([
        ['Net() (cell 3, line 1)', 1, 5, { label: 'Net()', cell: 3, line: 1 }],
        ['Net() (cell 4, line 1)', 1, 5, { label: 'Net()', cell: 4, line: 1 }],
      ]);
      const classes = (run: { stdout: string; stderr: string }) => {
        const result: unknown = JSON.parse(run.stdout);
        if (!isProbeResult(result)) throw new Error(run.stderr);
        return [result.model.name, result.layers.find((l) => l.name === 'fc')?.params];
      };
      for (const [model, outputs] of [[models[0], 2], [models[1], 10]] as const) {
        const byName = runCli(['probe', 'twice.ipynb', '--model', defined(model).name, '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
        expect(classes(byName)).toEqual([defined(model).name, 8 * outputs + outputs]);
        const at = defined(defined(model).instance);
        const byPlace = runCli(['probe', 'twice.ipynb', '--cell', String(at.cell), '--line', String(at.line), '--steps', '1', '--backend', 'wasm', '--format', 'json'], tree.root);
        expect(classes(byPlace)).toEqual([defined(model).name, 8 * outputs + outputs]);
      }
    } finally {
      tree.cleanup();
    }
  });
});

describe('gradient-lens probe on a notebook: cells and lines as check prints them', () => {
  const NOTEBOOK = 'experiment.ipynb';
  const nameAt = (...where: string[]) => {
    const run = probe(NOTEBOOK, ...where, '--steps', '1', '--format', 'json');
    const result: unknown = JSON.parse(run.stdout);
    if (!isProbeResult(result)) throw new Error(run.stderr);
    return result.model.name;
  };

  it('takes the cell and line check reports, as --cell C --line N or --line C:N', () => {
    const check = runCli(['check', NOTEBOOK, '--format', 'json'], fixtures);
    const reported = (JSON.parse(check.stdout) as { files: { models: { name: string; cell?: number; line: number }[] }[] }).files[0]!.models;
    const baseline = reported.find((m) => m.name === 'baseline');
    expect(baseline).toMatchObject({ cell: 4, line: 1 });
    expect(nameAt('--cell', String(baseline?.cell), '--line', String(baseline?.line))).toBe('baseline');
    expect(nameAt('--line', '4:3')).toBe('baseline');
    // The call that builds an instance picks that instance.
    expect(nameAt('--cell', '8', '--line', '1')).toBe('MLP(8)');
    expect(nameAt('--line', '9:2')).toBe('MLP(64)');
  });

  it('names cells and lines in its report', () => {
    const run = probe(NOTEBOOK, '--line', '4:1', '--steps', '1');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^probe of baseline \(keras, cell 4, line 1\)/);
    expect(run.stdout).toMatch(/^cell:line {2}layer/m);
    expect(run.stdout).toMatch(/^ {6}4:3 {2}dense /m);
    expect(run.stdout).toMatch(/^ {6}4:4 {2}dense_1 /m);
  });

  it('names cells and lines in its verdicts', () => {
    // deep_sigmoid_cells.ipynb: markdown, imports, then a six-sigmoid nn.Sequential from line 4 of cell 3.
    const run = probe('deep_sigmoid_cells.ipynb', '--model', 'Net', '--steps', '3');
    expect(run.stdout).toMatch(/vanishing: .*the first layer layers\.0 \(cell 3, line 5\).* the last hidden layer layers\.10 \(cell 3, line 10\)/);
    expect(run.stdout).not.toMatch(/\(line \d+\)/);
  });

  it('lists the models by cell and line, and refuses locations that are not in the notebook', () => {
    const listing = /Models:\n {2}baseline \(cell 4, line 1\)\n {2}MLP\(8\) \(cell 8, line 1\)\n {2}MLP\(64\) \(cell 9, line 2\)/;
    const refused = (args: string[], message: RegExp) => {
      const run = runCli(['probe', NOTEBOOK, ...args, '--backend', 'wasm'], fixtures);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
      return run.stderr;
    };
    expect(refused(['--model', 'nope'], /no model named "nope"/)).toMatch(listing);
    expect(refused(['--line', '2:1'], /no model is defined at cell 2, line 1\. Models:/)).toMatch(listing);
    expect(refused(['--line', '14'], /in a notebook, give the cell as check prints it: --cell C --line N \(or --line C:N\)/)).toMatch(listing);
    refused(['--cell', '12', '--line', '1'], /experiment\.ipynb: the notebook has no cell 12 \(it has 9 cells\)/);
    refused(['--cell', '3', '--line', '1'], /cell 3 is not a Python code cell/);
    refused(['--cell', '8', '--line', '2'], /cell 8 has 1 line, no line 2/);
    refused(['--cell', '0', '--line', '1'], /--cell must be an integer >= 1/);
    refused(['--cell', '4'], /--cell needs --line/);
    refused(['--cell', '4', '--line', '4:1'], /names a cell already/);
  });

  it('keeps plain lines for a Python file and refuses a cell there', () => {
    const run = runCli(['probe', 'keras_deep_sigmoid.py', '--cell', '1', '--line', '9'], fixtures);
    expect(run).toMatchObject({ status: 2, stderr: expect.stringMatching(/a cell \(--cell C, or --line C:N\) is only for notebooks/) });
    expect(probe('keras_deep_sigmoid.py', '--line', '9', '--steps', '1').stdout).toMatch(/^ line {2}layer[\s\S]*^ {4}9 {2}dense /m);
  });
});

describe('gradient-lens probe --arg', () => {
  const given = join(__dirname, '../fixtures/probe-arguments');
  const run = (...args: string[]) => runCli(['probe', ...args, '--steps', '2', '--backend', 'wasm'], given);

  it("builds a class nobody in the project calls with the sizes given, which its projections take", () => {
    // Without them, the heads' view sizes are unknown: refused, with the parameters to give.
    const refused = run('torch_attention_no_caller.py');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/x\.view 'reshape' \(line 23\): x\.view\(\?, \?, \?, \?\) on an input of 20x128 per example: 3 of its sizes are values the code computes/);
    expect(refused.stderr).toMatch(/If MultiHeadAttention's parameters decide these sizes, give them with --arg NAME=VALUE \(its parameters: d_model, num_heads\)\./);
    const built = run('torch_attention_no_caller.py', '--arg', 'd_model=64', '--arg', 'num_heads=4', '--format', 'json');
    expect(built.stderr).toBe('');
    const result: unknown = JSON.parse(built.stdout);
    expect(isProbeResult(result)).toBe(true);
    if (!isProbeResult(result)) return;
    expect(result.model.name).toBe('MultiHeadAttention(d_model=64, num_heads=4)');
    expect(result.notices.map((n) => n.message).join('\n')).not.toMatch(/representative/);
    // 64 features in and out of each projection; the layers keep the class's own lines.
    expect(result.layers.filter((l) => l.kind === 'dense').map((l) => [l.name, l.line, l.params])).toEqual([
      ['W_q', 16, 64 * 64 + 64],
      ['W_k', 17, 64 * 64 + 64],
      ['W_v', 18, 64 * 64 + 64],
      ['W_o', 19, 64 * 64 + 64],
    ]);
  });

  it('builds a builder function with the values given, named after them', () => {
    const built = run('keras_builder_no_caller.py', '--arg', 'input_shape=(28, 28, 1)', '--arg', 'n_classes=10');
    expect(built.stderr).toBe('');
    expect(built.stdout).toMatch(/^probe of build_classifier\(input_shape=\(28, 28, 1\), n_classes=10\) \(keras, line 6\)/);
    expect(built.stdout).toMatch(/input 28x28x1/);
    expect(built.stdout).toMatch(/^ {4}8 {2}conv2d {17}conv2d {13}640 /m);
    expect(built.stdout).toMatch(/^ {3}10 {2}dense {18}dense {14}650 /m);
  });

  it('refuses what is not an argument of the definition, with a message naming it', () => {
    const refused = (args: string[], message: RegExp) => {
      const r = run('torch_attention_no_caller.py', ...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    };
    refused(['--arg', 'heads=4'], /--arg: MultiHeadAttention has no parameter heads \(its parameters: d_model, num_heads\)/);
    refused(['--arg', 'd_model=width'], /--arg: the value of d_model \("width"\) is not a Python literal/);
    refused(['--arg', "d_model=__import__('os').getcwd()"], /is not a Python literal/);
    refused(['--arg', 'd_model'], /"d_model" is not NAME=VALUE/);
    refused(['--arg', 'd_model=8', '--arg', 'd_model=16'], /d_model is given twice/);
  });
});
