/** The human format: `path:line:col: CODE message`, one finding per line, then a summary line. */
import { predictionLines } from './prediction';
import type { Severity } from '../../shared/findings';
import { byPosition, type CheckReport, type CheckedFile, messageRenamer, notebookPosition, SEVERITY_ORDER } from '../report';

export interface Palette {
  path(text: string): string;
  code(text: string, severity: Severity): string;
  dim(text: string): string;
  error(text: string): string;
}

const ESC = '\u001b[';
const paint = (open: number, close: number) => (text: string) => `${ESC}${open}m${text}${ESC}${close}m`;
const bold = paint(1, 22);
const red = paint(31, 39);
const yellow = paint(33, 39);
const cyan = paint(36, 39);
const grey = paint(90, 39);

export const COLOURS: Palette = {
  path: bold,
  code: (text, severity) => (severity === 'error' ? red(bold(text)) : severity === 'warning' ? yellow(bold(text)) : cyan(text)),
  dim: grey,
  error: (text) => red(bold(text)),
};

export const PLAIN: Palette = { path: (t) => t, code: (t) => t, dim: (t) => t, error: (t) => t };

/** Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Palette {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return PLAIN;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return COLOURS;
  return stream.isTTY ? COLOURS : PLAIN;
}

/** `path:line:col` for a 0-based position; notebook lines are shown as `cell N:line`. */
export function positionLabel(file: CheckedFile, line0: number, character0: number): string {
  if (file.cellStarts) {
    const { cell, line } = notebookPosition(file.cellStarts, line0);
    return `${file.displayPath}:cell ${cell}:${line}:${character0 + 1}`;
  }
  return `${file.displayPath}:${line0 + 1}:${character0 + 1}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function summary(report: CheckReport): string {
  const counts = new Map<Severity, number>();
  for (const file of report.files) for (const f of file.findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const failed = report.files.filter((f) => f.error !== null).length;
  const analyzed = report.files.length - failed;
  const parts: string[] = [];
  if (total === 0) parts.push(`No problems found in ${plural(analyzed, 'file')}.`);
  else {
    // "information" has no plural; the other severities are countable nouns.
    const bySeverity = SEVERITY_ORDER.filter((s) => counts.has(s)).map((s) => (s === 'information' ? `${counts.get(s)} information` : plural(counts.get(s) ?? 0, s)));
    const withFindings = report.files.filter((f) => f.findings.length > 0).length;
    parts.push(`Found ${plural(total, 'problem')} (${bySeverity.join(', ')}) in ${withFindings} of ${plural(analyzed, 'file')}.`);
  }
  if (failed > 0) parts.push(`${plural(failed, 'file')} could not be analyzed.`);
  return parts.join(' ');
}

/** The report proper (stdout or --output): one finding per line, then the summary. */
export function formatText(report: CheckReport, palette: Palette, verbose = false): string {
  const lines: string[] = [];
  for (const file of report.files) {
    for (const finding of [...file.findings].sort(byPosition)) {
      const where = positionLabel(file, finding.range.start.line, finding.range.start.character);
      lines.push(`${palette.path(where)}: ${palette.code(finding.code, finding.severity)} ${finding.message}`);
    }
    // --verbose: the gradient flow predicted for every model, layer by layer.
    if (verbose) for (const model of file.models) lines.push(...predictionLines(model, (line) => palette.path(positionLabel(file, line, 0)), messageRenamer(file)));
  }
  lines.push(summary(report));
  return `${lines.join('\n')}\n`;
}

/**
 * What is not a finding, for stderr in every format: files that could not be analyzed and notices
 * (syntax errors, Python 2, unknown codes in suppressions). Information-level notices (code the
 * analyzer does not model, skipped notebook cells) only when `verbose`: real projects have many.
 */
export function formatFileMessages(report: CheckReport, palette: Palette, verbose: boolean): string {
  const lines: string[] = [];
  for (const file of report.files) {
    if (file.error !== null) lines.push(`${palette.path(file.displayPath)}: ${palette.error('error')}: ${file.error}`);
    for (const notice of file.notices) {
      if (!verbose && (notice.severity === 'information' || notice.severity === 'hint')) continue;
      const where = notice.range ? positionLabel(file, notice.range.start.line, notice.range.start.character) : file.displayPath;
      lines.push(`${palette.path(where)}: ${palette.dim(`note: ${notice.message}`)}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
