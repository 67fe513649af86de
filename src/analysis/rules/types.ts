/** The rule contract: one file per rule exports `rule: Rule` (meta with docs inside + check). */
import type { ModelIR } from '../../shared/ir';
import type { Finding, RuleCategory, Severity } from '../../shared/findings';
import type { Settings } from '../../shared/settings';

export interface RuleOption {
  /** Key under `[tool.gradient-lens.thresholds]` and `gradientLens.thresholds`, e.g. "saturating-stack-length". */
  key: string;
  type: 'number' | 'boolean' | 'string';
  default: number | boolean | string;
  description: string;
}

export interface RuleMeta {
  /** Public, stable: users type it in suppressions. */
  code: string;
  /** Kebab-case, reads as the problem. */
  name: string;
  category: RuleCategory;
  defaultSeverity: Severity;
  /** The strongest fix the rule can offer. */
  fixable: 'safe' | 'unsafe' | 'none';
  /** One line, shown in `gradient-lens rules` and SARIF shortDescription. */
  summary: string;
  /**
   * Markdown with the fixed headings, in this order:
   * `## What it does`, `## Why is this bad?`, `## Example`, `## Use instead`, `## Options` (when it has any), `## References`.
   */
  docs: string;
  options: RuleOption[];
}

export interface RuleContext {
  settings: Settings;
  /** Source text of a file the project knows (for fixes that need surrounding text). */
  sourceText(file: string): string | undefined;
  /** A threshold with its documented default applied. */
  option<T extends number | boolean | string>(key: string): T;
}

export interface Rule {
  meta: RuleMeta;
  check(model: ModelIR, context: RuleContext): Finding[];
}
