import { METRIC_COLUMNS, type LayerSeries } from './probe-metrics';
import type { ProbeLayerResult } from './probe';

/** How probe numbers are written for people (panel, annotations): short, exponent for tiny or huge values. */
export function formatGradNorm(value: number | undefined | null, digits = 3): string {
  if (value === undefined || value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e-2 && abs < 1e4 ? value.toPrecision(digits) : value.toExponential(1);
}

/** Median of the finite values (NaN when none): the statistic the verdicts judge and every layer table shows. */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/**
 * The gradient-norm columns of every layer table (CLI text, HTML report, panel): the first step, the
 * last step, and the median over the steps. Verdicts quote medians written with formatGradNorm, so a
 * number a verdict quotes is a number the table shows.
 */
export function gradNormColumns(gradNorm: readonly number[], steps: number): { heading: string; value: number | undefined }[] {
  return [
    { heading: 'grad@1', value: gradNorm[0] },
    { heading: `grad@${steps}`, value: gradNorm[gradNorm.length - 1] },
    { heading: 'median', value: gradNorm.length > 0 ? median(gradNorm) : undefined },
  ];
}

/** A fraction as verdicts and tables write it: `73%`. */
export function formatPercent(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${Math.round(value * 100)}%`;
}

/** The metric columns of the layer tables (src/shared/probe-metrics.ts): each metric's median over the steps, `-` where the layer does not have it. */
export function metricColumns(layer: LayerSeries | undefined): { heading: string; text: string }[] {
  return METRIC_COLUMNS.map(({ key, heading }) => {
    const series = layer?.[key] ?? null;
    return { heading, text: series === null || series.length === 0 ? '-' : formatPercent(median(series)) };
  });
}

/** A layer row's label: its name, and how often the model applies it when more than once (its weights are shared). */
export function rowLabel(layer: Pick<ProbeLayerResult, 'name' | 'applications'>): string {
  return layer.applications !== undefined && layer.applications > 1 ? `${layer.name} (applied ${layer.applications}x)` : layer.name;
}
