/**
 * Keras building blocks written in another file of the workspace (found missing on held-out real code,
 * session 34): a block function (`x = conv_bn_relu(x, 32)`) and a custom Layer class
 * (`ResidualUnit(32)(x)`, `self.unit1 = ResidualUnit(32)`) imported from it are read through, with the
 * call's arguments, in that file's own names; every layer they make is shown on the line of the model's
 * file that calls or builds them, and keeps the line that writes it, where its findings are marked.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { fixtureProjects } from '../project-helper';

const { read, open } = fixtureProjects(join(__dirname, '../../fixtures/imported-modules/keras'));

const only = (r: FileResult) => {
  expect(r.models).toHaveLength(1);
  return r.models[0]!;
};
const placed = (r: FileResult) => r.findings.map((f) => [f.code, f.range.start.line + 1, /'([^']+)'/.exec(f.message)?.[1]]);

describe('a Keras block function and a custom layer written in another file', () => {
  it('are read through in a functional model: their layers, on the lines that call them, written where the other file writes them', async () => {
    const p = await open(['cifar_blocks.py', 'resnet_functional.py']);
    const model = only(p.analyzeFile('resnet_functional.py'));
    expect(model.layers.some((l) => l.kind === 'unknown')).toBe(false);
    expect(model.layers.map((l) => l.kind)).toEqual([
      'input', 'rescaling',
      'conv2d', 'batchnorm', 'activation',
      ...Array<string[]>(2).fill(['conv2d', 'batchnorm', 'activation', 'conv2d', 'batchnorm', 'add', 'activation']).flat(),
      'global-pool', 'dense',
    ]);
    const fromBlocks = model.layers.filter((l) => l.writtenAt);
    expect(fromBlocks).toHaveLength(17);
    expect(fromBlocks.every((l) => l.writtenAt?.file === 'cifar_blocks.py' && l.argsRange === null)).toBe(true);
    // conv_bn_relu(x, 32) on line 10, the two ResidualUnit(32)(x) on lines 11 and 12.
    expect([...new Set(fromBlocks.map((l) => l.range.start.line + 1))]).toEqual([10, 11, 12]);
    // Each made with the call's arguments and the block's defaults (conv_bn_relu's kernel_size=3), written on the block's lines.
    expect(fromBlocks.filter((l) => l.kind === 'conv2d').map((l) => [l.units, l.kernelSize, (l.writtenAt?.range.start.line ?? 0) + 1])).toEqual([[32, [3, 3], 9], [32, [3, 3], 20], [32, [3, 3], 22], [32, [3, 3], 20], [32, [3, 3], 22]]);
  });

  it('reports each bias before BatchNorm on the line that builds the block, and marks it where the block writes it', async () => {
    const p = await open(['cifar_blocks.py', 'resnet_functional.py']);
    expect(placed(p.analyzeFile('resnet_functional.py'))).toEqual([
      ['GL302', 10, 'conv2d'],
      ['GL302', 11, 'conv1'], ['GL302', 11, 'conv2'],
      ['GL302', 12, 'conv1'], ['GL302', 12, 'conv2'],
    ]);
    const marks = p.analyzeFile('cifar_blocks.py').findings;
    expect(marks.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL302', 9], ['GL302', 20], ['GL302', 22]]);
    expect(marks.every((f) => f.fixes.length === 0 && f.echoes !== undefined)).toBe(true);
    // No fix may edit a line of the model's file that does not write the layer.
    expect(p.analyzeFile('resnet_functional.py').findings.every((f) => f.fixes.length === 0)).toBe(true);
  });

  it('the clean twin (the same blocks called with use_bias=False) reports nothing, and marks nothing', async () => {
    const p = await open(['cifar_blocks.py', 'resnet_functional_clean.py']);
    const r = p.analyzeFile('resnet_functional_clean.py');
    expect(only(r).layers.filter((l) => l.kind === 'conv2d').every((l) => !l.useBias)).toBe(true);
    expect(r.findings).toEqual([]);
    expect(p.analyzeFile('cifar_blocks.py').findings).toEqual([]);
  });

  it('a custom layer a subclassed model builds in __init__ is shown on the line that builds it', async () => {
    const p = await open(['cifar_blocks.py', 'resnet_subclass.py']);
    const r = p.analyzeFile('resnet_subclass.py');
    const model = only(r);
    expect(model.layers.some((l) => l.kind === 'unknown')).toBe(false);
    expect(model.layers.filter((l) => l.writtenAt).map((l) => l.range.start.line + 1)).toEqual([...Array<number>(7).fill(12), ...Array<number>(7).fill(13)]);
    expect(placed(r)).toEqual([['GL302', 12, 'conv1'], ['GL302', 12, 'conv2'], ['GL302', 13, 'conv1'], ['GL302', 13, 'conv2']]);
  });

  it('an edit of the blocks file reaches the model', async () => {
    const p = await open(['cifar_blocks.py', 'resnet_functional.py']);
    expect(p.analyzeFile('resnet_functional.py').findings).toHaveLength(5);
    p.setFile('cifar_blocks.py', read('cifar_blocks.py').replaceAll('use_bias=True', 'use_bias=False'));
    expect(p.analyzeFile('resnet_functional.py').findings).toEqual([]);
  });

  it('a block taken with __import__ (a module whose file name is no identifier) is read through the same way', async () => {
    const p = await open(['0-conv_block.py', '1-small_net.py']);
    const r = p.analyzeFile('1-small_net.py');
    expect(only(r).layers.map((l) => [l.kind, l.range.start.line + 1])).toEqual([
      ['input', 9], ['conv2d', 10], ['batchnorm', 10], ['activation', 10], ['maxpool', 11], ['conv2d', 12], ['batchnorm', 12], ['activation', 12], ['global-pool', 13], ['dense', 14],
    ]);
    expect(placed(r)).toEqual([['GL302', 10, 'conv2d'], ['GL302', 12, 'conv2d_1']]);
    expect(p.analyzeFile('0-conv_block.py').findings.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL302', 9]]);
  });

  it('without the blocks file in the workspace, the model keeps its own layers and says what it could not read', async () => {
    const p = await open(['resnet_functional.py']);
    const model = only(p.analyzeFile('resnet_functional.py'));
    expect(model.layers.some((l) => l.writtenAt)).toBe(false);
    expect(model.layers.map((l) => l.kind)).toEqual(['input', 'rescaling', 'unknown', 'unknown', 'global-pool', 'dense']);
    expect(model.unsupported.map((u) => u.range.start.line + 1)).toEqual(expect.arrayContaining([11]));
  });
});
