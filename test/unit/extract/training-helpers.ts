/** Shared setup for the training-pass tests: a real parser and models described by their source lines. */
import type { Parser } from 'web-tree-sitter';
import type { Framework, LayerKind, ModelIR } from '../../../src/shared/ir';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { makeLayer, makeModel } from '../../../src/analysis/extract/builders';

let parser: Parser | null = null;

export async function parsePython(path: string, text: string): Promise<PyFile> {
  parser ??= await createPythonParser();
  return PyFile.parse(parser, path, text);
}

/**
 * A model IR for the lines [first, last] (0-based) of a file, as an extractor describes it: its
 * name, what other modules import to reach it, and its layer kinds. Used where the test is about
 * training facts, independent of how a model's layers are read.
 */
export function modelAt(file: string, name: string, exports: string[], first: number, last: number, framework: Framework, kinds: LayerKind[]): ModelIR {
  const range = { start: { line: first, character: 0 }, end: { line: last, character: 200 } };
  return makeModel({
    name,
    framework,
    style: framework === 'keras' ? 'keras-sequential' : 'torch-module',
    file,
    range,
    nameRange: range,
    exports,
    layers: kinds.map((kind, i) => makeLayer({ kind, className: kind, range: { start: { line: first + i, character: 4 }, end: { line: first + i, character: 20 } } })),
  });
}

/** 0-based index of the first line containing `needle` (from line `from`). Throws when absent, so tests fail loudly. */
export function lineOf(text: string, needle: string, from = 0): number {
  const lines = text.split('\n');
  for (let i = from; i < lines.length; i++) if (lines[i]!.includes(needle)) return i;
  throw new Error(`no line contains ${JSON.stringify(needle)}`);
}
