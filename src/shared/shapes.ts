/**
 * Output shapes of layers, and the fans of their kernels: the one model of shapes that the analyzer
 * (to fill what the source leaves implicit) and the probe (to build the model) both read.
 *
 * Shapes exclude the batch dimension. Entries are null when unknown. Sliding windows follow the
 * frameworks' documented formulas:
 *   'same' (and Keras 'causal'):   out = ceil(in / stride)
 *   'valid' / explicit padding p:  out = floor((in + 2p - dilation*(k-1) - 1) / stride) + 1
 *                                  (torch ceil_mode: ceil instead of floor, and the last window must
 *                                  start inside the input or its left padding)
 *   transposed, explicit p:        out = (in - 1)*stride - 2p + dilation*(k-1) + output_padding + 1
 *   transposed, Keras 'same':      out = in * stride;  'valid': in*stride + max(k_eff - stride, 0)
 * Fans, computed the way the frameworks' initializers compute them:
 *   Dense/Linear:  fan_in = incoming features, fan_out = units
 *   Conv:          fan_in = in_channels / groups * prod(kernel), fan_out = filters * prod(kernel)
 *   ConvTranspose: fan_in = filters / groups * prod(kernel), fan_out = in_channels * prod(kernel)
 *                  (both frameworks store the kernel with the roles of its two channel axes swapped)
 *   Depthwise:     fan_in = in_channels * prod(kernel), fan_out = depth_multiplier * prod(kernel)
 *   Recurrent:     fan_in = input features, fan_out = gates * units (the input kernel)
 *   Embedding:     as the extractor recorded it (the frameworks disagree)
 */
import type { BackboneConfig, Framework, LayerIR, LayerKind, LayerOf, Layout, Padding, ReshapeConfig, TensorOpConfig, ViewDim } from './ir';
import { einsumCounts, einsumOutput, parseEinsum, type Einsum } from './einsum';
import { convOf, gatesOf, isRecurrentKind, layerWith, type ConvKind, type RecurrentKind } from './layers';

export type Shape = (number | null)[];
export type { Layout };

/** A layer's output shape, and whether its rank is known (a Dense on an unknown input knows only its last dimension). */
export interface Flow {
  shape: Shape | null;
  rankKnown: boolean;
}

export const UNKNOWN_FLOW: Flow = { shape: null, rankKnown: false };

export interface ShapeContext {
  /** The layout of the shapes computed (the probe always computes channels-last). */
  layout: Layout;
  framework: Framework;
  /** Whether a layer's own `data_format=` overrides `layout` (the analyzer: yes; the probe, which transposes everything: no). */
  honourDataFormat: boolean;
  /** The kind of the layer that reads this one's output (torch recurrent modules return every step). */
  nextKind: LayerKind | null;
}

const product = (xs: Shape): number | null => (xs.every((x): x is number => typeof x === 'number') ? xs.reduce((a, b) => a * b, 1) : null);

/** A per-dimension list from one entry per dimension or a single entry for all. */
export function perDim(values: number[] | null, dims: number): number[] | null {
  if (!values) return null;
  if (values.length === dims) return values;
  if (values.length === 1) return Array.from({ length: dims }, () => values[0]!);
  return null;
}

/** Splits a shape into channels and `dims` spatial dimensions. */
function split(shape: Shape, layout: Layout, dims: number): { channels: number | null; spatial: Shape } | null {
  if (shape.length !== dims + 1) return null;
  return layout === 'channels_first' ? { channels: shape[0]!, spatial: shape.slice(1) } : { channels: shape[dims]!, spatial: shape.slice(0, dims) };
}

function join(channels: number | null, spatial: Shape, layout: Layout): Shape {
  return layout === 'channels_first' ? [channels, ...spatial] : [...spatial, channels];
}

/** Spatial dimensions of a convolution or pooling layer. */
export function spatialDims(layer: LayerIR): number {
  if (layer.kind === 'conv1d') return 1;
  if (layer.kind === 'conv2d') return 2;
  if (layer.kind === 'conv3d') return 3;
  return layer.kernelSize?.length ?? 0;
}

export interface Window {
  kernel: number;
  stride: number;
  dilation: number;
  /** 'same' | 'valid' | 'causal', or an explicit symmetric pad. */
  padding: 'same' | 'valid' | 'causal' | number;
  transpose?: boolean;
  outputPadding?: number;
  ceilMode?: boolean;
}

/** Output length of a sliding window along one dimension; null when unknown or when nothing fits. */
export function windowOutput(input: number | null, w: Window): number | null {
  if (input === null) return null;
  const effective = (w.kernel - 1) * w.dilation + 1;
  let out: number;
  if (w.transpose) {
    if (w.padding === 'same') out = input * w.stride;
    else if (w.padding === 'valid' || w.padding === 'causal') out = input * w.stride + Math.max(effective - w.stride, 0);
    else out = (input - 1) * w.stride - 2 * w.padding + effective + (w.outputPadding ?? 0);
  } else if (w.padding === 'same' || w.padding === 'causal') {
    out = Math.ceil(input / w.stride);
  } else {
    const pad = w.padding === 'valid' ? 0 : w.padding;
    const span = input + 2 * pad - effective;
    if (w.ceilMode) {
      out = Math.ceil(span / w.stride) + 1;
      // torch: the last window must start inside the input or its left padding.
      if ((out - 1) * w.stride >= input + pad) out -= 1;
    } else {
      out = Math.floor(span / w.stride) + 1;
    }
  }
  return out > 0 ? out : null;
}

/**
 * A convolution on a map of `sides` positions along each spatial dimension: its output positions, and how
 * many kernel taps each output position sums per input channel on average (taps that land in padding
 * read zeros). A plain convolution: a 3 x 3 kernel padded by 1 reads 4 of its 9 taps per output on a
 * 2 x 2 map and 1 on a 1 x 1 map (a ResNet's last blocks at 32 x 32), nearly all on a large map. A
 * transposed one: each input position adds k taps along a dimension, and those landing in the border its
 * padding crops are lost: k/stride on a large map, 1 on DCGAN's 1 x 1 noise (each of its 4 x 4 outputs
 * reads one tap). Null when a setting is unknown.
 */
export function convolutionTaps(layer: LayerIR, sides: readonly number[]): { outputs: number; taps: number } | null {
  const conv = convOf(layer);
  const dims = spatialDims(layer);
  const kernel = perDim(layer.kernelSize, dims);
  const strides = perDim(conv?.strides ?? [1], dims);
  const dilation = perDim(conv?.dilation ?? [1], dims);
  const padding = paddingPerDim(conv?.padding ?? 'valid', dims);
  const outputPadding = perDim(conv?.outputPadding ?? [0], dims);
  const transpose = layer.kind === 'conv-transpose';
  if (!kernel || !strides || !dilation || !padding || !outputPadding || sides.length !== dims || !sides.every((n) => n >= 1) || !strides.every((n) => n >= 1)) return null;
  let outputs = 1;
  let taps = 1;
  for (let d = 0; d < dims; d++) {
    const [side, k, stride, dil, pad] = [sides[d]!, kernel[d]!, strides[d]!, dilation[d]!, padding[d]!];
    const out = windowOutput(side, { kernel: k, stride, dilation: dil, padding: pad, transpose, outputPadding: outputPadding[d]! });
    if (out === null) return null;
    const landed = transpose ? transposedLanded(side, out, k, stride, dil, pad) : plainLanded(side, out, k, stride, dil, pad);
    outputs *= out;
    taps *= landed / out;
  }
  return { outputs, taps };
}

/** The spatial sides of `shape` (a convolution's input, in `layout`) when every one is known; null otherwise. */
export function spatialSides(layer: LayerIR, shape: Shape | null | undefined, layout: Layout): number[] | null {
  const parts = shape ? split(shape, layer.dataFormat ?? layout, spatialDims(layer)) : null;
  return parts && parts.spatial.every((d): d is number => d !== null && d > 0) ? parts.spatial : null;
}

/** (input position, tap) pairs of a transposed convolution that land on one of its `out` outputs along a dimension. */
function transposedLanded(side: number, out: number, k: number, stride: number, dil: number, pad: 'same' | 'valid' | 'causal' | number): number {
  const full = (side - 1) * stride + (k - 1) * dil + 1;
  // Keras 'same' crops floor((k - stride) / 2) before; torch crops its padding.
  const before = typeof pad === 'number' ? pad : pad === 'same' ? Math.floor(Math.max(full - out, 0) / 2) : 0;
  return pairsWithin(side, out, k, stride, dil, before);
}

/** (output position, tap) pairs of a plain convolution whose tap reads one of the `side` inputs along a dimension, not padding. */
function plainLanded(side: number, out: number, k: number, stride: number, dil: number, pad: 'same' | 'valid' | 'causal' | number): number {
  // 'same' pads floor(total / 2) before (Keras and torch alike); 'causal' all of it.
  const total = Math.max((out - 1) * stride + (k - 1) * dil + 1 - side, 0);
  const before = typeof pad === 'number' ? pad : pad === 'same' ? Math.floor(total / 2) : pad === 'causal' ? (k - 1) * dil : 0;
  return pairsWithin(out, side, k, stride, dil, before);
}

/**
 * The pairs (a < count, tap j < k) whose position a·stride + j·dilation − before falls in [0, bound):
 * per tap, the run of a that lands, so a large map costs no more than a small one.
 */
function pairsWithin(count: number, bound: number, k: number, stride: number, dil: number, before: number): number {
  let pairs = 0;
  for (let j = 0; j < k; j++) {
    const offset = j * dil - before;
    const first = Math.max(0, Math.ceil(-offset / stride));
    const last = Math.min(count - 1, Math.floor((bound - 1 - offset) / stride));
    if (last >= first) pairs += last - first + 1;
  }
  return pairs;
}

function paddingPerDim(padding: Padding | null, dims: number): ('same' | 'valid' | 'causal' | number)[] | null {
  if (padding === null) return null;
  if (typeof padding === 'string') return Array.from({ length: dims }, () => padding);
  return perDim(padding, dims);
}

/** The layout a layer's shapes are in. */
function layoutOf(layer: LayerIR, ctx: ShapeContext): Layout {
  return ctx.honourDataFormat && layer.dataFormat ? layer.dataFormat : ctx.layout;
}

function convolution(layer: LayerOf<ConvKind | RecurrentKind>, input: Flow, layout: Layout, inChannels: number | null): Flow {
  const conv = convOf(layer);
  const dims = spatialDims(layer);
  const kernel = perDim(layer.kernelSize, dims);
  const parts = input.shape && input.rankKnown ? split(input.shape, layout, dims) : null;
  if (!conv || !parts || !kernel) return UNKNOWN_FLOW;
  const strides = perDim(conv.strides, dims);
  const dilation = perDim(conv.dilation, dims);
  const padding = paddingPerDim(conv.padding, dims);
  const outputPadding = perDim(conv.outputPadding, dims) ?? Array.from({ length: dims }, () => 0);
  const transpose = conv.variant === 'transpose';
  // A window setting that is not a constant leaves the spatial sizes unknown, not the channels.
  const spatial = parts.spatial.map((s, i) =>
    strides && dilation && padding ? windowOutput(s, { kernel: kernel[i]!, stride: strides[i]!, dilation: dilation[i]!, padding: padding[i]!, transpose, outputPadding: outputPadding[i]! }) : null,
  );
  let channels = layer.units;
  if (conv.variant === 'depthwise') channels = inChannels !== null ? inChannels * conv.depthMultiplier : null;
  return { shape: join(channels, spatial, layout), rankKnown: true };
}

/** The window of a pooling layer along each spatial dimension, adaptive pooling resolved against the input. */
export function poolWindows(layer: LayerOf<'maxpool' | 'avgpool'>, spatial: Shape): Window[] | null {
  const dims = spatial.length;
  const pool = layer.pool;
  const adaptive = pool.adaptiveOutput;
  if (adaptive) {
    const out = adaptive.length === 1 ? Array.from({ length: dims }, () => adaptive[0]!) : adaptive;
    if (out.length !== dims) return null;
    // An adaptive pool is a plain pool when the input divides evenly; other cases use uneven windows.
    const windows: Window[] = [];
    for (let i = 0; i < dims; i++) {
      const input = spatial[i] ?? null;
      const target = out[i] ?? input;
      if (input === null || target === null || input % target !== 0) return null;
      windows.push({ kernel: input / target, stride: input / target, dilation: 1, padding: 'valid' });
    }
    return windows;
  }
  const kernel = perDim(layer.kernelSize, dims);
  if (!kernel) return null;
  const strides = pool.strides === 'window' ? kernel : perDim(pool.strides, dims);
  const padding = paddingPerDim(pool.padding, dims);
  const dilation = perDim(pool.dilation, dims);
  if (!strides || !padding || !dilation) return null;
  return kernel.map((k, i) => ({ kernel: k, stride: strides[i]!, dilation: dilation[i]!, padding: padding[i]!, ceilMode: pool.ceilMode }));
}

function pooling(layer: LayerOf<'maxpool' | 'avgpool'>, input: Flow, layout: Layout): Flow {
  if (!input.shape || !input.rankKnown || input.shape.length < 2) return UNKNOWN_FLOW;
  // Pooling runs over every spatial dimension of its input.
  const dims = input.shape.length - 1;
  const parts = split(input.shape, layout, dims);
  if (!parts) return UNKNOWN_FLOW;
  const adaptive = layer.pool.adaptiveOutput;
  if (adaptive) {
    const out = adaptive.length === 1 ? parts.spatial.map(() => adaptive[0]!) : adaptive;
    return { shape: join(parts.channels, out.map((o, i) => o ?? parts.spatial[i]!), layout), rankKnown: true };
  }
  const windows = poolWindows(layer, parts.spatial);
  if (!windows) return UNKNOWN_FLOW;
  return { shape: join(parts.channels, parts.spatial.map((s, i) => windowOutput(s, windows[i]!)), layout), rankKnown: true };
}

/**
 * The kind of the layer that reads what layers[index] computes, looking past dropout and activations,
 * which keep its shape (an LSTM's steps through a dropout into `out.view(-1, hidden)`); null at the end.
 */
export function readerKind(layers: readonly LayerIR[], index: number): LayerKind | null {
  return readerOf(layers, index)?.kind ?? null;
}

/** Layers that keep the layout of what they read: the reader of what they give reads it. */
const KEEPS_LAYOUT: ReadonlySet<LayerKind> = new Set<LayerKind>(['dropout', 'alpha-dropout', 'activation']);

/** The layer readerKind names. */
export function readerOf(layers: readonly LayerIR[], index: number): LayerIR | null {
  const first = directReader(layers, index);
  for (let k = first; k !== null; k = directReader(layers, k)) if (!KEEPS_LAYOUT.has(layers[k]!.kind)) return layers[k]!;
  return first === null ? null : layers[first]!;
}

/**
 * The index of the layer that reads layers[index]: the next one listed, unless a graph lists another
 * branch's layer next (the query, key and value projected and viewed one after another), where it is the
 * first that lists this one; null for an output.
 */
function directReader(layers: readonly LayerIR[], index: number): number | null {
  const id = layers[index]?.id;
  const next = layers[index + 1];
  if (!next) return null;
  if (id === undefined || next.inputs.includes(id) || (next.inputs.length === 0 && next.kind !== 'input')) return index + 1;
  const reader = layers.findIndex((l, k) => k > index && l.inputs.includes(id));
  return reader < 0 ? null : reader;
}

/** Whether a recurrent layer emits every step, given the framework's default when the source does not say. */
export function returnsSequences(layer: LayerOf<RecurrentKind>, nextKind: LayerKind | null): boolean {
  // torch modules return every step; code then takes out[:, -1] unless another recurrent layer reads
  // them or a view reshapes them (`out.reshape(out.size(0) * out.size(1), hidden)`: every step decoded).
  return layer.recurrent.returnSequences ?? (nextKind !== null && (isRecurrentKind(nextKind) || nextKind === 'reshape'));
}

/** Output features of a recurrent layer: units, doubled by a concatenating bidirectional wrapper. */
export function recurrentFeatures(layer: LayerOf<RecurrentKind>): number | null {
  const r = layer.recurrent;
  const directions = r.bidirectional && r.mergeMode === 'concat' ? 2 : 1;
  return layer.units !== null ? layer.units * directions : null;
}

function recurrent(layer: LayerOf<RecurrentKind>, input: Flow, nextKind: LayerKind | null): Flow {
  const units = recurrentFeatures(layer);
  if (returnsSequences(layer, nextKind)) {
    const shape = input.shape;
    const steps = shape && input.rankKnown && shape.length >= 2 ? shape[shape.length - 2]! : null;
    return { shape: [steps, units], rankKnown: input.rankKnown && !!shape && shape.length === 2 };
  }
  return { shape: [units], rankKnown: true };
}

/** Keras' ZeroPadding/Cropping `[before, after]` pairs applied to the spatial dimensions. */
function padSpatial(parts: { channels: number | null; spatial: Shape }, pairs: [number, number][] | null, sign: 1 | -1, layout: Layout): Flow {
  if (!pairs || pairs.length !== parts.spatial.length) return UNKNOWN_FLOW;
  const spatial = parts.spatial.map((s, i) => (s === null ? null : s + sign * (pairs[i]![0] + pairs[i]![1])));
  if (spatial.some((s) => s !== null && s < 1)) return UNKNOWN_FLOW;
  return { shape: join(parts.channels, spatial, layout), rankKnown: true };
}

/** Layers that read a view's output as an image (channels, then spatial sides, in torch). */
const IMAGE_READERS: ReadonlySet<LayerKind> = new Set(['conv2d', 'conv3d', 'conv-transpose', 'maxpool', 'avgpool', 'global-pool', 'batchnorm', 'groupnorm', 'reshape']);

/**
 * Whether a torch tensor `rank` axes long per example reaches a reader of `kind` with its channels
 * last in the probe (where torch has them first): images read by convolutions, pooling and batch
 * norms, (length, channels) read by a 1-d convolution, and what a view reads with 3 or more axes
 * (viewOutput takes those as channels-last, as IMAGE_READERS says).
 */
export function readChannelsLast(kind: LayerKind | null, rank: number): boolean {
  if (kind === null || rank < 2) return false;
  // Two axes are (channels, length) to a 1-d convolution, pooling window or BatchNorm1d, but (time,
  // features) to a mean over the steps (`x.mean(dim=1)`), which the probe's global pool reads unmoved.
  if (rank === 2) return kind === 'conv1d' || kind === 'maxpool' || kind === 'avgpool' || kind === 'batchnorm';
  return IMAGE_READERS.has(kind);
}

/** torch's (C, *spatial) order of a per-example shape, and back: images are channels-first in torch, sequences (time, features) in both. */
function torchOrder(shape: Shape, layout: Layout): Shape {
  return layout === 'channels_last' && shape.length >= 3 ? [shape[shape.length - 1]!, ...shape.slice(0, -1)] : shape;
}

function fromTorchOrder(shape: Shape, layout: Layout): Shape {
  return layout === 'channels_last' && shape.length >= 3 ? [...shape.slice(1), shape[0]!] : shape;
}

/**
 * torch `x.view(*dims)` on a per-example shape. dims[0] is the batch: kept, unless it is a product of
 * the batch and other sizes of x (`out.size(0) * out.size(1)`: time folded into the batch, which the
 * probe keeps as a leading axis so the next Linear still acts per step), or -1 where the other sizes
 * leave a whole multiple of the batch (`rnn_out.view(-1, hidden)`). Exactly one other size may be
 * -1 or unknown; it is what the remaining elements fill. Several sizes the code computes keep the
 * input's sizes on their axes but the last (see below).
 */
export function viewOutput(dims: readonly ViewDim[], perExample: Shape, layout: Layout, nextKind: LayerKind | null): Shape | null {
  const x = [null, ...torchOrder(perExample, layout)]; // torch order with the batch at 0
  const total = product(perExample);
  const axes = (d: { of: number[] }) => d.of.map((k) => (k < 0 ? x.length + k : k));
  const batch = dims[0];
  const folded = batch !== undefined && batch !== null && typeof batch !== 'number' && axes(batch).includes(0) ? axes(batch).filter((k) => k !== 0) : [];
  if (folded.some((k) => k < 1 || k >= x.length)) return null;
  const sizeOf = (d: ViewDim): number | null => {
    if (d === null || d === -1) return null;
    if (typeof d === 'number') return d;
    return axes(d).includes(0) ? null : product(axes(d).map((k) => x[k] ?? null));
  };
  const rest = dims.slice(1).map(sizeOf);
  // Several sizes the code computes (`q.view(B, T, n_head, C // n_head)` with B, T, C read from another
  // tensor's size()): each but the last keeps the input's size on the same axis, as such code does, on the
  // axes before the last the input and the view share. Past it the view splits or joins axes: with both
  // `n_head` and `C // n_head` computed, (T, C) -> (T, ?, ?) has no one answer (it is not (T, C, 1)).
  const computed = dims.slice(1).flatMap((d, i) => (d === null ? [i] : []));
  const shared = Math.min(rest.length, perExample.length) - 1;
  if (computed.length > 1 && rest.filter((d) => d === null).length === computed.length) {
    for (const i of computed.slice(0, -1)) if (i < shared) rest[i] = x[i + 1] ?? null;
  }
  const fold = product(folded.map((k) => x[k] ?? null));
  const open = rest.filter((d) => d === null).length;
  // Every size written as a constant: the shape is known whatever the input's.
  if (open === 0 && folded.length === 0 && batch !== -1 && rest.every((d): d is number => d !== null && d >= 1)) {
    if (total !== null && product(rest) !== total) return null;
    return nextKind !== null && IMAGE_READERS.has(nextKind) ? fromTorchOrder(rest, layout) : rest;
  }
  if (total === null || fold === null) return null;
  const known = product(rest.filter((d): d is number => d !== null)) ?? 1;
  let resolved: number[];
  let lead = fold;
  if (open === 1) {
    const fill = total / fold / known;
    resolved = rest.map((d) => d ?? fill);
  } else if (open === 0) {
    resolved = rest.filter((d): d is number => d !== null);
    // `view(-1, hidden)` on (time, hidden): the batch absorbs the remaining sizes.
    if (batch === -1 && folded.length === 0) lead = total / known;
  } else {
    return null;
  }
  if (resolved.some((d) => !Number.isInteger(d) || d < 1) || !Number.isInteger(lead) || lead * (product(resolved) ?? 0) !== total) return null;
  // A view read as an image moves its channels last like every image of the probe; one read by
  // anything else (a softmax over dim=-1, a Linear) keeps torch's order, so the same axis is last.
  const out = nextKind !== null && IMAGE_READERS.has(nextKind) ? fromTorchOrder(resolved, layout) : resolved;
  return lead > 1 ? [lead, ...out] : out;
}

/** An axis as torch reads it (negative from the end) among `rank` axes; null when there is no such axis. */
export function torchAxis(axis: number, rank: number): number | null {
  const k = axis < 0 ? axis + rank : axis;
  return k >= 0 && k < rank ? k : null;
}

/**
 * The output of a torch tensor operation on per-example shapes in torch's axis order (the batch left
 * out; the axes the code writes count it as 0). Null when the shapes do not fit the operation, when it
 * would move the batch axis (the probe feeds the batch first), or when a size is not known enough.
 */
export function tensorOpOutput(op: TensorOpConfig, shapes: readonly Shape[]): Shape | null {
  const x = shapes[0];
  if (!x) return null;
  const full: Shape = [null, ...x];
  switch (op.op) {
    case 'transpose': {
      const a = torchAxis(op.axes[0], full.length);
      const b = torchAxis(op.axes[1], full.length);
      if (a === null || b === null || ((a === 0 || b === 0) && a !== b)) return null;
      const out = [...full];
      [out[a], out[b]] = [full[b]!, full[a]!];
      return out.slice(1);
    }
    case 'permute': {
      const order = op.order.flatMap((k) => torchAxis(k, full.length) ?? []);
      if (order.length !== full.length || order[0] !== 0 || new Set(order).size !== order.length) return null;
      return order.slice(1).map((k) => full[k] ?? null);
    }
    case 'unsqueeze': {
      const k = torchAxis(op.axis, full.length + 1);
      if (k === null || k === 0) return null;
      return [...full.slice(1, k), 1, ...full.slice(k)];
    }
    case 'squeeze': {
      if (op.axis === null) return x.some((d) => d === null) ? null : x.filter((d) => d !== 1);
      const k = torchAxis(op.axis, full.length);
      if (k === null || k === 0) return null;
      return full[k] === 1 ? [...full.slice(1, k), ...full.slice(k + 1)] : [...x];
    }
    case 'flatten': {
      const [start, end] = flattenAxes(op, full.length) ?? [];
      if (start === undefined || end === undefined || start === 0) return null;
      return [...full.slice(1, start), product(full.slice(start, end + 1)), ...full.slice(end + 1)];
    }
    case 'causal-mask':
      return x.length >= 2 ? [...x] : null;
    case 'split': {
      const k = torchAxis(op.axis, full.length);
      const part = k === null || k === 0 ? null : splitPart(op, full[k] ?? null);
      return k === null || !part ? null : [...full.slice(1, k), part.length, ...full.slice(k + 1)];
    }
    case 'matmul': {
      const b = shapes[1];
      if (!b || shapes.length !== 2) return null;
      if (op.equation !== null) {
        const einsum = parseEinsum(op.equation, [x.length + 1, b.length + 1]);
        // The batch: the first axis of both operands and of the output.
        if (!einsum || einsum.inputs.some((term) => term[0] !== einsum.output[0]) || einsum.output.slice(1).includes(einsum.output[0]!)) return null;
        return einsumOutput(einsum, [[1, ...x], [1, ...b]])?.slice(1) ?? null;
      }
      // Both at least matrices per example: a product of the last two axes, the leading ones broadcast.
      // Both hold the batch first, so their ranks must agree (torch aligns leading axes from the right).
      if (x.length < 2 || b.length !== x.length) return null;
      const [left, right] = [x[x.length - 1] ?? null, b[b.length - 2] ?? null];
      if (left !== null && right !== null && left !== right) return null;
      const lead = broadcastShapes([x.slice(0, -2), b.slice(0, -2)]);
      return lead ? [...lead, x[x.length - 2]!, b[b.length - 1]!] : null;
    }
    case 'dot-product-attention': {
      const [k, v] = [shapes[1], shapes[2]];
      if (!k || !v || shapes.length !== 3 || x.length < 2 || k.length !== x.length || v.length !== x.length) return null;
      const fits = (a: number | null | undefined, b: number | null | undefined) => a === null || a === undefined || b === null || b === undefined || a === b;
      // Queries and keys share their size; keys and values their length.
      if (!fits(x[x.length - 1], k[k.length - 1]) || !fits(k[k.length - 2], v[v.length - 2])) return null;
      const lead = broadcastShapes([x.slice(0, -2), k.slice(0, -2), v.slice(0, -2)]);
      return lead ? [...lead, x[x.length - 2]!, v[v.length - 1]!] : null;
    }
    case 'size-scale':
      return shapes.length === 2 && shapes[1] && torchAxis(op.axis, shapes[1].length + 1) !== null ? [...x] : null;
  }
}

/**
 * The products a matmul or einsum of operands shaped `x` and `y` (per example) sums (einsumCounts): what
 * each output entry adds up, and the output entries each operand's entry reaches. Null where the shapes
 * do not say.
 */
export function matmulCounts(op: Extract<TensorOpConfig, { op: 'matmul' }>, x: Shape, y: Shape): { inner: number; fans: number[] } | null {
  const einsum = op.equation !== null ? parseEinsum(op.equation, [x.length + 1, y.length + 1]) : matmulEinsum(x.length);
  return einsum && x.length === einsum.inputs[0]!.length - 1 && y.length === einsum.inputs[1]!.length - 1 ? einsumCounts(einsum, [[1, ...x], [1, ...y]]) : null;
}

/** A matmul of two operands of `rank` axes per example, as an einsum: the batch and the leading axes kept, the last two multiplied (`...ik,...kj->...ij`). */
function matmulEinsum(rank: number): Einsum | null {
  const lead = [...'lmnopqrstuvw'].slice(0, rank - 2);
  if (rank < 2 || lead.length !== rank - 2) return null;
  return { inputs: [['z', ...lead, 'i', 'k'], ['z', ...lead, 'k', 'j']], output: ['z', ...lead, 'i', 'j'] };
}

/** The first and last axis a 'flatten' makes one among `rank` axes (batch included); null when they are not axes of it or come in the wrong order. */
export function flattenAxes(op: Extract<TensorOpConfig, { op: 'flatten' }>, rank: number): [number, number] | null {
  const start = torchAxis(op.start, rank);
  const end = torchAxis(op.end, rank);
  return start === null || end === null || start > end ? null : [start, end];
}

/** The factor of a 'size-scale' operation on an operand of `shape` (per example, torch's order); null when that size is not known. */
export function sizeScaleFactor(op: Extract<TensorOpConfig, { op: 'size-scale' }>, shape: Shape): number | null {
  const k = torchAxis(op.axis, shape.length + 1);
  const size = k === null || k === 0 ? null : (shape[k - 1] ?? null);
  return size === null || size < 1 ? null : op.factor * size ** op.power;
}

function reshape(config: ReshapeConfig, input: Flow, layout: Layout, nextKind: LayerKind | null): Flow {
  const shape = input.shape;
  if (config.op === 'view') {
    if (!config.dims || !shape || !input.rankKnown) return UNKNOWN_FLOW;
    const out = viewOutput(config.dims, shape, layout, nextKind);
    return out ? { shape: out, rankKnown: true } : UNKNOWN_FLOW;
  }
  if (config.op === 'reshape') {
    if (!config.target) return UNKNOWN_FLOW;
    const total = shape && input.rankKnown ? product(shape) : null;
    const known = product(config.target.filter((d) => d !== -1));
    const resolved = config.target.map((d) => (d === -1 ? (total !== null && known ? total / known : null) : d));
    if (total !== null && resolved.every((d): d is number => d !== null) && (product(resolved) !== total || resolved.some((d) => !Number.isInteger(d) || d < 1))) return UNKNOWN_FLOW;
    return { shape: resolved, rankKnown: true };
  }
  if (!shape || !input.rankKnown) return UNKNOWN_FLOW;
  if (config.op === 'repeat-vector') return shape.length === 1 ? { shape: [config.n, ...shape], rankKnown: true } : UNKNOWN_FLOW;
  if (config.op === 'permute') {
    const order = config.dims;
    if (!order || order.length !== shape.length) return UNKNOWN_FLOW;
    return { shape: order.map((d) => shape[d - 1] ?? null), rankKnown: true };
  }
  const parts = split(shape, layout, shape.length - 1);
  if (!parts) return UNKNOWN_FLOW;
  switch (config.op) {
    case 'upsampling': {
      const sides = config.size ? perDim(config.size, parts.spatial.length) : null;
      if (sides) return { shape: join(parts.channels, sides, layout), rankKnown: true };
      const factors = perDim(config.factors, parts.spatial.length);
      if (!factors) return UNKNOWN_FLOW;
      // torch: floor(side * scale_factor); Keras factors are integers.
      return { shape: join(parts.channels, parts.spatial.map((s, i) => (s === null ? null : Math.floor(s * factors[i]!))), layout), rankKnown: true };
    }
    case 'zero-padding':
    case 'edge-padding':
      return padSpatial(parts, config.pads, 1, layout);
    case 'pixel-shuffle': {
      const r = config.factor;
      if (r === null || parts.channels === null || parts.channels % (r * r) !== 0) return UNKNOWN_FLOW;
      return { shape: join(parts.channels / (r * r), parts.spatial.map((s) => (s === null ? null : s * r)), layout), rankKnown: true };
    }
    case 'cropping':
      return padSpatial(parts, config.crops, -1, layout);
    default:
      return UNKNOWN_FLOW;
  }
}

/**
 * The concatenation axis in the computed shape (batch excluded) from the axis as written (batch
 * counted, negative from the end). A torch `dim=1` is the channel axis, which is last when the
 * shapes are computed channels-last.
 */
export function concatAxis(layer: LayerOf<'concat'>, rank: number, ctx: ShapeContext): number | null {
  const written = layer.merge.axis ?? -1;
  const source: Layout = layer.dataFormat ?? (ctx.framework === 'torch' ? 'channels_first' : 'channels_last');
  let axis = written < 0 ? rank + written : written - 1;
  if (axis < 0 || axis >= rank) return null;
  if (source !== layoutOf(layer, ctx) && rank > 1) axis = source === 'channels_first' ? (axis === 0 ? rank - 1 : axis - 1) : axis === rank - 1 ? 0 : axis + 1;
  return axis;
}

/**
 * The shape an elementwise product of `shapes` has, as both frameworks broadcast (aligned on
 * the last axis, a side of 1 stretched to the other's: a squeeze-and-excitation gate (C, 1, 1) times
 * the feature map (C, H, W)); null when they do not broadcast. An unknown side (null) matches any.
 */
export function broadcastShapes(shapes: readonly (readonly (number | null)[])[]): (number | null)[] | null {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: (number | null)[] = [];
  for (let i = 1; i <= rank; i++) {
    // undefined while every side is 1; null (unknown) gives way to a known side.
    let side: number | null | undefined;
    for (const shape of shapes) {
      const d = shape[shape.length - i];
      if (d === undefined || d === 1) continue;
      if (side === undefined || side === null) side = d;
      else if (d !== null && d !== side) return null;
    }
    out.unshift(side === undefined ? 1 : side);
  }
  return out;
}

function merge(layer: LayerOf<'add' | 'concat' | 'multiply'>, inputs: Flow[], ctx: ShapeContext): Flow {
  if (layer.kind === 'multiply') {
    const known = inputs.flatMap((f) => (f.shape && f.rankKnown ? [f.shape] : []));
    const broadcast = known.length === inputs.length && known.length > 1 ? broadcastShapes(known) : null;
    return broadcast ? { shape: broadcast, rankKnown: true } : (inputs.find((f) => f.shape) ?? UNKNOWN_FLOW);
  }
  if (layer.kind === 'add') return inputs.find((f) => f.shape) ?? UNKNOWN_FLOW;
  const shapes = inputs.flatMap((f) => (f.shape && f.rankKnown ? [f.shape] : []));
  if (inputs.length === 0 || shapes.length !== inputs.length) return UNKNOWN_FLOW;
  const rank = shapes[0]!.length;
  if (shapes.some((s) => s.length !== rank)) return UNKNOWN_FLOW;
  const axis = concatAxis(layer, rank, ctx);
  if (axis === null) return UNKNOWN_FLOW;
  const out = shapes[0]!.map((d, i) => (i === axis ? (product(shapes.map((s) => s[i]!)) === null ? null : shapes.reduce((sum, s) => sum + s[i]!, 0)) : d));
  return { shape: out, rankKnown: true };
}

/**
 * The input channels or features a layer reads from its input: the last dimension, or the channel
 * axis of spatial layers. null when unknown.
 */
export function inputFeatures(layer: LayerIR, input: Flow, ctx: ShapeContext): number | null {
  const shape = input.shape;
  if (!shape || shape.length === 0) return null;
  const last = shape[shape.length - 1]!;
  const layout = layoutOf(layer, ctx);
  const conv = convOf(layer);
  if (conv) {
    // ConvLSTM reads (time, *spatial, channels): the channels of one step.
    const step = isRecurrentKind(layer.kind) ? shape.slice(1) : shape;
    const parts = input.rankKnown ? split(step, layout, spatialDims(layer)) : null;
    return parts ? parts.channels : null;
  }
  if (layer.kind === 'batchnorm' && input.rankKnown && layout === 'channels_first') return shape[0]!;
  return last;
}

/** One layer's output flow from its input flows. Pure: it neither reads nor writes anything else. */
export function layerOutput(layer: LayerIR, inputs: Flow[], ctx: ShapeContext): Flow {
  const input = inputs[0] ?? UNKNOWN_FLOW;
  const layout = layoutOf(layer, ctx);
  if (layer.timeDistributed && input.shape && input.shape.length > 1) {
    // The wrapped layer sees one time step.
    const inner = layerOutput(layerWith(layer, { timeDistributed: false }), [{ shape: input.shape.slice(1), rankKnown: input.rankKnown }], ctx);
    return inner.shape ? { shape: [input.shape[0]!, ...inner.shape], rankKnown: inner.rankKnown } : UNKNOWN_FLOW;
  }
  const shape = input.shape;
  switch (layer.kind) {
    case 'input':
      return layer.shape ? { shape: layer.shape, rankKnown: true } : input;
    case 'dense':
      if (layer.units === null) return UNKNOWN_FLOW;
      return shape ? { shape: [...shape.slice(0, -1), layer.units], rankKnown: input.rankKnown } : { shape: [layer.units], rankKnown: false };
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv-transpose':
      return convolution(layer, input, layout, layer.inFeatures ?? inputFeatures(layer, input, ctx));
    case 'maxpool':
    case 'avgpool':
      return pooling(layer, input, layout);
    case 'global-pool': {
      if (!shape || !input.rankKnown || shape.length < 2) return UNKNOWN_FLOW;
      const channels = layout === 'channels_first' ? shape[0]! : shape[shape.length - 1]!;
      return { shape: layer.keepdims === true ? join(channels, shape.slice(1).map(() => 1), layout) : [channels], rankKnown: true };
    }
    case 'flatten':
      return shape && input.rankKnown ? { shape: [product(shape)], rankKnown: true } : UNKNOWN_FLOW;
    case 'reshape':
      return reshape(layer.reshape, input, layout, ctx.nextKind);
    case 'embedding':
      return { shape: [...(shape ?? [null]), layer.units], rankKnown: !!shape && input.rankKnown };
    case 'lstm':
    case 'gru':
    case 'simple-rnn': {
      if (!layer.recurrent.conv) return recurrent(layer, input, ctx.nextKind);
      // ConvLSTM: (time, *spatial, channels) -> each step's map; the time axis stays with return_sequences.
      if (!shape || !input.rankKnown || shape.length < 3) return UNKNOWN_FLOW;
      const step = convolution(layer, { shape: shape.slice(1), rankKnown: true }, layout, layer.inFeatures);
      if (!step.shape) return UNKNOWN_FLOW;
      return layer.recurrent.returnSequences === true ? { shape: [shape[0]!, ...step.shape], rankKnown: true } : step;
    }
    case 'batchnorm':
    case 'groupnorm':
    case 'layernorm':
    case 'dropout':
    case 'alpha-dropout':
    case 'activation':
    case 'rescaling':
    case 'local-response-norm':
      return input;
    case 'add':
    case 'multiply':
    case 'concat':
      return merge(layer, inputs, ctx);
    case 'attention': {
      // The query's shape, its features replaced by the output projection's.
      const units = layer.units ?? (shape ? shape[shape.length - 1]! : null);
      return shape ? { shape: [...shape.slice(0, -1), units], rankKnown: input.rankKnown } : { shape: [units], rankKnown: false };
    }
    case 'position-embedding':
      return input;
    case 'tensor-op': {
      const shapes = inputs.map((f) => (f.shape && f.rankKnown ? f.shape : null));
      if (!layer.op || shapes.some((s) => s === null)) return UNKNOWN_FLOW;
      const out = tensorOpOutput(layer.op, shapes as Shape[]);
      return out ? { shape: out, rankKnown: true } : UNKNOWN_FLOW;
    }
    case 'backbone': {
      const out = backboneOutput(layer.backbone, shape && input.rankKnown ? shape : null);
      return out ? { shape: out, rankKnown: true } : UNKNOWN_FLOW;
    }
    case 'unknown':
      return layer.identity ? input : UNKNOWN_FLOW;
  }
}

/**
 * What a backbone (keras.applications) makes of an image (height, width, channels, channels last as
 * Keras builds them): its ImageNet classes, its pooled feature vector, or its last feature map, each
 * side taken down by its reductions. Null when the image's sides are unknown or too small.
 */
export function backboneOutput(backbone: BackboneConfig, image: Shape | null): Shape | null {
  if (backbone.classes !== null) return [backbone.classes];
  if (backbone.pooling !== null) return [backbone.channels];
  if (!image || image.length !== 3) return null;
  const sides = image.slice(0, 2).map((side) =>
    backbone.reductions.reduce<number | null>((s, r) => {
      if (s === null) return null;
      const out = r.pad === 'same' ? Math.ceil(s / r.stride) : Math.floor((s + r.pad - r.kernel) / r.stride) + 1;
      return out > 0 ? out : null;
    }, side),
  );
  return sides.every((s) => s !== null) ? [...sides, backbone.channels] : null;
}

/**
 * Fans of attention's query projection, as each framework's initializer computes them: torch draws
 * in_proj_weight (3E, E) with xavier_uniform (fan_in E, fan_out 3E); Keras draws the EinsumDense kernel
 * (E, heads, key_dim), whose fans count the first axis as a receptive field (E x heads, E x key_dim).
 */
export function attentionFans(layer: LayerOf<'attention'>): { fanIn: number | null; fanOut: number | null } {
  const e = layer.inFeatures;
  const { heads, keyDim } = layer.attention;
  if (e === null) return { fanIn: null, fanOut: null };
  if (layer.kernelInit?.framework === 'torch') return { fanIn: e, fanOut: 3 * e };
  return { fanIn: heads !== null ? e * heads : null, fanOut: keyDim !== null ? e * keyDim : null };
}

function setFans(layer: LayerIR, fanIn: number | null, fanOut: number | null): void {
  if (layer.fanIn === null && fanIn !== null) layer.fanIn = fanIn;
  if (layer.fanOut === null && fanOut !== null) layer.fanOut = fanOut;
}

/** Fills a layer's inFeatures and kernel fans (where null) from the features it reads. */
function fillSizes(layer: LayerIR, input: Flow, ctx: ShapeContext): void {
  if (layer.timeDistributed && input.shape && input.shape.length > 1) {
    fillSizes(layer, { shape: input.shape.slice(1), rankKnown: input.rankKnown }, { ...ctx });
    return;
  }
  const features = inputFeatures(layer, input, ctx);
  const conv = convOf(layer);
  if (conv) {
    if (layer.inFeatures === null && features !== null) layer.inFeatures = features;
    const inChannels = layer.inFeatures;
    const dims = spatialDims(layer);
    const kernel = perDim(layer.kernelSize, dims);
    const rf = kernel ? product(kernel) : null;
    if (rf === null) return;
    const groups = conv.groups !== null && conv.groups > 0 ? conv.groups : 1;
    if (conv.variant === 'depthwise' || conv.variant === 'separable') {
      setFans(layer, inChannels !== null ? inChannels * rf : null, conv.depthMultiplier * rf);
      if (conv.pointwise && inChannels !== null) {
        conv.pointwise.fanIn ??= inChannels * conv.depthMultiplier;
        conv.pointwise.fanOut ??= layer.units;
      }
    } else if (conv.variant === 'transpose') {
      setFans(layer, layer.units !== null ? (layer.units / groups) * rf : null, inChannels !== null ? inChannels * rf : null);
    } else if (isRecurrentKind(layer.kind)) {
      setFans(layer, inChannels !== null ? inChannels * rf : null, layer.units !== null ? gatesOf(layer.kind) * layer.units * rf : null);
    } else {
      setFans(layer, inChannels !== null ? (inChannels / groups) * rf : null, layer.units !== null ? layer.units * rf : null);
    }
    return;
  }
  switch (layer.kind) {
    case 'dense':
      if (layer.inFeatures === null && features !== null) layer.inFeatures = features;
      setFans(layer, layer.inFeatures, layer.units);
      return;
    case 'embedding':
      setFans(layer, layer.inFeatures, layer.units);
      return;
    case 'lstm':
    case 'gru':
    case 'simple-rnn':
      if (layer.inFeatures === null && features !== null) layer.inFeatures = features;
      setFans(layer, layer.inFeatures, layer.units !== null ? gatesOf(layer.kind) * layer.units : null);
      return;
    case 'batchnorm':
    case 'groupnorm':
      if (layer.inFeatures === null && features !== null) layer.inFeatures = features;
      return;
    case 'attention': {
      if (layer.inFeatures === null && features !== null) layer.inFeatures = features;
      // Keras' output_shape defaults to the query's features.
      if (layer.units === null) layer.units = layer.inFeatures;
      const fans = attentionFans(layer);
      setFans(layer, fans.fanIn, fans.fanOut);
      return;
    }
    case 'position-embedding':
      if (layer.units === null && features !== null) layer.units = features;
      return;
    default:
      return;
  }
}

export interface PropagateOptions {
  /** Default data layout: Keras 'channels_last' (the default), PyTorch 'channels_first'. */
  layout?: Layout;
  framework?: Framework;
  /** Shapes of layers that start a chain (graph inputs), by layer id. */
  inputShapes?: Map<string, Shape | null>;
}

/** Why a layer cannot read its inputs, and which layer. */
export interface ShapeConflict {
  layer: LayerIR;
  reason: string;
}

/** Every input's complete shape, or null when one is not known. */
function allKnown(inputs: Flow[]): number[][] | null {
  const shapes: number[][] = [];
  for (const flow of inputs) {
    const shape = known(flow);
    if (!shape) return null;
    shapes.push(shape);
  }
  return shapes;
}

const known = (flow: Flow): number[] | null => (flow.shape && flow.rankKnown && flow.shape.every((d): d is number => d !== null) ? flow.shape : null);

/**
 * Why `layer` cannot read `inputs` (computed with `ctx`, giving `output`): a window larger than its
 * padded input, a channel or feature count other than the one the layer declares, merged shapes that
 * differ, a sequence layer given something that is not (time, features). Null when it can, or when
 * too little is known to tell. The same conditions the probe refuses a plan for.
 */
export function shapeConflict(layer: LayerIR, inputs: Flow[], ctx: ShapeContext, output: Flow): string | null {
  const first = inputs[0] ?? UNKNOWN_FLOW;
  const shape = known(first);
  if (layer.timeDistributed || !shape) return null;
  const written = shape.join('x');
  const features = inputFeatures(layer, first, ctx);
  const declares = (what: string): string | null => (layer.inFeatures !== null && features !== null && layer.inFeatures !== features ? `expects ${layer.inFeatures} input ${what} but receives ${features}` : null);
  switch (layer.kind) {
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv-transpose':
    case 'maxpool':
    case 'avgpool': {
      const dims = layer.kind === 'maxpool' || layer.kind === 'avgpool' ? shape.length - 1 : spatialDims(layer);
      if (dims > 0 && shape.length !== dims + 1) return `needs ${dims + 1} dimensions per example but receives ${written}`;
      if (layer.kind !== 'maxpool' && layer.kind !== 'avgpool') {
        const channels = declares('channels');
        if (channels) return channels;
      }
      const out = output.shape;
      return out && out.length === shape.length && out.some((d) => d === null) && windowsKnown(layer) ? `input ${written} is too small for its window` : null;
    }
    case 'lstm':
    case 'gru':
    case 'simple-rnn':
      if (layer.recurrent.conv) return null;
      if (shape.length !== 2) return `a recurrent layer needs a (time, features) input per example but receives ${written}`;
      return declares('features');
    case 'attention':
      if (shape.length !== 2) return `attention needs a (time, features) input per example but receives ${written}`;
      return declares('features');
    case 'dense':
    case 'batchnorm':
      return declares('features');
    case 'add':
    case 'multiply': {
      const shapes = allKnown(inputs);
      if (!shapes) return null;
      // A product broadcasts (a channel gate or a spatial attention map over a feature map); a sum of two
      // branches (a residual) that only fits by stretching one is taken as not fitting.
      const fits = layer.kind === 'multiply' ? broadcastShapes(shapes) !== null : shapes.every((s) => s.join('x') === written);
      return fits ? null : `inputs have different shapes: ${shapes.map((s) => s.join('x')).join(' vs ')}`;
    }
    case 'concat': {
      const shapes = allKnown(inputs);
      if (!shapes) return null;
      const axis = concatAxis(layer, shape.length, ctx);
      const fits = axis !== null && shapes.every((s) => s.length === shape.length && s.every((d, i) => i === axis || d === shape[i]));
      return fits ? null : `inputs do not fit together: ${shapes.map((s) => s.join('x')).join(' vs ')}`;
    }
    case 'reshape':
      return layer.reshape.op === 'reshape' && layer.reshape.target && output.shape === null ? `cannot reshape ${written} to (${layer.reshape.target.join(', ')})` : null;
    case 'tensor-op': {
      const shapes = allKnown(inputs);
      if (!layer.op || !shapes || output.shape !== null) return null;
      return `${describeTensorOp(layer.op)} does not fit ${shapes.map((s) => s.join('x')).join(' and ')} per example${movesBatch(layer.op) ? ' (it would move the batch axis)' : ''}`;
    }
    default:
      return null;
  }
}

/** Where a split's part starts on its axis of `length`, and how long it is; null when unknown or empty. */
export function splitPart(op: Extract<TensorOpConfig, { op: 'split' }>, length: number | null): { start: number; length: number } | null {
  if (length === null) return null;
  const by = op.by;
  let start: number;
  let size: number;
  if ('sizes' in by) {
    if (by.sizes.reduce((a, b) => a + b, 0) !== length) return null;
    start = by.sizes.slice(0, op.index).reduce((a, b) => a + b, 0);
    size = by.sizes[op.index] ?? 0;
  } else {
    const step = 'size' in by ? by.size : Math.ceil(length / by.chunks);
    start = op.index * step;
    size = Math.min(step, length - start);
  }
  return size > 0 && start >= 0 ? { start, length: size } : null;
}

/** A tensor operation as the code writes it, for messages: `transpose(1, 2)`, `einsum('bid,bjd->bij')`. */
export function describeTensorOp(op: TensorOpConfig): string {
  switch (op.op) {
    case 'transpose':
      return `transpose(${op.axes.join(', ')})`;
    case 'permute':
      return `permute(${op.order.join(', ')})`;
    case 'unsqueeze':
      return `unsqueeze(${op.axis})`;
    case 'squeeze':
      return `squeeze(${op.axis ?? ''})`;
    case 'flatten':
      return `flatten(${op.start}, ${op.end})`;
    case 'causal-mask':
      return "masked_fill(causal mask, -inf)";
    case 'split':
      return `${'chunks' in op.by ? `chunk(${op.by.chunks}` : `split(${'size' in op.by ? op.by.size : `[${op.by.sizes.join(', ')}]`}`}, dim=${op.axis})[${op.index}]`;
    case 'matmul':
      return op.equation === null ? 'matmul' : `einsum('${op.equation}')`;
    case 'dot-product-attention':
      return `scaled_dot_product_attention(${[op.causal ? 'is_causal=True' : '', op.scale === null ? '' : `scale=${op.scale}`, op.dropout > 0 ? `dropout_p=${op.dropout}` : ''].filter(Boolean).join(', ')})`;
    case 'size-scale':
      return `* ${op.factor === 1 ? '' : `${op.factor} * `}size(${op.axis}) ** ${op.power}`;
  }
}

/** Whether the operation names the batch axis (axis 0) among those it moves: the probe keeps the batch first. */
export function movesBatch(op: TensorOpConfig): boolean {
  if (op.op === 'transpose') return (op.axes[0] === 0) !== (op.axes[1] === 0);
  if (op.op === 'permute') return op.order[0] !== 0;
  if (op.op === 'flatten') return op.start === 0;
  return (op.op === 'unsqueeze' || op.op === 'squeeze' || op.op === 'split') && op.axis === 0;
}

/** Whether a sliding window's settings are all constants (else its output is unknown, not impossible). */
function windowsKnown(layer: LayerIR): boolean {
  if (layer.kind === 'maxpool' || layer.kind === 'avgpool') return layer.pool.adaptiveOutput === null && layer.kernelSize !== null && layer.pool.padding !== null && layer.pool.strides !== null;
  const conv = convOf(layer);
  return conv !== null && layer.kernelSize !== null && conv.strides !== null && conv.dilation !== null && conv.padding !== null;
}

/**
 * Propagates shapes through `layers` (in order; graph edges from `inputs`, a chain start takes the
 * model's `inputShape` or its entry in `options.inputShapes`). Fills in the layers' inFeatures, fanIn
 * and fanOut where they were null, in the layer `prepare` gives for each (default: the layer itself);
 * returns each layer's output shape (null when unknown).
 */
export function propagateShapes(layers: readonly LayerIR[], inputShape: Shape | null, options: PropagateOptions = {}, prepare: ((layer: LayerIR, index: number) => LayerIR) | null = null): Map<string, Shape | null> {
  const flows = walk(layers, inputShape, options, null, prepare);
  return new Map([...flows].map(([id, f]) => [id, f.shape]));
}

/**
 * The first layer that cannot read what `inputShape` gives it (see shapeConflict), or null. The walk
 * fills in the sizes it derives, as propagateShapes does, in the layer `prepare` gives for each layer
 * it reaches (a copy, made only for the layers before the conflict).
 */
export function firstShapeConflict(layers: readonly LayerIR[], inputShape: Shape, options: PropagateOptions, prepare: (layer: LayerIR, index: number) => LayerIR): ShapeConflict | null {
  let conflict: ShapeConflict | null = null;
  walk(
    layers,
    inputShape,
    options,
    (layer, inputs, ctx, output) => {
      const reason = shapeConflict(layer, inputs, ctx, output);
      if (reason !== null) conflict = { layer, reason };
      return reason === null;
    },
    prepare,
  );
  return conflict;
}

type LayerVisit = (layer: LayerIR, inputs: Flow[], ctx: ShapeContext, output: Flow) => boolean;

/**
 * Each layer's flow in order; `visit` sees each layer before its sizes are filled in, and stops the walk
 * by returning false. `prepare` gives the layer read and filled in for each layer reached (default: itself).
 */
function walk(layers: readonly LayerIR[], inputShape: Shape | null, options: PropagateOptions, visit: LayerVisit | null, prepare: ((layer: LayerIR, index: number) => LayerIR) | null = null): Map<string, Flow> {
  const framework = options.framework ?? (options.layout === 'channels_first' ? 'torch' : 'keras');
  const base: Omit<ShapeContext, 'nextKind'> = { layout: options.layout ?? (framework === 'torch' ? 'channels_first' : 'channels_last'), framework, honourDataFormat: true };
  const flows = new Map<string, Flow>();
  let modelInputUsed = false;
  for (let index = 0; index < layers.length; index++) {
    const layer = prepare ? prepare(layers[index]!, index) : layers[index]!;
    let inputs: Flow[];
    if (layer.inputs.length > 0) {
      inputs = layer.inputs.map((id) => flows.get(id) ?? UNKNOWN_FLOW);
    } else {
      const declared = options.inputShapes?.get(layer.id);
      const shape = declared !== undefined ? declared : modelInputUsed ? null : inputShape;
      modelInputUsed = true;
      inputs = [shape ? { shape, rankKnown: true } : UNKNOWN_FLOW];
    }
    // Named, not spread from `base`: a spread per layer took V8's generic path (0.7 ms of a model-dense file).
    const ctx: ShapeContext = { layout: base.layout, framework: base.framework, honourDataFormat: base.honourDataFormat, nextKind: readerKind(layers, index) };
    if (visit && !visit(layer, inputs, ctx, layerOutput(layer, inputs, ctx))) break;
    fillSizes(layer, inputs[0] ?? UNKNOWN_FLOW, ctx);
    flows.set(layer.id, layerOutput(layer, inputs, ctx));
  }
  return flows;
}
