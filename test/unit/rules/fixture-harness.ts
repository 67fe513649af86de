/**
 * Fixture-based rule tests. A fixture is realistic model code; each line where a finding must start
 * carries a trailing `# expect: GL101` (several codes: `# expect: GL101, GL202`). The harness runs the
 * real analyzer and asserts the set of (code, line) findings equals the markers: a clean twin with no
 * markers must yield nothing at all.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';
import type { Settings } from '../../../src/shared/settings';
import { defaultSettings } from '../../../src/shared/settings';

const MARKER = /#\s*expect:\s*([A-Z0-9,\s]+?)\s*$/;

/** `code@line` (1-based) for every marker in the text. */
export function expectedMarkers(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = MARKER.exec(line);
    if (m) for (const code of m[1]!.split(',').map((c) => c.trim()).filter(Boolean)) out.push(`${code}@${i + 1}`);
  });
  return out.sort();
}

export function actualMarkers(results: FileResult[]): string[] {
  return results.flatMap((r) => r.findings.map((f) => `${f.code}@${f.range.start.line + 1}`)).sort();
}

/** Analyzes files (one file, or every .py file of a project folder) together. */
export async function analyzePaths(paths: string[], settings: Partial<Settings> = {}): Promise<FileResult[]> {
  const project = await Project.create({ settingsFor: () => ({ ...defaultSettings(), ...settings }) });
  for (const p of paths) project.setFile(p, readFileSync(p, 'utf8'));
  return project.analyzeAll();
}

function pythonFilesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => join(path, f));
}

/**
 * Asserts the markers of a fixture file, or of every file of a fixture project folder (analyzed
 * together so cross-file facts count), equal the analyzer's findings.
 */
export async function expectFixture(path: string, settings: Partial<Settings> = {}): Promise<FileResult[]> {
  const files = pythonFilesOf(path);
  const results = await analyzePaths(files, settings);
  for (const result of results) {
    const expected = expectedMarkers(readFileSync(result.path, 'utf8'));
    const actual = actualMarkers([result]);
    const detail = result.findings.map((f) => `  ${f.code}@${f.range.start.line + 1}: ${f.message}`).join('\n');
    expect(actual, `${result.path}\nfindings:\n${detail || '  (none)'}`).toEqual(expected);
  }
  return results;
}

/** The fixture files (and project folders) of a rule, split into bad and clean. */
export function fixturesOf(code: string): { bad: string[]; clean: string[] } {
  const dir = join(__dirname, '../../fixtures/rules', code);
  const entries = readdirSync(dir).sort();
  const pick = (prefix: string) => entries.filter((e) => e.startsWith(prefix) || e.startsWith(`project_${prefix}`)).map((e) => join(dir, e));
  return { bad: pick('bad'), clean: pick('clean') };
}
