/**
 * Applying what the reader holds to tensors: layer constructors become graph nodes, Sequentials
 * chain their layers, functional sub-models are rewired onto new inputs, and the file's own helper
 * functions, methods and custom layers run on the evaluation core with their actual arguments.
 */
import { cloneLayer } from '../../../shared/layers';
import type { Node } from '../../python/syntax-tree';
import type { CallArgs } from '../../python/evaluator';
import { rangeOf } from '../../python/syntax';
import { makeLayer } from '../builders';
import { mergeMarks, MAX_INLINE_DEPTH, type KerasCall, type Reader } from './executor';
import { buildLayer } from './layers';
import { layerSpec } from './catalog';
import { applyLambda } from './lambda';
import { OPAQUE, producersOf, type ClosureFrame, type FlowMarks, type GraphNode, type LayerFactory, type Receiver, type SequentialBuilder, type Value } from './values';
import { sourceSnippet } from '../../../shared/source-snippet';

const NO_ARGUMENTS: CallArgs<Value> = { positional: [], keywords: new Map(), partial: false };

/**
 * `base_model.output` (transfer learning in the Keras 2 functional style): the model or layer,
 * applied once to its own input. Read once per value so `.output` used twice is one node.
 */
export function outputOf(exec: Reader, value: Value): Value {
  // A functional model's output is its graph's (`left.output` merged into a larger model).
  if (value.t === 'graph') return { t: 'tensor', producers: value.outputs };
  if (value.t !== 'layer' && value.t !== 'sequential') return OPAQUE;
  const key = value.t === 'layer' ? value.factory : value.seq;
  let producers = exec.state.appliedOutputs.get(key);
  if (!producers) {
    producers = value.t === 'layer' ? [instantiate(exec, value.factory, [], exec.marks)] : chainSequential(exec, value.seq, [], exec.marks);
    exec.state.appliedOutputs.set(key, producers);
  }
  return { t: 'tensor', producers };
}

/** `base_model.input`: the input tensors of a Sequential (its Input layers) or a functional model, or an input of unknown origin. */
export function inputOf(value: Value): Value {
  if (value.t === 'graph') return { t: 'tensor', producers: value.inputs };
  if (value.t === 'sequential') return { t: 'tensor', producers: value.seq.items.flatMap((i) => (i.value.t === 'tensor' ? i.value.producers : [])) };
  return value.t === 'layer' ? { t: 'tensor', producers: [] } : OPAQUE;
}

export function apply(exec: Reader, callee: Value, call: Node): Value {
  // The arguments first: in `discriminator(generator(z))` only the discriminator's layers are frozen.
  const values = exec.ev.evalArgs(call.childForFieldName('arguments'), exec.f);
  return exec.state.freezingWhile(exec.state.frozenNow(callee), () => applyValue(exec, callee, call, values));
}

function applyValue(exec: Reader, callee: Value, call: Node, values: CallArgs<Value>): Value {
  const input = values.positional[0] ?? values.keywords.get('inputs') ?? values.keywords.get('x') ?? OPAQUE;
  const inputs = producersOf(input);
  switch (callee.t) {
    case 'layer': {
      const kind = layerSpec(callee.factory.className)?.kind;
      if (kind === 'attention') return attend(exec, callee.factory, values);
      if (kind === 'embedding' && input.t === 'positions') return { t: 'table', factory: callee.factory };
      const computed = applyLambda(exec, callee.factory, input, mergeMarks(callee.factory.marks, exec.marks));
      if (computed) return { t: 'tensor', producers: computed };
      // A recurrent layer started from another one's states (`initial_state=encoder_states`) trains it too.
      const states = producersOf(values.keywords.get('initial_state') ?? OPAQUE);
      return { t: 'tensor', producers: [instantiate(exec, callee.factory, [...new Set([...inputs, ...states])], exec.marks)] };
    }
    case 'sequential':
      return { t: 'tensor', producers: chainSequential(exec, callee.seq, inputs, exec.marks) };
    case 'instance':
      return applyInstance(exec, callee, input, values);
    case 'function':
      exec.state.witness(call, values);
      return inlineFunction(exec, callee.def, values, callee.receiver ?? null, callee.closure);
    case 'class':
      // Constructor arguments are read now; __init__ runs when the instance is applied (as for `Block(c)`).
      return { t: 'instance', classDef: callee.classDef, call, args: values, marks: exec.marks, boundName: null };
    case 'graph':
      return { t: 'tensor', producers: applyGraph(exec, callee, inputs) };
    default:
      return inputs.length > 0 ? { t: 'tensor', producers: inputs } : OPAQUE;
  }
}

/**
 * `mha(query, value, key=None, ..., return_attention_scores=False, use_causal_mask=False)`: one attention
 * node fed by its distinct inputs in the order query, key, value (self-attention reads one tensor; the
 * key is the value when not given). With return_attention_scores=True it returns (output, scores), the
 * scores unknown.
 */
function attend(exec: Reader, factory: LayerFactory, values: CallArgs<Value>): Value {
  const query = values.positional[0] ?? values.keywords.get('query') ?? OPAQUE;
  const value = values.positional[1] ?? values.keywords.get('value') ?? query;
  const key = values.positional[2] ?? values.keywords.get('key') ?? value;
  const inputs = [...new Set([query, key, value].flatMap(producersOf))];
  const node = instantiate(exec, factory, inputs, exec.marks);
  const flag = (name: string) => { const v = values.keywords.get(name); return v?.t === 'const' && v.value === true; };
  if (node.layer.kind === 'attention' && flag('use_causal_mask')) node.layer.attention.causal = true;
  const out: Value = { t: 'tensor', producers: [node] };
  return flag('return_attention_scores') ? { t: 'list', items: [out, OPAQUE] } : out;
}

/**
 * A functional model applied to new inputs: its layers between inputs and outputs, copied and
 * rewired onto `inputs` (the same layer objects seen twice, as Keras shares the weights).
 * Applied to its own inputs, it is simply its outputs.
 */
function applyGraph(exec: Reader, graph: Extract<Value, { t: 'graph' }>, inputs: GraphNode[]): GraphNode[] {
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
    const copy = exec.newNode(cloneLayer(node.layer), node.inputs.flatMap((i) => mapped.get(i) ?? [i]), node.origin, mergeMarks(node.marks, exec.marks), null, node.unsupported, node.owner ?? node);
    mapped.set(node, [copy]);
  }
  return graph.outputs.flatMap((o) => mapped.get(o) ?? [o]);
}



export function instantiate(exec: Reader, factory: LayerFactory, inputs: GraphNode[], marks: FlowMarks): GraphNode {
  const built = buildLayer(factory.call, factory.className, factory.written, factory.ctx);
  if (!built.layer.name && factory.boundName) built.layer.name = factory.boundName;
  return exec.newNode(built.layer, inputs, factory.call, mergeMarks(factory.marks, marks), built.declaredInput, built.unsupported, factory);
}

/** Applies a Sequential's layers one after the other; returns the last node(s). */
export function chainSequential(exec: Reader, seq: SequentialBuilder, inputs: GraphNode[], marks: FlowMarks): GraphNode[] {
  let previous = inputs;
  for (const item of seq.items) previous = exec.state.freezingWhile(item.frozen === true, () => chainItem(exec, item.value, item.node, previous, mergeMarks(item.marks, marks)));
  return previous;
}

function chainItem(exec: Reader, value: Value, node: Node, previous: GraphNode[], marks: FlowMarks): GraphNode[] {
  // A layer another file's code made for this list is shown on the item's line.
  return exec.state.atHome(node, () => chainValue(exec, value, node, previous, marks));
}

function chainValue(exec: Reader, value: Value, node: Node, previous: GraphNode[], marks: FlowMarks): GraphNode[] {
  switch (value.t) {
    case 'layer':
      return applyLambda(exec, value.factory, { t: 'tensor', producers: previous }, mergeMarks(value.factory.marks, marks)) ?? [instantiate(exec, value.factory, previous, marks)];
    case 'tensor':
      return value.producers;
    case 'sequential':
      return chainSequential(exec, value.seq, previous, marks);
    case 'instance':
      return producersOf(applyInstance(exec, value, { t: 'tensor', producers: previous }, NO_ARGUMENTS));
    case 'list':
      return value.items.reduce((prev, item) => chainItem(exec, item, node, prev, marks), previous);
    default: {
      const written = sourceSnippet(node.type === 'call' ? (node.childForFieldName('function')?.text ?? node.text) : node.text);
      const range = rangeOf(node);
      const layer = makeLayer({ kind: 'unknown', className: written, range });
      const what = `layer ${written}`;
      return [exec.newNode(layer, previous, node, marks, null, [{ what, range }])];
    }
  }
}

/**
 * Runs a function of the workspace on the core with the call's arguments: a method gets its `self`
 * first, with the attributes of the instance it was read off (`receiver`), or none the reader knows.
 */
export function runFunction(exec: Reader, def: Node, values: CallArgs<Value>, receiver: Receiver | null, closure?: ClosureFrame): Value {
  const args = receiver || exec.state.isMethod(def) ? { ...values, positional: [OPAQUE, ...values.positional] } : values;
  const call: KerasCall = { def, classDef: receiver?.classDef ?? null, self: receiver?.self ?? new Map<string, Value>(), closure };
  return exec.ev.callFunction(def, args, call, exec.f);
}

/** Runs a helper function / method of this file, unless helpers are nested too deep or it is running already. */
export function inlineFunction(exec: Reader, def: Node, values: CallArgs<Value>, receiver: Receiver | null, closure?: ClosureFrame): Value {
  if (exec.f.inline >= MAX_INLINE_DEPTH || exec.f.active.has(def.id)) {
    const inputs = [...values.positional, ...values.keywords.values()].flatMap(producersOf);
    return inputs.length > 0 ? { t: 'tensor', producers: inputs } : OPAQUE;
  }
  return runFunction(exec, def, values, receiver, closure);
}

/**
 * Applies an instance of a class of this file (custom layer / sub-model): runs its __init__
 * with the constructor's arguments, then its call() with the input. A custom layer whose call
 * applies no known layer (own weights, raw tf ops) becomes one 'unknown' layer, reported.
 */
function applyInstance(exec: Reader, instance: Extract<Value, { t: 'instance' }>, input: Value, extra: CallArgs<Value>): Value {
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
  if (!callDef || exec.state.hasOwnWeights(classDef) || exec.f.inline >= MAX_INLINE_DEPTH || exec.f.active.has(classDef.id)) return unknown();
  // One instance called twice is one layer object: its __init__ ran once, its layers are the same.
  const built = exec.state.instanceSelves.get(instance);
  const self = built ?? new Map<string, Value>();
  exec.state.instanceSelves.set(instance, self);
  // A custom layer of another file: its layers are shown where the model's file makes the instance, when it does.
  const run = (def: Node, args: CallArgs<Value>) => exec.state.atHome(instance.call, () => exec.ev.callFunction(def, { ...args, positional: [OPAQUE, ...args.positional] }, { def, classDef, self, guards: classDef.id }, exec.f));
  const savedMarks = exec.marks;
  exec.marks = mergeMarks(instance.marks, exec.marks);
  const recorder: GraphNode[] = [];
  exec.state.recorders.push(recorder);
  try {
    const initDef = exec.state.methodOf(classDef, '__init__');
    if (initDef && !built) run(initDef, instance.args);
    // Layers made lazily in build(input_shape) belong to the instance as much as __init__'s.
    const buildDef = exec.state.methodOf(classDef, 'build');
    if (buildDef && !built) run(buildDef, { ...NO_ARGUMENTS, optionalUnknown: true });
    // Keras passes call()'s `training` / `mask` itself, whatever their defaults.
    const result = run(callDef, { positional: [input, ...extra.positional.slice(1)], keywords: extra.keywords, partial: extra.partial, optionalUnknown: true });
    return recorder.length === 0 ? unknown() : result;
  } finally {
    exec.state.recorders.splice(exec.state.recorders.indexOf(recorder), 1);
    exec.marks = savedMarks;
  }
}
