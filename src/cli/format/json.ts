/**
 * JSON output, version 1 (issue 2 §4). Lines and columns are 1-based; endColumn is exclusive.
 * Notebook diagnostics also carry `cell` (1-based over all the notebook's cells, markdown included) and
 * lines relative to that cell, the location `probe --cell C --line N` takes.
 */
import type { Severity } from '../../shared/findings';
import { jsonPrediction, type JsonPrediction } from './prediction';
import { byPosition, type CheckReport, type CheckedFile, messageRenamer, notebookPosition, oneBased, type OneBasedSpan } from '../report';

export interface JsonDiagnostic extends OneBasedSpan {
  code: string;
  name: string;
  severity: Severity;
  message: string;
  cell?: number;
}

/** The call that builds a model when its class or builder is built by calls that differ: `probe --line` (and `--cell`) takes this place. */
export interface JsonInstance {
  label: string;
  /** Set when the call is in another file: its path as `check` prints paths (and then `line` only for a Python file). */
  path?: string;
  line?: number;
  cell?: number;
}

export interface JsonModel {
  name: string;
  framework: 'keras' | 'torch';
  line: number;
  /** Number of layers the analyzer found in the model. */
  layers: number;
  cell?: number;
  /** Where the model is built, when that is not its definition alone (see JsonInstance). */
  instance?: JsonInstance;
  /** Predicted gradient flow at initialization (issue 9); null when the model cannot be propagated ... */
  prediction: JsonPrediction | null;
  /** ... and then why. */
  predictionUnavailable?: string;
}

export interface JsonFile {
  path: string;
  error: string | null;
  models: JsonModel[];
  diagnostics: JsonDiagnostic[];
}

export interface JsonReport {
  version: 1;
  files: JsonFile[];
}

function inCell(file: CheckedFile, span: OneBasedSpan): OneBasedSpan & { cell?: number } {
  if (!file.cellStarts) return span;
  const start = notebookPosition(file.cellStarts, span.line - 1);
  const end = notebookPosition(file.cellStarts, span.endLine - 1);
  const endLine = end.cell === start.cell ? end.line : start.line;
  return { ...span, line: start.line, endLine, cell: start.cell };
}

export function toJsonReport(report: CheckReport): JsonReport {
  return {
    version: 1,
    files: report.files.map((file) => ({
      path: file.displayPath,
      error: file.error,
      models: file.models.map((model) => {
        const { line, cell } = inCell(file, oneBased(model.range));
        const locate = (line0: number) => {
          if (!file.cellStarts) return { line: line0 + 1 };
          const at = notebookPosition(file.cellStarts, line0);
          return { line: at.line, cell: at.cell };
        };
        const call = model.instance;
        const instance: JsonInstance | null = !call ? null : call.file === file.displayPath ? { label: call.label, ...locate(call.range.start.line) } : { label: call.label, path: call.file, ...(call.file.endsWith('.ipynb') ? {} : { line: call.range.start.line + 1 }) };
        return { name: model.name, framework: model.framework, line, layers: model.layers, ...(cell ? { cell } : {}), ...(instance ? { instance } : {}), ...jsonPrediction(model, locate, messageRenamer(file)) };
      }),
      diagnostics: [...file.findings].sort(byPosition).map((finding) => {
        const { cell, ...span } = inCell(file, oneBased(finding.range));
        return { code: finding.code, name: finding.name, severity: finding.severity, message: finding.message, ...span, ...(cell ? { cell } : {}) };
      }),
    })),
  };
}

export function formatJson(report: CheckReport): string {
  return `${JSON.stringify(toJsonReport(report), null, 2)}\n`;
}
