/**
 * The probe result as terminal text: one row per layer with its line, the gradient norm at the first
 * and last step, a small log-scale bar, then the verdicts and notices (and the same for a what-if run).
 */
import type { ProbeLayerResult, ProbeResult } from '../shared/probe';
import { formatGradNorm, gradNormColumns } from '../shared/probe-format';

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

function row(layer: ProbeLayerResult, steps: number): string {
  const last = layer.gradNorm[layer.gradNorm.length - 1];
  const bar = layer.gradNorm.length === 0 ? '' : '█'.repeat(barWidth(last)) || '·';
  const norms = gradNormColumns(layer.gradNorm, steps).map((c) => formatNumber(c.value).padStart(9));
  return `${String(layer.line).padStart(5)}  ${layer.name.slice(0, 22).padEnd(22)} ${layer.kind.padEnd(12)} ${String(layer.params).padStart(9)}  ${norms.join(' ')}  ${bar}`;
}

function section(result: ProbeResult, title: string): string[] {
  const lines: string[] = [];
  lines.push(`${title} ${result.model.name} (${result.model.framework}, line ${result.model.line}): backend ${result.backend}, ${result.steps} steps, batch ${result.batchSize}, seed ${result.seed}, ${result.durationMs} ms`);
  lines.push(`input ${result.inputShape.join('x')} · loss ${result.lossName} · optimizer ${result.optimizer} · loss ${formatNumber(result.loss[0])} -> ${formatNumber(result.loss[result.loss.length - 1])}`);
  lines.push('');
  lines.push(` line  ${'layer'.padEnd(22)} ${'kind'.padEnd(12)} ${'params'.padStart(9)}  ${gradNormColumns([], result.steps).map((c) => c.heading.padStart(9)).join(' ')}  log10 |grad| 1e-12 .. 1e2`);
  for (const layer of result.layers) lines.push(row(layer, result.steps));
  lines.push('');
  if (result.verdicts.length === 0) lines.push('verdict: healthy gradient flow (no verdict)');
  for (const v of result.verdicts) lines.push(`${v.severity.padEnd(8)} ${v.kind}: ${v.message}`);
  for (const n of result.notices) lines.push(`note     ${n.message}`);
  return lines;
}

export function formatProbeText(result: ProbeResult): string {
  const lines = section(result, 'probe of');
  if (result.whatIf) {
    lines.push('', `what if: ${result.whatIfTitle ?? '(edit)'}`, ...section(result.whatIf, 'probe of edited'));
  }
  return `${lines.join('\n')}\n`;
}
