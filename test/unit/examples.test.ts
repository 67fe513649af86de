/**
 * The bundled examples are what users try first: every examples/<rule-name>/bad* must yield that
 * rule's code, and every clean* twin must yield nothing at all. A bad or clean folder is one small
 * project (its files analyzed together, for cross-file rules).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../src/analysis/api';
import { Project } from '../../src/analysis/project';
import { RULES } from '../../src/analysis/rules/index';
import { collectInputs } from '../../src/cli/inputs';
import { readInput } from '../../src/cli/read-source';
import { defined } from '../defined';

const EXAMPLES = join(__dirname, '../../examples');

async function analyze(path: string): Promise<FileResult[]> {
  const project = await Project.create();
  for (const file of collectInputs([path]).files) {
    const source = readInput(file);
    if (source.error !== null) throw new Error(`${file}: ${source.error}`);
    project.setFile(file, source.text);
  }
  const results = project.analyzeAll();
  project.dispose();
  return results;
}

function summary(results: FileResult[]): string {
  return results.flatMap((r) => r.findings.map((f) => `${r.path.slice(EXAMPLES.length + 1)}:${f.range.start.line + 1} ${f.code} ${f.message}`)).join('\n') || '(no findings)';
}

const folders = readdirSync(EXAMPLES).filter((name) => statSync(join(EXAMPLES, name)).isDirectory()).sort();
const cases = folders.flatMap((folder) =>
  readdirSync(join(EXAMPLES, folder))
    .filter((entry) => /^(bad|clean)/.test(entry) && (/\.(py|ipynb)$/.test(entry) || statSync(join(EXAMPLES, folder, entry)).isDirectory()))
    .map((entry) => ({ folder, entry, kind: entry.startsWith('bad') ? ('bad' as const) : ('clean' as const) })),
);

describe('examples', () => {
  it('has an example folder named after a rule for every rule', () => {
    const names = RULES.map((r) => r.meta.name);
    expect(folders.filter((f) => !names.includes(f)), 'folders that match no rule name').toEqual([]);
  });

  it.each(cases)('$folder/$entry', async ({ folder, entry, kind }) => {
    const results = await analyze(join(EXAMPLES, folder, entry));
    expect(results.every((r) => r.error === null)).toBe(true);
    const codes = results.flatMap((r) => r.findings.map((f) => f.code));
    if (kind === 'bad') {
      const rule = defined(RULES.find((r) => r.meta.name === folder));
      expect(codes, summary(results)).toContain(rule.meta.code);
    } else {
      expect(codes, summary(results)).toEqual([]);
    }
  });
});
