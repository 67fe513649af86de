/**
 * torch tensor operations for the probe (LayerIR kind 'tensor-op'), computed in torch's axis order:
 * inputs the probe keeps channels-last are moved channels-first, the operation runs as torch defines
 * it (transpose, permute, unsqueeze, squeeze, flatten, batched matmul, einsum), and the output is moved
 * channels-last again when its reader takes it so (PlannedLayer.channelsLast). Every step is a tfjs
 * op with its own gradient, so the probe trains through them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorOpConfig } from '../shared/ir';
import { parseEinsum } from '../shared/einsum';
import { describeTensorOp, flattenAxes, sizeScaleFactor, splitPart, torchAxis } from '../shared/shapes';
import { layerFailure } from './errors';
import type { StepContext } from './layers';
import type { PlannedLayer } from './plan';

/** Axis permutations of a tensor of `rank` axes (batch included) that move its channels from last to second (torch's order) and back. */
const toChannelsFirst = (rank: number) => [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
const toChannelsLast = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];

/** The node's computation on its inputs, as planned. */
export function tensorOpApply(planned: PlannedLayer): (inputs: tf.Tensor[], ctx?: StepContext) => tf.Tensor {
  const layer = planned.ir;
  if (layer.kind !== 'tensor-op' || !layer.op) throw layerFailure('unsupported', layer, 'not a tensor operation the probe can read');
  const op = layer.op;
  const order = planned.channelsLast ?? { inputs: [], output: false };
  return (inputs, ctx) => {
    const torchOrder = inputs.map((x, i) => (order.inputs[i] && x.rank >= 3 ? tf.transpose(x, toChannelsFirst(x.rank)) : x));
    const out = compute(op, torchOrder, ctx);
    return order.output && out.rank >= 3 ? tf.transpose(out, toChannelsLast(out.rank)) : out;
  };
}

/** An axis the planner checked (torch's reading of negative axes). */
function axisIn(axis: number, rank: number): number {
  const k = torchAxis(axis, rank);
  if (k === null) throw new Error(`axis ${axis} of a tensor of ${rank} axes`);
  return k;
}

/** `ctx`: the step, when training (dropout); none outside one. */
function compute(op: TensorOpConfig, inputs: tf.Tensor[], ctx: StepContext | undefined): tf.Tensor {
  const x = inputs[0]!;
  switch (op.op) {
    case 'transpose': {
      const perm = x.shape.map((_, i) => i);
      const a = axisIn(op.axes[0], x.rank);
      const b = axisIn(op.axes[1], x.rank);
      [perm[a], perm[b]] = [b, a];
      return tf.transpose(x, perm);
    }
    case 'permute':
      return tf.transpose(x, op.order.map((k) => axisIn(k, x.rank)));
    case 'unsqueeze':
      return tf.expandDims(x, axisIn(op.axis, x.rank + 1));
    case 'squeeze': {
      // Never the batch axis, even at a batch of 1.
      const axes = op.axis === null ? x.shape.flatMap((d, i) => (i > 0 && d === 1 ? [i] : [])) : [axisIn(op.axis, x.rank)].filter((k) => x.shape[k] === 1);
      return axes.length > 0 ? tf.squeeze(x, axes) : x;
    }
    case 'flatten': {
      const axes = flattenAxes(op, x.rank);
      if (!axes) throw new Error(`${describeTensorOp(op)} of ${x.shape.join('x')}`);
      return tf.reshape(x, [...x.shape.slice(0, axes[0]), -1, ...x.shape.slice(axes[1] + 1)]);
    }
    case 'split': {
      const axis = axisIn(op.axis, x.rank);
      const part = splitPart(op, x.shape[axis] ?? null);
      if (!part) throw new Error(`${describeTensorOp(op)} of ${x.shape.join('x')}`);
      return tf.slice(x, x.shape.map((_, k) => (k === axis ? part.start : 0)), x.shape.map((d, k) => (k === axis ? part.length : d)));
    }
    case 'causal-mask':
      return causalMasked(x);
    case 'matmul':
      return op.equation === null ? batchedProduct(x, inputs[1]!) : einsum(op.equation, x, inputs[1]!);
    case 'dot-product-attention': {
      // torch's math path: softmax(q k^T * scale + mask) v, dropout on the weights while training.
      const [k, v] = [inputs[1]!, inputs[2]!];
      const scale = op.scale ?? 1 / Math.sqrt(x.shape[x.rank - 1]!);
      const scores = tf.mul(batchedProduct(x, tf.transpose(k, [...k.shape.keys()].map((i) => (i === k.rank - 2 ? k.rank - 1 : i === k.rank - 1 ? k.rank - 2 : i)))), scale);
      let weights = tf.softmax(op.causal ? causalMasked(scores) : scores);
      if (ctx?.training && op.dropout > 0) weights = tf.dropout(weights, op.dropout, undefined, ctx.rng.seed());
      return batchedProduct(weights, v);
    }
    case 'size-scale': {
      const factor = sizeScaleFactor(op, inputs[1]!.shape.slice(1));
      if (factor === null) throw new Error(`${describeTensorOp(op)} of ${inputs[1]!.shape.join('x')}`);
      return tf.mul(x, factor);
    }
  }
}

/** -1e9 above the diagonal of the last two axes (torch's tril causal mask: row i sees columns <= i); -1e9, not -Infinity: the same softmax (exp underflows to 0 in float32) without inf - inf in any kernel. */
function causalMasked(x: tf.Tensor): tf.Tensor {
  const [rows, columns] = x.shape.slice(-2) as [number, number];
  const above = tf.greater(tf.reshape(tf.range(0, columns), [1, columns]), tf.reshape(tf.range(0, rows), [rows, 1]));
  return tf.where(tf.broadcastTo(above, x.shape), tf.fill(x.shape, -1e9), x);
}

/** torch.matmul of two tensors of at least 3 axes (the batch's included): the leading axes broadcast. */
function batchedProduct(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const rank = Math.max(a.rank, b.rank);
  const grow = (t: tf.Tensor) => (t.rank < rank ? tf.reshape(t, [...Array.from({ length: rank - t.rank }, () => 1), ...t.shape]) : t);
  const [x, y] = [grow(a), grow(b)];
  const batch = x.shape.slice(0, -2).map((d, i) => Math.max(d, y.shape[i]!));
  const full = (t: tf.Tensor) => (t.shape.slice(0, -2).every((d, i) => d === batch[i]) ? t : tf.broadcastTo(t, [...batch, ...t.shape.slice(-2)]));
  const count = batch.reduce((p, d) => p * d, 1);
  const [n, k] = x.shape.slice(-2) as [number, number];
  const m = y.shape[y.rank - 1]!;
  const product = tf.matMul(tf.reshape<tf.Rank.R3>(full(x), [count, n, k]), tf.reshape<tf.Rank.R3>(full(y), [count, k, m]));
  return tf.reshape(product, [...batch, n, m]);
}

/**
 * torch.einsum of two operands as transposes, reshapes and one batched product (tfjs-core 4.22's own
 * einsum has no gradient): letters in both operands and the output are a batch, in both but not the
 * output are summed by the product, in one operand only are kept (or summed first when the output
 * drops them). A letter's side of 1 broadcasts against the other operand's.
 */
function einsum(equation: string, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const parsed = parseEinsum(equation, [a.rank, b.rank]);
  if (!parsed) throw new Error(`einsum '${equation}' does not fit operands of ${a.rank} and ${b.rank} axes`);
  const [termA, termB] = parsed.inputs as [string[], string[]];
  const out = parsed.output;
  // Letters only one operand has and the output drops: summed away first.
  const reduceOwn = (t: tf.Tensor, term: string[], other: string[]) => {
    const axes = term.flatMap((c, i) => (!other.includes(c) && !out.includes(c) ? [i] : []));
    return { tensor: axes.length > 0 ? tf.sum(t, axes) : t, term: term.filter((c) => other.includes(c) || out.includes(c)) };
  };
  const ra = reduceOwn(a, termA, termB);
  const rb = reduceOwn(b, termB, termA);
  const size = new Map<string, number>();
  for (const [t, term] of [[ra.tensor, ra.term], [rb.tensor, rb.term]] as const) term.forEach((c, i) => size.set(c, Math.max(size.get(c) ?? 1, t.shape[i]!)));
  const batch = ra.term.filter((c) => rb.term.includes(c) && out.includes(c));
  const summed = ra.term.filter((c) => rb.term.includes(c) && !out.includes(c));
  const freeA = ra.term.filter((c) => !rb.term.includes(c));
  const freeB = rb.term.filter((c) => !ra.term.includes(c));
  const sizeOf = (c: string) => size.get(c) ?? 1;
  const count = (letters: string[]) => letters.reduce((p, c) => p * sizeOf(c), 1);
  const arrange = (t: tf.Tensor, term: string[], order: string[]) => {
    const moved = tf.transpose(t, order.map((c) => term.indexOf(c)));
    const target = order.map(sizeOf);
    return moved.shape.every((d, i) => d === target[i]) ? moved : tf.broadcastTo(moved, target);
  };
  const left = tf.reshape<tf.Rank.R3>(arrange(ra.tensor, ra.term, [...batch, ...freeA, ...summed]), [count(batch), count(freeA), count(summed)]);
  const right = tf.reshape<tf.Rank.R3>(arrange(rb.tensor, rb.term, [...batch, ...summed, ...freeB]), [count(batch), count(summed), count(freeB)]);
  const letters = [...batch, ...freeA, ...freeB];
  const product = tf.reshape(tf.matMul(left, right), letters.map(sizeOf));
  return tf.transpose(product, out.map((c) => letters.indexOf(c)));
}

/**
 * The axis of the probe's tensor (batch counted) a torch softmax / log_softmax normalizes: its `dim=`
 * read in torch's order, moved where the probe keeps an image's channels last. Null: the last axis
 * (no dim written, or not a softmax).
 */
export function softmaxAxis(planned: PlannedLayer): number | null {
  const activation = planned.ir.activation;
  const dim = activation?.params.dim;
  if ((activation?.name !== 'softmax' && activation?.name !== 'log_softmax') || dim === undefined) return null;
  const rank = (planned.inShapes[0]?.length ?? 0) + 1;
  // A positive dim counts torch's axes, which begin after any the probe keeps folded out of the batch.
  const fold = planned.foldedAxes ?? 0;
  const axis = dim >= 0 ? (dim === 0 ? null : dim + fold) : torchAxis(dim, rank);
  if (axis === null || axis === 0 || axis >= rank) return null;
  // Channels-last in the probe: torch's channel axis 1 is the last, its later axes one earlier.
  if (planned.channelsLast?.inputs[0]) return axis === 1 ? rank - 1 : axis - 1;
  return axis;
}
