/**
 * Shape propagation through a model's layers: from the input shape (without the batch dimension)
 * through every layer, filling what the source leaves implicit: each layer's `inFeatures` and the
 * fans of its kernel, computed the way the frameworks' initializers compute them:
 *   Dense/Linear:  fan_in = incoming features, fan_out = units
 *   Conv:          fan_in = in_channels / groups * prod(kernel), fan_out = filters * prod(kernel)
 *   ConvTranspose: fan_in = filters * prod(kernel), fan_out = in_channels * prod(kernel)
 *                  (both frameworks store the kernel with the roles of its two channel axes swapped)
 *   Depthwise:     fan_in = in_channels * prod(kernel), fan_out = depth_multiplier * prod(kernel)
 *   Recurrent:     fan_in = input features, fan_out = gates * units (the input kernel)
 *   Embedding:     fan_in = input_dim, fan_out = output_dim
 * Values already set (e.g. torch's explicit in_features) are kept. Unknown stays null.
 *
 * Framework-neutral: Keras layers use channels_last, PyTorch channels_first (`options.layout`);
 * a layer's `params.data_format` overrides. Params are read in either framework's spelling
 * (strides/stride, dilation_rate/dilation, padding as 'same'/'valid'/number); list-valued params
 * are numbers or JSON arrays ("[2,2]").
 */
import type { LayerIR } from '../../shared/ir';

export type Shape = (number | null)[];
export type Layout = 'channels_last' | 'channels_first';

export interface ShapeOptions {
  /** Default data layout: Keras 'channels_last' (the default), PyTorch 'channels_first'. */
  layout?: Layout;
  /** Shapes of layers that start a chain (graph inputs), by layer id. */
  inputShapes?: Map<string, Shape | null>;
}

/** Output shape of a layer, and whether its rank is only assumed (last dimension known, leading ones not). */
interface Flow {
  shape: Shape | null;
  rankKnown: boolean;
}

const UNKNOWN: Flow = { shape: null, rankKnown: false };

function paramList(layer: LayerIR, ...names: string[]): number[] | number | null {
  for (const name of names) {
    const v = layer.params[name];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(v);
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'number')) return parsed;
      } catch {
        return null;
      }
    }
  }
  return null;
}

function perDim(value: number[] | number | null, dims: number, fallback: number[]): number[] {
  if (typeof value === 'number') return Array.from({ length: dims }, () => value);
  if (Array.isArray(value) && value.length === dims) return value;
  return fallback;
}

const product = (xs: (number | null)[]): number | null => (xs.every((x): x is number => typeof x === 'number') ? xs.reduce((a, b) => a * b, 1) : null);

function layoutOf(layer: LayerIR, fallback: Layout): Layout {
  const format = layer.params.data_format;
  return format === 'channels_first' || format === 'channels_last' ? format : fallback;
}

/** Splits a shape into channels and spatial dims for a layer with `dims` spatial dimensions. */
function split(shape: Shape, layout: Layout, dims: number): { channels: number | null; spatial: Shape } | null {
  if (shape.length !== dims + 1) return null;
  return layout === 'channels_first' ? { channels: shape[0]!, spatial: shape.slice(1) } : { channels: shape[dims]!, spatial: shape.slice(0, dims) };
}

function join(channels: number | null, spatial: Shape, layout: Layout): Shape {
  return layout === 'channels_first' ? [channels, ...spatial] : [...spatial, channels];
}

function spatialDims(layer: LayerIR): number {
  if (layer.kind === 'conv1d') return 1;
  if (layer.kind === 'conv2d') return 2;
  if (layer.kind === 'conv3d') return 3;
  return layer.kernelSize?.length ?? 0;
}

/** Output length of a sliding window along one dimension. */
function windowOut(input: number | null, kernel: number, stride: number, dilation: number, padding: string | number, transpose: boolean, outputPadding = 0): number | null {
  if (input === null) return null;
  const effective = (kernel - 1) * dilation + 1;
  if (transpose) {
    if (padding === 'same') return input * stride;
    if (padding === 'valid') return input * stride + Math.max(effective - stride, 0);
    return (input - 1) * stride - 2 * (padding as number) + effective + outputPadding;
  }
  if (padding === 'same' || padding === 'causal') return Math.ceil(input / stride);
  const pad = padding === 'valid' ? 0 : (padding as number);
  const out = Math.floor((input + 2 * pad - effective) / stride) + 1;
  return out > 0 ? out : null;
}

function paddingOf(layer: LayerIR, dims: number): (string | number)[] | null {
  const p = layer.params.padding;
  if (p === undefined) return Array.from({ length: dims }, () => 'valid');
  if (p === 'same' || p === 'valid' || p === 'causal') return Array.from({ length: dims }, () => p);
  const list = paramList(layer, 'padding');
  return list === null ? null : perDim(list, dims, []).length === dims ? perDim(list, dims, []) : null;
}

function setFans(layer: LayerIR, fanIn: number | null, fanOut: number | null): void {
  if (layer.fanIn === null && fanIn !== null) layer.fanIn = fanIn;
  if (layer.fanOut === null && fanOut !== null) layer.fanOut = fanOut;
}

function convolution(layer: LayerIR, input: Flow, layout: Layout): Flow {
  const dims = spatialDims(layer);
  const kernel = layer.kernelSize;
  const parts = input.shape && input.rankKnown ? split(input.shape, layout, dims) : null;
  if (layer.inFeatures === null && parts?.channels != null) layer.inFeatures = parts.channels;
  const inChannels = layer.inFeatures;
  const rf = kernel && kernel.length === dims ? product(kernel) : null;
  const convType = layer.params.conv_type;
  const groups = typeof layer.params.groups === 'number' && layer.params.groups > 0 ? layer.params.groups : 1;
  const depthMultiplier = typeof layer.params.depth_multiplier === 'number' ? layer.params.depth_multiplier : 1;
  let outChannels: number | null = layer.units;
  if (rf !== null) {
    if (convType === 'depthwise' || convType === 'separable') {
      setFans(layer, inChannels !== null ? inChannels * rf : null, depthMultiplier * rf);
      if (inChannels !== null) {
        layer.params.pointwise_fan_in ??= inChannels * depthMultiplier;
        if (layer.units !== null) layer.params.pointwise_fan_out ??= layer.units;
      }
      if (convType === 'depthwise') outChannels = inChannels !== null ? inChannels * depthMultiplier : null;
    } else if (layer.kind === 'conv-transpose') {
      setFans(layer, layer.units !== null ? (layer.units / groups) * rf : null, inChannels !== null ? inChannels * rf : null);
    } else if (layer.kind === 'lstm' || layer.kind === 'gru' || layer.kind === 'simple-rnn') {
      const gates = layer.kind === 'lstm' ? 4 : layer.kind === 'gru' ? 3 : 1;
      setFans(layer, inChannels !== null ? inChannels * rf : null, layer.units !== null ? gates * layer.units * rf : null);
    } else {
      setFans(layer, inChannels !== null ? (inChannels / groups) * rf : null, layer.units !== null ? layer.units * rf : null);
    }
  }
  if (!parts || !kernel || kernel.length !== dims) return UNKNOWN;
  const strides = perDim(paramList(layer, 'strides', 'stride'), dims, Array.from({ length: dims }, () => 1));
  const dilation = perDim(paramList(layer, 'dilation_rate', 'dilation'), dims, Array.from({ length: dims }, () => 1));
  const padding = paddingOf(layer, dims);
  const outputPadding = perDim(paramList(layer, 'output_padding'), dims, Array.from({ length: dims }, () => 0));
  if (!padding) return UNKNOWN;
  const spatial = parts.spatial.map((s, i) => windowOut(s, kernel[i]!, strides[i]!, dilation[i]!, padding[i]!, layer.kind === 'conv-transpose', outputPadding[i]));
  return { shape: join(outChannels, spatial, layout), rankKnown: true };
}

function pooling(layer: LayerIR, input: Flow, layout: Layout): Flow {
  const kernel = layer.kernelSize;
  if (!kernel || !input.shape || !input.rankKnown) return UNKNOWN;
  const dims = kernel.length;
  const parts = split(input.shape, layout, dims);
  if (!parts) return UNKNOWN;
  const strides = perDim(paramList(layer, 'strides', 'stride'), dims, kernel);
  const padding = paddingOf(layer, dims);
  if (!padding) return UNKNOWN;
  const spatial = parts.spatial.map((s, i) => windowOut(s, kernel[i]!, strides[i]!, 1, padding[i]!, false));
  return { shape: join(parts.channels, spatial, layout), rankKnown: true };
}

function recurrent(layer: LayerIR, input: Flow): Flow {
  const shape = input.shape;
  const features = shape && shape.length > 0 ? shape[shape.length - 1]! : null;
  if (layer.inFeatures === null && features !== null) layer.inFeatures = features;
  const gates = layer.kind === 'lstm' ? 4 : layer.kind === 'gru' ? 3 : 1;
  setFans(layer, layer.inFeatures, layer.units !== null ? gates * layer.units : null);
  const bidirectional = layer.params.bidirectional === true || layer.params.bidirectional === 1;
  const merge = layer.params.merge_mode;
  const directions = bidirectional && (merge === undefined || merge === 'concat') ? 2 : 1;
  const units = layer.units !== null ? layer.units * directions : null;
  if (layer.params.return_sequences === true || layer.params.return_sequences === 1) {
    const steps = shape && input.rankKnown && shape.length >= 2 ? shape[shape.length - 2]! : null;
    return { shape: [steps, units], rankKnown: input.rankKnown && !!shape && shape.length === 2 };
  }
  return { shape: [units], rankKnown: true };
}

function reshape(layer: LayerIR, input: Flow, layout: Layout): Flow {
  const shape = input.shape;
  const op = layer.params.op;
  if (op === undefined) {
    const target = paramList(layer, 'target_shape', 'shape');
    const targetList = typeof target === 'number' ? [target] : target;
    if (!targetList) return UNKNOWN;
    const total = shape && input.rankKnown ? product(shape) : null;
    const known = product(targetList.filter((d) => d !== -1));
    const resolved = targetList.map((d) => (d === -1 ? (total !== null && known ? total / known : null) : d));
    return { shape: resolved, rankKnown: true };
  }
  if (!shape || !input.rankKnown) return UNKNOWN;
  if (op === 'RepeatVector') {
    const n = paramList(layer, 'n');
    return { shape: [typeof n === 'number' ? n : null, ...shape], rankKnown: true };
  }
  const dims = shape.length - 1;
  const parts = split(shape, layoutOf(layer, layout), dims);
  if (!parts) return UNKNOWN;
  if (typeof op === 'string' && op.startsWith('UpSampling')) {
    const size = perDim(paramList(layer, 'size'), dims, Array.from({ length: dims }, () => 2));
    return { shape: join(parts.channels, parts.spatial.map((s, i) => (s === null ? null : s * size[i]!)), layoutOf(layer, layout)), rankKnown: true };
  }
  if (typeof op === 'string' && op.startsWith('ZeroPadding')) {
    const pad = perDim(paramList(layer, 'padding'), dims, Array.from({ length: dims }, () => 1));
    return { shape: join(parts.channels, parts.spatial.map((s, i) => (s === null ? null : s + 2 * pad[i]!)), layoutOf(layer, layout)), rankKnown: true };
  }
  if (op === 'Permute') {
    const order = paramList(layer, 'dims');
    if (!Array.isArray(order) || order.length !== shape.length) return UNKNOWN;
    return { shape: order.map((d) => shape[d - 1] ?? null), rankKnown: true };
  }
  return UNKNOWN;
}

function merge(layer: LayerIR, inputs: Flow[]): Flow {
  if (layer.kind !== 'concat') return inputs.find((f) => f.shape) ?? UNKNOWN;
  if (inputs.length === 0 || inputs.some((f) => !f.shape || !f.rankKnown)) return UNKNOWN;
  const shapes = inputs.map((f) => f.shape!);
  const rank = shapes[0]!.length;
  if (shapes.some((s) => s.length !== rank)) return UNKNOWN;
  const axisParam = paramList(layer, 'axis', 'dim');
  const axisRaw = typeof axisParam === 'number' ? axisParam : -1;
  // Keras counts the batch axis: axis=1 is our axis 0. Negative axes count from the end either way.
  const axis = axisRaw < 0 ? rank + axisRaw : axisRaw - 1;
  if (axis < 0 || axis >= rank) return UNKNOWN;
  const out = shapes[0]!.map((d, i) => (i === axis ? product(shapes.map((s) => s[i]!)) === null ? null : shapes.reduce((sum, s) => sum + s[i]!, 0) : d));
  return { shape: out, rankKnown: true };
}

/** Computes one layer's output flow, filling its inFeatures and fans on the way. */
function step(layer: LayerIR, inputs: Flow[], layout: Layout): Flow {
  const input = inputs[0] ?? UNKNOWN;
  const own = layoutOf(layer, layout);
  if (layer.params.time_distributed === true && input.shape && input.shape.length > 1) {
    // The wrapped layer sees one time step: compute on a copy without the time axis, then carry
    // the features and fans it found back to the real layer.
    const copy: LayerIR = { ...layer, params: { ...layer.params, time_distributed: false } };
    const inner = step(copy, [{ shape: input.shape.slice(1), rankKnown: input.rankKnown }], layout);
    layer.inFeatures = copy.inFeatures;
    layer.fanIn = copy.fanIn;
    layer.fanOut = copy.fanOut;
    return inner.shape ? { shape: [input.shape[0]!, ...inner.shape], rankKnown: inner.rankKnown } : UNKNOWN;
  }
  const shape = input.shape;
  const last = shape && shape.length > 0 ? shape[shape.length - 1]! : null;
  switch (layer.kind) {
    case 'input':
      return input;
    case 'dense': {
      if (layer.inFeatures === null && last !== null) layer.inFeatures = last;
      setFans(layer, layer.inFeatures, layer.units);
      if (layer.units === null) return UNKNOWN;
      return shape ? { shape: [...shape.slice(0, -1), layer.units], rankKnown: input.rankKnown } : { shape: [layer.units], rankKnown: false };
    }
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv-transpose':
      return convolution(layer, input, own);
    case 'maxpool':
    case 'avgpool':
      return pooling(layer, input, own);
    case 'global-pool': {
      if (!shape || !input.rankKnown) return UNKNOWN;
      const channels = own === 'channels_first' ? shape[0]! : last;
      const keep = layer.params.keepdims ?? own === 'channels_first';
      return { shape: keep === true ? join(channels, shape.slice(1).map(() => 1), own) : [channels], rankKnown: true };
    }
    case 'flatten':
      return shape && input.rankKnown ? { shape: [product(shape)], rankKnown: true } : UNKNOWN;
    case 'reshape':
      return reshape(layer, input, own);
    case 'embedding': {
      setFans(layer, layer.inFeatures, layer.units);
      return { shape: [...(shape ?? [null]), layer.units], rankKnown: !!shape && input.rankKnown };
    }
    case 'lstm':
    case 'gru':
    case 'simple-rnn':
      if (layer.kernelSize) return convolution(layer, input, own);
      return recurrent(layer, input);
    case 'batchnorm':
    case 'groupnorm':
    case 'layernorm': {
      const channels = shape && input.rankKnown && own === 'channels_first' && layer.kind === 'batchnorm' ? shape[0]! : last;
      if (layer.inFeatures === null && channels !== null && layer.kind !== 'layernorm') layer.inFeatures = channels;
      return input;
    }
    case 'dropout':
    case 'alpha-dropout':
    case 'activation':
    case 'rescaling':
      return input;
    case 'add':
    case 'multiply':
    case 'concat':
      return merge(layer, inputs);
    default:
      return layer.params.identity === true ? input : UNKNOWN;
  }
}

/**
 * Propagates shapes through `layers` (in order; graph edges from `inputs`, a chain start takes the
 * model's `inputShape` or its entry in `options.inputShapes`). Mutates the layers' inFeatures,
 * fanIn and fanOut where they were null; returns each layer's output shape (null when unknown).
 */
export function propagateShapes(layers: LayerIR[], inputShape: Shape | null, options: ShapeOptions = {}): Map<string, Shape | null> {
  const layout = options.layout ?? 'channels_last';
  const flows = new Map<string, Flow>();
  let modelInputUsed = false;
  for (const layer of layers) {
    let inputs: Flow[];
    if (layer.inputs.length > 0) {
      inputs = layer.inputs.map((id) => flows.get(id) ?? UNKNOWN);
    } else {
      const declared = options.inputShapes?.get(layer.id);
      const shape = declared !== undefined ? declared : modelInputUsed ? null : inputShape;
      modelInputUsed = true;
      inputs = [shape ? { shape, rankKnown: true } : UNKNOWN];
    }
    flows.set(layer.id, step(layer, inputs, layout));
  }
  return new Map([...flows].map(([id, f]) => [id, f.shape]));
}
