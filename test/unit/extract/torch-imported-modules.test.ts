/**
 * Sub-modules whose classes live in another file of the workspace (issue 11 §2, issue 8 §2): the parent
 * is read through them, with the arguments of the call that builds them, and every layer points at a
 * line of the parent's own file (the line that builds the sub-module, or where a layer it was given is
 * written). The imported file's edits reach the parent's results.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';
import { defined } from '../../defined';
import { fixtureProjects } from '../project-helper';

const { read, open } = fixtureProjects(join(__dirname, '../../fixtures/imported-modules'));

const result = (p: Project, name: string): FileResult => p.analyzeFile(name);
const only = (r: FileResult) => {
  expect(r.models).toHaveLength(1);
  return r.models[0]!;
};

describe('a sub-module defined in another file', () => {
  it('is read through: its layers, built with the call-site arguments, in the parent, on the parent\'s lines', async () => {
    const p = await open(['blocks.py', 'sigmoid_net.py']);
    const model = only(result(p, 'sigmoid_net.py'));
    expect(model.layers.some((l) => l.kind === 'unknown')).toBe(false);
    expect(model.layers.map((l) => l.kind)).toEqual(['dense', 'activation', ...Array<string[]>(6).fill(['dense', 'activation']).flat(), 'dense']);
    // Layers the container was given keep their own lines (1-based 10, 11); the Tower's point at `self.tower = Tower(64)`.
    expect(model.layers.slice(0, 2).map((l) => l.range.start.line + 1)).toEqual([10, 11]);
    const tower = model.layers.filter((l) => l.name.startsWith('tower.'));
    expect(tower).toHaveLength(12);
    expect(tower.every((l) => l.range.start.line + 1 === 13 && l.argsRange === null)).toBe(true);
    expect(defined(tower[0]).units).toBe(64);
    expect(defined(tower[1]).activation?.name).toBe('sigmoid');
    // No fix may edit a line of the other file: the Tower's layers have no argument range.
    expect(model.layers.at(-1)).toMatchObject({ name: 'head', range: { start: { line: 13 } } });
  });

  it('through a star import (`from blocks import *`): the same layers and the same finding', async () => {
    const p = await open(['blocks.py', 'star_net.py']);
    const model = only(result(p, 'star_net.py'));
    expect(model.layers.some((l) => l.kind === 'unknown')).toBe(false);
    expect(model.layers.filter((l) => l.name.startsWith('tower.'))).toHaveLength(12);
    expect(result(p, 'star_net.py').findings.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL101', 13]]);
  });

  it('finds the sigmoid stack it builds, at the line that builds it', async () => {
    const p = await open(['blocks.py', 'sigmoid_net.py']);
    const findings = result(p, 'sigmoid_net.py').findings;
    expect(findings.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL101', 13]]);
  });

  it('the clean twin (the same Tower built with ReLU) reports nothing', async () => {
    const p = await open(['blocks.py', 'relu_net.py']);
    const r = result(p, 'relu_net.py');
    expect(only(r).layers.filter((l) => l.kind === 'activation').map((l) => l.activation?.name)).toEqual(Array<string>(7).fill('relu'));
    expect(r.findings).toEqual([]);
  });

  it('an edit of the other file reaches the parent', async () => {
    const p = await open(['blocks.py', 'sigmoid_net.py']);
    expect(result(p, 'sigmoid_net.py').findings).toHaveLength(1);
    p.setFile('blocks.py', read('blocks.py').replace('act=nn.Sigmoid', 'act=nn.ReLU'));
    expect(result(p, 'sigmoid_net.py').findings).toEqual([]);
    expect(only(result(p, 'sigmoid_net.py')).layers.filter((l) => l.name.startsWith('tower.') && l.kind === 'activation').every((l) => l.activation?.name === 'relu')).toBe(true);
  });

  it('two problems of one sub-module built on one line are two findings there, each marked where its layer is written', async () => {
    const p = await open(['torch_pairs/conv_unit.py', 'torch_pairs/unit_net.py']);
    const findings = result(p, 'torch_pairs/unit_net.py').findings;
    expect(findings.map((f) => [f.code, f.range.start.line + 1, /'([^']+)'/.exec(f.message)?.[1]])).toEqual([['GL302', 7, 'u.conv1'], ['GL302', 7, 'u.conv2']]);
    // The block is a model of its own too: its findings are where it writes the layers.
    expect(result(p, 'torch_pairs/conv_unit.py').findings.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL302', 6], ['GL302', 8]]);
  });

  it('without the other file the sub-module stays one unknown layer, and nothing is guessed', async () => {
    const p = await open(['sigmoid_net.py']);
    const r = result(p, 'sigmoid_net.py');
    const model = only(r);
    expect(model.layers.filter((l) => l.kind === 'unknown').map((l) => l.name)).toEqual(['stem', 'tower']);
    expect(r.findings).toEqual([]);
  });
});

describe('sizes a script passes from its command line', () => {
  const model = [
    'import torch.nn as nn',
    '',
    'class Stack(nn.Module):',
    '    def __init__(self, depth=4, width=32):',
    '        super().__init__()',
    '        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])',
    '',
    '    def forward(self, x):',
    '        for layer in self.layers:',
    '            x = layer(x)',
    '        return x',
    '',
  ].join('\n');
  const script = (where: 'main' | 'top' | 'none') => {
    const parse = ['parser = argparse.ArgumentParser()', "parser.add_argument('--layers', type=int, default=2)", 'args = parser.parse_args()', 'net = Stack(depth=args.layers)'];
    const body = where === 'main' ? ['if __name__ == "__main__":', ...parse.map((l) => `    ${l}`)] : where === 'top' ? parse : ['def run(args):', '    net = Stack(depth=args.layers)'];
    return ['import argparse', 'from model import Stack', '', ...body, ''].join('\n');
  };
  const depthFor = async (where: 'main' | 'top' | 'none') => {
    const project = await open({ 'model.py': model, 'train.py': script(where) });
    return project.analyzeFile('model.py').models.map((m) => m.layers.length);
  };

  it('reads the argparse default in the `if __name__ == "__main__":` block as at the top level', async () => {
    expect(await depthFor('main')).toEqual([2]);
    expect(await depthFor('top')).toEqual([2]);
  });

  it('an `args` that is no parsed command line is unknown: no size is taken from it', async () => {
    expect(await depthFor('none')).not.toContain(2);
  });
});

describe('a module class another file builds with an activation module (`DeepMLP(act=nn.Sigmoid())`)', () => {
  const dir = 'torch_module_args';
  it('reads the module the call passes: a sigmoid stack, reported, shown at the class and marked where the call writes it', async () => {
    const p = await open([`${dir}/deep_mlp.py`, `${dir}/train_sigmoid.py`]);
    const r = result(p, `${dir}/deep_mlp.py`);
    const model = only(r);
    expect(model.layers.some((l) => l.kind === 'unknown')).toBe(false);
    const acts = model.layers.filter((l) => l.kind === 'activation');
    expect(acts.map((l) => l.activation?.name)).toEqual(Array<string>(6).fill('sigmoid'));
    expect(acts.every((l) => l.range.start.line + 1 === 5 && l.writtenAt?.file.endsWith('train_sigmoid.py'))).toBe(true);
    expect(model.layers.find((l) => l.kind === 'dense')?.units).toBe(128);
    expect(r.findings.map((f) => f.code)).toEqual(['GL101']);
  });

  it('the clean twin, built with nn.ReLU(), reports nothing', async () => {
    const p = await open([`${dir}/deep_mlp.py`, `${dir}/train_relu.py`]);
    const r = result(p, `${dir}/deep_mlp.py`);
    expect(only(r).layers.filter((l) => l.kind === 'activation').map((l) => l.activation?.name)).toEqual(Array<string>(6).fill('relu'));
    expect(r.findings).toEqual([]);
  });

  it('a module the call takes from its own parameter stays unknown, named as written, with a note', async () => {
    const p = await open([`${dir}/deep_mlp.py`, `${dir}/train_chosen.py`]);
    const r = result(p, `${dir}/deep_mlp.py`);
    const unknown = only(r).layers.filter((l) => l.kind === 'unknown');
    expect(unknown.length).toBeGreaterThan(0);
    expect(r.notices.some((n) => /not fully understood/.test(n.message))).toBe(true);
    // An item of nn.Sequential(...) written by name is that name, on its own line, not the container.
    const shallow = result(await open([`${dir}/shallow.py`, `${dir}/train_chosen.py`]), `${dir}/shallow.py`);
    expect(only(shallow).layers.find((l) => l.kind === 'unknown')).toMatchObject({ name: 'net.1', className: 'act', range: { start: { line: 9 } } });
    expect(shallow.notices.map((n) => n.message)).toContain("Line 10: act (item 1 of nn.Sequential(...)) is not fully understood; findings for model 'ShallowMLP' may miss what it does");
  });
});
