/**
 * Recognizing the calls that make a Keras model: Sequential(...), Model(inputs, outputs), Input(...),
 * layer constructors, merge functions (`layers.add`, `tf.concat`), functional activations
 * (`tf.nn.relu(x)`), tensor operators (`x + shortcut`), and unknown layers applied to tensors.
 */
import { isMerge } from '../../../shared/layers';
import { mergeOpOf } from './layers';
import type { Node } from '../../python/syntax-tree';
import { rangeOf, namedChildren, unparen, requiredField } from '../../python/syntax';
import { makeLayer } from '../builders';
import { activationFunctionName, activationFunctionParams, isKerasLayerPath } from './activations';
import { layerSpec, MERGE_FUNCTIONS } from './catalog';
import { mergeMarks, type Reader } from './executor';
import { buildLayer } from './layers';
import { chainSequential } from './apply';
import { callArgs } from '../../python/syntax-cache';
import { lastSegment, modulePart } from './symbols';
import { intShape, noiseCall, SHAPE_FUNCTIONS, unreadOperation } from './lambda';
import { reshapingCall } from './reshaping-calls';
import type { ActivationName, LayerIR, Range } from '../../../shared/ir';
import { OPAQUE, producersOf, type GraphNode, type LayerFactory, type SequentialBuilder, type Value } from './values';

const TENSOR_MERGES: Record<string, string> = {
  'tensorflow.concat': 'Concatenate',
  'tensorflow.add': 'Add',
  'tensorflow.math.add': 'Add',
  'tensorflow.add_n': 'Add',
  'tensorflow.multiply': 'Multiply',
  'tensorflow.math.multiply': 'Multiply',
  'keras.backend.concatenate': 'Concatenate',
  'keras.ops.add': 'Add',
  'keras.ops.concatenate': 'Concatenate',
  'keras.ops.multiply': 'Multiply',
};

/** Elementwise math that is an activation of the catalog when applied to a tensor (not taken as `activation=` values). */
const TENSOR_MATH: Record<string, ActivationName> = {
  'tensorflow.exp': 'exponential',
  'tensorflow.math.exp': 'exponential',
  'keras.ops.exp': 'exponential',
};

/** Keras configuration read by model code, at Keras' defaults (channels last), as the layers' layouts are read. */
const KERAS_CONFIG_DEFAULTS: Readonly<Record<string, string>> = {
  'keras.backend.image_data_format': 'channels_last',
  'keras.backend.image_dim_ordering': 'tf',
};

/** Calls resolved to Keras / TensorFlow symbols. */
export function kerasCall(exec: Reader, q: string, written: string, call: Node): Value | null {
  const last = lastSegment(q);
  const module = modulePart(q);
  const symbols = exec.state.symbolsAt(call);
  const bareKeras = !module && symbols.usesKeras && !symbols.isLocal(last);
  const kerasModule = module === 'keras' || module.startsWith('keras.models') || module.startsWith('keras.engine') || module.startsWith('keras.layers') || bareKeras;
  if (last === 'Sequential' && kerasModule) return newSequential(exec, call);
  if (last === 'Model' && kerasModule) return functionalModel(exec, call);
  if (last === 'Input' && kerasModule) {
    const built = buildLayer(call, 'InputLayer', written, exec.argContext);
    return { t: 'tensor', producers: [exec.newNode(built.layer, [], call, exec.marks, built.declaredInput, built.unsupported)] };
  }
  // Keras 1: `Merge([seq_a, seq_b], mode='concat')` (a layer, often added to a Sequential) and `merge([a, b], mode=...)`.
  if ((last === 'Merge' || last === 'merge') && (module.startsWith('keras.layers') || bareKeras)) return keras1Merge(exec, written, call);
  const mergeClass = MERGE_FUNCTIONS[last];
  if (mergeClass && module.startsWith('keras.layers')) {
    return mergeCall(exec, mergeClass, written, call);
  }
  const tensorMerge = TENSOR_MERGES[q];
  if (tensorMerge) return mergeCall(exec, tensorMerge, written, call);
  if (isKerasLayerPath(q, exec.argContext) && (layerSpec(last) || (/^[A-Z]/.test(last) && module.startsWith('keras.layers')))) {
    return { t: 'layer', factory: { call, className: last, written, ctx: exec.argContext, marks: exec.marks, boundName: null } };
  }
  if (module.startsWith('keras.applications') && /^[A-Z]/.test(last)) {
    return { t: 'layer', factory: { call, className: last, written, ctx: exec.argContext, marks: exec.marks, boundName: null } };
  }
  if (POSITION_RANGES.has(q)) return { t: 'positions' };
  if (q === 'keras.backend.int_shape') return intShape(exec, call);
  // The image layout Keras is configured with: its default (keras.json), which the shapes of the IR assume too.
  const configured = KERAS_CONFIG_DEFAULTS[q];
  if (configured !== undefined) return { t: 'const', value: configured };
  if (SHAPE_FUNCTIONS.has(q)) return OPAQUE;
  const noise = noiseCall(exec, q, written, call);
  if (noise) return noise;
  const reshaped = reshapingCall(exec, q, written, call);
  if (reshaped) return reshaped;
  const activation = activationFunctionName(q) ?? TENSOR_MATH[q] ?? null;
  if (activation) {
    const args = callArgs(call);
    const input = args.positional[0] ? exec.evalExpr(args.positional[0]) : OPAQUE;
    if (input.t !== 'tensor') return input.t === 'opaque' ? OPAQUE : null;
    const fnNode = requiredField(call, 'function');
    const params = activationFunctionParams(activation);
    const alpha = exec.constOf(args.keywords.get('alpha') ?? args.keywords.get('negative_slope') ?? args.positional[1] ?? fnNode);
    if (activation === 'leaky_relu' && typeof alpha === 'number') params.alpha = alpha;
    const layer = makeLayer({
      kind: 'activation',
      className: written,
      range: rangeOf(call),
      activation: { name: activation, spelling: fnNode.text, range: rangeOf(fnNode), source: 'functional', params },
    });
    return { t: 'tensor', producers: [exec.newNode(layer, input.producers, call, exec.marks)] };
  }
  if (q === 'tensorflow.nn.dropout') {
    const args = callArgs(call);
    const input = args.positional[0] ? exec.evalExpr(args.positional[0]) : OPAQUE;
    const rate = exec.constOf(args.keywords.get('rate') ?? args.positional[1] ?? call);
    const layer = makeLayer({ kind: 'dropout', className: written, range: rangeOf(call), rate: typeof rate === 'number' ? rate : null, noise: 'dropout' });
    return { t: 'tensor', producers: [exec.newNode(layer, producersOf(input), call, exec.marks)] };
  }
  return null;
}

export function newSequential(exec: Reader, call: Node): Value {
  const args = callArgs(call);
  const listNode = args.positional[0] ?? args.keywords.get('layers') ?? null;
  const seq: SequentialBuilder = { call, fromList: !!listNode, items: [], marks: exec.marks, lastAdd: null, builtShape: null, binding: null };
  if (listNode) {
    const list = exec.evalExpr(listNode);
    const elements = unparen(listNode).type === 'list' || unparen(listNode).type === 'tuple' ? namedChildren(unparen(listNode)).filter((c) => c.type !== 'list_splat') : [];
    const items = list.t === 'list' ? list.items : [list];
    items.forEach((value, i) => {
      // Keep the written element for messages when the list was literal and not spliced.
      const node = elements.length === items.length ? elements[i]! : listNode;
      seq.items.push({ value, node, marks: value.t === 'layer' ? value.factory.marks : exec.marks });
    });
  }
  exec.f.sequentials?.push(seq);
  return { t: 'sequential', seq };
}

export function functionalModel(exec: Reader, call: Node): Value {
  const args = callArgs(call);
  const inputsNode = args.keywords.get('inputs') ?? args.keywords.get('input') ?? args.positional[0];
  const outputsNode = args.keywords.get('outputs') ?? args.keywords.get('output') ?? args.positional[1];
  if (!inputsNode || !outputsNode) return OPAQUE;
  const inputs = producersOf(exec.evalExpr(inputsNode));
  const outputs = producersOf(exec.evalExpr(outputsNode));
  if (exec.emits && outputs.length > 0) {
    exec.state.functionals.push({ call, inputs, outputs, marks: exec.marks, scopeNode: exec.f.scopeNode });
  }
  // A finished model applied to tensors later (`decoder(encoder(x))`) is its graph, reapplied.
  return outputs.length > 0 ? { t: 'graph', inputs, outputs } : OPAQUE;
}

export function mergeCall(exec: Reader, className: string, written: string, call: Node): Value {
  const args = callArgs(call);
  const inputsNode = args.positional[0] ?? args.keywords.get('inputs') ?? args.keywords.get('values');
  let inputs: GraphNode[];
  if (className !== 'Concatenate' && args.positional.length > 1) inputs = args.positional.flatMap((a) => producersOf(exec.evalExpr(a)));
  else inputs = inputsNode ? producersOf(exec.evalExpr(inputsNode)) : [];
  const axis = exec.constOf(args.keywords.get('axis') ?? (className === 'Concatenate' && args.positional[1] ? args.positional[1] : call));
  return { t: 'tensor', producers: [exec.newNode(mergeLayer(className, written, rangeOf(call), typeof axis === 'number' ? axis : null), inputs, call, exec.marks)] };
}

/** The layer of a Keras merge class (`Concatenate`, `Add`, ...) joining on `axis` (null: the class's default). */
export function mergeLayer(className: string, written: string, range: Range, axis: number | null): LayerIR {
  const spec = layerSpec(className);
  const layer = makeLayer({ kind: spec?.kind ?? 'unknown', className: written, range });
  if (spec && isMerge(layer)) layer.merge = { op: mergeOpOf(spec.merge), axis };
  return layer;
}

/** Keras 1 merge modes and the Keras 2 layer each became; 'dot' and 'cos' have no IR kind. */
const KERAS1_MERGE_MODES: Record<string, string> = { sum: 'Add', mul: 'Multiply', concat: 'Concatenate', ave: 'Average', max: 'Maximum' };

/**
 * Keras 1 `Merge(layers, mode=...)` / `merge(inputs, mode=...)`: the branches (Sequentials applied to
 * their own inputs, or tensors) meet in one merge node, which a Sequential it is added to continues.
 */
function keras1Merge(exec: Reader, written: string, call: Node): Value {
  const args = callArgs(call);
  const branchesNode = args.positional[0] ?? args.keywords.get('layers') ?? args.keywords.get('inputs');
  const branches = branchesNode ? exec.evalExpr(branchesNode) : OPAQUE;
  const inputs = (branches.t === 'list' ? branches.items : [branches]).flatMap((branch): GraphNode[] => {
    if (branch.t === 'sequential') return mergeBranch(exec, branch.seq);
    if (branch.t === 'graph') return branch.outputs;
    return producersOf(branch);
  });
  const modeNode = args.keywords.get('mode') ?? args.positional[1];
  const mode = modeNode ? exec.constOf(modeNode) : 'sum';
  const className = typeof mode === 'string' ? KERAS1_MERGE_MODES[mode] : undefined;
  const range = rangeOf(call);
  if (!className) {
    const layer = makeLayer({ kind: 'unknown', className: written, range });
    const what = `${written} with mode ${modeNode?.text ?? 'unknown'}`;
    return { t: 'tensor', producers: [exec.newNode(layer, inputs, call, exec.marks, null, [{ what, range }])] };
  }
  const axis = className === 'Concatenate' ? exec.constOf(args.keywords.get('concat_axis') ?? call) : undefined;
  const layer = mergeLayer(className, written, range, typeof axis === 'number' ? axis : className === 'Concatenate' ? -1 : null);
  return { t: 'tensor', producers: [exec.newNode(layer, inputs, call, exec.marks)] };
}

/**
 * One Sequential branch of a Keras 1 Merge: the model is fed one array per branch (`fit([xa, xb], y)`),
 * so the branch starts at an Input of its own, with the shape its first layer declares; without it
 * the branches would read as one chain.
 */
function mergeBranch(exec: Reader, seq: SequentialBuilder): GraphNode[] {
  const input = exec.newNode(makeLayer({ kind: 'input', className: 'Input', range: rangeOf(seq.call), shape: null }), [], seq.call, exec.marks);
  const outputs = chainSequential(exec, seq, [input], exec.marks);
  const first = readerOf(outputs, input);
  const declared = seq.builtShape ?? first?.declaredInput ?? null;
  input.declaredInput = declared;
  if (input.layer.kind === 'input') input.layer.shape = declared;
  return outputs;
}

/** The node, among `outputs` and their ancestors, that reads `source`. */
function readerOf(outputs: GraphNode[], source: GraphNode): GraphNode | null {
  const seen = new Set<GraphNode>();
  const stack = [...outputs];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (seen.has(node)) continue;
    seen.add(node);
    if (node.inputs.includes(source)) return node;
    stack.push(...node.inputs);
  }
  return null;
}

/** Calls that make position indices 0..n-1 (the keras.io TokenAndPositionEmbedding's `tf.range(start=0, limit=maxlen)`). */
const POSITION_RANGES: ReadonlySet<string> = new Set(['tensorflow.range', 'keras.ops.arange', 'keras.backend.arange', 'numpy.arange']);

/**
 * `x + self.pos_emb(positions)`: the Embedding of position indices as a learned table added to `tensor`
 * (a 'position-embedding' layer reading it), with the Embedding's sizes, name and initializer.
 */
function addedTable(exec: Reader, factory: LayerFactory, tensor: Extract<Value, { t: 'tensor' }>, node: Node): Value {
  const built = buildLayer(factory.call, factory.className, factory.written, factory.ctx).layer;
  const layer = makeLayer({ kind: 'position-embedding', className: factory.written, range: built.range, name: built.name || (factory.boundName ?? ''), units: built.units, positions: built.inFeatures, kernelInit: built.kernelInit });
  return { t: 'tensor', producers: [exec.newNode(layer, tensor.producers, node, mergeMarks(factory.marks, exec.marks))] };
}

/**
 * `x + shortcut` and friends: between tensors, `+ - *` are Add / Subtract / Multiply merges; a
 * constant factor, divisor or offset on a tensor (`0.5 * z`, `z / 2`, `1 + z`) is a rescaling layer.
 * Anything else passes the tensors through, except in a Lambda's function, where it is noted as unread.
 */
export function tensorOperator(exec: Reader, op: string, operands: Value[], node: Node): Value {
  const inputs = operands.flatMap(producersOf);
  const range = rangeOf(node);
  const [a, b] = operands;
  if (op === '+' && operands.length === 2 && a && b) {
    if (a.t === 'tensor' && b.t === 'table') return addedTable(exec, b.factory, a, node);
    if (a.t === 'table' && b.t === 'tensor') return addedTable(exec, a.factory, b, node);
  }
  if (operands.every((o) => o.t === 'tensor') && (op === '+' || op === '*' || op === '-')) {
    const layer = op === '-' ? makeLayer({ kind: 'add', className: op, range, merge: { op: 'subtract', axis: null } }) : makeLayer({ kind: op === '+' ? 'add' : 'multiply', className: op, range });
    return { t: 'tensor', producers: [exec.newNode(layer, inputs, node, exec.marks)] };
  }
  const scaled = constantScaling(op, operands);
  if (scaled && scaled.scale === 1 && scaled.offset === 0) return scaled.tensor;
  if (scaled && scaled.tensor.producers.length === 1) {
    const layer = makeLayer({ kind: 'rescaling', className: node.text.length <= 40 ? node.text : op, range, scale: scaled.scale, offset: scaled.offset, op: 'rescaling' });
    return { t: 'tensor', producers: [exec.newNode(layer, scaled.tensor.producers, node, exec.marks)] };
  }
  unreadOperation(exec, node, operands);
  return { t: 'tensor', producers: inputs };
}

/** `c * x`, `x * c`, `x / c`, `x + c`, `c + x`, `x - c`, `c - x` with a number c: x * scale + offset. */
function constantScaling(op: string, operands: Value[]): { tensor: Extract<Value, { t: 'tensor' }>; scale: number; offset: number } | null {
  const [a, b] = operands;
  if (!a || !b) return null;
  const tensorFirst = a.t === 'tensor';
  const tensor = tensorFirst ? a : b;
  const other = tensorFirst ? b : a;
  if (tensor.t !== 'tensor' || other.t !== 'const' || typeof other.value !== 'number' || !Number.isFinite(other.value)) return null;
  const c = other.value;
  switch (op) {
    case '*':
      return { tensor, scale: c, offset: 0 };
    case '/':
      return tensorFirst && c !== 0 ? { tensor, scale: 1 / c, offset: 0 } : null;
    case '+':
      return { tensor, scale: 1, offset: c };
    case '-':
      return tensorFirst ? { tensor, scale: 1, offset: -c } : { tensor, scale: -1, offset: c };
    default:
      return null;
  }
}

/** A call that is not a known layer: tensors flow through it unchanged (`tf.squeeze(x)`, `x.reshape(..)`). */
export function passthrough(exec: Reader, call: Node, unknownClass: string | null = null): Value {
  const args = callArgs(call);
  const values = [...args.positional, ...args.keywords.values()].map((a) => exec.evalExpr(a));
  unreadOperation(exec, call, values);
  const inputs = values.flatMap(producersOf);
  if (inputs.length > 0) return { t: 'tensor', producers: inputs };
  // `emb = MyEmbed(5000, 32)` then `emb(x)`: a class the reader cannot see (defined nowhere it reads) is an
  // unknown layer where it is applied, with a note, as `MyEmbed(5000, 32)(x)` is: never passed through unseen.
  return unknownClass ? { t: 'layer', factory: { call, className: unknownClass, written: unknownClass, ctx: exec.argContext, marks: exec.marks, boundName: null } } : OPAQUE;
}

/**
 * `SomeLayer(...)(x)`, `block(c, s)(x)` where the reader cannot tell what the first call makes: an
 * unknown layer, reported with its line, never a silent pass-through of the tensor.
 */
export function unknownLayerApplication(exec: Reader, constructor: Node, call: Node): Value {
  const callee = constructor.childForFieldName('function');
  const written = callee?.text ?? constructor.text;
  const args = callArgs(call);
  const input = args.positional[0] ? exec.evalExpr(args.positional[0]) : OPAQUE;
  if (!callee) return OPAQUE;
  // A lower-case callee applied to no tensor (`make_fn(cfg)(options)`) is no layer.
  if (!/^[A-Z]/.test(lastSegment(written)) && producersOf(input).length === 0) return OPAQUE;
  return unknownLayer(exec, written, constructor, producersOf(input));
}

/**
 * `x = inverted(x, 16, 3)` where `inverted` holds something the reader cannot follow (a
 * functools.partial, an unknown parameter): an unknown layer on the tensors passed, reported, never a
 * silent pass-through; null when no tensor is passed.
 */
export function unknownCallOnTensors(exec: Reader, call: Node, written: string): Value | null {
  const args = callArgs(call);
  const inputs = [...args.positional, ...args.keywords.values()].flatMap((a) => producersOf(exec.evalExpr(a)));
  return inputs.length > 0 ? unknownLayer(exec, written, call, inputs) : null;
}

/** An unknown layer made at `origin`, with the note that names it there. */
function unknownLayer(exec: Reader, written: string, origin: Node, inputs: GraphNode[]): Value {
  const range = rangeOf(origin);
  const layer = makeLayer({ kind: 'unknown', className: written, range });
  return { t: 'tensor', producers: [exec.newNode(layer, inputs, origin, exec.marks, null, [{ what: `layer ${written}`, range }])] };
}
