import { describe, expect, it } from 'vitest';
import { basename, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expectFixture, fixturesOf } from './fixture-harness';
import { expectFixesResolve } from './fixture-fixes';
import { applyEdits } from './ir-builder';
import { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';
import { defined } from '../../defined';

async function analyze(files: Record<string, string>): Promise<FileResult[]> {
  const project = await Project.create();
  for (const [path, text] of Object.entries(files)) project.setFile(path, text);
  const results = project.analyzeAll();
  project.dispose();
  return results;
}

/** GL401 at the training sites (the optimizer or step()); the marks on the recurrent layers echo them. */
const gl401 = (results: FileResult[]) => results.flatMap((r) => r.findings.filter((f) => f.code === 'GL401' && f.echoes === undefined));
const layerMarks = (results: FileResult[]) => results.flatMap((r) => r.findings.filter((f) => f.code === 'GL401' && f.echoes !== undefined));

const TORCH_LOOP = `import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 32, batch_first=True)
        self.fc = nn.Linear(32, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def train(net, loader, opt):
    for x, y in loader:
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
train(model, loader, optimizer)
`;

describe('GL401 recurrent-without-clipping', () => {
  it('reports a PyTorch loop at step(), points at the LSTM, and inserts a clip line with the same indentation', async () => {
    const [result] = await analyze({ '/p/train.py': TORCH_LOOP });
    const [finding] = gl401([defined(result)]);
    expect(finding).toBeDefined();
    expect(defined(finding).range.start.line).toBe(20);
    expect(defined(finding).message).toMatch(/nn\.LSTM 'lstm' is trained by this loop without gradient clipping between backward\(\) and step\(\)/);
    expect(defined(finding).related.map((r) => r.location.range.start.line)).toEqual([7]);
    expect(defined(finding).whatIf?.ops).toEqual([{ op: 'set-optimizer', patch: { clipnorm: 1 } }]);
    // Named as PyTorch code clips, not by the Keras optimizer argument.
    expect(defined(finding).whatIf?.title).toBe('clip gradients (clip_grad_norm_, max_norm=1.0)');
    const fix = defined(finding).fixes[0]!;
    expect(fix.safety).toBe('unsafe');
    const edited = applyEdits(TORCH_LOOP, fix.edits);
    // Inside train() the optimizer's own name is what is in scope: clip its parameter groups.
    expect(edited.split('\n').slice(19, 22)).toEqual([
      '        loss.backward()',
      '        torch.nn.utils.clip_grad_norm_([p for group in opt.param_groups for p in group["params"]], max_norm=1.0)',
      '        opt.step()',
    ]);
    const [after] = await analyze({ '/p/train.py': edited });
    expect(gl401([defined(after)])).toEqual([]);
  });

  it('clips model.parameters() when the optimizer was built over that name in the same scope', async () => {
    const text = TORCH_LOOP.replace(/def train[\s\S]*$/, `model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for x, y in loader:
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
`);
    const [result] = await analyze({ '/p/train.py': text });
    const [finding] = gl401([defined(result)]);
    const edited = applyEdits(text, defined(finding).fixes[0]!.edits);
    expect(edited).toContain('    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)\n    optimizer.step()');
  });

  it('unscales before clipping under AMP', async () => {
    const path = join(__dirname, '../../fixtures/rules/GL401/bad_torch_amp.py');
    const text = readFileSync(path, 'utf8');
    const [result] = await analyze({ [path]: text });
    const edited = applyEdits(text, gl401([defined(result)])[0]!.fixes[0]!.edits);
    expect(edited).toContain(
      '    scaler.scale(loss).backward()\n    scaler.unscale_(optimizer)\n    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)\n    scaler.step(optimizer)',
    );
  });

  it('reports on both files of a project: the step in train.py and the LSTM in model.py', async () => {
    const dir = join(__dirname, '../../fixtures/rules/GL401/project_bad');
    const results = await expectFixture(dir);
    const byFile = new Map(results.map((r) => [basename(r.path), r.findings.filter((f) => f.code === 'GL401')]));
    const inModel = defined(byFile.get('model.py'))[0]!;
    expect(inModel.message).toMatch(/trained without gradient clipping \(train\.py:17\)/);
    expect(inModel.related[0]!.location.file).toBe(join(dir, 'train.py'));
    const inTrain = defined(byFile.get('train.py'))[0]!;
    expect(inTrain.related[0]!.location.file).toBe(join(dir, 'model.py'));
    expect(inTrain.fixes[0]!.edits[0]!.file).toBe(join(dir, 'train.py'));
  });

  it('adds clipnorm to the Keras optimizer that reaches compile', async () => {
    const path = join(__dirname, '../../fixtures/rules/GL401/bad_keras_lstm_adam.py');
    const text = readFileSync(path, 'utf8');
    const [result] = await analyze({ [path]: text });
    const [finding] = gl401([defined(result)]);
    expect(defined(finding).message).toMatch(/trained with optimizer keras\.optimizers\.Adam, which has no clipnorm\/clipvalue\/global_clipnorm/);
    const edited = applyEdits(text, defined(finding).fixes[0]!.edits);
    expect(edited).toContain('optimizer = keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)');
  });

  it('replaces a string optimizer with a clipping constructor in the file’s own spelling', async () => {
    const path = join(__dirname, '../../fixtures/rules/GL401/bad_keras_string_optimizer.py');
    const text = readFileSync(path, 'utf8');
    const [result] = await analyze({ [path]: text });
    const edited = applyEdits(text, gl401([defined(result)])[0]!.fixes[0]!.edits);
    expect(edited).toContain('forecaster.compile(optimizer=tf.keras.optimizers.RMSprop(clipnorm=1.0), loss="mse"');
  });

  it('imports the optimizer class when the file has no tf/keras module name to spell it with', async () => {
    const path = join(__dirname, '../../fixtures/rules/GL401/bad_keras_standalone_string.py');
    const text = readFileSync(path, 'utf8');
    const [result] = await analyze({ [path]: text });
    const edited = applyEdits(text, gl401([defined(result)])[0]!.fixes[0]!.edits);
    expect(edited).toContain('from keras.layers import LSTM, Dense, Dropout, Activation\nfrom keras.optimizers import RMSprop\n');
    expect(edited).toContain('model.compile(loss="categorical_crossentropy", optimizer=RMSprop(clipnorm=1.0))');
  });

  it('marks the recurrent layer of a class trained below it, pointing at the loop', async () => {
    const [result] = await analyze({ '/p/train.py': TORCH_LOOP });
    const [mark] = layerMarks([defined(result)]);
    expect(defined(mark).range.start.line).toBe(7);
    expect(defined(mark).severity).toBe('warning');
    expect(defined(mark).message).toMatch(/^nn\.LSTM 'lstm' of model 'Net' is trained without gradient clipping \(line 21\)/);
    expect(defined(mark).related.map((r) => r.location.range.start.line)).toEqual([20]);
    expect(defined(mark).echoes).toEqual([{ file: '/p/train.py', range: gl401([defined(result)])[0]!.range }]);
  });

  it('can be suppressed at the training site, which also removes the mark on the layer', async () => {
    const text = TORCH_LOOP.replace('        opt.step()', '        opt.step()  # noqa: GL401');
    const [result] = await analyze({ '/p/train.py': text });
    expect(defined(result).findings.filter((f) => f.code === 'GL401')).toEqual([]);
  });

  it('suppressing the mark on the layer leaves the finding at the training site', async () => {
    const text = TORCH_LOOP.replace('nn.LSTM(8, 32, batch_first=True)', 'nn.LSTM(8, 32, batch_first=True)  # noqa: GL401');
    const [result] = await analyze({ '/p/train.py': text });
    expect(layerMarks([defined(result)])).toEqual([]);
    expect(gl401([defined(result)]).map((f) => f.range.start.line)).toEqual([20]);
  });

  it('does not mark the layer when the training is inside the model definition', async () => {
    const text = `import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(16, 32, batch_first=True)
        self.out = nn.Linear(32, 16)
        self.opt = torch.optim.SGD(self.parameters(), lr=0.1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h)

    def fit_batch(self, x, y):
        self.opt.zero_grad()
        loss = nn.functional.mse_loss(self(x), y)
        loss.backward()
        self.opt.step()
`;
    const [result] = await analyze({ '/p/seq.py': text });
    expect(gl401([defined(result)]).map((f) => f.range.start.line)).toEqual([19]);
    expect(layerMarks([defined(result)])).toEqual([]);
  });
});

describe('GL401 fixtures (real analyzer)', () => {
  const { bad, clean } = fixturesOf('GL401');

  it.each([...bad, ...clean].map((p) => [basename(p), p]))('%s', async (_name, path) => {
    await expectFixture(path);
  });

  it('offers fixes that remove their finding when applied', async () => {
    let checked = 0;
    for (const path of bad.filter((p) => p.endsWith('.py'))) checked += await expectFixesResolve('GL401', path);
    expect(checked).toBeGreaterThanOrEqual(5);
  });
});
