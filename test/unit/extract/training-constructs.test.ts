/**
 * Training constructs real code uses: `optimizer.step(closure)` (LBFGS), names never assigned in a
 * fragment, models that reach training through functions and branches. Each through the whole
 * analysis (real parser, extractors, training pass, linker, rules), with a twin that must stay silent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { analyzeFiles, analyzeText } from '../project-helper';
import { defined } from '../../defined';

const FIXTURES = join(__dirname, '../../fixtures/constructs');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

const analyze = analyzeFiles;
const analyzeOne = (text: string, path = '/w/train.py'): Promise<FileResult> => analyzeText(text, path);

/** Findings where the training is found; GL401's echoing marks on recurrent layers are tested in GL401.test.ts. */
const codes = (r: FileResult) => r.findings.filter((f) => f.echoes === undefined).map((f) => `${f.code}@${f.range.start.line + 1}`);
/** GL401's marks on the recurrent layers of a model trained elsewhere. */
const marks = (r: FileResult) => r.findings.filter((f) => f.echoes !== undefined).map((f) => `${f.code}@${f.range.start.line + 1}`);
/** Note messages without the engine's `Line N: ` prefix (lines are asserted on the ranges). */
const notes = (r: FileResult) => r.notices.map((n) => n.message.replace(/^Line \d+: /, ''));

describe('optimizer.step(closure)', () => {
  const closureLoop = `import torch
from torch import nn

class Reader(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.fc = nn.LSTM(4, 16, batch_first=True), nn.Linear(16, 1)
    def forward(self, xs): return self.fc(self.rnn(xs)[0][:, -1])

net = Reader()
xb, yb = torch.randn(2, 5, 4), torch.randn(2, 1)
opt = torch.optim.LBFGS(net.parameters(), lr=0.5)
for it in range(3):
    def fn():
        opt.zero_grad(); err = ((net(xb) - yb) ** 2).mean(); err.backward(); return err
    opt.step(fn)
`;

  it('is a training step: backward() inside the closure, GL401 on the step, advice to clip inside the closure', async () => {
    const r = await analyzeOne(closureLoop);
    expect(codes(r)).toEqual(['GL401@16']);
    const finding = defined(r.findings.find((f) => f.echoes === undefined));
    expect(finding.message).toContain('inside the closure passed to step(), after backward()');
    // A line before step() would clip gradients that step() recomputes: no text fix.
    expect(finding.fixes).toEqual([]);
    const loop = r.models[0]!.training.loops[0]!;
    expect(loop.backward.start.line).toBe(14);
    expect(loop.closure?.start.line).toBe(13);
    expect(loop.optimizer?.name).toBe('lbfgs');
  });

  it('also with closure= as a keyword', async () => {
    const r = await analyzeOne(closureLoop.replace('opt.step(fn)', 'opt.step(closure=fn)'));
    expect(codes(r)).toEqual(['GL401@16']);
  });

  it('counts clipping inside the closure, after backward()', async () => {
    const r = await analyzeOne(fixture('lbfgs_closure_clipped.py'));
    expect(r.findings).toEqual([]);
    expect(r.models[0]!.training.loops).toHaveLength(1);
    expect(r.models[0]!.training.loops[0]!.clip?.kind).toBe('norm');
  });

  it('follows a closure that is a method: optimizer.step(self._closure)', async () => {
    const r = await analyzeOne(fixture('lbfgs_closure_method.py'));
    expect(codes(r)).toEqual(['GL401@30']);
  });

  it('does not take an unrelated function of the same scope for a closure when step() gets none', async () => {
    const text = closureLoop.replace('    opt.step(fn)\n', '    fn()\n    opt.step()\n');
    const r = await analyzeOne(text);
    // backward() runs in fn, not in the scope of step(): not a (backward, step) pair.
    expect(r.models[0]!.training.loops).toEqual([]);
  });
});

describe('names a fragment never assigns', () => {
  it('binds an unassigned `model` to the file\'s only model, with a note', async () => {
    const r = await analyzeOne(fixture('fragment_unbound_model.py'));
    expect(codes(r)).toEqual(['GL401@22']);
    expect(notes(r)).toContain("'model' is never assigned in this file: read as its only model 'Tagger'");
    expect(r.models[0]!.training.optimizer?.name).toBe('adam');
  });

  it('binds nothing when the file has two models', async () => {
    const r = await analyzeOne(fixture('fragment_two_models_unbound.py'));
    expect(r.findings).toEqual([]);
    expect(r.models.every((m) => m.training.loops.length === 0)).toBe(true);
  });

  it('binds nothing when the name is assigned somewhere, even to something unknown', async () => {
    const text = fixture('fragment_unbound_model.py').replace('optimizer = torch', 'model = load_checkpoint("m.pt")\noptimizer = torch');
    const r = await analyzeOne(text);
    expect(r.models[0]!.training.loops).toEqual([]);
    expect(r.notices).toEqual([]);
  });

  it('binds a Keras receiver read as an implicit Sequential to its compile and fit', async () => {
    const r = await analyzeOne(fixture('add_on_unbuilt_receiver.py'));
    const t = r.models[0]!.training;
    expect(t.compile?.range.start.line).toBe(7);
    expect(t.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy']);
    // Same name as the model: no "read as its only model" note, only the implicit Sequential one.
    expect(notes(r).filter((n) => n.includes('never assigned'))).toEqual([]);
  });
});

describe('a model built on one branch and loaded on another', () => {
  const netdefs = `import torch
from torch import nn

class Clf(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.rnn = nn.LSTM(cfg.d_in, cfg.d_h)
        self.fc = nn.Linear(cfg.d_h, 3)

    def forward(self, x):
        out, (h, c) = self.rnn(x)
        return self.fc(h[-1])
`;
  const run = `import torch
from torch import nn
from netdefs import Clf
from cfgtools import parse_cfg

cfg = parse_cfg()
if cfg.resume:
    net = torch.load(cfg.resume)
else:
    net = Clf(cfg)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for xb, yb in cfg.batches:
    opt.zero_grad()
    err = nn.functional.cross_entropy(net(xb), yb)
    err.backward()
    opt.step()
`;

  it('trains the imported class (if/else across files), with a note naming both branches', async () => {
    const [defs, script] = await analyze({ '/p/netdefs.py': netdefs, '/p/run.py': run });
    expect(marks(defined(defs))).toEqual(['GL401@8']);
    expect(codes(defined(script))).toEqual(['GL401@16']);
    expect(notes(defined(script))).toContain("'net' is Clf(cfg) (line 10) or torch.load(cfg.resume) (line 8), depending on a condition: read as Clf(cfg)");
  });

  it('also in one file, and as a conditional expression', async () => {
    const inOne = `${netdefs}\nresume = None\n${run.split('\n').slice(4).join('\n')}`.replace('cfg = parse_cfg()', 'cfg = load_cfg()');
    const r = await analyzeOne(inOne);
    expect(codes(r).map((c) => c.split('@')[0])).toEqual(['GL401']);
    const ternary = run.replace(/if cfg\.resume:\n {4}net = torch\.load\(cfg\.resume\)\nelse:\n {4}net = Clf\(cfg\)/, 'net = torch.load(cfg.resume) if cfg.resume else Clf(cfg)');
    expect(ternary).not.toBe(run);
    const [, script] = await analyze({ '/p/netdefs.py': netdefs, '/p/run.py': ternary });
    expect(codes(defined(script))).toEqual(['GL401@13']);
  });

  it('attributes nothing when the branches build two different models', async () => {
    const twoModels = run.replace('from netdefs import Clf', 'from netdefs import Clf, Big').replace('net = torch.load(cfg.resume)', 'net = Big(cfg)');
    const [defs, script] = await analyze({ '/p/netdefs.py': netdefs, '/p/run.py': twoModels });
    expect(defined(defs).findings).toEqual([]);
    expect(defined(script).findings).toEqual([]);
    expect(defined(defs).models[0]!.training.loops).toEqual([]);
  });

  it('attributes nothing when the other branch is unknown (a project helper may build another model)', async () => {
    const unknown = run.replace('net = torch.load(cfg.resume)', 'net = restore(cfg.resume)');
    const [defs] = await analyze({ '/p/netdefs.py': netdefs, '/p/run.py': unknown });
    expect(defined(defs).models[0]!.training.loops).toEqual([]);
  });
});

describe('an unassigned Model(...).summary() beside the compiled model', () => {
  const clash = `from keras.layers import Input, Dense, GRU, Lambda
from keras.models import Model
from keras.optimizers import SGD

def run(steps):
    seq = Input(shape=(50, 8)); h = GRU(64, return_sequences=True)(seq)
    probs = Dense(10, activation='softmax')(h)
    Model(inputs=seq, outputs=probs).summary()
    extra = Input(shape=(4,))
    out = Lambda(lambda t: t[0], output_shape=(1,))([probs, extra])
    model = Model(inputs=[seq, extra], outputs=out)
    model.compile(loss='mse', optimizer=SGD(learning_rate=0.01)); model.fit(None, epochs=steps)

run(3)
`;

  it('keeps both models apart: the compiled one gets the compile and its GL401', async () => {
    const r = await analyzeOne(clash);
    expect(r.models.map((m) => m.name).sort()).toEqual(['Model', 'model']);
    const compiled = defined(r.models.find((m) => m.name === 'model'));
    expect(compiled.training.compile?.range.start.line).toBe(11);
    expect(defined(r.models.find((m) => m.name === 'Model')).training.compile).toBeNull();
    expect(codes(r)).toEqual(['GL401@12']);
  });

  it('says nothing when the compiled model clips', async () => {
    const r = await analyzeOne(clash.replace('SGD(learning_rate=0.01)', 'SGD(learning_rate=0.01, clipnorm=1.0)'));
    expect(r.findings).toEqual([]);
    expect(r.models).toHaveLength(2);
  });
});

describe('models flowing into functions', () => {
  it('binds train(model, loader) to each model its call sites pass, with a note', async () => {
    const r = await analyzeOne(fixture('train_function_two_models.py'));
    const byName = new Map(r.models.map((m) => [m.name, m]));
    expect(defined(byName.get('Enc')).training.loops).toHaveLength(1);
    expect(defined(byName.get('Dec')).training.loops).toHaveLength(1);
    expect(r.findings.filter((f) => f.echoes === undefined).map((f) => `${f.code}@${f.range.start.line + 1}:${f.message.slice(0, 15)}`)).toEqual(['GL401@31:nn.GRU \'rnn\' is', 'GL401@31:nn.LSTM \'rnn\' i']);
    expect(notes(r)).toContain("'model' of train() is each model its calls pass: Enc() (line 34), Dec() (line 35); its training applies to each");
  });

  it('binds a training function to each model whose own optimizer its calls pass', async () => {
    const r = await analyzeOne(fixture('train_function_two_optimizers.py'));
    const byName = new Map(r.models.map((m) => [m.name, m]));
    for (const [name, optimizer] of [['LSTMClassifier', 'adam'], ['GRUClassifier', 'rmsprop']] as const) {
      const training = defined(byName.get(name)).training;
      expect(training.loops.map((l) => [l.step.start.line + 1, l.optimizer?.name])).toEqual([[37, optimizer]]);
      expect(training.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy']);
    }
    expect(codes(r)).toEqual(['GL401@37', 'GL401@37']);
    expect(marks(r)).toEqual(['GL401@10', 'GL401@22']);
  });

  it('reads a call whose arguments go on after a backslash at the end of a line as the same call', async () => {
    // Notebooks write `train_model(net, data, \\` and the rest below: the continuation is no argument.
    const text = fixture('train_function_two_optimizers.py').replace('train_model(gru_model, train_loader, optimizer, epochs=20)', 'train_model(gru_model, train_loader, \\\n                      optimizer, epochs=20)');
    expect(text).toContain('train_loader, \\\n');
    expect(codes(await analyzeOne(text))).toEqual(['GL401@37', 'GL401@37']);
  });

  it('a function defined again in a later cell takes the calls after it: each definition trains the models its own calls pass', async () => {
    const r = await analyzeOne(fixture('train_function_redefined.py'));
    const byName = new Map(r.models.map((m) => [m.name, m]));
    expect(defined(byName.get('TextRNN')).training.loops.map((l) => [l.step.start.line + 1, l.clip === null])).toEqual([[26, true]]);
    expect(defined(byName.get('BikeModel')).training.loops.map((l) => [l.step.start.line + 1, l.clip === null])).toEqual([[58, false]]);
    expect(codes(r)).toEqual(['GL401@26']);
    expect(marks(r)).toEqual(['GL401@11']);
  });

  it('binds nothing to either when the loop clips, or when one call passes an optimizer it cannot tell', async () => {
    const text = fixture('train_function_two_optimizers.py');
    const clipped = await analyzeOne(text.replace('            optimizer.step()', '            nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n            optimizer.step()'));
    expect(clipped.findings).toEqual([]);
    expect(clipped.models.every((m) => m.training.loops.length === 1 && m.training.loops[0]?.clip !== null)).toBe(true);
    const unknown = await analyzeOne(text.replace('optimizer = torch.optim.RMSprop(gru_model.parameters(), lr=1e-3)', 'optimizer = make_optimizer(gru_model)'));
    expect(unknown.findings).toEqual([]);
  });

  it('binds nothing when one call site passes something unknown', async () => {
    const text = fixture('train_function_two_models.py').replace('train(Dec(), loader)', 'train(restore("dec.pt"), loader)');
    const r = await analyzeOne(text);
    expect(r.models.every((m) => m.training.loops.length === 0)).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('compiles each model a Keras helper is called with', async () => {
    const text = `from tensorflow import keras
from tensorflow.keras import layers

rnn = keras.Sequential([layers.LSTM(16, input_shape=(20, 3)), layers.Dense(1)])
mlp = keras.Sequential([layers.Dense(16, activation='relu', input_shape=(3,)), layers.Dense(1)])


def fit_model(m, x, y):
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse')
    m.fit(x, y, epochs=3)


fit_model(rnn, x1, y1)
fit_model(mlp, x2, y2)
`;
    const r = await analyzeOne(text);
    expect(r.models.map((m) => `${m.name}:${m.training.compile ? m.training.compile.range.start.line + 1 : '-'}`)).toEqual(['rnn:9', 'mlp:9']);
    expect(codes(r)).toEqual(['GL401@9']);
  });
});

describe('a model passed to a function of another file', () => {
  const dir = (name: string) => fixture(`passed_model/${name}`);
  const keras = { '/p/sales_model.py': dir('sales_model.py'), '/p/sales_workflow.py': dir('sales_workflow.py'), '/p/sales_run.py': dir('sales_run.py') };
  const torch = { '/p/torch_net.py': dir('torch_net.py'), '/p/torch_engine.py': dir('torch_engine.py'), '/p/torch_main.py': dir('torch_main.py') };

  it('gives run_workflow(net)\'s compile and fit to the model run.py passes: GL401 in the workflow and on the GRU', async () => {
    const [model, workflow, run] = await analyze(keras);
    expect(marks(defined(model))).toEqual(['GL401@8']);
    expect(codes(defined(workflow))).toEqual(['GL401@11']);
    expect(defined(run).findings).toEqual([]);
    const training = defined(defined(model).models[0]).training;
    expect(training.optimizer?.name).toBe('rmsprop');
    expect(training.fit?.file).toBe('/p/sales_workflow.py');
  });

  it('stays silent when the workflow clips (clipnorm on the optimizer)', async () => {
    const clipped = { ...keras, '/p/sales_workflow.py': dir('sales_workflow.py').replace('optimizers.RMSprop(cfg["lr"])', 'optimizers.RMSprop(cfg["lr"], clipnorm=1.0)') };
    const results = await analyze(clipped);
    expect(results.flatMap((r) => r.findings)).toEqual([]);
    expect(defined(defined(results[0]).models[0]).training.optimizer?.clipnorm).toBe(1);
  });

  it('binds nothing without a call that passes a model of the project', async () => {
    const withoutRun = await analyze({ '/p/sales_model.py': keras['/p/sales_model.py'], '/p/sales_workflow.py': keras['/p/sales_workflow.py'] });
    expect(withoutRun.flatMap((r) => r.findings)).toEqual([]);
    const loaded = dir('sales_run.py').replace('from sales_model import SalesForecaster', 'from tensorflow.keras.models import load_model').replace('SalesForecaster(hidden=48)', 'load_model("sales.keras")');
    const results = await analyze({ ...keras, '/p/sales_run.py': loaded });
    expect(results.flatMap((r) => r.findings)).toEqual([]);
  });

  it('follows `import engine` + `engine.fit(loader=..., model=tagger)` for a torch loop, and its clipped twin stays silent', async () => {
    const [net, engine, main] = await analyze(torch);
    expect(marks(defined(net))).toEqual(['GL401@9']);
    expect(codes(defined(engine))).toEqual(['GL401@13']);
    expect(defined(main).findings).toEqual([]);
    const clipped = dir('torch_engine.py').replace('            opt.step()', '            nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n            opt.step()');
    const results = await analyze({ ...torch, '/p/torch_engine.py': clipped });
    expect(results.flatMap((r) => r.findings)).toEqual([]);
    expect(defined(defined(results[0]).models[0]).training.loops).toHaveLength(1);
  });

  it('reads the argument by keyword or position, not another parameter', async () => {
    const other = dir('torch_main.py').replace('engine.fit(loader=make_loader(), model=tagger)', 'engine.fit(make_loader(), tagger)');
    const results = await analyze({ ...torch, '/p/torch_main.py': other });
    expect(results.flatMap((r) => r.findings)).toEqual([]);
  });
});

describe('an unassigned model in a project with one model', () => {
  const tagger = fixture('project_tagger.py');
  const cell = fixture('project_train_cell.py');

  it('binds the training cell to the project\'s only model, with a note in the cell', async () => {
    const [defs, train] = await analyze({ '/p/tagger.py': tagger, '/p/train_cell.py': cell });
    expect(marks(defined(defs))).toEqual(['GL401@8']);
    expect(codes(defined(train))).toEqual(['GL401@10']);
    expect(defined(train).notices.map((n) => n.message)).toContain("Line 5: 'model' is never assigned in this file: read as the project's only model 'Tagger' (tagger.py)");
    expect(defined(defs).models[0]!.training.optimizer?.name).toBe('adam');
  });

  it('binds nothing when the project has two models, or none', async () => {
    const scorer = tagger.replace('class Tagger', 'class Scorer').replace('nn.LSTM', 'nn.GRU');
    const results = await analyze({ '/p/tagger.py': tagger, '/p/scorer.py': scorer, '/p/train_cell.py': cell });
    expect(results.flatMap((r) => r.findings)).toEqual([]);
    expect(results.flatMap((r) => r.notices.filter((n) => n.message.includes('never assigned')))).toEqual([]);
    const [alone] = await analyze({ '/p/train_cell.py': cell });
    expect(defined(alone).findings).toEqual([]);
    expect(defined(alone).notices).toEqual([]);
  });
});

describe('a variable rebound by calling a layer on it', () => {
  it('follows `model = Dense(...)(model)` up to `model = Model(inputs, model)` and its compile', async () => {
    const text = `from keras.layers import Dense, Input, GRU
from keras.models import Model

inp = Input(shape=(30, 4))
net = GRU(32, return_sequences=True)(inp)
net = GRU(32)(net)
net = Dense(1)(net)
net = Model(inp, net)
net.compile(optimizer='sgd', loss='mse')
net.fit(x, y)
`;
    const r = await analyzeOne(text);
    expect(r.models.map((m) => `${m.name}:${m.layers.map((l) => l.kind).join(',')}`)).toEqual(['net:input,gru,gru,dense']);
    expect(r.models[0]!.training.compile?.range.start.line).toBe(8);
    expect(codes(r)).toEqual(['GL401@9']);
    const clipped = await analyzeOne(text.replace("optimizer='sgd'", 'optimizer=SGD(clipnorm=1.0)').replace('from keras.models import Model', 'from keras.models import Model\nfrom keras.optimizers import SGD'));
    expect(clipped.findings).toEqual([]);
  });
});
