/**
 * Training constructs real code uses: `optimizer.step(closure)` (LBFGS), names never assigned in a
 * fragment, models that reach training through functions and branches. Each through the whole
 * analysis (real parser, extractors, training pass, linker, rules), with a twin that must stay silent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';

const FIXTURES = join(__dirname, '../../fixtures/constructs');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

async function analyze(files: Record<string, string>): Promise<FileResult[]> {
  const project = await Project.create();
  for (const [path, text] of Object.entries(files)) project.setFile(path, text);
  const results = project.analyzeAll();
  project.dispose();
  return results;
}

async function analyzeOne(text: string, path = '/w/train.py'): Promise<FileResult> {
  return (await analyze({ [path]: text }))[0]!;
}

const codes = (r: FileResult) => r.findings.map((f) => `${f.code}@${f.range.start.line + 1}`);
const notes = (r: FileResult) => r.notices.map((n) => n.message);

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
    const finding = r.findings[0]!;
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
    expect(t.loss).toBe('sparse_categorical_crossentropy');
    // Same name as the model: no "read as its only model" note, only the implicit Sequential one.
    expect(notes(r).filter((n) => n.includes('never assigned'))).toEqual([]);
  });
});
