/**
 * Predicted beside measured (issue 9 §4), on probe results recorded from the real probe
 * (test/webview/fixtures/README.md): where they agree nothing needs explaining; where the run differs
 * from what the prediction assumes (raw pixels, BatchNorm), the gap is named with the reasons that
 * apply to that model, and only those. The measured profile the verdicts judge is the one the panel reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../../src/shared/probe';
import { DEFAULT_THRESHOLDS } from '../../../src/shared/probe';
import { predictedBesideMeasured } from '../../../src/shared/prediction-gap';
import { measuredFlow } from '../../../src/shared/probe-flow';
import { formatProbeText } from '../../../src/probe/report-text';
import { formatProbeHtml } from '../../../src/probe/report-html';
import { defined } from '../../defined';

const recorded = (name: string): ProbeResult => JSON.parse(readFileSync(join(__dirname, '../../webview/fixtures', `${name}.json`), 'utf8')) as ProbeResult;

describe('predicted beside measured', () => {
  it('a deep sigmoid stack: predicted and measured first/last ratios both vanish, every layer within a decade, nothing to explain', () => {
    const result = recorded('keras-deep-sigmoid-whatif');
    const comparison = defined(predictedBesideMeasured(result));
    expect(comparison.unavailable).toBeNull();
    expect(defined(comparison.firstLast.predicted)).toBeLessThan(-3);
    expect(Math.abs(defined(comparison.firstLast.measured) - defined(comparison.firstLast.predicted))).toBeLessThan(1);
    const path = comparison.layers.filter((l) => l.predictedLog10 !== null);
    expect(path).toHaveLength(11);
    // The output layer is the reference of both.
    expect(path.at(-1)).toMatchObject({ predictedLog10: 0, measuredLog10: 0 });
    expect(comparison.gaps).toEqual([]);
    expect(comparison.reasons).toEqual([]);
    expect(formatProbeText(result)).toMatch(/predicted and measured agree within a decade on every layer/);
  });

  it('raw 0..255 pixels into a CNN: the std and first-layer gradient gaps are named, explained by the data, not by batch statistics', () => {
    const comparison = defined(predictedBesideMeasured(recorded('unscaled-input-raw')));
    expect(comparison.gaps.some((g) => /^conv2d \(line 11\): output std predicted 0\.82, measured \d+/.test(g))).toBe(true);
    expect(comparison.gaps.some((g) => /^conv2d \(line 11\): gradient predicted/.test(g))).toBe(true);
    expect(comparison.reasons.some((r) => r.startsWith('data not standardized: the probe fed raw-scale inputs (integers 0..255)'))).toBe(true);
    expect(comparison.reasons.some((r) => r.startsWith('batch statistics'))).toBe(false);
    expect(comparison.reasons.some((r) => r.startsWith('dropout'))).toBe(false);
  });

  it('a BatchNorm CNN on raw pixels: batch statistics named with its BatchNorm layers, and the data', () => {
    const comparison = defined(predictedBesideMeasured(recorded('batchnorm-after-activation-raw')));
    expect(comparison.gaps.length).toBeGreaterThan(0);
    const batch = comparison.reasons.find((r) => r.startsWith('batch statistics'));
    expect(batch).toMatch(/batchnorm '2' \(line 7\), batchnorm '6' \(line 11\) normalize each batch of 32/);
    expect(comparison.reasons.some((r) => r.startsWith('data not standardized'))).toBe(true);
    const text = formatProbeText(recorded('batchnorm-after-activation-raw'));
    expect(text).toMatch(/more than a decade apart:\n {2}- 0 \(line 5\): output std predicted/);
    expect(text).toMatch(/what the measurement has that the prediction leaves out:\n {2}- batch statistics/);
  });

  it('results from before the prediction was carried have no comparison; an unpropagated model says why', () => {
    const result = recorded('keras-sigmoid-whatif');
    const older: ProbeResult = { ...result, whatIf: null, whatIfTitle: null };
    delete older.prediction;
    expect(predictedBesideMeasured(older)).toBeNull();
    expect(formatProbeText(older)).not.toMatch(/predicted:/);
    const unavailable = { ...result, prediction: { log10FirstLastRatio: null, grade: null, layers: [], unavailable: "Dense 'x' (line 3) has no known size", assumptions: [] } };
    expect(predictedBesideMeasured(unavailable)).toMatchObject({ unavailable: "Dense 'x' (line 3) has no known size", gaps: [] });
    expect(formatProbeText(unavailable)).toMatch(/predicted: none \(Dense 'x' \(line 3\) has no known size\)/);
  });

  it('the script-free HTML report shows the comparison, escaped', () => {
    const result = recorded('batchnorm-after-activation-raw');
    const html = formatProbeHtml({ ...result, layers: result.layers.map((l, i) => (i === 1 ? { ...l, name: '<b>x</b>' } : l)) });
    expect(html).toMatch(/<h3>Predicted and measured<\/h3><pre>predicted: the first layer gets/);
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
  });

  it('the verdicts and the panel read one measured profile: the layers it puts below the vanishing line are the verdict\'s', () => {
    for (const name of ['keras-deep-sigmoid-whatif', 'keras-sigmoid-whatif', 'batchnorm-after-activation-raw', 'unscaled-input-raw']) {
      const result = recorded(name);
      const flow = defined(measuredFlow(result.layers, DEFAULT_THRESHOLDS));
      const verdict = result.verdicts.find((v) => v.kind === 'vanishing');
      expect(flow.vanishing.map((i) => flow.path[i]!.name), name).toEqual(verdict?.layers ?? []);
      expect(flow.path.every((l) => l.kind !== 'batchnorm'), name).toBe(true);
    }
  });
});
