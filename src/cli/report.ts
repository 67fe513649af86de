/** What `check` hands to the formatters: the engine's per-file results plus how to show each path. */
import { relative, sep } from 'node:path';
import type { FileResult } from '../analysis/api';
import type { Finding, Severity } from '../shared/findings';
import type { ModelIR, Range } from '../shared/ir';
import { modelPrediction, type ModelPrediction } from '../shared/knowledge/propagation';
import { cellOfLine, messageInCells } from '../shared/notebook-layout';

/**
 * A model as `check` reports it: where it is, how many layers, and its predicted gradient flow. Made
 * where the model was analyzed (a worker of `--jobs` sends this, not the whole IR, and the prediction
 * the rules computed is not computed again for the output).
 */
export interface CheckedModel {
  name: string;
  framework: ModelIR['framework'];
  range: Range;
  layers: number;
  prediction: ModelPrediction;
  /** The call that builds this model, when a class or builder is built by calls that differ (the place `probe --line` takes); its `file` absolute from the engine, then as the report shows paths (displayPathOf). */
  instance: { label: string; file: string; range: Range } | null;
}

/** A file's analysis result with its models as reported. */
export interface CheckedResult extends Omit<FileResult, 'models'> {
  models: CheckedModel[];
}

export function checkedResult(result: FileResult): CheckedResult {
  return {
    ...result,
    models: result.models.map((model) => ({ name: model.name, framework: model.framework, range: model.range, layers: model.layers.length, prediction: modelPrediction(model), instance: model.instance ?? null })),
  };
}

export interface CheckedFile extends CheckedResult {
  /** Path as printed: relative to the working folder when inside it, '/'-separated. */
  displayPath: string;
  /** For notebooks: per notebook cell, its first 0-based line in the analyzed text (-1: not analyzed). */
  cellStarts: number[] | null;
}

export interface CheckReport {
  files: CheckedFile[];
  /** Problems with the configuration or the command line, already printed to stderr. */
  usageProblems: string[];
}

/** 1-based line/column span (end column exclusive), as the text, JSON and SARIF outputs use. */
export interface OneBasedSpan {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export function oneBased(range: Range): OneBasedSpan {
  return { line: range.start.line + 1, column: range.start.character + 1, endLine: range.end.line + 1, endColumn: range.end.character + 1 };
}

export function displayPathOf(absolutePath: string, cwd: string): string {
  const rel = relative(cwd, absolutePath);
  const shown = rel === '' || rel.startsWith('..') ? absolutePath : rel;
  return shown.split(sep).join('/');
}

/**
 * A notebook line as (1-based cell number in the notebook, 1-based line in that cell). `cellStarts`
 * has one entry per notebook cell, -1 for cells that are not analyzed (markdown, other languages).
 */
export function notebookPosition(cellStarts: readonly number[], line0: number): { cell: number; line: number } {
  const found = cellOfLine(cellStarts, line0);
  return found ? { cell: found[0] + 1, line: found[1] + 1 } : { cell: 1, line: line0 + 1 };
}

/** How the file's messages name its lines: in a notebook by cell (messageInCells), else as written. */
export function messageRenamer(file: { cellStarts: readonly number[] | null }): (text: string) => string {
  const cells = file.cellStarts;
  return cells ? (text) => messageInCells(text, cells) : (text) => text;
}

export function byPosition(a: Finding, b: Finding): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code);
}

export const SEVERITY_ORDER: readonly Severity[] = ['error', 'warning', 'information', 'hint'];

/** Findings at warning or above fail the run (exit 1). */
export function failsRun(severity: Severity): boolean {
  return severity === 'error' || severity === 'warning';
}

/** 0 clean, 1 findings at warning or above, 2 usage problems or files that could not be analyzed. */
export function exitCodeOf(report: CheckReport): 0 | 1 | 2 {
  if (report.usageProblems.length > 0 || report.files.some((f) => f.error !== null)) return 2;
  return report.files.some((f) => f.findings.some((d) => failsRun(d.severity))) ? 1 : 0;
}
