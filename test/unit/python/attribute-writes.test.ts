/**
 * Attribute writes read from one version of a file to the next (python/attribute-writes.ts): a
 * function the edit left alone takes what the version before knew of it, and the writes found are those
 * a fresh read of the new text finds.
 */
import type { Parser } from 'web-tree-sitter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributeWrites, writesReadOf } from '../../../src/analysis/python/attribute-writes';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});
afterAll(() => {
  parser.delete();
});

const FIRST = `import torch


def helper_a(x):
    return x


def my_model(args, width=64):
    args.config = dict(width=width)


def helper_b(y):
    return y
`;

/** Each version's writes as `function.attribute`, read with what the version before read, and read fresh. */
function writesThrough(versions: string[]): { carried: string[]; fresh: string[] }[] {
  const files = versions.map((text) => PyFile.parse(parser, '/w/cfg.py', text));
  const spelled = (file: PyFile, before: PyFile | undefined) => attributeWrites(file, before ? writesReadOf(before) : null).map((w) => `${w.fn.childForFieldName('name')?.text ?? '?'}.${w.attribute}`);
  try {
    return files.map((file, i) => {
      const carried = spelled(file, files[i - 1]);
      const fresh = PyFile.parse(parser, '/w/fresh.py', file.text);
      try {
        return { carried, fresh: spelled(fresh, undefined) };
      } finally {
        fresh.dispose();
      }
    });
  } finally {
    for (const file of files) file.dispose();
  }
}

describe('attribute writes across versions of a file', () => {
  it('finds what a fresh read finds: a writer the edit left alone, moved a place down the list, and a function the edit made a writer', () => {
    // A function added above the writer (every later statement moves one place) and helper_a edited.
    const second = FIRST.replace('    return x\n', '    return x + 1\n').replace('\ndef my_model', '\ndef extra():\n    return 0\n\n\ndef my_model');
    // helper_b now writes an attribute of its parameter.
    const third = second.replace('    return y\n', '    y.table = {"k": 1}\n');
    const results = writesThrough([FIRST, second, third]);
    expect(results.map((r) => r.carried)).toEqual([['my_model.config'], ['my_model.config'], ['my_model.config', 'helper_b.table']]);
    for (const { carried, fresh } of results) expect(carried).toEqual(fresh);
  });
});
