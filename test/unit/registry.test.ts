/**
 * The registry is complete (ESLint's habit): every rule has a stable code in its category's range,
 * a kebab-case name, a summary, docs with the fixed headings in order, documented options, fixture
 * files, a test file and an example. Adding a rule without these fails here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/analysis/rules/index';
import type { RuleCategory } from '../../src/shared/findings';
import { expectedHeadings, headingsOf, OPTIONS_HEADING, sectionOf } from '../../src/cli/rule-docs';

const ROOT = join(__dirname, '../..');
const CATEGORY_DIGIT: Record<RuleCategory, string> = { activation: '1', initialization: '2', normalization: '3', optimization: '4', data: '5' };

function filesIn(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder) : [];
}

describe('rule registry', () => {
  it('has unique codes and names', () => {
    const codes = RULES.map((r) => r.meta.code);
    const names = RULES.map((r) => r.meta.name);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(names).size).toBe(names.length);
  });

  describe.each(RULES.map((r) => [r.meta.code, r] as const))('%s', (code, rule) => {
    const { meta } = rule;

    it('has a code in its category range and a kebab-case name', () => {
      expect(code).toMatch(/^GL[1-5]\d\d$/);
      expect(code[2], `${code} is in category ${meta.category}`).toBe(CATEGORY_DIGIT[meta.category]);
      expect(meta.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
    });

    it('has a one-line summary', () => {
      expect(meta.summary.trim().length).toBeGreaterThan(10);
      expect(meta.summary).not.toMatch(/\n|^TODO/);
    });

    it('has docs with the fixed headings, in order, none empty', () => {
      expect(headingsOf(meta.docs)).toEqual(expectedHeadings(meta));
      for (const heading of expectedHeadings(meta)) expect(sectionOf(meta.docs, heading), `${code} ${heading}`).not.toBe('');
      expect(sectionOf(meta.docs, '## Example')).toMatch(/```python\n[\s\S]+?```/);
      expect(sectionOf(meta.docs, '## Use instead')).toMatch(/```python\n[\s\S]+?```/);
    });

    it('documents every option with a default of its declared type', () => {
      const optionsSection = sectionOf(meta.docs, OPTIONS_HEADING);
      for (const option of meta.options) {
        expect(typeof option.default).toBe(option.type);
        expect(option.description.trim()).not.toBe('');
        expect(optionsSection, `${code} docs mention option ${option.key}`).toContain(option.key);
      }
    });

    it('has bad and clean fixtures', () => {
      const fixtures = filesIn(join(ROOT, 'test/fixtures/rules', code));
      expect(fixtures.some((f) => /^bad_.*\.py$/.test(f)), `test/fixtures/rules/${code}/bad_*.py`).toBe(true);
      expect(fixtures.some((f) => /^clean_.*\.py$/.test(f)), `test/fixtures/rules/${code}/clean_*.py`).toBe(true);
    });

    it('has a test file', () => {
      const testFile = join(ROOT, 'test/unit/rules', `${code}.test.ts`);
      expect(existsSync(testFile) && statSync(testFile).size > 0, `test/unit/rules/${code}.test.ts`).toBe(true);
    });

    it('has an example with a bad and a clean twin', () => {
      const examples = filesIn(join(ROOT, 'examples', meta.name));
      expect(examples.some((f) => f.startsWith('bad')), `examples/${meta.name}/bad*`).toBe(true);
      expect(examples.some((f) => f.startsWith('clean')), `examples/${meta.name}/clean*`).toBe(true);
    });
  });
});
