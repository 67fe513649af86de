/**
 * A self-contained HTML report of a probe (no script, no remote content): a layers x steps heat map of
 * log10 gradient norm, the per-layer table, the loss curve and the verdicts; a what-if run follows.
 * Every string from the analyzed code is escaped.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nonceFrom, reportPageHtml } from '../shared/panel-page';
import type { ProbeResult } from '../shared/probe';
import { gradNormColumns, metricColumns } from '../shared/probe-format';
import { barWidth, comparisonLines, formatNumber } from './report-text';
import { predictedBesideMeasured } from '../shared/prediction-gap';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Colour of a gradient norm on a log scale centred on 1: green near 1, towards blue as it vanishes
 * (1e-8 and below: deep blue), towards red as it explodes (1e3 and above: red), black for NaN/Inf.
 */
function heatColour(norm: number | undefined): string {
  if (norm === undefined) return '#eee';
  if (!Number.isFinite(norm)) return '#000';
  const log = Math.max(-8, Math.min(3, Math.log10(Math.max(norm, 1e-30))));
  const hue = log <= 0 ? 120 + (-log / 8) * 120 : 120 - (log / 3) * 120;
  return `hsl(${Math.round(hue)}, 70%, 45%)`;
}

function heatMap(result: ProbeResult): string {
  const weighted = result.layers.filter((l) => l.gradNorm.length > 0);
  const cell = 10;
  const labelWidth = 160;
  const rows = weighted
    .map((layer, r) => {
      const cells = layer.gradNorm.map((g, s) => `<rect x="${labelWidth + s * cell}" y="${r * cell}" width="${cell}" height="${cell}" fill="${heatColour(g)}"><title>${escapeHtml(layer.name)} step ${s + 1}: ${formatNumber(g)}</title></rect>`).join('');
      return `<text x="0" y="${r * cell + 9}" font-size="9">${escapeHtml(layer.name)} (${layer.line})</text>${cells}`;
    })
    .join('');
  return `<svg width="${labelWidth + result.steps * cell}" height="${weighted.length * cell}" role="img" aria-label="gradient norm heat map">${rows}</svg>`;
}

function lossCurve(loss: number[]): string {
  const finite = loss.filter(Number.isFinite);
  if (finite.length < 2) return '';
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const width = 300;
  const height = 60;
  const points = loss
    .map((l, i) => (Number.isFinite(l) ? `${((i / (loss.length - 1)) * width).toFixed(1)},${(height - ((l - min) / (max - min || 1)) * height).toFixed(1)}` : null))
    .filter((p) => p !== null)
    .join(' ');
  return `<svg width="${width}" height="${height}" role="img" aria-label="loss"><polyline fill="none" stroke="#36c" stroke-width="1.5" points="${points}"/></svg>`;
}

function run(result: ProbeResult, heading: string): string {
  const rows = result.layers
    .map((l) => {
      const last = l.gradNorm[l.gradNorm.length - 1];
      const bar = l.gradNorm.length ? `<span class="bar" style="width:${barWidth(last) * 6}px"></span>` : '';
      return `<tr><td>${l.line}</td><td>${escapeHtml(l.name)}</td><td>${escapeHtml(l.kind)}</td><td class="n">${l.params}</td>${gradNormColumns(l.gradNorm, result.steps).map((c) => `<td class="n">${formatNumber(c.value)}</td>`).join('')}<td>${bar}</td>${metricColumns(l).map((c) => `<td class="n">${c.text}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const verdicts = result.verdicts.length
    ? `<ul>${result.verdicts.map((v) => `<li class="${escapeHtml(v.severity)}"><b>${escapeHtml(v.kind)}</b> (${escapeHtml(v.severity)}): ${escapeHtml(v.message)}</li>`).join('')}</ul>`
    : '<p>Healthy gradient flow: no verdict.</p>';
  const compared = comparisonLines(predictedBesideMeasured(result), result);
  const prediction = compared.length ? `<h3>Predicted and measured</h3><pre>${escapeHtml(compared.join('\n'))}</pre>` : '';
  const notices = result.notices.length ? `<ul class="notes">${result.notices.map((n) => `<li>${escapeHtml(n.message)}</li>`).join('')}</ul>` : '';
  return `<section>
<h2>${escapeHtml(heading)}</h2>
<p>${escapeHtml(result.model.name)} (${escapeHtml(result.model.framework)}, line ${result.model.line}) · backend ${escapeHtml(result.backend)} · ${result.steps} steps · batch ${result.batchSize} · seed ${result.seed} · ${result.durationMs} ms · input ${escapeHtml(result.inputShape.join('x'))} · ${escapeHtml(result.lossName)} · ${escapeHtml(result.optimizer)}</p>
<h3>Verdicts</h3>${verdicts}
${prediction}
<h3>Gradient norm per layer and step</h3><p class="notes">log scale: blue = vanishing (1e-8), green = about 1, red = exploding (1e3), black = NaN/Inf</p>${heatMap(result)}
<h3>Loss</h3>${lossCurve(result.loss)}
<h3>Layers</h3>
<table><thead><tr><th>line</th><th>layer</th><th>kind</th><th>params</th>${gradNormColumns([], result.steps).map((c) => `<th>${c.heading}</th>`).join('')}<th>log |grad|</th>${metricColumns(undefined).map((c) => `<th>${c.heading}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>
${notices}
</section>`;
}

export function formatProbeHtml(result: ProbeResult): string {
  const whatIf = result.whatIf ? run(result.whatIf, `What if: ${result.whatIfTitle ?? 'edited model'}`) : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Gradient Lens probe: ${escapeHtml(result.model.name)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:10px;background:#4a8}
li.error{color:#b00}li.warning{color:#a60}.notes{color:#666}
</style></head><body>
<h1>Gradient Lens probe</h1>
${run(result, `Model ${result.model.name}`)}
${whatIf}
</body></html>
`;
}

/**
 * The interactive report (added by the panel work): the probe panel's own bundle and stylesheet
 * (dist/webview/webview.js, webview.css) inlined with the result baked in, so the file shows the same
 * charts as the editor's panel. Falls back to formatProbeHtml's script-free page when the bundle
 * has not been built.
 */
export function formatProbeReportHtml(result: ProbeResult, bundleDir: string = join(typeof __dirname === 'string' ? __dirname : process.cwd(), 'webview')): string {
  const script = join(bundleDir, 'webview.js');
  const style = join(bundleDir, 'webview.css');
  if (!existsSync(script) || !existsSync(style)) return formatProbeHtml(result);
  return reportPageHtml(result, { script: readFileSync(script, 'utf8'), style: readFileSync(style, 'utf8') }, nonceFrom(randomBytes(16)));
}
