/**
 * The panel's charts come from one table (webview-ui/src/chart-table.ts): walking it, every row is a
 * captioned figure with a drawn chart, and a clickable row's axis lists exactly the layers a click
 * picks, in the same order (a click resolves to clickableLayers()[index]).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHARTS } from '../../webview-ui/src/chart-table';
import { layerLabel } from '../../webview-ui/src/charts';
import { chartOption, fixture, launch, openPanel, showResult, type Browser } from './harness';

let browser: Browser;

beforeAll(async () => {
  const buildError = inject('bundleBuildError');
  if (buildError) throw new Error(buildError);
  browser = await launch();
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unassigned when beforeAll failed to launch
  await browser?.close();
});

describe('chart table', () => {
  it('every row is a captioned, drawn chart; clickable rows list their layers on the axis a click reads', async () => {
    const result = fixture('keras-deep-sigmoid-whatif');
    const panel = await openPanel(browser);
    await panel.send(showResult(result));
    await panel.page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'charts-drawn'));

    const drawn = await panel.page.$$eval('[data-chart]', (hosts) => hosts.map((h) => (h as HTMLElement).dataset.chart));
    expect(drawn).toEqual(CHARTS.map((row) => row.name));
    let clickable = 0;
    for (const row of CHARTS) {
      const caption = await panel.page.locator(`figure.gl-figure-${row.name} figcaption`).textContent();
      expect(caption).toBe(row.title(result));
      const option = await chartOption(panel, row.name);
      expect((option.series as unknown[]).length, row.name).toBeGreaterThan(0);
      const layers = row.clickableLayers(result);
      if (layers.length === 0) continue;
      clickable++;
      const axis = (option[row.pickBy === 'row' ? 'yAxis' : 'xAxis'] as { data: string[] }[])[0];
      expect(axis?.data, row.name).toEqual(layers.map(layerLabel));
    }
    expect(clickable).toBeGreaterThanOrEqual(2);
    await panel.page.close();
  });
});
