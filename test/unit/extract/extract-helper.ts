/**
 * Parse-and-extract for tests: real tree-sitter parser, PyFile, then the Keras and PyTorch model
 * extractors (no training pass). Reusable by every extractor and rule test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Parser } from 'web-tree-sitter';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { extractKeras } from '../../../src/analysis/extract/keras';
import { extractTorch } from '../../../src/analysis/extract/torch';
import { extractFile } from '../../../src/analysis/extract';

let parser: Parser | null = null;

/** Every model `text` defines (Keras first, then PyTorch), as the extractors see it. */
export async function extractFrom(text: string, path = 'model.py'): Promise<ModelIR[]> {
  parser ??= await createPythonParser();
  const file = PyFile.parse(parser, path, text);
  try {
    return [...extractKeras(file), ...extractTorch(file)];
  } finally {
    file.dispose();
  }
}

/** Every model `text` defines with the file's facts (input guesses, instantiation): the whole extraction, as the analyzer runs it. */
export async function extractedModels(text: string, path = 'model.py'): Promise<ModelIR[]> {
  const file = await parseFile(text, path);
  try {
    return extractFile(file).models;
  } finally {
    file.dispose();
  }
}

/** A parsed file for tests that need the PyFile itself (the caller disposes it). */
export async function parseFile(text: string, path = 'model.py'): Promise<PyFile> {
  parser ??= await createPythonParser();
  return PyFile.parse(parser, path, text);
}

export const KERAS_FIXTURES = join(__dirname, '../../fixtures/extract/keras');

export function kerasFixture(name: string): string {
  return readFileSync(join(KERAS_FIXTURES, name), 'utf8');
}

/** The model called `name`; throws (failing the test) when absent. */
export function modelNamed(models: ModelIR[], name: string): ModelIR {
  const found = models.find((m) => m.name === name);
  if (!found) throw new Error(`no model ${name}; found ${models.map((m) => m.name).join(', ') || 'none'}`);
  return found;
}

/** "kind" or "kind:activation" per layer (activation omitted when it is the linear default). */
export function layerSummary(model: ModelIR): string[] {
  return model.layers.map((l: LayerIR) => {
    const act = l.activation && !(l.activation.source === 'default' && l.activation.name === 'linear') ? `:${l.activation.name}` : '';
    return `${l.kind}${act}`;
  });
}

/** "name@id -> id" for every application that reuses another's parameters (LayerIR.sharesWeightsWith). */
export function sharing(model: ModelIR): string[] {
  return model.layers.flatMap((l) => (l.sharesWeightsWith === null ? [] : [`${l.name}@${l.id} -> ${l.sharesWeightsWith}`]));
}

/** 1-based line of a layer's constructor call. */
export function lineOf(layer: LayerIR): number {
  return layer.range.start.line + 1;
}
