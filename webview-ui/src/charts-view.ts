/**
 * The charts of a probe result (one per row of CHARTS): created with tree-shaken ECharts on canvas,
 * clickable (a layer click is reported through `onLayer`), resized with their container, re-themed on demand.
 */
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { ProbeLayerResult, ProbeResult } from '../../src/shared/probe';
import { CHARTS, type ChartName, type ChartRow, type ChartView } from './chart-table';
import { layerLabel } from './charts';
import type { ChartTheme } from './theme';

echarts.use([HeatmapChart, LineChart, BarChart, GridComponent, TooltipComponent, VisualMapComponent, LegendComponent, MarkAreaComponent, CanvasRenderer]);

/** Height of the title line above each chart in an exported PNG (CSS pixels). */
const TITLE_BAND_PX = 28;

export type ChartHosts = Record<ChartName, HTMLElement>;

interface ClickParams {
  componentType?: string;
  dataIndex?: number;
  value?: unknown;
}

export class ProbeCharts {
  private readonly charts = new Map<ChartName, echarts.ECharts>();
  private readonly resize = new ResizeObserver(() => { this.charts.forEach((c) => { c.resize(); }); });

  constructor(
    private readonly hosts: ChartHosts,
    private readonly onLayer: (layer: ProbeLayerResult) => void,
  ) {
    for (const host of Object.values(hosts)) this.resize.observe(host);
  }

  /** Draws every chart; `onFirstDrawn` runs once, when the first chart has finished rendering. */
  draw(result: ProbeResult, profileStep: number | null, theme: ChartTheme, onFirstDrawn?: () => void): void {
    const first = this.chart(CHARTS[0].name);
    if (onFirstDrawn) {
      const done = () => {
        first.off('finished', done);
        onFirstDrawn();
      };
      first.on('finished', done);
    }
    for (const row of CHARTS) this.set(row, result, { profileStep }, theme);
  }

  /** The option a chart actually holds (after ECharts merged it): what the tests inspect. */
  option(name: ChartName): unknown {
    return this.charts.get(name)?.getOption() ?? null;
  }

  /** Where a data point is drawn, in page pixels (for tests that click a real point). */
  pixelOf(name: ChartName, value: [number | string, number | string]): [number, number] | null {
    const chart = this.charts.get(name);
    if (!chart) return null;
    const point = chart.convertToPixel({ seriesIndex: 0 }, value as (number | string)[]) as number[] | undefined;
    if (!point) return null;
    const box = chart.getDom().getBoundingClientRect();
    return [box.left + point[0]!, box.top + point[1]!];
  }

  /** The title drawn over each chart in the PNG: its accessible name, the caption the panel shows. */
  titles(): string[] {
    return [...this.charts.values()].map((chart) => chart.getDom().getAttribute('aria-label') ?? '');
  }

  /**
   * All charts stacked into one PNG on the panel background, each under its title. ECharts renders
   * every layer of a chart (the heat map cells live on their own) into one canvas for it.
   */
  toPng(theme: ChartTheme): string {
    const ratio = window.devicePixelRatio || 1;
    const band = Math.round(TITLE_BAND_PX * ratio);
    const titles = this.titles();
    const parts = [...this.charts.values()].map((chart, i) => ({ title: titles[i] ?? '', canvas: chart.renderToCanvas({ backgroundColor: theme.background, pixelRatio: ratio }) }));
    const out = document.createElement('canvas');
    out.width = Math.max(1, ...parts.map((p) => p.canvas.width));
    out.height = Math.max(1, parts.reduce((sum, p) => sum + band + p.canvas.height, 0));
    const context = out.getContext('2d');
    if (!context) return out.toDataURL('image/png');
    context.fillStyle = theme.background;
    context.fillRect(0, 0, out.width, out.height);
    context.font = `600 ${Math.round(13 * ratio)}px ${theme.fontFamily}`;
    context.textBaseline = 'middle';
    let y = 0;
    for (const { title, canvas } of parts) {
      context.fillStyle = theme.foreground;
      context.fillText(title, Math.round(8 * ratio), y + band / 2);
      context.drawImage(canvas, 0, y + band);
      y += band + canvas.height;
    }
    return out.toDataURL('image/png');
  }

  dispose(): void {
    this.resize.disconnect();
    this.charts.forEach((c) => { c.dispose(); });
    this.charts.clear();
  }

  private chart(name: ChartName): echarts.ECharts {
    let chart = this.charts.get(name);
    if (!chart) {
      chart = echarts.init(this.hosts[name], null, { renderer: 'canvas' });
      this.charts.set(name, chart);
    }
    return chart;
  }

  private set(row: ChartRow<ChartName>, result: ProbeResult, view: ChartView, theme: ChartTheme): void {
    const chart = this.chart(row.name);
    chart.off('click');
    chart.setOption(row.option(result, view, theme), { notMerge: true });
    const layers = row.clickableLayers(result);
    if (layers.length === 0) return;
    const labels = layers.map(layerLabel);
    chart.on('click', (raw: unknown) => {
      const params = raw as ClickParams;
      let layer: ProbeLayerResult | undefined;
      if (params.componentType === 'series') {
        // Heat map cells are [step, row, value]; line and bar points are indexed by layer.
        layer = row.pickBy === 'row' && Array.isArray(params.value) ? layers[Number(params.value[1])] : layers[params.dataIndex ?? -1];
      } else if (typeof params.value === 'string') {
        layer = layers[labels.indexOf(params.value)];
      }
      if (layer) this.onLayer(layer);
    });
  }
}
