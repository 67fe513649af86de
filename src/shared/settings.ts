/** Lint configuration: VS Code settings and `[tool.gradient-lens]` in pyproject.toml both resolve to this. */
import type { Severity } from './findings';

export interface Settings {
  /** Codes or code prefixes to enable ("GL1", "GL203"); null = every rule. */
  select: string[] | null;
  /** Codes or code prefixes to disable; wins over select. */
  ignore: string[];
  /** Severity overrides by code. */
  severity: Record<string, Severity>;
  /** Rule thresholds by option key (see each rule's `meta.options`); missing keys take the documented default. */
  thresholds: Record<string, number | boolean | string>;
}

export function defaultSettings(): Settings {
  return { select: null, ignore: [], severity: {}, thresholds: {} };
}
