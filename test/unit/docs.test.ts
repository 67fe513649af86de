/** docs/rules is generated from the registry; this fails when someone changed a rule and not the docs. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleDocs } from '../../src/cli/commands/docs';
import { renderDocsFolder } from '../../src/cli/rule-docs';
import { RULES } from '../../src/analysis/rules/index';
import { defined } from '../defined';

describe('docs/rules', () => {
  it('is up to date with the registry (run `npm run docs` after `npm run build` to refresh)', () => {
    expect(staleDocs(join(__dirname, '../../docs/rules'))).toEqual([]);
  });

  it('has one page per rule and an index that links every page', () => {
    const files = renderDocsFolder(RULES);
    expect([...files.keys()].sort()).toEqual([...RULES.map((r) => `${r.meta.code}.md`), 'README.md'].sort());
    const index = defined(files.get('README.md'));
    for (const { meta } of RULES) {
      expect(index).toContain(`| [${meta.code}](${meta.code}.md) | ${meta.name} |`);
      expect(files.get(`${meta.code}.md`)).toContain(`# ${meta.code}: ${meta.name}`);
    }
  });
});
