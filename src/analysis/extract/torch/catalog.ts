/**
 * The torch.nn layer catalog: a constructor call with constant arguments -> a Slot (LayerIR template
 * with sizes, fans, parameters and the framework's default initializers).
 */
import type { Node } from '../../python/syntax-tree';
import type { ActivationIR, ActivationName, ConvConfig, InitializerIR, LayerDetail, LayerIR, LayerKind, NormConfig, RecurrentConfig, ReshapeConfig } from '../../../shared/ir';
import { defaultConv, defaultPool, defaultRecurrent, makeLayerAt, TORCH_LRN_DEFAULTS } from '../../../shared/layers';
import type { ConstValue } from '../../python/constants';
import { rangeOf } from '../../python/syntax';
import { makeLayer } from '../builders';
import { boolValue, integerValue, intList, numberValue, paddingValue, setting, shapeList } from '../normalize';
import {
  torchDefaultBias,
  torchDefaultBilinear,
  torchDefaultEmbedding,
  torchDefaultNormBias,
  torchDefaultNormWeight,
  torchDefaultRecurrent,
  torchDefaultWeight,
  torchDefaultAttention,
  torchZeros,
} from '../defaults';
import { ACTIVATION_DEFAULTS, ACTIVATION_MODULE_PARAMS, ACTIVATION_MODULES } from './activations';
import { flattenOp } from './tensorops';
import type { ParamSpec, Slot } from './values';

/** Constant arguments of one call, by position or keyword. undefined = not written or not constant. */
export interface ArgReader {
  get(index: number | null, ...names: string[]): ConstValue | undefined;
  /** Whether the argument is written at all (constant or not). */
  written(index: number | null, ...names: string[]): boolean;
}

export interface LayerCall {
  /** Simple class name, e.g. "Linear". */
  name: string;
  /** As written, e.g. "nn.Linear". */
  spelling: string;
  call: Node;
  args: ArgReader;
}

/** An int or a tuple of ints -> `dims` sizes; null when unknown. */
function sizes(v: ConstValue | undefined, dims: number): number[] | null {
  if (typeof v === 'number') return Array.from({ length: dims }, () => v);
  if (Array.isArray(v) && v.length === dims && v.every((x) => typeof x === 'number')) return v;
  return null;
}

const product = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);

/** An argument with a default: the default when not written, its normalized value when constant, null otherwise. */
function read<T>(args: ArgReader, index: number | null, name: string, normalize: (v: ConstValue | undefined) => T | null, fallback: T): T | null {
  return setting(args.written(index, name), args.get(index, name), normalize, fallback);
}

/** The layer of a call: a kind with its typed fields, or a bare kind (its defaults). */
function base(c: LayerCall, detail: LayerDetail | { kind: LayerKind }): LayerIR {
  const list = c.call.childForFieldName('arguments');
  return makeLayerAt(detail, { className: c.spelling, range: rangeOf(c.call), argsRange: list ? rangeOf(list) : null });
}

const slot = (layer: LayerIR, params: ParamSpec[]): Slot => ({ layer, qualified: null, params, unsupported: null });

/** `bias=` as written; true when absent, null when written but not constant. */
function biasFlag(args: ArgReader, index: number | null, name = 'bias'): boolean | null {
  if (!args.written(index, name)) return true;
  const v = args.get(index, name);
  return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : null;
}

function weightAndBias(layer: LayerIR, hasBias: boolean | null, weightDim: number): ParamSpec[] {
  layer.kernelInit = torchDefaultWeight();
  // An unknown bias flag keeps the default bias on record; useBias stays true (torch's default).
  layer.useBias = hasBias !== false;
  layer.biasInit = hasBias === false ? null : torchDefaultBias();
  const params: ParamSpec[] = [{ name: 'weight', role: 'kernel', dim: weightDim }];
  if (hasBias !== false) params.push({ name: 'bias', role: 'bias', dim: 1 });
  return params;
}

function linear(c: LayerCall): Slot {
  const layer = base(c, { kind: 'dense' });
  const lazy = c.name === 'LazyLinear';
  const inF = lazy ? null : numberValue(c.args.get(0, 'in_features'));
  const out = numberValue(c.args.get(lazy ? 0 : 1, 'out_features'));
  layer.inFeatures = inF;
  layer.units = out;
  layer.fanIn = inF;
  layer.fanOut = out;
  return slot(layer, weightAndBias(layer, biasFlag(c.args, lazy ? 1 : 2), 2));
}

function bilinear(c: LayerCall): Slot {
  const in1 = numberValue(c.args.get(0, 'in1_features'));
  const in2 = numberValue(c.args.get(1, 'in2_features'));
  const layer = base(c, { kind: 'dense', in2Features: in2 });
  layer.inFeatures = in1;
  layer.units = numberValue(c.args.get(2, 'out_features'));
  layer.fanIn = in1 !== null && in2 !== null ? in1 * in2 : null;
  layer.fanOut = layer.units !== null && in2 !== null ? layer.units * in2 : null;
  const hasBias = biasFlag(c.args, 3);
  layer.useBias = hasBias !== false;
  layer.kernelInit = torchDefaultBilinear(in1);
  layer.biasInit = hasBias === false ? null : torchDefaultBilinear(in1);
  const params: ParamSpec[] = [{ name: 'weight', role: 'kernel', dim: 3 }];
  if (hasBias !== false) params.push({ name: 'bias', role: 'bias', dim: 1 });
  return slot(layer, params);
}

function conv(c: LayerCall, dims: number, transpose: boolean): Slot {
  const kind = transpose ? 'conv-transpose' : dims === 1 ? 'conv1d' : dims === 2 ? 'conv2d' : 'conv3d';
  const lazy = c.name.startsWith('Lazy');
  const shift = lazy ? -1 : 0;
  // ConvTranspose takes output_padding at 5 and dilation after bias.
  const conv: ConvConfig = {
    ...defaultConv(transpose ? 'transpose' : 'standard'),
    strides: read(c.args, 3 + shift, 'stride', intList, [1]),
    padding: read(c.args, 4 + shift, 'padding', paddingValue, [0]),
    dilation: read(c.args, (transpose ? 8 : 5) + shift, 'dilation', intList, [1]),
    groups: read(c.args, 6 + shift, 'groups', numberValue, 1),
    outputPadding: transpose ? read(c.args, 5 + shift, 'output_padding', intList, [0]) : [0],
  };
  const layer = base(c, { kind, conv });
  const inC = lazy ? null : numberValue(c.args.get(0, 'in_channels'));
  const outC = numberValue(c.args.get(1 + shift, 'out_channels'));
  const kernel = sizes(c.args.get(2 + shift, 'kernel_size'), dims);
  const groupsValue = c.args.written(6 + shift, 'groups') ? numberValue(c.args.get(6 + shift, 'groups')) : 1;
  layer.inFeatures = inC;
  layer.units = outC;
  layer.kernelSize = kernel;
  const rf = kernel ? product(kernel) : null;
  if (rf !== null && groupsValue !== null) {
    // torch's fan computation on the weight tensor: conv weight (out, in/groups, *k); transposed (in, out/groups, *k).
    if (!transpose) {
      layer.fanIn = inC !== null ? (inC / groupsValue) * rf : null;
      layer.fanOut = outC !== null ? outC * rf : null;
    } else {
      layer.fanIn = outC !== null ? (outC / groupsValue) * rf : null;
      layer.fanOut = inC !== null ? inC * rf : null;
    }
  }
  return slot(layer, weightAndBias(layer, biasFlag(c.args, 7 + shift), 2 + dims));
}

function pool(c: LayerCall, kind: 'maxpool' | 'avgpool', dims: number): Slot {
  // MaxPool: (kernel_size, stride=None, padding=0, dilation=1, return_indices, ceil_mode);
  // AvgPool: (kernel_size, stride=None, padding=0, ceil_mode, count_include_pad, ...).
  const max = kind === 'maxpool';
  const stride = c.args.get(1, 'stride');
  const layer = base(c, {
    kind,
    pool: {
      strides: !c.args.written(1, 'stride') || stride === null ? 'window' : intList(stride),
      padding: read(c.args, 2, 'padding', paddingValue, [0]),
      dilation: max ? (read(c.args, 3, 'dilation', intList, [1]) ?? [1]) : [1],
      ceilMode: boolValue(c.args.get(max ? 5 : 3, 'ceil_mode')) === true,
      adaptiveOutput: null,
    },
  });
  layer.kernelSize = sizes(c.args.get(0, 'kernel_size'), dims);
  return slot(layer, []);
}

function adaptivePool(c: LayerCall, kind: 'maxpool' | 'avgpool'): Slot {
  const out = c.args.get(0, 'output_size');
  const global = out === 1 || (Array.isArray(out) && out.every((x) => x === 1));
  // Adaptive pooling keeps its input's rank: (N, C, 1, 1) after AdaptiveAvgPool2d(1).
  if (global) return slot(base(c, { kind: 'global-pool', reduce: kind === 'maxpool' ? 'max' : 'avg', keepdims: true }), []);
  // `None` entries keep the input's size.
  const adaptiveOutput = shapeList(out);
  return slot(base(c, { kind, pool: { ...defaultPool(), adaptiveOutput } }), []);
}

function norm(c: LayerCall, kind: 'batchnorm' | 'layernorm' | 'groupnorm'): Slot {
  let features: number | null;
  let affineKey = 'affine';
  const config: NormConfig = { axis: null, epsilon: null, momentum: null, affine: null, groups: null };
  if (kind === 'layernorm') {
    const shape = c.args.get(0, 'normalized_shape');
    features = typeof shape === 'number' ? shape : Array.isArray(shape) && typeof shape[shape.length - 1] === 'number' ? (shape[shape.length - 1] as number) : null;
    affineKey = 'elementwise_affine';
    config.epsilon = numberValue(c.args.get(1, 'eps'));
  } else if (c.name === 'GroupNorm') {
    features = numberValue(c.args.get(1, 'num_channels'));
    config.groups = numberValue(c.args.get(0, 'num_groups'));
    config.epsilon = numberValue(c.args.get(2, 'eps'));
  } else {
    features = c.name.startsWith('Lazy') ? null : numberValue(c.args.get(0, 'num_features'));
    config.epsilon = numberValue(c.args.get(1, 'eps'));
    config.momentum = numberValue(c.args.get(2, 'momentum'));
  }
  // InstanceNorm has affine=False by default; the others learn a scale and shift.
  const defaultAffine = !c.name.startsWith('InstanceNorm') && !c.name.startsWith('LazyInstanceNorm');
  const written = c.args.get(null, affineKey);
  const affine = typeof written === 'boolean' ? written : c.args.written(null, affineKey) ? null : defaultAffine;
  config.affine = affine;
  const layer = base(c, { kind, norm: config });
  layer.units = features;
  layer.inFeatures = features;
  layer.useBias = affine !== false;
  if (affine === false) return slot(layer, []);
  layer.kernelInit = torchDefaultNormWeight();
  layer.biasInit = torchDefaultNormBias();
  return slot(layer, [
    { name: 'weight', role: 'kernel', dim: 1 },
    { name: 'bias', role: 'bias', dim: 1 },
  ]);
}

function dropout(c: LayerCall, kind: 'dropout' | 'alpha-dropout'): Slot {
  const rate = read(c.args, 0, 'p', numberValue, 0.5);
  return slot(base(c, { kind, rate, noise: /^Dropout[123]d$/.test(c.name) ? 'spatial' : 'dropout' }), []);
}

function embedding(c: LayerCall): Slot {
  const layer = base(c, { kind: 'embedding', paddingIdx: numberValue(c.args.get(2, 'padding_idx')) });
  const n = numberValue(c.args.get(0, 'num_embeddings'));
  const dim = numberValue(c.args.get(1, 'embedding_dim'));
  layer.inFeatures = n;
  layer.units = dim;
  // torch computes fans on the (num_embeddings, embedding_dim) weight: fan_in = dim, fan_out = num.
  layer.fanIn = dim;
  layer.fanOut = n;
  layer.kernelInit = torchDefaultEmbedding();
  return slot(layer, [{ name: 'weight', role: 'kernel', dim: 2 }]);
}

/**
 * nn.Embedding.from_pretrained(embeddings, freeze=True, padding_idx=None): its vocabulary and dimension
 * are the rows and columns of `embeddings` when the code says them (`torch.randn(1000, 50)`), its
 * values are theirs (drawn as the factory draws them; N(0, 1), torch's own Embedding init, when the
 * vectors are loaded from data), and it is frozen unless freeze=False is written.
 */
export function pretrainedEmbedding(c: LayerCall, weights: { shape: [number, number]; init: InitializerIR } | null): Slot {
  const made = embedding({ ...c, args: { get: () => undefined, written: () => false } });
  const layer = made.layer;
  if (layer.kind === 'embedding') layer.paddingIdx = numberValue(c.args.get(2, 'padding_idx'));
  if (weights) {
    [layer.inFeatures, layer.units] = weights.shape;
    [layer.fanOut, layer.fanIn] = weights.shape;
    layer.kernelInit = weights.init;
  } else {
    layer.kernelInit = { ...torchDefaultEmbedding(), spelling: 'pretrained vectors (not in the code; drawn N(0, 1) as nn.Embedding draws its own)' };
  }
  layer.frozen = boolValue(c.args.get(1, 'freeze')) !== false;
  return made;
}

/**
 * nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
 * add_zero_attn=False, kdim=None, vdim=None, batch_first=False). The weights are in_proj_weight
 * (3E, E) with xavier_uniform_, in_proj_bias zeros, out_proj (E, E) with nn.Linear's default weight and a
 * zero bias; the layer's kernelInit is the in-projection's.
 */
function multiheadAttention(c: LayerCall): Slot {
  const embed = numberValue(c.args.get(0, 'embed_dim'));
  const heads = numberValue(c.args.get(1, 'num_heads'));
  const headDim = embed !== null && heads !== null && heads > 0 ? embed / heads : null;
  const vdim = numberValue(c.args.get(7, 'vdim'));
  const attention = {
    heads,
    keyDim: headDim,
    valueDim: vdim !== null && heads ? vdim / heads : headDim,
    dropout: read(c.args, 2, 'dropout', numberValue, 0),
    batchFirst: read(c.args, 8, 'batch_first', boolValue, false),
    causal: false,
  };
  const layer = base(c, { kind: 'attention', attention });
  layer.inFeatures = embed;
  layer.units = embed;
  layer.fanIn = embed;
  layer.fanOut = embed !== null ? 3 * embed : null;
  const hasBias = biasFlag(c.args, 3);
  layer.useBias = hasBias !== false;
  layer.kernelInit = torchDefaultAttention();
  layer.biasInit = hasBias === false ? null : torchZeros();
  const params: ParamSpec[] = [
    { name: 'in_proj_weight', role: 'kernel', dim: 2 },
    { name: 'out_proj.weight', role: 'kernel', dim: 2 },
  ];
  if (hasBias !== false) params.push({ name: 'in_proj_bias', role: 'bias', dim: 1 }, { name: 'out_proj.bias', role: 'bias', dim: 1 });
  return slot(layer, params);
}

const GATES: Record<string, number> = { LSTM: 4, LSTMCell: 4, GRU: 3, GRUCell: 3, RNN: 1, RNNCell: 1 };

function recurrent(c: LayerCall): Slot {
  const kind = c.name.startsWith('LSTM') ? 'lstm' : c.name.startsWith('GRU') ? 'gru' : 'simple-rnn';
  const cell = c.name.endsWith('Cell');
  const recurrentConfig: RecurrentConfig = { ...defaultRecurrent(kind), unitForgetBias: false };
  if (!cell) {
    recurrentConfig.numLayers = read(c.args, 2, 'num_layers', numberValue, 1);
    recurrentConfig.batchFirst = read(c.args, null, 'batch_first', boolValue, false);
    recurrentConfig.dropout = numberValue(c.args.get(null, 'dropout'));
    recurrentConfig.bidirectional = boolValue(c.args.get(null, 'bidirectional')) === true;
  }
  const layer = base(c, { kind, recurrent: recurrentConfig });
  const inF = numberValue(c.args.get(0, 'input_size'));
  const hidden = numberValue(c.args.get(1, 'hidden_size'));
  const gates = GATES[c.name] ?? 1;
  layer.inFeatures = inF;
  layer.units = hidden;
  layer.fanIn = inF;
  layer.fanOut = hidden !== null ? gates * hidden : null;
  // Positions: LSTM/GRU(input, hidden, num_layers, bias), RNN(input, hidden, num_layers, nonlinearity, bias), cells (input, hidden, bias).
  const hasBias = biasFlag(c.args, cell ? 2 : kind === 'simple-rnn' ? 4 : 3);
  layer.useBias = hasBias !== false;
  // RNN takes nonlinearity='tanh'|'relu'; LSTM/GRU use tanh (and sigmoid gates).
  const nonlinearity = kind === 'simple-rnn' ? c.args.get(3, 'nonlinearity') : undefined;
  const written = typeof nonlinearity === 'string' && (nonlinearity === 'relu' || nonlinearity === 'tanh');
  const activation: ActivationIR = {
    name: written ? (nonlinearity) : 'tanh',
    spelling: written ? `'${nonlinearity}'` : '(default)',
    range: null,
    source: written ? 'kwarg' : 'default',
    params: {},
  };
  if (kind !== 'simple-rnn' || !c.args.written(3, 'nonlinearity') || written) layer.activation = activation;
  layer.kernelInit = torchDefaultRecurrent(hidden);
  layer.recurrentInit = torchDefaultRecurrent(hidden);
  layer.biasInit = hasBias === false ? null : torchDefaultRecurrent(hidden);
  const params: ParamSpec[] = [
    { name: cell ? 'weight_ih' : 'weight_ih_l0', role: 'kernel', dim: 2 },
    { name: cell ? 'weight_hh' : 'weight_hh_l0', role: 'recurrent', dim: 2 },
  ];
  if (hasBias !== false) params.push({ name: cell ? 'bias_ih' : 'bias_ih_l0', role: 'bias', dim: 1 }, { name: cell ? 'bias_hh' : 'bias_hh_l0', role: 'bias', dim: 1 });
  return slot(layer, params);
}

function activationModule(c: LayerCall, activation: ActivationName): Slot {
  const layer = base(c, { kind: 'activation' });
  const params: Record<string, number> = { ...(ACTIVATION_DEFAULTS.get(c.name) ?? {}) };
  for (const [key, index, kw] of ACTIVATION_MODULE_PARAMS.get(c.name) ?? []) {
    const v = numberValue(c.args.get(index, kw));
    if (v !== null) params[key] = v;
    else if (c.args.written(index, kw)) delete params[key];
  }
  layer.activation = { name: activation, spelling: c.call.text, range: rangeOf(c.call), source: 'layer', params };
  return slot(layer, c.name === 'PReLU' ? [{ name: 'weight', role: 'kernel', dim: 1 }] : []);
}

/** nn.Flatten(start_dim=1, end_dim=-1): the flatten layer, or the 'flatten' tensor operation on other axes (null: not constants). */
function flatten(c: LayerCall): Slot {
  const start = read(c.args, 0, 'start_dim', integerValue, 1);
  const end = read(c.args, 1, 'end_dim', integerValue, -1);
  if (start === null || end === null) return slot(base(c, { kind: 'tensor-op', op: null }), []);
  const op = flattenOp(start, end);
  return slot(base(c, op ? { kind: 'tensor-op', op } : { kind: 'flatten' }), []);
}

/** Padding, upsampling and unflattening modules: shape-only, their shapes not modelled. */
function shapeOnly(c: LayerCall): Slot {
  return slot(base(c, { kind: 'reshape', reshape: { op: 'other', className: c.name } }), []);
}

/**
 * nn.Unflatten(dim, unflattened_size) on the features of a flat input (an autoencoder's decoder:
 * `Linear -> Unflatten(1, (C, H, W)) -> ConvTranspose2d`) is `x.view(x.size(0), C, H, W)`: read as that
 * view when it unflattens axis 1 (or -1) into constant sizes. On an input of more axes the view's sizes do
 * not hold its values and the probe says so; other axes stay shape-only.
 */
function unflatten(c: LayerCall): Slot {
  const dim = numberValue(c.args.get(0, 'dim'));
  const sizes = intList(c.args.get(1, 'unflattened_size'));
  if ((dim !== 1 && dim !== -1) || !sizes || sizes.length === 0) return shapeOnly(c);
  return slot(base(c, { kind: 'reshape', reshape: { op: 'view', dims: [{ of: [0] }, ...sizes] } }), []);
}

/**
 * torch padding modules: `padding` is one int for every side or (left, right[, top, bottom[, front,
 * back]]), last dimension first; the IR keeps [before, after] per spatial dimension, first dimension
 * first. ConstantPad pads with zeros only when its value is 0.
 */
/** nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0). */
function localResponseNorm(c: LayerCall): Slot {
  const constant = (i: number, key: 'alpha' | 'beta' | 'k') => (c.args.written(i, key) ? numberValue(c.args.get(i, key)) : TORCH_LRN_DEFAULTS[key]);
  return slot(base(c, { kind: 'local-response-norm', lrn: { size: numberValue(c.args.get(0, 'size')), alpha: constant(1, 'alpha'), beta: constant(2, 'beta'), k: constant(3, 'k') } }), []);
}

function padModule(c: LayerCall, dims: number): Slot {
  const written = c.args.get(0, 'padding');
  let pads: [number, number][] | null = null;
  if (typeof written === 'number') pads = Array.from({ length: dims }, (): [number, number] => [written, written]);
  else if (Array.isArray(written) && written.length === 2 * dims && written.every((v): v is number => typeof v === 'number')) {
    pads = Array.from({ length: dims }, (_, i): [number, number] => [written[2 * (dims - 1 - i)]!, written[2 * (dims - 1 - i) + 1]!]);
  }
  if (c.name.startsWith('ReflectionPad') || c.name.startsWith('ReplicationPad')) {
    return slot(base(c, { kind: 'reshape', reshape: { op: 'edge-padding', mode: c.name.startsWith('Reflection') ? 'reflect' : 'replicate', pads } }), []);
  }
  if (c.name.startsWith('ConstantPad') && c.args.get(1, 'value') !== 0) return shapeOnly(c);
  return slot(base(c, { kind: 'reshape', reshape: { op: 'zero-padding', pads } }), []);
}

/**
 * nn.Upsample / UpsamplingNearest2d / UpsamplingBilinear2d: nearest or (bi)linear, by a constant
 * scale_factor (an output side of floor(side * factor)) or to a constant size=. UpsamplingBilinear2d is
 * bilinear with align_corners=True; nn.Upsample's default is nearest, align_corners False. Other modes
 * (bicubic, trilinear, nearest-exact) and sizes that are not constants stay shape-only.
 */
function upsample(c: LayerCall): Slot {
  const written = c.name === 'Upsample' ? c.args.get(2, 'mode') : c.name === 'UpsamplingBilinear2d' ? 'bilinear' : 'nearest';
  const mode: 'nearest' | 'bilinear' | null = written === undefined || written === 'nearest' ? 'nearest' : written === 'bilinear' || written === 'linear' ? 'bilinear' : null;
  const alignCorners = c.name === 'UpsamplingBilinear2d' || (c.name === 'Upsample' && c.args.get(3, 'align_corners') === true);
  const positive = (v: unknown): v is number => typeof v === 'number' && v > 0;
  const listOf = (v: ConstValue | undefined, each: (x: unknown) => x is number): number[] | null => (each(v) ? [v] : Array.isArray(v) && v.length > 0 && v.every(each) ? v : null);
  const size = listOf(c.args.get(0, 'size'), (v): v is number => positive(v) && Number.isInteger(v));
  const factors = listOf(c.args.get(1, 'scale_factor'), positive);
  if (!mode || (!size && !factors) || (c.args.written(0, 'size') && !size)) return shapeOnly(c);
  const reshape: ReshapeConfig = size ? { op: 'upsampling', factors: null, size, mode, alignCorners } : { op: 'upsampling', factors, mode, alignCorners };
  return slot(base(c, { kind: 'reshape', reshape }), []);
}

function pixelShuffle(c: LayerCall): Slot {
  return slot(base(c, { kind: 'reshape', reshape: { op: 'pixel-shuffle', factor: numberValue(c.args.get(0, 'upscale_factor')) } }), []);
}

type Builder = (c: LayerCall) => Slot;

const BUILDERS = new Map<string, Builder>([
  ['Linear', linear],
  ['LazyLinear', linear],
  ['Bilinear', bilinear],
  ['Flatten', flatten],
  ['Unflatten', unflatten],
  ['Upsample', upsample],
  ['UpsamplingNearest2d', upsample],
  ['UpsamplingBilinear2d', upsample],
  ['PixelShuffle', pixelShuffle],
  ['PixelUnshuffle', shapeOnly],
  ['LayerNorm', (c) => norm(c, 'layernorm')],
  ['GroupNorm', (c) => norm(c, 'groupnorm')],
  ['Dropout', (c) => dropout(c, 'dropout')],
  ['AlphaDropout', (c) => dropout(c, 'alpha-dropout')],
  ['FeatureAlphaDropout', (c) => dropout(c, 'alpha-dropout')],
  ['Embedding', embedding],
  ['EmbeddingBag', embedding],
  ['MultiheadAttention', multiheadAttention],
  ['LocalResponseNorm', localResponseNorm],
]);
for (const d of [1, 2, 3]) {
  BUILDERS.set(`Conv${d}d`, (c) => conv(c, d, false));
  BUILDERS.set(`LazyConv${d}d`, (c) => conv(c, d, false));
  BUILDERS.set(`ConvTranspose${d}d`, (c) => conv(c, d, true));
  BUILDERS.set(`LazyConvTranspose${d}d`, (c) => conv(c, d, true));
  BUILDERS.set(`MaxPool${d}d`, (c) => pool(c, 'maxpool', d));
  BUILDERS.set(`AvgPool${d}d`, (c) => pool(c, 'avgpool', d));
  BUILDERS.set(`AdaptiveAvgPool${d}d`, (c) => adaptivePool(c, 'avgpool'));
  BUILDERS.set(`AdaptiveMaxPool${d}d`, (c) => adaptivePool(c, 'maxpool'));
  BUILDERS.set(`BatchNorm${d}d`, (c) => norm(c, 'batchnorm'));
  BUILDERS.set(`LazyBatchNorm${d}d`, (c) => norm(c, 'batchnorm'));
  // Instance norm normalizes per sample and channel: the IR's closest kind is group norm (groups = channels).
  BUILDERS.set(`InstanceNorm${d}d`, (c) => norm(c, 'groupnorm'));
  BUILDERS.set(`Dropout${d}d`, (c) => dropout(c, 'dropout'));
  BUILDERS.set(`ZeroPad${d}d`, (c) => padModule(c, d));
  BUILDERS.set(`ConstantPad${d}d`, (c) => padModule(c, d));
  BUILDERS.set(`ReflectionPad${d}d`, (c) => padModule(c, d));
  BUILDERS.set(`ReplicationPad${d}d`, (c) => padModule(c, d));
}
BUILDERS.set('SyncBatchNorm', (c) => norm(c, 'batchnorm'));
for (const name of Object.keys(GATES)) BUILDERS.set(name, recurrent);
for (const [name, activation] of ACTIVATION_MODULES) BUILDERS.set(name, (c) => activationModule(c, activation));

/** Whether `name` is a torch.nn layer class the catalog models ("Linear", "Conv2d", "ReLU"). */
export function isTorchLayerClass(name: string): boolean {
  return BUILDERS.has(name);
}

/** The simple class name of a torch.nn layer class ("torch.nn.Linear", "torch.nn.modules.linear.Linear"), or null. */
export function torchLayerName(qualified: string): string | null {
  if (!qualified.startsWith('torch.nn.')) return null;
  const name = qualified.slice(qualified.lastIndexOf('.') + 1);
  return /^[A-Z]/.test(name) ? name : null;
}

/** A slot for a catalogued torch.nn class, or null when the class is not in the catalog. */
export function buildLayer(qualified: string, c: LayerCall): Slot | null {
  const builder = BUILDERS.get(c.name);
  if (!builder || !qualified.startsWith('torch.nn.')) return null;
  const built = builder(c);
  built.qualified = `torch.nn.${c.name}`;
  return built;
}

/** A kind-'unknown' slot for a module class we cannot model (named in ModelIR.unsupported). */
export function unknownLayer(spelling: string, call: Node, why: string): Slot {
  const list = call.childForFieldName('arguments');
  const layer = makeLayer({ kind: 'unknown', className: spelling, range: rangeOf(call), argsRange: list ? rangeOf(list) : null });
  return { layer, qualified: null, params: [], unsupported: why };
}
