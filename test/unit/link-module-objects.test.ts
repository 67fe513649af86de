/**
 * Calls of a workspace file's definitions through a module object (`import lib` ... `lib.build(...)`,
 * `from pkg import lib`, `import pkg.lib as m`, `lib.Builder.build(...)`) bind like `from lib import
 * build` ... `build(...)`: the definition is read with the call's arguments (sweep s15, cause 1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import type { FileResult } from '../../src/analysis/api';
import type { ModelIR } from '../../src/shared/ir';
import { defined } from '../defined';

const FIXTURES = join(__dirname, '../fixtures/imported-modules');
const DIR = join(FIXTURES, 'module_object');
const NETS = ['nets/__init__.py', 'nets/stacks.py', 'nets/tower.py'];

let project: Project | null = null;
afterEach(() => {
  project?.dispose();
  project = null;
});

async function open(files: Record<string, string>): Promise<Project> {
  project = await Project.create();
  for (const [path, text] of Object.entries(files)) project.setFile(path, text);
  return project;
}

/** The package and one of the scripts that call it (train.py, or its clean twin train_clean.py). */
const fixture = (script: string): Record<string, string> => Object.fromEntries([script, ...NETS].map((f) => [join(DIR, f), readFileSync(join(DIR, f), 'utf8')]));

/** What the layers are built with, and the input: what the call's arguments decide. */
const sizes = (model: ModelIR) => ({ input: model.inputShape, layers: model.layers.filter((l) => l.kind === 'dense').map((l) => [l.inFeatures, l.units]) });
const codes = (r: FileResult) => r.findings.map((f) => [f.code, f.range.start.line + 1]);
const only = (r: FileResult): ModelIR => {
  expect(r.models).toHaveLength(1);
  return defined(r.models[0]);
};

describe('a definition called through a module object', () => {
  it('is read with the call\'s arguments: a static method through `from pkg import mod`, a class through `import pkg.mod as m`', async () => {
    const p = await open(fixture('train.py'));
    const stacks = p.analyzeFile(join(DIR, 'nets/stacks.py'));
    expect(sizes(only(stacks))).toEqual({ input: [20], layers: [[20, 7], ...Array<number[]>(5).fill([7, 7]), [7, 1]] });
    expect(codes(stacks)).toEqual([['GL101', 10]]);
    const tower = p.analyzeFile(join(DIR, 'nets/tower.py'));
    expect(sizes(only(tower)).layers).toEqual([[20, 32], ...Array<number[]>(5).fill([32, 32]), [32, 1]]);
    expect(codes(tower)).toEqual([['GL101', 11]]);

    // Editing the call re-reads the definition (as the editor does, file by file).
    const train = join(DIR, 'train.py');
    p.setFile(train, defined(p.text(train)).replace('stacks.Builder.build((20,), 7, depth=6)', 'stacks.Builder.build((12,), 5)'));
    const edited = p.analyzeFile(join(DIR, 'nets/stacks.py'));
    expect(sizes(only(edited))).toEqual({ input: [12], layers: [[12, 5], [5, 5], [5, 1]] });
    expect(edited.findings).toEqual([]);
  });

  it('the clean twin: the call\'s sizes, and no finding', async () => {
    const p = await open(fixture('train_clean.py'));
    const stacks = p.analyzeFile(join(DIR, 'nets/stacks.py'));
    expect(sizes(only(stacks))).toEqual({ input: [20], layers: [[20, 7], [7, 7], [7, 1]] });
    expect(stacks.findings).toEqual([]);
    const tower = p.analyzeFile(join(DIR, 'nets/tower.py'));
    expect(sizes(only(tower)).layers).toEqual([[20, 32], [32, 32], [32, 1]]);
    expect(tower.findings).toEqual([]);
  });

  it('a static method of a class imported by name (`from nets.stacks import Builder` ... `Builder.build(...)`) binds the same way', async () => {
    const files = fixture('train.py');
    files[join(DIR, 'train.py')] = 'from nets.stacks import Builder\n\nmodel = Builder.build((20,), 7, depth=6)\n';
    const stacks = (await open(files)).analyzeFile(join(DIR, 'nets/stacks.py'));
    expect(sizes(only(stacks)).input).toEqual([20]);
    expect(codes(stacks)).toEqual([['GL101', 10]]);
  });

  const lib = `from tensorflow import keras


def build(input_shape, n):
    return keras.Sequential([
        keras.layers.Input(shape=input_shape),
        keras.layers.Dense(n, activation="relu"),
        keras.layers.Dense(1),
    ])
`;
  const models = async (files: Record<string, string>): Promise<FileResult> => (await open(files)).analyzeFile('/ws/lib2.py');

  it('binds exactly like `from lib2 import build`: the same models, findings and notices', async () => {
    const imported = await models({ '/ws/lib2.py': lib, '/ws/main.py': 'from lib2 import build\n\nmodel = build((20,), 7)\nmodel.compile(optimizer="sgd", loss="mse")\n' });
    project?.dispose();
    const throughModule = await models({ '/ws/lib2.py': lib, '/ws/main.py': 'import lib2\n\nmodel = lib2.build((20,), 7)\nmodel.compile(optimizer="sgd", loss="mse")\n' });
    expect(sizes(only(throughModule))).toEqual({ input: [20], layers: [[20, 7], [7, 1]] });
    expect([only(throughModule).layers, only(throughModule).training]).toEqual([only(imported).layers, only(imported).training]);
    expect([throughModule.findings, throughModule.notices]).toEqual([imported.findings, imported.notices]);
  });

  it('follows the module path written in the call (`import pkg.lib2` ... `pkg.lib2.build(...)`)', async () => {
    const r = (await open({ '/ws/pkg/__init__.py': '', '/ws/pkg/lib2.py': lib, '/ws/main.py': 'import pkg.lib2\n\nmodel = pkg.lib2.build((20,), 7)\n' })).analyzeFile('/ws/pkg/lib2.py');
    expect(sizes(only(r))).toEqual({ input: [20], layers: [[20, 7], [7, 1]] });
  });

  it('links nothing through a module outside the workspace, or a name no module binds', async () => {
    const alone = await models({ '/ws/lib2.py': lib });
    project?.dispose();
    for (const main of ['import lib3 as lib2\n\nmodel = lib2.build((20,), 7)\n', 'lib2 = object()\nmodel = lib2.build((20,), 7)\n']) {
      const r = await models({ '/ws/lib2.py': lib, '/ws/main.py': main });
      expect(only(r).layers).toEqual(only(alone).layers);
      project?.dispose();
    }
  });
});

describe('a block of the workspace reached through a module object, inside a model of another file', () => {
  // cnn.py: `from nets import layers` ... `layers.ConvBN(3, 32)`; keras_cnn.py: `import nets.keras_blocks as blocks`
  // ... `blocks.conv_bn(x, 32)`. The blocks are read through, as when their names are imported.
  const BLOCKS = ['nets/__init__.py', 'nets/layers.py', 'nets/keras_blocks.py'];
  const analyzed = async (script: string): Promise<FileResult> => {
    const files = Object.fromEntries([script, ...BLOCKS].map((f) => [join(DIR, f), readFileSync(join(DIR, f), 'utf8')]));
    return (await open(files)).analyzeFile(join(DIR, script));
  };
  const kinds = (model: ModelIR) => model.layers.map((l) => l.kind);

  it('a torch sub-module and a builder function: their layers in the parent, the bias before BatchNorm on the lines that build them', async () => {
    const r = await analyzed('cnn.py');
    expect(kinds(only(r))).toEqual(['conv2d', 'batchnorm', 'activation', 'conv2d', 'batchnorm', 'activation', 'global-pool', 'flatten', 'dense']);
    expect(only(r).layers.find((l) => l.name === 'head.1')).toMatchObject({ inFeatures: 64, units: 10 });
    expect(codes(r)).toEqual([['GL302', 9], ['GL302', 10]]);
    expect(r.notices).toEqual([]);
  });

  it('the torch twin that builds the blocks with bias=False: the same layers, no finding', async () => {
    const r = await analyzed('cnn_clean.py');
    expect(kinds(only(r))).toHaveLength(9);
    expect(r.findings).toEqual([]);
  });

  it('Keras block functions in a functional model: their layers, and a finding on each line that calls them', async () => {
    const r = await analyzed('keras_cnn.py');
    expect(kinds(only(r))).toEqual(['input', 'conv2d', 'batchnorm', 'activation', 'conv2d', 'batchnorm', 'activation', 'global-pool', 'dense']);
    expect(codes(r)).toEqual([['GL302', 6], ['GL302', 7]]);
  });

  it('the Keras twin that passes use_bias=False: no finding', async () => {
    const r = await analyzed('keras_cnn_clean.py');
    expect(kinds(only(r))).toHaveLength(9);
    expect(r.findings).toEqual([]);
  });

  it('an edit of the blocks file reaches the model that reads it through the module object', async () => {
    const files = Object.fromEntries(['cnn.py', ...BLOCKS].map((f) => [join(DIR, f), readFileSync(join(DIR, f), 'utf8')]));
    const p = await open(files);
    expect(codes(p.analyzeFile(join(DIR, 'cnn.py')))).toHaveLength(2);
    const blocks = join(DIR, 'nets/layers.py');
    p.setFile(blocks, defined(p.text(blocks)).replace('def __init__(self, cin, cout, bias=True):', 'def __init__(self, cin, cout, bias=False):'));
    expect(p.analyzeFile(join(DIR, 'cnn.py')).findings).toEqual([]);
  });
});
