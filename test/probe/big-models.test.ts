/**
 * Issue 11 §2: models over the probe's size budget are scaled, not refused. A CIFAR ResNet-18
 * (torchvision-style BasicBlock code, 11.2 M parameters) and a word-level LSTM language model
 * (Embedding 10000 x 650, 2-layer LSTM 650, Linear 650 -> 10000; 19.8 M parameters) probe end to end
 * through the CLI with `--line`, keep every width (the parameter counts are PyTorch's), and say what
 * was scaled. One step keeps the test short; the time to the first result is measured by hand (docs/probe.md).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProbeResult, type ProbeResult } from '../../src/shared/probe';
import { runCli } from '../unit/cli/run-cli';

const fixtures = join(__dirname, '../fixtures/probe');

function probeAt(file: string, line: number): ProbeResult {
  const run = runCli(['probe', file, '--line', String(line), '--steps', '1', '--backend', 'wasm', '--format', 'json'], fixtures, {}, 240_000);
  expect(run.stderr).toBe('');
  expect(run.status === 0 || run.status === 1).toBe(true);
  const parsed: unknown = JSON.parse(run.stdout);
  expect(isProbeResult(parsed)).toBe(true);
  return parsed as ProbeResult;
}

const totalParams = (r: ProbeResult) => r.layers.reduce((sum, l) => sum + l.params, 0);
const scaledNote = (r: ProbeResult) => r.notices.find((n) => /^Scaled to the probe's size budget/.test(n.message))?.message ?? '';

describe('big models are scaled, not refused', () => {
  it('a CIFAR ResNet-18 probes with its 11,173,962 parameters, a smaller batch, and says so', { timeout: 300_000 }, () => {
    const result = probeAt('torch_resnet18_cifar.py', 33);
    expect(result.model.name).toBe('ResNet');
    expect(totalParams(result)).toBe(11_173_962); // sum(p.numel() for p in ResNet18().parameters()) in PyTorch 1.13
    expect(result.inputShape).toEqual([32, 32, 3]); // avg_pool2d(4) then Linear(512): the image side cannot shrink
    expect(result.batchSize).toBeLessThan(32);
    expect(scaledNote(result)).toMatch(/batch 32 -> \d+; widths and fans unchanged/);
    const convs = result.layers.filter((l) => l.kind === 'conv2d');
    expect(convs).toHaveLength(20); // 1 stem + 16 in the blocks + 3 projection shortcuts
    expect(convs.every((l) => l.gradNorm.length === 1 && Number.isFinite(l.gradNorm[0]) && l.gradNorm[0]! > 0)).toBe(true);
  });

  it('a 2-layer LSTM language model (vocabulary 10000, 650 units) probes with its 19,780,400 parameters', { timeout: 300_000 }, () => {
    const result = probeAt('torch_lstm_lm.py', 5);
    expect(result.model.name).toBe('RNNModel');
    expect(totalParams(result)).toBe(19_780_400); // PyTorch's count for the same constructor call
    expect(scaledNote(result)).toMatch(/batch 32 -> \d+; widths and fans unchanged/);
    const weighted = result.layers.filter((l) => l.params > 0);
    expect(weighted.map((l) => l.kind)).toEqual(['embedding', 'lstm', 'dense']);
    expect(weighted.every((l) => Number.isFinite(l.gradNorm[0]) && l.gradNorm[0]! > 0)).toBe(true);
  });
});
