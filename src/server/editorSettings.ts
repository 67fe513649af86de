/**
 * The `gradientLens.*` settings as the client sends them (untrusted JSON), validated into the part of
 * `Settings` the user actually set, so that unset editor settings never hide pyproject.toml values.
 */
import { SEVERITIES } from '../analysis/config';
import type { Severity } from '../shared/findings';
import type { Settings } from '../shared/settings';

export interface EditorSettings {
  enable: boolean;
  /** Inline hints with the predicted std and gradient ratio on each layer line (`gradientLens.inlayHints.predicted`). */
  predictedHints: boolean;
  /** Only the keys the user set; merged over `[tool.gradient-lens]`. */
  overrides: Partial<Settings>;
}


export function defaultEditorSettings(): EditorSettings {
  return { enable: true, predictedHints: true, overrides: {} };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codeList(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  return value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim().toUpperCase());
}

/** Reads the `gradientLens` section; anything malformed is dropped, never thrown. */
export function parseEditorSettings(section: unknown): EditorSettings {
  const result = defaultEditorSettings();
  if (!isRecord(section)) return result;
  if (typeof section.enable === 'boolean') result.enable = section.enable;
  if (isRecord(section.inlayHints) && typeof section.inlayHints.predicted === 'boolean') result.predictedHints = section.inlayHints.predicted;

  const select = codeList(section.select);
  if (select && select.length > 0) result.overrides.select = select;
  const ignore = codeList(section.ignore);
  if (ignore && ignore.length > 0) result.overrides.ignore = ignore;

  if (isRecord(section.severity)) {
    const severity: Record<string, Severity> = {};
    for (const [code, level] of Object.entries(section.severity)) {
      if (typeof level === 'string' && (SEVERITIES as readonly string[]).includes(level)) {
        severity[code.toUpperCase()] = level as Severity;
      }
    }
    if (Object.keys(severity).length > 0) result.overrides.severity = severity;
  }

  if (isRecord(section.thresholds)) {
    const thresholds: Record<string, number | boolean | string> = {};
    for (const [key, value] of Object.entries(section.thresholds)) {
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') thresholds[key] = value;
    }
    if (Object.keys(thresholds).length > 0) result.overrides.thresholds = thresholds;
  }
  return result;
}
