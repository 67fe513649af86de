/**
 * Models with several outputs: a head per digit returned as a list, Keras Model(inputs, [a, b]). The
 * training loss reads every output (Keras sums their losses; a torch loop adds a criterion per head), so
 * the probe trains on the sum of a loss on each and the prediction starts a gradient at each. A layer
 * whose result forward drops gets no gradient in either. The flow is judged against the last hidden
 * layer, never against one of the heads.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../src/shared/ir';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { modelPrediction } from '../../src/shared/knowledge/propagation';
import { measuredFlow } from '../../src/shared/probe-flow';
import { FLOW_THRESHOLDS } from '../../src/shared/gradient-flow';
import { extractedModels, modelNamed } from '../unit/extract/extract-helper';
import { defined } from '../defined';

async function modelOf(text: string, name: string): Promise<ModelIR> {
  return modelNamed(await extractedModels(text), name);
}

const options = probeOptions({ backend: 'wasm', steps: 2, batchSize: 8, inputShape: [32] });

/** A residual trunk and one classifier per digit, returned as a list (a multi-digit reader). */
const DIGIT_HEADS = `import torch
from torch import nn

class Reader(nn.Module):
    def __init__(self, dim=32, hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.heads = nn.ModuleList([nn.Linear(dim, 10) for _ in range(3)])

    def forward(self, x):
        x = x + self.fc2(torch.relu(self.fc1(x)))
        return [head(x) for head in self.heads]
`;

/** An auxiliary classifier computed in forward and dropped: autograd never reaches it. */
const DROPPED_AUX = `import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.aux = nn.Linear(64, 5)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        a = self.aux(h)
        return RETURNED
`;

const KERAS_TWO_OUTPUTS = `from tensorflow import keras
from tensorflow.keras import layers
inputs = keras.Input(shape=(32,))
x = layers.Dense(64, activation='relu')(inputs)
x = layers.Dense(64, activation='relu')(x)
digit = layers.Dense(10, activation='softmax', name='digit')(x)
parity = layers.Dense(1, activation='sigmoid', name='parity')(x)
model = keras.Model(inputs, [digit, parity])
`;

async function probed(model: ModelIR): Promise<ProbeResult> {
  const outcome = await runProbe(model, options);
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.result;
}

const gradientOf = (result: ProbeResult, name: string): number => defined(defined(result.layers.find((l) => l.name === name)).gradNorm[0]);

describe('several outputs', () => {
  it('trains every head a returned list holds, and says so', async () => {
    const result = await probed(await modelOf(DIGIT_HEADS, 'Reader'));
    for (const head of ['heads.0', 'heads.1', 'heads.2']) expect(gradientOf(result, head), head).toBeGreaterThan(0);
    expect(result.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/returns 3 outputs \(heads\.0, heads\.1, heads\.2\); the probe trains on the sum of a loss on each/));
    expect(result.layers.filter((l) => l.output === true).map((l) => l.name)).toEqual(['heads.0', 'heads.1', 'heads.2']);
  });

  it('judges the flow against the last hidden layer, not a head, in the probe and the prediction alike', async () => {
    const model = await modelOf(DIGIT_HEADS, 'Reader');
    const result = await probed(model);
    const flow = defined(measuredFlow(result.layers, FLOW_THRESHOLDS));
    expect(defined(flow.path[flow.reference]).name).toBe('fc2');
    expect(flow.grade).not.toBe('exploding');
    const prediction = modelPrediction(model);
    if (!prediction.ok) throw new Error(prediction.reason);
    expect(prediction.lastHidden?.name).toBe('fc2');
    // Each head starts a gradient: the prediction gives each the same as the others.
    const heads = prediction.layers.filter((l) => l.name.startsWith('heads.')).map((l) => defined(l.log10GradRatio));
    expect(heads).toHaveLength(3);
    for (const ratio of heads) expect(ratio).toBeCloseTo(defined(heads[2]), 6);
  });

  it('keeps a single head to one output (clean twin)', async () => {
    const single = DIGIT_HEADS.replace('range(3)', 'range(1)');
    const result = await probed(await modelOf(single, 'Reader'));
    expect(result.notices.map((n) => n.message).join('\n')).not.toMatch(/outputs/);
    expect(result.layers.some((l) => l.output === true)).toBe(false);
  });

  it('gives a layer whose result forward drops no gradient, measured and predicted', async () => {
    const model = await modelOf(DROPPED_AUX.replace('RETURNED', 'self.fc2(h)'), 'Net');
    expect(model.layers.find((l) => l.name === 'aux')?.unreturned).toBe(true);
    const result = await probed(model);
    expect(gradientOf(result, 'aux')).toBe(0);
    expect(gradientOf(result, 'fc2')).toBeGreaterThan(0);
    const prediction = modelPrediction(model);
    if (!prediction.ok) throw new Error(prediction.reason);
    expect(defined(prediction.layers.find((l) => l.name === 'aux')?.log10GradRatio)).toBeLessThan(-50);
  });

  it('trains the auxiliary classifier once forward returns it too (clean twin)', async () => {
    const model = await modelOf(DROPPED_AUX.replace('RETURNED', 'self.fc2(h), a'), 'Net');
    expect(model.layers.some((l) => l.unreturned === true)).toBe(false);
    const result = await probed(model);
    expect(gradientOf(result, 'aux')).toBeGreaterThan(0);
  });

  it('sums the loss of each output of a Keras model, each shaped to its activation', async () => {
    const result = await probed(await modelOf(KERAS_TWO_OUTPUTS, 'model'));
    expect(gradientOf(result, 'digit')).toBeGreaterThan(0);
    expect(gradientOf(result, 'parity')).toBeGreaterThan(0);
    expect(result.lossName).toBe('categorical-crossentropy + binary-crossentropy');
  });
});
