/**
 * Sizes and flags read from a config dict with a key the code does not fix (`table['heads'][opts.task]`),
 * and from a dict a function of another file assigns to the object the model is given
 * (`def experiment(opts): opts.table = table`): a model built from it is built once per entry
 * (torch-config-entries.test.ts has the policy's own cases). Each through the whole analysis, with
 * twins that must stay silent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { importGroups } from '../../../src/analysis/link';
import { analyzeFiles } from '../project-helper';
import { defined } from '../../defined';

const dir = join(__dirname, '../../fixtures/constructs/config_elsewhere');
const settings = readFileSync(join(dir, 'settings.py'), 'utf8');
const heads = readFileSync(join(dir, 'heads.py'), 'utf8');

const codes = (r: FileResult | undefined) => defined(r).findings.map((f) => `${f.code}@${f.range.start.line + 1}`);
const layers = (r: FileResult | undefined, name: string) =>
  defined(defined(r).models.find((m) => m.name === name)).layers.map((l) => `${l.kind}${l.conditional ? '?' : ''}:${String(l.inFeatures ?? '-')}>${String(l.units ?? '-')}`);
const notes = (r: FileResult | undefined) => defined(r).notices.map((n) => n.message);

describe('a config dict assigned by a function of another file', () => {
  it('reads opts.table from experiment(opts) in settings.py: both heads set norm=True, so Linear -> BatchNorm1d (GL302) in each', async () => {
    const [, model] = await analyzeFiles({ '/p/settings.py': settings, '/p/heads.py': heads });
    expect(layers(model, "Classifier (config 'digits')")).toEqual(['dense:->96', 'batchnorm:96>96', 'activation:->-', 'dense:96>10', 'batchnorm:10>10', 'activation:->-']);
    expect(layers(model, "Classifier (config 'letters')")).toEqual(['dense:->96', 'batchnorm:96>96', 'activation:->-', 'dense:96>26', 'batchnorm:26>26', 'activation:->-']);
    // Stack is a model too, once per head, read with the arguments Classifier builds it with: the same
    // Linear in four models, one problem reported once, naming the other three.
    expect(codes(model)).toEqual(['GL302@9']);
    expect(defined(model).findings[0]!.message).toMatch(
      /\(instance Stack\(.*\) \(config 'digits'\), line 23\) \(also in Stack\(.*\) \(config 'letters'\) at line 23; Classifier \(config 'digits'\) at line 19: stack; Classifier \(config 'letters'\) at line 19: stack\)$/,
    );
    expect(layers(model, "Stack(head['sizes'], norm=head['norm']) (config 'letters')")).toEqual(layers(model, "Classifier (config 'letters')"));
    expect(notes(model)).toContain("Line 22: opts.table: read as the dict experiment() in settings.py assigns to it");
    expect(notes(model)).toContain("Line 22: opts.table['heads'][opts.task]: the key is not known; Classifier is built once per entry ('digits', 'letters')");
  });

  it('stays silent when the config turns normalization off, and when no function assigns the attribute', async () => {
    const off = settings.replace(/norm=True/g, 'norm=False');
    const [, silent] = await analyzeFiles({ '/p/settings.py': off, '/p/heads.py': heads });
    expect(codes(silent)).toEqual([]);
    expect(layers(silent, "Classifier (config 'digits')")).toEqual(['dense:->96', 'activation:->-', 'dense:96>10', 'activation:->-']);
    const [alone] = await analyzeFiles({ '/p/heads.py': heads });
    expect(codes(alone)).toEqual([]);
    expect(defined(alone).models.map((m) => m.name)).not.toContain('Classifier');
  });

  it('builds a flag the entries disagree on both ways: BatchNorm in one head, none in the other', async () => {
    const mixed = settings.replace('sizes=[width, 96, 26], norm=True', 'sizes=[width, 96, 26], norm=False');
    const [, model] = await analyzeFiles({ '/p/settings.py': mixed, '/p/heads.py': heads });
    expect(layers(model, "Classifier (config 'digits')")).toEqual(['dense:->96', 'batchnorm:96>96', 'activation:->-', 'dense:96>10', 'batchnorm:10>10', 'activation:->-']);
    expect(layers(model, "Classifier (config 'letters')")).toEqual(['dense:->96', 'activation:->-', 'dense:96>26', 'activation:->-']);
    expect(codes(model)).toEqual(['GL302@9']);
    expect(defined(model).findings[0]!.message).toMatch(/\(also in Classifier \(config 'digits'\) at line 19: stack\)$/);
  });

  it('builds each head with its own layer list when the lists differ in length', async () => {
    const lengths = settings.replace('sizes=[width, 96, 26]', 'sizes=[width, 96, 64, 26]');
    const [, model] = await analyzeFiles({ '/p/settings.py': lengths, '/p/heads.py': heads });
    expect(layers(model, "Classifier (config 'letters')").filter((l) => l.startsWith('dense'))).toEqual(['dense:->96', 'dense:96>64', 'dense:64>26']);
    expect(layers(model, "Classifier (config 'digits')").filter((l) => l.startsWith('dense'))).toEqual(['dense:->96', 'dense:96>10']);
  });
});

describe('a dict or list read with a key the code does not fix, in one file', () => {
  const oneFile = `import torch.nn as nn

PRESETS = {'a': {'hidden': 64, 'out': 10}, 'b': {'hidden': 64, 'out': 10}}


class Net(nn.Module):
    def __init__(self, preset):
        super().__init__()
        cfg = PRESETS[preset]
        self.fc = nn.Linear(32, cfg['hidden'])
        self.bn = nn.BatchNorm1d(cfg['hidden'])
        self.act = nn.ReLU()
        self.blocks = nn.ModuleList([nn.Linear(cfg['hidden'], cfg['out']) for _ in range(2)])

    def forward(self, x, views):
        h = self.act(self.bn(self.fc(x)))
        for i, v in enumerate(views):
            h = self.blocks[i](h)
        return h
`;

  it('reads what the entries agree on, and an item of a list of like modules for an unknown index', async () => {
    const [r] = await analyzeFiles({ '/w/net.py': oneFile });
    expect(layers(r, 'Net')).toEqual(['dense:32>64', 'batchnorm:64>64', 'activation:->-', 'dense:64>10']);
    expect(codes(r)).toEqual(['GL302@10']);
    const clean = await analyzeFiles({ '/w/net.py': oneFile.replace('nn.Linear(32, cfg[\'hidden\'])', 'nn.Linear(32, cfg[\'hidden\'], bias=False)') });
    expect(codes(clean[0])).toEqual([]);
  });
});

describe('check --jobs groups', () => {
  it('put a file that reads x.table with the file whose function assigns it, though neither imports the other', () => {
    const groups = importGroups([
      { path: '/p/settings.py', modules: [] },
      { path: '/p/heads.py', modules: ['torch.nn'], joins: ['/p/settings.py'] },
      { path: '/p/other.py', modules: [] },
    ]);
    expect(groups).toEqual([['/p/settings.py', '/p/heads.py'], ['/p/other.py']]);
  });
});
