/**
 * Validation of a `[tool.gradient-lens]` table. Every problem names the file and the key so a user
 * can fix it without reading our source; bad entries are dropped, good ones are kept.
 */
import type { Severity } from '../../shared/findings';
import type { Settings } from '../../shared/settings';
import { RULES } from '../rules/index';
import type { RuleOption } from '../rules/types';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information', 'hint'];

const TABLE = '[tool.gradient-lens]';
const TOP_LEVEL_KEYS = ['select', 'ignore', 'severity', 'thresholds'] as const;

export interface ValidatedTable {
  settings: Partial<Settings>;
  problems: string[];
}

type TableValue = unknown;

function isPlainTable(value: TableValue): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: TableValue): string {
  if (Array.isArray(value)) return 'an array';
  if (isPlainTable(value)) return 'a table';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function knownCodes(): string[] {
  return RULES.map((r) => r.meta.code);
}

function knownOptions(): Map<string, RuleOption> {
  const options = new Map<string, RuleOption>();
  for (const rule of RULES) for (const option of rule.meta.options) options.set(option.key, option);
  return options;
}

/** A code or a code prefix that matches at least one rule ("GL", "GL1", "GL101"), or ALL. */
export function isKnownCodeOrPrefix(entry: string, codes: readonly string[]): boolean {
  const upper = entry.toUpperCase();
  return upper === 'ALL' || (upper.startsWith('GL') && codes.some((c) => c.startsWith(upper)));
}

function validateCodeList(key: 'select' | 'ignore', value: TableValue, file: string, problems: string[]): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${file}: ${TABLE} ${key} must be an array of rule codes such as ["GL101", "GL2"], got ${describe(value)}`);
    return undefined;
  }
  const codes = knownCodes();
  const kept: string[] = [];
  for (const entry of value) {
    if (typeof entry !== 'string') {
      problems.push(`${file}: ${TABLE} ${key} entries must be strings, got ${describe(entry)}`);
    } else if (!isKnownCodeOrPrefix(entry, codes)) {
      problems.push(`${file}: ${TABLE} ${key} has unknown rule code "${entry}" (known: ${codes.join(', ')})`);
    } else {
      kept.push(entry.toUpperCase());
    }
  }
  // A list whose every entry was wrong is dropped rather than read as "select nothing".
  return kept.length === 0 && value.length > 0 ? undefined : kept;
}

function validateSeverity(value: TableValue, file: string, problems: string[]): Record<string, Severity> | undefined {
  if (!isPlainTable(value)) {
    problems.push(`${file}: [tool.gradient-lens.severity] must be a table of CODE = "severity", got ${describe(value)}`);
    return undefined;
  }
  const codes = knownCodes();
  const kept: Record<string, Severity> = {};
  for (const [code, severity] of Object.entries(value)) {
    const upper = code.toUpperCase();
    if (!codes.includes(upper)) {
      problems.push(`${file}: [tool.gradient-lens.severity] ${code}: unknown rule code (known: ${codes.join(', ')})`);
    } else if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity)) {
      problems.push(`${file}: [tool.gradient-lens.severity] ${code} must be one of ${SEVERITIES.join(', ')}, got ${describe(severity)}`);
    } else {
      kept[upper] = severity as Severity;
    }
  }
  return kept;
}

function validateThresholds(value: TableValue, file: string, problems: string[]): Settings['thresholds'] | undefined {
  if (!isPlainTable(value)) {
    problems.push(`${file}: [tool.gradient-lens.thresholds] must be a table of option = value, got ${describe(value)}`);
    return undefined;
  }
  const options = knownOptions();
  const kept: Settings['thresholds'] = {};
  for (const [key, threshold] of Object.entries(value)) {
    const option = options.get(key);
    if (!option) {
      const known = [...options.keys()];
      problems.push(`${file}: [tool.gradient-lens.thresholds] ${key}: unknown option (known: ${known.length ? known.join(', ') : 'none'})`);
    } else if (typeof threshold !== option.type) {
      problems.push(`${file}: [tool.gradient-lens.thresholds] ${key} must be a ${option.type}, got ${describe(threshold)}`);
    } else if (typeof threshold === 'number' && !Number.isFinite(threshold)) {
      problems.push(`${file}: [tool.gradient-lens.thresholds] ${key} must be a finite number, got ${threshold}`);
    } else {
      kept[key] = threshold as number | boolean | string;
    }
  }
  return kept;
}

/** Validates the contents of `[tool.gradient-lens]` read from `file`. */
export function validateToolTable(table: TableValue, file: string): ValidatedTable {
  const problems: string[] = [];
  const settings: Partial<Settings> = {};
  if (!isPlainTable(table)) {
    problems.push(`${file}: ${TABLE} must be a table, got ${describe(table)}`);
    return { settings, problems };
  }
  for (const key of Object.keys(table)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      problems.push(`${file}: ${TABLE} has unknown key "${key}" (known: ${TOP_LEVEL_KEYS.join(', ')})`);
    }
  }
  if ('select' in table) settings.select = validateCodeList('select', table.select, file, problems);
  if ('ignore' in table) settings.ignore = validateCodeList('ignore', table.ignore, file, problems);
  if ('severity' in table) settings.severity = validateSeverity(table.severity, file, problems);
  if ('thresholds' in table) settings.thresholds = validateThresholds(table.thresholds, file, problems);
  for (const key of TOP_LEVEL_KEYS) if (settings[key] === undefined) delete settings[key];
  return { settings, problems };
}
