/** `gradient-lens rules`: the catalog as a table or JSON. */
import { type Command, Option } from 'commander';
import { RULES } from '../../analysis/rules/index';
import type { RuleMeta } from '../../analysis/rules/types';
import { writeReport } from '../output';

const COLUMNS: { title: string; value: (meta: RuleMeta) => string }[] = [
  { title: 'CODE', value: (m) => m.code },
  { title: 'NAME', value: (m) => m.name },
  { title: 'CATEGORY', value: (m) => m.category },
  { title: 'SEVERITY', value: (m) => m.defaultSeverity },
  { title: 'FIXABLE', value: (m) => m.fixable },
  { title: 'SUMMARY', value: (m) => m.summary },
];

export function formatRulesTable(metas: readonly RuleMeta[]): string {
  const rows = [COLUMNS.map((c) => c.title), ...metas.map((m) => COLUMNS.map((c) => c.value(m)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // The last column is not padded, so long summaries do not leave trailing spaces.
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  return `${lines.join('\n')}\n`;
}

export function formatRulesJson(metas: readonly RuleMeta[]): string {
  const rules = metas.map((m) => ({
    code: m.code,
    name: m.name,
    category: m.category,
    severity: m.defaultSeverity,
    fixable: m.fixable,
    summary: m.summary,
    options: m.options,
  }));
  return `${JSON.stringify({ version: 1, rules }, null, 2)}\n`;
}

export function registerRulesCommand(program: Command): void {
  program
    .command('rules')
    .description('list the rule catalog')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((options: { format: 'text' | 'json' }) => {
      const metas = RULES.map((r) => r.meta);
      writeReport(options.format === 'json' ? formatRulesJson(metas) : formatRulesTable(metas), undefined);
    });
}
