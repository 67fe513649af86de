/**
 * The probe's size and time budget: a model over it is scaled, not refused. A step must fit the
 * multiply-add and activation budgets and its estimated time on the wasm backend (cost.ts) the step
 * time budget, so the first chart comes within seconds whatever the model. In order: a smaller batch
 * (down to MIN_BATCH), then for networks whose parameters do not depend on the image size
 * (convolutions up to a global pool; not a ViT's positional table of its patches, see fewerTokens) a
 * smaller spatial size down to MIN_SIDE, then a batch down to MIN_BATCH_LAST, then a smaller spatial
 * size below MIN_SIDE. Widths and fans never change: a spatial
 * size is used only when it leaves every layer's parameter count as it was. Nor does what is measured:
 * no convolution or pooling window is cut (see cutWindow) and every BatchNorm keeps its values per
 * channel, since at a 1x1 image a ResNet-50's 3x3 convolutions see their centre tap only and its
 * first/last-hidden gradient ratio grows from ~400 to ~2,400 (PyTorch, docs/probe.md). Every scaling is
 * named in a note. A step over the time budget at that floor runs anyway (the run's deadline cuts the
 * steps); a model over the parameter, multiply-add or activation budget at it is refused, naming the
 * scale it would need.
 */
import type { ModelIR } from '../shared/ir';
import type { ProbeNotice, ProbeOptions } from '../shared/probe';
import { describeLayer, layerLine, ProbeFailure } from './errors';
import { activationsPerExample, estimatedStepMs, stepMacsPerExample } from './cost';
import { planModel, size, type PlannedLayer, type Plan, type Shape } from './plan';
import { convOf, isPool } from '../shared/layers';
import { perDim } from '../shared/shapes';

/**
 * Batch sizes the first scaling step stops at, and the last one. A model without batch statistics
 * (no BatchNorm: each example is computed alone, as with InstanceNorm or LayerNorm) goes down to one
 * example per step, what pix2pix trains with.
 */
const MIN_BATCH = 8;
const MIN_BATCH_LAST = 2;
const MIN_BATCH_PER_EXAMPLE = 1;
/** The smallest image side spatial scaling goes down to. */
const MIN_SIDE = 8;
/**
 * A BatchNorm normalizes each channel over the batch and the positions. Scaling keeps at least this
 * many values per channel at every BatchNorm: with very few its statistics are degenerate (at 2 values
 * its outputs are +-1 whatever its input and no gradient passes back), which no run of the model at
 * the user's size would show. Measured in PyTorch 1.13 on a bottleneck ResNet-50 at 32x32 (its last
 * stage 1x1, so values = batch there), first/last-hidden gradient ratio over 3 seeds: batch 16 423,
 * 12 487, 8 653, 4 3,750, 2 2e8; at 224x224, batch 16: 390. 12 stays within 0.06 decades of 16.
 */
const MIN_VALUES_PER_NORM_CHANNEL = 12;

const fmt = (n: number) => n.toLocaleString('en-US');

/** The model's parameters: a layer object applied several times holds one set (LayerIR.sharesWeightsWith). */
function totalParams(plan: Plan): number {
  return plan.layers.reduce((s, l) => s + (l.ir.sharesWeightsWith === null ? l.params : 0), 0);
}

function assertParams(model: ModelIR, plan: Plan, options: ProbeOptions): void {
  const total = totalParams(plan);
  if (total <= options.budget.maxParams) return;
  const biggest = [...plan.layers].sort((a, b) => b.params - a.params)[0]!;
  throw new ProbeFailure(
    'budget',
    `model ${model.name} has ${fmt(total)} parameters, over the probe budget of ${fmt(options.budget.maxParams)}; the largest layer is ${describeLayer(biggest.ir)} with ${fmt(biggest.params)} (output ${biggest.outShape.join('x')}). The probe trains every weight, so a smaller batch or input does not change this; a smaller configuration of the model (fewer or narrower layers) does.`,
    { name: biggest.ir.name, line: layerLine(biggest.ir) },
    false,
  );
}

export interface BudgetedPlan {
  plan: Plan;
  batchSize: number;
}

/** Positions (values per example) each channel of the plan's fewest-positions BatchNorm is normalized over; null without one. */
function fewestNormPositions(plan: Plan): number | null {
  const positions = plan.layers.filter((l) => l.ir.kind === 'batchnorm').map((l) => size(l.outShape.slice(0, -1)));
  return positions.length ? Math.min(...positions) : null;
}

/** The smallest batch (at most `asked`) that keeps every BatchNorm's statistics meaningful at this plan's sizes. */
function normBatchFloor(plan: Plan, asked: number): number {
  const positions = fewestNormPositions(plan);
  return positions === null ? 1 : Math.min(asked, Math.ceil(MIN_VALUES_PER_NORM_CHANNEL / positions));
}

/** The largest batch <= `batch` and >= `floor` whose step fits the budget (`floor` when none does). */
function fittingBatch(plan: Plan, batch: number, floor: number, options: ProbeOptions): number {
  const byMacs = Math.floor(options.budget.maxStepMacs / stepMacsPerExample(plan));
  const byActivations = Math.floor(options.budget.maxActivations / activationsPerExample(plan));
  // The estimated step time is affine in the batch.
  const fixedMs = estimatedStepMs(plan, 0);
  const byTime = Math.floor((options.budget.maxStepMs - fixedMs) / (estimatedStepMs(plan, 1) - fixedMs));
  return Math.min(batch, Math.max(floor, Math.min(byMacs, byActivations, byTime)));
}

function fits(plan: Plan, batch: number, options: ProbeOptions): boolean {
  const { budget } = options;
  return stepMacsPerExample(plan) * batch <= budget.maxStepMacs && activationsPerExample(plan) * batch <= budget.maxActivations && estimatedStepMs(plan, batch) <= budget.maxStepMs;
}

/** Image inputs (H, W, C or D, H, W, C) of a float model: the spatial axes can shrink. */
function spatialAxes(plan: Plan): number[] {
  if (plan.input.kind !== 'float' || plan.inputShape.length < 3) return [];
  return plan.inputShape.slice(0, -1).map((_, i) => i);
}

/** A window a smaller input would cut: the layer, the axis's input side there and its (dilated) kernel. */
interface CutWindow {
  layer: PlannedLayer;
  side: number;
  kernel: number;
}

/** The (dilated) window of a convolution or pooling layer per spatial axis; null for other layers (a transposed convolution spreads its input, it does not read a window of it). */
function windowOf(layer: PlannedLayer, axes: number): number[] | null {
  const { ir } = layer;
  if (ir.kind === 'conv-transpose') return null;
  const kernel = perDim(ir.kernelSize, axes);
  if (!kernel) return null;
  const conv = convOf(ir);
  const dilation = conv ? perDim(conv.dilation, axes) : isPool(ir) ? perDim(ir.pool.dilation, axes) : null;
  if (!conv && !isPool(ir)) return null;
  return kernel.map((k, i) => (k - 1) * (dilation?.[i] ?? 1) + 1);
}

const isPadding = (layer: PlannedLayer) => layer.ir.kind === 'reshape' && (layer.ir.reshape.op === 'zero-padding' || layer.ir.reshape.op === 'edge-padding');

/**
 * The spatial sides of layer `index`'s input before any padding layers feeding it (Keras
 * `ZeroPadding2D` then a 'valid' Conv2D, torch `ReflectionPad2d` then a Conv2d): padding makes a
 * window fit, it adds no data for it to read.
 */
function contentSides(plan: Plan, index: number): Shape | null {
  let layer = plan.layers[index];
  if (!layer) return null;
  for (let from = layer.inputs[0]; from !== undefined && from >= 0 && isPadding(plan.layers[from]!); from = layer.inputs[0]) layer = plan.layers[from]!;
  return layer.inShapes[0]?.slice(0, -1) ?? null;
}

/**
 * The first window `candidate` (the model at a smaller input) cuts: a layer whose input side on some
 * axis falls below its kernel where at `original` it held the whole kernel (or below its side there
 * when that was already smaller). A cut window sees a different neighbourhood than at the user's
 * size (at 1x1 a 3x3 convolution reads its centre tap only), so the gradients measured would not be
 * the model's. Null when every window still reads what it reads at `original`.
 */
function cutWindow(candidate: Plan, original: Plan): CutWindow | null {
  for (const [i, layer] of candidate.layers.entries()) {
    const sides = contentSides(candidate, i);
    const originalSides = contentSides(original, i);
    if (!sides || !originalSides || sides.length === 0) continue;
    const window = windowOf(layer, sides.length);
    if (!window) continue;
    const axis = sides.findIndex((side, j) => side < Math.min(window[j]!, originalSides[j]!));
    if (axis >= 0) return { layer, side: sides[axis]!, kernel: window[axis]! };
  }
  return null;
}

/**
 * Whether a positional table (a ViT's pos_emb, as many rows as its image has patches) reads fewer
 * tokens in `candidate` than in `plan`: its parameters are sized by the image, and the tokens are what
 * attention mixes (at one patch a softmax over one key is constant and W_q, W_k get no gradient).
 */
function fewerTokens(candidate: Plan, plan: Plan): boolean {
  return candidate.layers.some((l, i) => l.ir.kind === 'position-embedding' && (l.outShape[0] ?? 0) < (plan.layers[i]?.outShape[0] ?? 0));
}

const describeCut = (cut: CutWindow) => `${describeLayer(cut.layer.ir)}'s window of ${cut.kernel} would see an input side of ${cut.side}`;

/**
 * A smaller input (sides >= `minSide`) whose plan has exactly the same parameters per layer, cuts no
 * window of `original` (the user's size) and keeps BatchNorm statistics; null when none does.
 */
function smallerSpatial(model: ModelIR, options: ProbeOptions, original: Plan, plan: Plan, batch: number, minSide: number): Plan | null {
  const axes = spatialAxes(plan);
  if (axes.length === 0) return null;
  const params = plan.layers.map((l) => l.params);
  let best: Plan | null = null;
  let previous: Shape = plan.inputShape;
  for (let factor = 2; ; factor *= 2) {
    const shape: Shape = plan.inputShape.map((d, i) => (axes.includes(i) ? Math.ceil(d / factor) : d));
    if (axes.some((i) => shape[i]! < minSide && plan.inputShape[i]! >= minSide)) break;
    // Every side is down to 1. (Compared with the plan's own input, a model still over budget at 1x1
    // was planned again at 1x1 for every doubling of the factor until it overflowed: ~1,000 plans, seconds for a ResNet-152.)
    if (shape.every((d, i) => d === previous[i])) break;
    previous = shape;
    let candidate: Plan;
    try {
      candidate = planModel(model, options, shape);
    } catch {
      break; // too small for some kernel or pool
    }
    if (candidate.layers.some((l, i) => l.params !== params[i])) break; // a width or fan would change
    if (fewerTokens(candidate, plan)) break; // a positional table sized for the image's patches would be read on fewer
    if (cutWindow(candidate, original)) break; // a kernel would read less than at the user's size
    const positions = fewestNormPositions(candidate);
    if (positions !== null && positions * batch < MIN_VALUES_PER_NORM_CHANNEL && positions < (fewestNormPositions(plan) ?? 0)) break; // BatchNorm statistics would degenerate
    best = candidate;
    if (fits(candidate, batch, options)) break;
  }
  return best;
}

/**
 * Bytes of wasm memory one activation value costs in a training step (forward values, gradients and
 * the convolutions' work buffers), measured on pix2pix's GeneratorUNet at 256x256, batch 1: 32.6 M
 * values, 3.8 GB resident (batch 2 aborted the wasm backend at 4.4 GB).
 */
const ACTIVATION_BYTES = 115;

/** Why the input cannot shrink below the plan's, for the refusal: the layer that refuses half the size, the fan that would change or the window that would be cut. */
function whyNotSmaller(model: ModelIR, options: ProbeOptions, original: Plan, plan: Plan): string {
  const axes = spatialAxes(plan);
  if (axes.length === 0) return '';
  const half: Shape = plan.inputShape.map((d, i) => (axes.includes(i) ? Math.ceil(d / 2) : d));
  const at = half.join('x');
  try {
    const smaller = planModel(model, options, half);
    const changed = smaller.layers.find((l, i) => l.params !== plan.layers[i]?.params);
    if (changed) return `Its input cannot shrink: at ${at}, ${describeLayer(changed.ir)} would have other parameters.`;
    const cut = cutWindow(smaller, original);
    return cut ? `Its input cannot shrink without changing what is measured: at ${at}, ${describeCut(cut)}.` : '';
  } catch (error) {
    return `Its input cannot shrink: at ${at}, ${error instanceof Error ? error.message : String(error)}.`;
  }
}

export function planWithinBudget(model: ModelIR, options: ProbeOptions): BudgetedPlan {
  const plan = planModel(model, options);
  assertParams(model, plan, options);
  const asked = options.batchSize;
  if (fits(plan, asked, options)) return { plan, batchSize: asked };
  const scaled: string[] = [];
  let batch = fittingBatch(plan, asked, Math.max(Math.min(asked, MIN_BATCH), normBatchFloor(plan, asked)), options);
  let current = plan;
  const original = plan.inputShape;
  // Smaller images at the floor of the batch, first down to MIN_SIDE, then as far as the layers allow.
  const shrink = (minSide: number) => {
    if (fits(current, batch, options)) return;
    const smaller = smallerSpatial(model, options, plan, current, batch, minSide);
    if (smaller) current = smaller;
  };
  shrink(MIN_SIDE);
  if (!fits(current, batch, options)) batch = fittingBatch(current, batch, Math.max(Math.min(asked, MIN_BATCH_LAST), normBatchFloor(current, batch)), options);
  shrink(1);
  if (!fits(current, batch, options) && fewestNormPositions(current) === null) batch = fittingBatch(current, batch, MIN_BATCH_PER_EXAMPLE, options);
  if (current !== plan) scaled.push(`input ${original.join('x')} -> ${current.inputShape.join('x')} (no layer's parameters depend on the image size)`);
  if (batch !== asked) scaled.unshift(`batch ${asked} -> ${batch}`);
  if (activationsPerExample(current) * batch > options.budget.maxActivations) {
    const biggest = [...current.layers].sort((a, b) => size(b.outShape) - size(a.outShape))[0]!;
    throw new ProbeFailure(
      'budget',
      `model ${model.name} needs ${fmt(activationsPerExample(current) * batch)} activation values per step even at batch ${batch}, over the probe budget of ${fmt(options.budget.maxActivations)} (the memory of the wasm backend: a training step holds about ${ACTIVATION_BYTES} bytes per value, and the backend stops at 4 GB); the largest output is ${describeLayer(biggest.ir)} (${biggest.outShape.join('x')} per example). ${whyNotSmaller(model, options, plan, current)}`,
      { name: biggest.ir.name, line: layerLine(biggest.ir) },
      true,
    );
  }
  const stepMacs = stepMacsPerExample(current) * batch;
  if (stepMacs > options.budget.maxStepMacs) {
    throw new ProbeFailure(
      'budget',
      `model ${model.name} needs ${fmt(Math.ceil(stepMacs / 1e6))} M multiply-adds per training step at input ${current.inputShape.join('x')} and batch ${batch}, ${Math.ceil(stepMacs / options.budget.maxStepMacs)}x the probe budget of ${fmt(Math.ceil(options.budget.maxStepMacs / 1e6))} M: a step would have to be that many times smaller. ${whyNotSmaller(model, options, plan, current)} A smaller input shape given to the probe (--input-shape) is measured as given.`,
      null,
      true,
    );
  }
  const cost = `about ${fmt(Math.round((stepMacsPerExample(current) * batch) / 1e6))} M multiply-adds per step, estimated at ${(estimatedStepMs(current, batch) / 1000).toFixed(1)} s on the wasm backend`;
  const notice: ProbeNotice = {
    severity: 'information',
    // Nothing to scale (batch and input already as small as the layers allow): the steps are slow, and the note says so.
    message:
      scaled.length > 0
        ? `Scaled to the probe's size budget: ${scaled.join(', ')}; widths and fans unchanged (${cost}).`
        : `Over the probe's time budget per step, with nothing left to scale (batch ${batch}, input ${current.inputShape.join('x')}): ${cost}.`,
    line: null,
  };
  current.notices.push(notice);
  return { plan: current, batchSize: batch };
}
