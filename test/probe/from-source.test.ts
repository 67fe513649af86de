/**
 * From realistic model code through the analyzer (real tree-sitter) to the probe (real tfjs): the
 * known behaviours hold on IRs the extractor really produces, and a finding's what-if is probed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import { runProbe } from '../../src/probe/run';
import type { FileResult } from '../../src/analysis/api';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { formatGradNorm, median } from '../../src/shared/probe-format';
import { formatProbeText } from '../../src/probe/report-text';
import { formatProbeHtml } from '../../src/probe/report-html';
import { defined } from '../defined';

const fixtures = join(__dirname, '../fixtures/probe');
let project: Project;

beforeAll(async () => {
  project = await Project.create();
});
afterAll(() => { project.dispose(); });

function analyze(name: string): FileResult {
  const path = join(fixtures, name);
  project.setFile(path, readFileSync(path, 'utf8'));
  return project.analyzeFile(path);
}

async function probeFile(name: string, extra: Parameters<typeof probeOptions>[0] = {}, whatIfCode: string | null = null): Promise<ProbeResult> {
  const analyzed = analyze(name);
  expect(analyzed.models).toHaveLength(1);
  const model = analyzed.models[0]!;
  const whatIf = whatIfCode ? (analyzed.findings.find((f) => f.code === whatIfCode && f.modelId === model.id)?.whatIf ?? null) : null;
  if (whatIfCode) expect(whatIf).not.toBeNull();
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 10, seed: 3, ...extra }), { whatIf });
  if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.result;
}

const kinds = (r: ProbeResult) => r.verdicts.map((v) => v.kind);

describe('probe from source', () => {
  it('a Keras deep sigmoid MLP vanishes; the GL101 what-if fixes it', async () => {
    const result = await probeFile('keras_deep_sigmoid.py', {}, 'GL101');
    expect(kinds(result)).toContain('vanishing');
    expect(result.layers).toHaveLength(11);
    expect(result.layers.every((l) => l.line === 9 || l.line === 10)).toBe(true);
    expect(result.optimizer).toBe('sgd(lr=0.01)');
    expect(result.lossName).toBe('categorical-crossentropy');
    expect(kinds(defined(result.whatIf))).not.toContain('vanishing');
  });

  it('its ReLU + He twin is healthy', async () => {
    const result = await probeFile('keras_deep_relu.py');
    expect(kinds(result)).toEqual([]);
  });

  it('a PyTorch LSTM with lr=50 and no clipping diverges; clip_grad_norm_ keeps it finite', async () => {
    const wild = await probeFile('torch_lstm_no_clip.py', { steps: 20 });
    expect(kinds(wild).some((k) => k === 'non-finite' || k === 'exploding')).toBe(true);
    // Diverged (NaN) weights must not read as "identical units".
    expect(kinds(wild)).not.toContain('symmetry');
    const clipped = await probeFile('torch_lstm_clipped.py', { steps: 20 });
    expect(clipped.optimizer).toBe('sgd(lr=50, global_clipnorm=1)');
    // max_norm=1.0 is written: the probe uses it and does not call it unknown.
    expect(clipped.notices.some((n) => /threshold unknown/.test(n.message))).toBe(false);
    expect(kinds(clipped)).not.toContain('non-finite');
    expect(clipped.loss.every(Number.isFinite)).toBe(true);
  });

  it("the GL402 finding's what-if (a sane learning rate) keeps the same LSTM finite, same data", async () => {
    const result = await probeFile('torch_lstm_no_clip.py', { steps: 20 }, 'GL402');
    expect(kinds(result)).toContain('non-finite');
    expect(kinds(defined(result.whatIf))).not.toContain('non-finite');
    expect(defined(result.whatIf).loss[0]).toBeCloseTo(result.loss[0]!, 6);
  });

  it('a functional Keras residual MLP (LayerNorm, GELU, Dropout, Add) is healthy, with its Adam + clipnorm', async () => {
    const result = await probeFile('keras_residual_mlp.py', { steps: 5 });
    expect(result.layers.filter((l) => l.kind === 'add')).toHaveLength(4);
    expect(result.optimizer).toBe('adam(lr=0.001, clipnorm=1)');
    expect(kinds(result)).toEqual([]);
  });

  it('a PyTorch residual CNN builds from forward() with its default init and trains', async () => {
    const result = await probeFile('torch_cnn.py', { steps: 4, batchSize: 8 });
    expect(result.inputShape).toEqual([32, 32, 3]);
    expect(result.layers.map((l) => l.kind)).toEqual(['conv2d', 'batchnorm', 'activation', 'conv2d', 'activation', 'add', 'maxpool', 'flatten', 'dense']);
    expect(defined(result.layers.find((l) => l.name === 'fc')).params).toBe(4096 * 10 + 10);
    expect(result.loss.every(Number.isFinite)).toBe(true);
    // The Linear(4096) after the Flatten fixes the image side: 16 channels x 16 x 16 after one pool of 32 x 32.
    expect(result.notices.some((n) => /Input shape 3x32x32 \(C first\), probed channels-last as 32x32x3 from the layers: the Linear after the Flatten/.test(n.message))).toBe(true);
  });

  it('the norms a verdict quotes are the median column of the text, HTML and JSON tables', async () => {
    const result = await probeFile('keras_deep_sigmoid.py');
    const vanishing = result.verdicts.find((v) => v.kind === 'vanishing');
    expect(vanishing).toBeDefined();
    const quoted = /first layer (\S+) \(line \d+\).* last hidden layer (\S+) \(line \d+\) \(median norm (\S+) vs (\S+)\)/.exec(defined(vanishing).message);
    expect(quoted).not.toBeNull();
    const [, firstName, lastName, firstNorm, lastNorm] = defined(quoted);
    const text = formatProbeText(result).split('\n');
    const header = defined(text.find((l) => l.includes('grad@1'))).trim().split(/\s+/);
    const medianColumn = header.indexOf('median');
    expect(medianColumn).toBeGreaterThan(0);
    const cell = (name: string) => defined(text.find((l) => l.trim().split(/\s+/)[1] === name)).trim().split(/\s+/)[medianColumn];
    expect(cell(defined(firstName))).toBe(firstNorm);
    expect(cell(defined(lastName))).toBe(lastNorm);
    // The first layer's number is in no other column: it is the median, not the first or last step.
    expect(formatGradNorm(median(defined(result.layers.find((l) => l.name === firstName)).gradNorm))).toBe(firstNorm);
    const html = formatProbeHtml(result);
    expect(html).toContain('<th>median</th>');
    expect(html).toContain(`<td class="n">${firstNorm}</td>`);
  });
});
