/**
 * No placeholder or dead links anywhere users look: the manifest (Marketplace page, repository
 * field), the README and docs, rule docs (hovers, `explain`, generated pages) and the sources.
 * Links to rule pages point at files that exist (the editor opens the page shipped with the extension).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/analysis/rules/index';
import { ruleDocsUri } from '../../src/server/ruleDocs';
import { fileURLToPath } from 'node:url';

const ROOT = join(__dirname, '../..');
/** Hosts reserved for examples and tests (RFC 2606/6761): a link to one is dead by definition. */
const PLACEHOLDER_HOST = /https?:\/\/(?:[\w-]+\.)*(?:invalid|example|test|localhost)(?:[/:]|\b)|https?:\/\/(?:www\.)?example\.(?:com|org|net)\b/i;

function files(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, keep);
    return keep(path) ? [path] : [];
  });
}

describe('links', () => {
  it('no placeholder hosts in package.json, README, docs or src', () => {
    const checked = [join(ROOT, 'package.json'), join(ROOT, 'README.md'), ...files(join(ROOT, 'docs'), (p) => p.endsWith('.md')), ...files(join(ROOT, 'src'), (p) => p.endsWith('.ts'))];
    const dead = checked.flatMap((path) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((line, i) => (PLACEHOLDER_HOST.test(line) ? [`${relative(ROOT, path)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(dead).toEqual([]);
  });

  it('the placeholder check catches what the manifest used to carry', () => {
    expect(PLACEHOLDER_HOST.test('"url": "https://example.invalid/gradient-lens.git"')).toBe(true);
    expect(PLACEHOLDER_HOST.test('https://arxiv.org/abs/1502.01852')).toBe(false);
  });

  it('every rule links to its page, which exists', () => {
    for (const { meta } of RULES) {
      const page = readFileSync(fileURLToPath(ruleDocsUri(meta.code)), 'utf8');
      expect(page, meta.code).toMatch(new RegExp(`^# ${meta.code}\\b`, 'm'));
    }
  });

  it('relative links in the README and the docs lead to files that exist', () => {
    const markdown = [join(ROOT, 'README.md'), ...files(join(ROOT, 'docs'), (p) => p.endsWith('.md'))];
    const broken = markdown.flatMap((path) =>
      [...readFileSync(path, 'utf8').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !/^[a-z][\w+.-]*:/i.test(target))
        .filter((target) => {
          try {
            statSync(join(path, '..', decodeURIComponent(target)));
            return false;
          } catch {
            return true;
          }
        })
        .map((target) => `${relative(ROOT, path)} -> ${target}`),
    );
    expect(broken).toEqual([]);
  });
});
