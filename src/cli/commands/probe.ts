/**
 * `gradient-lens probe FILE`: rebuild one model of FILE in TensorFlow.js, train it briefly on synthetic
 * data in a separate process and report per-layer gradient flow. Exit 0 healthy, 1 when a verdict at
 * warning or above is found, 2 on errors (bad options, unreadable file, no such model, probe failure).
 */
import type { Command } from 'commander';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { FileResult } from '../../analysis/api';
import { fileLinks, linkedGroups } from '../../analysis/file-links';
import { Project } from '../../analysis/project';
import { createPythonParser } from '../../analysis/python/parser';
import { definitionOf, givenCall, givenModel } from '../../analysis/given-arguments';
import type { Finding, WhatIf } from '../../shared/findings';
import type { ModelIR } from '../../shared/ir';
import { defaultModel } from '../../shared/model-choice';
import { BACKEND_CHOICES, DEFAULT_THRESHOLDS, isUnhealthy, probeOptions, renameOutcomeMessages, type BackendChoice, type ProbeError, type ProbeOptions, type ProbeProgressMessage, type ProbeThresholds } from '../../shared/probe';
import { discardProbeWorker, prepareProbeWorker, startProbe } from '../../probe/client';
import { formatProbeReportHtml } from '../../probe/report-html';
import { formatProbeText } from '../../probe/report-text';
import { printProblem, writeReport } from '../output';
import { readInput } from '../read-source';
import { collectInputs } from '../inputs';
import { SourceLines } from '../source-lines';

export interface ProbeCommandOptions {
  model?: string;
  cell?: string;
  line?: string;
  steps: string;
  batch: string;
  seed: string;
  backend: string;
  whatIf?: string;
  inputShape?: string;
  rawInputMax?: string;
  threshold?: string[];
  arg?: string[];
  format: string;
  html?: string;
}

const EXIT_HEALTHY = 0;
const EXIT_VERDICT = 1;
const EXIT_ERROR = 2;

class UsageError extends Error {}

function positiveInt(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got "${value}"`);
  return n;
}

/** Command-line flags -> probe options; throws UsageError with the flag's name. */
export function parseProbeOptions(flags: ProbeCommandOptions): ProbeOptions {
  const backend = flags.backend as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${flags.backend}"`);
  if (flags.format !== 'text' && flags.format !== 'json') throw new UsageError(`--format must be text or json, got "${flags.format}"`);
  let inputShape: number[] | null = null;
  if (flags.inputShape !== undefined) {
    inputShape = flags.inputShape.split(/[,x]/).map((d) => positiveInt('--input-shape', d.trim()));
  }
  const thresholds: Partial<ProbeThresholds> = {};
  for (const pair of flags.threshold ?? []) {
    const parts = pair.split('=').map((p) => p.trim());
    const key = parts[0]!; // split gives at least one part
    const value = parts[1];
    const known = Object.keys(DEFAULT_THRESHOLDS);
    if (!known.includes(key)) throw new UsageError(`--threshold: unknown key "${key}" (known: ${known.join(', ')})`);
    const number = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`--threshold ${key}: expected a number >= 0, got "${value ?? ''}"`);
    thresholds[key as keyof ProbeThresholds] = number;
  }
  return probeOptions({
    thresholds,
    rawInputMax: flags.rawInputMax === undefined ? null : positiveInt('--raw-input-max', flags.rawInputMax),
    steps: positiveInt('--steps', flags.steps),
    batchSize: positiveInt('--batch', flags.batch),
    seed: positiveInt('--seed', flags.seed, 0),
    backend,
    inputShape,
  });
}

/** Where the user finds a model: for a notebook, the cell and line check prints (an instance at the call that builds it). */
function modelLocation(model: ModelIR, path: string, lines: SourceLines): string {
  const at = model.instance;
  if (at && resolve(at.file) === path) return `${at.label} (${lines.label(at.range.start.line)})`;
  if (!lines.isNotebook) return `${model.name} (line ${model.nameRange.start.line + 1})`;
  if (resolve(model.file) !== path) return `${lines.message(model.name)} (${basename(model.file)}:${model.range.start.line + 1})`;
  return `${lines.message(model.name)} (${lines.label(model.range.start.line)})`;
}

function describeModels(models: ModelIR[], path: string, lines: SourceLines): string {
  return models.map((m) => `  ${modelLocation(m, path, lines)}`).join('\n');
}

/**
 * How to pick one of the models a class's calls build: by the line of its call when every call is in this
 * file on a line of its own, else by name (calls in another file, or one call read per entry of a config).
 */
function chooseInstance(built: ModelIR[], path: string, lines: SourceLines): string {
  const callLines = built.map((m) => (m.instance && resolve(m.instance.file) === path ? m.instance.range.start.line : null));
  if (callLines.every((l) => l !== null) && new Set(callLines).size === built.length) return `give the line of one of them:\n${describeModels(built, path, lines)}`;
  const where = (m: ModelIR) => (m.instance ? ` (built at ${basename(m.instance.file)}:${m.instance.range.start.line + 1})` : '');
  return `choose one with --model:\n${built.map((m) => `  --model ${JSON.stringify(lines.message(m.name))}${where(m)}`).join('\n')}`;
}

/** --line N, or for a notebook --cell C --line N or --line C:N, as the 0-based line of the analyzed text. */
function wantedLine(flags: Pick<ProbeCommandOptions, 'cell' | 'line'>, lines: SourceLines, file: string, listing: () => string): number {
  const cellAndLine = flags.line === undefined ? null : /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(flags.line);
  if (cellAndLine && flags.cell !== undefined) throw new UsageError(`--line ${flags.line} names a cell already; drop --cell or give --line N`);
  const cell = cellAndLine ? positiveInt('--line C:N', cellAndLine[1]!) : flags.cell === undefined ? null : positiveInt('--cell', flags.cell);
  const line = cellAndLine ? positiveInt('--line C:N', cellAndLine[2]!) : positiveInt('--line', flags.line ?? '');
  const analyzed = lines.analyzedLine(line, cell);
  if (typeof analyzed !== 'number') throw new UsageError(`${file}: ${analyzed.problem}. Models:\n${listing()}`);
  return analyzed;
}

/** The model chosen by --model / --line (with --cell in a notebook), or the only one. `file` as given, `lines` its lines. */
export function pickModel(models: ModelIR[], flags: Pick<ProbeCommandOptions, 'model' | 'cell' | 'line'>, file: string, lines: SourceLines): ModelIR {
  const path = resolve(file);
  if (models.length === 0) throw new UsageError(`${file}: no Keras or PyTorch model found`);
  const listing = () => describeModels(models, path, lines);
  const wanted = flags.model;
  if (wanted !== undefined) {
    // In a notebook, as check shows the name (`Model() (cell 7, line 2)`) or as the analyzer names it.
    const found = models.find((m) => m.name === wanted || lines.message(m.name) === wanted) ?? models.find((m) => m.exports.includes(wanted));
    if (!found) throw new UsageError(`${file}: no model named "${wanted}". Models:\n${listing()}`);
    return found;
  }
  if (flags.cell !== undefined && flags.line === undefined) throw new UsageError('--cell needs --line: --cell C --line N picks the model at line N of cell C');
  if (flags.line !== undefined) {
    const line = wantedLine(flags, lines, file, listing);
    // A class or builder called with different arguments gives one model per call: the call's line picks it.
    const atCall = models.find((m) => m.instance !== undefined && resolve(m.instance.file) === path && m.instance.range.start.line <= line && line <= m.instance.range.end.line);
    // Definitions can nest (a decoder built between the encoder's Input and the VAE's Model call): the innermost, latest-starting one.
    // A builder's listing names its `def` line (nameRange), which may lie before the model it builds.
    const containing = models.filter((m) => (m.range.start.line <= line && line <= m.range.end.line) || m.nameRange.start.line === line);
    const found = atCall ?? containing.reduce<ModelIR | undefined>((best, m) => (best === undefined || m.range.start.line > best.range.start.line ? m : best), undefined);
    if (!found) throw new UsageError(`${file}: no model is defined at ${lines.label(line)}. Models:\n${listing()}`);
    // A class built by several calls with different arguments: its own line names none of them.
    const built = atCall ? [] : models.filter((m) => m.instance !== undefined && m.range.start.line === found.range.start.line && m.range.end.line === found.range.end.line);
    if (built.length > 1) throw new UsageError(`${file}: ${lines.label(line)} defines ${found.name.replace(/\(.*$/, '')}, which ${built.length} calls build with different arguments; ${chooseInstance(built, path, lines)}`);
    // Models that start together (a builder's encoder and autoencoder made from one Input): the one named at this line, else ask.
    const together = atCall ? [] : containing.filter((m) => m.instance === undefined && m.range.start.line === found.range.start.line);
    const named = together.filter((m) => m.nameRange.start.line === line);
    if (together.length > 1 && named.length !== 1) throw new UsageError(`${file}: ${together.length} models start at ${lines.label(line)}; give the line of one of them:\n${describeModels(together, path, lines)}`);
    return named.length === 1 && together.length > 1 ? named[0]! : found;
  }
  const chosen = defaultModel(models, (m) => m);
  const how = lines.isNotebook ? '--cell C --line N' : '--line N';
  if (!chosen) throw new UsageError(`${file} defines ${models.length} models; choose one with --model NAME or ${how}:\n${listing()}`);
  return chosen;
}

/** The what-if of the model's finding with that code. */
export function pickWhatIf(findings: Finding[], model: ModelIR, code: string): WhatIf {
  const own = findings.filter((f) => f.modelId === model.id && f.whatIf !== null);
  const found = own.find((f) => f.code.toUpperCase() === code.toUpperCase());
  if (!found?.whatIf) {
    const available = [...new Set(own.map((f) => f.code))];
    throw new UsageError(`model ${model.name} has no ${code} finding with a what-if${available.length ? ` (available: ${available.join(', ')})` : ' (no finding of this model has one)'}`);
  }
  return found.whatIf;
}

function progressLine(message: ProbeProgressMessage): string {
  const what = message.phase.startsWith('what-if') ? 'what-if ' : '';
  if (message.phase.endsWith('train')) return `${what}step ${message.step}/${message.steps}  loss ${message.loss?.toPrecision(4) ?? '-'}  (${message.backend})`;
  return `${what}${message.phase.replace('what-if-', '')}...`;
}

/** What a terminal user can do about an error the probe cannot solve alone. */
const CLI_HINTS: Partial<Record<ProbeError['kind'], string>> = {
  shape: 'Give the input shape with --input-shape (without the batch dimension, channels last), e.g. --input-shape 28,28,1.',
  budget: 'Probe with a smaller --batch or --input-shape.',
};

function errorText(error: ProbeError): string {
  // Over the budget by its parameters, or read part-way, a model is not helped by a smaller batch or input.
  const hint = error.kind === 'budget' && error.shrinkable === false ? undefined : CLI_HINTS[error.kind];
  return `probe failed (${error.kind}): ${error.message}${hint ? `\n${hint}` : ''}`;
}

/** Python files and notebooks read beside the probed one; a bigger tree reads only the file's own folder. */
const MAX_PROJECT_FILES = 400;

/** The other files of the project a probed file belongs to: the working folder when it holds the file, else the file's folder. */
function projectFiles(path: string): string[] {
  const cwd = process.cwd();
  const inside = !relative(cwd, path).startsWith('..') && !isAbsolute(relative(cwd, path));
  const roots = inside ? [cwd, dirname(path)] : [dirname(path)];
  for (const root of roots) {
    // Notebooks too: check reads them, and a model class a notebook builds is named after that call.
    const files = collectInputs([root]).files.filter((f) => f !== path && /\.(py|ipynb)$/i.test(f));
    if (files.length <= MAX_PROJECT_FILES) return files;
  }
  return [];
}

/**
 * The probed file analyzed with the project's other files as `check` reads them (a model built with
 * arguments from train.py, a training loop there), but only those that share facts with it
 * (file-links.ts): analyzing every script of a big project took seconds before the first step. A
 * group holding one model could be "the project's only model" that another group trains by an
 * unbound name (Project.trainsUnboundNames), so then the whole project is read, as check does.
 */
async function analyzeProbedFile(path: string, text: string): Promise<FileResult> {
  const texts = new Map([[path, text]]);
  for (const other of projectFiles(path)) {
    const source = readInput(other);
    if (source.error === null) texts.set(other, source.text);
  }
  const analyze = async (paths: readonly string[]): Promise<{ result: FileResult; models: number }> => {
    const inGroup = new Set(paths);
    const project = await Project.create({ otherPaths: [...texts.keys()].filter((p) => !inGroup.has(p)) });
    try {
      for (const p of paths) project.setFile(p, texts.get(p) ?? '');
      const result = project.analyzeFile(path);
      return { result, models: project.models().length };
    } finally {
      project.dispose();
    }
  };
  if (texts.size === 1) return (await analyze([path])).result;
  const parser = await createPythonParser();
  const links = [...texts].map(([p, t]) => fileLinks(parser, p, t));
  parser.delete();
  const group = linkedGroups(links, (p) => texts.get(p) ?? '').find((g) => g.includes(path)) ?? [path];
  const grouped = await analyze(group);
  if (group.length === texts.size || grouped.models !== 1) return grouped.result;
  return (await analyze([...texts.keys()])).result;
}

/** The model `chosen` names, built by a call of its class or builder with the --arg values (given-arguments.ts). */
async function withGivenArguments(path: string, text: string, chosen: ModelIR, pairs: readonly string[]): Promise<{ analyzed: FileResult; model: ModelIR }> {
  const parser = await createPythonParser();
  const call = (() => {
    try {
      return givenCall(parser, text, chosen, pairs);
    } finally {
      parser.delete();
    }
  })();
  if ('problem' in call) throw new UsageError(`--arg: ${call.problem}`);
  const analyzed = await analyzeProbedFile(path, call.text);
  const model = givenModel(analyzed.models, chosen, call);
  if (!model) throw new UsageError(`--arg: ${call.label} builds no model the analyzer can read apart from the others of its definition`);
  return { analyzed, model };
}

/** For a model its class or builder builds, how to give the parameters no call gives (which may decide the sizes the probe could not read). */
async function argumentsHint(model: ModelIR, text: string): Promise<string | null> {
  if (model.instance) return null;
  const parser = await createPythonParser();
  try {
    const built = definitionOf(parser, text, model);
    return built?.parameters?.length ? `If ${built.definition}'s parameters decide these sizes, give them with --arg NAME=VALUE (its parameters: ${built.parameters.join(', ')}).` : null;
  } finally {
    parser.delete();
  }
}

async function runProbeCommand(file: string, flags: ProbeCommandOptions): Promise<number> {
  const options = parseProbeOptions(flags);
  const path = resolve(file);
  const input = readInput(path);
  if (input.error !== null) throw new UsageError(`${file}: ${input.error}`);
  const lines = SourceLines.of(input);
  // The worker loads tfjs and starts the backend while the file is analyzed.
  const worker = prepareProbeWorker(options.backend);
  let model: ModelIR;
  let whatIf: WhatIf | null = null;
  try {
    let analyzed = await analyzeProbedFile(path, input.text);
    if (analyzed.error) throw new UsageError(`${file}: ${analyzed.error}`);
    model = pickModel(analyzed.models, flags, file, lines);
    if (flags.arg && flags.arg.length > 0) ({ analyzed, model } = await withGivenArguments(path, input.text, model, flags.arg));
    if (flags.whatIf !== undefined) whatIf = pickWhatIf(analyzed.findings, model, flags.whatIf);
  } catch (error) {
    discardProbeWorker(worker);
    throw error;
  }
  const showProgress = process.stderr.isTTY;
  const handle = startProbe(model, options, whatIf, {
    worker,
    onProgress: (m) => {
      if (showProgress) process.stderr.write(`\r\x1b[2K${progressLine(m)}`);
    },
  });
  const stop = () => { handle.cancel(); };
  process.once('SIGINT', stop);
  const outcome = renameOutcomeMessages(await handle.result, (text) => lines.message(text));
  process.removeListener('SIGINT', stop);
  if (showProgress) process.stderr.write('\r\x1b[2K');
  if (!outcome.ok) {
    if (flags.format === 'json') writeReport(`${JSON.stringify({ version: 1, error: outcome.error }, null, 2)}\n`, undefined);
    const hint = outcome.error.kind === 'unsupported' && !flags.arg?.length ? await argumentsHint(model, input.text) : null;
    printProblem(`${errorText(outcome.error)}${hint ? `\n${hint}` : ''}`);
    return EXIT_ERROR;
  }
  const result = outcome.result;
  writeReport(flags.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatProbeText(result, lines.reportLines), undefined);
  if (flags.html !== undefined) {
    const problem = writeReport(formatProbeReportHtml(result), flags.html);
    if (problem) {
      printProblem(problem);
      return EXIT_ERROR;
    }
  }
  return isUnhealthy(result) ? EXIT_VERDICT : EXIT_HEALTHY;
}

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('rebuild a model in TensorFlow.js, train it briefly on synthetic data and report gradient flow')
    .argument('<file>', 'Python file (or notebook) that defines the model')
    .option('--model <name>', 'model to probe (variable, class or factory name)')
    .option('--line <n>', 'probe the model defined (or an instance built) at this 1-based line; in a notebook the line within --cell, or C:N')
    .option('--cell <n>', 'notebooks: the 1-based cell of --line, as check prints it (check: "cell 7:1:13", JSON "cell": 7, "line": 1)')
    .option('--steps <n>', 'training steps', '30')
    .option('--batch <n>', 'batch size', '32')
    .option('--seed <n>', 'random seed (same seed, same numbers)', '0')
    .option('--backend <name>', 'auto | node | wasm | cpu', 'auto')
    .option('--what-if <code>', "also probe with this finding's fix applied (e.g. GL101), same seed and data")
    .option('--input-shape <dims>', 'input shape without the batch dimension, channels last, e.g. 28,28,1')
    .option('--raw-input-max <n>', 'feed raw-scale inputs, uniform integers 0..n (255: pixels), instead of standardized ones')
    .option('--threshold <key=value>', 'override a verdict threshold, e.g. vanishingRatio=1e-4 (repeatable; see docs/probe.md)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--arg <name=value>', 'build the model with this argument of its class or builder, a Python literal, where no call in the project gives it, e.g. --arg d_model=512 (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--format <fmt>', 'text | json', 'text')
    .option('--html <file>', "also write the panel's self-contained HTML report (heat map, profile, table, verdicts)")
    .action(async (file: string, flags: ProbeCommandOptions) => {
      try {
        process.exitCode = await runProbeCommand(file, flags);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        printProblem(error.message);
        process.exitCode = EXIT_ERROR;
      }
    });
}
