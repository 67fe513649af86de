import { describe, expect, it, beforeAll } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { Scope } from '../../../src/analysis/python/constants';
import { descendantsOfType, stringValue, callArguments, calleeName } from '../../../src/analysis/python/syntax';
import { defined } from '../../defined';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const parse = (text: string) => PyFile.parse(parser, 'm.py', text);

describe('ImportTable', () => {
  it('canonicalizes Keras spellings and aliases', () => {
    const f = parse(
      [
        'import tensorflow as tf',
        'from tensorflow.keras import layers as L',
        'from tensorflow.keras.layers import BatchNormalization as BN, Dense',
        'from keras import initializers',
        'import torch.nn as nn',
        'from torch.nn import functional as F',
      ].join('\n'),
    );
    expect(f.imports.resolve('tf.keras.layers.Dense')).toBe('keras.layers.Dense');
    expect(f.imports.resolve('L.Conv2D')).toBe('keras.layers.Conv2D');
    expect(f.imports.resolve('BN')).toBe('keras.layers.BatchNormalization');
    expect(f.imports.resolve('Dense')).toBe('keras.layers.Dense');
    expect(f.imports.resolve('initializers.HeNormal')).toBe('keras.initializers.HeNormal');
    expect(f.imports.resolve('nn.Linear')).toBe('torch.nn.Linear');
    expect(f.imports.resolve('F.relu')).toBe('torch.nn.functional.relu');
    expect(f.imports.resolve('my_local')).toBe('my_local');
    expect(parse('from keras.api.layers import Dense as D\n').imports.resolve('D')).toBe('keras.layers.Dense');
  });

  it('records relative imports with their dots for project linking', () => {
    const f = parse('from .model import Net\nfrom ..pkg.models import build as b\n');
    expect(f.imports.bindings.map((b) => [b.local, b.module, b.symbol])).toEqual([
      ['Net', '.model', 'Net'],
      ['b', '..pkg.models', 'build'],
    ]);
  });

  it('lists what a star import of the file binds: its public top-level classes and functions, however spelled, or its literal __all__', () => {
    const text = [
      'class Net(nn.Module):',
      '    def inner(self):',
      '        pass',
      'async  def fetch():',
      '    pass',
      '@torch.no_grad()',
      'def evaluate(model):',
      '    pass',
      'class\tGröße:',
      '    pass',
      'def _private():',
      '    pass',
      'def \\',
      '        continued():',
      '    pass',
      'if True:',
      '    def hidden():',
      '        pass',
    ].join('\n');
    expect(parse(text).imports.starExports).toEqual(['Net', 'fetch', 'evaluate', 'Größe', 'continued']);
    expect(parse(`${text}\n__all__ = ["evaluate", "_private"]\n`).imports.starExports).toEqual(['evaluate', '_private']);
  });
});

describe('Scope', () => {
  const valueOf = (text: string, name: string) => {
    const f = parse(text);
    const use = defined(descendantsOfType(f.root, 'identifier').filter((n) => n.text === name).at(-1));
    return Scope.of(use).evaluate(use);
  };

  it('evaluates names bound once, arithmetic and math calls', () => {
    expect(valueOf('H = 64\nW = H * 2 + 1\nprint(W)', 'W')).toBe(129);
    expect(valueOf('import math\nS = 1 / math.sqrt(4)\nprint(S)', 'S')).toBe(0.5);
    expect(valueOf('SHAPE = (28, 28, 1)\nf(SHAPE)', 'SHAPE')).toEqual([28, 28, 1]);
  });

  it('concatenates and repeats constant sequences, but a repetition longer than a loop may unroll is unknown', () => {
    expect(valueOf('IMG = (32, 32)\nSHAPE = IMG + (3,)\nf(SHAPE)', 'SHAPE')).toEqual([32, 32, 3]);
    expect(valueOf('UNITS = [64] * 3\nf(UNITS)', 'UNITS')).toEqual([64, 64, 64]);
    expect(valueOf('BUFFER = [0] * 10 ** 6\nf(BUFFER)', 'BUFFER')).toBeUndefined();
  });

  it('formats strings as Python does: %, .format with positional and keyword fields, f-strings', () => {
    expect(valueOf('N = "dense_%d_%s" % (3, "a")\nf(N)', 'N')).toBe('dense_3_a');
    expect(valueOf('N = "{}_{k}".format(2, k="relu")\nf(N)', 'N')).toBe('2_relu');
    // An argument no field reads does not matter; one a field reads must be known.
    expect(valueOf('def g(x):\n    N = "{0}".format(4, x)\n    return N\n', 'N')).toBe('4');
    expect(valueOf('def g(x):\n    N = "{1}".format(4, x)\n    return N\n', 'N')).toBeUndefined();
    expect(valueOf('S = None\nN = f"in{S}"\nf(N)', 'N')).toBe('inNone');
    expect(valueOf('S = (1, 2)\nN = f"in{S}"\nf(N)', 'N')).toBeUndefined();
  });

  it('reads an attribute of a configuration object as it is made (Namespace, SimpleNamespace, EasyDict), unless the file assigns it', () => {
    expect(valueOf('import argparse\nargs = argparse.Namespace(img_rows=28, channels=1)\nS = (args.img_rows, args.channels)\nf(S)', 'S')).toEqual([28, 1]);
    expect(valueOf("from easydict import EasyDict\ncfg = EasyDict({'hidden': 256})\nH = cfg.hidden * 2\nf(H)", 'H')).toBe(512);
    expect(valueOf('from types import SimpleNamespace\ncfg = SimpleNamespace(hidden=256)\ncfg.hidden = 128\nH = cfg.hidden\nf(H)', 'H')).toBeUndefined();
    expect(valueOf('from types import SimpleNamespace\ncfg = SimpleNamespace(hidden=256)\ncfg.hidden += 1\nH = cfg.hidden\nf(H)', 'H')).toBeUndefined();
    // Any other object's attribute stays unknown.
    expect(valueOf('cfg = load_config(hidden=256)\nH = cfg.hidden\nf(H)', 'H')).toBeUndefined();
  });

  it('leaves names bound twice or augmented unknown', () => {
    expect(valueOf('N = 3\nN = 4\nf(N)', 'N')).toBeUndefined();
    expect(valueOf('N = 3\nN += 1\nf(N)', 'N')).toBeUndefined();
    expect(valueOf('def g(n):\n    return n\n', 'n')).toBeUndefined();
  });

  it('treats function parameters as unknown, shadowing module constants', () => {
    expect(valueOf('units = 64\ndef build(units, act="relu", *rest, width: int = 3, **kw):\n    return units\n', 'units')).toBeUndefined();
    expect(valueOf('width = 8\ndef build(units, width: int = 3):\n    return width\n', 'width')).toBeUndefined();
    expect(valueOf('kw = 1\ndef build(**kw):\n    return kw\n', 'kw')).toBeUndefined();
  });

  it('resolves through the enclosing function before the module', () => {
    expect(valueOf('U = 10\ndef build():\n    U = 20\n    return U\n', 'U')).toBe(20);
  });

  it('iterates constant ranges and lists, with a loop variable override', () => {
    const f = parse('for i in range(1, 7, 2):\n    pass\nfor w in [32, 64]:\n    pass\n');
    const loops = descendantsOfType(f.root, 'for_statement');
    const scope = Scope.of(loops[0]!);
    expect(scope.iteration(defined(loops[0]!.childForFieldName('right')))).toEqual([1, 3, 5]);
    expect(scope.iteration(defined(loops[1]!.childForFieldName('right')))).toEqual([32, 64]);
    const g = parse('x = n * 2\n');
    const n = defined(descendantsOfType(g.root, 'identifier').find((id) => id.text === 'n'));
    expect(Scope.of(n).with('n', 5).evaluate(n)).toBe(5);
  });

  it('keeps the latest of many known values bound in one scope, and an unknown one hiding the name, however many came before', () => {
    const f = parse(`${Array.from({ length: 300 }, (_, i) => `v${i} = 0`).join('\n')}\ntotal = v7 + v250 + v299\n`);
    const use = (name: string) => defined(descendantsOfType(f.root, 'identifier').filter((id) => id.text === name).at(-1));
    const base = Scope.of(use('v7'));
    // An unrolled loop rebinding its names: 300 values, then v7 rebound, then v250 made unknown.
    let scope = base;
    for (let round = 0; round < 3; round++) for (let i = 0; i < 300; i++) scope = scope.with(`v${i}`, round * 1000 + i);
    // One name rebound twice in a row, then enough other bindings for the list to join the settled values.
    scope = scope.with('v1', -1).with('v1', -11);
    for (let i = 100; i < 200; i++) scope = scope.with(`v${i}`, 3000 + i);
    expect(scope.evaluate(use('v7'))).toBe(2007);
    expect(scope.evaluate(use('v1'))).toBe(-11);
    const before = scope;
    scope = scope.with('v7', -7).with('v250', undefined as never);
    expect(scope.evaluate(use('v7'))).toBe(-7);
    expect(scope.evaluate(use('v299'))).toBe(2299);
    expect(scope.evaluate(use('v250'))).toBeUndefined();
    expect(scope.bindsOwn('v250')).toBe(true);
    // Scopes are values: the one before the last bindings still reads its own.
    expect(before.evaluate(use('v7'))).toBe(2007);
    expect(before.evaluate(use('v250'))).toBe(2250);
  });
});

describe('syntax helpers', () => {
  it('reads call arguments and plain strings, refusing f-strings', () => {
    const f = parse("layers.Dense(64, activation='relu', name=f'd{i}', **kw)\n");
    const call = descendantsOfType(f.root, 'call')[0]!;
    const args = callArguments(call);
    expect(calleeName(call)).toBe('layers.Dense');
    expect(args.positional.map((a) => a.text)).toEqual(['64']);
    expect(stringValue(args.keywords.get('activation'))).toBe('relu');
    expect(stringValue(args.keywords.get('name'))).toBeNull();
    expect(args.splats).toHaveLength(1);
  });

  it('re-parses incrementally to the same tree as a full parse', () => {
    const before = 'x = Dense(64)\ny = 1\n';
    const after = 'x = Dense(128)\ny = 1\n';
    const first = parse(before);
    const edited = PyFile.parse(parser, 'm.py', after, first, {
      startIndex: 10,
      oldEndIndex: 12,
      newEndIndex: 13,
      startPosition: { row: 0, column: 10 },
      oldEndPosition: { row: 0, column: 12 },
      newEndPosition: { row: 0, column: 13 },
    });
    expect(edited.tree.rootNode.toString()).toBe(parse(after).tree.rootNode.toString());
    expect(descendantsOfType(edited.root, 'integer')[0]!.text).toBe('128');
  });
});
