/**
 * The Keras reader: hooks on the Python evaluation core (python/evaluator.ts) that say what Keras
 * code means. The core runs the statements, scopes, loops, unknown conditions and calls of the
 * file's functions with their actual arguments; the hooks make its values Keras values (symbolic
 * tensors and the graph nodes that produce them, layer objects not yet applied, Sequential models
 * being built, functional models, instances of the file's custom layers and models) and record where
 * each layer is made relative to the control flow (FlowMarks: unknown conditions, unrolled loops,
 * loops read once). Nothing is executed: every value is a description of the code.
 */
import type { Node } from '../../python/syntax-tree';
import { Scope, subscriptOf, type ConstValue } from '../../python/constants';
import { arithmetic, truthy } from '../../python/constops';
import { EvalNotes, LIMITS } from '../../python/limits';
import { enclosing, rangeOf } from '../../python/syntax';
import { layersLoop, unconditionalIn } from './applications';
import { callArgs } from '../../python/syntax-cache';
import { Evaluator, type BranchState, type CallArgs, type EvalFrame, type DictValue, type Flow, type ListValue } from '../../python/evaluator';
import { isKerasLayerPath } from './activations';
import { layerSpec } from './catalog';
import { evaluateWith, type ArgContext } from './context';
import type { ExtractionState } from './state';
import { apply, inlineFunction, inputOf, outputOf } from './apply';
import { kerasCall, passthrough as passArguments, tensorOperator, unknownCallOnTensors, unknownLayerApplication } from './recognize';
import { lastSegment } from './symbols';
import { intShape, readingLambda, staticShapeValue, unreadOperation } from './lambda';
import { OPAQUE, mergeValues, trainableKey, type ClosureFrame, type FlowMarks, type GraphNode, type SequentialBuilder, type Value } from './values';
import { trainsEachIteration } from '../training/loops';
import { relocateLayer } from '../relocate';
import { PYTHON_BUILTINS } from '../../python/builtins';
import { rethrowCancellation } from '../../cancellation';

const OUTPUT_ATTRIBUTES: ReadonlySet<string> = new Set(['output', 'outputs']);

/** `model` in `model.layers[-1]` (a model's last layer), else null. */
function lastLayerOf(node: Node): Node | null {
  if (node.type !== 'subscript') return null;
  const layers = node.childForFieldName('value');
  const index = node.childForFieldName('subscript');
  if (layers?.type !== 'attribute' || layers.childForFieldName('attribute')?.text !== 'layers' || index?.text.replace(/\s/g, '') !== '-1') return null;
  return layers.childForFieldName('object');
}

/** How deep helper functions / methods / custom layers are inlined. */
export const MAX_INLINE_DEPTH = LIMITS.inlineDepth;

export const NO_MARKS: FlowMarks = { conditions: [], unrollDepth: 0, repeatedLoop: null };

/** A running function of the Keras reader: the core's frame plus where its layers are made and what `self.*` holds. */
export interface KerasFrame extends EvalFrame<Value> {
  marks: FlowMarks;
  /** `self.*` attributes (keys as written, `self.conv1`): shared by the methods of one instance. */
  self: Map<string, Value>;
  /** The class whose methods `self.m(...)` calls run. */
  classDef: Node | null;
  /** The definition (or module) being read. */
  scopeNode: Node;
  /** Definitions being inlined around this frame (recursion guard). */
  active: ReadonlySet<number>;
  /** How many helpers / methods / custom layers are inlined around this frame. */
  inline: number;
  /** Sequential models created here become ModelIRs (null while inlining). */
  sequentials: SequentialBuilder[] | null;
}

/** How a function of the file is entered (the core's `Owner`). */
export interface KerasCall {
  def: Node;
  classDef: Node | null;
  self: Map<string, Value>;
  closure?: ClosureFrame;
  /** Also guards against re-entering this class (custom layers applied inside themselves). */
  guards?: number;
  /** A run of a scope whose models are emitted (a top-level read), with its list of Sequentials. */
  top?: SequentialBuilder[];
}

export function mergeMarks(a: FlowMarks, b: FlowMarks): FlowMarks {
  return {
    conditions: [...new Set([...a.conditions, ...b.conditions])],
    unrollDepth: Math.max(a.unrollDepth, b.unrollDepth),
    repeatedLoop: b.repeatedLoop ?? a.repeatedLoop,
  };
}

/** The constant a value holds: a constant, or a list of constants (`UNITS = [128, 64]`). */
function constantOf(value: Value): ConstValue | undefined {
  if (value.t === 'const') return value.value;
  if (value.t !== 'list') return undefined;
  const items = value.items.map(constantOf);
  return items.every((i) => i !== undefined) ? items : undefined;
}

const constant = (value: ConstValue): Value => ({ t: 'const', value });

/** A layer, model, block function or custom-layer instance: a Python object, true and never None. */
function isObject(value: Value): boolean {
  return value.t === 'layer' || value.t === 'sequential' || value.t === 'graph' || value.t === 'instance' || value.t === 'function' || value.t === 'class';
}

/** Builtins whose result the reader needs to unroll loops (when the file does not define the name). */
const ITERATION_BUILTINS = new Set(['range', 'enumerate', 'zip', 'reversed', 'len', 'list', 'tuple']);

/** numpy calls that make an array of the sizes they are given (`np.asarray(x.shape[1:], dtype=np.int)`): those sizes, to the reader. */
const ARRAY_OF_SIZES: ReadonlySet<string> = new Set(['numpy.asarray', 'numpy.array']);

export class KerasEvaluator extends Evaluator<Value, KerasFrame, KerasCall> {
  private nextCondition = -1;
  private readonly savedMarks: FlowMarks[] = [];
  private expressionDepth = 0;

  constructor(readonly state: ExtractionState) {
    super(state.notes);
  }

  // ---------------------------------------------------------------- the value model

  readonly unknown = OPAQUE;
  constant(c: ConstValue): Value {
    return constant(c);
  }
  constOf(v: Value): ConstValue | undefined {
    return constantOf(v);
  }
  protected container(c: ListValue<Value> | DictValue<Value>): Value {
    return c;
  }
  /** A nested def sees the names of the call that defined it as they are when it runs (Python binds late). */
  functionValue(def: Node, f: KerasFrame): Value {
    return f.depth === 0 ? { t: 'function', def } : { t: 'function', def, closure: f };
  }
  opaque(): Value {
    return OPAQUE;
  }
  merge(values: Value[]): Value {
    const first = values[0];
    if (!first) return OPAQUE;
    const consts = values.map(constantOf);
    // Constants agree or are unknown afterwards (which branch ran is unknown).
    if (consts.every((c) => c !== undefined)) return consts.every((c) => JSON.stringify(c) === JSON.stringify(consts[0])) ? first : OPAQUE;
    if (values.some((v) => v.t === 'tensor')) return mergeValues(values);
    const objects = values.filter((v) => v.t !== 'opaque' && v.t !== 'const');
    if (objects.length === 0) return OPAQUE;
    return mergeValues(objects);
  }
  truth(v: Value): boolean | undefined {
    // `if downsample:` with a model or layer passed in: Python objects are true (None is a falsy constant).
    if (isObject(v)) return true;
    const c = constantOf(v);
    return c === undefined ? undefined : truthy(c);
  }
  iterate(v: Value): Value[] | undefined {
    if (v.t === 'list') return [...v.items];
    if (v.t === 'sequential') return v.seq.items.map((i) => i.value);
    if (v.t === 'const' && Array.isArray(v.value)) return v.value.length <= LIMITS.loopIterations ? v.value.map(constant) : undefined;
    return undefined;
  }

  // ---------------------------------------------------------------- frames

  private module: KerasFrame | null = null;

  /** The module's frame as a caller and for evaluating defaults (never run in: see frameAt). */
  moduleFrame(): KerasFrame {
    return (this.module ??= this.frameAt(this.state.file.root, null));
  }

  /** A frame that reads the module (or a class body) with its models emitted into `sequentials`. */
  frameAt(scopeNode: Node, sequentials: SequentialBuilder[] | null): KerasFrame {
    return {
      scope: this.scopeOf(this.state.file.root),
      locals: this.moduleLocals,
      depth: 0,
      unroll: null,
      marks: NO_MARKS,
      self: new Map(),
      classDef: null,
      scopeNode,
      active: new Set([scopeNode.id]),
      inline: 0,
      sequentials,
    };
  }

  protected enterFrame(caller: KerasFrame, base: EvalFrame<Value>, owner: KerasCall | null): KerasFrame {
    const call = owner ?? { def: this.state.file.root, classDef: null, self: new Map<string, Value>() };
    const closure = call.closure;
    const active = new Set(caller.active);
    active.add(call.def.id);
    if (call.guards !== undefined) active.add(call.guards);
    // Every field named, not spread from `base`: a spread followed by fields `base` lacks took V8's
    // generic path, ~4 us a call (10 % of reading a ResNet builder's 1,200 layers).
    return {
      scope: closure ? Scope.inside(call.def, closure.scope) : base.scope,
      // The defining call's layers, helpers and dicts, as they are when the closure runs.
      locals: closure ? new Map(closure.locals) : base.locals,
      depth: base.depth,
      unroll: base.unroll,
      returns: base.returns,
      globalNames: base.globalNames,
      marks: caller.marks,
      self: call.self,
      classDef: call.classDef,
      scopeNode: call.def,
      active,
      inline: call.top ? 0 : caller.inline + 1,
      sequentials: call.top ?? null,
    };
  }

  protected skipsCall(): boolean {
    return false;
  }

  protected entered(): void {
    /* every run is read as it comes */
  }

  /** Loops of unknown length are read once: their layers are marked repeated. */
  protected readsLoopsOnce(): boolean {
    return true;
  }

  /** A training loop around fit or a custom step runs it once, not once per epoch (trainsEachIteration). */
  protected override repeatsOneStep(loop: Node): boolean {
    return trainsEachIteration(loop);
  }

  protected override readsComprehensionsOnce(): boolean {
    return true;
  }

  protected override readOnce(loop: Node, f: KerasFrame, run: () => Flow<Value>): Flow<Value> {
    const saved = f.marks;
    const header = rangeOf(loop);
    const body = this.s.field(loop, 'body');
    if (body) header.end = rangeOf(body).start;
    f.marks = { ...saved, repeatedLoop: header };
    try {
      return run();
    } finally {
      f.marks = saved;
    }
  }

  protected override onUnroll(f: KerasFrame, delta: 1 | -1): void {
    f.marks = { ...f.marks, unrollDepth: f.marks.unrollDepth + delta };
  }

  /** `self.*` as it was before the `if`: each branch starts from it and the branches' ends merge. */
  protected branchState(f: KerasFrame): BranchState {
    const self = f.self;
    const before = new Map(self);
    const ends: Map<string, Value>[] = [];
    const reset = (entries: ReadonlyMap<string, Value>) => {
      self.clear();
      for (const [k, v] of entries) self.set(k, v);
    };
    return {
      reset: () => { reset(before); },
      capture: () => { ends.push(new Map(self)); },
      merge: () => {
        const merged = new Map(before);
        for (const name of new Set(ends.flatMap((m) => [...m.keys()]))) merged.set(name, this.merge(ends.map((m) => m.get(name) ?? before.get(name) ?? OPAQUE)));
        reset(merged);
      },
    };
  }

  /** Layers made on the branches of an unknown condition carry its mark (one id per `if`). */
  protected onBranches(f: KerasFrame, delta: 1 | -1): void {
    if (delta === 1) {
      this.savedMarks.push(f.marks);
      f.marks = { ...f.marks, conditions: [...f.marks.conditions, this.nextCondition--] };
    } else f.marks = this.savedMarks.pop() ?? f.marks;
  }

  /** `a if cond else b` with an unknown condition: the first alternative (a tensor path must exist). */
  protected unknownChoice(body: Node, _alternative: Node, f: KerasFrame): Value {
    return this.eval(body, f);
  }

  /** `output, state_h, state_c = LSTM(..., return_state=True)(x)`: every part comes out of the same layer. */
  protected unpackedPart(value: Value): Value {
    return value.t === 'tensor' ? value : OPAQUE;
  }

  protected override unary(op: string | undefined, v: Value): Value {
    return v.t === 'tensor' ? v : super.unary(op, v);
  }

  protected forgetAttribute(): void {
    /* loops are read once, never forgotten */
  }

  protected forgetCall(): void {
    /* loops are read once, never forgotten */
  }

  /** `downsample is None` / `is not None` of a layer, model, block or tensor the reader holds: never None. */
  protected compareObjects(op: string, a: Value, b: Value): boolean | undefined {
    const none = (v: Value) => v.t === 'const' && v.value === null;
    const never = (isObject(a) || a.t === 'tensor') && none(b) || (isObject(b) || b.t === 'tensor') && none(a);
    if (!never) return undefined;
    return op === 'is not' || op === '!=' ? true : op === 'is' || op === '==' ? false : undefined;
  }

  /** A Sequential returned by a function read at top level is that function's model. */
  protected override returned(value: Value, f: KerasFrame): void {
    if (value.t !== 'sequential' || value.seq.binding || !f.sequentials) return;
    const fnName = this.s.field(f.scopeNode, 'name');
    if (fnName) value.seq.binding = { name: fnName.text, nameNode: fnName };
  }

  // ---------------------------------------------------------------- names and assignment

  /** Lists are mutable (`.append`): a name bound to one is never a constant of the scope. */
  override bind(f: KerasFrame, name: string, value: Value): void {
    if (value.t === 'list') {
      f.locals.set(name, value);
      f.scope = f.scope.with(name, undefined as unknown as ConstValue);
      return;
    }
    super.bind(f, name, value);
  }

  protected override assignWritten(name: string, value: Value, f: KerasFrame, valueNode: Node): void {
    const target = this.targetOf(valueNode);
    if (target?.text === name) this.nameValue(value, name, target);
    // A name bound once to this very expression stays known to the scope, which can then still
    // follow it to the expression (spelling, initializer objects): only the value is recorded.
    const boundOnceHere = f.scope.lookup(name)?.id === valueNode.id;
    if (boundOnceHere && (value.t !== 'const' || f.scope.evaluate(valueNode) !== undefined)) {
      f.locals.set(name, value);
      return;
    }
    this.bind(f, name, value);
  }

  override assign(target: Node, value: Value, f: KerasFrame, valueNode: Node | null = null): void {
    const t = this.s.unparen(target);
    if (this.s.type(t) !== 'attribute') {
      super.assign(target, value, f, valueNode);
      return;
    }
    // `self.fc = Dense(..)`, `model.head = ...`: recorded by the name as written.
    const key = this.s.dottedName(t);
    if (!key) return;
    // `discriminator.trainable = False`: what models built from it from now on do not train; so does
    // `for layer in base.layers: layer.trainable = False` on `base`.
    const written = key.endsWith('.trainable') ? key.slice(0, -'.trainable'.length) : null;
    const frozenKey = written === null ? null : this.trainableKeyOf(written, t, f);
    const flag = constantOf(value);
    if (frozenKey && typeof flag === 'boolean') this.state.trainableWrites.set(frozenKey, !flag);
    if (valueNode) this.nameValue(value, key, t);
    if (key.startsWith('self.')) f.self.set(key, value);
    else f.locals.set(key, value);
  }

  /**
   * What `name.trainable = ...` (the write at `at`) is recorded on (trainableKey): the value `name` holds, or,
   * for the variable of an enclosing `for name in base.layers:` (layersLoop) written unconditionally, `base`.
   */
  private trainableKeyOf(name: string, at: Node, f: KerasFrame): object | null {
    const held = this.getName(name, f);
    const key = held ? trainableKey(held) : null;
    if (key) return key;
    const write = at.parent;
    const loop = write ? enclosing(write, ['for_statement']) : null;
    const read = loop ? layersLoop(loop) : null;
    if (!loop || !write || !read?.every || read.variable !== name || !unconditionalIn(write, loop)) return null;
    const model = this.getName(read.model, f);
    return model ? trainableKey(model) : null;
  }

  protected assignAttribute(): void {
    /* attribute targets are handled by name in assign() */
  }

  /** Names a layer after the variable / attribute it is bound to; records a Sequential's binding. */
  private nameValue(value: Value, key: string, target: Node): void {
    if (value.t === 'list') {
      // `self.blocks = [Dense(..) for _ in range(3)]`: blocks.0, blocks.1, ... as PyTorch names ModuleList items.
      value.items.forEach((item, i) => item.t === 'layer' && !item.factory.boundName && (item.factory.boundName = `${lastSegment(key)}.${i}`));
    }
    if (value.t === 'layer' && !value.factory.boundName) value.factory.boundName = lastSegment(key);
    if (value.t === 'instance' && !value.boundName) value.boundName = lastSegment(key);
    if (value.t === 'sequential' && !value.seq.binding) value.seq.binding = { name: key, nameNode: target };
  }

  /** The target of the assignment whose right side is `valueNode`. */
  private targetOf(valueNode: Node): Node | null {
    let cur = valueNode;
    while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
    const parent = cur.parent;
    return parent?.type === 'assignment' ? parent.childForFieldName('left') : null;
  }

  private getName(key: string, f: KerasFrame): Value | undefined {
    return key.startsWith('self.') ? f.self.get(key) : (f.locals.get(key) ?? this.moduleValue(key, f));
  }

  // ---------------------------------------------------------------- expressions

  override eval(node: Node, f: KerasFrame): Value {
    // Generated code can nest expressions thousands deep (`a + b + c + ...`): no model code does.
    if (this.expressionDepth > LIMITS.expressionDepth) return OPAQUE;
    this.expressionDepth++;
    try {
      const n = this.s.unparen(node);
      if (this.s.type(n) === 'unary_operator' && this.s.field(n, 'operator')?.text === '-') {
        // `-x` on a tensor: a rescaling by -1.
        const operand = this.eval(this.s.required(n, 'argument'), f);
        return operand.t === 'tensor' ? tensorOperator(this.reader(f), '*', [constant(-1), operand], n) : this.unary('-', operand);
      }
      if (this.s.type(n) === 'tuple') {
        // Constant tuples are constants (`kernel_size = (3, 3)`); lists stay lists (appended to later).
        const c = f.scope.evaluate(n);
        if (c !== undefined) return constant(c);
      }
      return super.eval(n, f);
    } finally {
      this.expressionDepth--;
    }
  }

  /** A constant, when the expression has one, evaluated without side effects (self attributes, comparisons, boolean logic). */
  constOfNode(node: Node | null | undefined, f: KerasFrame): ConstValue | undefined {
    return evaluateWith((n) => {
      const type = this.s.type(n);
      if (type === 'attribute' || type === 'identifier') {
        const key = type === 'identifier' ? n.text : this.s.dottedName(n);
        const v = key ? this.getName(key, f) : undefined;
        if (v) return constantOf(v);
      }
      return f.scope.evaluate(n);
    }, node);
  }

  name(n: Node, f: KerasFrame): Value {
    const local = f.locals.get(n.text) ?? this.globalValue(n.text, f);
    if (local) return local;
    const c = f.scope.evaluate(n);
    if (c !== undefined) return constant(c);
    const atModule = this.moduleValue(n.text, f);
    if (atModule) return atModule;
    if (n.text === '__name__') return constant('__main__');
    const fn = this.state.functionNamed(n.text, n);
    if (fn) return { t: 'function', def: fn };
    // `block = InvertedResidual`, `make_layer(BasicBlock, ...)`: the class, instantiated where it is called.
    const cls = this.state.classNamed(n.text, n);
    if (cls && this.state.classKind(cls)) return { t: 'class', classDef: cls };
    const bound = f.scope.lookup(n.text);
    if (bound?.type === 'call') {
      const q = this.state.symbolsAt(bound).qualified(bound.childForFieldName('function'));
      // A layer bound once in an outer scope: only constructors are followed (re-reading arbitrary outer code could duplicate models).
      if (q && isKerasLayerPath(q, this.argContext(f)) && layerSpec(lastSegment(q))) return this.call(bound, f);
    }
    return OPAQUE;
  }

  attribute(n: Node, f: KerasFrame): Value {
    const key = this.s.dottedName(n);
    const v = key ? this.getName(key, f) : undefined;
    if (v) return v;
    // `block=blocks.residual` with `import blocks`: the workspace's function or class, called where it is applied.
    const member = key ? this.moduleMember(key, n, f) : null;
    if (member) return member;
    // `Lambda(self._sampling)`, `block = self.conv_block`: a method of this instance, run with its attributes when called.
    const methodName = key?.startsWith('self.') ? key.slice('self.'.length) : null;
    const method = methodName && f.classDef ? this.state.methodOf(f.classDef, methodName) : null;
    if (method && f.classDef && this.state.isMethod(method)) return { t: 'function', def: method, receiver: { classDef: f.classDef, self: f.self } };
    const objectNode = this.s.required(n, 'object');
    // `base.layers[-1].output`: the last layer's output is the model's.
    const model = lastLayerOf(objectNode);
    const object = this.eval(model && OUTPUT_ATTRIBUTES.has(this.s.field(n, 'attribute')?.text ?? '') ? model : objectNode, f);
    // `x.shape`, `x.T`: a tensor's attributes stay tied to it. In a Lambda's function, `x.shape` is its
    // static shape (as K.int_shape gives it) and any other attribute an operation the reader does not model.
    if (object.t === 'tensor') {
      const exec = this.reader(f);
      const isShape = this.s.field(n, 'attribute')?.text === 'shape';
      if (!readingLambda(exec)) {
        // `f = x.shape[-1]`: the static shape, as K.int_shape(x) gives it, when the reader knows it.
        const shape = isShape ? staticShapeValue(exec, object) : OPAQUE;
        return shape.t === 'const' ? shape : object;
      }
      if (isShape) return staticShapeValue(exec, object);
      unreadOperation(exec, n, [object]);
      return OPAQUE;
    }
    const attribute = this.s.field(n, 'attribute')?.text;
    // `block.__name__ == 'bottleneck'` with a block function passed in: its name as defined.
    if (attribute === '__name__' && (object.t === 'function' || object.t === 'class')) {
      const defined = this.s.field(object.t === 'function' ? object.def : object.classDef, 'name')?.text;
      return defined === undefined ? OPAQUE : constant(defined);
    }
    if (attribute && OUTPUT_ATTRIBUTES.has(attribute)) return outputOf(this.reader(f), object);
    if (attribute === 'input' || attribute === 'inputs') return inputOf(object);
    return OPAQUE;
  }

  /** A function or class of another file of the workspace that `dotted` reaches through a module object (`blocks.conv_bn`). */
  private moduleMember(dotted: string, n: Node, f: KerasFrame): Value | null {
    const dot = dotted.indexOf('.');
    if (dot < 0 || this.getName(dotted.slice(0, dot), f)) return null;
    const fn = this.state.functionNamed(dotted, n);
    if (fn) return { t: 'function', def: fn };
    const cls = this.state.classNamed(dotted, n);
    return cls && this.state.classKind(cls) ? { t: 'class', classDef: cls } : null;
  }

  subscript(n: Node, f: KerasFrame): Value {
    const object = this.eval(this.s.required(n, 'value'), f);
    const index = this.s.field(n, 'subscript');
    if (object.t === 'dict' && index) {
      const key = this.constOfNode(index, f);
      return (typeof key === 'string' ? object.entries.get(key) : undefined) ?? OPAQUE;
    }
    if (object.t === 'const' && index && this.s.kids(n).length === 2) {
      // `shape[CHANNEL_AXIS]`, `shape[1:]` of a constant tuple (a K.int_shape the reader computed).
      const item = subscriptOf(object.value, index, (c) => this.constOfNode(c, f));
      if (item !== undefined) return constant(item);
    }
    if (object.t === 'list' && index) {
      const i = this.constOfNode(index, f);
      if (typeof i === 'number') return object.items[i < 0 ? object.items.length + i : i] ?? OPAQUE;
    }
    if (object.t !== 'tensor') return OPAQUE;
    // `x[:, 0]` in a Lambda's function: a slice the reader does not model.
    unreadOperation(this.reader(f), n, [object]);
    return object;
  }

  combine(op: string, a: Value, b: Value, n: Node, f: KerasFrame): Value {
    if (a.t === 'tensor' || b.t === 'tensor') return tensorOperator(this.reader(f), op, [a, b], n);
    if (op === '+' && a.t === 'list' && b.t === 'list') return { t: 'list', items: [...a.items, ...b.items] };
    const v = arithmetic(op, constantOf(a), constantOf(b));
    return v === undefined ? OPAQUE : constant(v);
  }

  // ---------------------------------------------------------------- calls

  call(n: Node, f: KerasFrame): Value {
    // Layers that code of another file makes while this call runs are shown on its line (ExtractionState.homeSite).
    // (Written out, not through atHome: a closure per call, ~10^5 calls in a model-dense file.)
    const state = this.state;
    if (state.isForeign(n)) return this.callAt(n, f);
    const outer = state.homeCall;
    state.homeCall = n;
    try {
      return this.callAt(n, f);
    } finally {
      state.homeCall = outer;
    }
  }

  private callAt(n: Node, f: KerasFrame): Value {
    const fnNode = this.s.field(n, 'function');
    if (!fnNode) return OPAQUE;
    const fnType = this.s.type(fnNode);
    const exec = this.reader(f);
    if (fnType !== 'identifier' && fnType !== 'attribute') {
      const callee = this.eval(fnNode, f);
      if (callee.t === 'opaque' && fnType === 'call') return unknownLayerApplication(exec, fnNode, n);
      return apply(exec, callee, n);
    }
    const dotted = this.s.dottedName(fnNode);
    // Before the object is applied: `x.get_shape().as_list()` is a method of what a call returns.
    const method = this.methodCall(fnNode, n, f);
    if (method) return method;
    // `obj[i](x)`, `f()(x)` with an attribute on a non-name: apply whatever the object is.
    if (!dotted) return apply(exec, this.eval(fnNode, f), n);
    const bound = this.getName(dotted, f);
    if (bound && bound.t !== 'opaque' && bound.t !== 'const') return apply(exec, bound, n);
    const q = this.state.symbolsAt(n).qualified(fnNode);
    if (q) {
      const keras = kerasCall(exec, q, fnNode.text, n);
      if (keras) return keras;
      const sizes = ARRAY_OF_SIZES.has(q) ? this.sizesOf(n, f) : null;
      if (sizes) return sizes;
    }
    const bare = !dotted.includes('.');
    // `blocks.conv_bn(x, 64)` with `import blocks`: a function or class of the workspace reached through its module.
    const member = bare ? null : this.moduleMember(dotted, n, f);
    if (member) return apply(exec, member, n);
    const cls = bare ? this.state.classNamed(dotted, n) : null;
    if (bare) {
      const fn = this.state.functionNamed(dotted, n);
      if (fn) {
        const args = this.evalArgs(this.s.field(n, 'arguments'), f);
        this.state.witness(n, args);
        return inlineFunction(exec, fn, args, null);
      }
      // Constructor arguments are read now, in the scope that wrote them; __init__ runs when applied.
      if (cls && this.state.classKind(cls)) return { t: 'instance', classDef: cls, call: n, args: this.evalArgs(this.s.field(n, 'arguments'), f), marks: f.marks, boundName: null };
      if (ITERATION_BUILTINS.has(dotted) && !cls && !bound) return this.builtin(dotted, this.evalArgs(this.s.field(n, 'arguments'), f));
    }
    // `int(round(a[1] / b[1]))` on constants the reader holds (a K.int_shape it computed).
    const c = f.scope.evaluate(n);
    if (c !== undefined) return constant(c);
    // A bare class name nothing the reader sees defines (not this file's, not the workspace's, not Keras'),
    // and no Keras class's name (which an unknown layer would be built as).
    const unknownClass =
      bare && !cls && /^[A-Z]/.test(dotted) && !bound && !PYTHON_BUILTINS.has(dotted) && !layerSpec(dotted) && !this.state.symbolsAt(n).isLocal(dotted) ? dotted : null;
    // A name holding what the reader cannot follow (`inverted = partial(block, alpha=a)`), called on tensors.
    const unknown = bare && bound?.t === 'opaque' ? unknownCallOnTensors(exec, n, dotted) : null;
    return unknown ?? passArguments(exec, n, unknownClass);
  }

  /** The sizes a call's first argument holds (a static shape the reader computed), or null. */
  private sizesOf(call: Node, f: KerasFrame): Value | null {
    const first = callArgs(call).positional[0];
    const value = first ? this.eval(first, f) : OPAQUE;
    return value.t === 'const' && Array.isArray(value.value) ? value : null;
  }

  /** The core's range / enumerate / zip / reversed / len; `list(x)`, `tuple(x)` copy what the reader knows. */
  private builtin(name: string, args: CallArgs<Value>): Value {
    const core = this.iterationBuiltin(name, args);
    if (core) return core;
    const first = args.positional[0];
    // `tuple(x.shape[1:])`: the sizes stay one constant, as Reshape and Dense read them.
    if ((name === 'tuple' || name === 'list') && first?.t === 'const' && Array.isArray(first.value)) return first;
    const items = first ? this.iterate(first) : [];
    return items ? { t: 'list', items } : OPAQUE;
  }

  /** Calls on a value the reader holds: `model.add(..)`, `layers.append(..)`, `self.block(x)`. */
  private methodCall(fnNode: Node, call: Node, f: KerasFrame): Value | null {
    if (this.s.type(fnNode) !== 'attribute') return null;
    const objectNode = this.s.field(fnNode, 'object');
    const method = this.s.field(fnNode, 'attribute')?.text;
    if (!objectNode || !method) return null;
    const objectKey = this.s.dottedName(objectNode);
    const exec = this.reader(f);
    const argsNode = this.s.field(call, 'arguments');
    const written = callArgs(call);
    const positional = written.positional;
    if (objectKey === 'self' && f.classDef && !this.getName(`self.${method}`, f)) {
      const def = this.state.methodOf(f.classDef, method);
      if (def) return inlineFunction(exec, def, this.evalArgs(argsNode, f), { classDef: f.classDef, self: f.self });
    }
    // `ResnetBuilder.build(...)`: a static method of a class of the file.
    const cls = objectKey && !objectKey.includes('.') && !f.locals.has(objectKey) ? this.state.classNamed(objectKey, call) : null;
    if (cls && !this.state.classKind(cls)) {
      const def = this.state.methodOf(cls, method);
      if (def && !this.state.isMethod(def)) return inlineFunction(exec, def, this.evalArgs(argsNode, f), null);
    }
    // `x.shape.as_list()`, `x.get_shape()`: the static shape `x.shape` reads.
    if (method === 'as_list' || method === 'get_shape') {
      const value = this.eval(objectNode, f);
      const shape = method === 'get_shape' && value.t === 'tensor' ? staticShapeValue(exec, value) : value;
      if (shape.t === 'const') return shape;
    }
    const object = objectKey ? this.getName(objectKey, f) : undefined;
    if (!object) return null;
    if (object.t === 'sequential') {
      const seq = object.seq;
      if (method === 'add') {
        for (const arg of positional.slice(0, 1)) {
          const value = this.eval(arg, f);
          seq.items.push({ value, node: arg, marks: f.marks, ...(this.state.frozenNow(value) ? { frozen: true } : {}) });
        }
        seq.lastAdd = call;
        return constant(null);
      }
      if (method === 'build') {
        const shapeNode = positional[0] ?? written.keywords.get('input_shape');
        const shape = shapeNode ? this.constOfNode(shapeNode, f) : undefined;
        if (Array.isArray(shape) && shape.length > 0) seq.builtShape = shape.slice(1).map((d) => (typeof d === 'number' ? d : null));
        return constant(null);
      }
      if (method === 'pop') seq.items.pop();
      return OPAQUE;
    }
    if (object.t === 'dict') return this.dictMethod(object.entries, method, positional, f);
    if (object.t === 'list') {
      if (method === 'append' && positional[0]) {
        object.items.push(this.eval(positional[0], f));
        return constant(null);
      }
      if (method === 'extend' && positional[0]) {
        const more = this.eval(positional[0], f);
        if (more.t === 'list') object.items.push(...more.items);
        return constant(null);
      }
      if (method === 'insert' && positional[1]) {
        const at = this.constOfNode(positional[0], f);
        if (typeof at === 'number') object.items.splice(at, 0, this.eval(positional[1], f));
        return constant(null);
      }
    }
    if (object.t === 'tensor') return object;
    return null;
  }

  /** `params.setdefault('strides', (1, 1))`, `params.get('padding', 'same')`, `params.pop('name', None)`. */
  private dictMethod(entries: Map<string, Value>, method: string, positional: Node[], f: KerasFrame): Value {
    const key = this.constOfNode(positional[0], f);
    if (typeof key !== 'string' || !['setdefault', 'get', 'pop'].includes(method)) return OPAQUE;
    const fallback = (): Value => (positional[1] ? this.eval(positional[1], f) : constant(null));
    const present = entries.get(key);
    if (method === 'setdefault' && !present) entries.set(key, fallback());
    if (method === 'pop') entries.delete(key);
    return present ?? entries.get(key) ?? fallback();
  }

  /**
   * A builder's call-site arguments: the constants `consts` has, and for the rest what the reader
   * makes of them where the call is written (a function of the file passed as `block_fn`, a layer).
   */
  argumentsAt(call: Node, consts: CallArgs<Value>): CallArgs<Value> {
    const frame: KerasFrame = { ...this.frameAt(call, null), scope: Scope.of(call), locals: new Map() };
    const written = callArgs(call);
    const caller = enclosing(call, ['function_definition']);
    const there = caller ? this.argumentsInCaller(caller).get(call.startIndex) : undefined;
    const valueOf = (node: Node, known: Value | undefined, inCaller: Value | undefined): Value => {
      if (known && known.t !== 'opaque') return known;
      const v = inCaller && inCaller.t !== 'opaque' ? inCaller : this.eval(node, frame);
      return v.t === 'const' ? OPAQUE : v;
    };
    const positional = consts.positional.map((known, i) => (written.positional[i] ? valueOf(written.positional[i], known, there?.positional[i]) : known));
    const keywords = new Map([...consts.keywords].map(([k, known]): [string, Value] => {
      const node = written.keywords.get(k);
      return [k, node ? valueOf(node, known, there?.keywords.get(k)) : known];
    }));
    return { ...consts, positional, keywords };
  }

  /**
   * What each call of a function passed where it is written inside another function (`g = make_g()` ...
   * `combine(d, g)` in `main()`): the caller is read once, with its defaults, to learn those values; its
   * notes are set aside and the models it makes dropped (each is its builder's own, read at this call).
   */
  private argumentsInCaller(caller: Node): ReadonlyMap<number, CallArgs<Value>> {
    const state = this.state;
    const known = state.callerReads.get(caller.id);
    if (known) return known;
    const recorded = new Map<number, CallArgs<Value>>();
    state.callerReads.set(caller.id, recorded);
    const outer = state.witnessing;
    state.witnessing = recorded;
    try {
      const classDef = enclosing(caller, ['class_definition']);
      const self = state.isMethod(caller) ? [OPAQUE] : [];
      this.readAside(() => this.callFunction(caller, { positional: self, keywords: new Map(), partial: false }, { def: caller, classDef, self: new Map(), top: [] }, this.moduleFrame()));
    } finally {
      state.witnessing = outer;
    }
    return recorded;
  }

  /**
   * The constants a plain class's `__init__` sets on `self` (`self.latent_dim = 100`, `self.img_shape =
   * (28, 28, 1)`), which its builder methods read (`def build_generator(self)`, called from `__init__`
   * and read as a scope of its own). `__init__` is read with the arguments of each instantiation given
   * (its defaults when none is): an attribute whose value differs between them stays unknown.
   */
  constructorConstants(classDef: Node, instantiations: readonly CallArgs<Value>[]): Map<string, Value> {
    const init = this.state.methodOf(classDef, '__init__');
    if (!init) return new Map<string, Value>();
    const reads = instantiations.length > 0 ? instantiations : [{ positional: [], keywords: new Map<string, Value>(), partial: false }];
    let agreed: Map<string, Value> | null = null;
    for (const args of reads) {
      const self = new Map<string, Value>();
      this.readAside(() => this.callFunction(init, { ...args, positional: [OPAQUE, ...args.positional] }, { def: init, classDef, self, top: [] }, this.moduleFrame()));
      const before: Map<string, Value> | null = agreed;
      const merged = [...self].map(([key, value]): [string, Value] => [key, before ? this.merge([before.get(key) ?? OPAQUE, value]) : value]);
      agreed = new Map(merged.flatMap(([key, value]): [string, Value][] => {
        const known = constantOf(value);
        return known === undefined ? [] : [[key, constant(known)]];
      }));
    }
    return agreed ?? new Map<string, Value>();
  }

  /** Reads code only for what it teaches (arguments, attributes): its notes set aside, the models it makes dropped. */
  private readAside(read: () => void): void {
    const made = this.state.functionals.length;
    try {
      this.withNotesAside(new EvalNotes(), read);
    } catch (error) {
      // What the read would teach stays unknown when it fails; the models are still read.
      rethrowCancellation(error);
    } finally {
      this.state.functionals.splice(made);
      this.forgetGlobalWrites();
    }
  }

  // ---------------------------------------------------------------- what recognisers see

  argContext(f: KerasFrame): ArgContext {
    const known = (n: Node): ConstValue | undefined => {
      const type = this.s.type(n);
      if (type === 'identifier') {
        const global = this.globalValue(n.text, f);
        return global ? constantOf(global) : undefined;
      }
      // `x.shape`, `x.shape.as_list()`, `x.get_shape()` written in a layer's arguments: the static shape (no side effects).
      if (type === 'attribute' && this.s.field(n, 'attribute')?.text === 'shape') return constantOf(this.eval(n, f));
      // `Dense(self.latent_dim)`: what the instance holds (set by this method, or by `__init__` for a builder method).
      const key = type === 'attribute' ? this.s.dottedName(n) : null;
      if (key?.startsWith('self.')) {
        const held = f.self.get(key);
        return held ? constantOf(held) : undefined;
      }
      if (type !== 'call') return undefined;
      const fn = this.s.field(n, 'function');
      const method = fn && this.s.type(fn) === 'attribute' ? this.s.field(fn, 'attribute')?.text : undefined;
      if (method === 'as_list' || method === 'get_shape') return constantOf(this.eval(n, f));
      const q = this.state.symbolsAt(n).qualified(fn);
      return q === 'keras.backend.int_shape' ? constantOf(intShape(this.reader(f), n)) : undefined;
    };
    return { symbols: this.state.symbolsAt(f.scopeNode), scope: f.scope, known };
  }

  reader(f: KerasFrame): Reader {
    return new Reader(this, f);
  }
}

/** What the recognisers (recognize.ts, apply.ts, models.ts) see of the reader at one point of the code. */
export class Reader {
  constructor(
    readonly ev: KerasEvaluator,
    readonly f: KerasFrame,
  ) {}

  get state(): ExtractionState {
    return this.ev.state;
  }

  get marks(): FlowMarks {
    return this.f.marks;
  }

  set marks(marks: FlowMarks) {
    this.f.marks = marks;
  }

  get argContext(): ArgContext {
    return this.ev.argContext(this.f);
  }

  /** Whether models created here are emitted (a top-level read, not an inlined helper). */
  get emits(): boolean {
    return this.f.sequentials !== null;
  }

  evalExpr(node: Node): Value {
    return this.ev.eval(node, this.f);
  }

  constOf(node: Node | null | undefined): ConstValue | undefined {
    return this.ev.constOfNode(node, this.f);
  }

  newNode(layer: GraphNode['layer'], inputs: GraphNode[], origin: Node, marks: FlowMarks, declaredInput: GraphNode['declaredInput'] = null, unsupported: GraphNode['unsupported'] = [], owner?: object): GraphNode {
    // Made by code of another file: every range of the model is a line of the model's file.
    const site = this.state.homeSite(origin);
    if (site) {
      relocateLayer(layer, site.range, site.file);
      unsupported = unsupported.map((u) => ({ ...u, range: site.range }));
    }
    if (this.state.freezing > 0) layer.frozen = true;
    const node: GraphNode = { seq: this.state.nextSeq++, layer, inputs, origin, marks, declaredInput, unsupported, ...(owner ? { owner } : {}) };
    for (const recorder of this.state.recorders) recorder.push(node);
    return node;
  }
}
