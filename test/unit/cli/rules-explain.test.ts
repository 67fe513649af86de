import { describe, expect, it } from 'vitest';
import { RULES } from '../../../src/analysis/rules/index';
import { REPO_ROOT, runCli } from './run-cli';
import { defined } from '../../defined';

describe('gradient-lens rules', () => {
  it('lists every rule as a table with code, name, category, severity, fixable and summary', () => {
    const run = runCli(['rules'], REPO_ROOT);
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['CODE', 'NAME', 'CATEGORY', 'SEVERITY', 'FIXABLE', 'SUMMARY']);
    expect(lines).toHaveLength(RULES.length + 1);
    for (const { meta } of RULES) {
      const row = lines.find((l) => l.startsWith(`${meta.code} `));
      expect(row?.split(/\s{2,}/).slice(0, 5)).toEqual([meta.code, meta.name, meta.category, meta.defaultSeverity, meta.fixable]);
    }
  });

  it('lists the catalog as JSON', () => {
    const run = runCli(['rules', '--format', 'json'], REPO_ROOT);
    const parsed = JSON.parse(run.stdout) as { version: number; rules: { code: string; name: string; severity: string }[] };
    expect(parsed.version).toBe(1);
    expect(parsed.rules.map((r) => r.code)).toEqual(RULES.map((r) => r.meta.code));
  });
});

describe('gradient-lens explain', () => {
  it("prints a rule's docs", () => {
    const run = runCli(['explain', 'gl101'], REPO_ROOT);
    expect(run.status).toBe(0);
    const meta = defined(RULES.find((r) => r.meta.code === 'GL101')).meta;
    expect(run.stdout.startsWith(`# GL101: ${meta.name}\n`)).toBe(true);
    expect(run.stdout).toContain(meta.docs.trim());
  });

  it('exits 2 with the list of codes for an unknown code', () => {
    const run = runCli(['explain', 'GL999'], REPO_ROOT);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    for (const { meta } of RULES) expect(run.stderr).toContain(meta.code);
  });

  it('prints help and the version with exit 0', () => {
    const help = runCli(['--help'], REPO_ROOT);
    expect(help.status).toBe(0);
    for (const command of ['check', 'rules', 'explain', 'docs', 'probe']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(runCli(['--version'], REPO_ROOT).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
