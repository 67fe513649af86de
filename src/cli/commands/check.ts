/** `gradient-lens check [PATHS...]`: lint files and folders; text, JSON or SARIF; exit 0 / 1 / 2. */
import { type Command, Option } from 'commander';
import { Project } from '../../analysis/project';
import { createSettingsResolver, isKnownCodeOrPrefix, loadConfigFile, mergeSettings } from '../../analysis/config/index';
import { RULES } from '../../analysis/rules/index';
import type { Settings } from '../../shared/settings';
import { formatJson } from '../format/json';
import { formatSarif } from '../format/sarif';
import { formatFileMessages, formatText, paletteFor } from '../format/text';
import { collectInputs } from '../inputs';
import { printProblem, writeReport } from '../output';
import { readInput } from '../read-source';
import { type CheckedFile, type CheckReport, displayPathOf, exitCodeOf } from '../report';
import { version } from '../../../package.json';

type Format = 'text' | 'json' | 'sarif';

export interface CheckOptions {
  format: Format;
  select?: string[];
  ignore?: string[];
  config?: string;
  output?: string;
  verbose?: boolean;
}

/** Commander collector: `--select GL1,GL203 --select GL4` -> ['GL1', 'GL203', 'GL4']. */
function commaList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

/** Settings the command line imposes on top of the configuration files. */
function commandLineSettings(options: CheckOptions, problems: string[]): Partial<Settings> {
  const codes = RULES.map((r) => r.meta.code);
  const valid = (flag: string, list: string[]) =>
    list.filter((code) => {
      if (isKnownCodeOrPrefix(code, codes)) return true;
      problems.push(`${flag}: unknown rule code "${code}" (known: ${codes.join(', ')})`);
      return false;
    }).map((c) => c.toUpperCase());
  const override: Partial<Settings> = {};
  if (options.select) override.select = valid('--select', options.select);
  if (options.ignore) override.ignore = valid('--ignore', options.ignore);
  return override;
}

/** Settings per file: --config (one file for all) or the nearest pyproject.toml, then the flags. */
function settingsResolver(options: CheckOptions, override: Partial<Settings>, problems: string[]): (path: string) => Settings {
  if (options.config !== undefined) {
    const loaded = loadConfigFile(options.config);
    problems.push(...loaded.problems);
    const settings = mergeSettings(loaded.settings, override);
    return () => settings;
  }
  const resolve = createSettingsResolver((_file, fileProblems) => problems.push(...fileProblems));
  const merged = new Map<string | null, Settings>();
  return (path) => {
    const loaded = resolve(path);
    let settings = merged.get(loaded.configFile);
    if (!settings) {
      settings = mergeSettings(loaded.settings, override);
      merged.set(loaded.configFile, settings);
    }
    return settings;
  };
}

export async function runCheck(paths: string[], options: CheckOptions, cwd: string = process.cwd()): Promise<CheckReport> {
  const usageProblems: string[] = [];
  const override = commandLineSettings(options, usageProblems);
  const settingsFor = settingsResolver(options, override, usageProblems);
  const inputs = collectInputs(paths.length > 0 ? paths : ['.'], cwd);

  const project = await Project.create({ settingsFor });
  const cellStarts = new Map<string, number[]>();
  const readNotices = new Map<string, CheckedFile['notices']>();
  for (const file of inputs.files) {
    settingsFor(file); // resolves every file's configuration now, so each config problem is reported
    const source = readInput(file);
    if (source.error !== null) {
      project.setUnreadable(file, source.error);
      continue;
    }
    project.setFile(file, source.text);
    if (source.cellStarts) cellStarts.set(file, source.cellStarts);
    if (source.notices.length > 0) readNotices.set(file, source.notices);
  }
  const analyzed = project.analyzeAll();
  project.dispose();

  const files: CheckedFile[] = [
    ...analyzed.map((result) => ({
      ...result,
      notices: [...(readNotices.get(result.path) ?? []), ...result.notices],
      displayPath: displayPathOf(result.path, cwd),
      cellStarts: cellStarts.get(result.path) ?? null,
    })),
    ...inputs.errors.map((e) => ({ path: e.path, error: e.error, notices: [], models: [], findings: [], displayPath: displayPathOf(e.path, cwd), cellStarts: null })),
  ];
  files.sort((a, b) => a.displayPath.localeCompare(b.displayPath));
  return { files, usageProblems };
}

export function formatReport(report: CheckReport, format: Format, toTerminal: boolean, verbose = false): string {
  if (format === 'json') return formatJson(report);
  if (format === 'sarif') return formatSarif(report, RULES, { version, cwd: process.cwd() });
  return formatText(report, paletteFor({ isTTY: toTerminal }), verbose);
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('lint Python files, notebooks and folders for gradient-flow problems')
    .argument('[paths...]', 'files and folders (default: the current folder)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--select <codes>', 'only these rule codes or prefixes, comma-separated (GL1,GL203)', commaList)
    .option('--ignore <codes>', 'skip these rule codes or prefixes, comma-separated', commaList)
    .option('--config <file>', 'read settings from this TOML file instead of the nearest pyproject.toml')
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--verbose', 'also note code the analyzer does not model (custom layers, dynamic loops, skipped cells), and print each model\'s predicted gradient flow')
    .addHelpText(
      'after',
      [
        '',
        'Settings come from [tool.gradient-lens] in the nearest pyproject.toml (select, ignore,',
        '[tool.gradient-lens.severity], [tool.gradient-lens.thresholds]); --select / --ignore apply on top.',
        'Suppress on a line with `# noqa: GL101` or `# gradient-lens: ignore[GL101]`, in a file with',
        '`# gradient-lens: ignore-file[GL101]`.',
        '',
        'Exit status: 0 nothing at warning or above; 1 findings at warning or above;',
        '2 usage or configuration errors, or inputs that could not be analyzed (the rest is still reported).',
      ].join('\n'),
    )
    .action(async (paths: string[], options: CheckOptions) => {
      const report = await runCheck(paths, options);
      for (const problem of report.usageProblems) printProblem(problem);
      if (report.files.length === 0) printProblem('warning: no Python files (.py, .ipynb) found');
      process.stderr.write(formatFileMessages(report, paletteFor(process.stderr), options.verbose === true));
      const text = formatReport(report, options.format, options.output === undefined && process.stdout.isTTY === true, options.verbose === true);
      const writeError = writeReport(text, options.output);
      if (writeError) printProblem(writeError);
      process.exitCode = writeError ? 2 : exitCodeOf(report);
    });
}
