/**
 * The probe panel: in a VS Code webview (talks to the extension through acquireVsCodeApi) or in the
 * standalone HTML report (state baked into the page, no host). Every message received is checked
 * with the guards of src/shared/webview-messages.ts; all page text is set with textContent.
 */
import { guardedListener } from '../../src/shared/message-guard';
import type { ProbeLayerResult, ProbeResult, ProbeVerdict } from '../../src/shared/probe';
import {
  emptyPanelState,
  isHostToWebviewMessage,
  isPanelState,
  type HostToWebviewMessage,
  type PanelState,
  type WebviewToHostMessage,
  type WhatIfChoice,
} from '../../src/shared/webview-messages';
import { gradNormColumns, metricColumns, rowLabel } from '../../src/shared/probe-format';
import { formatNorm } from './charts';
import { approxRatio, measureQualifier } from '../../src/shared/gradient-flow';
import { formatStd, predictedBesideMeasured } from '../../src/shared/prediction-gap';
import { CHARTS, type ChartName, type ChartRow } from './chart-table';
import { ProbeCharts, type ChartHosts } from './charts-view';
import { button, el, numberField } from './dom';
import { readChartTheme } from './theme';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

interface Host {
  /** False in the standalone report: controls that need the extension are hidden. */
  interactive: boolean;
  post(message: WebviewToHostMessage): void;
  load(): unknown;
  save(state: PanelState): void;
}

function connectHost(): Host {
  if (typeof acquireVsCodeApi === 'function') {
    const api = acquireVsCodeApi();
    return { interactive: true, post: (m) => { api.postMessage(m); }, load: () => api.getState(), save: (s) => { api.setState(s); } };
  }
  const baked = document.getElementById('gl-initial-state')?.textContent;
  let initial: unknown = null;
  try {
    initial = baked ? JSON.parse(baked) : null;
  } catch {
    initial = null;
  }
  return {
    interactive: false,
    post: (m) => {
      // The report has no host: a PNG export becomes a download, everything else is a no-op.
      if (m.type === 'export' && m.dataUrl) el('a', { attrs: { href: m.dataUrl, download: 'gradient-lens-probe.png' } }).click();
    },
    load: () => initial,
    save: () => {},
  };
}

const SEVERITY_LABEL: Record<string, string> = { error: 'error', warning: 'warning', information: 'info', hint: 'hint' };

/** One entry per rule in the fix list: its code, its what-if, and the lines it fires on. */
function whatIfLabel(choice: WhatIfChoice): string {
  const lines = choice.lines.length === 0 ? '' : ` (line${choice.lines.length > 1 ? 's' : ''} ${choice.lines.join(', ')})`;
  return `${choice.code}: ${choice.title}${lines}`;
}

class Panel {
  private state: PanelState;
  private charts: ProbeCharts | null = null;
  private status: HTMLElement;
  private receivedAt = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: Host,
  ) {
    const saved = host.load();
    this.state = isPanelState(saved) ? saved : emptyPanelState();
    this.status = el('p', { className: 'gl-status', attrs: { role: 'status' } });
    this.render();
    new MutationObserver(() => { this.redrawCharts(); }).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
  }

  receive(message: HostToWebviewMessage): void {
    switch (message.type) {
      case 'show-result':
        this.receivedAt = performance.now();
        this.state = { ...this.state, result: message.result, whatIfs: message.whatIfs, stale: false, modelId: message.modelId, documentUri: message.documentUri };
        this.host.save(this.state);
        this.render(() => { this.host.post({ type: 'charts-drawn', renderMs: performance.now() - this.receivedAt }); });
        if (message.streaming) this.setStatus(`Probing: ${message.result.steps} step${message.result.steps === 1 ? '' : 's'} measured so far…`, 'progress');
        break;
      case 'progress':
        this.setStatus(`Probing: ${message.phase}${message.steps ? ` ${message.step}/${message.steps}` : ''}…`, 'progress');
        break;
      case 'error':
        // The user's own cancel is not a failure: say so plainly, and keep showing the last result.
        if (message.error.kind === 'cancelled') {
          this.setStatus('Probe cancelled.', 'cancelled');
          break;
        }
        this.setStatus(`Probe failed (${message.error.kind}): ${message.error.message}${message.error.layer ? ` (layer ${message.error.layer.name}, line ${message.error.layer.line})` : ''}`, 'error');
        break;
      case 'stale':
        this.state = { ...this.state, stale: message.stale };
        this.host.save(this.state);
        this.root.classList.toggle('gl-stale', message.stale);
        if (message.stale) this.setStatus('The model changed since this probe: re-probe to update.', 'stale');
        break;
    }
  }

  private setStatus(text: string, kind: string): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  private revealLayer(layer: ProbeLayerResult): void {
    this.host.post({ type: 'reveal-layer', layerId: layer.id, line: layer.line });
  }

  private render(onFirstDrawn?: () => void): void {
    this.charts?.dispose();
    this.charts = null;
    this.root.replaceChildren();
    this.root.classList.toggle('gl-stale', this.state.stale);
    const result = this.state.result;
    if (!result) {
      this.root.append(el('p', { className: 'gl-empty', text: 'Run “Probe gradients” above a model to see its gradient flow here.' }), this.status);
      if (this.host.interactive) this.host.post({ type: 'ready' });
      return;
    }
    const hosts = Object.fromEntries(CHARTS.map((row) => [row.name, chartHost()])) as ChartHosts;
    this.root.append(
      this.header(result),
      this.status,
      this.host.interactive ? this.controls(result) : "",
      this.verdicts(result),
      el(
        'section',
        { className: 'gl-charts' },
        CHARTS.map((row: ChartRow<ChartName>) => chartSection(row, result, hosts[row.name], row.stepSlider ? this.stepSlider(result) : null)),
      ),
      this.prediction(result) ?? "",
      this.layerTable(result),
      this.notices(result) ?? "",
    );
    if (this.state.stale) this.setStatus('The model changed since this probe: re-probe to update.', 'stale');
    else if (this.status.dataset.kind !== 'error') this.setStatus('', '');
    this.charts = new ProbeCharts(hosts, (layer) => { this.revealLayer(layer); });
    this.charts.draw(result, this.state.profileStep, readChartTheme(), onFirstDrawn);
    if (this.host.interactive) this.host.post({ type: 'ready' });
  }

  private redrawCharts(): void {
    if (this.state.result && this.charts) this.charts.draw(this.state.result, this.state.profileStep, readChartTheme());
  }

  private header(result: ProbeResult): HTMLElement {
    const facts = [
      `${result.model.framework}, line ${result.model.line}`,
      `backend ${result.backend}`,
      `${result.steps} steps`,
      `batch ${result.batchSize}`,
      `seed ${result.seed}`,
      `input ${result.inputShape.join('×')}`,
      result.lossName,
      result.optimizer,
      `${result.durationMs} ms`,
    ];
    return el('header', {}, [
      el('h1', { text: `Gradient flow: ${result.model.name}` }),
      el('p', { className: 'gl-facts', text: facts.join(' · ') }),
      result.whatIf ? el('p', { className: 'gl-whatif-note', text: `Overlay (dashed): what if ${result.whatIfTitle ?? 'the fix'} — same seed and data.` }) : null,
    ]);
  }

  private controls(result: ProbeResult): HTMLElement {
    const steps = numberField('Steps', result.steps, 1, 1000);
    const seed = numberField('Seed', result.seed, 0, 2 ** 31 - 1);
    const reprobe = button('Re-probe', () => {
      const s = steps.read();
      const d = seed.read();
      if (s === null || d === null) { this.setStatus('Steps must be 1..1000 and the seed a whole number ≥ 0.', 'error'); return; }
      this.host.post({ type: 'reprobe', steps: s, seed: d });
    }, { className: 'gl-primary' });
    const group: (Node | null)[] = [steps.node, seed.node, reprobe];
    if (this.state.whatIfs.length > 0) {
      const select = el('select', { attrs: { 'aria-label': 'What-if fix' } });
      for (const choice of this.state.whatIfs) select.append(el('option', { text: whatIfLabel(choice), attrs: { value: String(choice.index) } }));
      // The choice survives the re-render that follows each probe.
      if (this.state.whatIfs.some((c) => c.index === this.state.chosenWhatIf)) select.value = String(this.state.chosenWhatIf);
      const chosen = () => this.state.whatIfs.find((c) => String(c.index) === select.value) ?? this.state.whatIfs[0]!;
      const apply = button('Apply fix', () => { this.host.post({ type: 'apply-fix', index: chosen().index }); }, { className: 'gl-secondary' });
      const syncApply = () => (apply.disabled = !chosen().canApply);
      select.addEventListener('change', () => {
        this.state = { ...this.state, chosenWhatIf: chosen().index };
        this.host.save(this.state);
        syncApply();
      });
      syncApply();
      const whatIf = button('What if', () => {
        const s = steps.read();
        const d = seed.read();
        if (s === null || d === null) { this.setStatus('Steps must be 1..1000 and the seed a whole number ≥ 0.', 'error'); return; }
        this.host.post({ type: 'run-what-if', index: chosen().index, steps: s, seed: d });
      }, { className: 'gl-secondary' });
      group.push(el('span', { className: 'gl-sep' }), select, whatIf, apply);
    }
    group.push(
      el('span', { className: 'gl-sep' }),
      button('Export JSON', () => { this.host.post({ type: 'export', format: 'json', dataUrl: null }); }, { className: 'gl-secondary' }),
      button('Export HTML', () => { this.host.post({ type: 'export', format: 'html', dataUrl: null }); }, { className: 'gl-secondary' }),
      button('Export PNG', () => { this.exportPng(); }, { className: 'gl-secondary' }),
    );
    return el('nav', { className: 'gl-controls', attrs: { 'aria-label': 'Probe controls' } }, group);
  }

  private exportPng(): void {
    if (!this.charts) return;
    this.host.post({ type: 'export', format: 'png', dataUrl: this.charts.toPng(readChartTheme()) });
  }

  private stepSlider(result: ProbeResult): HTMLElement {
    const lastStep = Math.max(0, result.steps - 1);
    const current = this.state.profileStep ?? lastStep;
    const input = el('input', { attrs: { type: 'range', min: '0', max: String(lastStep), value: String(current), 'aria-label': 'Step shown by the profile' } });
    const label = el('span', { text: `step ${current + 1}` });
    input.addEventListener('input', () => {
      const step = Number(input.value);
      this.state = { ...this.state, profileStep: step === lastStep ? null : step };
      this.host.save(this.state);
      label.textContent = `step ${step + 1}`;
      this.redrawCharts();
    });
    return el('label', { className: 'gl-slider' }, [input, label]);
  }

  private verdicts(result: ProbeResult): HTMLElement {
    const runs: [string, ProbeResult][] = [['This model', result]];
    if (result.whatIf) runs.push([`What if ${result.whatIfTitle ?? 'the fix'}`, result.whatIf]);
    return el('section', { className: 'gl-verdicts' }, [
      el('h2', { text: 'Verdicts' }),
      ...runs.map(([title, run]) =>
        el('div', { className: 'gl-run' }, [
          runs.length > 1 ? el('h3', { text: title }) : null,
          run.verdicts.length === 0
            ? el('p', { className: 'gl-healthy', text: 'Healthy gradient flow: no verdict.' })
            : el('ul', {}, run.verdicts.map((v) => this.verdict(v, run))),
        ]),
      ),
    ]);
  }

  private verdict(verdict: ProbeVerdict, run: ProbeResult): HTMLElement {
    const evidence = Object.entries(verdict.evidence).map(([key, value]) => `${key} = ${Array.isArray(value) ? value.map((n) => formatNorm(n)).join(', ') : typeof value === 'number' ? formatNorm(value) : String(value)}`);
    const layers = verdict.layers
      .map((name) => run.layers.find((l) => l.name === name))
      .filter((l): l is ProbeLayerResult => l !== undefined)
      .map((layer) => button(`${layer.name} (line ${layer.line})`, () => { this.revealLayer(layer); }, { className: 'gl-link', attrs: { 'data-layer': layer.id } }));
    return el('li', { className: `gl-verdict gl-${verdict.severity}` }, [
      el('span', { className: 'gl-badge', text: SEVERITY_LABEL[verdict.severity] ?? verdict.severity }),
      el('strong', { text: ` ${verdict.kind}: ` }),
      el('span', { text: verdict.message }),
      evidence.length ? el('div', { className: 'gl-evidence', text: evidence.join(' · ') }) : null,
      layers.length ? el('div', { className: 'gl-layers' }, layers) : null,
    ]);
  }

  private layerTable(result: ProbeResult): HTMLElement {
    const other = (layer: ProbeLayerResult) => result.whatIf?.layers.find((l) => l.id === layer.id);
    const comparison = predictedBesideMeasured(result);
    const predicted = comparison !== null && comparison.unavailable === null;
    const compared = new Map(comparison?.layers.map((row) => [row.id, row]) ?? []);
    const headings = [
      'line',
      'layer',
      'kind',
      'params',
      ...(predicted ? ['σ predicted', 'σ step 1', 'grad predicted'] : []),
      ...gradNormColumns([], result.steps).map((c) => c.heading),
      ...metricColumns(undefined).map((c) => c.heading),
      ...(result.whatIf ? ['what if, last'] : []),
    ];
    const rows = result.layers.map((layer) => {
      const row = compared.get(layer.id);
      const cells = [
        String(layer.line),
        null,
        layer.kind,
        String(layer.params),
        ...(predicted ? [stdCell(row?.predictedStd), stdCell(row?.measuredStd), formatNorm(row?.predictedGradNorm)] : []),
        ...gradNormColumns(layer.gradNorm, result.steps).map((c) => formatNorm(c.value)),
        ...metricColumns(layer).map((c) => c.text),
        ...(result.whatIf ? [formatNorm(other(layer)?.gradNorm.at(-1))] : []),
      ];
      return el(
        'tr',
        { className: row?.gap ? 'gl-gap' : '' },
        cells.map((text, i) => (i === 1 ? el('td', {}, [button(rowLabel(layer), () => { this.revealLayer(layer); }, { className: 'gl-link', attrs: { 'data-layer': layer.id } })]) : el('td', { className: i >= 3 ? 'gl-num' : '', text: text ?? '' }))),
      );
    });
    return el('section', { className: 'gl-table' }, [
      el('h2', { text: 'Layers' }),
      el('div', { className: 'gl-scroll' }, [el('table', {}, [el('thead', {}, [el('tr', {}, headings.map((h) => el('th', { text: h })))]), el('tbody', {}, rows)])]),
    ]);
  }

  /** Predicted at initialization beside measured at step 1, and why they differ when they do by more than a decade. */
  private prediction(result: ProbeResult): HTMLElement | null {
    const comparison = predictedBesideMeasured(result);
    if (!comparison) return null;
    const children: HTMLElement[] = [el('h2', { text: 'Predicted and measured' })];
    if (comparison.unavailable !== null) {
      children.push(el('p', { text: `No prediction for this model: ${comparison.unavailable}.` }));
      return el('section', { className: 'gl-prediction' }, children);
    }
    const { predicted, measured } = comparison.firstLast;
    const ratio = (log10: number | null) => (log10 === null ? '-' : approxRatio(10 ** log10));
    const grade = result.prediction?.grade ? ` (${result.prediction.grade})` : '';
    children.push(el('p', { className: 'gl-firstlast', text: `First / last hidden layer's gradient${measureQualifier(result.prediction?.measure ?? 'gradient')}: predicted ${ratio(predicted)}${grade} at initialization, measured ${ratio(measured)} at step 1.` }));
    if (comparison.gaps.length === 0) {
      children.push(el('p', { className: 'gl-agree', text: `Every layer within a decade of its prediction.` }));
    } else {
      children.push(el('p', { text: 'More than a decade apart:' }), el('ul', { className: 'gl-gaps' }, comparison.gaps.map((g) => el('li', { text: g }))));
      children.push(el('p', { text: 'What the measurement has that the prediction leaves out:' }), el('ul', { className: 'gl-reasons' }, comparison.reasons.map((r) => el('li', { text: r }))));
    }
    return el('section', { className: 'gl-prediction' }, children);
  }

  private notices(result: ProbeResult): HTMLElement | null {
    if (result.notices.length === 0) return null;
    return el('section', { className: 'gl-notices' }, [el('h2', { text: 'Notes' }), el('ul', {}, result.notices.map((n) => el('li', { text: n.line ? `line ${n.line}: ${n.message}` : n.message })))]);
  }

  pngTitles(): string[] {
    return this.charts?.titles() ?? [];
  }

  chartOption(name: ChartName): unknown {
    return this.charts?.option(name) ?? null;
  }

  chartPixel(name: ChartName, value: [number | string, number | string]): [number, number] | null {
    return this.charts?.pixelOf(name, value) ?? null;
  }
}

const stdCell = (value: number | null | undefined): string => (value === null || value === undefined || !Number.isFinite(value) ? '-' : formatStd(value));

function chartHost(): HTMLElement {
  return el('div', { className: 'gl-chart' });
}

function chartSection(row: ChartRow<ChartName>, result: ProbeResult, host: HTMLElement, extra: HTMLElement | null): HTMLElement {
  const title = row.title(result);
  host.dataset.chart = row.name;
  host.setAttribute('role', 'img');
  host.setAttribute('aria-label', title);
  // A height that depends on the result (CSSOM, which the CSP allows; no inline style attribute).
  if (row.height) host.style.height = `${row.height(result)}px`;
  return el('figure', { className: `gl-figure gl-figure-${row.name}` }, [el('figcaption', { text: title }), extra, host]);
}

const root = document.getElementById('gl-root');
if (root) {
  const panel = new Panel(root, connectHost());
  const receive = guardedListener('probe panel webview', isHostToWebviewMessage, (message) => { panel.receive(message); }, (problem) => { console.warn(problem); });
  window.addEventListener('message', (event: MessageEvent<unknown>) => { receive(event.data); });
  // Read-only inspection for the browser tests: the options ECharts actually holds.
  const inspect = {
    chartOption: (name: ChartName) => panel.chartOption(name),
    chartPixel: (name: ChartName, value: [number | string, number | string]) => panel.chartPixel(name, value),
    pngTitles: () => panel.pngTitles(),
  };
  (window as unknown as { gradientLensPanel: typeof inspect }).gradientLensPanel = inspect;
}
