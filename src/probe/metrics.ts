/**
 * Per-step measurements with few tfjs ops and a single read-back. Per-op overhead dominates small
 * models on the wasm and cpu backends (tens of microseconds per op), so tensors of the same shape
 * (the outputs of a stack of equal layers, their kernels, their gradients) are stacked and reduced
 * together: a 20-layer MLP is measured with a few dozen ops instead of several hundred.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ProbeNode } from './layers';
import { largestDivisorUpTo, pooledMemberSums, reduceLeading } from './reduce';
import { memberReductions, tailCounts, type MemberReduction } from './wasm-kernels';
import { LAYER_METRIC_KEYS, LAYER_METRICS, SATURATION_LEVEL, type LayerMetricKey, type MeasuredOn, type MeterPart } from '../shared/probe-metrics';

/** Items whose tensors have the same shape, reduced together. */
interface Group {
  items: number[];
  shape: number[];
}

/**
 * Tensors of more values than this are reduced alone, not stacked with their shape-mates: a stack
 * copies its members, and next to that much data the saved ops' overhead is nothing (a ResNet-152's
 * repeated kernels, 58 M weights, were copied twice per step).
 */
const STACKED_UP_TO = 1 << 16;

/** Items grouped by shape (and tag, when given). */
function groupByShape(shapes: number[][], tags: string[] = []): Group[] {
  const groups = new Map<string, Group>();
  shapes.forEach((shape, item) => {
    const key = size(shape) > STACKED_UP_TO ? `alone ${item}` : `${tags[item] ?? ''} ${shape.join('x')}`;
    const group = groups.get(key) ?? { items: [], shape };
    group.items.push(item);
    groups.set(key, group);
  });
  return [...groups.values()];
}

/** [k, ...shape] from the k tensors of a group. */
function stacked(group: Group, tensors: tf.Tensor[]): tf.Tensor {
  const members = group.items.map((i) => tensors[i]!);
  if (members.length === 1) return tf.expandDims(members[0]!, 0);
  // The same values as tf.stack; on wasm its Pack kernel reshapes each member first (one op each).
  if (group.shape.length === 0) return tf.stack(members);
  return tf.reshape(tf.concat(members), [members.length, ...group.shape]);
}

/**
 * Values per partial sum at most: a float32 running sum over millions of values loses digits once its
 * spacing outgrows the terms (3.2 M log-probabilities of -9.2 summed to a mean of -9.46), so a large
 * member is summed in blocks, then the blocks' sums are summed.
 */
const BLOCK = 4096;

/**
 * How a member of this shape is summed: the sums of its innermost axis, then of the next, ...: all
 * values in order ([n]), blocks then the blocks' sums ([n / block, block]), or, for a member of a
 * prime-ish count, axis by axis (its shape, which blocks it).
 */
function summationShape(shape: number[]): number[] {
  const values = size(shape);
  if (values <= BLOCK) return [values];
  const block = largestDivisorUpTo(values, BLOCK);
  return block >= 64 ? [values / block, block] : shape;
}

/** Sum of every element of each member: [k]; `pooled`: a large member's through pooledMemberSums (reduce.ts). */
function perMemberSum(x: tf.Tensor, pooled: boolean): tf.Tensor1D {
  const sums = pooled ? pooledMemberSums(x) : null;
  if (sums) return sums;
  const dims = summationShape(x.shape.slice(1));
  if (dims.length === 1) return tf.sum<tf.Tensor1D>(x, x.shape.slice(1).map((_, i) => i + 1));
  return dims.reduce<tf.Tensor>((y) => tf.sum(y, y.rank - 1), tf.reshape(x, [x.shape[0], ...dims])) as tf.Tensor1D;
}

/** memberReductions, each member summed as perMemberSum sums it (summationShape). */
function reductions(members: tf.Tensor[], kinds: MemberReduction | MemberReduction[]): tf.Tensor1D {
  const each = typeof kinds === 'string' ? members.map(() => kinds) : kinds;
  return memberReductions(members, each, members.map((m) => summationShape(m.shape)), SATURATION_LEVEL);
}

/**
 * Each member's first value, [k, 1, ..., 1]: the shift its output sums are taken from. Gathered from a
 * [k, values] view: the wasm Slice reads the whole tensor out of the heap first (3-8 ms for one value
 * of each member of a [1, 32, 32, 32, 32] stack); the Gather copies k values.
 */
function firstValues(x: tf.Tensor): tf.Tensor {
  const members = x.shape[0];
  const first = tf.gather(tf.reshape(x, [members, x.size / members]), tf.tensor1d([0], 'int32'), 1);
  return tf.reshape(first, x.shape.map((d, i) => (i === 0 ? d : 1)));
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether a node has a metric measured on `on` layers. */
export function measuredOn(on: MeasuredOn, node: ProbeNode): boolean {
  switch (on) {
    case 'every':
      return true;
    case 'weights':
      return node.vars.length > 0;
    case 'saturating':
      return node.measure === 'sigmoid' || node.measure === 'tanh';
    case 'relu':
      return node.measure === 'relu';
  }
}

export interface StepNumbers {
  loss: number;
  /** Per metric, per measured node; null where the node does not have the metric. */
  values: Record<LayerMetricKey, (number | null)[]>;
}

/** Where each number of the packed vector goes: [part, node] per value, in order. */
type Slot = [MeterPart, number];

/**
 * Output values per step up to which the meter runs as one kernel (`fused`). Past it the kernel's
 * passes in JavaScript cost more than the backend's ops: issue 10's CIFAR CNN (12 M output values per
 * step) took ~50 ms more CPU per step fused than with the ops (not tuned between the two sizes).
 */
const FUSED_UP_TO = 1 << 20;

export class StepMeter {
  private readonly outputGroups: Group[];
  private readonly satGroups: Group[];
  private readonly deadGroups: Group[];
  private readonly varGroups: Group[];
  private readonly satNodes: number[];
  private readonly deadNodes: number[];
  /** For each var (flattened over nodes): the measured node it belongs to. */
  private readonly varNode: number[];
  private readonly vars: tf.Variable[];
  private readonly slots: Slot[] = [];

  /**
   * `nodes` are the measured nodes; `batch` the batch size. `gradientScale`: the loss was multiplied
   * by it before differentiation (plain SGD folds its learning rate in), so gradients are divided by it.
   * `exactUpdate`: the optimizer step subtracts exactly the (scaled) gradient, so the weight change
   * needs no before/after comparison. `fused` (wasm, exact update): a step's shifts, sums, sums of
   * squares and saturation counts are one kernel over the tensors themselves (memberReductions, the
   * same numbers: summed in the same order), and the weights' squares are summed before the update
   * instead of copied for after it: no stacks, no op per group. `pooledSums` (not fused, on wasm): a
   * member of 2^18 values or more (a CIFAR CNN's outputs, a large layer's weights) is summed by XNNPACK's
   * average pooling on the backend's threads, the same sums in another order (equal to float32
   * rounding; issue 10's CIFAR CNN: ~7 ms a step less); false: in order, as the fused kernel sums.
   */
  constructor(
    private readonly nodes: ProbeNode[],
    private readonly batch: number,
    private readonly gradientScale = 1,
    private readonly exactUpdate = false,
    private readonly fused = exactUpdate && tf.getBackend() === 'wasm' && nodes.reduce((n, node) => n + batch * size(node.planned.outShape), 0) <= FUSED_UP_TO,
    private readonly pooledSums = tf.getBackend() === 'wasm',
  ) {
    const outShapes = nodes.map((n) => [batch, ...n.planned.outShape]);
    this.outputGroups = groupByShape(outShapes);
    this.satNodes = nodes.flatMap((n, i) => (n.measure === 'sigmoid' || n.measure === 'tanh' ? [i] : []));
    this.deadNodes = nodes.flatMap((n, i) => (n.measure === 'relu' ? [i] : []));
    // Grouped by measure and shape, so each group's tails are computed by one transform of its stack.
    this.satGroups = groupByShape(this.satNodes.map((i) => outShapes[i]!), this.satNodes.map((i) => nodes[i]!.measure ?? ''));
    this.deadGroups = groupByShape(this.deadNodes.map((i) => outShapes[i]!));
    this.vars = nodes.flatMap((n) => n.vars);
    this.varNode = nodes.flatMap((n, i) => n.vars.map(() => i));
    this.varGroups = groupByShape(this.vars.map((v) => v.shape));
    for (const kind of ['shift', 'sum', 'square'] as const) for (const g of this.outputGroups) for (const i of g.items) this.slots.push([kind, i]);
    for (const g of this.satGroups) for (const i of g.items) this.slots.push(['saturated', this.satNodes[i]!]);
    const weightKinds = exactUpdate ? (['grad', 'weight'] as const) : (['grad', 'delta', 'weight'] as const);
    for (const kind of weightKinds) for (const g of this.varGroups) for (const i of g.items) this.slots.push([kind, this.varNode[i]!]);
    for (const g of this.deadGroups) for (const i of g.items) this.slots.push(['dead', this.deadNodes[i]!]);
  }

  /**
   * The weights before the optimizer step, for the update ratio: one stacked tensor per shape group,
   * or (fused) the sums of their squares.
   */
  snapshot(): tf.Tensor[] {
    if (this.fused) return [reductions(this.varGroups.flatMap((g) => g.items.map((i) => this.vars[i]!)), 'squares')];
    return tf.tidy(() => this.varGroups.map((g) => stacked(g, this.vars)));
  }

  /** The loss and the parts before the dead units, in slot order, as one kernel (see `fused`). */
  private fusedParts(loss: tf.Tensor, outputs: tf.Tensor[], grads: tf.Tensor[]): tf.Tensor1D {
    const outs = this.outputGroups.flatMap((g) => g.items.map((i) => outputs[i]!));
    const sats = this.satGroups.flatMap((g) => g.items.map((k) => this.satNodes[k]!));
    const members = [loss, ...outs, ...outs, ...outs, ...sats.map((i) => outputs[i]!), ...this.varGroups.flatMap((g) => g.items.map((i) => grads[i]!))];
    const kinds: MemberReduction[] = [
      'sum',
      ...outs.map(() => 'first' as const),
      ...outs.map(() => 'sum' as const),
      ...outs.map(() => 'squares-about-first' as const),
      ...sats.map((i) => (this.nodes[i]!.measure === 'sigmoid' ? ('sigmoid-tails' as const) : ('tanh-tails' as const))),
      ...this.varGroups.flatMap((g) => g.items.map(() => 'squares' as const)),
    ];
    return reductions(members.map((m) => (m.dtype === 'float32' ? m : tf.cast(m, 'float32'))), kinds);
  }

  /** One vector with everything of this step; `grads` are aligned with the measured nodes' vars. */
  pack(loss: tf.Tensor, outputs: tf.Tensor[], grads: tf.Tensor[], before: tf.Tensor[]): tf.Tensor1D {
    return tf.tidy(() => {
      const parts: tf.Tensor1D[] = [];
      if (this.fused) {
        parts.push(this.fusedParts(loss, outputs, grads), ...(before as tf.Tensor1D[]));
      } else {
        parts.push(tf.reshape<tf.Rank.R1>(tf.cast(loss, 'float32'), [1]));
        const outs = this.outputGroups.map((g) => stacked(g, outputs));
        const shifts = outs.map(firstValues);
        parts.push(...shifts.map((shift) => tf.reshape<tf.Rank.R1>(shift, [-1])));
        const sum = (x: tf.Tensor) => perMemberSum(x, this.pooledSums);
        parts.push(...outs.map(sum));
        parts.push(...outs.map((o, k) => sum(tf.squaredDifference(o, shifts[k]!))));
        for (const g of this.satGroups) {
          const members = { items: g.items.map((k) => this.satNodes[k]!), shape: g.shape };
          const measure = this.nodes[members.items[0]!]!.measure === 'sigmoid' ? 'sigmoid' : 'tanh';
          parts.push(tailCounts(members.items.map((i) => outputs[i]!), measure, SATURATION_LEVEL, () => stacked(members, outputs)));
        }
        const gradStacks = this.varGroups.map((g) => stacked(g, grads));
        parts.push(...gradStacks.map((s) => sum(tf.square(s))));
        if (!this.exactUpdate) {
          const after = this.varGroups.map((g) => stacked(g, this.vars));
          parts.push(...after.map((a, k) => sum(tf.squaredDifference(a, before[k]!))));
        }
        parts.push(...before.map((b) => sum(tf.square(b))));
      }
      for (const g of this.deadGroups) {
        const x = stacked({ items: g.items.map((k) => this.deadNodes[k]!), shape: g.shape }, outputs);
        // A unit is dead on this batch when its output is <= 0 for every example (and position).
        const peaks = reduceLeading(x, 'max', 1);
        // Counts, summed in order: a mean times a count of rows that is not a power of two is not a whole number.
        parts.push(perMemberSum(tf.cast(tf.lessEqual(peaks, 0), 'float32'), false));
      }
      return tf.concat<tf.Tensor1D>(parts);
    });
  }

  /** Read back a packed vector: each node's reductions, turned into values by the metric table. */
  unpack(values: Float32Array | Int32Array | Uint8Array): StepNumbers {
    const totals = this.nodes.map((): Partial<Record<MeterPart, number>> => ({}));
    this.slots.forEach(([part, node], k) => {
      const parts = totals[node]!;
      // A node's weight tensors add up; every other part has one slot per node.
      parts[part] = (parts[part] ?? 0) + values[k + 1]!;
    });
    const numbers: StepNumbers = { loss: values[0]! / this.gradientScale, values: {} as StepNumbers['values'] };
    for (const key of LAYER_METRIC_KEYS) {
      const metric = LAYER_METRICS[key];
      numbers.values[key] = this.nodes.map((node, i) => {
        if (!measuredOn(metric.on, node)) return null;
        const shape = node.planned.outShape;
        return metric.value({ parts: totals[i]!, count: this.batch * size(shape), units: shape[shape.length - 1] ?? 1, gradientScale: this.gradientScale, exactUpdate: this.exactUpdate });
      });
    }
    return numbers;
  }
}
