/**
 * ECharts options for the probe panel, built from a ProbeResult (pure functions: data in, option
 * out). Labels and tooltips are drawn on the canvas (richText tooltips), so names from the analyzed
 * code never become HTML.
 */
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, HeatmapSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption, LegendComponentOption, MarkAreaComponentOption, TooltipComponentOption, VisualMapComponentOption } from 'echarts/components';
import { flowPathLayers, flowSeries, measuredFlow } from '../../src/shared/probe-flow';
import { predictedBesideMeasured } from '../../src/shared/prediction-gap';
import { DEFAULT_THRESHOLDS, type ProbeLayerResult, type ProbeResult } from '../../src/shared/probe';
import { formatGradNorm, median } from '../../src/shared/probe-format';
import type { ChartTheme } from './theme';

export type ChartOption = ComposeOption<
  HeatmapSeriesOption | LineSeriesOption | BarSeriesOption | GridComponentOption | TooltipComponentOption | VisualMapComponentOption | LegendComponentOption | MarkAreaComponentOption
>;

/** log10 of the heat map's colour range: 1e-8 (deep vanishing) .. 1e3 (exploding). */
const LOG_MIN = -8;
const LOG_MAX = 3;

export const formatNorm = (value: number | undefined | null): string => formatGradNorm(value);

export const layerLabel = (layer: ProbeLayerResult): string => `${layer.name} · L${layer.line}`;

/** Layers with trainable weights: the ones that have a gradient norm. */
export const weightedLayers = (result: ProbeResult): ProbeLayerResult[] => result.layers.filter((l) => l.gradNorm.length > 0);

/** Layers with an activation the probe measures (sigmoid/tanh saturation or ReLU-family death). */
export const activationLayers = (result: ProbeResult): ProbeLayerResult[] => result.layers.filter((l) => l.saturated !== null || l.dead !== null);

const last = (values: number[]): number | undefined => values[values.length - 1];

function baseOption(theme: ChartTheme): ChartOption {
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: theme.foreground, fontFamily: theme.fontFamily, fontSize: 11 },
    tooltip: { renderMode: 'richText', backgroundColor: theme.tooltipBackground, borderColor: theme.border, textStyle: { color: theme.foreground } },
  };
}

const axisStyle = (theme: ChartTheme) => ({
  axisLine: { lineStyle: { color: theme.muted } },
  axisLabel: { color: theme.foreground },
  splitLine: { lineStyle: { color: theme.grid } },
  nameTextStyle: { color: theme.muted },
});

/** Layers (rows) x steps (columns), colour = log10 of the weight-gradient L2 norm. */
export function heatmapOption(result: ProbeResult, theme: ChartTheme): ChartOption {
  const layers = weightedLayers(result);
  const data: [number, number, number | '-'][] = [];
  layers.forEach((layer, row) => {
    layer.gradNorm.forEach((norm, step) => {
      const log = norm > 0 && Number.isFinite(norm) ? Math.log10(norm) : norm === 0 ? LOG_MIN : '-';
      data.push([step, row, log === '-' ? log : Math.max(LOG_MIN, Math.min(LOG_MAX, log))]);
    });
  });
  return {
    ...baseOption(theme),
    tooltip: {
      ...baseOption(theme).tooltip,
      formatter: (params: unknown) => {
        const value = (params as { value: [number, number, number | '-'] }).value;
        const layer = layers[value[1]];
        const norm = layer?.gradNorm[value[0]];
        return layer ? `${layerLabel(layer)}\nstep ${value[0] + 1}: |∇W| = ${formatNorm(norm)}` : '';
      },
    },
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- echarts 6 keeps containLabel; outerBounds would change the layout the panel tests measure
    grid: { left: 8, right: 8, top: 8, bottom: 64, containLabel: true },
    xAxis: { type: 'category', name: 'step', nameLocation: 'middle', nameGap: 22, data: Array.from({ length: result.steps }, (_, i) => String(i + 1)), ...axisStyle(theme), splitArea: { show: false } },
    yAxis: { type: 'category', inverse: true, data: layers.map(layerLabel), ...axisStyle(theme), triggerEvent: true },
    visualMap: {
      type: 'continuous',
      min: LOG_MIN,
      max: LOG_MAX,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      text: ['1e3 exploding', 'vanishing 1e-8'],
      textStyle: { color: theme.foreground },
      inRange: { color: ['#1a2a8a', '#2f6fd0', '#3aa67a', '#e0c341', '#d0352b'] },
    },
    series: [{ type: 'heatmap', name: 'log10 |∇W|', data, emphasis: { itemStyle: { borderColor: theme.foreground, borderWidth: 1 } } }],
  };
}

/**
 * The gradient-flow profile: per layer of the gradient-flow path, its median gradient norm over the
 * steps (what the verdicts judge, with the vanishing and exploding bands from that same judgement,
 * measuredFlow: a layer inside a band is a layer the verdict names), the norm at the step the slider
 * picks, and the profile lint predicts at initialization (anchored on the output layer's step-1 norm).
 */
export function profileOption(result: ProbeResult, step: number | null, theme: ChartTheme): ChartOption {
  const flow = measuredFlow(result.layers, DEFAULT_THRESHOLDS);
  const layers = flowPathLayers(result.layers);
  // The chart draws what the verdicts judge: at equal weight norm (|∇W|·|W|) when every layer compared is scale-free.
  const measure = flow?.measure ?? 'gradient';
  const positive = (value: number | undefined | null) => (value !== undefined && value !== null && value > 0 && Number.isFinite(value) ? value : null);
  const matchIn = (layer: ProbeLayerResult, run: ProbeResult) => run.layers.find((l) => l.id === layer.id) ?? run.layers.find((l) => l.name === layer.name);
  const medians = layers.map((l) => positive(median(flowSeries(l, measure))));
  const atStep = layers.map((l) => {
    const series = flowSeries(l, measure);
    return positive(step === null ? last(series) : series[Math.min(step, series.length - 1)]);
  });
  const predicted = predictedNorms(result, layers).map((norm, i) => (measure === 'gradient' || norm === null ? norm : positive(norm * (layers[i]!.weightNorm[0] ?? Number.NaN))));
  const finite = [...medians, ...atStep, ...predicted].filter((v): v is number => v !== null);
  const t = DEFAULT_THRESHOLDS;
  const reference = flow ? positive(flow.medians[flow.reference]) : null;
  const vanishingBelow = reference !== null ? reference * t.vanishingRatio : null;
  const explodingFrom = reference !== null ? reference * t.explodingRatio : null;
  const floor = Math.min(...(vanishingBelow !== null ? [vanishingBelow / 10] : []), ...finite.map((v) => v / 10), 1e-8);
  const ceiling = Math.max(...(explodingFrom !== null ? [explodingFrom * 10] : []), ...finite.map((v) => v * 10));
  const categories = layers.map(layerLabel);
  const bands: NonNullable<MarkAreaComponentOption['data']> = [];
  if (flow && flow.reference > 0 && vanishingBelow !== null && explodingFrom !== null) {
    const from = categories[0]!;
    const to = categories[flow.reference - 1]!;
    bands.push([{ name: 'vanishing', xAxis: from, yAxis: floor, itemStyle: { color: '#2f6fd0' } }, { xAxis: to, yAxis: vanishingBelow }]);
    bands.push([{ name: 'exploding', xAxis: from, yAxis: explodingFrom, itemStyle: { color: '#d0352b' } }, { xAxis: to, yAxis: ceiling }]);
  }
  const series: LineSeriesOption[] = [
    {
      type: 'line',
      name: MEDIAN_SERIES,
      data: medians,
      symbolSize: 8,
      color: theme.accent,
      markArea: { silent: true, itemStyle: { opacity: 0.12 }, label: { color: theme.muted, position: 'insideTopLeft' }, data: bands },
    },
    { type: 'line', name: `step ${(step ?? result.steps - 1) + 1}`, data: atStep, symbolSize: 4, lineStyle: { width: 1 }, color: theme.muted },
  ];
  if (predicted.some((v) => v !== null)) series.push({ type: 'line', name: PREDICTED_SERIES, data: predicted, symbol: 'diamond', symbolSize: 7, lineStyle: { type: 'dotted' }, color: theme.warning });
  if (result.whatIf) {
    const other = result.whatIf;
    const otherMedian = (l: ProbeLayerResult) => {
      const match = matchIn(l, other);
      return positive(match ? median(flowSeries(match, measure)) : null);
    };
    series.push({ type: 'line', name: whatIfName(result), data: layers.map(otherMedian), symbolSize: 8, lineStyle: { type: 'dashed' }, color: theme.whatIf });
  }
  return {
    ...baseOption(theme),
    tooltip: { ...baseOption(theme).tooltip, trigger: 'axis', formatter: axisFormatter },
    legend: { show: true, textStyle: { color: theme.foreground }, bottom: 0 },
    // Room under the axis labels for a legend of up to three rows.
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- echarts 6 keeps containLabel; outerBounds would change the layout the panel tests measure
    grid: { left: 8, right: 16, top: 24, bottom: 64, containLabel: true },
    xAxis: { type: 'category', data: categories, ...axisStyle(theme), axisLabel: { color: theme.foreground, rotate: layers.length > 6 ? 40 : 0 }, triggerEvent: true },
    yAxis: { type: 'log', name: measure === 'gradient' ? '|∇W|' : '|∇W|·|W|', min: floor, max: ceiling, ...axisStyle(theme), axisLabel: { color: theme.foreground, formatter: (v: number) => formatNorm(v) } },
    series,
  };
}

/** The profile series the verdicts judge. */
export const MEDIAN_SERIES = 'probe (median over steps)';
export const PREDICTED_SERIES = 'predicted at initialization';

/** The predicted norms on the chart's scale, per path layer (null without a prediction for the layer). */
function predictedNorms(result: ProbeResult, path: ProbeLayerResult[]): (number | null)[] {
  const comparison = predictedBesideMeasured(result);
  return path.map((layer) => comparison?.layers.find((r) => r.id === layer.id)?.predictedGradNorm ?? null);
}

const whatIfName = (result: ProbeResult): string => `what if: ${result.whatIfTitle ?? 'fix'}`;

/** Axis tooltips: one line per series, the category first (all text; richText mode). */
function axisFormatter(params: unknown): string {
  const list = Array.isArray(params) ? (params as { axisValueLabel?: string; seriesName?: string; value?: unknown }[]) : [];
  if (list.length === 0) return '';
  const lines = list.map((p) => `${p.seriesName ?? ''}: ${typeof p.value === 'number' ? formatNorm(p.value) : '-'}`);
  return [list[0]!.axisValueLabel ?? '', ...lines].join('\n');
}

export function lossOption(result: ProbeResult, theme: ChartTheme): ChartOption {
  const finite = (values: number[]) => values.map((v) => (Number.isFinite(v) ? v : null));
  const series: LineSeriesOption[] = [{ type: 'line', name: 'probe', data: finite(result.loss), showSymbol: false, color: theme.accent }];
  if (result.whatIf) series.push({ type: 'line', name: whatIfName(result), data: finite(result.whatIf.loss), showSymbol: false, lineStyle: { type: 'dashed' }, color: theme.whatIf });
  return {
    ...baseOption(theme),
    tooltip: { ...baseOption(theme).tooltip, trigger: 'axis', formatter: axisFormatter },
    legend: { show: result.whatIf !== null, textStyle: { color: theme.foreground }, bottom: 0 },
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- echarts 6 keeps containLabel; outerBounds would change the layout the panel tests measure
    grid: { left: 8, right: 16, top: 24, bottom: result.whatIf ? 48 : 24, containLabel: true },
    xAxis: { type: 'category', name: 'step', nameLocation: 'middle', nameGap: 22, data: result.loss.map((_, i) => String(i + 1)), ...axisStyle(theme) },
    yAxis: { type: 'value', scale: true, ...axisStyle(theme) },
    series,
  };
}

/** Saturated and dead fractions per activation layer at the last step (what-if bars beside them). */
export function fractionsOption(result: ProbeResult, theme: ChartTheme): ChartOption {
  const layers = activationLayers(result);
  const lastOf = (values: number[] | null | undefined) => (values ? (last(values) ?? null) : null);
  const of = (run: ProbeResult, layer: ProbeLayerResult) => run.layers.find((l) => l.id === layer.id) ?? run.layers.find((l) => l.name === layer.name);
  const series: BarSeriesOption[] = [
    { type: 'bar', name: 'saturated', data: layers.map((l) => lastOf(l.saturated)), color: theme.warning },
    { type: 'bar', name: 'dead', data: layers.map((l) => lastOf(l.dead)), color: theme.error },
  ];
  if (result.whatIf) {
    const other = result.whatIf;
    series.push(
      { type: 'bar', name: 'saturated (what if)', data: layers.map((l) => lastOf(of(other, l)?.saturated)), color: theme.warning, itemStyle: { opacity: 0.45 } },
      { type: 'bar', name: 'dead (what if)', data: layers.map((l) => lastOf(of(other, l)?.dead)), color: theme.error, itemStyle: { opacity: 0.45 } },
    );
  }
  return {
    ...baseOption(theme),
    tooltip: { ...baseOption(theme).tooltip, trigger: 'axis', formatter: axisFormatter },
    legend: { textStyle: { color: theme.foreground }, bottom: 0 },
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- echarts 6 keeps containLabel; outerBounds would change the layout the panel tests measure
    grid: { left: 8, right: 16, top: 24, bottom: 28, containLabel: true },
    xAxis: { type: 'category', data: layers.map(layerLabel), ...axisStyle(theme), axisLabel: { color: theme.foreground, rotate: layers.length > 6 ? 40 : 0 }, triggerEvent: true },
    yAxis: { type: 'value', min: 0, max: 1, name: 'fraction', ...axisStyle(theme) },
    series,
  };
}
