/**
 * Turns what the readers found (graph nodes of a Sequential, a functional graph, a subclass's call)
 * into ModelIRs: layer ids and graph inputs, conditional / repeated / unrolled marks relative to
 * the model, unsupported constructs, exports, input shape and shape propagation.
 */
import { isBefore, rangeContains } from '../../../shared/ranges';
import type { Node } from '../../python/syntax-tree';
import type { LayerIR, ModelIR, ModelStyle, Range } from '../../../shared/ir';
import type { PyFile } from '../../python/file';
import { rangeOf, stringValue, unparen } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { returnsOf } from './outline';
import { makeModel } from '../builders';
import { cloneLayer, hasParameters } from '../../../shared/layers';
import { propagateShapes, type Shape } from '../../../shared/shapes';
import { chainSequential } from './apply';
import type { Reader } from './executor';
import type { FunctionalRecord } from './state';
import type { FlowMarks, GraphNode, SequentialBuilder } from './values';

export interface ModelDraft {
  name: string;
  nameNode: Node;
  style: ModelStyle;
  range: Range;
  exports: string[];
  nodes: GraphNode[];
  /** Marks where the model itself is created: layers are conditional / unrolled relative to these. */
  marks: FlowMarks;
  inputShape: Shape | null;
  /** Functional models are graphs by construction; others when their edges are not a plain chain. */
  graph: boolean;
  /** The call that creates the model (`Sequential(...)`, `Model(...)`), whose `name=` the model shows; null for subclasses. */
  call: Node | null;
}


/** Whether a layer's edges are anything but "each layer feeds the next". */
function isChain(layers: LayerIR[]): boolean {
  return layers.every((layer, i) => (i === 0 ? layer.inputs.length === 0 : layer.inputs.length === 1 && layer.inputs[0] === layers[i - 1]!.id));
}

export function finalizeModel(file: PyFile, draft: ModelDraft): ModelIR {
  const nodes = [...new Set(draft.nodes)].sort((a, b) => a.seq - b.seq);
  const ids = new Map(nodes.map((n, i) => [n, `L${i}`]));
  const unsupported: ModelIR['unsupported'] = [];
  const seenWhat = new Set<string>();
  const report = (what: string, range: Range) => {
    if (seenWhat.has(what)) return;
    seenWhat.add(what);
    unsupported.push({ what, range });
  };

  // Copies made by unrolling: nodes made by the same call inside loops the model does not enclose.
  const copies = new Map<number, GraphNode[]>();
  for (const node of nodes) {
    if (node.marks.unrollDepth <= draft.marks.unrollDepth) continue;
    const group = copies.get(node.origin.id) ?? [];
    group.push(node);
    copies.set(node.origin.id, group);
  }

  // The first node of each layer object: a later call of the same object reuses its weights.
  const firstOfOwner = new Map<object, GraphNode>();
  const layers = nodes.map((node): LayerIR => {
    // The copy is this model's own: set in place, not spread into a second copy.
    const layer: LayerIR = cloneLayer(node.layer);
    layer.inputs = node.inputs.flatMap((i) => ids.get(i) ?? []);
    const first = node.owner ? firstOfOwner.get(node.owner) : undefined;
    if (node.owner && !first) firstOfOwner.set(node.owner, node);
    if (first && hasParameters(layer)) layer.sharesWeightsWith = ids.get(first) ?? null;
    if (node.marks.conditions.some((c) => !draft.marks.conditions.includes(c))) layer.conditional = true;
    const loop = node.marks.repeatedLoop;
    if (loop && loop !== draft.marks.repeatedLoop) {
      layer.repeated = true;
      report('layers built in a loop with non-constant bounds (read as one pass)', loop);
    }
    const group = copies.get(node.origin.id);
    const index = group ? group.indexOf(node) : -1;
    if (group && index >= 0) layer.unrolled = { index, count: group.length };
    for (const u of node.unsupported) report(u.what, u.range);
    return layer;
  });

  const model = makeModel({
    name: draft.name,
    framework: 'keras',
    style: draft.style,
    file: file.path,
    range: draft.range,
    nameRange: rangeOf(draft.nameNode),
    layers,
    exports: draft.exports,
    isGraph: draft.graph,
    declaredName: draft.call ? stringValue(callArgs(draft.call).keywords.get('name')) : null,
  });
  model.unsupported = unsupported;
  if (!draft.graph && !isChain(model.layers)) model.isGraph = true;

  const inputShapes = new Map<string, Shape | null>();
  nodes.forEach((node, i) => {
    if (node.declaredInput && (node.layer.kind === 'input' || layers[i]!.inputs.length === 0)) inputShapes.set(`L${i}`, node.declaredInput);
  });
  const firstInput = nodes.find((n) => n.layer.kind === 'input')?.declaredInput ?? null;
  model.inputShape = draft.inputShape ?? firstInput ?? nodes[0]?.declaredInput ?? null;
  // A BatchNormalization(axis=1) there normalizes the channels, as the code orders them.
  if (writtenForTheano(model)) for (const layer of model.layers) if (KERAS1_IMAGE_KINDS.has(layer.kind) || (layer.kind === 'batchnorm' && layer.norm.axis === 1)) layer.dataFormat = 'channels_first';
  propagateShapes(model.layers, model.inputShape, { framework: 'keras', inputShapes });
  return model;
}

/** Keras 1 layer names: `Convolution2D(32, 3, 3, border_mode=...)`, `Convolution3D(32, 3, 3, 3)`. */
const KERAS1_CONV = /(^|\.)(Convolution2D|Deconvolution2D|AtrousConvolution2D|Convolution3D)$/;
/**
 * Layers that take Keras 1's dim_ordering (the global default when the layer does not say), and the
 * concatenation, whose `concat_axis=1` then names the channels, as the code around it orders them.
 */
const KERAS1_IMAGE_KINDS: ReadonlySet<LayerIR['kind']> = new Set(['conv2d', 'conv3d', 'conv-transpose', 'maxpool', 'avgpool', 'global-pool', 'reshape', 'concat']);

/**
 * A Keras 1 conv net written for Theano's dim ordering, the default of early Keras 1 and of many
 * configs: `Convolution2D` (`Convolution3D`) layers that name no dim_ordering, on a declared input that only reads
 * channels-first, (3, 100, 100) or (1, 28, 28) (1, 3 or 4 channels first, a larger side last).
 */
function writtenForTheano(model: ModelIR): boolean {
  const shape = model.inputShape;
  if (shape?.length !== 3 && shape?.length !== 4) return false;
  const first = shape[0];
  const last = shape[shape.length - 1];
  if (first === null || first === undefined || last === null || last === undefined || ![1, 3, 4].includes(first) || last <= 4) return false;
  const convs = model.layers.filter((l) => l.kind === (shape.length === 3 ? 'conv2d' : 'conv3d'));
  return convs.length > 0 && convs.every((l) => KERAS1_CONV.test(l.className) && l.dataFormat === null);
}

/**
 * Who can import the model: a module-level variable exports its name, a module-level function
 * that returns it exports the function's name; anything else exports nothing.
 */
export function exportsFor(scopeNode: Node, name: string, created: Node): string[] {
  if (scopeNode.type === 'module') return /^[A-Za-z_]\w*$/.test(name) ? [name] : [];
  if (scopeNode.type !== 'function_definition') return [];
  const parent = scopeNode.parent?.type === 'decorated_definition' ? scopeNode.parent.parent : scopeNode.parent;
  if (parent?.type !== 'module') return [];
  const fnName = scopeNode.childForFieldName('name')?.text;
  if (!fnName) return [];
  const createdRange = rangeOf(created);
  const returnsIt = returnsOf(scopeNode).some((r) => {
    const value = r.namedChild(0);
    if (!value) return false;
    const v = unparen(value);
    return v.text === name || rangeContains(rangeOf(v), createdRange) || (v.type === 'expression_list' && v.namedChildren.some((c) => c.text === name));
  });
  return returnsIt ? [fnName] : [];
}

/** The name a call's result is bound to: `model = Model(...)` -> model; `return Model(...)` -> the function. */
export function bindingOfCall(call: Node): { name: string; nameNode: Node } | null {
  let cur: Node = call;
  while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
  const parent = cur.parent;
  if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === cur.id) {
    const target = parent.childForFieldName('left');
    if (target && (target.type === 'identifier' || target.type === 'attribute')) return { name: target.text, nameNode: target };
  }
  if (parent?.type === 'return_statement') {
    let fn: Node | null = parent.parent;
    while (fn && fn.type !== 'function_definition') fn = fn.parent;
    const name = fn?.childForFieldName('name');
    if (name) return { name: name.text, nameNode: name };
  }
  return null;
}

export function sequentialModel(file: PyFile, exec: Reader, seq: SequentialBuilder): ModelIR | null {
  if (!seq.binding) return null;
  const recorder: GraphNode[] = [];
  exec.state.recorders.push(recorder);
  try {
    chainSequential(exec, seq, [], seq.marks);
  } finally {
    exec.state.recorders.pop();
  }
  // Input layers made by keras.Input(...) inside the list, and the branches of a Keras 1 Merge, were created before the chain.
  const inputs = ancestors(seq.items.flatMap((item) => (item.value.t === 'tensor' ? item.value.producers : [])));
  const start = rangeOf(seq.call).start;
  const end = rangeOf(seq.lastAdd && isBefore(rangeOf(seq.call).end, rangeOf(seq.lastAdd).end) ? seq.lastAdd : seq.call).end;
  return finalizeModel(file, {
    name: seq.binding.name,
    nameNode: seq.binding.nameNode,
    style: seq.fromList ? 'keras-sequential' : 'keras-add',
    range: { start, end },
    exports: exportsFor(exec.f.scopeNode, seq.binding.name, seq.call),
    nodes: [...inputs, ...recorder],
    marks: seq.marks,
    inputShape: seq.builtShape,
    graph: false,
    call: seq.call,
  });
}

function ancestors(outputs: GraphNode[]): GraphNode[] {
  const seen = new Set<GraphNode>();
  const stack = [...outputs];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...node.inputs);
  }
  return [...seen];
}

export function functionalModel(file: PyFile, record: FunctionalRecord): ModelIR {
  // Unassigned (`Model(inputs, outputs).summary()` beside the compiled `model = Model(...)`): named by
  // its constructor as written, so it never shares a name (and an id) with an assigned model.
  const callee = record.call.childForFieldName('function') ?? record.call;
  const binding = bindingOfCall(record.call) ?? { name: callee.type === 'identifier' || callee.type === 'attribute' ? callee.text : 'model', nameNode: callee };
  const nodes = [...new Set([...record.inputs, ...ancestors(record.outputs)])];
  const scopeRange = rangeOf(record.scopeNode);
  const callRange = rangeOf(record.call);
  // The definition starts at its Input(s); without one, at the first layer written in this scope.
  const inputNodes = nodes.filter((n) => n.layer.kind === 'input');
  let start = callRange.start;
  for (const node of inputNodes.length > 0 ? inputNodes : nodes) {
    const r = node.layer.range;
    if (rangeContains(scopeRange, r) && isBefore(r.start, start)) start = r.start;
  }
  return finalizeModel(file, {
    name: binding.name,
    nameNode: binding.nameNode,
    style: 'keras-functional',
    range: { start, end: callRange.end },
    exports: exportsFor(record.scopeNode, binding.name, record.call),
    nodes,
    marks: record.marks,
    inputShape: null,
    graph: true,
    call: record.call,
  });
}
