/**
 * keras.applications bases in transfer-learning scripts (test/fixtures/extract/keras/transfer): the
 * catalogue's feature maps, a frozen base read as a fixed feature extractor that the prediction and the
 * probe both feed the head from, and bases that train stated as not modelled by both.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import { applicationSpec } from '../../../src/analysis/extract/keras/applications';
import { backboneOutput } from '../../../src/shared/shapes';
import type { BackboneConfig, ModelIR } from '../../../src/shared/ir';
import { modelPrediction } from '../../../src/shared/knowledge/propagation';
import { planModel } from '../../../src/probe/plan';
import { runProbe } from '../../../src/probe/run';
import { predictedBesideMeasured } from '../../../src/shared/prediction-gap';
import { probeOptions } from '../../../src/shared/probe';
import type { Finding } from '../../../src/shared/findings';
import { defined } from '../../defined';

const DIR = join(__dirname, '../../fixtures/extract/keras/transfer');

/** The last feature map (include_top=False, no pooling) of an architecture for a square image. */
function featureMap(architecture: string, side: number): (number | null)[] | null {
  const spec = defined(applicationSpec(architecture));
  const base: BackboneConfig = { architecture, ...spec, pooling: null, classes: null, training: 'frozen', trainingAt: null, changedLaterAt: null };
  return backboneOutput(base, [side, side, 3]);
}

describe('the keras.applications catalogue', () => {
  it('gives the feature maps the Keras documentation and source state at the default sizes', () => {
    expect(featureMap('VGG16', 224)).toEqual([7, 7, 512]);
    expect(featureMap('VGG19', 224)).toEqual([7, 7, 512]);
    expect(featureMap('ResNet50', 224)).toEqual([7, 7, 2048]);
    expect(featureMap('ResNet152V2', 224)).toEqual([7, 7, 2048]);
    expect(featureMap('MobileNet', 224)).toEqual([7, 7, 1024]);
    expect(featureMap('MobileNetV2', 224)).toEqual([7, 7, 1280]);
    expect(featureMap('MobileNetV3Small', 224)).toEqual([7, 7, 576]);
    expect(featureMap('MobileNetV3Large', 224)).toEqual([7, 7, 960]);
    expect(featureMap('EfficientNetB0', 224)).toEqual([7, 7, 1280]);
    expect(featureMap('EfficientNetB7', 600)).toEqual([19, 19, 2560]);
    expect(featureMap('EfficientNetV2S', 384)).toEqual([12, 12, 1280]);
    expect(featureMap('InceptionV3', 299)).toEqual([8, 8, 2048]);
    expect(featureMap('InceptionResNetV2', 299)).toEqual([8, 8, 1536]);
    expect(featureMap('Xception', 299)).toEqual([10, 10, 2048]);
    expect(featureMap('DenseNet121', 224)).toEqual([7, 7, 1024]);
    expect(featureMap('DenseNet169', 224)).toEqual([7, 7, 1664]);
    expect(featureMap('DenseNet201', 224)).toEqual([7, 7, 1920]);
    expect(featureMap('NASNetMobile', 224)).toEqual([7, 7, 1056]);
    expect(featureMap('NASNetLarge', 331)).toEqual([11, 11, 4032]);
  });

  it('rounds sides that the strides do not divide as each architecture pads', () => {
    // VGG's 'valid' 2x2 pools floor (150 -> 75 -> 37 -> 18 -> 9 -> 4); ResNet's padded stem and 1x1
    // strided convolutions round up (150 -> 75 -> 38 -> 19 -> 10 -> 5); MobileNet's ((0, 1), (0, 1))
    // padding floors after its 'same' stem (150 -> 75 -> 37 -> 18 -> 9 -> 4).
    expect(featureMap('VGG16', 150)).toEqual([4, 4, 512]);
    expect(featureMap('ResNet50', 150)).toEqual([5, 5, 2048]);
    expect(featureMap('MobileNet', 150)).toEqual([4, 4, 1024]);
    expect(featureMap('MobileNetV2', 150)).toEqual([5, 5, 1280]);
    expect(featureMap('InceptionV3', 75)).toEqual([1, 1, 2048]);
    expect(featureMap('InceptionV3', 60)).toBeNull();
  });
});

describe('transfer-learning scripts', () => {
  let project: Project;
  const analyzed = new Map<string, { models: ModelIR[]; findings: Finding[] }>();
  beforeAll(async () => {
    project = await Project.create();
    for (const name of ['sequential', 'sequential_clean', 'functional', 'functional_clean', 'fine_tuning', 'trainable', 'layers_index']) {
      const path = join(DIR, `${name}.py`);
      project.setFile(path, readFileSync(path, 'utf8'));
      analyzed.set(name, project.analyzeFile(path));
    }
  });
  afterAll(() => { project.dispose(); });

  const only = (name: string, model = 'model'): ModelIR => defined(defined(analyzed.get(name)).models.find((m) => m.name === model));
  const codes = (name: string): string[] => defined(analyzed.get(name)).findings.map((f) => f.code);

  it('reads a frozen base as a backbone of the catalogue, not an unknown layer', () => {
    const model = only('sequential');
    const base = defined(model.layers[0]);
    expect(base).toMatchObject({ kind: 'backbone', name: 'base', backbone: { architecture: 'MobileNetV2', channels: 1280, pooling: null, classes: null, training: 'frozen' } });
    expect(model.inputShape).toEqual([160, 160, 3]);
    expect(model.unsupported).toEqual([]);
    // Frozen by the loop over every layer (functional.py) and by `trainable = False` (fine_tuning.py).
    expect(only('functional').layers.find((l) => l.kind === 'backbone')).toMatchObject({ backbone: { architecture: 'ResNet50', training: 'frozen' } });
    const tuned = defined(only('fine_tuning').layers.find((l) => l.kind === 'backbone'));
    expect(tuned).toMatchObject({ backbone: { architecture: 'VGG16', pooling: 'avg', training: 'frozen' } });
    // Unfrozen again after the first fit: noted, not modelled.
    expect(tuned).toMatchObject({ backbone: { changedLaterAt: { start: { line: 17 } } } });
  });

  it('reads a base frozen through its place in a Sequential (model.layers[0].trainable = False)', () => {
    for (const name of ['my_new_model', 'listed']) {
      expect(only('layers_index', name).layers[0]).toMatchObject({ kind: 'backbone', backbone: { architecture: 'ResNet50', training: 'frozen' } });
      expect(modelPrediction(only('layers_index', name)).ok).toBe(true);
    }
  });

  it('judges the head on the features of the frozen base: the sigmoid and tanh stacks are flagged, their clean twins are not', () => {
    expect(codes('sequential')).toContain('GL101');
    expect(codes('functional')).toContain('GL101');
    expect(codes('sequential_clean')).toEqual([]);
    expect(codes('functional_clean')).toEqual([]);
    for (const name of ['sequential', 'sequential_clean', 'functional', 'functional_clean', 'fine_tuning']) {
      const prediction = modelPrediction(only(name));
      if (!prediction.ok) throw new Error(`${name}: ${prediction.reason}`);
      expect(prediction.assumptions.join()).toMatch(/is frozen: a fixed feature extractor whose own gradients are not measured/);
    }
    const sequential = modelPrediction(only('sequential'));
    expect(sequential.ok && sequential.grade).toBe('attenuated');
    const fine = modelPrediction(only('fine_tuning'));
    expect(fine.ok && fine.assumptions.join()).toMatch(/unfrozen again at line 18 after the first compile/);
  });

  it('plans the head on the feature map, and says so, as the prediction does', () => {
    const plan = planModel(only('sequential'), probeOptions({ backend: 'cpu' }));
    expect(plan.layers[0]!.outShape).toEqual([5, 5, 1280]);
    expect(plan.layers[0]!.params).toBe(0);
    const notes = plan.notices.filter((n) => n.message.includes('is frozen: a fixed feature extractor'));
    expect(notes.map((n) => [n.severity, n.line])).toEqual([['information', 6]]);
    const prediction = modelPrediction(only('sequential'));
    expect(prediction.ok && prediction.assumptions).toContain(notes[0]!.message);
    expect(planModel(only('fine_tuning'), probeOptions({ backend: 'cpu' })).layers.find((l) => l.ir.kind === 'backbone')?.outShape).toEqual([512]);
  });

  it('measures the flow the prediction gives for the head, on the feature map and on features the base pools', async () => {
    for (const [name, model] of [['sequential', 'model'], ['fine_tuning', 'model'], ['layers_index', 'listed']] as const) {
      const outcome = await runProbe(only(name, model), probeOptions({ backend: 'cpu', steps: 2, batchSize: 8, seed: 0, budget: { maxStepMs: Number.POSITIVE_INFINITY } }));
      if (!outcome.ok) throw new Error(outcome.error.message);
      const gap = defined(predictedBesideMeasured(outcome.result));
      expect(Math.abs(defined(gap.firstLast.measured) - defined(gap.firstLast.predicted))).toBeLessThan(1);
      // The head reads features of the predicted moments, also where the base averages (VGG16) or takes the maximum (ResNet50) over its map.
      const base = defined(outcome.result.layers.find((l) => l.kind === 'backbone'));
      const prediction = modelPrediction(only(name, model));
      const predicted = defined(prediction.ok ? prediction.layers.find((l) => l.kind === 'backbone') : undefined);
      expect(defined(base.actMean[0]) / predicted.predictedMean).toBeCloseTo(1, 1);
      expect(defined(base.actStd[0]) / predicted.predictedStd).toBeCloseTo(1, 1);
    }
  }, 60_000);

  it('states a base that trains as not modelled, by its name and line, in the prediction, the probe and the notes', () => {
    const cases: [string, RegExp][] = [
      ['whole', /^keras\.applications\.EfficientNetB0 'trained' \(line 5\) trains \(it is not frozen/],
      ['partly', /^keras\.applications\.InceptionV3 'tuned' \(line 9\) is partly unfrozen \(line 10\)/],
    ];
    for (const [name, reason] of cases) {
      const model = only('trainable', name);
      const prediction = modelPrediction(model);
      expect(prediction.ok).toBe(false);
      expect(!prediction.ok && prediction.reason).toMatch(reason);
      expect(() => planModel(model, probeOptions({ backend: 'cpu' }))).toThrow(reason);
      expect(model.unsupported.map((u) => u.what).join()).toMatch(/its layers train/);
    }
  });
});
