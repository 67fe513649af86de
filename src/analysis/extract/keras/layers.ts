/**
 * One Keras layer constructor call -> LayerIR (without id / graph inputs, which the model builder
 * assigns): kind, sizes, activation, initializers (explicit or Keras defaults), use_bias, params,
 * plus the input shape the call declares (`input_shape=`, `input_dim=`, `batch_input_shape=`).
 */
import type { Node } from 'web-tree-sitter';
import type { InitializerIR, LayerIR, Range } from '../../../shared/ir';
import type { ConstValue } from '../../python/constants';
import { argument, rangeOf, type CallArguments } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { makeLayer } from '../builders';
import { kerasDefaultBias, kerasDefaultEmbedding, kerasDefaultKernel, kerasDefaultRecurrent } from '../defaults';
import type { Shape } from '../shapes';
import { activationFromValue, activationOfLayerCall, defaultActivation } from './activations';
import { layerSpec, type LayerSpec } from './catalog';
import { evaluateArg, numberArg, type ArgContext } from './context';
import { initializerFromValue } from './initializers';
import { lastSegment } from './symbols';

export interface BuiltLayer {
  layer: LayerIR;
  /** The input shape (without batch) the call declares, if any. */
  declaredInput: Shape | null;
  unsupported: { what: string; range: Range }[];
}

/** Keras 1 spellings still found in old tutorials. */
const KWARG_ALIASES: Record<string, string[]> = {
  units: ['units', 'output_dim'],
  filters: ['filters', 'nb_filter'],
  padding: ['padding', 'border_mode'],
  strides: ['strides', 'subsample'],
  kernel_initializer: ['kernel_initializer', 'init'],
  recurrent_initializer: ['recurrent_initializer', 'inner_init'],
  rate: ['rate', 'p'],
};

/** Keras 1 keyword -> its Keras 2 name. */
const ALIAS_OF = new Map(Object.entries(KWARG_ALIASES).flatMap(([canonical, names]) => names.map((n): [string, string] => [n, canonical])));

/** Arguments that become dedicated IR fields, not params. */
const FIELD_ARGS = new Set([
  'activation', 'kernel_initializer', 'bias_initializer', 'recurrent_initializer', 'embeddings_initializer',
  'depthwise_initializer', 'pointwise_initializer', 'init', 'inner_init', 'name', 'input_shape', 'batch_input_shape', 'input_dim',
  'input_length', 'layer', 'units', 'output_dim', 'filters', 'nb_filter', 'kernel_size', 'use_bias', 'shape',
]);

/** A constant as a param value: numbers, strings and booleans as they are, lists as JSON ("[3,3]"). */
export function paramValue(value: ConstValue | undefined): number | string | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return JSON.stringify(value);
  return value;
}

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
  return resolved.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment').map((c) => {
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
      return { layer: makeLayer({ kind: 'rescaling', className: written, range, name: layerName, params: { op: 'Lambda' } }), declaredInput: looseShape(args.keywords.get('input_shape') ?? null, ctx), unsupported: [] };
    }
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

  const params: Record<string, number | string | boolean> = {};
  spec.positional.forEach((param, index) => {
    if (FIELD_ARGS.has(param) || param.endsWith('_initializer')) return;
    const v = paramValue(evaluateArg(ctx, argument(args, index, ...(KWARG_ALIASES[param] ?? [param]))));
    if (v !== undefined) params[param] = v;
  });
  for (const [kw, node] of args.keywords) {
    const canonical = ALIAS_OF.get(kw) ?? kw;
    if (FIELD_ARGS.has(kw) || FIELD_ARGS.has(canonical) || kw.endsWith('_initializer') || canonical in params) continue;
    if (kw.endsWith('_regularizer') || kw.endsWith('_constraint')) {
      params[kw] = node.text;
      continue;
    }
    const v = paramValue(evaluateArg(ctx, node));
    if (v !== undefined) params[canonical] = v;
  }
  if (spec.kind === 'reshape' && className !== 'Reshape') params.op = className;
  if (spec.merge && spec.kind === 'add' && spec.merge !== 'add') params.merge = spec.merge;
  if (spec.identity) params.identity = true;

  const num = (n: string) => {
    const v = evaluateArg(ctx, arg(args, spec, n));
    return typeof v === 'number' ? v : undefined;
  };
  const fields: Partial<LayerIR> = {};
  let units: number | undefined;
  let kernelSize: number[] | null = null;
  const dims = spec.dims ?? 0;
  switch (spec.weights) {
    case 'dense':
      units = num('units');
      break;
    case 'conv':
    case 'conv-transpose':
    case 'separable':
    case 'recurrent':
      units = spec.weights === 'recurrent' && !spec.dims ? num('units') : num('filters');
      if (dims) kernelSize = convKernel(args, spec, ctx, dims, className, params);
      break;
    case 'depthwise':
      kernelSize = sizeList(evaluateArg(ctx, arg(args, spec, 'kernel_size')), dims);
      break;
    case 'embedding':
      units = num('output_dim');
      fields.inFeatures = num('input_dim') ?? null;
      break;
    default:
      break;
  }
  if (spec.kind === 'maxpool' || spec.kind === 'avgpool') {
    const pool = arg(args, spec, 'pool_size');
    kernelSize = pool ? sizeList(evaluateArg(ctx, pool), dims) : Array.from({ length: dims }, () => 2);
  }

  const hasWeights = spec.weights !== 'none';
  const useBiasNode = arg(args, spec, 'use_bias');
  const useBiasValue = useBiasNode ? evaluateArg(ctx, useBiasNode) : true;
  if (useBiasNode && typeof useBiasValue !== 'boolean') params.use_bias = useBiasNode.text;
  const useBias = hasWeights && spec.weights !== 'embedding' && useBiasValue !== false;

  if (spec.weights === 'dense' || spec.weights === 'conv' || spec.weights === 'conv-transpose' || spec.weights === 'recurrent') {
    fields.kernelInit = initializerArg(args, spec, 'kernel_initializer', ctx, kerasDefaultKernel);
  } else if (spec.weights === 'depthwise' || spec.weights === 'separable') {
    fields.kernelInit = initializerArg(args, spec, 'depthwise_initializer', ctx, kerasDefaultKernel);
    if (spec.weights === 'separable') params.pointwise_initializer = initializerArg(args, spec, 'pointwise_initializer', ctx, kerasDefaultKernel).name;
    // The closest IR kind is a plain convolution; conv_type tells shapes.ts which fans apply.
    params.conv_type = spec.weights;
    params.depth_multiplier ??= 1;
  } else if (spec.weights === 'embedding') {
    fields.kernelInit = initializerArg(args, spec, 'embeddings_initializer', ctx, kerasDefaultEmbedding);
  }
  if (useBias) fields.biasInit = initializerArg(args, spec, 'bias_initializer', ctx, kerasDefaultBias);
  if (spec.weights === 'recurrent') {
    fields.recurrentInit = initializerArg(args, spec, 'recurrent_initializer', ctx, kerasDefaultRecurrent);
    if (spec.gates && spec.gates > 1) {
      const written = arg(args, spec, 'recurrent_activation');
      params.recurrent_activation = written ? activationFromValue(written, ctx).name : 'sigmoid';
    }
  }

  if (spec.kind === 'activation') {
    fields.activation = activationOfLayerCall(className, call, ctx);
  } else if (spec.defaultActivation) {
    const written = arg(args, spec, 'activation');
    const splat = args.splats[0];
    if (written) fields.activation = activationFromValue(written, ctx);
    else if (splat) fields.activation = { name: 'unknown', spelling: splat.text, range: rangeOf(splat), source: 'kwarg', params: {} };
    else fields.activation = defaultActivation(spec.defaultActivation);
  }

  // The sizes also appear in params under their Keras names, as rules and messages quote them.
  if (units !== undefined) params[spec.weights === 'dense' || (spec.weights === 'recurrent' && !spec.dims) ? 'units' : spec.weights === 'embedding' ? 'output_dim' : 'filters'] = units;
  if (kernelSize && spec.kind !== 'maxpool' && spec.kind !== 'avgpool') params.kernel_size = JSON.stringify(kernelSize);
  if (hasWeights && spec.weights !== 'embedding' && params.use_bias === undefined) params.use_bias = useBias;
  if (typeof fields.inFeatures === 'number') params.input_dim = fields.inFeatures;

  const kernelArg = args.keywords.get(spec.weights === 'depthwise' || spec.weights === 'separable' ? 'depthwise_initializer' : 'kernel_initializer') ?? args.keywords.get('init');
  const layer = makeLayer({
    kind: spec.kind,
    className: written,
    range,
    name: layerName,
    units: units ?? null,
    kernelSize,
    useBias,
    params,
    argsRange: hasWeights ? (kernelArg ? rangeOf(kernelArg) : insertionPoint(args)) : null,
    ...fields,
  });
  const declared = declaredInput(args, spec, ctx);
  if (spec.kind === 'input' && declared) layer.params.shape = JSON.stringify(declared);
  return { layer, declaredInput: declared, unsupported: [] };
}

/** Conv kernel sizes, including Keras 1's `Convolution2D(32, 3, 3)` / `nb_row=3, nb_col=3`. */
function convKernel(args: CallArguments, spec: LayerSpec, ctx: ArgContext, dims: number, className: string, params: Record<string, number | string | boolean>): number[] | null {
  if (/^Convolution[23]D$/.test(className) && !args.keywords.has('kernel_size')) {
    const rows = args.keywords.get('nb_row') ?? args.positional[1];
    const cols = args.keywords.get('nb_col') ?? args.positional[2];
    const pair = [numberArg(ctx, rows), numberArg(ctx, cols)];
    if (dims === 2 && rows && cols && pair.every((v): v is number => v !== undefined)) {
      // The Keras 2 positional reading took nb_col for strides: undo it.
      if (!args.keywords.has('strides') && !args.keywords.has('subsample')) delete params.strides;
      if (args.positional.length > 3 && !args.keywords.has('padding') && !args.keywords.has('border_mode')) delete params.padding;
      return pair;
    }
  }
  return sizeList(evaluateArg(ctx, arg(args, spec, 'kernel_size')), dims);
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
  const built = buildLayer(inner, lastSegment(innerQualified), inner.childForFieldName('function')!.text, ctx);
  const layer = built.layer;
  layer.className = `${written}(${layer.className})`;
  layer.range = range;
  if (layerName) layer.name = layerName;
  if (spec.wrapper === 'bidirectional') {
    layer.params.bidirectional = true;
    const mode = evaluateArg(ctx, argument(args, 1, 'merge_mode'));
    layer.params.merge_mode = typeof mode === 'string' ? mode : mode === null ? 'none' : 'concat';
  } else {
    layer.params.time_distributed = true;
  }
  const outerShape = declaredInput(args, spec, ctx);
  return { layer, declaredInput: outerShape ?? built.declaredInput, unsupported: built.unsupported };
}
