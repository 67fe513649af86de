import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSettingsResolver,
  effectiveSeverity,
  findConfigFile,
  isRuleEnabled,
  loadConfigFile,
  loadSettings,
  mergeSettings,
  optionValue,
} from '../../../src/analysis/config/index';
import { RULES } from '../../../src/analysis/rules/index';
import { defaultSettings } from '../../../src/shared/settings';

let root: string;

function write(relative: string, text: string): string {
  const path = join(root, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gl-config-'));
});
afterEach(() => { rmSync(root, { recursive: true, force: true }); });

describe('loadSettings', () => {
  it('reads select, ignore and severity from the nearest pyproject.toml', () => {
    const config = write(
      'proj/pyproject.toml',
      `[project]\nname = "demo"\n\n[tool.gradient-lens]\nselect = ["GL1", "gl203"]\nignore = ["GL104"]\n\n[tool.gradient-lens.severity]\nGL101 = "error"\n`,
    );
    const model = write('proj/pkg/models/net.py', 'import torch\n');
    const loaded = loadSettings(model);
    expect(loaded.configFile).toBe(config);
    expect(loaded.problems).toEqual([]);
    expect(loaded.settings.select).toEqual(['GL1', 'GL203']);
    expect(loaded.settings.ignore).toEqual(['GL104']);
    expect(loaded.settings.severity).toEqual({ GL101: 'error' });
  });

  it('skips a pyproject.toml without [tool.gradient-lens] and keeps looking upwards', () => {
    const outer = write('pyproject.toml', '[tool.gradient-lens]\nignore = ["GL301"]\n');
    write('inner/pyproject.toml', '[tool.ruff]\nline-length = 100\n');
    const file = write('inner/train.py', 'x = 1\n');
    expect(findConfigFile(file)).toBe(outer);
    expect(loadSettings(file).settings.ignore).toEqual(['GL301']);
  });

  it('returns defaults and no config file when nothing configures the path', () => {
    const file = write('lonely/model.py', 'x = 1\n');
    expect(loadSettings(file)).toEqual({ settings: defaultSettings(), configFile: null, problems: [] });
  });

  it('reports invalid TOML with the file, line and column instead of throwing', () => {
    const config = write('pyproject.toml', '[tool.gradient-lens]\nselect = ["GL1"\n');
    const loaded = loadSettings(write('m.py', ''));
    expect(loaded.configFile).toBe(config);
    expect(loaded.settings).toEqual(defaultSettings());
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatch(new RegExp(`^${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: invalid TOML`));
  });

  it('names the bad key and the file for every validation problem, keeping the good entries', () => {
    const config = write(
      'pyproject.toml',
      [
        '[tool.gradient-lens]',
        'select = ["GL1", "GL999", 3]',
        'ignore = "GL301"',
        'colour = true',
        '[tool.gradient-lens.severity]',
        'GL101 = "fatal"',
        'GL102 = "hint"',
        'GL777 = "error"',
        '[tool.gradient-lens.thresholds]',
        'no-such-option = 3',
      ].join('\n'),
    );
    const { settings, problems } = loadConfigFile(config);
    expect(settings.select).toEqual(['GL1']);
    expect(settings.ignore).toEqual([]);
    expect(settings.severity).toEqual({ GL102: 'hint' });
    expect(settings.thresholds).toEqual({});
    const joined = problems.join('\n');
    for (const fragment of ['"GL999"', 'select entries must be strings', 'ignore must be an array', 'unknown key "colour"', 'GL101 must be one of error, warning, information, hint', 'GL777: unknown rule code', 'no-such-option: unknown option']) {
      expect(joined).toContain(fragment);
    }
    expect(problems.every((p) => p.startsWith(config))).toBe(true);
  });

  it('drops a select list whose every entry is wrong instead of selecting nothing', () => {
    const config = write('pyproject.toml', '[tool.gradient-lens]\nselect = ["GL999"]\n');
    const { settings, problems } = loadConfigFile(config);
    expect(settings.select).toBeNull();
    expect(problems).toHaveLength(1);
  });

  const allOptions = RULES.flatMap((r) => r.meta.options.map((o) => ({ rule: r, option: o })));
  it.skipIf(allOptions.length === 0)('accepts a documented threshold and rejects one of the wrong type', () => {
    const { rule, option } = allOptions[0]!;
    const good = option.type === 'number' ? 7 : option.type === 'boolean' ? !option.default : 'x';
    const goodToml = typeof good === 'string' ? `"${good}"` : String(good);
    const badToml = option.type === 'number' ? '"seven"' : '7';
    const config = write('pyproject.toml', `[tool.gradient-lens.thresholds]\n"${option.key}" = ${goodToml}\n`);
    const loaded = loadConfigFile(config);
    expect(loaded.problems).toEqual([]);
    expect(optionValue(rule.meta, option.key, loaded.settings)).toBe(good);
    write('pyproject.toml', `[tool.gradient-lens.thresholds]\n"${option.key}" = ${badToml}\n`);
    const bad = loadConfigFile(config);
    expect(bad.problems[0]).toContain(`${option.key} must be a ${option.type}`);
    expect(optionValue(rule.meta, option.key, bad.settings)).toBe(option.default);
  });

  it('reads a standalone TOML given with --config as the gradient-lens table itself', () => {
    const config = write('ci/gradient-lens.toml', 'ignore = ["GL4"]\n');
    expect(loadConfigFile(config).settings.ignore).toEqual(['GL4']);
  });

  it('reports a missing --config file', () => {
    const loaded = loadConfigFile(join(root, 'nope.toml'));
    expect(loaded.problems[0]).toContain('nope.toml: cannot read configuration: ENOENT');
  });
});

describe('createSettingsResolver', () => {
  it('reports each config file problem once however many files it configures', () => {
    write('pyproject.toml', '[tool.gradient-lens]\nselect = ["GL999", "GL1"]\n');
    const reported: string[][] = [];
    const resolve = createSettingsResolver((_file, problems) => reported.push(problems));
    const a = resolve(write('a/one.py', ''));
    const b = resolve(write('b/two.py', ''));
    expect(a.settings.select).toEqual(['GL1']);
    expect(b).toBe(a);
    expect(reported).toHaveLength(1);
  });
});

describe('rule selection', () => {
  const base = defaultSettings();
  it('enables every rule by default', () => {
    expect(RULES.every((r) => isRuleEnabled(r.meta.code, base))).toBe(true);
  });
  it('selects by prefix and lets ignore win', () => {
    const settings = { ...base, select: ['GL1', 'GL203'], ignore: ['GL104'] };
    expect(isRuleEnabled('GL101', settings)).toBe(true);
    expect(isRuleEnabled('GL104', settings)).toBe(false);
    expect(isRuleEnabled('GL203', settings)).toBe(true);
    expect(isRuleEnabled('GL201', settings)).toBe(false);
    expect(isRuleEnabled('GL101', { ...base, select: ['ALL'], ignore: ['GL1'] })).toBe(false);
  });
  it('applies severity overrides by code', () => {
    const meta = { code: 'GL301', defaultSeverity: 'information' as const };
    expect(effectiveSeverity(meta, base)).toBe('information');
    expect(effectiveSeverity(meta, { ...base, severity: { GL301: 'error' } })).toBe('error');
  });
});

describe('mergeSettings', () => {
  it('replaces select, accumulates ignore and merges severities and thresholds by key', () => {
    const fromFile = { select: ['GL1'], ignore: ['GL104'], severity: { GL101: 'error' as const, GL102: 'hint' as const }, thresholds: { a: 1, b: 2 } };
    const merged = mergeSettings(fromFile, { select: ['GL2'], ignore: ['GL203', 'GL104'], severity: { GL102: 'warning' }, thresholds: { b: 3 } });
    expect(merged).toEqual({ select: ['GL2'], ignore: ['GL104', 'GL203'], severity: { GL101: 'error', GL102: 'warning' }, thresholds: { a: 1, b: 3 } });
    expect(mergeSettings(fromFile, {})).toEqual(fromFile);
    expect(mergeSettings(fromFile, { select: null }).select).toBeNull();
  });
});

describe('loadConfigFile on an explicit file', () => {
  it('says so when a pyproject.toml given with --config has no [tool.gradient-lens]', () => {
    const config = write('other/pyproject.toml', '[tool.ruff]\nline-length = 88\n');
    const loaded = loadConfigFile(config);
    expect(loaded.settings).toEqual(defaultSettings());
    expect(loaded.problems).toEqual([`${config}: has no [tool.gradient-lens] table; default settings apply`]);
  });
});
