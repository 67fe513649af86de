/**
 * Whole-pipeline analysis for tests: a real Project (parser, extractors, training pass, linker,
 * rules) over in-memory files, disposed afterwards. Shared by the tests that assert findings and
 * notes on complete files rather than on one extractor.
 */
import { readFileSync } from 'node:fs';
import type { FileResult } from '../../src/analysis/api';
import { Project } from '../../src/analysis/project';

/** Every file's result, in the order the files are given. */
export async function analyzeFiles(files: Record<string, string>): Promise<FileResult[]> {
  const project = await Project.create();
  try {
    for (const [path, text] of Object.entries(files)) project.setFile(path, text);
    return project.analyzeAll();
  } finally {
    project.dispose();
  }
}

/** One file's result. */
export async function analyzeText(text: string, path: string): Promise<FileResult> {
  const [result] = await analyzeFiles({ [path]: text });
  if (!result) throw new Error(`no result for ${path}`);
  return result;
}

/** One fixture file read from disk, analyzed under its own path. */
export function analyzeFixture(path: string): Promise<FileResult> {
  return analyzeText(readFileSync(path, 'utf8'), path);
}
