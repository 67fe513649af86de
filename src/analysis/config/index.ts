/** Settings from `[tool.gradient-lens]` in the nearest pyproject.toml (or an explicit --config file). */
import { defaultSettings, type Settings } from '../../shared/settings';
import { mergeSettings } from './merge';
import { findConfigFile, readToolTable } from './pyproject';
import { validateToolTable } from './schema';

export { mergeSettings } from './merge';
export { isRuleEnabled, effectiveSeverity, optionValue } from './selection';
export { findConfigFile } from './pyproject';
export { SEVERITIES, isKnownCodeOrPrefix } from './schema';

export interface LoadedSettings {
  settings: Settings;
  /** The file the settings came from; null when none was found (defaults apply). */
  configFile: string | null;
  /** Human-readable problems, each naming the file and the key; bad entries are ignored. */
  problems: string[];
}

/** Reads and validates one configuration file (pyproject.toml, or a standalone TOML given with --config). */
export function loadConfigFile(configFile: string): LoadedSettings {
  const read = readToolTable(configFile, true);
  if (read.table === undefined) return { settings: defaultSettings(), configFile, problems: read.problems };
  const validated = validateToolTable(read.table, configFile);
  return {
    settings: mergeSettings(defaultSettings(), validated.settings),
    configFile,
    problems: [...read.problems, ...validated.problems],
  };
}

/** The settings that apply to `filePath` (a file or a folder): the nearest configured pyproject.toml. */
export function loadSettings(filePath: string): LoadedSettings {
  const configFile = findConfigFile(filePath);
  if (!configFile) return { settings: defaultSettings(), configFile: null, problems: [] };
  return loadConfigFile(configFile);
}

/**
 * A per-directory cache around loadSettings for one run over many files. Each config file's
 * problems are reported once through `onProblems`, however many files it configures.
 */
export function createSettingsResolver(onProblems: (configFile: string, problems: string[]) => void = () => {}): (filePath: string) => LoadedSettings {
  const byConfigFile = new Map<string, LoadedSettings>();
  const byDirectory = new Map<string, string | null>();
  const defaults: LoadedSettings = { settings: defaultSettings(), configFile: null, problems: [] };
  return (filePath) => {
    const configFile = findConfigFile(filePath, byDirectory);
    if (!configFile) return defaults;
    let loaded = byConfigFile.get(configFile);
    if (!loaded) {
      loaded = loadConfigFile(configFile);
      byConfigFile.set(configFile, loaded);
      if (loaded.problems.length > 0) onProblems(configFile, loaded.problems);
    }
    return loaded;
  };
}
