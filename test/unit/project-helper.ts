/**
 * Whole-pipeline analysis for tests: a real Project (parser, extractors, training pass, linker,
 * rules) over in-memory files, disposed afterwards. Shared by the tests that assert findings and
 * notes on complete files rather than on one extractor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
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

/**
 * Projects a test keeps open over files of a fixture folder (each under its name in the folder), or over
 * texts; the one opened last is disposed after each test.
 */
export function fixtureProjects(dir: string): { read: (name: string) => string; open: (files: readonly string[] | Record<string, string>) => Promise<Project> } {
  let project: Project | null = null;
  afterEach(() => {
    project?.dispose();
    project = null;
  });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const open = async (files: readonly string[] | Record<string, string>): Promise<Project> => {
    project?.dispose();
    const opened = (project = await Project.create());
    const texts = isNameList(files) ? files.map((name): [string, string] => [name, read(name)]) : Object.entries(files);
    for (const [name, text] of texts) opened.setFile(name, text);
    return opened;
  };
  return { read, open };
}

function isNameList(files: readonly string[] | Record<string, string>): files is readonly string[] {
  return Array.isArray(files);
}
