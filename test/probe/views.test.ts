/**
 * torch `x.view(...)` / `x.reshape(...)` from real model code to the probe: what each view computes
 * (a flat vector viewed as an image, time folded into the batch, a grid read by a softmax), and a
 * refusal naming the call and what is missing when its sizes cannot be known; a refusal after an
 * operation whose change of shape the probe does not compute (repeat, expand) names that operation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import { planModel, type Plan } from '../../src/probe/plan';
import { runProbe } from '../../src/probe/run';
import type { ModelIR } from '../../src/shared/ir';
import { probeOptions } from '../../src/shared/probe';
import { defined } from '../defined';

// Not in fixtures/probe: refusals and shape-only checks, which prediction-agreement does not compare.
const fixtures = join(__dirname, '../fixtures/probe-views');
let project: Project;

beforeAll(async () => {
  project = await Project.create();
});
afterAll(() => { project.dispose(); });

function modelOf(file: string, name: string): ModelIR {
  const path = join(fixtures, file);
  project.setFile(path, readFileSync(path, 'utf8'));
  return defined(project.analyzeFile(path).models.find((m) => m.name === name));
}

const options = (extra: Parameters<typeof probeOptions>[0] = {}) => probeOptions({ backend: 'wasm', steps: 2, seed: 1, ...extra });

function viewOf(plan: Plan) {
  return defined(plan.layers.find((l) => l.ir.kind === 'reshape' && l.ir.reshape.op === 'view'));
}

function refusal(model: ModelIR, extra: Parameters<typeof probeOptions>[0] = {}): { kind: string; message: string } {
  try {
    planModel(model, options(extra));
  } catch (e) {
    const failure = e as { kind: string; message: string };
    return { kind: failure.kind, message: failure.message };
  }
  throw new Error(`model ${model.name} was planned`);
}

describe('nn.Unflatten in the probe', () => {
  it('nn.Unflatten(1, (C, H, W)) after a Linear is the view x.view(x.size(0), C, H, W): the same plan and the same gradients', async () => {
    const unflatten = modelOf('torch_unflatten_autoencoder.py', 'ConvAutoencoder');
    const view = modelOf('torch_unflatten_autoencoder.py', 'ViewAutoencoder');
    expect(viewOf(planModel(unflatten, options())).outShape).toEqual(viewOf(planModel(view, options())).outShape);
    const a = await runProbe(unflatten, options());
    const b = await runProbe(view, options());
    if (!a.ok) throw new Error(a.error.message);
    if (!b.ok) throw new Error(b.error.message);
    const norms = (layers: typeof a.result.layers) => layers.filter((l) => l.params > 0).map((l) => l.gradNorm);
    expect(norms(a.result.layers)).toEqual(norms(b.result.layers));
  });

  it('unflattening another axis is refused, naming the layer', () => {
    const refused = refusal(modelOf('torch_unflatten_autoencoder.py', 'UnflattenChannels'));
    expect(refused.kind).toBe('unsupported');
    expect(refused.message).toContain('nn.Unflatten');
  });
});

describe('torch views in the probe', () => {
  it('img.view(img.size(0), *img_shape) with argparse sizes: the flat output becomes the (1, 28, 28) image torch returns', async () => {
    const model = modelOf('torch_view_gan.py', 'Generator');
    const plan = planModel(model, options());
    expect(plan.inputShape).toEqual([100]); // --latent_dim's default
    const last = defined(plan.layers.filter((l) => l.ir.kind === 'dense').at(-1));
    expect(last.outShape).toEqual([784]); // int(np.prod(img_shape)) with the defaults of --channels and --img-size
    expect(viewOf(plan).outShape).toEqual([1, 28, 28]); // the model's output: nothing reads it as channels-last
    const outcome = await runProbe(model, options());
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect(outcome.result.layers.filter((l) => l.kind === 'dense').every((l) => (l.gradNorm[0] ?? 0) > 0)).toBe(true);
  });

  it('out.view(out.shape[0], 128, s, s) before BatchNorm2d: a channels-last 8x8x128 map the convs read', () => {
    const model = modelOf('torch_view_dcgan.py', 'Generator');
    const plan = planModel(model, options());
    expect(viewOf(plan).outShape).toEqual([8, 8, 128]);
    expect(plan.layers[plan.layers.length - 2]?.outShape).toEqual([32, 32, 1]);
  });

  it('its twin whose view does not fit the Linear is refused, naming the call and both sizes', () => {
    const failure = refusal(modelOf('torch_view_dcgan_mismatch.py', 'Generator'));
    expect(failure.kind).toBe('shape');
    expect(failure.message).toContain('out.view(out.size(0), 128, 7, 7)');
    expect(failure.message).toContain('its sizes hold 6272 values per example but its input has 8192');
  });

  it('features.unsqueeze(1) joined to the embeddings along time: the feature vector is the first of 21 steps', async () => {
    const model = modelOf('torch_caption_decoder.py', 'CaptionDecoder');
    expect(model.layers.some((l) => l.shapePassedThrough !== undefined)).toBe(false);
    const plan = planModel(model, options());
    // The features' shape is what the join asks of them: one step of the embeddings' 256 features.
    expect(plan.inputShape).toEqual([256]);
    const unsqueeze = defined(plan.layers.find((l) => l.ir.kind === 'tensor-op'));
    expect(unsqueeze.outShape).toEqual([1, 256]);
    expect(defined(plan.layers.find((l) => l.ir.kind === 'concat')).outShape).toEqual([21, 256]);
    const outcome = await runProbe(model, options());
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect(outcome.result.layers.find((l) => l.kind === 'lstm')?.gradNorm[0]).toBeGreaterThan(0);
  });

  it('an LSTM after embeddings.repeat(1, 1, 2), which the probe does not compute, is refused naming the repeat', () => {
    const model = modelOf('torch_caption_decoder_repeat.py', 'CaptionDecoder');
    // The mark travels with the data: the LSTM and the Linear after it follow the repeat.
    const marked = model.layers.filter((l) => l.shapePassedThrough !== undefined).map((l) => l.kind);
    expect(marked).toEqual(['lstm', 'dense']);
    expect(defined(model.layers.find((l) => l.kind === 'lstm')?.shapePassedThrough).range.start.line).toBe(17);
    const failure = refusal(model);
    expect(failure.kind).toBe('shape');
    expect(failure.message).toMatch(/^nn\.LSTM 'lstm' \(line 12\): expects 512 input features but receives 256 \(after embeddings\.repeat on line 18, whose change of shape the probe does not compute\)$/);
  });

  it('its twin with only a same-shape step (.float()) before the join is refused without naming one', () => {
    const model = modelOf('torch_caption_decoder_mismatch.py', 'CaptionDecoder');
    expect(model.layers.some((l) => l.shapePassedThrough !== undefined)).toBe(false);
    const failure = refusal(model);
    expect(failure.kind).toBe('shape');
    expect(failure.message).toContain('inputs do not fit together');
    expect(failure.message).not.toContain('after');
  });

  it('out.reshape(out.size(0) * out.size(1), out.size(2)) after an LSTM decodes every step with the Linear', async () => {
    const model = modelOf('torch_view_language_model.py', 'RNNLM');
    const plan = planModel(model, options());
    const lstm = defined(plan.layers.find((l) => l.ir.kind === 'lstm'));
    expect(lstm.lastStepOnly).toBe(false);
    expect(viewOf(plan).outShape).toEqual([35, 96]);
    expect(plan.layers[plan.layers.length - 1]?.outShape).toEqual([35, 1000]);
    const outcome = await runProbe(model, options());
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect(outcome.result.layers.find((l) => l.kind === 'embedding')?.gradNorm[0]).toBeGreaterThan(0);
  });

  it('decoded.view(-1, ntoken) after a Linear on every LSTM step folds time into the batch: log_softmax over each step\'s vocabulary', async () => {
    const model = modelOf('torch_view_decoded_steps.py', 'WordModel');
    expect(model.layers.map((l) => l.kind)).toContain('reshape');
    const plan = planModel(model, options());
    expect(viewOf(plan).outShape).toEqual([plan.inputShape[0], 500]);
    const outcome = await runProbe(model, options());
    if (!outcome.ok) throw new Error(outcome.error.message);
    // At initialization the logits are small: the NLL of a softmax over 500 words is about log(500).
    expect(outcome.result.lossName).toBe('nll');
    expect(Math.abs(defined(outcome.result.loss[0]) - Math.log(500))).toBeLessThan(0.1);
    // log_softmax of small logits: mean about -log(500), the logits' spread. Float32 sums of the raw
    // values lose that spread (a variance 1e-5 of the squared mean) and bias the mean.
    const decoder = defined(outcome.result.layers.find((l) => l.name === 'decoder'));
    const logProbs = defined(outcome.result.layers[outcome.result.layers.length - 1]);
    expect(logProbs.kind).toBe('activation');
    expect(Math.abs(defined(logProbs.actMean[0]) + Math.log(500))).toBeLessThan(0.01);
    expect(defined(logProbs.actStd[0]) / defined(decoder.actStd[0])).toBeCloseTo(1, 1);
  });

  it('view(-1, steps * ntoken) after the same Linear flattens each example (twin)', () => {
    const model = modelOf('torch_view_decoded_steps_flat.py', 'FlatModel');
    expect(model.layers.map((l) => l.kind)).toContain('flatten');
    expect(model.layers.map((l) => l.kind)).not.toContain('reshape');
  });

  it('a view read by softmax(dim=-1) keeps torch order, so the softmax spreads over the grid, not over one value', async () => {
    const model = modelOf('torch_view_slot_softmax.py', 'SlotBroadcast');
    const plan = planModel(model, options({ inputShape: [4, 32] }));
    expect(viewOf(plan).outShape).toEqual([4, 8, 8]);
    const outcome = await runProbe(model, options({ inputShape: [4, 32] }));
    if (!outcome.ok) throw new Error(outcome.error.message);
    const dense = outcome.result.layers.filter((l) => l.kind === 'dense');
    expect(dense.every((l) => (l.gradNorm[0] ?? 0) > 1e-6)).toBe(true);
  });

  it('sizes the code computes from an unknown config are refused with the call and the unreadable sizes', () => {
    const failure = refusal(modelOf('torch_view_unknown.py', 'Decoder'));
    expect(failure.kind).toBe('unsupported');
    expect(failure.message).toContain('x.view(x.size(0), ?, ?, ?)');
    expect(failure.message).toContain('3 of its sizes are values the code computes');
    expect(failure.message).not.toMatch(/upsampling|pad/);
  });
});

describe('RepeatVector', () => {
  it('with a length computed from the data repeats the default sequence length, and says so', () => {
    const plan = planModel(modelOf('keras_repeat_vector.py', 'qrnn'), options({ sequenceLength: 9 }));
    const repeat = defined(plan.layers.find((l) => l.ir.kind === 'reshape'));
    expect(repeat.outShape).toEqual([9, 50]);
    expect(plan.notices.some((n) => /RepeatVector .*number of repetitions 9 \(the default sequence length\)/.test(n.message))).toBe(true);
  });

  it('with a constant n repeats n times, without a note', () => {
    const plan = planModel(modelOf('keras_repeat_vector_constant.py', 'qrnn'), options({ sequenceLength: 9 }));
    expect(defined(plan.layers.find((l) => l.ir.kind === 'reshape')).outShape).toEqual([12, 50]);
    expect(plan.notices.some((n) => /repetitions/.test(n.message))).toBe(false);
  });
});
