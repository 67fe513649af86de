import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describeRuleFixtures } from './fixture-fixes';
import { analyzePaths, expectFixture } from './fixture-harness';
import { Project } from '../../../src/analysis/project';
import { rule } from '../../../src/analysis/rules/initialization/init-activation-mismatch';
import type { InitializerIR } from '../../../src/shared/ir';
import { act, applyEdits, buildModel, contextFor, dense, FILE, findRange, layerOf } from './ir-builder';
import { defined } from '../../defined';

const check = (model: ReturnType<typeof buildModel>, sources: Record<string, string> = {}, thresholds: Record<string, number | boolean> = {}) =>
  rule.check(model, contextFor(rule, { thresholds }, sources));

const written = (text: string, snippet: string, init: Omit<InitializerIR, 'range' | 'spelling' | 'explicit'>, nth = 0): InitializerIR => ({
  ...init, spelling: snippet, range: findRange(text, snippet, nth), explicit: true,
});

/** n hidden ReLU layers of width w after `inputs` features, then a linear output. */
function reluStack(n: number, kernelInit: InitializerIR | string | undefined, framework: 'keras' | 'torch' = 'keras', outputShares = false, w = 256, inputs = 256) {
  return buildModel({
    framework,
    layers: [
      ...Array.from({ length: n }, (_, i) => dense(w, { activation: 'relu', kernelInit: kernelInit as InitializerIR, fanIn: i === 0 ? inputs : w, fanOut: w })),
      dense(10, { fanIn: w, fanOut: 10, kernelInit: outputShares ? (kernelInit as InitializerIR) : undefined }),
    ],
  });
}

describe('GL202 init-activation-mismatch (IR)', () => {
  it('reports He on hidden tanh and sigmoid layers, not on the output', () => {
    const model = buildModel({
      layers: [
        dense(64, { activation: 'tanh', kernelInit: 'he_normal', fanIn: 100, fanOut: 64 }),
        dense(64, { activation: 'sigmoid', kernelInit: 'he_uniform', fanIn: 64, fanOut: 64 }),
        dense(1, { activation: 'sigmoid', kernelInit: 'he_normal', fanIn: 64, fanOut: 1 }),
      ],
    });
    const findings = check(model);
    expect(findings.map((f) => f.range.start.line)).toEqual([0, 1]);
    expect(findings[0]!.message).toContain("Use 'glorot_uniform'");
    expect(defined(findings[0]!.whatIf).ops).toEqual([{ op: 'set-kernel-init', layerId: 'L0', init: { name: 'glorot_uniform', params: {}, options: {} } }]);
  });

  it('follows a separate Activation layer to the real activation', () => {
    const model = buildModel({ layers: [dense(64, { kernelInit: 'he_normal', fanIn: 100, fanOut: 64 }), layerOf('dropout'), act('tanh'), dense(1, { fanIn: 64, fanOut: 1 })] });
    const [finding] = check(model);
    expect(defined(finding).message).toContain('tanh layer');
  });

  it('is silent when BatchNorm sits between the layer and its activation', () => {
    const model = buildModel({ layers: [dense(64, { kernelInit: 'he_normal', fanIn: 100, fanOut: 64 }), layerOf('batchnorm'), act('tanh'), dense(1, { fanIn: 64, fanOut: 1 })] });
    expect(check(model)).toEqual([]);
  });

  it('reports Glorot only in deep ReLU stacks (depth option), with the compounded shrinkage', () => {
    expect(check(reluStack(5, 'glorot_uniform'))).toEqual([]);
    const deep = check(reluStack(6, 'glorot_uniform'));
    expect(deep).toHaveLength(6);
    // Glorot with fan_in = fan_out gives std sqrt(1/256) vs He sqrt(2/256): sqrt(2) per layer, 8x over six.
    expect(deep[0]!.message).toContain('stack of 6 ReLU-family layers');
    expect(deep[0]!.message).toContain('shrinks about 8x');
    expect(check(reluStack(4, 'glorot_uniform'), {}, { 'glorot-relu-min-depth': 4 })).toHaveLength(4);
    expect(check(reluStack(8, 'he_normal'))).toEqual([]);
  });

  it('counts the ReLU stack between normalization layers only', () => {
    const layers = Array.from({ length: 8 }, (_, i) => [dense(256, { activation: 'relu', kernelInit: 'glorot_uniform', fanIn: 256, fanOut: 256 }), ...(i % 2 === 1 ? [layerOf('layernorm')] : [])]).flat();
    expect(check(buildModel({ layers: [...layers, dense(10, { fanIn: 256, fanOut: 10 })] }))).toEqual([]);
  });

  it('counts parallel branches once: Inception-style modules of three ReLU branches are as deep as the modules', () => {
    const modules = (count: number) => {
      const layers: Parameters<typeof buildModel>[0]['layers'] = [];
      let previous = -1;
      for (let m = 0; m < count; m++) {
        const branches = [0, 1, 2].map(() => {
          layers.push(dense(64, { activation: 'relu', kernelInit: 'glorot_uniform', fanIn: m === 0 ? 256 : 192, fanOut: 64, inputs: previous < 0 ? [] : [previous] }));
          return layers.length - 1;
        });
        layers.push(layerOf('concat', { inputs: branches }));
        previous = layers.length - 1;
      }
      layers.push(dense(10, { fanIn: 192, fanOut: 10, inputs: [previous] }));
      return buildModel({ isGraph: true, layers });
    };
    // Three modules: 9 ReLU layers in the segment, but a signal crosses only 3 of them.
    expect(check(modules(3))).toEqual([]);
    const deep = check(modules(6));
    expect(deep.length).toBeGreaterThan(0);
    expect(deep[0]!.message).toContain('stack of 6 ReLU-family layers');
  });

  it('judges framework defaults only with judge-default-init', () => {
    expect(check(reluStack(8, undefined))).toEqual([]);
    expect(check(reluStack(8, undefined), {}, { 'judge-default-init': true })).toHaveLength(8);
    const torch = check(reluStack(8, undefined, 'torch'), {}, { 'judge-default-init': true });
    expect(torch[0]!.message).toContain("PyTorch's default kaiming_uniform_(a=sqrt(5))");
    expect(torch[0]!.fixes).toEqual([]);
  });

  it('leaves SELU to GL104', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'selu', kernelInit: 'he_normal', fanIn: 100, fanOut: 64 }), dense(1, { fanIn: 64, fanOut: 1 })] });
    expect(check(model)).toEqual([]);
  });

  it("reports kaiming nonlinearity='tanh' on a ReLU layer and fixes the keyword", () => {
    const text = "import torch.nn as nn\nnn.init.kaiming_normal_(self.fc1.weight, nonlinearity='tanh')\n";
    const init = written(text, "nn.init.kaiming_normal_(self.fc1.weight, nonlinearity='tanh')", { name: 'kaiming_normal', params: { a: 0 }, options: { mode: 'fan_in', nonlinearity: 'tanh' }, framework: 'torch' });
    const model = buildModel({ framework: 'torch', layers: [dense(256, { kernelInit: init, fanIn: 784, fanOut: 256, line: 5 }), act('relu', { line: 6 }), dense(10, { line: 7, fanIn: 256, fanOut: 10 })] });
    const findings = check(model, { [FILE]: text });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(1);
    expect(findings[0]!.message).toContain("Use nonlinearity='relu'");
    expect(findings[0]!.fixes[0]!.safety).toBe('safe');
    expect(applyEdits(text, findings[0]!.fixes[0]!.edits)).toContain("nn.init.kaiming_normal_(self.fc1.weight, nonlinearity='relu')");
  });

  it("reports kaiming with the default nonlinearity on a tanh layer and inserts nonlinearity='tanh'", () => {
    const text = 'from torch import nn\nnn.init.kaiming_uniform_(self.fc1.weight)\n';
    const init = written(text, 'nn.init.kaiming_uniform_(self.fc1.weight)', { name: 'kaiming_uniform', params: { a: 0 }, options: { mode: 'fan_in', nonlinearity: 'leaky_relu' }, framework: 'torch' });
    const model = buildModel({ framework: 'torch', layers: [dense(64, { kernelInit: init, fanIn: 32, fanOut: 64, line: 5 }), act('tanh', { line: 6 }), dense(1, { line: 7, fanIn: 64, fanOut: 1 })] });
    const [finding] = check(model, { [FILE]: text });
    expect(defined(finding).message).toContain("He/Kaiming's ReLU gain");
    expect(applyEdits(text, defined(finding).fixes[0]!.edits)).toContain("nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity='tanh')");
  });

  it('rewrites xavier_uniform_ in a deep ReLU stack to kaiming_normal_, unsafe when the init is shared with the output layer', () => {
    const text = 'import torch\nimport torch.nn as nn\n\ndef init(m):\n    torch.nn.init.xavier_uniform_(m.weight)\n';
    const init = written(text, 'torch.nn.init.xavier_uniform_(m.weight)', { name: 'xavier_uniform', params: { gain: 1 }, options: {}, framework: 'torch' });
    const findings = check(reluStack(6, init, 'torch', true), { [FILE]: text });
    expect(check(reluStack(6, init, 'torch', false), { [FILE]: text })[0]!.fixes[0]!.safety).toBe('safe');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.range.start.line).toBe(4);
    expect(findings[0]!.related).toHaveLength(6);
    const fix = findings[0]!.fixes[0]!;
    expect(fix.safety).toBe('unsafe');
    expect(applyEdits(text, fix.edits)).toContain("torch.nn.init.kaiming_normal_(m.weight, nonlinearity='relu')");
  });

  it('is silent for a squeeze-and-excitation gate initialized by a shared He loop', () => {
    const model = buildModel({
      isGraph: true,
      layers: [
        layerOf('conv2d', { activation: 'relu', kernelInit: 'he_normal', fanIn: 27, fanOut: 576 }),
        layerOf('global-pool', { inputs: [0] }),
        dense(16, { activation: 'relu', kernelInit: 'he_normal', fanIn: 64, fanOut: 16, inputs: [1] }),
        dense(64, { activation: 'sigmoid', kernelInit: 'he_normal', fanIn: 16, fanOut: 64, inputs: [2] }),
        layerOf('multiply', { inputs: [0, 3] }),
        layerOf('conv2d', { activation: 'relu', kernelInit: 'he_normal', fanIn: 576, fanOut: 576, inputs: [4] }),
        dense(10, { fanIn: 64, fanOut: 10, inputs: [5] }),
      ],
    });
    expect(check(model)).toEqual([]);
  });

  it('is silent when the activation cannot be determined', () => {
    const model = buildModel({ layers: [dense(64, { kernelInit: 'he_normal', fanIn: 10, fanOut: 64 }), act('unknown'), dense(1)] });
    expect(check(model)).toEqual([]);
  });
});

describeRuleFixtures('GL202');

describe('GL202 judge-default-init (real analyzer)', () => {
  const path = join(__dirname, '../../fixtures/rules/GL202/option_judge_defaults.py');
  const settings = { thresholds: { 'judge-default-init': true } };

  it('is silent by default and reports the Keras default glorot_uniform in a deep ReLU stack when asked', async () => {
    const [silent] = await analyzePaths([path]);
    expect(defined(silent).findings).toEqual([]);
    const [result] = await expectFixture(path, settings);
    expect(defined(result).findings[0]!.message).toContain('the Keras default glorot_uniform');
  });

  it("inserts kernel_initializer='he_normal', which removes the finding", async () => {
    const [result] = await analyzePaths([path], settings);
    const text = readFileSync(path, 'utf8');
    const finding = defined(result).findings[0]!;
    const edited = applyEdits(text, finding.fixes[0]!.edits);
    expect(edited.split('\n')[finding.range.start.line]).toContain('layers.Dense(128, activation="relu", kernel_initializer="he_normal")');
    const project = await Project.create({ settingsFor: () => ({ select: null, ignore: [], severity: {}, thresholds: settings.thresholds }) });
    project.setFile(path, edited);
    const [after] = project.analyzeAll();
    project.dispose();
    expect(defined(after).findings.filter((f) => f.range.start.line === finding.range.start.line)).toEqual([]);
  });
});

describe('GL202 severity from the predicted gradient flow (issue 9)', () => {
  /** `depth` square hidden layers of `activation` initialized with `init`, fans known, a linear output. */
  function sized(depth: number, activation: 'tanh' | 'sigmoid', init: string) {
    const hidden = Array.from({ length: depth }, () => dense(128, { activation, kernelInit: init as unknown as InitializerIR, fanIn: 128, fanOut: 128 }));
    const model = buildModel({ layers: [...hidden, dense(1, { fanIn: 128, fanOut: 1 })] });
    model.inputShape = [128];
    return model;
  }

  it('is information, quoting the predicted ratio, when He on a shallow tanh net is predicted healthy', () => {
    const findings = check(sized(2, 'tanh', 'he_normal'));
    expect(findings).toHaveLength(2);
    for (const f of findings) {
      expect(f.severity).toBe('information');
      expect(f.message).toMatch(/Predicted healthy: the first layer gets ~[\d.]+ of the last hidden layer's gradient at initialization\.$/);
    }
  });

  it('warns, with the number, when the prediction crosses the vanishing threshold (He on a deep sigmoid stack)', () => {
    const findings = check(sized(10, 'sigmoid', 'he_normal'));
    expect(findings).toHaveLength(10);
    expect(new Set(findings.map((f) => f.severity))).toEqual(new Set(['warning']));
    expect(findings[0]!.message).toMatch(/Predicted vanishing: the first layer gets ~\de-\d+ of the last hidden layer's gradient at initialization\.$/);
  });

  it('falls back to the initializer alone, a warning that says so, when the model cannot be propagated', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'tanh', kernelInit: 'he_normal' as unknown as InitializerIR }), dense(64, { activation: 'tanh' }), dense(1)] });
    const [finding] = check(model);
    expect(defined(finding).severity).toBe('warning');
    expect(defined(finding).message).toMatch(/\(No prediction: .*judged by the structure alone\.\)$/);
  });
});
