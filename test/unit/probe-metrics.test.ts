/**
 * A probe metric is one row of src/shared/probe-metrics.ts: the result series, the layer tables and
 * docs/probe.md follow it. Run on real tfjs (wasm) so the series come from the probe's own meter.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYER_METRIC_KEYS, LAYER_METRICS, METRIC_COLUMNS } from '../../src/shared/probe-metrics';
import { metricColumns } from '../../src/shared/probe-format';
import { probeOptions } from '../../src/shared/probe';
import { runProbe } from '../../src/probe/run';
import { formatProbeHtml } from '../../src/probe/report-html';
import { keras } from '../probe/ir-builder';
import { defined } from '../defined';

const DOC = join(__dirname, '../../docs/probe.md');

/** The docs table as the metric table writes it. */
function docsTable(): string {
  return ['| field | meaning |', '| --- | --- |', ...LAYER_METRIC_KEYS.map((key) => `| \`${key}\` | ${LAYER_METRICS[key].docs} |`)].join('\n');
}

describe('probe metrics: one table row each', () => {
  it('docs/probe.md lists every metric with its docs, in table order', () => {
    const doc = readFileSync(DOC, 'utf8');
    const block = /<!-- metrics:start[^>]*-->\n([\s\S]*?)\n<!-- metrics:end -->/.exec(doc);
    expect(block, 'docs/probe.md has the metrics block').not.toBeNull();
    expect(defined(block)[1]).toBe(docsTable());
  });

  it('gives every layer one series per metric: measured every step where it applies, null or [] where not', async () => {
    const model = keras('mixed').input([12]).dense(16, 'sigmoid').dense(16, 'relu').layer({ kind: 'dropout', detail: { dropout: { rate: 0.2 } } }).dense(3, 'softmax').build();
    const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 3, batchSize: 8, seed: 1 }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    const { layers, steps } = outcome.result;
    const [sigmoid, relu, dropout] = layers.filter((l) => l.kind !== 'input');
    for (const layer of layers) for (const key of LAYER_METRIC_KEYS) expect(key in layer, `${layer.name}.${key}`).toBe(true);
    expect(defined(sigmoid).saturated).toHaveLength(steps);
    expect(defined(sigmoid).dead).toBeNull();
    expect(defined(relu).dead).toHaveLength(steps);
    expect(defined(relu).saturated).toBeNull();
    expect(defined(dropout).gradNorm).toEqual([]);
    expect(defined(dropout).updateRatio).toEqual([]);
    expect(defined(dropout).actStd).toHaveLength(steps);
    for (const l of [defined(sigmoid), defined(relu)]) {
      expect(l.gradNorm).toHaveLength(steps);
      expect(l.gradNorm.every((g) => g > 0)).toBe(true);
      expect(l.updateRatio.every((u) => u > 0 && u < 1)).toBe(true);
      expect(l.nonFinite).toEqual(new Array(steps).fill(0));
    }
    expect(defined(defined(sigmoid).saturated).every((f) => f >= 0 && f <= 1)).toBe(true);
  });

  it('shows the metrics with a column in the HTML report, as medians the verdicts would quote', async () => {
    const model = keras('relu').input([8]).dense(32, 'relu').dense(2).build();
    const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 2, batchSize: 8, seed: 2 }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    const html = formatProbeHtml(outcome.result);
    for (const { heading } of METRIC_COLUMNS) expect(html).toContain(`<th>${heading}</th>`);
    const relu = defined(outcome.result.layers.find((l) => l.dead !== null));
    const [saturated, dead] = metricColumns(relu);
    expect(defined(saturated).text).toBe('-');
    expect(defined(dead).text).toMatch(/^\d+%$/);
  });
});
