/**
 * The probe panel UI in real headless Chromium against probe results recorded from the real probe
 * (test/webview/fixtures/README.md says how). Screenshots land in test-results/webview/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatProbeReportHtml } from '../../src/probe/report-html';
import type { ProbeResult } from '../../src/shared/probe';
import { emptyPanelState, isRevealLayerMessage, type PanelState } from '../../src/shared/webview-messages';
import { MEDIAN_SERIES, PREDICTED_SERIES } from '../../webview-ui/src/charts';
import { formatGradNorm, gradNormColumns, metricColumns } from '../../src/shared/probe-format';
import { flowPathLayers } from '../../src/shared/probe-flow';
import { chartOption, fixture, launch, openPanel, ROOT, showResult, type Browser, type PanelPage } from './harness';
import { defined } from '../defined';

const SHOTS = join(ROOT, 'test-results', 'webview');
const HOSTILE = '<img src=x onerror=alert(1)>';

let browser: Browser;

beforeAll(async () => {
  const buildError = inject('bundleBuildError');
  if (buildError) throw new Error(buildError);
  mkdirSync(SHOTS, { recursive: true });
  browser = await launch();
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unassigned when beforeAll failed to launch
  await browser?.close();
});

const deep = () => fixture('keras-deep-sigmoid-whatif');
const withoutWhatIf = (r: ProbeResult): ProbeResult => ({ ...r, whatIf: null, whatIfTitle: null });
const weighted = (r: ProbeResult) => r.layers.filter((l) => l.gradNorm.length > 0);

async function waitForMessage(panel: PanelPage, type: string): Promise<Record<string, unknown>> {
  await panel.page.waitForFunction((t) => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === t), type);
  return (await panel.posted()).find((m) => (m as { type: string }).type === type) as Record<string, unknown>;
}

type Series = { name?: string; data: unknown[] };

describe('probe panel in Chromium', () => {
  it('draws the heat map, profile, loss and fractions with one row per weighted layer and one column per step', async () => {
    const result = withoutWhatIf(deep());
    const panel = await openPanel(browser);
    await waitForMessage(panel, 'ready');
    await panel.send(showResult(result));
    const drawn = await waitForMessage(panel, 'charts-drawn');
    expect(typeof drawn.renderMs).toBe('number');

    const heat = await chartOption(panel, 'heatmap');
    const rows = weighted(result);
    expect(rows).toHaveLength(11);
    expect((heat.yAxis as { data: string[] }[])[0]!.data).toEqual(rows.map((l) => `${l.name} · L${l.line}`));
    expect((heat.xAxis as { data: string[] }[])[0]!.data).toHaveLength(result.steps);
    const cells = (heat.series as Series[])[0]!.data as [number, number, number][];
    expect(cells).toHaveLength(rows.length * result.steps);
    // The first layer's first cell holds log10 of its recorded gradient norm.
    expect(cells[0]![2]).toBeCloseTo(Math.log10(rows[0]!.gradNorm[0]!), 6);

    const profile = await chartOption(panel, 'profile');
    // Median over steps (judged), the slider's step, the prediction: one point per layer of the gradient-flow path.
    expect((profile.series as Series[]).map((s) => s.name)).toEqual([MEDIAN_SERIES, `step ${result.steps}`, PREDICTED_SERIES]);
    expect((profile.series as Series[]).map((s) => s.data.length)).toEqual([rows.length, rows.length, rows.length]);
    expect((profile.yAxis as { type: string }[])[0]!.type).toBe('log');
    const bands = (profile.series as { markArea: { data: [{ name: string }, unknown][] } }[])[0]!.markArea.data.map((d) => d[0].name);
    expect(bands).toEqual(['vanishing', 'exploding']);
    expect(((await chartOption(panel, 'loss')).series as Series[])[0]!.data).toHaveLength(result.loss.length);
    expect(((await chartOption(panel, 'fractions')).series as Series[]).map((s) => s.name)).toEqual(['saturated', 'dead']);

    // The canvases are really painted (not blank): count distinct colours in the heat map.
    const colours = await panel.page.evaluate(() => {
      // In the page: a missing canvas or context is a thrown error, which fails the test.
      const canvas = document.querySelector<HTMLCanvasElement>('[data-chart="heatmap"] canvas');
      const context = canvas?.getContext('2d');
      if (!canvas || !context) throw new Error('no heat-map canvas');
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(10);
    expect(await panel.page.getByText('vanishing:', { exact: false }).count()).toBeGreaterThan(0);
    expect(await panel.page.locator('.gl-verdict').count()).toBe(result.verdicts.length);
    await panel.page.screenshot({ path: join(SHOTS, 'panel-light.png'), fullPage: true });
    expect(await panel.violations()).toEqual([]);
    await panel.page.close();
  });

  it('shows predicted beside measured: table columns, the predicted profile on the chart, and agreement within a decade', async () => {
    const result = withoutWhatIf(deep());
    const panel = await openPanel(browser);
    await panel.send(showResult(result));
    await waitForMessage(panel, 'charts-drawn');
    const headings = await panel.page.locator('.gl-table th').allTextContents();
    expect(headings).toEqual(['line', 'layer', 'kind', 'params', 'σ predicted', 'σ step 1', 'grad predicted', ...gradNormColumns([], result.steps).map((c) => c.heading), ...metricColumns(undefined).map((c) => c.heading)]);
    // The first layer's predicted gradient is the output layer's step-1 norm times the predicted ratio.
    const path = weighted(result);
    const predictedFirst = defined(path.at(-1)).gradNorm[0]! * 10 ** defined(defined(defined(result.prediction).layers.find((l) => l.id === path[0]!.id)).log10GradRatio);
    const firstRow = await panel.page.locator('.gl-table tbody tr').first().locator('td').allTextContents();
    expect(firstRow[6]).toBe(formatGradNorm(predictedFirst));
    const series = (await chartOption(panel, 'profile')).series as Series[];
    const predicted = defined(series.find((s) => s.name === PREDICTED_SERIES)).data as number[];
    expect(predicted[0]).toBeCloseTo(predictedFirst, 12);
    // Vanishing predicted and measured: the first layer's point sits decades below the output layer's on both series.
    expect(Math.log10(predicted[0]! / defined(predicted.at(-1)))).toBeLessThan(-5);
    expect(await panel.page.locator('.gl-prediction .gl-firstlast').textContent()).toMatch(/^First \/ last hidden layer's gradient: predicted ~\de-6 \(vanishing\) at initialization, measured ~\de-6 at step 1\.$/);
    expect(await panel.page.locator('.gl-prediction .gl-agree').count()).toBe(1);
    expect(await panel.page.locator('tr.gl-gap').count()).toBe(0);
    // README picture: the profile with its predicted series, the comparison and the table.
    const top = defined((await panel.page.locator('.gl-figure-profile').boundingBox()));
    const bottom = defined((await panel.page.locator('.gl-table').boundingBox()));
    await panel.page.screenshot({ path: join(SHOTS, 'panel-predicted-measured.png'), fullPage: true, clip: { x: 0, y: top.y - 8, width: 900, height: bottom.y + bottom.height - top.y + 16 } });
    expect(await panel.violations()).toEqual([]);
    await panel.page.close();
  });

  it('explains a gap of more than a decade from the model: BatchNorm batch statistics and raw pixels', async () => {
    const result = fixture('batchnorm-after-activation-raw');
    const panel = await openPanel(browser);
    await panel.send(showResult(result));
    await waitForMessage(panel, 'charts-drawn');
    const gaps = await panel.page.locator('.gl-prediction .gl-gaps li').allTextContents();
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps[0]).toMatch(/^0 \(line 5\): output std predicted 0\.59, measured \d+$/);
    const reasons = await panel.page.locator('.gl-prediction .gl-reasons li').allTextContents();
    expect(reasons.map((r) => r.split(':')[0])).toEqual(['batch statistics', 'data not standardized', 'data']);
    // The row of the layer that is off is marked.
    expect(await panel.page.locator('tr.gl-gap').count()).toBeGreaterThan(0);
    await panel.page.screenshot({ path: join(SHOTS, 'panel-prediction-gap.png'), fullPage: true });
    await panel.page.close();
  });

  it('draws the profile at equal weight norm when every layer judged feeds a BatchNorm, as the verdicts judge it', async () => {
    const result = fixture('torch-bn-rescaled');
    const panel = await openPanel(browser);
    await panel.send(showResult(result));
    await waitForMessage(panel, 'charts-drawn');
    const profile = await chartOption(panel, 'profile');
    expect((profile.yAxis as { name: string }[])[0]!.name).toBe('|∇W|·|W|');
    // The judged series is |∇W|·|W| per layer: the median over the steps of their product.
    const path = flowPathLayers(result.layers);
    const judged = defined((profile.series as Series[]).find((s) => s.name === MEDIAN_SERIES)).data as number[];
    const products = path[0]!.gradNorm.map((g, t) => g * path[0]!.weightNorm[t]!).sort((a, b) => a - b);
    expect(judged[0]).toBeCloseTo(products[Math.floor(products.length / 2)]!, 9);
    // Raw norms would put the first layer in the exploding band; at equal weight norm it is within a decade of the last hidden layer.
    expect(path[0]!.gradNorm[0]! / path[path.length - 2]!.gradNorm[0]!).toBeGreaterThan(70);
    expect(Math.abs(Math.log10(judged[0]! / judged[path.length - 2]!))).toBeLessThan(1);
    expect(await panel.page.locator('.gl-figure-profile figcaption').textContent()).toBe('Gradient-flow profile: measured and predicted at equal weight norm');
    expect(await panel.page.locator('.gl-prediction .gl-firstlast').textContent()).toMatch(/^First \/ last hidden layer's gradient at equal weight norm: predicted ~[\d.]+ \(healthy\) at initialization, measured ~[\d.]+ at step 1\.$/);
    await panel.page.screenshot({ path: join(SHOTS, 'panel-equal-weight-norm.png'), fullPage: true });
    await panel.page.close();
  });

  it('the profile bands and the verdict list read one thing: the layers inside the vanishing band are the verdict\'s, at every slider step', async () => {
    const result = withoutWhatIf(deep());
    const verdict = defined(result.verdicts.find((v) => v.kind === 'vanishing'));
    expect(verdict.layers.length).toBeGreaterThan(0);
    const panel = await openPanel(browser);
    await panel.send(showResult(result));
    await waitForMessage(panel, 'charts-drawn');
    const inBand = async () => {
      const option = await chartOption(panel, 'profile');
      const categories = (option.xAxis as { data: string[] }[])[0]!.data;
      const [judged] = option.series as { data: (number | null)[]; markArea: { data: [{ name: string; xAxis: string; yAxis: number }, { xAxis: string; yAxis: number }][] } }[];
      const band = defined(defined(judged).markArea.data.find((d) => d[0].name === 'vanishing'));
      const last = categories.indexOf(band[1].xAxis);
      return { band, names: categories.filter((_, i) => i <= last && defined(judged).data[i]! < band[1].yAxis).map((c) => c.split(' · ')[0]) };
    };
    const atLast = await inBand();
    expect(atLast.names).toEqual(verdict.layers);
    // Moving the step slider to step 1 changes the step series, never the bands or what lies in them.
    await panel.page.locator('.gl-slider input').fill('0');
    await panel.page.waitForFunction(() => document.querySelector('.gl-slider span')?.textContent === 'step 1');
    const atFirst = await inBand();
    expect(atFirst).toEqual(atLast);
    expect(((await chartOption(panel, 'profile')).series as Series[])[1]!.name).toBe('step 1');
    await panel.page.close();
  });

  it('a click on a heat-map cell and on a table row posts reveal-layer for that layer', async () => {
    const result = withoutWhatIf(deep());
    const panel = await openPanel(browser);
    await panel.send(showResult(result));
    await waitForMessage(panel, 'charts-drawn');
    const target = weighted(result)[3]!;
    const pixel = await panel.page.evaluate(() => (window as unknown as { gradientLensPanel: { chartPixel(n: string, v: [number, number]): [number, number] | null } }).gradientLensPanel.chartPixel('heatmap', [5, 3]));
    expect(pixel).not.toBeNull();
    await panel.page.mouse.click(defined(pixel)[0], defined(pixel)[1]);
    await waitForMessage(panel, 'reveal-layer');
    const reveals = (await panel.posted()).filter(isRevealLayerMessage);
    expect(reveals).toEqual([{ type: 'reveal-layer', layerId: target.id, line: target.line }]);

    // Keyboard: focus the table's button for the first layer and press Enter.
    const first = result.layers[0]!;
    await panel.page.locator(`.gl-table button[data-layer="${first.id}"]`).focus();
    await panel.page.keyboard.press('Enter');
    await panel.page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === 'reveal-layer').length === 2);
    expect((await panel.posted()).filter(isRevealLayerMessage).at(-1)).toEqual({ type: 'reveal-layer', layerId: first.id, line: first.line });
    await panel.page.close();
  });

  it('What if sends the Steps and Seed fields, and the chosen fix stays chosen after the result comes back', async () => {
    const result = deep();
    const choices = [{ index: 0, code: 'GL101', title: defined(result.whatIfTitle), canApply: true, lines: [9] }, { index: 1, code: 'GL203', title: 'no text fix', canApply: false, lines: [7, 12] }];
    const panel = await openPanel(browser);
    await panel.send(showResult(result, choices));
    await waitForMessage(panel, 'charts-drawn');
    expect(await panel.page.locator('select option').allTextContents()).toEqual([`GL101: ${result.whatIfTitle} (line 9)`, 'GL203: no text fix (lines 7, 12)']);
    await panel.page.getByLabel('Steps').fill('12');
    await panel.page.getByLabel('Seed').fill('3');
    await panel.page.selectOption('select', '1');
    await panel.page.getByRole('button', { name: 'What if', exact: true }).click();
    const posted = (await panel.posted()) as { type: string }[];
    expect(posted.filter((m) => m.type === 'run-what-if')).toEqual([{ type: 'run-what-if', index: 1, steps: 12, seed: 3 }]);
    // The host answers with the new probe (12 steps, seed 3): the form shows what was asked, the choice is kept.
    await panel.send(showResult({ ...result, steps: 12, seed: 3 }, choices));
    await panel.page.waitForFunction(() => document.querySelector<HTMLInputElement>('input[type=number]')?.value === '12');
    expect(await panel.page.locator('select').inputValue()).toBe('1');
    expect(await panel.page.getByLabel('Seed').inputValue()).toBe('3');
    await panel.page.close();
  });

  it('overlays a what-if run on the profile, loss and fraction charts and lists both verdict sets', async () => {
    const result = deep();
    expect(result.whatIf).not.toBeNull();
    const panel = await openPanel(browser);
    await panel.send(showResult(result, [{ index: 0, code: 'GL101', title: defined(result.whatIfTitle), canApply: true, lines: [9] }, { index: 1, code: 'GL203', title: 'no text fix', canApply: false, lines: [7, 12] }]));
    await waitForMessage(panel, 'charts-drawn');
    const profile = (await chartOption(panel, 'profile')).series as Series[];
    expect(profile.map((s) => s.name)).toEqual([MEDIAN_SERIES, `step ${result.steps}`, PREDICTED_SERIES, `what if: ${result.whatIfTitle}`]);
    // The what-if run's first layer has a far larger gradient than the vanishing original.
    const [orig, fixed] = [profile[0]!.data[0] as number, profile[3]!.data[0] as number];
    expect(fixed / orig).toBeGreaterThan(1e3);
    expect(((await chartOption(panel, 'loss')).series as Series[])).toHaveLength(2);
    expect(((await chartOption(panel, 'fractions')).series as Series[])).toHaveLength(4);
    expect(await panel.page.locator('.gl-run').count()).toBe(2);
    await panel.page.screenshot({ path: join(SHOTS, 'panel-what-if.png'), fullPage: true });

    await panel.page.getByRole('button', { name: 'What if', exact: true }).click();
    await panel.page.getByRole('button', { name: 'Apply fix' }).click();
    await panel.page.selectOption('select', '1');
    expect(await panel.page.getByRole('button', { name: 'Apply fix' }).isDisabled()).toBe(true);
    await panel.page.getByRole('button', { name: 'Export PNG' }).click();
    const posted = (await panel.posted()) as { type: string }[];
    expect(posted.filter((m) => m.type === 'run-what-if')).toEqual([{ type: 'run-what-if', index: 0, steps: result.steps, seed: result.seed }]);
    expect(posted.filter((m) => m.type === 'apply-fix')).toEqual([{ type: 'apply-fix', index: 0 }]);
    const png = posted.find((m) => m.type === 'export') as unknown as { format: string; dataUrl: string };
    expect(png.format).toBe('png');
    expect(png.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    expect(png.dataUrl.length).toBeGreaterThan(20_000);
    await panel.page.close();
  });

  it('follows the VS Code theme: light, dark and high-contrast variables restyle the page and the charts', async () => {
    const panel = await openPanel(browser);
    await panel.send(showResult(deep()));
    await waitForMessage(panel, 'charts-drawn');
    const themes = [
      { cls: 'vscode-dark', fg: '#cccccc', bg: '#1f1f1f', shot: 'panel-dark.png' },
      { cls: 'vscode-high-contrast', fg: '#ffffff', bg: '#000000', shot: 'panel-high-contrast.png' },
      { cls: 'vscode-light', fg: '#3b3b3b', bg: '#ffffff', shot: null },
    ];
    for (const theme of themes) {
      await panel.page.evaluate(({ cls, fg, bg }) => {
        const html = document.documentElement;
        html.style.setProperty('--vscode-foreground', fg);
        html.style.setProperty('--vscode-editor-foreground', fg);
        html.style.setProperty('--vscode-editor-background', bg);
        document.body.className = cls;
      }, theme);
      await panel.page.waitForFunction((fg) => {
        const option = (window as unknown as { gradientLensPanel: { chartOption(n: string): { textStyle?: { color?: string } } } }).gradientLensPanel.chartOption('loss');
        return option.textStyle?.color === fg;
      }, theme.fg);
      const bodyBg = await panel.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const hex = `#${defined(bodyBg.match(/\d+/g)).slice(0, 3).map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`;
      expect(hex).toBe(theme.bg);
      if (theme.shot) await panel.page.screenshot({ path: join(SHOTS, theme.shot), fullPage: true });
    }
    await panel.page.close();
  });

  it('shows a hostile layer name as text: no element is created from it and no dialog fires', async () => {
    const result = withoutWhatIf(deep());
    const hostile: ProbeResult = {
      ...result,
      model: { ...result.model, name: HOSTILE },
      layers: result.layers.map((l, i) => (i === 0 ? { ...l, name: HOSTILE } : l)),
      verdicts: result.verdicts.map((v) => ({ ...v, message: `${HOSTILE} ${v.message}`, layers: [HOSTILE, ...v.layers.slice(1)] })),
      notices: [{ severity: 'information', message: HOSTILE, line: 3 }],
    };
    const panel = await openPanel(browser);
    await panel.send(showResult(hostile, [{ index: 0, code: 'GL101', title: HOSTILE, canApply: true, lines: [1] }]));
    await waitForMessage(panel, 'charts-drawn');
    // Hover the first heat-map row so the tooltip (with the name) is drawn too.
    const pixel = await panel.page.evaluate(() => (window as unknown as { gradientLensPanel: { chartPixel(n: string, v: [number, number]): [number, number] | null } }).gradientLensPanel.chartPixel('heatmap', [0, 0]));
    await panel.page.mouse.move(defined(pixel)[0], defined(pixel)[1]);
    await panel.page.waitForTimeout(300);
    expect(await panel.page.locator('img').count()).toBe(0);
    expect(await panel.page.locator('h1').textContent()).toBe(`Gradient flow: ${HOSTILE}`);
    expect(await panel.page.locator(`.gl-table button[data-layer="${hostile.layers[0]!.id}"]`).textContent()).toBe(HOSTILE);
    expect(await panel.page.locator('select option').first().textContent()).toBe(`GL101: ${HOSTILE} (line 1)`);
    expect(await panel.page.locator('.gl-notices li').textContent()).toBe(`line 3: ${HOSTILE}`);
    expect(panel.dialogs).toEqual([]);
    expect(await panel.violations()).toEqual([]);
    await panel.page.close();
  });

  it('restores from getState after a reload and ignores malformed messages', async () => {
    const result = withoutWhatIf(deep());
    const saved: PanelState = { ...emptyPanelState(), result, stale: true, modelId: 'model@6', documentUri: 'file:///w/m.py' };
    const panel = await openPanel(browser, { savedState: saved });
    await panel.page.waitForSelector('[data-chart="heatmap"] canvas');
    expect(((await chartOption(panel, 'heatmap')).yAxis as { data: string[] }[])[0]!.data).toHaveLength(weighted(result).length);
    expect(await panel.page.locator('.gl-status').textContent()).toContain('model changed');
    await panel.send({ type: 'show-result', result: { version: 2 }, whatIfs: [], modelId: 'x', documentUri: 'y' } as never);
    await panel.send({ type: 'error' } as never);
    await panel.page.waitForTimeout(100);
    expect(await panel.page.locator('h1').textContent()).toBe(`Gradient flow: ${result.model.name}`);
    await panel.page.close();
  });

  it('Export PNG holds the heat map cells and a title over each chart', async () => {
    const result = withoutWhatIf(deep());
    const panel = await openPanel(browser);
    await panel.send(showResult(result, []));
    await waitForMessage(panel, 'charts-drawn');
    await panel.page.getByRole('button', { name: 'Export PNG' }).click();
    const png = defined(defined(((await panel.posted()) as { type: string; dataUrl?: string }[]).find((m) => m.type === 'export')).dataUrl);
    const heatmapArea = await panel.page.evaluate(() => {
      const chart = document.querySelector('[data-chart="heatmap"]');
      if (!chart) throw new Error('no heat-map chart');
      const box = chart.getBoundingClientRect();
      return box.width * box.height * window.devicePixelRatio ** 2;
    });
    // Decode the PNG in the page and measure it: colourful pixels are heat-map cells (axes, text and
    // background are grey), and each chart's title band is a row of text above its chart.
    const measured = await panel.page.evaluate(async (url) => {
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      let colourful = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 60) colourful++;
      return { colourful, width: image.width, height: image.height };
    }, png);
    expect(measured.colourful).toBeGreaterThan(0.3 * heatmapArea);
    expect(await panel.page.evaluate(() => (window as unknown as { gradientLensPanel: { pngTitles(): string[] } }).gradientLensPanel.pngTitles())).toEqual([
      'Gradient norm per layer and step (log10)',
      'Gradient-flow profile: measured and predicted',
      `Loss per step (${result.lossName})`,
      'Saturated and dead units (last step)',
    ]);
    await panel.page.close();
  });

  it('a cancelled probe is reported as cancelled, not as a failure, and the last result stays', async () => {
    const result = withoutWhatIf(deep());
    const panel = await openPanel(browser);
    await panel.send(showResult(result, []));
    await waitForMessage(panel, 'charts-drawn');
    const status = panel.page.locator('.gl-status');
    await panel.send({ type: 'error', error: { kind: 'cancelled', message: 'the probe was cancelled', layer: null } });
    await panel.page.waitForFunction(() => document.querySelector('.gl-status')?.textContent === 'Probe cancelled.');
    expect(await status.getAttribute('data-kind')).toBe('cancelled');
    expect(await panel.page.locator('h1').textContent()).toBe(`Gradient flow: ${result.model.name}`);
    await panel.send({ type: 'error', error: { kind: 'shape', message: 'the input shape is unknown', layer: null } });
    await panel.page.waitForFunction(() => document.querySelector('.gl-status')?.textContent.startsWith('Probe failed (shape)') === true);
    expect(await status.getAttribute('data-kind')).toBe('error');
    await panel.page.close();
  });

  it('renders the standalone report from the state baked into the page, without host controls, readable at 360 px', async () => {
    const result = deep();
    const panel = await openPanel(browser, { standaloneState: { ...emptyPanelState(), result } });
    await panel.page.setViewportSize({ width: 360, height: 1400 });
    await panel.page.waitForSelector('[data-chart="heatmap"] canvas');
    expect(await panel.page.locator('.gl-controls').count()).toBe(0);
    expect(((await chartOption(panel, 'profile')).series as Series[])).toHaveLength(4);
    const overflow = await panel.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await panel.page.screenshot({ path: join(SHOTS, 'report-narrow.png'), fullPage: true });
    expect(await panel.violations()).toEqual([]);
    await panel.page.close();
  });

  it('the CLI report (formatProbeReportHtml) is the same panel, self-contained, opened from a file', async () => {
    const result = deep();
    const hostile: ProbeResult = { ...result, layers: result.layers.map((l, i) => (i === 1 ? { ...l, name: HOSTILE } : l)) };
    const dir = mkdtempSync(join(tmpdir(), 'gl-report-'));
    try {
      const file = join(dir, 'report.html');
      writeFileSync(file, formatProbeReportHtml(hostile, join(ROOT, 'dist', 'webview')));
      const page = await browser.context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      await page.waitForSelector('[data-chart="heatmap"] canvas');
      expect(await page.locator('.gl-table button').nth(1).textContent()).toBe(HOSTILE);
      expect(await page.locator('img').count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'))).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
