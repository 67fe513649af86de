/**
 * The static prediction against PyTorch itself: for every reference case (reference-cases.ts), per
 * weighted layer, the predicted log10(gradient norm / the last layer's) at initialization against
 * PyTorch 1.13's step-1 mean over seeds. The prediction is a mean-field model, so the bar is the one
 * the prediction-beside-measurement view uses (a decade per layer) and a mean error across all layers
 * well below it; the table of the worst cases is in the failure message. Not modelled, and the main
 * part of the error left: the loss gradient's component common to every example (the output's mean at
 * initialization), which sums coherently over the batch into every layer whose input has a mean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import { modelPrediction, type LayerPrediction } from '../../src/shared/knowledge/propagation';
import { referenceGroups, referenceModel, type ReferenceCase } from './reference-cases';

/** Largest error of one layer, in decades. */
const LAYER_DECADES = 1;
/** Largest mean error over every layer of every case, in decades (0.109 when written). */
const MEAN_DECADES = 0.15;

let project: Project;
beforeAll(async () => {
  project = await Project.create();
});
afterAll(() => {
  project.dispose();
});

interface Compared {
  name: string;
  errors: number[];
  /** Predicted minus PyTorch, per layer. */
  signed: number[];
  table: string;
}

/**
 * The case's layers beside the prediction's. PyTorch also counts BatchNorm's affine weights, which the
 * prediction does not judge: where the counts differ, layers are matched by module name.
 */
function compare(c: ReferenceCase, predicted: LayerPrediction[]): Compared {
  const weighted = predicted.flatMap((l) => (l.weighted && l.log10GradRatio !== null ? [{ name: l.name, ratio: l.log10GradRatio }] : []));
  const byName = new Map(weighted.map((l) => [l.name, l.ratio]));
  const pairs = c.layers.flatMap((ref, i) => {
    const ratio = weighted.length === c.layers.length ? weighted[i]?.ratio : byName.get(ref.module);
    return ratio === undefined ? [] : [{ ref, ratio }];
  });
  const last = c.layers[c.layers.length - 1];
  expect(pairs.at(-1)?.ref, `${c.name}: the prediction has no layer ${last?.module ?? '-'} to measure against`).toBe(last);
  const judged = pairs.flatMap(({ ref, ratio }) => (ref.log10Ratio === null ? [] : [{ module: ref.module, torch: ref.log10Ratio, ratio }]));
  const signed = judged.map(({ torch, ratio }) => ratio - torch);
  const table = judged.map(({ module, torch, ratio }) => `${module}: predicted ${ratio.toFixed(2)}, torch ${torch.toFixed(2)}`).join('; ');
  return { name: c.name, errors: signed.map(Math.abs), signed, table };
}

describe('the prediction against PyTorch reference profiles', () => {
  it(`is within ${LAYER_DECADES} decade per layer, and ${MEAN_DECADES} on average, of PyTorch at step 1`, () => {
    const compared = referenceGroups.flatMap(({ group, data }) =>
      data.cases.map((c, index) => {
        const prediction = modelPrediction(referenceModel(project, group, index, c));
        expect(prediction.ok, `${c.name}: ${prediction.ok ? '' : prediction.reason}`).toBe(true);
        return prediction.ok ? compare(c, prediction.layers) : { name: c.name, errors: [], signed: [], table: '' };
      }),
    );
    const all = compared.flatMap((c) => c.errors);
    const worst = [...compared].sort((a, b) => Math.max(0, ...b.errors) - Math.max(0, ...a.errors)).slice(0, 5);
    const report = worst.map((c) => `${c.name} (worst ${Math.max(0, ...c.errors).toFixed(2)}): ${c.table}`).join('\n');
    expect(all.length).toBeGreaterThan(100);
    expect(Math.max(...all), report).toBeLessThanOrEqual(LAYER_DECADES);
    expect(all.reduce((a, b) => a + b, 0) / all.length, report).toBeLessThanOrEqual(MEAN_DECADES);
  }, 120_000);
});

/** Largest error of one layer of a model whose heads train on losses of their own (cases/losses.py), in decades. */
const HEAD_DECADES = 0.3;

describe('the prediction of heads trained on different losses', () => {
  // The bar above would pass heads all given one size of gradient (each case's head was ~0.6-1.1 decades off then).
  it.each(referenceGroups.filter((g) => g.group === 'losses').flatMap(({ group, data }) => data.cases.map((c, index) => ({ group, c, index, name: c.name }))))(
    `is within ${HEAD_DECADES} decades of PyTorch on every layer: $name`,
    ({ group, c, index }) => {
      const prediction = modelPrediction(referenceModel(project, group, index, c));
      expect(prediction.ok).toBe(true);
      if (!prediction.ok) return;
      const { errors, table } = compare(c, prediction.layers);
      expect(errors.length).toBe(c.layers.length);
      expect(Math.max(...errors), table).toBeLessThanOrEqual(HEAD_DECADES);
    },
  );
});

/** Largest distance of one layer's error from the case's median error, in decades. */
const SHAPE_DECADES = 0.3;

describe('the prediction through a strided transposed convolution with BatchNorm after it', () => {
  // Every ratio is to the last layer, so an error there (the loss gradient's common part, see above) moves
  // them all alike; what is left is the profile's shape. A ConvTranspose2d reading a 1 x 1 map its input
  // conv's bias dominates: each weight reads one class of output positions, whose gradient sums keep their
  // share of that mean although BatchNorm centres the channel (0.7 decades below its neighbours without it).
  const bottleneck = referenceGroups.filter((g) => g.group === 'layers').flatMap(({ group, data }) => data.cases.map((c, index) => ({ group, c, index })).filter(({ c }) => c.name.startsWith('encoder-decoder through a 1 x 1 bottleneck')));
  it(`follows PyTorch's profile within ${SHAPE_DECADES} decades of the case's median error on every layer`, () => {
    expect(bottleneck).toHaveLength(1);
    for (const { group, c, index } of bottleneck) {
      const prediction = modelPrediction(referenceModel(project, group, index, c));
      expect(prediction.ok).toBe(true);
      if (!prediction.ok) continue;
      const { signed, table } = compare(c, prediction.layers);
      const median = [...signed].sort((a, b) => a - b)[Math.floor(signed.length / 2)] ?? 0;
      expect(Math.max(...signed.map((e) => Math.abs(e - median))), table).toBeLessThanOrEqual(SHAPE_DECADES);
    }
  });
});
