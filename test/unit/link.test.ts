/** Cross-file linking: module resolution between the files of a project and merging of training facts. */
import { describe, expect, it } from 'vitest';
import type { ModelIR, TrainingIR } from '../../src/shared/ir';
import { emptyTraining } from '../../src/shared/ir';
import { linkExternalTraining, type LinkFile } from '../../src/analysis/link';
import type { ExternalTraining } from '../../src/analysis/extract/types';
import type { ImportBinding } from '../../src/analysis/python/imports';
import { modelAt, parsePython } from './extract/training-helpers';
import { defined } from '../defined';

const model = (file: string, name: string, exportsList: string[]): ModelIR => modelAt(file, name, exportsList, 0, 5, 'torch', ['lstm']);

function trainingFrom(file: string, lr: number): TrainingIR {
  const t = emptyTraining();
  const range = { start: { line: 3, character: 0 }, end: { line: 3, character: 40 } };
  t.optimizer = { name: 'adam', spelling: 'optim.Adam', file, range, learningRate: lr, learningRateRange: range, momentum: null, clipnorm: null, clipvalue: null, globalClipnorm: null };
  t.loops.push({ file, backward: range, step: range, clip: null, optimizer: t.optimizer });
  return t;
}

const ext = (module: string, symbol: string, training: TrainingIR): ExternalTraining => ({ module, symbol, training });

/** Import bindings of a real file (for package re-exports). */
async function importsOf(path: string, text: string): Promise<{ bindings: readonly ImportBinding[] }> {
  return (await parsePython(path, text)).imports;
}

function file(path: string, models: ModelIR[], external: ExternalTraining[] = [], imports: LinkFile['imports'] = null): LinkFile {
  return { path, models, external, imports };
}

/**
 * Links `files`; `after(model)` is what stands in the model's place afterwards (the linker replaces a
 * model it adds facts to by a copy and leaves the original as it was).
 */
function link(files: LinkFile[]): { links: ReturnType<typeof linkExternalTraining>; after: (model: ModelIR) => ModelIR } {
  const before = files.map((f) => [...f.models]);
  const links = linkExternalTraining(files);
  const after = (model: ModelIR): ModelIR => {
    for (const [i, f] of files.entries()) {
      const at = defined(before[i]).indexOf(model);
      if (at >= 0) return defined(f.models[at]);
    }
    throw new Error(`${model.name} is in none of the files`);
  };
  return { links, after };
}

describe('linkExternalTraining', () => {
  it('links a script to a module in the same folder and keeps the facts in their own file', () => {
    const net = model('/p/model.py', 'Net', ['Net']);
    const { links, after } = link([file('/p/model.py', [net]), file('/p/train.py', [], [ext('model', 'Net', trainingFrom('/p/train.py', 0.1))])]);
    expect(links).toEqual([{ from: '/p/train.py', module: 'model', symbol: 'Net', toFile: '/p/model.py', modelId: net.id }]);
    expect(after(net).training.optimizer?.file).toBe('/p/train.py');
    expect(after(net).training.loops).toHaveLength(1);
    // The original is untouched: the analysis caches it between requests.
    expect(net.training.optimizer).toBeNull();
    expect(net.training.loops).toEqual([]);
  });

  it('resolves relative imports from the importing package', () => {
    const lstm = model('/p/pkg/nets/lstm.py', 'build', ['build_lstm']);
    const { after } = link([
      file('/p/pkg/__init__.py', []),
      file('/p/pkg/nets/__init__.py', []),
      file('/p/pkg/nets/lstm.py', [lstm]),
      file('/p/pkg/train/run.py', [], [ext('..nets.lstm', 'build_lstm', trainingFrom('/p/pkg/train/run.py', 0.01))]),
    ]);
    expect(after(lstm).training.loops).toHaveLength(1);
  });

  it('resolves absolute dotted modules from the package root and from ancestors', () => {
    const net = model('/p/src/models/net.py', 'Net', ['Net']);
    const { after } = link([
      file('/p/src/models/__init__.py', []),
      file('/p/src/models/net.py', [net]),
      file('/p/src/scripts/train.py', [], [ext('models.net', 'Net', trainingFrom('/p/src/scripts/train.py', 0.01))]),
    ]);
    expect(after(net).training.loops).toHaveLength(1);
  });

  it('follows a package __init__ that re-exports the model', async () => {
    const net = model('/p/models/net.py', 'Net', ['Net']);
    const init = 'from .net import Net\n';
    const { after } = link([
      file('/p/models/__init__.py', [], [], await importsOf('/p/models/__init__.py', init)),
      file('/p/models/net.py', [net]),
      file('/p/train.py', [], [ext('models', 'Net', trainingFrom('/p/train.py', 0.01))]),
    ]);
    expect(after(net).training.loops).toHaveLength(1);
  });

  it('links nothing when the module is outside the project or the symbol is ambiguous', () => {
    const a = model('/p/model.py', 'A', ['build']);
    const b = model('/p/model.py', 'B', ['build']);
    const { links, after } = link([
      file('/p/model.py', [a, b]),
      file('/p/train.py', [], [ext('model', 'build', trainingFrom('/p/train.py', 0.1)), ext('torchvision.models', 'resnet18', trainingFrom('/p/train.py', 0.1))]),
    ]);
    expect(links).toEqual([]);
    expect(after(a).training.loops).toEqual([]);
    expect(after(b).training.loops).toEqual([]);
  });

  it('keeps the model file’s own optimizer and accumulates loops from several scripts in path order', () => {
    const net = model('/p/model.py', 'Net', ['Net']);
    net.training.optimizer = trainingFrom('/p/model.py', 0.5).optimizer;
    const { after } = link([
      file('/p/train_b.py', [], [ext('model', 'Net', trainingFrom('/p/train_b.py', 0.2))]),
      file('/p/model.py', [net]),
      file('/p/train_a.py', [], [ext('model', 'Net', trainingFrom('/p/train_a.py', 0.1))]),
    ]);
    expect(after(net).training.optimizer?.file).toBe('/p/model.py');
    expect(after(net).training.loops.map((l) => l.file)).toEqual(['/p/train_a.py', '/p/train_b.py']);
  });

  it('accepts Windows-style paths', () => {
    const net = model('C:\\p\\model.py', 'Net', ['Net']);
    const links = linkExternalTraining([file('C:\\p\\model.py', [net]), file('C:\\p\\train.py', [], [ext('model', 'Net', trainingFrom('C:\\p\\train.py', 0.1))])]);
    expect(links).toHaveLength(1);
  });
});

describe('cross-file training through the real analyzer', () => {
  it('finds the loop of scripts/train.py for the LSTM re-exported by models/__init__.py, and reports in both files', async () => {
    const { Project } = await import('../../src/analysis/project');
    const project = await Project.create();
    project.setFile('/repo/models/__init__.py', 'from .recurrent import SeqNet\n');
    project.setFile(
      '/repo/models/recurrent.py',
      `import torch.nn as nn


class SeqNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(16, 64, batch_first=True)
        self.fc = nn.Linear(64, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])
`,
    );
    project.setFile(
      '/repo/scripts/train.py',
      `import torch
from models import SeqNet

net = SeqNet()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
`,
    );
    const results = project.analyzeAll();
    project.dispose();
    const where = results.flatMap((r) => r.findings.filter((f) => f.code === 'GL401').map((f) => `${r.path}:${f.range.start.line + 1}`));
    expect(where.sort()).toEqual(['/repo/models/recurrent.py:7', '/repo/scripts/train.py:9']);
  });

  it('gives each loop the instance its own call built when a class of another file is built with different arguments', async () => {
    const { Project } = await import('../../src/analysis/project');
    const forecaster = `import torch.nn as nn


class StockLSTM(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])
`;
    const script = (clipSecond: boolean) => `import torch
from lstm_module import StockLSTM

model = StockLSTM(5, 32, 2)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for xb, yb in train_loader:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(xb), yb)
    loss.backward()
    optimizer.step()

model = StockLSTM(5, 64, 3)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for xb, yb in train_loader:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(xb), yb)
    loss.backward()${clipSecond ? '\n    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)' : ''}
    optimizer.step()
`;
    const loopsFlagged = async (clipSecond: boolean) => {
      const project = await Project.create();
      try {
        project.setFile('/repo/lstm_module.py', forecaster);
        project.setFile('/repo/pipeline.py', script(clipSecond));
        const results = project.analyzeAll();
        return results.flatMap((r) => r.findings.filter((f) => f.code === 'GL401' && r.path === '/repo/pipeline.py').map((f) => f.range.start.line + 1));
      } finally {
        project.dispose();
      }
    };
    expect(await loopsFlagged(false)).toEqual([10, 18]);
    // Twin: the second instance's loop clips; only the first is reported.
    expect(await loopsFlagged(true)).toEqual([10]);
  });
});
