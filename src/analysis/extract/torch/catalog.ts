/**
 * The torch.nn layer catalog: a constructor call with constant arguments -> a Slot (LayerIR template
 * with sizes, fans, parameters and the framework's default initializers).
 */
import type { Node } from 'web-tree-sitter';
import type { ActivationIR, LayerIR, LayerKind } from '../../../shared/ir';
import type { ConstValue } from '../../python/constants';
import { rangeOf } from '../../python/syntax';
import { makeLayer } from '../builders';
import {
  torchDefaultBias,
  torchDefaultBilinear,
  torchDefaultEmbedding,
  torchDefaultNormBias,
  torchDefaultNormWeight,
  torchDefaultRecurrent,
  torchDefaultWeight,
} from '../defaults';
import { ACTIVATION_DEFAULTS, ACTIVATION_MODULE_PARAMS, ACTIVATION_MODULES } from './activations';
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

const num = (v: ConstValue | undefined): number | null => (typeof v === 'number' ? v : null);

/** An int or a tuple of ints -> `dims` sizes; null when unknown. */
function sizes(v: ConstValue | undefined, dims: number): number[] | null {
  if (typeof v === 'number') return Array.from({ length: dims }, () => v);
  if (Array.isArray(v) && v.length === dims && v.every((x) => typeof x === 'number')) return v;
  return null;
}

const product = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);

/** params entry for an int-or-tuple argument: the number when all entries agree, else the text. */
function scalarParam(v: ConstValue | undefined): number | string | boolean | undefined {
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => x === v[0]) && typeof v[0] === 'number') return v[0];
  if (Array.isArray(v)) return JSON.stringify(v);
  return undefined;
}

function setParams(layer: LayerIR, args: ArgReader, spec: [string, number | null, ...string[]][]): void {
  for (const [key, index, ...names] of spec) {
    const v = scalarParam(args.get(index, key, ...names));
    if (v !== undefined) layer.params[key] = v;
  }
}

function base(c: LayerCall, kind: LayerKind): LayerIR {
  const list = c.call.childForFieldName('arguments');
  return makeLayer({ kind, className: c.spelling, range: rangeOf(c.call), argsRange: list ? rangeOf(list) : null });
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
  const layer = base(c, 'dense');
  const lazy = c.name === 'LazyLinear';
  const inF = lazy ? null : num(c.args.get(0, 'in_features'));
  const out = num(c.args.get(lazy ? 0 : 1, 'out_features'));
  layer.inFeatures = inF;
  layer.units = out;
  layer.fanIn = inF;
  layer.fanOut = out;
  return slot(layer, weightAndBias(layer, biasFlag(c.args, lazy ? 1 : 2), 2));
}

function bilinear(c: LayerCall): Slot {
  const layer = base(c, 'dense');
  const in1 = num(c.args.get(0, 'in1_features'));
  const in2 = num(c.args.get(1, 'in2_features'));
  layer.inFeatures = in1;
  layer.units = num(c.args.get(2, 'out_features'));
  layer.fanIn = in1 !== null && in2 !== null ? in1 * in2 : null;
  layer.fanOut = layer.units !== null && in2 !== null ? layer.units * in2 : null;
  if (in2 !== null) layer.params.in2_features = in2;
  const hasBias = biasFlag(c.args, 3);
  layer.useBias = hasBias !== false;
  layer.kernelInit = torchDefaultBilinear(in1);
  layer.biasInit = hasBias === false ? null : torchDefaultBilinear(in1);
  const params: ParamSpec[] = [{ name: 'weight', role: 'kernel', dim: 3 }];
  if (hasBias !== false) params.push({ name: 'bias', role: 'bias', dim: 1 });
  return slot(layer, params);
}

function conv(c: LayerCall, dims: number, transpose: boolean): Slot {
  const kind: LayerKind = transpose ? 'conv-transpose' : dims === 1 ? 'conv1d' : dims === 2 ? 'conv2d' : 'conv3d';
  const layer = base(c, kind);
  const lazy = c.name.startsWith('Lazy');
  const shift = lazy ? -1 : 0;
  const inC = lazy ? null : num(c.args.get(0, 'in_channels'));
  const outC = num(c.args.get(1 + shift, 'out_channels'));
  const kernel = sizes(c.args.get(2 + shift, 'kernel_size'), dims);
  const groupsValue = c.args.written(6 + shift, 'groups') ? num(c.args.get(6 + shift, 'groups')) : 1;
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
  setParams(layer, c.args, [
    ['stride', 3 + shift],
    ['padding', 4 + shift],
    ['groups', 6 + shift],
    // ConvTranspose takes output_padding at 5 and dilation after bias.
    ['dilation', (transpose ? 8 : 5) + shift],
  ]);
  return slot(layer, weightAndBias(layer, biasFlag(c.args, 7 + shift), 2 + dims));
}

function pool(c: LayerCall, kind: LayerKind, dims: number): Slot {
  const layer = base(c, kind);
  layer.kernelSize = sizes(c.args.get(0, 'kernel_size'), dims);
  setParams(layer, c.args, [
    ['stride', 1],
    ['padding', 2],
  ]);
  return slot(layer, []);
}

function adaptivePool(c: LayerCall, kind: LayerKind): Slot {
  const out = c.args.get(0, 'output_size');
  const global = out === 1 || (Array.isArray(out) && out.every((x) => x === 1));
  const layer = base(c, global ? 'global-pool' : kind);
  const p = scalarParam(out);
  if (p !== undefined) layer.params.output_size = p;
  return slot(layer, []);
}

function norm(c: LayerCall, kind: LayerKind): Slot {
  const layer = base(c, kind);
  let features: number | null;
  let affineKey = 'affine';
  if (kind === 'layernorm') {
    const shape = c.args.get(0, 'normalized_shape');
    features = typeof shape === 'number' ? shape : Array.isArray(shape) && typeof shape[shape.length - 1] === 'number' ? (shape[shape.length - 1] as number) : null;
    affineKey = 'elementwise_affine';
    setParams(layer, c.args, [['eps', 1]]);
  } else if (c.name === 'GroupNorm') {
    features = num(c.args.get(1, 'num_channels'));
    setParams(layer, c.args, [
      ['num_groups', 0],
      ['eps', 2],
    ]);
  } else {
    features = c.name.startsWith('Lazy') ? null : num(c.args.get(0, 'num_features'));
    setParams(layer, c.args, [
      ['eps', 1],
      ['momentum', 2],
    ]);
  }
  layer.units = features;
  layer.inFeatures = features;
  // InstanceNorm has affine=False by default; the others learn a scale and shift.
  const defaultAffine = !c.name.startsWith('InstanceNorm') && !c.name.startsWith('LazyInstanceNorm');
  const written = c.args.get(null, affineKey);
  const affine = typeof written === 'boolean' ? written : c.args.written(null, affineKey) ? null : defaultAffine;
  if (affine !== null) layer.params[affineKey] = affine;
  layer.useBias = affine !== false;
  if (affine === false) return slot(layer, []);
  layer.kernelInit = torchDefaultNormWeight();
  layer.biasInit = torchDefaultNormBias();
  return slot(layer, [
    { name: 'weight', role: 'kernel', dim: 1 },
    { name: 'bias', role: 'bias', dim: 1 },
  ]);
}

function dropout(c: LayerCall, kind: LayerKind): Slot {
  const layer = base(c, kind);
  const p = c.args.written(0, 'p') ? num(c.args.get(0, 'p')) : 0.5;
  if (p !== null) layer.params.rate = p;
  return slot(layer, []);
}

function embedding(c: LayerCall): Slot {
  const layer = base(c, 'embedding');
  const n = num(c.args.get(0, 'num_embeddings'));
  const dim = num(c.args.get(1, 'embedding_dim'));
  layer.inFeatures = n;
  layer.units = dim;
  // torch computes fans on the (num_embeddings, embedding_dim) weight: fan_in = dim, fan_out = num.
  layer.fanIn = dim;
  layer.fanOut = n;
  setParams(layer, c.args, [['padding_idx', 2]]);
  layer.kernelInit = torchDefaultEmbedding();
  return slot(layer, [{ name: 'weight', role: 'kernel', dim: 2 }]);
}

const GATES: Record<string, number> = { LSTM: 4, LSTMCell: 4, GRU: 3, GRUCell: 3, RNN: 1, RNNCell: 1 };

function recurrent(c: LayerCall): Slot {
  const kind: LayerKind = c.name.startsWith('LSTM') ? 'lstm' : c.name.startsWith('GRU') ? 'gru' : 'simple-rnn';
  const layer = base(c, kind);
  const cell = c.name.endsWith('Cell');
  const inF = num(c.args.get(0, 'input_size'));
  const hidden = num(c.args.get(1, 'hidden_size'));
  const gates = GATES[c.name] ?? 1;
  layer.inFeatures = inF;
  layer.units = hidden;
  layer.fanIn = inF;
  layer.fanOut = hidden !== null ? gates * hidden : null;
  if (!cell) {
    const layersCount = c.args.written(2, 'num_layers') ? num(c.args.get(2, 'num_layers')) : 1;
    if (layersCount !== null) layer.params.num_layers = layersCount;
    setParams(layer, c.args, [
      ['batch_first', null],
      ['dropout', null],
      ['bidirectional', null],
    ]);
  }
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
  if (typeof nonlinearity === 'string') layer.params.nonlinearity = nonlinearity;
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

function activationModule(c: LayerCall): Slot {
  const layer = base(c, 'activation');
  const params: Record<string, number> = { ...(ACTIVATION_DEFAULTS.get(c.name) ?? {}) };
  for (const [key, index, kw] of ACTIVATION_MODULE_PARAMS.get(c.name) ?? []) {
    const v = c.args.get(index, kw);
    if (typeof v === 'number') params[key] = v;
    else if (c.args.written(index, kw)) delete params[key];
  }
  layer.activation = { name: ACTIVATION_MODULES.get(c.name)!, spelling: c.call.text, range: rangeOf(c.call), source: 'layer', params };
  return slot(layer, c.name === 'PReLU' ? [{ name: 'weight', role: 'kernel', dim: 1 }] : []);
}

function shapeOnly(c: LayerCall, kind: LayerKind): Slot {
  const layer = base(c, kind);
  if (kind === 'flatten') setParams(layer, c.args, [['start_dim', 0]]);
  return slot(layer, []);
}

type Builder = (c: LayerCall) => Slot;

const BUILDERS = new Map<string, Builder>([
  ['Linear', linear],
  ['LazyLinear', linear],
  ['Bilinear', bilinear],
  ['Flatten', (c) => shapeOnly(c, 'flatten')],
  ['Unflatten', (c) => shapeOnly(c, 'reshape')],
  ['Upsample', (c) => shapeOnly(c, 'reshape')],
  ['UpsamplingNearest2d', (c) => shapeOnly(c, 'reshape')],
  ['UpsamplingBilinear2d', (c) => shapeOnly(c, 'reshape')],
  ['PixelShuffle', (c) => shapeOnly(c, 'reshape')],
  ['PixelUnshuffle', (c) => shapeOnly(c, 'reshape')],
  ['LayerNorm', (c) => norm(c, 'layernorm')],
  ['GroupNorm', (c) => norm(c, 'groupnorm')],
  ['Dropout', (c) => dropout(c, 'dropout')],
  ['AlphaDropout', (c) => dropout(c, 'alpha-dropout')],
  ['FeatureAlphaDropout', (c) => dropout(c, 'alpha-dropout')],
  ['Embedding', embedding],
  ['EmbeddingBag', embedding],
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
  BUILDERS.set(`ZeroPad${d}d`, (c) => shapeOnly(c, 'reshape'));
  BUILDERS.set(`ConstantPad${d}d`, (c) => shapeOnly(c, 'reshape'));
  BUILDERS.set(`ReflectionPad${d}d`, (c) => shapeOnly(c, 'reshape'));
  BUILDERS.set(`ReplicationPad${d}d`, (c) => shapeOnly(c, 'reshape'));
}
BUILDERS.set('SyncBatchNorm', (c) => norm(c, 'batchnorm'));
for (const name of Object.keys(GATES)) BUILDERS.set(name, recurrent);
for (const name of ACTIVATION_MODULES.keys()) BUILDERS.set(name, activationModule);

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
