/**
 * Fixture suites for rules, and the check of the text fixes a rule offers on a fixture: applying each
 * fix's edits and re-analyzing the edited source must leave valid Python (no syntax notices) and drop the finding the fix belongs to.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { Project } from '../../../src/analysis/project';
import { applyEdits } from './ir-builder';
import { expectFixture, fixturesOf } from './fixture-harness';
import { defined } from '../../defined';

async function analyzeText(path: string, text: string): Promise<FileResult> {
  const project = await Project.create();
  project.setFile(path, text);
  const [result] = project.analyzeAll();
  project.dispose();
  return defined(result);
}

/** Applies every fix of every `code` finding in the file separately; returns how many fixes were checked. */
export async function expectFixesResolve(code: string, path: string): Promise<number> {
  const text = readFileSync(path, 'utf8');
  const before = await analyzeText(path, text);
  const count = (r: FileResult) => r.findings.filter((f) => f.code === code).length;
  let checked = 0;
  for (const finding of before.findings.filter((f) => f.code === code)) {
    for (const fix of finding.fixes) {
      const edited = applyEdits(text, fix.edits.filter((e) => e.file === path));
      const after = await analyzeText(path, edited);
      const where = `${path}:${finding.range.start.line + 1} fix "${fix.title}"\n--- edited source ---\n${edited}`;
      expect(after.notices.filter((n) => /syntax/i.test(n.message)), where).toEqual([]);
      expect(after.findings.filter((f) => f.code === code && f.range.start.line === finding.range.start.line), where).toEqual([]);
      expect(count(after), where).toBeLessThan(count(before));
      checked++;
    }
  }
  return checked;
}

/** The fixture suite of a rule: every bad/clean fixture matches its markers, and the bad ones' fixes work. */
export function describeRuleFixtures(code: string): void {
  describe(`${code} fixtures (real analyzer)`, () => {
    const { bad, clean } = fixturesOf(code);

    it.each([...bad, ...clean].map((p) => [basename(p), p]))('%s', async (_name, path) => {
      await expectFixture(path);
    });

    it('offers fixes that remove their finding when applied', async () => {
      let checked = 0;
      // Single files: a project fixture's findings depend on its other files, which analyzeText does not read.
      for (const path of bad.filter((p) => p.endsWith('.py'))) checked += await expectFixesResolve(code, path);
      expect(checked).toBeGreaterThan(0);
    });
  });
}
