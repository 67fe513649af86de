import { describe, expect, it } from 'vitest';
import type { ActivationIR } from '../../../src/shared/ir';
import { Project } from '../../../src/analysis/project';
import { describeRuleFixtures } from './fixture-fixes';
import { rule } from '../../../src/analysis/rules/activation/missing-nonlinearity';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, thresholds: Record<string, boolean> = {}, sources: Record<string, string> = {}) =>
  rule.check(model, contextFor(rule, { thresholds }, sources));

describe('GL103 missing-nonlinearity (IR)', () => {
  it('reports Dense layers stacked without activations, once per chain, at its first layer', () => {
    const model = buildModel({ layers: [layerOf('flatten'), dense(256), dense(128), dense(10, { activation: 'softmax' })] });
    const findings = check(model);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(1);
    expect(findings[0]!.message).toContain('(3 layers in a row)');
    expect(findings[0]!.related.map((r) => r.location.range.start.line)).toEqual([2, 3]);
    expect(defined(findings[0]!.whatIf).ops).toEqual([
      { op: 'set-activation', layerId: 'L1', activation: 'relu' },
      { op: 'set-activation', layerId: 'L2', activation: 'relu' },
    ]);
  });

  it('does not count dropout, pooling, flatten or batchnorm as a nonlinearity', () => {
    const model = buildModel({
      layers: [layerOf('conv2d', { units: 32 }), layerOf('batchnorm'), layerOf('maxpool'), layerOf('dropout'), layerOf('flatten'), dense(10)],
    });
    expect(check(model).map((f) => f.range.start.line)).toEqual([0]);
  });

  it('accepts a linear output layer and activations between layers', () => {
    expect(check(buildModel({ layers: [dense(64, { activation: 'relu' }), dense(64, { activation: 'relu' }), dense(1)] }))).toEqual([]);
    const torch = buildModel({ framework: 'torch', layers: [dense(64), act('relu'), dense(64), layerOf('batchnorm'), act('gelu'), dense(10)] });
    expect(check(torch)).toEqual([]);
  });

  it('accepts a narrower linear bottleneck followed by a nonlinearity, unless the option is off', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu' }), dense(32), dense(256, { activation: 'relu' }), dense(784, { activation: 'sigmoid' })] });
    expect(check(model)).toEqual([]);
    expect(check(model, { 'allow-linear-bottleneck': false })).toHaveLength(1);
  });

  it('accepts the linear bottleneck of an inverted residual block (1x1 project -> BN -> 1x1 expand -> BN -> ReLU6)', () => {
    const model = buildModel({
      framework: 'torch',
      layers: [layerOf('conv2d', { units: 24 }), layerOf('batchnorm'), layerOf('conv2d', { units: 144 }), layerOf('batchnorm'), act('relu6'), layerOf('conv2d', { units: 144 })],
    });
    expect(check(model)).toEqual([]);
  });

  it('reports a wider linear layer before a nonlinear one, and stays silent when sizes are unknown', () => {
    expect(check(buildModel({ layers: [dense(128), dense(64, { activation: 'relu' }), dense(10)] }))).toHaveLength(1);
    expect(check(buildModel({ layers: [dense(128), { kind: 'dense', units: null, activation: 'relu' }, dense(10)] }))).toEqual([]);
  });

  it('says a BatchNorm is between the layers it reports, and that there is nothing between otherwise', () => {
    const [normed] = check(buildModel({ framework: 'torch', layers: [dense(64), layerOf('batchnorm'), dense(64), act('relu'), dense(10)] }));
    expect(normed?.message).toMatch(/feeds 'dense_1' with only BatchNorm 'batchnorm' \(affine\) between: /);
    const [bare] = check(buildModel({ framework: 'torch', layers: [dense(64), dense(64), act('relu'), dense(10)] }));
    expect(bare?.message).toMatch(/feeds 'dense_1' directly: /);
  });

  it('judges the rest of a chain after a low-rank link (a linear latent code) alone', () => {
    // 784 -> 16 (latent, narrower than both ends) -> 256 -> 10: only the link after the code is reported.
    const model = buildModel({ layers: [dense(16, { inFeatures: 784 }), dense(256, { inFeatures: 16 }), dense(10, { inFeatures: 256, activation: 'softmax' })] });
    const findings = check(model);
    expect(findings.map((f) => f.range.start.line)).toEqual([1]);
    expect(findings[0]!.message).not.toContain('layers in a row');
    expect(check(model, { 'allow-linear-bottleneck': false }).map((f) => f.range.start.line)).toEqual([0]);
  });

  it('does not treat a merge or an unknown layer as part of a chain', () => {
    const model = buildModel({
      isGraph: true,
      layers: [layerOf('input'), dense(64, { activation: 'relu' }), dense(64, { inputs: [1] }), layerOf('add', { inputs: [1, 2] }), dense(10, { inputs: [3] })],
    });
    expect(check(model)).toEqual([]);
    expect(check(buildModel({ layers: [dense(64), layerOf('unknown'), dense(10)] }))).toEqual([]);
  });

  it('treats an unresolved activation as a possible nonlinearity', () => {
    expect(check(buildModel({ layers: [dense(64, { activation: 'unknown' }), dense(10)] }))).toEqual([]);
  });

  it('reports unrolled copies of one loop call once', () => {
    const copy = (index: number) => dense(64, { line: 2, unrolled: { index, count: 3 } });
    expect(check(buildModel({ layers: [copy(0), copy(1), copy(2), dense(10, { line: 3 })] }))).toHaveLength(1);
  });

  it('adds activation="relu" in Keras and nn.ReLU() in nn.Sequential', () => {
    const keras = 'layers.Dense(256),\nlayers.Dense(128, activation=None),\nlayers.Dense(10)';
    const kerasModel = buildModel({
      layers: [
        { kind: 'dense', units: 256, range: findRange(keras, 'layers.Dense(256)') },
        { kind: 'dense', units: 128, range: findRange(keras, 'layers.Dense(128, activation=None)'), activation: 'linear' },
        { kind: 'dense', units: 10, range: findRange(keras, 'layers.Dense(10)') },
      ],
    });
    const [kerasFinding] = check(kerasModel, {}, { [FILE]: keras });
    expect(applyEdits(keras, defined(kerasFinding).fixes[0]!.edits)).toBe("layers.Dense(256, activation='relu'),\nlayers.Dense(128, activation='relu'),\nlayers.Dense(10)");

    const torch = 'net = nn.Sequential(\n    nn.Linear(784, 128),  # hidden\n    nn.Linear(128, 10)\n)';
    const torchModel = buildModel({
      framework: 'torch',
      layers: [
        { kind: 'dense', units: 128, className: 'nn.Linear', range: findRange(torch, 'nn.Linear(784, 128)') },
        { kind: 'dense', units: 10, className: 'nn.Linear', range: findRange(torch, 'nn.Linear(128, 10)') },
      ],
    });
    torchModel.range = { start: { line: 0, character: 6 }, end: { line: 3, character: 1 } };
    const [torchFinding] = check(torchModel, {}, { [FILE]: torch });
    expect(applyEdits(torch, defined(torchFinding).fixes[0]!.edits)).toBe('net = nn.Sequential(\n    nn.Linear(784, 128), nn.ReLU(),  # hidden\n    nn.Linear(128, 10)\n)');
    expect(defined(defined(torchFinding).whatIf).ops).toEqual([{ op: 'insert-after', afterLayerId: 'L0', kind: 'activation', activation: 'relu' }]);
  });
});

describe('GL103: a leaky ReLU of slope 1 is the identity', () => {
  const leaky = (params: Record<string, number>, spelling: string): ActivationIR => ({ name: 'leaky_relu', spelling, range: null, source: 'layer', params });

  it('reports layers joined by a leaky ReLU of slope 1 and says why; a slope below 1 and a PReLU starting at 1 are nonlinear', () => {
    const torch = (activation: ActivationIR) => buildModel({ framework: 'torch', layers: [dense(64, { name: 'fc1' }), act('leaky_relu', { activation }), dense(10, { name: 'fc2' })] });
    const [finding] = check(torch(leaky({ negative_slope: 1 }, 'nn.LeakyReLU(1.0)')));
    expect(defined(finding).message).toBe(
      "'fc1' feeds 'fc2' through nn.LeakyReLU(1.0), which has a negative slope of 1: the identity. The layers compose into a single linear map, so the extra depth adds parameters but no expressive power. Use a slope below 1, such as 0.2, or another nonlinearity.",
    );
    expect(check(torch(leaky({ negative_slope: 0.2 }, 'nn.LeakyReLU(0.2)')))).toEqual([]);
    expect(check(torch(leaky({}, 'nn.LeakyReLU()')))).toEqual([]);
    expect(check(torch({ name: 'prelu', spelling: 'nn.PReLU(init=1.0)', range: null, source: 'layer', params: { init: 1 } }))).toEqual([]);
  });

  it("counts Keras' fused activation=LeakyReLU(alpha=1.0) as no activation", () => {
    const fused = leaky({ alpha: 1 }, 'layers.LeakyReLU(alpha=1.0)');
    const [finding] = check(buildModel({ layers: [dense(64, { name: 'hidden', activation: { ...fused, source: 'kwarg' } }), dense(10, { name: 'out' })] }));
    expect(defined(finding).message).toContain("'hidden' feeds 'out' through its activation layers.LeakyReLU(alpha=1.0), which has a negative slope of 1: the identity.");
  });

  async function analyze(source: string) {
    const project = await Project.create();
    project.setFile(FILE, source);
    const [result] = project.analyzeAll();
    project.dispose();
    return defined(result).findings.filter((f) => f.code === 'GL103');
  }

  const encoder = (activation: string) => `import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), ${activation},
            nn.Conv2d(8, 16, 3, padding=1), ${activation},
            nn.Conv2d(16, 4, 3, padding=1))

    def forward(self, x):
        return self.net(x)
`;

  it("reads nn.LeakyReLU(True) (copied from nn.ReLU(True)) as torch does, the slope 1.0, and rewrites it to inplace=True", async () => {
    const source = encoder('nn.LeakyReLU(True)');
    const [finding, ...rest] = await analyze(source);
    expect(rest).toEqual([]);
    expect(defined(finding).message).toBe(
      "nn.Conv2d 'net.0' feeds nn.Conv2d 'net.2' (3 layers in a row) through nn.LeakyReLU(True), which sets negative_slope=1.0 (True is its slope argument, not inplace): the identity. The layers compose into a single linear map, so the extra depth adds parameters but no expressive power. Pass inplace=True as a keyword, as was probably meant.",
    );
    const [fix] = defined(finding).fixes;
    expect(defined(fix)).toMatchObject({ title: 'Pass inplace=True as a keyword (a leaky ReLU of slope 0.01)', safety: 'unsafe' });
    expect(applyEdits(source, defined(fix).edits)).toBe(encoder('nn.LeakyReLU(inplace=True)'));
    expect(defined(defined(finding).whatIf).ops).toEqual([
      { op: 'set-activation', layerId: 'L1', activation: 'leaky_relu' },
      { op: 'set-activation', layerId: 'L3', activation: 'leaky_relu' },
    ]);
    expect(await analyze(encoder('nn.LeakyReLU(inplace=True)'))).toEqual([]);
    expect(await analyze(encoder('nn.LeakyReLU(0.2, True)'))).toEqual([]);
    expect(await analyze(encoder('nn.LeakyReLU(False)'))).toEqual([]);
  });

  it('rewrites F.leaky_relu(x, True), whose second parameter is the slope; a slope of 1.0 written as a number gets relu instead', async () => {
    const mlp = (call: string) => `import torch.nn as nn
import torch.nn.functional as F

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc2(${call})
`;
    const [finding] = await analyze(mlp('F.leaky_relu(self.fc1(x), True)'));
    expect(defined(finding).message).toContain("'fc1' feeds 'fc2' through F.leaky_relu, which sets negative_slope=1.0 (True is its slope argument, not inplace): the identity.");
    expect(applyEdits(mlp('F.leaky_relu(self.fc1(x), True)'), defined(finding).fixes[0]!.edits)).toBe(mlp('F.leaky_relu(self.fc1(x), inplace=True)'));
    const [numeric] = await analyze(mlp('F.leaky_relu(self.fc1(x), 1.0)'));
    expect(defined(numeric).message).toContain('through F.leaky_relu, which has a negative slope of 1: the identity.');
    // Not in nn.Sequential: no text fix inserts a relu; the what-if still does.
    expect(defined(numeric).fixes).toEqual([]);
    expect(defined(defined(numeric).whatIf).ops).toEqual([{ op: 'insert-after', afterLayerId: 'L0', kind: 'activation', activation: 'relu' }]);
    expect(await analyze(mlp('F.leaky_relu(self.fc1(x), inplace=True)'))).toEqual([]);
  });
});

describeRuleFixtures('GL103');
