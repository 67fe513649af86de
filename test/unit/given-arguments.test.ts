/** The values `probe --arg` gives a definition's parameters (analysis/given-arguments.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../src/analysis/python/parser';
import { parametersOf, parseGivenArguments, withGivenCall } from '../../src/analysis/given-arguments';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});
afterAll(() => {
  parser.delete();
});

describe('given arguments', () => {
  it('takes Python literals only: numbers, strings, booleans, None, and tuples or lists of them', () => {
    expect(parseGivenArguments(parser, ['a=1', 'b=-2.5', "c='relu'", 'd=(28, 28, 1)', 'e=[64, None, True]', 'f=1e-3']).problem).toBeNull();
    for (const value of ['width', 'f(1)', '1 + 2', "f'{x}'", '[x for x in y]', '(1', 'lambda: 0', '-width']) {
      expect(parseGivenArguments(parser, [`a=${value}`]).problem, value).toMatch(/is not a Python literal/);
    }
  });

  it('reads the parameters a call sets by name: a class through its __init__, a function, none past **kwargs', () => {
    const text = `class Block(nn.Module):
    def __init__(self, channels, *layers, act="relu", **unused):
        super().__init__()

class Head(nn.Module):
    def __init__(self, width: int, classes: int = 10):
        super().__init__()

def build(input_shape, n_classes=2):
    pass
`;
    expect(parametersOf(parser, text, 'Head')).toEqual(['width', 'classes']);
    expect(parametersOf(parser, text, 'build')).toEqual(['input_shape', 'n_classes']);
    expect(parametersOf(parser, text, 'Block')).toBeNull();
    expect(parametersOf(parser, text, 'Missing')).toBeNull();
  });

  it('appends one call after the last line, the file otherwise as it was', () => {
    const given = withGivenCall('import torch\nx = 1', 'Head', [{ name: 'width', value: '64' }]);
    expect(given.text).toBe('import torch\nx = 1\n\nHead(width=64)\n');
    expect(given.text.split('\n')[given.line]).toBe('Head(width=64)');
  });
});
