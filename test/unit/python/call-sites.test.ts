/**
 * Call-site sensitivity on whole files (real parser, extractors and rules): a class or builder is
 * evaluated per call with its actual arguments, identical results collapse, different ones are
 * separate models whose findings name their call; changes after construction stay per instance.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { Project } from '../../../src/analysis/project';
import { analyzeFixture } from '../project-helper';
import { defined } from '../../defined';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';

const FIXTURES = join(__dirname, '../../fixtures/core');

const analyze = (name: string): Promise<FileResult> => analyzeFixture(join(FIXTURES, name));

const codes = (r: FileResult) => r.findings.map((f) => f.code);

describe('one class, several instantiations', () => {
  it('is one model per distinct instance, each named after its call', async () => {
    const r = await analyze('torch_instances_constant_fill.py');
    expect(r.models.map((m) => m.name).sort()).toEqual(['Mlp()', 'Mlp(**cfg)', 'Mlp(*sizes)', 'Mlp(0.5, 32)', 'Mlp(fill=0)']);
    const zero = defined(r.models.find((m) => m.name === 'Mlp(fill=0)'));
    expect(zero.instance).toMatchObject({ label: 'Mlp(fill=0)', range: { start: { line: 19 } } });
    expect(zero.layers[0]!.kernelInit).toMatchObject({ name: 'constant', params: { value: 0 } });
    // The **dict and *list spellings are read: width 16 and 8.
    expect(defined(r.models.find((m) => m.name === 'Mlp(**cfg)')).layers[0]!.units).toBe(16);
    expect(defined(r.models.find((m) => m.name === 'Mlp(*sizes)')).layers[0]).toMatchObject({ units: 8, kernelInit: { params: { value: 2 } } });
  });

  it('reports the constant fill for each instance given one, saying which, and nothing for the plain one', async () => {
    const r = await analyze('torch_instances_constant_fill.py');
    expect(codes(r)).toEqual(['GL201', 'GL201', 'GL201', 'GL201']);
    const messages = r.findings.map((f) => f.message);
    expect(messages.some((m) => m.includes('every weight = 0 ') && m.endsWith('(instance Mlp(fill=0), line 20)'))).toBe(true);
    expect(messages.some((m) => m.includes('every weight = 1 ') && m.endsWith('(instance Mlp(**cfg), line 23)'))).toBe(true);
    expect(messages.some((m) => m.includes('Mlp()'))).toBe(false);
  });

  it('the clean twin: instances that differ only in sizes are separate models, with no finding', async () => {
    const r = await analyze('torch_instances_clean.py');
    expect(r.findings).toEqual([]);
    // Mlp() and Mlp(fill=None) build the same model: they collapse.
    expect(r.models.map((m) => m.name).sort()).toEqual(['Mlp()', 'Mlp(**cfg)', 'Mlp(width=32)']);
  });
});

describe('changes after construction', () => {
  it('apply(fn), nn.init on one attribute and a replaced attribute stay with their instance', async () => {
    const r = await analyze('torch_per_instance_changes.py');
    const byModel = new Map(r.models.map((m) => [m.instance?.range.start.line, m]));
    // net_a: wide_init through apply; net_b: He through apply; net_c: N(0, 1) on l1; net_d: a new, zeroed l2.
    expect(defined(byModel.get(27)).layers[0]!.kernelInit).toMatchObject({ name: 'random_uniform', params: { a: -1, b: 1 } });
    expect(defined(byModel.get(30)).layers[0]!.kernelInit).toMatchObject({ name: 'kaiming_uniform' });
    expect(defined(byModel.get(33)).layers[0]!.kernelInit).toMatchObject({ name: 'random_normal', params: { std: 1 } });
    expect(defined(byModel.get(36)).layers[2]).toMatchObject({ kind: 'dense', kernelInit: { name: 'zeros' }, range: { start: { line: 37 } } });
    expect(r.findings.map((f) => `${f.code} ${/instance (.*)\)$/.exec(f.message)?.[1]}`)).toEqual([
      'GL203 Clf(), line 28',
      'GL203 Clf(), line 34',
      'GL201 Clf(), line 37',
    ]);
  });
});

describe('builder functions', () => {
  it('are read per call (keywords, **dict, *list): findings for what each call builds, none for the unused default', async () => {
    const r = await analyze('keras_builder_calls.py');
    expect(r.models).toHaveLength(3);
    const findings = r.findings.map((f) => `${f.code} ${/\(instance (build\([^)]*\))/.exec(f.message)?.[1]}`);
    expect(findings.sort()).toEqual(['GL101 build(*[7, 32, "sigmoid"])', 'GL202 build(n_out=5, **relu_cfg)', 'GL202 build(n_out=5, **relu_cfg)']);
    // No GL101 for the tanh default: no call builds it.
    expect(r.findings.some((f) => /tanh/.test(f.message))).toBe(false);
  });

  it('a builder nobody calls is read once with its defaults', async () => {
    const r = await analyze('keras_builder_uncalled.py');
    expect(r.models.map((m) => m.name)).toEqual(['net']);
    expect(codes(r)).toEqual(['GL101']);
    expect(r.findings[0]!.message).toMatch(/tanh/);
  });
});

describe('constructor arguments given in another file of the workspace', () => {
  async function project(dir: string, files: string[]): Promise<Project> {
    const p = await Project.create();
    for (const f of files) p.setFile(join(FIXTURES, dir, f), readFileSync(join(FIXTURES, dir, f), 'utf8'));
    return p;
  }

  it('reads the class with the arguments of the call in the other file', async () => {
    const p = await project('xfile_ctor', ['go.py', 'lib/__init__.py', 'lib/field.py']);
    try {
      const field = p.analyzeFile(join(FIXTURES, 'xfile_ctor/lib/field.py'));
      expect(field.models).toHaveLength(1);
      expect(field.models[0]!.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units])).toEqual([[3, 50], [50, 50], [50, 50], [50, 50], [50, 1]]);
      expect(field.findings.map((f) => f.code)).toEqual(['GL101']);
      // The training script's optimizer reaches the model it built.
      expect(field.models[0]!.training.optimizer).toMatchObject({ name: 'adam', file: join(FIXTURES, 'xfile_ctor/go.py') });

      // Editing the call re-reads the class: one hidden layer is no stack.
      const go = join(FIXTURES, 'xfile_ctor/go.py');
      p.setFile(go, readFileSync(go, 'utf8').replace('[3, 50, 50, 50, 50, 1]', '[3, 50, 1]'));
      const after = p.analyzeFile(join(FIXTURES, 'xfile_ctor/lib/field.py'));
      expect(after.models[0]!.layers.filter((l) => l.kind === 'dense')).toHaveLength(2);
      expect(after.findings).toEqual([]);
    } finally {
      p.dispose();
    }
  });

  it("reads a call that passes the enclosing __init__'s parameters with their defaults, as that class is read", async () => {
    const p = await project('xfile_enclosing_defaults', ['vit.py', 'blocks.py']);
    try {
      const blocks = p.analyzeFile(join(FIXTURES, 'xfile_enclosing_defaults/blocks.py'));
      const encoder = defined(blocks.models.find((m) => m.name.startsWith('Encoder')));
      // embed_dim=96 and ff_dim=192 reach the block: the residual sums fit and the probe can build it.
      expect(encoder.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units])).toEqual([[96, 192], [192, 96]]);
      expect(defined(encoder.layers.find((l) => l.kind === 'attention')).units).toBe(96);
      expect(planModel(encoder, probeOptions({ backend: 'cpu' })).layers.at(-1)?.outShape.at(-1)).toBe(96);
      // Rebinding the parameter before the call leaves it unknown (clean twin): no default is assumed.
      const vit = join(FIXTURES, 'xfile_enclosing_defaults/vit.py');
      p.setFile(vit, readFileSync(vit, 'utf8').replace('        super().__init__()\n', '        super().__init__()\n        embed_dim = embed_dim * heads\n'));
      const rebound = defined(p.analyzeFile(join(FIXTURES, 'xfile_enclosing_defaults/blocks.py')).models.find((m) => m.name.startsWith('Encoder')));
      expect(rebound.layers.filter((l) => l.kind === 'dense').map((l) => l.inFeatures)).toEqual([null, 192]);
    } finally {
      p.dispose();
    }
  });

  it('reads command-line defaults through a name bound to an expression of them (`widths = [3, opt.hidden, ...]`)', async () => {
    const p = await project('xfile_argparse', ['train.py', 'field.py']);
    try {
      const field = p.analyzeFile(join(FIXTURES, 'xfile_argparse/field.py'));
      expect(field.models.map((m) => m.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units]))).toEqual([[[3, 48], [48, 48], [48, 48], [48, 48], [48, 1]]]);
      expect(field.findings.map((f) => f.code)).toEqual(['GL101']);
    } finally {
      p.dispose();
    }
  });

  it('the clean twin, through a package re-export: the model it builds, and no finding', async () => {
    const p = await project('xfile_ctor_clean', ['go.py', 'nets/__init__.py', 'nets/field.py']);
    try {
      const field = p.analyzeFile(join(FIXTURES, 'xfile_ctor_clean/nets/field.py'));
      expect(field.models[0]!.layers.map((l) => l.kind)).toEqual(['dense', 'activation', 'dense']);
      expect(field.findings).toEqual([]);
    } finally {
      p.dispose();
    }
  });

  it('alone, the class is read with its defaults: unknown widths, no finding, no guess', async () => {
    const p = await project('xfile_ctor', ['lib/field.py']);
    try {
      const field = p.analyzeFile(join(FIXTURES, 'xfile_ctor/lib/field.py'));
      expect(field.findings).toEqual([]);
      expect(field.models[0]!.layers.some((l) => l.kind === 'unknown')).toBe(true);
    } finally {
      p.dispose();
    }
  });
});

describe('constructor arguments given through star imports (`from models import *`)', () => {
  async function project(dir: string, files: string[]): Promise<Project> {
    const p = await Project.create();
    for (const f of files) p.setFile(join(FIXTURES, dir, f), readFileSync(join(FIXTURES, dir, f), 'utf8'));
    return p;
  }
  const denseSizes = (p: Project, file: string) => p.analyzeFile(file).models.map((m) => m.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units]));

  it('reads the class with the call of the file that star-imports it, through a package that star-imports its module', async () => {
    const p = await project('xfile_star', ['train.py', 'nets/__init__.py', 'nets/field.py']);
    try {
      const fieldPath = join(FIXTURES, 'xfile_star/nets/field.py');
      expect(denseSizes(p, fieldPath)).toEqual([[[3, 50], [50, 50], [50, 50], [50, 50], [50, 1]]]);
      const field = p.analyzeFile(fieldPath);
      expect(field.findings.map((f) => f.code)).toEqual(['GL101']);
      expect(defined(field.models[0]).training.optimizer).toMatchObject({ name: 'adam', file: join(FIXTURES, 'xfile_star/train.py') });

      // What the star import binds follows the imported file: without Field there, the call builds nothing of it.
      p.setFile(fieldPath, readFileSync(fieldPath, 'utf8').replace('class Field(', 'class _Field('));
      expect(p.analyzeFile(fieldPath).findings).toEqual([]);
    } finally {
      p.dispose();
    }
  });

  it('a class the importing file defines itself shadows the star import: the other file\'s class gets no call', async () => {
    const p = await project('xfile_star_shadowed', ['train.py', 'field.py']);
    try {
      const field = p.analyzeFile(join(FIXTURES, 'xfile_star_shadowed/field.py'));
      expect(field.findings).toEqual([]);
      expect(defined(field.models[0]).layers.some((l) => l.kind === 'unknown')).toBe(true);
    } finally {
      p.dispose();
    }
  });

  it('a literal __all__ is what the star import binds: a class it leaves out gets no call from the importer', async () => {
    const p = await project('xfile_star_all', ['train.py', 'field.py']);
    try {
      expect(denseSizes(p, join(FIXTURES, 'xfile_star_all/field.py'))).toEqual([[[3, 8], [8, 1]]]);
    } finally {
      p.dispose();
    }
  });
});
