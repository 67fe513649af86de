/**
 * The flow at equal weight norm (docs/probe.md, "Scale-free layers"): when every layer judged feeds a
 * normalization, the probe judges |∇W|·|W|, the panel draws it and the prediction predicts it, so a
 * kernel's arbitrary scale before a BatchNorm is no verdict, while a deep BatchNorm stack whose
 * gradients do explode still is. Against PyTorch 1.13 (scripts/reference/scale_free.py; its committed
 * output scale_free.txt): both fixtures' ratios within half a decade.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { measuredFlow } from '../../src/shared/probe-flow';
import { FLOW_THRESHOLDS } from '../../src/shared/gradient-flow';
import { predictedBesideMeasured } from '../../src/shared/prediction-gap';
import { extractedModels, modelNamed } from '../unit/extract/extract-helper';
import { defined } from '../defined';

const SOURCE = readFileSync(join(__dirname, '../fixtures/scale-free/torch_bn_scale.py'), 'utf8');
const REFERENCE = readFileSync(join(__dirname, '../../scripts/reference/scale_free.txt'), 'utf8');

/** PyTorch's log10 first/last-hidden ratios for a fixture model: raw and at equal weight norm. */
function reference(model: string): { raw: number; unit: number } {
  const row = defined(REFERENCE.split('\n').find((line) => line.includes(`torch_bn_scale.py ${model}`)), `reference row for ${model}`);
  const [, raw, unit] = row.split('|').map((cell) => Number.parseFloat(cell.trim()));
  return { raw: defined(raw), unit: defined(unit) };
}

async function probe(model: string): Promise<ProbeResult> {
  const ir = modelNamed(await extractedModels(SOURCE), model);
  const run = await runProbe(ir, probeOptions({ backend: 'wasm', steps: 3, batchSize: 32 }));
  if (!run.ok) throw new Error(run.error.message);
  return run.result;
}

/** log10 of the first/last-hidden ratio at step 1, raw and at equal weight norm. */
function stepOneRatios(result: ProbeResult): { raw: number; unit: number } {
  const flow = defined(measuredFlow(result.layers, FLOW_THRESHOLDS));
  const first = flow.path[0]!;
  const hidden = flow.path[flow.reference]!;
  const raw = Math.log10(first.gradNorm[0]! / hidden.gradNorm[0]!);
  return { raw, unit: raw + Math.log10(first.weightNorm[0]! / hidden.weightNorm[0]!) };
}

describe('the flow at equal weight norm', () => {
  it('a kernel scaled before a BatchNorm is no exploding verdict: judged at equal weight norm, with a note giving the raw ratio', async () => {
    const result = await probe('RescaledKernels');
    expect(result.layers.filter((l) => l.scaleFree).map((l) => l.name)).toEqual(['body.0', 'body.3', 'body.6']);
    const flow = defined(measuredFlow(result.layers, FLOW_THRESHOLDS));
    expect(flow.measure).toBe('unit-weight');
    expect(flow.grade).toBe('healthy');
    expect(result.verdicts.map((v) => v.kind)).not.toContain('exploding');
    // Raw norms would have said exploding: the note says so, with the number.
    expect(defined(measuredFlow(result.layers, FLOW_THRESHOLDS, 'gradient')).grade).toBe('exploding');
    expect(result.notices.some((n) => n.message.includes('judged at equal weight norm') && n.message.includes('would read exploding'))).toBe(true);
    // The prediction is in the same measure and agrees.
    expect(result.prediction).toMatchObject({ measure: 'unit-weight', grade: 'healthy' });
    const ratios = stepOneRatios(result);
    const torch = reference('RescaledKernels');
    expect(Math.abs(ratios.raw - torch.raw)).toBeLessThan(0.5);
    expect(Math.abs(ratios.unit - torch.unit)).toBeLessThan(0.5);
    expect(defined(predictedBesideMeasured(result)).firstLast.measured).toBeCloseTo(ratios.unit, 6);
  });

  it('a 50-block BatchNorm MLP without skips still explodes at equal weight norm (Yang et al. 2019), as in PyTorch', async () => {
    const result = await probe('DeepBatchNormMlp');
    const flow = defined(measuredFlow(result.layers, FLOW_THRESHOLDS));
    expect(flow.measure).toBe('unit-weight');
    const exploding = defined(result.verdicts.find((v) => v.kind === 'exploding'));
    expect(exploding.message).toContain('at equal weight norm');
    expect(exploding.layers[0]).toBe('body.0');
    // Both measures agree here: no note.
    expect(result.notices.some((n) => n.message.includes('judged at equal weight norm'))).toBe(false);
    expect(result.prediction).toMatchObject({ measure: 'unit-weight', grade: 'exploding' });
    const ratios = stepOneRatios(result);
    const torch = reference('DeepBatchNormMlp');
    expect(Math.abs(ratios.unit - torch.unit)).toBeLessThan(0.5);
  });
});
