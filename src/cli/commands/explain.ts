/** `gradient-lens explain GL101`: a rule's documentation. */
import type { Command } from 'commander';
import { RULES, ruleByCode } from '../../analysis/rules/index';
import { printProblem, writeReport } from '../output';
import { renderExplanation } from '../rule-docs';

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description("print a rule's documentation")
    .argument('<code>', 'rule code, e.g. GL101 (a rule name works too)')
    .action((code: string) => {
      const rule = ruleByCode(code) ?? RULES.find((r) => r.meta.name === code.toLowerCase());
      if (!rule) {
        printProblem(`unknown rule "${code}". Known codes:\n${RULES.map((r) => `  ${r.meta.code}  ${r.meta.name}`).join('\n')}`);
        process.exitCode = 2;
        return;
      }
      writeReport(renderExplanation(rule.meta), undefined);
    });
}
