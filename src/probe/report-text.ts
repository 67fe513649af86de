/**
 * The probe result as terminal text: one row per layer with its line, the gradient norm at the first
 * and last step, a small log-scale bar, then the verdicts and notices (and the same for a what-if run).
 */
import type { ProbeLayerResult, ProbeResult } from '../shared/probe';
import { formatGradNorm, gradNormColumns } from '../shared/probe-format';
import { approxRatio, flowReference } from '../shared/gradient-flow';
import { predictedBesideMeasured, type PredictionComparison } from '../shared/prediction-gap';

/** The bar spans gradient norms from 1e-12 to 1e2, one character per 0.7 decade. */
const BAR_MIN_LOG = -12;
const BAR_MAX_LOG = 2;
const BAR_WIDTH = 20;

export function formatNumber(value: number | undefined): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Inf' : '-Inf';
  return formatGradNorm(value);
}

/** Width of the log-scale bar for a gradient norm, 0..BAR_WIDTH. */
export function barWidth(norm: number | undefined): number {
  if (norm === undefined || !Number.isFinite(norm) || norm <= 0) return 0;
  const position = (Math.log10(norm) - BAR_MIN_LOG) / (BAR_MAX_LOG - BAR_MIN_LOG);
  return Math.max(1, Math.min(BAR_WIDTH, Math.round(position * BAR_WIDTH)));
}

/**
 * How the report names a 1-based line of the probed text: the file's line, or in a notebook the cell
 * and the line within it (the CLI's cli/source-lines.ts), so that the user can find it.
 */
export interface ReportLines {
  /** "line 12" in the title. */
  label(line: number): string;
  /** The table's line column: its heading and its text for a line, both `width` wide at most. */
  heading: string;
  column(line: number): string;
  width: number;
}

export const FILE_LINES: ReportLines = { label: (line) => `line ${line}`, heading: 'line', column: String, width: 5 };

/** Width of the layer column. */
const NAME_WIDTH = 22;

/**
 * The layer column: the name, and "×N" for a layer object applied N times (one set of weights, the
 * gradient summed over its applications; the legend under the table says so). A long name is cut
 * before the mark, so the mark always shows.
 */
function nameCell(layer: ProbeLayerResult): string {
  const mark = layer.applications !== undefined && layer.applications > 1 ? ` ×${layer.applications}` : '';
  const room = NAME_WIDTH - mark.length;
  const name = layer.name.length > room ? `${layer.name.slice(0, room - 1)}…` : layer.name;
  return `${name}${mark}`.padEnd(NAME_WIDTH);
}

function row(layer: ProbeLayerResult, steps: number, predicted: number | null | undefined, lines: ReportLines): string {
  const last = layer.gradNorm[layer.gradNorm.length - 1];
  const bar = layer.gradNorm.length === 0 ? '' : '█'.repeat(barWidth(last)) || '·';
  const norms = [predicted ?? undefined, ...gradNormColumns(layer.gradNorm, steps).map((c) => c.value)].map((v) => formatNumber(v).padStart(9));
  return `${lines.column(layer.line).padStart(lines.width)}  ${nameCell(layer)} ${layer.kind.padEnd(12)} ${String(layer.params).padStart(9)}  ${norms.join(' ')}  ${bar}`;
}

/** Predicted beside measured: the first/last ratio, and what is more than a decade apart with why. */
export function comparisonLines(comparison: PredictionComparison | null, result: ProbeResult): string[] {
  if (!comparison) return [];
  if (comparison.unavailable !== null) return [`predicted: none (${comparison.unavailable})`];
  const ratio = (log10: number | null) => (log10 === null ? '-' : approxRatio(10 ** log10));
  const grade = result.prediction?.grade ? ` (${result.prediction.grade})` : '';
  const lines = [`predicted: the first layer gets ${ratio(comparison.firstLast.predicted)}${grade} of ${flowReference(result.prediction?.against ?? 'last-hidden', result.prediction?.measure)} at initialization; measured ${ratio(comparison.firstLast.measured)} at step 1`];
  if (comparison.gaps.length === 0) return [...lines, 'predicted and measured agree within a decade on every layer'];
  lines.push('more than a decade apart:', ...comparison.gaps.map((g) => `  - ${g}`), 'what the measurement has that the prediction leaves out:', ...comparison.reasons.map((r) => `  - ${r}`));
  return lines;
}

function section(result: ProbeResult, title: string, lines: ReportLines): string[] {
  const out: string[] = [];
  out.push(`${title} ${result.model.name} (${result.model.framework}, ${lines.label(result.model.line)}): backend ${result.backend}, ${result.steps} steps, batch ${result.batchSize}, seed ${result.seed}, ${result.durationMs} ms`);
  out.push(`input ${result.inputShape.join('x')} · loss ${result.lossName} · optimizer ${result.optimizer} · loss ${formatNumber(result.loss[0])} -> ${formatNumber(result.loss[result.loss.length - 1])}`);
  out.push('');
  out.push(`${lines.heading.padStart(lines.width)}  ${'layer'.padEnd(NAME_WIDTH)} ${'kind'.padEnd(12)} ${'params'.padStart(9)}  ${['predicted', ...gradNormColumns([], result.steps).map((c) => c.heading)].map((h) => h.padStart(9)).join(' ')}  log10 |grad| 1e-12 .. 1e2`);
  const comparison = predictedBesideMeasured(result);
  const predicted = new Map(comparison?.layers.map((r) => [r.id, r.predictedGradNorm]) ?? []);
  for (const layer of result.layers) out.push(row(layer, result.steps, predicted.get(layer.id), lines));
  if (result.layers.some((l) => (l.applications ?? 1) > 1)) out.push('×N: one layer applied N times (shared weights): its gradient is the sum over the applications, its activations the first one\'s');
  out.push('');
  const compared = comparisonLines(comparison, result);
  if (compared.length > 0) out.push(...compared, '');
  if (result.verdicts.length === 0) out.push('verdict: healthy gradient flow (no verdict)');
  for (const v of result.verdicts) out.push(`${v.severity.padEnd(8)} ${v.kind}: ${v.message}`);
  for (const n of result.notices) out.push(`note     ${n.message}`);
  return out;
}

export function formatProbeText(result: ProbeResult, lines: ReportLines = FILE_LINES): string {
  const out = section(result, 'probe of', lines);
  if (result.whatIf) {
    out.push('', `what if: ${result.whatIfTitle ?? '(edit)'}`, ...section(result.whatIf, 'probe of edited', lines));
  }
  return `${out.join('\n')}\n`;
}
