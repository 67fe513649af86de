/**
 * The probe panel's charts, one row each: adding a chart is adding a row here (and its option
 * builder in charts.ts). The panel lays out a figure per row in this order, ProbeCharts draws and
 * wires clicks from it, and the browser tests walk it.
 */
import type { ProbeLayerResult, ProbeResult } from '../../src/shared/probe';
import { activationLayers, fractionsOption, heatmapOption, lossOption, profileOption, weightedLayers, type ChartOption } from './charts';
import type { ChartTheme } from './theme';
import { measureQualifier } from '../../src/shared/gradient-flow';
import { flowPathLayers, pathMeasure } from '../../src/shared/probe-flow';

export interface ChartView {
  /** The step the profile chart shows (null: the last). */
  profileStep: number | null;
}

export interface ChartRow<Name extends string = string> {
  name: Name;
  /** The figure's caption (also the chart's accessible label). */
  title: (result: ProbeResult) => string;
  option: (result: ProbeResult, view: ChartView, theme: ChartTheme) => ChartOption;
  /**
   * The layers a click picks, in the chart's data order; `pickBy` says how a clicked point names one:
   * by its data index, or (heat map cells [step, row, value]) by its row. Empty: nothing to click.
   */
  clickableLayers: (result: ProbeResult) => ProbeLayerResult[];
  pickBy: 'dataIndex' | 'row';
  /** Pixel height for this result, when it depends on the result (one readable row per layer). */
  height?: (result: ProbeResult) => number;
  /** The panel puts its step slider above this chart. */
  stepSlider?: true;
}

export const CHARTS = [
  {
    name: 'heatmap',
    title: () => 'Gradient norm per layer and step (log10)',
    option: (result, _view, theme) => heatmapOption(result, theme),
    clickableLayers: weightedLayers,
    pickBy: 'row',
    height: (result) => Math.max(220, 110 + 22 * weightedLayers(result).length),
  },
  {
    name: 'profile',
    title: (result) => `Gradient-flow profile: measured and predicted${measureQualifier(pathMeasure(flowPathLayers(result.layers)))}`,
    option: (result, view, theme) => profileOption(result, view.profileStep, theme),
    clickableLayers: (result) => flowPathLayers(result.layers),
    pickBy: 'dataIndex',
    stepSlider: true,
  },
  {
    name: 'loss',
    title: (result) => `Loss per step (${result.lossName})`,
    option: (result, _view, theme) => lossOption(result, theme),
    clickableLayers: () => [],
    pickBy: 'dataIndex',
  },
  {
    name: 'fractions',
    title: () => 'Saturated and dead units (last step)',
    option: (result, _view, theme) => fractionsOption(result, theme),
    clickableLayers: activationLayers,
    pickBy: 'dataIndex',
  },
] as const satisfies readonly ChartRow<'heatmap' | 'profile' | 'loss' | 'fractions'>[];

export type ChartName = (typeof CHARTS)[number]['name'];
