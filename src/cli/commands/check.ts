/** `gradient-lens check [PATHS...]`: lint files and folders; text, JSON or SARIF; exit 0 / 1 / 2. */
import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { createSettingsResolver, isKnownCodeOrPrefix, loadConfigFile, mergeSettings } from '../../analysis/config/index';
import { RULES } from '../../analysis/rules/index';
import type { Settings } from '../../shared/settings';
import { formatJson } from '../format/json';
import { formatSarif } from '../format/sarif';
import { formatFileMessages, formatText, paletteFor } from '../format/text';
import { collectInputs, type CollectedInputs } from '../inputs';
import { printProblem, writeReport } from '../output';
import { readInput } from '../read-source';
import { type CheckedFile, type CheckReport, displayPathOf, exitCodeOf, messageRenamer } from '../report';
import { renameFindingMessages } from '../../shared/findings';
import { version } from '../../../package.json';
import { saveCompileCache } from '../../shared/compile-cache';
import { analyzeSources, CheckPool, MIN_FILES_PER_WORKER, type CheckSource } from '../check-pool';

type Format = 'text' | 'json' | 'sarif';

export interface CheckOptions {
  format: Format;
  select?: string[];
  ignore?: string[];
  config?: string;
  output?: string;
  verbose?: boolean;
  /** Worker threads (1: this thread only, the default when called as a function). */
  jobs?: number;
  /** The script a worker thread runs (the CLI bundle itself); needed when jobs > 1. */
  workerScript?: string;
}

/** The largest --jobs accepted: more threads than this only cost memory. */
const MAX_JOBS = 256;

/** Commander parser of --jobs: a whole number from 1 to MAX_JOBS. */
function jobCount(value: string): number {
  const jobs = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) throw new InvalidArgumentError(`expected a number of threads from 1 to ${MAX_JOBS} (without --jobs: one per core, ${availableParallelism()} here), got "${value}"`);
  return jobs;
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
  // The workers start now, loading while this thread reads the files.
  const jobs = options.jobs ?? 1;
  const pool = jobs > 1 && options.workerScript ? CheckPool.start(options.workerScript, inputs.files.length, jobs) : null;
  try {
    return await checkInputs(inputs, settingsFor, usageProblems, pool, cwd);
  } finally {
    await pool?.close();
  }
}

/** Reads and analyzes the inputs (on `pool` and this thread, or this thread alone) into the report. */
async function checkInputs(inputs: CollectedInputs, settingsFor: (path: string) => Settings, usageProblems: string[], pool: CheckPool | null, cwd: string): Promise<CheckReport> {
  const cellStarts = new Map<string, number[]>();
  const readNotices = new Map<string, CheckedFile['notices']>();
  const sources: CheckSource[] = [];
  for (const file of inputs.files) {
    settingsFor(file); // resolves every file's configuration now, so each config problem is reported
    const source = readInput(file);
    if (source.error !== null) {
      sources.push({ path: file, text: null, error: source.error });
      continue;
    }
    sources.push({ path: file, text: source.text, error: null });
    if (source.cellStarts) cellStarts.set(file, source.cellStarts);
    if (source.notices.length > 0) readNotices.set(file, source.notices);
  }
  const pooled = pool ? await pool.analyze(sources, settingsFor) : null;
  // One job, or a pool that left the work to this thread: all sources as one project here.
  const analyzed = pooled ?? (await analyzeSources(sources, { settingsFor })).results;

  const files: CheckedFile[] = [
    ...analyzed.map((result) => {
      const cells = cellStarts.get(result.path) ?? null;
      // Messages name lines of the analyzed text: in a notebook, the cell and the line in it, as the locations print.
      const rename = messageRenamer({ cellStarts: cells });
      return {
        ...result,
        findings: result.findings.map((f) => renameFindingMessages(f, rename)),
        // `Model() (line 86)`, one of two calls of a class in a notebook, is shown as `Model() (cell 7, line 2)`; probe --model takes either.
        models: result.models.map((m) => ({ ...m, name: rename(m.name), instance: m.instance && { ...m.instance, file: displayPathOf(m.instance.file, cwd) } })),
        notices: [...(readNotices.get(result.path) ?? []), ...result.notices].map((n) => ({ ...n, message: rename(n.message) })),
        displayPath: displayPathOf(result.path, cwd),
        cellStarts: cells,
      };
    }),
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
    .option('--jobs <n>', `analyze on this many threads (default: the number of cores; at most one per ${MIN_FILES_PER_WORKER} files); the output is the same`, jobCount)
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
      const report = await runCheck(paths, { ...options, jobs: options.jobs ?? availableParallelism(), workerScript: __filename });
      for (const problem of report.usageProblems) printProblem(problem);
      if (report.files.length === 0) printProblem('warning: no Python files (.py, .ipynb) found');
      process.stderr.write(formatFileMessages(report, paletteFor(process.stderr), options.verbose === true));
      const text = formatReport(report, options.format, options.output === undefined && process.stdout.isTTY, options.verbose === true);
      const writeError = writeReport(text, options.output);
      if (writeError) printProblem(writeError);
      process.exitCode = writeError ? 2 : exitCodeOf(report);
      // The run compiled what a check uses: later processes start with it (src/launcher/run-bundle.ts).
      saveCompileCache();
    });
}
