/**
 * One Keras layer constructor call -> LayerIR (without id / graph inputs, which the model builder
 * assigns): kind, sizes, activation, initializers (explicit or Keras defaults), use_bias, the typed
 * fields of its kind (Keras 1 and 2 spellings normalized),
 * plus the input shape the call declares (`input_shape=`, `input_dim=`, `batch_input_shape=`).
 */
import type { Node } from '../../python/syntax-tree';
import type { ActivationName, ConvConfig, InitializerIR, LayerCommon, LayerDetail, LayerIR, Layout, MergeConfig, Range, ReshapeConfig } from '../../../shared/ir';
import { defaultDetail, defaultRecurrent, isNormalizationKind, isRecurrent } from '../../../shared/layers';
import type { ConstValue } from '../../python/constants';
import { boolValue, intList, numberValue, paddingValue, pairsPerDim, setting } from '../normalize';
import { argument, rangeOf, type CallArguments, requiredField } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { makeLayer } from '../builders';
import { kerasDefaultBias, kerasDefaultEmbedding, kerasDefaultKernel, kerasDefaultRecurrent } from '../defaults';
import type { Shape } from '../../../shared/shapes';
import { activationFromValue, activationOfLayerCall, defaultActivation } from './activations';
import { layerSpec, type LayerSpec } from './catalog';
import { backboneUnread, readBackbone } from './applications';
import { evaluateArg, numberArg, type ArgContext } from './context';
import { initializerFromValue } from './initializers';
import { lastSegment } from './symbols';

export interface BuiltLayer {
  layer: LayerIR;
  /** The input shape (without batch) the call declares, if any. */
  declaredInput: Shape | null;
  unsupported: { what: string; range: Range }[];
}

/** Keras 1 Convolution2D's positional parameters. */
const KERAS1_CONV2D = ['filters', 'nb_row', 'nb_col', 'kernel_initializer', 'activation', 'weights', 'padding', 'strides', 'data_format'];
/** Keras 0.1/0.2 (Theano only): `Dense(input_dim, output_dim, init=...)`, `Convolution2D(nb_filter, stack_size, nb_row, nb_col, ...)`. */
const KERAS0_DENSE = ['input_dim', 'units', 'kernel_initializer', 'activation', 'weights'];
const KERAS0_CONV2D = ['filters', 'stack_size', 'nb_row', 'nb_col', 'kernel_initializer', 'activation', 'weights', 'padding', 'strides'];
/** Keras 1 `Convolution3D(nb_filter, kernel_dim1, kernel_dim2, kernel_dim3, ...)` (Keras 0.3: `len_conv_dim1`...). */
const KERAS1_CONV3D = ['filters', 'kernel_dim1', 'kernel_dim2', 'kernel_dim3', 'kernel_initializer', 'activation', 'weights', 'padding', 'strides', 'data_format'];

/**
 * Keras 1 spellings still found in old tutorials and course code, by the Keras 2 argument they
 * became. `W_regularizer` and friends are not listed: regularizers do not change what rules judge.
 */
const KWARG_ALIASES: Record<string, string[]> = {
  units: ['units', 'output_dim'],
  filters: ['filters', 'nb_filter'],
  padding: ['padding', 'border_mode'],
  strides: ['strides', 'subsample', 'subsample_length', 'stride'],
  kernel_initializer: ['kernel_initializer', 'init'],
  recurrent_initializer: ['recurrent_initializer', 'inner_init'],
  recurrent_activation: ['recurrent_activation', 'inner_activation'],
  dilation_rate: ['dilation_rate', 'atrous_rate'],
  pool_size: ['pool_size', 'pool_length', 'poolsize'],
  use_bias: ['use_bias', 'bias'],
  dropout: ['dropout', 'dropout_W'],
  recurrent_dropout: ['recurrent_dropout', 'dropout_U'],
  data_format: ['data_format', 'dim_ordering'],
  rate: ['rate', 'p'],
};

/** A shape from a constant: (28, 28, 1) -> [28, 28, 1]; None entries stay null; 784 -> [784]. */
export function shapeValue(value: ConstValue | undefined): Shape | null {
  if (typeof value === 'number') return [value];
  if (!Array.isArray(value)) return null;
  const shape: Shape = [];
  for (const v of value) {
    if (typeof v === 'number') shape.push(v);
    else if (v === null) shape.push(null);
    else return null;
  }
  return shape;
}

/** A shape whose unknown entries are tolerated: `(None, features)` where `features` is unknown -> [null, null]. */
function looseShape(node: Node | null, ctx: ArgContext): Shape | null {
  if (!node) return null;
  const exact = shapeValue(evaluateArg(ctx, node));
  if (exact) return exact;
  const resolved = ctx.scope.resolveExpression(node);
  if (resolved.type !== 'tuple' && resolved.type !== 'list') return null;
  return resolved.namedChildren.filter((c) => c.type !== 'comment').map((c) => {
    const v = evaluateArg(ctx, c);
    return typeof v === 'number' ? v : null;
  });
}

function arg(args: CallArguments, spec: LayerSpec, name: string): Node | null {
  const names = KWARG_ALIASES[name] ?? [name];
  const index = spec.positional.indexOf(name);
  return argument(args, index >= 0 ? index : null, ...names);
}

/** kernel_size / pool_size as a list of `dims` ints. */
function sizeList(value: ConstValue | undefined, dims: number): number[] | null {
  if (typeof value === 'number') return Array.from({ length: dims }, () => value);
  if (Array.isArray(value) && value.every((v): v is number => typeof v === 'number')) return value;
  return null;
}

function initializerArg(args: CallArguments, spec: LayerSpec, name: string, ctx: ArgContext, fallback: () => InitializerIR): InitializerIR {
  const written = arg(args, spec, name);
  if (written) return initializerFromValue(written, ctx);
  // `Dense(64, **config)`: the splat may set it, so the framework default is not a fact.
  const splat = args.splats[0];
  if (splat) return { name: 'unknown', params: {}, options: {}, spelling: splat.text, range: rangeOf(splat), explicit: true, framework: 'keras' };
  return fallback();
}

/** Zero-width range just before the closing parenthesis, where a keyword argument can be inserted. */
function insertionPoint(args: CallArguments): Range | null {
  if (!args.list) return null;
  const end = rangeOf(args.list).end;
  const at = { line: end.line, character: Math.max(0, end.character - 1) };
  return { start: at, end: at };
}

/**
 * Builds the layer a constructor call makes. `className` is the resolved class name ("Dense");
 * `written` the callee as written ("layers.Dense").
 */
export function buildLayer(call: Node, className: string, written: string, ctx: ArgContext): BuiltLayer {
  const spec = layerSpec(className);
  const range = rangeOf(call);
  const args = callArgs(call);
  const nameNode = args.keywords.get('name');
  const name = nameNode ? evaluateArg(ctx, nameNode) : undefined;
  const layerName = typeof name === 'string' ? name : '';
  if (!spec && className === 'Lambda') {
    // `Lambda(lambda x: x / 255.0)` is the Keras 2 way of scaling pixels: a rescaling layer.
    const fn = args.positional[0] ?? args.keywords.get('function');
    if (fn?.type === 'lambda' && /\/\s*(?:255|127\.5)\b|\*\s*\(?\s*1\.?0*\s*\/\s*255/.test(fn.childForFieldName('body')?.text ?? '')) {
      return { layer: makeLayer({ kind: 'rescaling', className: written, range, name: layerName, scale: null, offset: null, op: 'lambda' }), declaredInput: looseShape(args.keywords.get('input_shape') ?? null, ctx), unsupported: [] };
    }
  }
  const backbone = spec ? null : readBackbone(call, className, ctx);
  if (backbone) {
    // Keras builds an application for its default side when `input_shape=` is not written.
    const declared = looseShape(args.keywords.get('input_shape') ?? null, ctx) ?? [backbone.defaultSide, backbone.defaultSide, 3];
    return { layer: makeLayer({ kind: 'backbone', className: written, range, name: layerName, backbone }), declaredInput: declared, unsupported: backboneUnread(backbone, written, range) };
  }
  if (!spec) {
    return {
      layer: makeLayer({ kind: 'unknown', className: written, range, name: layerName }),
      // keras.applications models declare the input they take.
      declaredInput: looseShape(args.keywords.get('input_shape') ?? null, ctx),
      unsupported: [{ what: `layer ${written}`, range }],
    };
  }
  if (spec.wrapper) return buildWrapper(call, spec, written, ctx, layerName);
  // Keras 0 and Keras 1 `Convolution2D(32, 3, 3, ...)` have other positions than Keras 2.
  const legacy = legacySignature(args, className, ctx);
  const own: LayerSpec = legacy ? { ...spec, positional: LEGACY_POSITIONAL[legacy] } : spec;

  const value = (name: string) => evaluateArg(ctx, arg(args, own, name));
  const isWritten = (name: string) => arg(args, own, name) !== null;
  const num = (n: string) => {
    const v = value(n);
    return typeof v === 'number' ? v : undefined;
  };
  const fields: Partial<LayerCommon> = {};
  let units: number | undefined;
  let kernelSize: number[] | null = null;
  const dims = own.dims ?? 0;
  switch (own.weights) {
    case 'dense':
      // MultiHeadAttention's output size is output_shape when written, else the query's (the probe reads it).
      units = own.kind === 'attention' ? num('output_shape') : num('units');
      if (legacy === 'keras0-dense') fields.inFeatures = num('input_dim') ?? null;
      break;
    case 'conv':
    case 'conv-transpose':
    case 'separable':
    case 'recurrent':
      units = own.weights === 'recurrent' && !own.dims ? num('units') : num('filters');
      if (dims) kernelSize = convKernel(args, own, ctx, dims, legacy);
      if (legacy === 'keras0-conv') fields.inFeatures = num('stack_size') ?? null;
      break;
    case 'depthwise':
      kernelSize = sizeList(value('kernel_size'), dims);
      break;
    case 'embedding':
      units = num('output_dim');
      fields.inFeatures = num('input_dim') ?? null;
      break;
    default:
      break;
  }
  if (own.kind === 'maxpool' || own.kind === 'avgpool') {
    const pool = arg(args, own, 'pool_size');
    kernelSize = pool ? sizeList(evaluateArg(ctx, pool), dims) : Array.from({ length: dims }, () => 2);
  }

  const hasWeights = own.weights !== 'none';
  const useBiasNode = arg(args, own, 'use_bias');
  const useBiasValue = useBiasNode ? evaluateArg(ctx, useBiasNode) : true;
  const useBias = hasWeights && own.weights !== 'embedding' && useBiasValue !== false && useBiasValue !== 0;

  let pointwise: ConvConfig['pointwise'] = null;
  if (own.weights === 'dense' || own.weights === 'conv' || own.weights === 'conv-transpose' || own.weights === 'recurrent') {
    fields.kernelInit = initializerArg(args, own, 'kernel_initializer', ctx, kerasDefaultKernel);
  } else if (own.weights === 'depthwise' || own.weights === 'separable') {
    fields.kernelInit = initializerArg(args, own, 'depthwise_initializer', ctx, kerasDefaultKernel);
    if (own.weights === 'separable') pointwise = { init: initializerArg(args, own, 'pointwise_initializer', ctx, kerasDefaultKernel), fanIn: null, fanOut: null };
  } else if (own.weights === 'embedding') {
    fields.kernelInit = initializerArg(args, own, 'embeddings_initializer', ctx, kerasDefaultEmbedding);
  }
  if (useBias) fields.biasInit = initializerArg(args, own, 'bias_initializer', ctx, kerasDefaultBias);
  if (isNormalizationKind(own.kind)) {
    // γ and β as written (`gamma_initializer='zeros'`: a zero-initialized residual branch); null keeps the defaults.
    const gamma = arg(args, own, 'gamma_initializer');
    if (gamma) fields.kernelInit = initializerFromValue(gamma, ctx);
    const beta = arg(args, own, 'beta_initializer');
    if (beta) fields.biasInit = initializerFromValue(beta, ctx);
  }
  let recurrentActivation: ActivationName | null = null;
  if (own.weights === 'recurrent') {
    fields.recurrentInit = initializerArg(args, own, 'recurrent_initializer', ctx, kerasDefaultRecurrent);
    if (own.gates && own.gates > 1) {
      const written = arg(args, own, 'recurrent_activation');
      recurrentActivation = written ? activationFromValue(written, ctx).name : 'sigmoid';
    }
  }

  if (own.kind === 'activation') {
    fields.activation = activationOfLayerCall(className, call, ctx);
  } else if (own.defaultActivation) {
    const written = arg(args, own, 'activation');
    const splat = args.splats[0];
    if (written) fields.activation = activationFromValue(written, ctx);
    else if (splat) fields.activation = { name: 'unknown', spelling: splat.text, range: rangeOf(splat), source: 'kwarg', params: {} };
    else fields.activation = defaultActivation(own.defaultActivation);
  }
  // Keras 0 ran on Theano only: images are channels-first.
  fields.dataFormat = legacy === 'keras0-conv' ? 'channels_first' : dataFormat(value('data_format'));

  const conv = (): ConvConfig => {
    const variant: ConvConfig['variant'] = own.weights === 'conv-transpose' ? 'transpose' : own.weights === 'depthwise' || own.weights === 'separable' ? own.weights : 'standard';
    return {
      variant,
      strides: setting(isWritten('strides') && value('strides') !== null, value('strides'), intList, [1]),
      padding: setting(isWritten('padding'), value('padding'), paddingValue, 'valid'),
      dilation: setting(isWritten('dilation_rate'), value('dilation_rate'), intList, [1]),
      groups: setting(isWritten('groups'), value('groups'), numberValue, 1),
      depthMultiplier: num('depth_multiplier') ?? 1,
      outputPadding: setting(isWritten('output_padding') && value('output_padding') !== null, value('output_padding'), intList, [0]),
      pointwise,
    };
  };
  const detail = kerasDetail(own, className, value, isWritten, conv, recurrentActivation);
  if (detail.kind === 'reshape' && detail.reshape.op === 'reshape' && detail.reshape.target === null) {
    detail.reshape = { op: 'reshape', target: inferredTarget(arg(args, own, 'target_shape'), ctx) };
  }
  const kernelArg = args.keywords.get(own.weights === 'depthwise' || own.weights === 'separable' ? 'depthwise_initializer' : 'kernel_initializer') ?? args.keywords.get('init');
  // Object.assign rather than a literal with spreads, which V8 (Node 20) builds on a slow path (see makeLayer).
  const layer = makeLayer(
    Object.assign(
      {},
      detail,
      {
        className: written,
        range,
        name: layerName,
        units: units ?? null,
        kernelSize,
        useBias,
        argsRange: hasWeights ? (kernelArg ? rangeOf(kernelArg) : insertionPoint(args)) : null,
      },
      fields,
    ),
  );
  const declared = legacy === 'keras0-dense' && fields.inFeatures ? [fields.inFeatures] : declaredInput(args, own, ctx);
  if (layer.kind === 'input') layer.shape = declared;
  return { layer, declaredInput: declared, unsupported: [] };
}

/**
 * `Reshape((int(input_length / 13), 13))` where one size is computed from a value the code does not
 * fix: Keras fits the total of the input, so that size is what -1 would infer whenever the code runs.
 * Two or more unknown sizes stay unknown (null).
 */
function inferredTarget(node: Node | null, ctx: ArgContext): number[] | null {
  const loose = looseShape(node, ctx);
  if (!loose || loose.filter((d) => d === null).length !== 1 || loose.includes(-1)) return null;
  return loose.map((d) => d ?? -1);
}

/** Keras `data_format=` or Keras 1 `dim_ordering=` ('th' is channels-first, 'tf' channels-last). */
function dataFormat(value: ConstValue | undefined): Layout | null {
  if (value === 'channels_first' || value === 'th') return 'channels_first';
  if (value === 'channels_last' || value === 'tf') return 'channels_last';
  return null;
}

/** The typed fields of a Keras layer's kind, from its arguments. */
function kerasDetail(
  spec: LayerSpec,
  className: string,
  value: (name: string) => ConstValue | undefined,
  isWritten: (name: string) => boolean,
  conv: () => ConvConfig,
  recurrentActivation: ActivationName | null,
): LayerDetail {
  const kind = spec.kind;
  const dims = spec.dims ?? Number(/([123])D$/.exec(className)?.[1] ?? 0);
  switch (kind) {
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv-transpose':
      return { kind, conv: conv() };
    case 'maxpool':
    case 'avgpool': {
      const strides = value('strides');
      return {
        kind,
        pool: {
          strides: !isWritten('strides') || strides === null ? 'window' : intList(strides),
          padding: setting(isWritten('padding'), value('padding'), paddingValue, 'valid'),
          dilation: [1],
          ceilMode: false,
          adaptiveOutput: null,
        },
      };
    }
    case 'global-pool':
      return { kind, reduce: /Max/.test(className) ? 'max' : 'avg', keepdims: boolValue(value('keepdims')) };
    case 'flatten':
      return { kind };
    case 'reshape':
      return { kind, reshape: kerasReshape(className, value, dims) };
    case 'batchnorm':
    case 'layernorm':
    case 'groupnorm': {
      const axis = value('axis');
      const center = boolValue(value('center'));
      const scale = boolValue(value('scale'));
      return {
        kind,
        norm: {
          axis: typeof axis === 'number' ? axis : intList(axis),
          epsilon: numberValue(value('epsilon')),
          momentum: numberValue(value('momentum')),
          affine: center === false && scale === false ? false : center === null && isWritten('center') ? null : true,
          groups: kind === 'groupnorm' ? numberValue(value('groups')) : null,
        },
      };
    }
    case 'dropout':
    case 'alpha-dropout': {
      const noise = className === 'GaussianNoise' ? 'gaussian-noise' : className === 'GaussianDropout' ? 'gaussian-dropout' : className.startsWith('Spatial') ? 'spatial' : 'dropout';
      return { kind, rate: noise === 'gaussian-noise' ? null : numberValue(value('rate')), noise };
    }
    case 'lstm':
    case 'gru':
    case 'simple-rnn': {
      const returnSequences = value('return_sequences');
      return {
        kind,
        recurrent: {
          ...defaultRecurrent(kind),
          returnSequences: isWritten('return_sequences') ? boolValue(returnSequences) : false,
          dropout: numberValue(value('dropout')),
          recurrentDropout: numberValue(value('recurrent_dropout')),
          recurrentActivation,
          unitForgetBias: unitForgetBias(value, isWritten),
          conv: spec.dims ? conv() : null,
        },
      };
    }
    case 'add':
    case 'multiply':
    case 'concat':
      return { kind, merge: { op: mergeOpOf(spec.merge), axis: numberValue(value('axis')) } };
    case 'rescaling':
      return { kind, scale: numberValue(value('scale')), offset: numberValue(value('offset')), op: className === 'Normalization' ? 'normalization' : 'rescaling' };
    case 'unknown':
      return { kind, identity: spec.identity === true };
    case 'attention': {
      // Keras holds the batch first; value_dim defaults to key_dim (the probe reads null as that).
      const heads = numberValue(value('num_heads'));
      return { kind, attention: { heads, keyDim: numberValue(value('key_dim')), valueDim: numberValue(value('value_dim')), dropout: numberValue(value('dropout')) ?? 0, batchFirst: null, causal: false } };
    }
    default:
      return defaultDetail(kind);
  }
}

/** Keras 2 `unit_forget_bias` (default True) or Keras 1 `forget_bias_init` (default 'one'). */
function unitForgetBias(value: (name: string) => ConstValue | undefined, isWritten: (name: string) => boolean): boolean {
  if (isWritten('unit_forget_bias')) return boolValue(value('unit_forget_bias')) !== false;
  if (isWritten('forget_bias_init')) {
    const init = value('forget_bias_init');
    return init === 'one' || init === 'ones';
  }
  return true;
}

/** The IR merge operation of a Keras merge layer (catalog `merge`). */
export function mergeOpOf(merge: string | undefined): MergeConfig['op'] {
  switch (merge) {
    case 'subtract':
    case 'average':
    case 'maximum':
    case 'minimum':
    case 'multiply':
    case 'concatenate':
      return merge;
    default:
      return 'add';
  }
}

/** The shape-only layers filed under 'reshape', by class. */
function kerasReshape(className: string, value: (name: string) => ConstValue | undefined, dims: number): ReshapeConfig {
  const op = className.replace(/[123]D$/, '');
  switch (op) {
    case 'Reshape':
      return { op: 'reshape', target: intList(value('target_shape')) };
    case 'ZeroPadding':
      return { op: 'zero-padding', pads: value('padding') === undefined ? pairsPerDim(1, dims) : pairsPerDim(value('padding'), dims) };
    case 'Cropping':
      return { op: 'cropping', crops: value('cropping') === undefined ? pairsPerDim(0, dims) : pairsPerDim(value('cropping'), dims) };
    case 'UpSampling':
      // interpolation='bilinear' resizes with half-pixel centres (torch's align_corners=False).
      return { op: 'upsampling', factors: value('size') === undefined ? [2] : intList(value('size')), mode: value('interpolation') === 'bilinear' ? 'bilinear' : 'nearest', alignCorners: false };
    case 'Permute':
      return { op: 'permute', dims: intList(value('dims')) };
    case 'RepeatVector':
      return { op: 'repeat-vector', n: numberValue(value('n')) };
    default:
      return { op: 'other', className };
  }
}

/** Conv kernel sizes, including Keras 1's `Convolution2D(32, 3, 3)` / `nb_row=3, nb_col=3` and Keras 0's `Convolution2D(32, 1, 3, 3)`. */
function convKernel(args: CallArguments, spec: LayerSpec, ctx: ArgContext, dims: number, legacy: LegacySignature | null): number[] | null {
  if (legacy === 'keras1-conv3d') {
    const sides = [1, 2, 3].map((i) => numberArg(ctx, args.keywords.get(`kernel_dim${i}`) ?? args.keywords.get(`len_conv_dim${i}`) ?? args.positional[i]));
    return dims === 3 && sides.every((v): v is number => v !== undefined) ? sides : null;
  }
  if (legacy === 'keras1-conv' || legacy === 'keras0-conv') {
    const at = legacy === 'keras0-conv' ? 2 : 1;
    const rows = args.keywords.get('nb_row') ?? args.positional[at];
    const cols = args.keywords.get('nb_col') ?? args.positional[at + 1];
    const pair = [numberArg(ctx, rows), numberArg(ctx, cols)];
    if (dims === 2 && pair.every((v): v is number => v !== undefined)) return pair;
    return null;
  }
  if (args.keywords.has('filter_length')) return sizeList(evaluateArg(ctx, args.keywords.get('filter_length')), 1);
  return sizeList(evaluateArg(ctx, arg(args, spec, 'kernel_size')), dims);
}

type LegacySignature = 'keras0-dense' | 'keras0-conv' | 'keras1-conv' | 'keras1-conv3d';

const LEGACY_POSITIONAL: Record<LegacySignature, string[]> = {
  'keras0-dense': KERAS0_DENSE,
  'keras0-conv': KERAS0_CONV2D,
  'keras1-conv': KERAS1_CONV2D,
  'keras1-conv3d': KERAS1_CONV3D,
};

/**
 * Which older Keras signature a call is written in, from its positional arguments:
 * - Keras 0 `Dense(784, 128)`: a number second, where Keras 1/2 has the activation;
 * - Keras 0 `Convolution2D(32, 1, 3, 3)`: the input channels, then the kernel, four numbers;
 * - Keras 1 `Convolution3D(32, 3, 3, 3)` / `kernel_dim1=3, ...` (Keras 0.3 `len_conv_dim1=3`): three kernel positions;
 * - Keras 1 `Convolution2D(32, 3, 3)` / `nb_row=3, nb_col=3`: the kernel takes two positions, so
 *   the Keras 2 reading of the third position as strides (and the fourth as padding) does not apply.
 */
function legacySignature(args: CallArguments, className: string, ctx: ArgContext): LegacySignature | null {
  const [, second, third, fourth] = args.positional;
  if (className === 'Dense') return second && numberArg(ctx, second) !== undefined ? 'keras0-dense' : null;
  if (className === 'Convolution3D' && !args.keywords.has('kernel_size')) {
    const named = ['kernel_dim1', 'len_conv_dim1'].some((k) => args.keywords.has(k));
    return named || (fourth !== undefined && numberArg(ctx, fourth) !== undefined) ? 'keras1-conv3d' : null;
  }
  if (!/^(?:Convolution2D|AtrousConvolution2D|Deconvolution2D)$/.test(className) || args.keywords.has('kernel_size')) return null;
  if (className === 'Convolution2D' && fourth && numberArg(ctx, fourth) !== undefined && !args.keywords.has('nb_row')) return 'keras0-conv';
  const keras1 = args.keywords.has('nb_row') || (third !== undefined && (third.type === 'integer' || !/^[([]/.test(third.text)));
  return keras1 ? 'keras1-conv' : null;
}

function declaredInput(args: CallArguments, spec: LayerSpec, ctx: ArgContext): Shape | null {
  const shapeArg = args.keywords.get('input_shape') ?? args.keywords.get('shape') ?? (spec.kind === 'input' ? (args.positional[0] ?? null) : null);
  const shape = looseShape(shapeArg, ctx);
  if (shape) return shape;
  const batchShape = looseShape(args.keywords.get('batch_input_shape') ?? args.keywords.get('batch_shape') ?? null, ctx);
  if (batchShape && batchShape.length > 0) return batchShape.slice(1);
  const inputDim = numberArg(ctx, args.keywords.get('input_dim'));
  const inputLength = args.keywords.get('input_length');
  if (spec.weights === 'embedding') return inputLength ? [numberArg(ctx, inputLength) ?? null] : null;
  if (inputDim !== undefined) return spec.weights === 'recurrent' ? [inputLength ? (numberArg(ctx, inputLength) ?? null) : null, inputDim] : [inputDim];
  return null;
}

/** Bidirectional(LSTM(..)) and TimeDistributed(Dense(..)): the wrapped layer, marked. */
function buildWrapper(call: Node, spec: LayerSpec, written: string, ctx: ArgContext, layerName: string): BuiltLayer {
  const args = callArgs(call);
  const innerNode = argument(args, 0, 'layer');
  const inner = innerNode ? ctx.scope.resolveExpression(innerNode) : null;
  const innerQualified = inner?.type === 'call' ? ctx.symbols.qualified(inner.childForFieldName('function')) : null;
  const range = rangeOf(call);
  if (!inner || !innerQualified) {
    return {
      layer: makeLayer({ kind: 'unknown', className: written, range, name: layerName }),
      declaredInput: null,
      unsupported: [{ what: `${written} around a layer that could not be resolved`, range }],
    };
  }
  const built = buildLayer(inner, lastSegment(innerQualified), requiredField(inner, 'function').text, ctx);
  const layer = built.layer;
  layer.className = `${written}(${layer.className})`;
  layer.range = range;
  if (layerName) layer.name = layerName;
  if (spec.wrapper === 'bidirectional') {
    const mode = evaluateArg(ctx, argument(args, 1, 'merge_mode'));
    if (isRecurrent(layer)) {
      layer.recurrent.bidirectional = true;
      layer.recurrent.mergeMode = mode === null ? 'none' : mode === 'sum' || mode === 'mul' || mode === 'ave' ? mode : 'concat';
    }
  } else {
    layer.timeDistributed = true;
  }
  const outerShape = declaredInput(args, spec, ctx);
  return { layer, declaredInput: outerShape ?? built.declaredInput, unsupported: built.unsupported };
}
