/**
 * Which rules run and how loud they are. The engine asks these helpers for every rule, so select /
 * ignore / severity / thresholds mean the same thing in the CLI, the language server and the tests.
 */
import type { Severity } from '../../shared/findings';
import type { Settings } from '../../shared/settings';
import type { RuleMeta } from '../rules/types';

/** `ALL` in select enables every rule (as in Ruff); otherwise entries are codes or code prefixes. */
const SELECT_ALL = 'ALL';

function matchesAny(code: string, patterns: readonly string[]): boolean {
  const upper = code.toUpperCase();
  return patterns.some((p) => {
    const pattern = p.toUpperCase();
    return pattern === SELECT_ALL || upper.startsWith(pattern);
  });
}

/** Enabled when selected (null select = every rule) and not ignored; ignore wins over select. */
export function isRuleEnabled(code: string, settings: Settings): boolean {
  const selected = settings.select === null || matchesAny(code, settings.select);
  return selected && !matchesAny(code, settings.ignore);
}

/** The severity a finding of this rule gets: the configured override, else the rule's default. */
export function effectiveSeverity(meta: Pick<RuleMeta, 'code' | 'defaultSeverity'>, settings: Settings): Severity {
  return settings.severity[meta.code] ?? meta.defaultSeverity;
}

/**
 * A rule option with its documented default applied. Values of the wrong type (possible only when
 * settings bypassed validation, e.g. raw editor settings) fall back to the default.
 */
export function optionValue(meta: Pick<RuleMeta, 'code' | 'options'>, key: string, settings: Settings): number | boolean | string {
  const option = meta.options.find((o) => o.key === key);
  if (!option) throw new Error(`${meta.code} has no option named "${key}"`);
  const configured = settings.thresholds[key];
  return configured !== undefined && typeof configured === option.type ? configured : option.default;
}
