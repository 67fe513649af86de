/**
 * The probe's size and time budget: a model over it is scaled, not refused. A step must fit the
 * multiply-add and activation budgets and its estimated time on the wasm backend (cost.ts) the step
 * time budget, so the first chart comes within seconds whatever the model. In order: a smaller batch
 * (down to MIN_BATCH), then for networks whose parameters do not depend on the image size
 * (convolutions up to a global pool) a smaller spatial size down to MIN_SIDE, then a batch down to
 * MIN_BATCH_LAST, then a smaller spatial size below MIN_SIDE. Widths and fans never change: a spatial
 * size is used only when it leaves every layer's parameter count as it was. Every scaling is named in
 * a note. Only a model over the parameter budget is refused (its weights alone would not fit in memory).
 */
import type { ModelIR } from '../shared/ir';
import type { ProbeNotice, ProbeOptions } from '../shared/probe';
import { describeLayer, layerLine, ProbeFailure } from './errors';
import { activationsPerExample, estimatedStepMs, stepMacsPerExample } from './cost';
import { planModel, size, type Plan, type Shape } from './plan';

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
 * the user's size would show.
 */
const MIN_VALUES_PER_NORM_CHANNEL = 16;

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
    `model ${model.name} has ${fmt(total)} parameters, over the probe budget of ${fmt(options.budget.maxParams)}; the largest layer is ${describeLayer(biggest.ir)} with ${fmt(biggest.params)} (output ${biggest.outShape.join('x')}).`,
    { name: biggest.ir.name, line: layerLine(biggest.ir) },
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

/** A smaller input (sides >= `minSide`) whose plan has exactly the same parameters per layer; null when none does. */
function smallerSpatial(model: ModelIR, options: ProbeOptions, plan: Plan, batch: number, minSide: number): Plan | null {
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

/** Why the input cannot shrink below the plan's, for the refusal: the layer that refuses half the size, or the fan that would change. */
function whyNotSmaller(model: ModelIR, options: ProbeOptions, plan: Plan): string {
  const axes = spatialAxes(plan);
  if (axes.length === 0) return '';
  const half: Shape = plan.inputShape.map((d, i) => (axes.includes(i) ? Math.ceil(d / 2) : d));
  const at = half.join('x');
  try {
    const smaller = planModel(model, options, half);
    const changed = smaller.layers.find((l, i) => l.params !== plan.layers[i]?.params);
    return changed ? `Its input cannot shrink: at ${at}, ${describeLayer(changed.ir)} would have other parameters.` : '';
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
    const smaller = smallerSpatial(model, options, current, batch, minSide);
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
      `model ${model.name} needs ${fmt(activationsPerExample(current) * batch)} activation values per step even at batch ${batch}, over the probe budget of ${fmt(options.budget.maxActivations)} (the memory of the wasm backend: a training step holds about ${ACTIVATION_BYTES} bytes per value, and the backend stops at 4 GB); the largest output is ${describeLayer(biggest.ir)} (${biggest.outShape.join('x')} per example). ${whyNotSmaller(model, options, current)}`,
      { name: biggest.ir.name, line: layerLine(biggest.ir) },
    );
  }
  const notice: ProbeNotice = {
    severity: 'information',
    message: `Scaled to the probe's size budget: ${scaled.join(', ')}; widths and fans unchanged (about ${fmt(Math.round((stepMacsPerExample(current) * batch) / 1e6))} M multiply-adds per step, estimated at ${(estimatedStepMs(current, batch) / 1000).toFixed(1)} s on the wasm backend).`,
    line: null,
  };
  current.notices.push(notice);
  return { plan: current, batchSize: batch };
}
