/**
 * What one training step of a planned model costs: multiply-adds, activation values, and an estimate
 * of its time on the wasm backend (the slowest backend the probe runs on; tfjs-node is faster). The
 * estimate sums what the wasm profile of a step shows: products (by layer kind: a convolution with few
 * input channels, a stride or a transposed one runs its gradients at a fraction of the rate; attention's
 * projections and per-head score products run at the rate of its many small batched ops), the
 * per-time-step ops of recurrent layers, the elementwise work and metrics on every output value, the
 * update and measurement of every weight, and a fixed cost per layer. Calibrated on a 2-core machine
 * with `node bench/probe-cost.mjs`, which prints the estimate next to the measured step for each case.
 */
import { isConv, isRecurrent } from '../shared/layers';
import { attentionInputs, attentionSizes, attentionWork } from './attention';
import { size, type Plan, type PlannedLayer } from './plan';

/** Nanoseconds per multiply-add of a training step (forward + backward), by product kind. */
const NS_PER_MAC = { dense: 0.15, conv: 0.14, recurrent: 0.33, attention: 0.55, other: 0.2 };
/** Input channels from which a convolution's filter gradient runs at the full rate. */
const FULL_RATE_CHANNELS = 14;
/** Nanoseconds per activation value (forward, backward, metrics) and per weight (update, norms, snapshot). */
const NS_PER_ACTIVATION = 17;
const NS_PER_WEIGHT = 25;
/** Milliseconds of ops per recurrent time step (per layer and direction), and per layer of any kind. */
const MS_PER_TIME_STEP = 4.5;
const MS_PER_LAYER = 1.2;

/** An attention layer's work per example (its inputs are (time, features) per example). */
function attention(layer: PlannedLayer): { macs: number; scores: number } {
  const [query, key] = attentionInputs(layer.inShapes);
  return attentionWork(attentionSizes(layer.ir, layer.inShapes), query[0] ?? 1, key[0] ?? 1);
}

/** Multiply-accumulates of one example's forward pass through a layer (elementwise layers: their outputs). */
function forwardMacs(layer: PlannedLayer): number {
  const out = layer.outShape;
  switch (layer.ir.kind) {
    case 'attention':
      return attention(layer).macs;
    case 'dense':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv-transpose': {
      const positions = layer.ir.kind === 'conv-transpose' ? size(layer.inShapes[0]!.slice(0, -1)) : size(out.slice(0, -1));
      return Math.max(1, layer.params) * Math.max(1, positions);
    }
    case 'lstm':
    case 'gru':
    case 'simple-rnn':
      return Math.max(1, layer.params) * Math.max(1, layer.inShapes[0]![0] ?? 1);
    default:
      return size(out) + layer.params;
  }
}

/**
 * The multiply-adds of a step's largest op: the largest layer's forward product over the batch (each of
 * its gradients is as large); a recurrent layer's per time step, the size of each of its products.
 */
export function largestOpMacs(plan: Plan, batch: number): number {
  return batch * Math.max(0, ...plan.layers.map((l) => (isRecurrent(l.ir) ? Math.max(1, l.params) : forwardMacs(l))));
}

/** One training step per example: forward plus the backward pass (about twice the forward). */
export function stepMacsPerExample(plan: Plan): number {
  return 3 * plan.layers.reduce((s, l) => s + forwardMacs(l), 0);
}

export function activationsPerExample(plan: Plan): number {
  return plan.layers.reduce((s, l) => s + size(l.outShape), 0);
}

/**
 * How much slower than NS_PER_MAC.conv a convolution runs: few input channels, and strides: a strided
 * filter gradient at about the square root of the product of the strides (measured), a transposed
 * convolution by that product (it convolves its input spread by the strides, zeros included).
 */
function convSlowdown(layer: PlannedLayer, strides: number[]): number {
  const inShape = layer.inShapes[0]!;
  const inChannels = inShape[inShape.length - 1] ?? 1;
  const rank = inShape.length - 1;
  let stride = 1;
  for (let i = 0; i < rank; i++) stride *= strides[i] ?? strides[0] ?? 1;
  return Math.max(1, FULL_RATE_CHANNELS / Math.max(1, inChannels)) * (layer.ir.kind === 'conv-transpose' ? stride : Math.sqrt(stride));
}

function layerStepNs(layer: PlannedLayer, batch: number): number {
  const macs = 3 * forwardMacs(layer) * batch;
  const ir = layer.ir;
  const fixed = size(layer.outShape) * batch * NS_PER_ACTIVATION + layer.params * NS_PER_WEIGHT + MS_PER_LAYER * 1e6;
  if (ir.kind === 'dense') return fixed + macs * NS_PER_MAC.dense;
  // The attention weights are values like activations: computed, softmaxed and differentiated.
  if (ir.kind === 'attention') return fixed + macs * NS_PER_MAC.attention + attention(layer).scores * batch * NS_PER_ACTIVATION;
  if (isConv(ir)) return fixed + macs * NS_PER_MAC.conv * convSlowdown(layer, ir.conv.strides ?? [1]);
  if (isRecurrent(ir)) {
    const cells = (ir.recurrent.numLayers ?? 1) * (ir.recurrent.bidirectional ? 2 : 1);
    return fixed + macs * NS_PER_MAC.recurrent + (layer.inShapes[0]![0] ?? 1) * cells * MS_PER_TIME_STEP * 1e6;
  }
  return fixed + macs * NS_PER_MAC.other;
}

/** Estimated milliseconds of one training step at `batch` on the wasm backend. */
export function estimatedStepMs(plan: Plan, batch: number): number {
  return plan.layers.reduce((s, l) => s + layerStepNs(l, batch), 0) / 1e6;
}
