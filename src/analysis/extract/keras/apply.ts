/**
 * Applying what the executor holds to tensors: layer constructors become graph nodes, Sequentials
 * chain their layers, functional sub-models are rewired onto new inputs, and the file's own helper
 * functions, methods and custom layers are inlined with their arguments bound.
 */
import { cloneLayer } from '../../../shared/layers';
import type { Node } from 'web-tree-sitter';
import { rangeOf } from '../../python/syntax';
import { makeLayer } from '../builders';
import { Executor, mergeMarks, type CallValues, NO_ARGUMENTS, MAX_INLINE_DEPTH } from './executor';
import { buildLayer } from './layers';
import { callArgs } from '../../python/syntax-cache';
import { OPAQUE, producersOf, type ClosureFrame, type FlowMarks, type GraphNode, type LayerFactory, type SequentialBuilder, type Value } from './values';

/**
 * `base_model.output` (transfer learning in the Keras 2 functional style): the model or layer,
 * applied once to its own input. Read once per value so `.output` used twice is one node.
 */
export function outputOf(exec: Executor, value: Value): Value {
  if (value.t !== 'layer' && value.t !== 'sequential') return OPAQUE;
  const key = value.t === 'layer' ? value.factory : value.seq;
  let producers = exec.state.appliedOutputs.get(key);
  if (!producers) {
    producers = value.t === 'layer' ? [instantiate(exec, value.factory, [], exec.marks)] : chainSequential(exec, value.seq, [], exec.marks);
    exec.state.appliedOutputs.set(key, producers);
  }
  return { t: 'tensor', producers };
}

/** `base_model.input`: the input tensors of a Sequential (its Input layers), or an input of unknown origin. */
export function inputOf(value: Value): Value {
  if (value.t === 'sequential') return { t: 'tensor', producers: value.seq.items.flatMap((i) => (i.value.t === 'tensor' ? i.value.producers : [])) };
  return value.t === 'layer' ? { t: 'tensor', producers: [] } : OPAQUE;
}

export function apply(exec: Executor, callee: Value, call: Node): Value {
  const values = callValues(exec, call);
  const input = values.positional[0] ?? values.keywords.get('inputs') ?? values.keywords.get('x') ?? OPAQUE;
  const inputs = producersOf(input);
  switch (callee.t) {
    case 'layer': {
      // A recurrent layer started from another one's states (`initial_state=encoder_states`) trains it too.
      const states = producersOf(values.keywords.get('initial_state') ?? OPAQUE);
      return { t: 'tensor', producers: [instantiate(exec, callee.factory, [...new Set([...inputs, ...states])], exec.marks)] };
    }
    case 'sequential':
      return { t: 'tensor', producers: chainSequential(exec, callee.seq, inputs, exec.marks) };
    case 'instance':
      return applyInstance(exec, callee, input, values);
    case 'function':
      return inlineFunction(exec, callee.def, values, false, callee.closure);
    case 'graph':
      return { t: 'tensor', producers: applyGraph(exec, callee, inputs) };
    default:
      return inputs.length > 0 ? { t: 'tensor', producers: inputs } : OPAQUE;
  }
}

/**
 * A functional model applied to new inputs: its layers between inputs and outputs, copied and
 * rewired onto `inputs` (the same layer objects seen twice, as Keras shares the weights).
 * Applied to its own inputs, it is simply its outputs.
 */
function applyGraph(exec: Executor, graph: Extract<Value, { t: 'graph' }>, inputs: GraphNode[]): GraphNode[] {
  const sameInputs = inputs.length === graph.inputs.length && inputs.every((n, i) => n === graph.inputs[i]);
  if (sameInputs || inputs.length === 0) return graph.outputs;
  const mapped = new Map<GraphNode, GraphNode[]>();
  // Each Input of the sub-model is replaced by the tensor given in its place.
  graph.inputs.forEach((input, i) => mapped.set(input, inputs[i] ? [inputs[i]] : inputs));
  const inside = new Set<GraphNode>();
  const visit = (node: GraphNode) => {
    if (inside.has(node) || mapped.has(node)) return;
    inside.add(node);
    node.inputs.forEach(visit);
  };
  graph.outputs.forEach(visit);
  for (const node of [...inside].sort((a, b) => a.seq - b.seq)) {
    const copy = exec.newNode(cloneLayer(node.layer), node.inputs.flatMap((i) => mapped.get(i) ?? [i]), node.origin, mergeMarks(node.marks, exec.marks), null, node.unsupported);
    mapped.set(node, [copy]);
  }
  return graph.outputs.flatMap((o) => mapped.get(o) ?? [o]);
}



export function instantiate(exec: Executor, factory: LayerFactory, inputs: GraphNode[], marks: FlowMarks): GraphNode {
  const built = buildLayer(factory.call, factory.className, factory.written, factory.ctx);
  if (!built.layer.name && factory.boundName) built.layer.name = factory.boundName;
  return exec.newNode(built.layer, inputs, factory.call, mergeMarks(factory.marks, marks), built.declaredInput, built.unsupported);
}

/** Applies a Sequential's layers one after the other; returns the last node(s). */
export function chainSequential(exec: Executor, seq: SequentialBuilder, inputs: GraphNode[], marks: FlowMarks): GraphNode[] {
  let previous = inputs;
  for (const item of seq.items) previous = chainItem(exec, item.value, item.node, previous, mergeMarks(item.marks, marks));
  return previous;
}

function chainItem(exec: Executor, value: Value, node: Node, previous: GraphNode[], marks: FlowMarks): GraphNode[] {
  switch (value.t) {
    case 'layer':
      return [instantiate(exec, value.factory, previous, marks)];
    case 'tensor':
      return value.producers;
    case 'sequential':
      return chainSequential(exec, value.seq, previous, marks);
    case 'instance':
      return producersOf(applyInstance(exec, value, { t: 'tensor', producers: previous }, NO_ARGUMENTS));
    case 'list':
      return value.items.reduce((prev, item) => chainItem(exec, item, node, prev, marks), previous);
    default: {
      const written = node.type === 'call' ? (node.childForFieldName('function')?.text ?? node.text) : node.text.slice(0, 60);
      const range = rangeOf(node);
      const layer = makeLayer({ kind: 'unknown', className: written, range });
      const what = `layer ${written}`;
      return [exec.newNode(layer, previous, node, marks, null, [{ what, range }])];
    }
  }
}

function childExecutor(exec: Executor, def: Node, selfEnv: Map<string, Value>, classDef: Node | null, closure?: ClosureFrame): Executor {
  const scope = exec.state.scopeInside(def, closure?.scope);
  const active = new Set(exec.options.active);
  active.add(def.id);
  const child = new Executor(exec.state, { selfEnv, classDef, depth: exec.options.depth + 1, emit: false, scopeNode: def, active }, scope, exec.marks);
  // The defining call's layers, helpers and dicts, as they are when the closure runs (Python binds late).
  if (closure) for (const [name, value] of closure.env) child.env.set(name, value);
  return child;
}

export function callValues(exec: Executor, call: Node): CallValues {
  const args = callArgs(call);
  const keywords = new Map([...args.keywords].map(([k, v]): [string, Value] => [k, exec.evalExpr(v)]));
  // `helper(**params)` with a dict the reader holds: its entries are keyword arguments.
  for (const splat of args.splats) {
    if (splat.type !== 'dictionary_splat') continue;
    const inner = splat.namedChild(0);
    const dict = inner ? exec.evalExpr(inner) : OPAQUE;
    if (dict.t === 'dict') for (const [k, v] of dict.entries) if (!keywords.has(k)) keywords.set(k, v);
  }
  return { positional: args.positional.map((a) => exec.evalExpr(a)), keywords };
}

/** Reads a helper function / method of this file with the call's arguments bound. */
export function inlineFunction(exec: Executor, def: Node, values: CallValues, isMethod: boolean, closure?: ClosureFrame): Value {
  const { positional, keywords } = values;
  if (exec.options.depth >= MAX_INLINE_DEPTH || exec.options.active.has(def.id)) {
    const inputs = [...positional, ...keywords.values()].flatMap(producersOf);
    return inputs.length > 0 ? { t: 'tensor', producers: inputs } : OPAQUE;
  }
  const child = childExecutor(exec, def, isMethod ? exec.options.selfEnv : new Map<string, Value>(), isMethod ? exec.options.classDef : null, closure);
  child.bindParameters(def, positional, keywords, isMethod || exec.state.isMethod(def));
  child.execBlock(def.childForFieldName('body'));
  return child.returned ?? OPAQUE;
}

/**
 * Applies an instance of a class of this file (custom layer / sub-model): reads its __init__
 * with the constructor's arguments, then its call() with the input. A custom layer whose call
 * applies no known layer (own weights, raw tf ops) becomes one 'unknown' layer, reported.
 */
function applyInstance(exec: Executor, instance: Extract<Value, { t: 'instance' }>, input: Value, extra: CallValues): Value {
  const { classDef } = instance;
  const callDef = exec.state.methodOf(classDef, 'call') ?? exec.state.methodOf(classDef, '__call__');
  const className = classDef.childForFieldName('name')?.text ?? 'Layer';
  const range = rangeOf(instance.call);
  const unknown = (): Value => {
    const layer = makeLayer({ kind: 'unknown', className, range, name: instance.boundName ?? '' });
    const why = exec.state.hasOwnWeights(classDef) ? 'it creates its own weights' : 'its call() applies no known layer';
    const what = `custom layer ${className} (${why})`;
    return { t: 'tensor', producers: [exec.newNode(layer, producersOf(input), instance.call, mergeMarks(instance.marks, exec.marks), null, [{ what, range }])] };
  };
  if (!callDef || exec.state.hasOwnWeights(classDef) || exec.options.depth >= MAX_INLINE_DEPTH || exec.options.active.has(classDef.id)) return unknown();
  const selfEnv = new Map<string, Value>();
  const initDef = exec.state.methodOf(classDef, '__init__');
  const savedMarks = exec.marks;
  exec.marks = mergeMarks(instance.marks, exec.marks);
  const recorder: GraphNode[] = [];
  exec.state.recorders.push(recorder);
  try {
    if (initDef) {
      const init = childExecutor(exec, initDef, selfEnv, classDef);
      init.options.active.add(classDef.id);
      init.bindParameters(initDef, instance.args.positional, instance.args.keywords, true);
      init.execBlock(initDef.childForFieldName('body'));
    }
    // Layers made lazily in build(input_shape) belong to the instance as much as __init__'s.
    const buildDef = exec.state.methodOf(classDef, 'build');
    if (buildDef) {
      const build = childExecutor(exec, buildDef, selfEnv, classDef);
      build.options.active.add(classDef.id);
      build.bindParameters(buildDef, [], new Map(), true, false);
      build.execBlock(buildDef.childForFieldName('body'));
    }
    const runner = childExecutor(exec, callDef, selfEnv, classDef);
    runner.options.active.add(classDef.id);
    runner.bindParameters(callDef, [input, ...extra.positional.slice(1)], extra.keywords, true, false);
    runner.execBlock(callDef.childForFieldName('body'));
    const result = runner.returned ?? OPAQUE;
    return recorder.length === 0 ? unknown() : result;
  } finally {
    exec.state.recorders.splice(exec.state.recorders.indexOf(recorder), 1);
    exec.marks = savedMarks;
  }
}
