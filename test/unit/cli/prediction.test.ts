/**
 * `check --format json` gives every model its predicted gradient flow (issue 9 §1), or null with the
 * reason; `check --verbose` prints it under the findings.
 */
import { describe, expect, it } from 'vitest';
import { tempTree, RELU_STACK, runCli } from './run-cli';
import { defined } from '../../defined';

interface PredictedModel {
  name: string;
  prediction: { log10FirstLastRatio: number; measure: string; grade: string; layers: { line: number; name: string; predictedStd: number; log10GradRatio: number | null }[] } | null;
  predictionUnavailable?: string;
}

function models(root: string, file: string): PredictedModel[] {
  const run = runCli(['check', '--format', 'json', file], root);
  const report = JSON.parse(run.stdout) as { files: { models: PredictedModel[] }[] };
  return report.files[0]!.models;
}

const DEEP_SIGMOID = `import torch
import torch.nn as nn

class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(10)])
        self.out = nn.Linear(64, 2)

    def forward(self, x):
        for layer in self.layers:
            x = torch.sigmoid(layer(x))
        return self.out(x)
`;

const UNKNOWN_SIZE = `from tensorflow import keras
from tensorflow.keras import layers

def build(width):
    return keras.Sequential([layers.Dense(width, activation="relu"), layers.Dense(width, activation="relu"), layers.Dense(1)])

model = build(WIDTH)
`;

const CUSTOM_ACTIVATION = `from tensorflow import keras
from tensorflow.keras import layers
from mylib import custom_act

model = keras.Sequential([layers.Dense(16, activation=custom_act, input_shape=(8,)), layers.Dense(16, activation="relu"), layers.Dense(1)])
`;

describe('check: predicted gradient flow', () => {
  it('gives every model a prediction object with one entry per layer (1-based lines)', () => {
    const root = tempTree({ 'relu.py': RELU_STACK });
    const [model] = models(root, 'relu.py');
    expect(defined(model).prediction).not.toBeNull();
    const p = defined(defined(model).prediction);
    expect(Object.keys(p).sort()).toEqual(['grade', 'layers', 'log10FirstLastRatio', 'measure']);
    expect(p.measure).toBe('gradient');
    expect(p.grade).toBe('healthy');
    expect(Math.abs(p.log10FirstLastRatio)).toBeLessThan(0.5);
    const weighted = p.layers.filter((l) => l.log10GradRatio !== null);
    expect(weighted.map((l) => l.line)).toEqual([6, 7, 8, 9]);
    expect(weighted[3]!.log10GradRatio).toBe(0);
    for (const layer of p.layers) {
      expect(Object.keys(layer).sort()).toEqual(['line', 'log10GradRatio', 'name', 'predictedStd']);
      expect(layer.predictedStd).toBeGreaterThan(0);
    }
  });

  it('predicts vanishing for a deep sigmoid stack written in a loop', () => {
    const root = tempTree({ 'deep.py': DEEP_SIGMOID });
    const [model] = models(root, 'deep.py');
    expect(defined(defined(model).prediction).grade).toBe('vanishing');
    expect(defined(defined(model).prediction).log10FirstLastRatio).toBeLessThan(-5);
  });

  it('uses the input and the sizes the probe builds with when the code leaves them open, and says so', () => {
    const root = tempTree({ 'unknown.py': UNKNOWN_SIZE });
    const [model] = models(root, 'unknown.py');
    expect(defined(model).prediction).not.toBeNull();
    const verbose = runCli(['check', '--verbose', 'unknown.py'], root);
    expect(verbose.stdout).toMatch(/assuming the probe's representative sizes .*dense \(line 5\) 128, dense_1 \(line 5\) 128.*input 1024/);
  });

  it('is null with the reason when a layer cannot be propagated', () => {
    const root = tempTree({ 'custom.py': CUSTOM_ACTIVATION });
    const [model] = models(root, 'custom.py');
    expect(defined(model).prediction).toBeNull();
    expect(defined(model).predictionUnavailable).toMatch(/activation custom_act .*line 5/);
  });

  it('prints the prediction with --verbose only', () => {
    const root = tempTree({ 'relu.py': RELU_STACK });
    const quiet = runCli(['check', 'relu.py'], root);
    expect(quiet.stdout).not.toMatch(/predicted/);
    const verbose = runCli(['check', '--verbose', 'relu.py'], root);
    expect(verbose.stdout).toMatch(/relu\.py:4:1: model model: predicted healthy at initialization: the first layer gets ~\S+ of the last hidden layer's gradient/);
    expect(verbose.stdout).toMatch(/relu\.py:6:1: dense: std [\d.]+, gradient ~\S+ of the output layer's/);
  });
});
