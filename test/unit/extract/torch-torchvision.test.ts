/**
 * torchvision architectures as sub-modules (issue 11 §2, issue 8 §2): `models.resnet18(...)` is read
 * from the catalogue (src/analysis/extract/torch/torchvision.ts) so the analyzer and the probe see its
 * layers, at the line of the call; a replaced `.fc` and `children()[:-1]` apply to them. A fine-tuning
 * script's ResNet (built at module level or returned by a function) is a model of its own, and says that
 * the pretrained weights it asks for are not read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';
import type { ModelIR } from '../../../src/shared/ir';
import { planModel } from '../../../src/probe/plan';
import { probeOptions } from '../../../src/shared/probe';
import { defined } from '../../defined';

const DIR = join(__dirname, '../../fixtures/torchvision');
let project: Project;
beforeAll(async () => {
  project = await Project.create();
});
afterAll(() => { project.dispose(); });

function analyze(name: string): FileResult {
  project.setFile(name, readFileSync(join(DIR, name), 'utf8'));
  return project.analyzeFile(name);
}
const model = (r: FileResult, name: string): ModelIR => defined(r.models.find((m) => m.name === name));
/** Trainable parameters of the model the probe plans (torch counts BatchNorm's weight and bias, not its running statistics). */
const plannedParams = (m: ModelIR) => planModel(m, probeOptions({ backend: 'cpu' })).layers.reduce((sum, l) => sum + l.params, 0);
const count = (m: ModelIR, kind: string) => m.layers.filter((l) => l.kind === kind).length;

describe('torchvision ResNets', () => {
  it('have the published architecture: layer counts and parameter totals of resnet18/34/50', () => {
    const r = analyze('backbones.py');
    const published: [string, number, number][] = [
      // [model, convolutions incl. projections, parameters as torchvision reports them]
      ['Resnet18', 20, 11_689_512],
      ['Resnet34', 36, 21_797_672],
      ['Resnet50', 53, 25_557_032],
    ];
    for (const [name, convs, params] of published) {
      const m = model(r, name);
      expect(m.layers.some((l) => l.kind === 'unknown'), name).toBe(false);
      expect(count(m, 'conv2d'), name).toBe(convs);
      expect(count(m, 'batchnorm'), name).toBe(convs);
      expect(plannedParams(m), name).toBe(params);
    }
  });

  it('carry torchvision\'s initialization and residual adds, all at the line of the call', () => {
    const m = model(analyze('backbones.py'), 'Resnet18');
    const conv = defined(m.layers.find((l) => l.kind === 'conv2d'));
    expect(conv.kernelInit).toMatchObject({ name: 'kaiming_normal', options: { mode: 'fan_out', nonlinearity: 'relu' } });
    expect(conv.useBias).toBe(false);
    expect(defined(m.layers.at(-1)).kernelInit?.name).toBe('kaiming_uniform');
    expect(count(m, 'add')).toBe(8);
    expect(m.isGraph).toBe(true);
    expect(new Set(m.layers.map((l) => l.range.start.line + 1))).toEqual(new Set([9]));
  });

  it('a replaced head is the new Linear at its own line; the Linear it feeds through Dropout only is GL103', () => {
    const r = analyze('head_replaced.py');
    const m = model(r, 'Embedder');
    expect(defined(m.layers.find((l) => l.name === 'backbone.fc'))).toMatchObject({ units: 1024, inFeatures: 512, range: { start: { line: 11 } } });
    expect(r.findings.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL103', 12]]);
    expect(r.notices.some((n) => n.message.includes('pretrained weights are not read'))).toBe(true);
  });

  it('the clean twin (a ReLU between them) reports nothing', () => {
    const r = analyze('head_replaced_relu.py');
    expect(model(r, 'Embedder').layers.some((l) => l.kind === 'unknown')).toBe(false);
    expect(r.findings).toEqual([]);
  });

  it('a script that builds and trains a ResNet at module level has it as a model, named by its variable, head replaced', () => {
    const r = analyze('finetune_script.py');
    expect(r.models.map((m) => m.name)).toEqual(['model_ft']);
    const m = model(r, 'model_ft');
    expect(m.nameRange.start.line + 1).toBe(8);
    expect(count(m, 'conv2d')).toBe(20);
    expect(defined(m.layers.at(-1))).toMatchObject({ name: 'fc', units: 2, inFeatures: 512, range: { start: { line: 9 } } });
    // The probe shows what the analysis does not read.
    expect(m.unsupported.map((u) => [u.what, u.range.start.line + 1])).toEqual([["models.resnet18(pretrained=True): pretrained weights are not read; the model is read with torchvision's own initialization", 8]]);
    expect(r.findings).toEqual([]);
  });

  it('a Sequential head put into a module-level ResNet is a part of it, not a model of its own: its problem is reported once, in the ResNet', () => {
    const r = analyze('finetune_sequential_head.py');
    expect(r.models.map((m) => m.name)).toEqual(['model']);
    expect(defined(model(r, 'model').layers.at(-1))).toMatchObject({ name: 'fc.6', units: 2, inFeatures: 256 });
    expect(r.findings.map((f) => [f.code, f.range.start.line + 1])).toEqual([['GL101', 10]]);
    // The pretrained weights are said once, by the note at the call.
    expect(r.notices.filter((n) => n.message.includes('pretrained weights are not read'))).toHaveLength(1);
    const twin = analyze('finetune_sequential_head_relu.py');
    expect(twin.models.map((m) => m.name)).toEqual(['model']);
    expect(twin.findings).toEqual([]);
  });

  it('a function returning a ResNet is a model named by the function; one returning something else is not this model', () => {
    const r = analyze('finetune_factory.py');
    expect(r.models.map((m) => m.name).sort()).toEqual(['get_backbone', 'get_model', 'get_trunk']);
    const head = model(r, 'get_model');
    expect(defined(head.layers.at(-1))).toMatchObject({ name: 'fc', units: 2, inFeatures: 512 });
    expect(head.unsupported.map((u) => u.range.start.line + 1)).toEqual([7]);
    // weights=None asks for no trained weights: nothing to say.
    const backbone = model(r, 'get_backbone');
    expect(count(backbone, 'conv2d')).toBe(53);
    expect(backbone.unsupported).toEqual([]);
    // A Sequential of the trunk's children is the nn.Sequential model it always was, without the head.
    const trunk = model(r, 'get_trunk');
    expect(trunk.style).toBe('torch-sequential');
    expect(count(trunk, 'dense')).toBe(0);
  });

  it('a model unpacked from what a function returns (the fine-tuning tutorial) is a model, with its frozen trunk and pretrained note', () => {
    const r = analyze('finetune_tutorial.py');
    expect(r.models.map((m) => m.name)).toEqual(['model_ft']);
    const m = model(r, 'model_ft');
    expect(m.nameRange.start.line + 1).toBe(26);
    expect(defined(m.layers.at(-1))).toMatchObject({ name: 'fc', units: 2, inFeatures: 512, frozen: false });
    // feature_extract=True froze every parameter before the head was replaced.
    expect(m.layers.filter((l) => l.kind === 'conv2d').every((l) => l.frozen)).toBe(true);
    // The pretrained call is inside the function, outside the model's statement: the note still reaches the model.
    expect(m.unsupported.map((u) => u.range.start.line + 1)).toEqual([18]);
    expect(r.findings).toEqual([]);
  });

  it('children()[:-1] keeps the trunk without its head; an architecture outside the catalogue stays unknown', () => {
    const r = analyze('features.py');
    const m = model(r, 'Features');
    expect(m.layers.filter((l) => l.kind === 'dense').map((l) => l.name)).toEqual(['embed']);
    expect(defined(m.layers.find((l) => l.name === 'embed')).inFeatures).toBe(2048);
    expect(count(m, 'conv2d')).toBe(53);
    // mobilenet_v2 is not in the catalogue: nothing is invented for it (a model of nothing understood is not reported).
    expect(r.models.some((x) => x.name === 'Mobile')).toBe(false);
  });
});
