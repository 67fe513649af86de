/**
 * Keras `Lambda(fn)` layers whose function is written in the workspace (a `def` of the file or a
 * `lambda` expression): the function runs on the reader with the layer's input, so the layer becomes
 * the graph it computes (activations such as `K.exp`, `+ - *` between tensors as merge layers, a
 * constant factor as a rescaling layer, noise drawn with `K.random_normal` as an input fed N(0, 1)).
 * A function doing anything the reader cannot follow (slicing, `K.mean`, an unknown call on a tensor)
 * leaves the Lambda one unknown layer, with the construct and its line named.
 */
import type { Node } from '../../python/syntax-tree';
import type { Range } from '../../../shared/ir';
import { NOISE_INPUT } from '../../../shared/layers';
import { layerOutput, UNKNOWN_FLOW, type Flow, type Shape, type ShapeContext } from '../../../shared/shapes';
import type { ExtractionState } from './state';
import { rangeOf, unparen } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { makeLayer } from '../builders';
import type { Reader } from './executor';
import { runFunction } from './apply';
import { buildLayer } from './layers';
import { OPAQUE, producersOf, type FlowMarks, type GraphNode, type LayerFactory, type Value } from './values';

/** What a Lambda's function did that the reader cannot turn into layers. */
export interface UnreadOperation {
  what: string;
  range: Range;
}

/** Notes an operation on tensors the reader does not model, when a Lambda's function is being read. */
export function unreadOperation(exec: Reader, node: Node, values: Value[]): void {
  const open = exec.state.lambdaReads.at(-1);
  if (!open || !values.some((v) => producersOf(v).length > 0)) return;
  const text = node.type === 'call' ? (node.childForFieldName('function')?.text ?? node.text) : node.text;
  open.push({ what: text.length > 40 ? `${text.slice(0, 40)}...` : text, range: rangeOf(node) });
}

/** Whether a Lambda's function is being read (tensor operations it cannot follow are then noted, not passed through). */
export function readingLambda(exec: Reader): boolean {
  return exec.state.lambdaReads.length > 0;
}

/** The function a `Lambda(...)` call wraps, when the workspace writes it: a lambda expression or a function value. */
function lambdaFunction(exec: Reader, factory: LayerFactory): Extract<Value, { t: 'function' }> | null {
  const args = callArgs(factory.call);
  const written = args.positional[0] ?? args.keywords.get('function');
  if (!written) return null;
  const node = unparen(written);
  // A lambda expression sees the names of the function that writes it (`lambda t: tf.tile(t, [1, size, size, 1])`).
  const value = node.type === 'lambda' ? exec.ev.functionValue(node, exec.f) : exec.evalExpr(written);
  return value.t === 'function' ? value : null;
}

/**
 * The nodes a Lambda computes on `input` (a tensor, or a list of tensors passed as one argument), or
 * null when its function is not in the workspace. An unreadable function gives one unknown layer that
 * names what could not be read.
 */
export function applyLambda(exec: Reader, factory: LayerFactory, input: Value, marks: FlowMarks): GraphNode[] | null {
  if (factory.className !== 'Lambda') return null;
  // `Lambda(lambda x: x / 255.0)`: the pixel scaling layers.ts already knows.
  if (buildLayer(factory.call, factory.className, factory.written, factory.ctx).layer.kind !== 'unknown') return null;
  const fn = lambdaFunction(exec, factory);
  if (!fn) return null;
  const keywords = new Map<string, Value>();
  const extra = callArgs(factory.call).keywords.get('arguments');
  if (extra) {
    const dict = exec.evalExpr(extra);
    if (dict.t === 'dict') for (const [k, v] of dict.entries) keywords.set(k, v);
  }
  const reads: UnreadOperation[] = [];
  const recorder: GraphNode[] = [];
  exec.state.lambdaReads.push(reads);
  exec.state.recorders.push(recorder);
  const saved = exec.marks;
  exec.marks = marks;
  let result: Value;
  try {
    result = runFunction(exec, fn.def, { positional: [input], keywords, partial: false }, fn.receiver ?? null, fn.closure);
  } finally {
    exec.marks = saved;
    exec.state.recorders.splice(exec.state.recorders.indexOf(recorder), 1);
    exec.state.lambdaReads.pop();
  }
  const outputs = producersOf(result);
  const inputs = producersOf(input);
  if (reads.length === 0 && outputs.length === 1) return outputs;
  // Nothing the function made stays in the model: the Lambda is one unknown layer.
  const made = new Set(recorder);
  for (const list of exec.state.recorders) {
    for (let i = list.length - 1; i >= 0; i--) if (made.has(list[i]!)) list.splice(i, 1);
  }
  const range = rangeOf(factory.call);
  const name = fn.def.type === 'lambda' ? 'lambda' : (fn.def.childForFieldName('name')?.text ?? 'function');
  const first = reads[0];
  const why = first
    ? `${first.what} (line ${first.range.start.line + 1}) is not an operation the probe can read`
    : outputs.length === 0 ? 'it returns no tensor the reader can follow' : 'it returns several tensors';
  const layer = makeLayer({ kind: 'unknown', className: `${factory.written}(${name})`, range, name: factory.boundName ?? '' });
  return [exec.newNode(layer, inputs, factory.call, marks, null, [{ what: `${factory.written}(${name}): ${why}`, range: first?.range ?? range }])];
}

/** Functions that give a tensor's shape as a tensor (`K.shape(x)[0]`): sizes, not values that flow through the model. */
export const SHAPE_FUNCTIONS: ReadonlySet<string> = new Set(['keras.backend.shape', 'tensorflow.shape', 'keras.ops.shape']);

const NOISE_FUNCTIONS = new Set(['keras.backend.random_normal', 'tensorflow.random.normal', 'tensorflow.random_normal', 'keras.random.normal']);

/**
 * `K.random_normal(shape=(batch, dim), mean=0., stddev=1.)` in model code: an input of random numbers
 * fed N(0, 1) that no gradient reaches, shaped by its `shape=` without the batch entry when that is
 * constant (else by what it is joined with); a mean or spread other than 0 and 1 is a rescaling of it.
 */
export function noiseCall(exec: Reader, q: string, written: string, call: Node): Value | null {
  if (!NOISE_FUNCTIONS.has(q)) return null;
  const args = callArgs(call);
  const shapeNode = args.positional[0] ?? args.keywords.get('shape');
  const shapeNode0 = shapeNode ? unparen(shapeNode) : null;
  let shape: Shape | null = null;
  if (shapeNode0 && (shapeNode0.type === 'tuple' || shapeNode0.type === 'list')) {
    const dims = shapeNode0.namedChildren.filter((c) => c.type !== 'comment').slice(1).map((c) => {
      const v = exec.evalExpr(c);
      return v.t === 'const' ? v.value : undefined;
    });
    if (dims.length > 0 && dims.every((d): d is number => typeof d === 'number')) shape = dims;
  } else if (shapeNode0?.type === 'call' && SHAPE_FUNCTIONS.has(exec.state.symbolsAt(shapeNode0).qualified(shapeNode0.childForFieldName('function')) ?? '')) {
    // `shape=K.shape(mu)`: as many numbers as mu has.
    const of = callArgs(shapeNode0).positional[0];
    shape = of ? staticShape(exec, exec.evalExpr(of)) : null;
  }
  const range = rangeOf(call);
  const noise = exec.newNode(makeLayer({ kind: 'input', className: NOISE_INPUT, name: written, range, shape }), [], call, exec.marks, shape);
  const mean = exec.constOf(args.keywords.get('mean') ?? args.positional[1] ?? null) ?? 0;
  const std = exec.constOf(args.keywords.get('stddev') ?? args.keywords.get('std') ?? args.positional[2] ?? null) ?? 1;
  if (typeof mean !== 'number' || typeof std !== 'number') {
    const layer = makeLayer({ kind: 'unknown', className: `${written} with a computed mean or spread`, range });
    return { t: 'tensor', producers: [exec.newNode(layer, [noise], call, exec.marks, null, [{ what: `${written}: mean or stddev not a constant`, range }])] };
  }
  if (mean === 0 && std === 1) return { t: 'tensor', producers: [noise] };
  const scaled = makeLayer({ kind: 'rescaling', className: written, range, scale: std, offset: mean, op: 'rescaling' });
  return { t: 'tensor', producers: [exec.newNode(scaled, [noise], call, exec.marks)] };
}

/**
 * `K.int_shape(x)` on a tensor of the graph: its static shape with the batch as None, computed with the
 * shape module from the shapes its inputs declare. Unknown (opaque) unless every other entry is known.
 */
export function intShape(exec: Reader, call: Node): Value {
  const arg = callArgs(call).positional[0];
  return arg ? staticShapeValue(exec, exec.evalExpr(arg)) : OPAQUE;
}

/** A tensor's static shape as Keras gives it, `(None, d1, d2, ...)`; opaque unless every other entry is known. */
export function staticShapeValue(exec: Reader, value: Value): Value {
  const shape = staticShape(exec, value);
  return shape ? { t: 'const', value: [null, ...shape] } : OPAQUE;
}

/** A key for a range (where an Input layer is written). */
export function rangeKey(range: Range): string {
  return `${range.start.line}:${range.start.character}`;
}

/** How the analyzer computes Keras shapes: channels last unless a layer's data_format says otherwise. */
const KERAS_SHAPES: ShapeContext = { layout: 'channels_last', framework: 'keras', honourDataFormat: true, nextKind: null };

/**
 * The per-example shape of one tensor of the graph, when every entry is known from the shapes its
 * inputs declare (computed once per graph node with the shared shape rules). An Input the code leaves
 * without a shape takes the guess the extraction assumes for it (a second read, see keras.ts), else it
 * is noted as needed.
 */
export function staticShape(exec: Reader, value: Value): number[] | null {
  const producers = producersOf(value);
  const target = producers[0];
  if (value.t !== 'tensor' || producers.length !== 1 || !target) return null;
  const shape = flowOf(exec.state, target).shape;
  return shape?.every((d): d is number => typeof d === 'number') ? shape : null;
}

function flowOf(state: ExtractionState, target: GraphNode): Flow {
  const flows = state.flows;
  // Inputs first, without recursion (a deep ResNet chains hundreds of nodes).
  const stack: GraphNode[] = [target];
  while (stack.length > 0) {
    const node = stack[stack.length - 1]!;
    if (flows.has(node)) {
      stack.pop();
      continue;
    }
    const pending = node.inputs.filter((i) => !flows.has(i));
    if (pending.length > 0) {
      stack.push(...pending);
      continue;
    }
    stack.pop();
    const inputs = node.inputs.length > 0 ? node.inputs.map((i) => flows.get(i) ?? UNKNOWN_FLOW) : [sourceFlow(state, node)];
    flows.set(node, layerOutput(node.layer, inputs, KERAS_SHAPES));
  }
  return flows.get(target) ?? UNKNOWN_FLOW;
}

/** What a node that reads no other node starts from: the shape it declares, or the guess assumed for an Input without one. */
function sourceFlow(state: ExtractionState, node: GraphNode): Flow {
  let shape = node.declaredInput;
  if (shape === null && node.layer.kind === 'input' && node.layer.className !== NOISE_INPUT) {
    const key = rangeKey(node.layer.range);
    const assumed = state.assumedInputs.get(node.origin.startIndex);
    if (assumed) {
      shape = assumed.shape;
      state.usedInputs.set(key, node.origin.startIndex);
    } else state.unknownInputs.set(key, node.origin.startIndex);
  }
  return shape ? { shape, rankKnown: true } : UNKNOWN_FLOW;
}
