/** Shared setup for the PyTorch extractor tests: a real parser, fixtures from disk, compact views of the IR. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Parser } from 'web-tree-sitter';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { extractTorch } from '../../../src/analysis/extract/torch';
import type { EvalNotes } from '../../../src/analysis/python/limits';

let parser: Parser | null = null;

export async function extractTorchFrom(text: string, path = 'model.py', notes?: EvalNotes): Promise<ModelIR[]> {
  parser ??= await createPythonParser();
  const file = PyFile.parse(parser, path, text);
  try {
    return extractTorch(file, notes);
  } finally {
    file.dispose();
  }
}

export const FIXTURES = join(__dirname, '../../fixtures/extract/torch');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export async function extractFixture(name: string): Promise<ModelIR[]> {
  return extractTorchFrom(fixture(name), name);
}

/** The model called `name`; throws (failing the test) when absent. */
export function model(models: ModelIR[], name: string): ModelIR {
  const found = models.find((m) => m.name === name);
  if (!found) throw new Error(`no model ${name}; found ${models.map((m) => m.name).join(', ') || 'none'}`);
  return found;
}

/** "kind" or "kind:activation" per layer, for order assertions. */
export function kinds(m: ModelIR): string[] {
  return m.layers.map((l) => (l.kind === 'activation' ? `activation:${l.activation?.name}` : l.kind));
}

/** 1-based line of a layer, as an editor shows it. */
export const line = (l: LayerIR): number => l.range.start.line + 1;

/** 1-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line contains ${JSON.stringify(needle)}`);
  return i + 1;
}
