/** `gradient-lens docs --out docs/rules`: writes one page per rule and an index from the registry. */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { RULES } from '../../analysis/rules/index';
import { printProblem } from '../output';
import { renderDocsFolder } from '../rule-docs';

const GENERATED_PAGE = /^GL\d{3}\.md$/;

/** Files under `folder` that differ from what the registry generates (changed, missing or obsolete). */
export function staleDocs(folder: string): string[] {
  const expected = renderDocsFolder(RULES);
  const stale: string[] = [];
  for (const [name, content] of expected) {
    let current: string | null;
    try {
      current = readFileSync(join(folder, name), 'utf8');
    } catch {
      current = null;
    }
    if (current !== content) stale.push(name);
  }
  let present: string[];
  try {
    present = readdirSync(folder);
  } catch {
    present = [];
  }
  for (const name of present) if (GENERATED_PAGE.test(name) && !expected.has(name)) stale.push(name);
  return stale.sort();
}

export function writeDocs(folder: string): string[] {
  mkdirSync(folder, { recursive: true });
  const expected = renderDocsFolder(RULES);
  const changed = staleDocs(folder);
  for (const name of changed) {
    const content = expected.get(name);
    if (content === undefined) rmSync(join(folder, name));
    else writeFileSync(join(folder, name), content);
  }
  return changed;
}

export function registerDocsCommand(program: Command): void {
  program
    .command('docs')
    .description('generate docs/rules/GLxxx.md and the index from the rule registry')
    .option('--out <folder>', 'folder to write', 'docs/rules')
    .option('--check', 'write nothing; exit 1 when the folder is out of date')
    .action((options: { out: string; check?: boolean }) => {
      const folder = resolve(options.out);
      if (options.check) {
        const stale = staleDocs(folder);
        if (stale.length > 0) {
          printProblem(`${options.out} is out of date (${stale.join(', ')}); run \`gradient-lens docs --out ${options.out}\``);
          process.exitCode = 1;
        }
        return;
      }
      const changed = writeDocs(folder);
      process.stdout.write(changed.length === 0 ? `${options.out} is up to date\n` : `updated ${changed.length} file(s) in ${options.out}: ${changed.join(', ')}\n`);
    });
}
