/** Layering settings: defaults <- pyproject.toml <- editor settings / CLI flags. */
import type { Settings } from '../../shared/settings';

/**
 * `select` is replaced when the override names it; `ignore` accumulates (a later layer can only add
 * to what is switched off, as CLI `--ignore` does in Ruff); severities and thresholds merge by key,
 * the override winning.
 */
export function mergeSettings(base: Settings, override: Partial<Settings>): Settings {
  const ignore = [...base.ignore];
  for (const code of override.ignore ?? []) if (!ignore.includes(code)) ignore.push(code);
  return {
    select: override.select !== undefined ? override.select : base.select,
    ignore,
    severity: { ...base.severity, ...override.severity },
    thresholds: { ...base.thresholds, ...override.thresholds },
  };
}
