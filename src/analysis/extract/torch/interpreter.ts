/**
 * A small abstract interpreter for the Python that builds and runs torch models. It never runs user
 * code: it walks statements with constant values, unrolls loops with constant bounds, constructs
 * module values (layers, containers, user module instances), applies initializer calls to their
 * parameters, and, with a Trace, follows tensors through `forward` to record layer calls in order.
 * Whatever it cannot know stays unknown; in `forward`, an unknown call on a tensor becomes an
 * 'unknown' layer so that no false adjacency is invented.
 */
import type { Node } from 'web-tree-sitter';
import { throwIfCancelled } from '../../cancellation';
import { Scope, type ConstValue } from '../../python/constants';
import type { PyFile } from '../../python/file';
import { namedChildren, rangeOf, stringValue } from '../../python/syntax';
import type { EvalNotes } from '../../python/limits';
import type { ArgList, Args } from './args';
import { BUILTINS, callBuiltin } from './builtins';
import { LIMITS } from '../../python/limits';

const MAX_ITERATIONS = LIMITS.loopIterations;
import { libraryCall, methodCall, sequentialOf } from './calls';
import { classAttribute, classFields, isModuleClass } from './classes';
import { arithmetic, compare, str, truthy } from './constops';
import { hasTensor } from './flow';
import { addPositions, apply, barrier, mergeTensors } from './forward';
import { classNameOf, cloneValue, paramOf, sameClass, sizeAttribute } from './introspect';
import { SyntaxCache } from '../../python/syntax-cache';
import { MODEL_INPUT, Trace } from './trace';
import { orient, rawOperand, scaled } from './raw-weights';
import { UNKNOWN, constOf, constant, mergeValues, type ClassInfo, type Instance, type Value } from './values';

/** Shared state of one file's interpretation. */
export interface Context {
  file: PyFile;
  classes: Map<string, ClassInfo>;
  functions: Map<string, Node>;
  /** Function definitions that ran with real arguments (not interpreted again standalone). */
  entered: Set<number>;
  /** Every nn.Sequential(...) evaluation, by call node id (first evaluation kept). */
  sequentials: Map<number, { call: Node; value: Value }>;
  /** User module instantiations outside module methods, by class, then call node id (first evaluation kept). */
  instances: Map<ClassInfo, Map<number, { call: Node; inst: Instance }>>;
  /** Limits reached and constructs not evaluated, for the file's notices. */
  notes: EvalNotes;
  /** Raw weight tensors multiplied outside any module's forward (a model written as tensor math). */
  raw?: Trace;
}

export interface Frame {
  scope: Scope;
  locals: Map<string, Value>;
  self: Instance | null;
  /** The class whose method runs (for super()). */
  cls: ClassInfo | null;
  depth: number;
  unroll: { index: number; count: number } | null;
  trace: Trace | null;
  /**
   * Values returned on paths that ended under a condition whose value is unknown; the call's result
   * merges them with the value returned at the end. Shared by the frames forked for branches.
   */
  returns?: Value[];
}

type Flow = { kind: 'return'; value: Value } | { kind: 'break' } | { kind: 'continue' } | undefined;

const MAX_DEPTH = LIMITS.callDepth;
const MAX_STEPS = LIMITS.steps;
const MAX_UNROLLED = LIMITS.unrolledIterations;

/** Whether a function definition carries a decorator such as @staticmethod. */
export function decoratedWith(def: Node, decorator: string): boolean {
  const holder = def.parent;
  if (holder?.type !== 'decorated_definition') return false;
  return namedChildren(holder).some((c) => c.type === 'decorator' && c.text.replace(/^@\s*/, '') === decorator);
}

/** Shadows a name in a Scope with a known constant, or with "unknown" (undefined). */
function shadow(scope: Scope, name: string, value: ConstValue | undefined): Scope {
  // Scope.with treats an undefined override as "bound here, value unknown", which hides outer bindings.
  return scope.with(name, value as ConstValue);
}

/** Replaces a map's entries in place (instances keep their attribute map). */
function resetMap<K, V>(target: Map<K, V>, entries: Map<K, V>): void {
  target.clear();
  for (const [k, v] of entries) target.set(k, v);
}

/** Words without which a function cannot build, register or initialize torch modules. */
const MODULE_WORDS = /\b(nn|Sequential|ModuleList|ModuleDict|OrderedDict|init|apply|modules|children|parameters|named_parameters|named_modules|add_module|register_module|weight|bias|deepcopy|Linear|LSTM|GRU|RNN|Embedding)\b|\bConv|Norm\d?d?\b|_\(/;

export class Interpreter {
  private readonly scopes = new Map<number, Scope>();
  private readonly innerScopes = new Map<number, Scope>();
  /** Memoized node access (see syntax-cache.ts). */
  readonly s = new SyntaxCache();
  private readonly relevance = new Map<number, boolean>();
  private steps = 0;
  private readonly classAttrs = new Map<ClassInfo, Map<string, Value>>();
  private unrolledProduct = 1;
  /** How many branches of unknown conditions enclose the code being evaluated (their layers are conditional). */
  conditional = 0;
  private readonly namePattern: RegExp | null;

  constructor(readonly ctx: Context) {
    const names = [...ctx.classes.keys(), ...ctx.functions.keys()].map((n) => n.replace(/[^\w]/g, ''));
    this.namePattern = names.length ? new RegExp(`\\b(${names.join('|')})\\b`, 'g') : null;
  }

  private scopeOf(def: Node): Scope {
    let s = this.scopes.get(def.id);
    if (!s) this.scopes.set(def.id, (s = Scope.of(def)));
    return s;
  }

  private scopeInside(def: Node): Scope {
    let s = this.innerScopes.get(def.id);
    if (!s) this.innerScopes.set(def.id, (s = Scope.inside(def)));
    return s;
  }

  /**
   * Whether running a plain function outside forward can matter: it must mention torch module words,
   * a module class of the file, or another function that matters. Training loops and data code are skipped.
   */
  relevant(def: Node): boolean {
    const known = this.relevance.get(def.id);
    if (known !== undefined) return known;
    this.relevance.set(def.id, false);
    const text = def.text;
    let result = MODULE_WORDS.test(text);
    if (!result && this.namePattern) {
      for (const m of text.matchAll(this.namePattern)) {
        const name = m[1]!;
        const fn = this.ctx.functions.get(name);
        if (this.ctx.classes.has(name) || (fn && fn.id !== def.id && this.relevant(fn))) {
          result = true;
          break;
        }
      }
    }
    this.relevance.set(def.id, result);
    return result;
  }

  // ---------------------------------------------------------------- frames and functions

  /** The module frame's locals (one per extraction). */
  private readonly moduleLocals = new Map<string, Value>();

  moduleFrame(): Frame {
    return { scope: this.scopeOf(this.ctx.file.root), locals: this.moduleLocals, self: null, cls: null, depth: 0, unroll: null, trace: null };
  }

  bind(f: Frame, name: string, value: Value): void {
    f.locals.set(name, value);
    const c = constOf(value);
    // At module level nothing outer can be hidden, and locals are read first: a non-constant needs no
    // Scope entry there (this keeps the Scope chain short in long scripts).
    if (c === undefined && f.depth === 0 && f.locals === this.moduleLocals) return;
    f.scope = shadow(f.scope, name, c);
  }

  /** Runs a function or method. `positional` includes `self` for methods. */
  callFunction(def: Node, args: Args, owner: ClassInfo | null, caller: Frame, argumentsForRequired?: (name: string) => Value): Value {
    throwIfCancelled();
    if (caller.depth >= MAX_DEPTH) {
      const name = this.s.field(def, 'name');
      this.ctx.notes.limit('recursion', `${name?.text ?? 'function'}()`, rangeOf(name ?? def));
      return UNKNOWN;
    }
    if (!owner && !caller.trace && !this.relevant(def)) return UNKNOWN;
    const body = this.s.field(def, 'body');
    if (!body) return UNKNOWN;
    const defaults: Frame = { ...this.moduleFrame(), scope: this.scopeOf(def), depth: caller.depth + 1 };
    const f: Frame = { scope: this.scopeInside(def), locals: new Map(), self: null, cls: owner, depth: caller.depth + 1, unroll: caller.unroll, trace: caller.trace };
    let index = 0;
    let rest = false;
    for (const param of this.s.kids(this.s.field(def, 'parameters') ?? def)) {
      if (this.s.type(param) === 'list_splat_pattern' || this.s.type(param) === 'dictionary_splat_pattern') {
        const name = param.namedChild(0)?.text;
        if (name) this.bind(f, name, UNKNOWN);
        rest = true;
        continue;
      }
      if (this.s.type(param) === 'keyword_separator') {
        rest = true;
        continue;
      }
      const nameNode = this.s.type(param) === 'identifier' ? param : this.s.type(param) === 'typed_parameter' ? param.namedChild(0) : this.s.field(param, 'name');
      const name = nameNode && this.s.type(nameNode) === 'identifier' ? nameNode.text : null;
      if (!name) continue;
      const defaultNode = this.s.field(param, 'value');
      let value: Value | undefined = args.keywords.get(name);
      if (value === undefined && !rest && index < args.positional.length) value = args.positional[index];
      else if (value === undefined && !rest && args.partial) value = UNKNOWN;
      if (!rest) index++;
      // The model's own entry point (forward called by unknown code): optional parameters are unknown, not their defaults.
      if (value === undefined) value = defaultNode ? (args.optionalUnknown ? UNKNOWN : this.eval(defaultNode, defaults)) : argumentsForRequired ? argumentsForRequired(name) : UNKNOWN;
      this.bind(f, name, value);
    }
    const first = args.positional[0];
    if (owner && first?.t === 'instance') f.self = first.inst;
    this.ctx.entered.add(def.id);
    f.returns = [];
    const flow = this.execBlock(body, f);
    const last = flow?.kind === 'return' ? flow.value : constant(null);
    return f.returns.length ? mergeValues([...f.returns, last]) : last;
  }

  /** A method by MRO (same-file bases), with the class that defines it. */
  findMethod(cls: ClassInfo, name: string): { def: Node; owner: ClassInfo } | null {
    const def = cls.methods.get(name);
    if (def) return { def, owner: cls };
    for (const base of cls.bases) {
      const found = this.findMethod(base, name);
      if (found) return found;
    }
    return null;
  }

  instantiate(cls: ClassInfo, call: Node | null, args: Args, f: Frame): Value {
    if (f.depth >= MAX_DEPTH) {
      this.ctx.notes.limit('recursion', `${cls.name}(...)`, rangeOf(call ?? cls.node));
      return { t: 'opaque', node: call ?? cls.node, what: `${cls.name} nested too deeply` };
    }
    const inst: Instance = { cls, attrs: new Map(), seqItems: cls.torchBase === 'torch.nn.Sequential' ? [] : null, seqNames: [] };
    const self: Value = { t: 'instance', inst };
    const init = this.findMethod(cls, '__init__');
    if (init) this.callFunction(init.def, { ...args, positional: [self, ...args.positional] }, init.owner, f);
    else if (inst.seqItems) this.fillSequential(inst, args);
    else if (!isModuleClass(cls)) this.fillFields(inst, args);
    if (call && f.cls === null && isModuleClass(cls)) {
      let sites = this.ctx.instances.get(cls);
      if (!sites) this.ctx.instances.set(cls, (sites = new Map<number, { call: Node; inst: Instance }>()));
      if (!sites.has(call.id)) sites.set(call.id, { call, inst });
    }
    return self;
  }

  /** A dataclass-like class without __init__: arguments bind to the annotated fields in order. */
  private fillFields(inst: Instance, args: Args): void {
    const fields = classFields(inst.cls);
    fields.forEach((name, i) => {
      const v = args.keywords.get(name) ?? args.positional[i];
      if (v) inst.attrs.set(name, v);
    });
  }

  private fillSequential(inst: Instance, args: Args): void {
    const seq = sequentialOf(this, args, null);
    if (seq.t !== 'seq') return;
    inst.seqItems = seq.items;
    inst.seqNames = seq.names;
  }

  // ---------------------------------------------------------------- statements

  execBlock(block: Node, f: Frame): Flow {
    for (const stmt of this.s.kids(block)) {
      const flow = this.execStatement(stmt, f);
      if (flow) return flow;
    }
    return undefined;
  }

  private execStatement(stmt: Node, f: Frame): Flow {
    // A hard budget per file: whatever remains unexecuted stays unknown, with one note where it ran out.
    if (++this.steps > MAX_STEPS) {
      if (this.steps === MAX_STEPS + 1) this.ctx.notes.limit('steps', stmt.text.split('\n')[0] ?? '', rangeOf(stmt));
      return undefined;
    }
    switch (this.s.type(stmt)) {
      case 'expression_statement': {
        for (const expr of this.s.kids(stmt)) this.execExpression(expr, f);
        return undefined;
      }
      case 'return_statement': {
        const e = stmt.namedChild(0);
        return { kind: 'return', value: e ? this.eval(e, f) : constant(null) };
      }
      case 'break_statement':
        return { kind: 'break' };
      case 'continue_statement':
        return { kind: 'continue' };
      case 'if_statement':
        return this.execIf(stmt, f);
      case 'for_statement':
        return this.execFor(stmt, f);
      case 'while_statement': {
        const body = this.s.field(stmt, 'body');
        if (!body) return undefined;
        if (f.trace) return this.loopOnce(body, f);
        this.forgetAssigned(body, f, stmt);
        return undefined;
      }
      case 'with_statement':
      case 'block': {
        const body = this.s.type(stmt) === 'block' ? stmt : this.s.field(stmt, 'body');
        return body ? this.execBlock(body, f) : undefined;
      }
      case 'try_statement': {
        const body = this.s.field(stmt, 'body');
        const flow = body ? this.execBlock(body, f) : undefined;
        if (flow) return flow;
        const fin = this.s.kids(stmt).find((c) => this.s.type(c) === 'finally_clause');
        const finBody = fin ? this.s.kids(fin).find((c) => this.s.type(c) === 'block') : undefined;
        return finBody ? this.execBlock(finBody, f) : undefined;
      }
      case 'function_definition': {
        const name = this.s.field(stmt, 'name')?.text;
        if (name) this.bind(f, name, { t: 'fn', def: stmt, self: null });
        return undefined;
      }
      case 'decorated_definition': {
        const def = this.s.field(stmt, 'definition');
        return def && this.s.type(def) === 'function_definition' ? this.execStatement(def, f) : undefined;
      }
      default:
        return undefined;
    }
  }

  /** Runs a loop body once (forward over an unknown number of steps). */
  private loopOnce(body: Node, f: Frame): Flow {
    const flow = this.execBlock(body, f);
    return flow?.kind === 'return' ? flow : undefined;
  }

  /**
   * `if` / `elif` / `else`. Known conditions pick their branch. From the first condition whose value
   * is unknown on, every remaining branch is explored (plus the implicit empty `else`) on a fork of
   * the frame, and the forks are merged: names that differ become the merge of their values, layers
   * made or applied on a branch are marked conditional, and a branch that returns adds its value to
   * the call's possible results.
   */
  private execIf(stmt: Node, f: Frame): Flow {
    const branches: { cond: Node | null; body: Node | null }[] = [{ cond: this.s.field(stmt, 'condition'), body: this.s.field(stmt, 'consequence') }];
    for (const alt of stmt.childrenForFieldName('alternative')) {
      if (!alt) continue;
      if (this.s.type(alt) === 'elif_clause') branches.push({ cond: this.s.field(alt, 'condition'), body: this.s.field(alt, 'consequence') });
      else branches.push({ cond: null, body: this.s.field(alt, 'body') ?? this.s.kids(alt).find((c) => this.s.type(c) === 'block') ?? null });
    }
    for (let i = 0; i < branches.length; i++) {
      const { cond, body } = branches[i]!;
      const truth = cond ? this.truth(this.eval(cond, f)) : true;
      if (truth === false) continue;
      if (truth === true) return body ? this.execBlock(body, f) : undefined;
      const paths = branches.slice(i);
      if (paths[paths.length - 1]!.cond !== null) paths.push({ cond: null, body: null });
      return this.explore(paths.map((p) => p.body), f);
    }
    return undefined;
  }

  /** Runs each body on a fork of `f` (null: a path that does nothing) and merges the forks back into `f`. */
  private explore(bodies: (Node | null)[], f: Frame): Flow {
    f.returns ??= [];
    const ends: Map<string, Value>[] = [];
    const returned: Value[] = [];
    let breaks = 0;
    if (f.trace) f.trace.conditional++;
    this.conditional++;
    // The module being built: each branch starts from its attributes as they were, and they merge too.
    const self = f.self;
    const attrsBefore = self ? new Map(self.attrs) : null;
    const attrEnds: Map<string, Value>[] = [];
    try {
      for (const body of bodies) {
        if (self && attrsBefore) resetMap(self.attrs, attrsBefore);
        const fork: Frame = { ...f, locals: new Map(f.locals) };
        const flow = body ? this.execBlock(body, fork) : undefined;
        if (self) attrEnds.push(new Map(self.attrs));
        if (flow?.kind === 'return') returned.push(flow.value);
        else {
          if (flow?.kind === 'break') breaks++;
          ends.push(fork.locals);
        }
      }
    } finally {
      if (f.trace) f.trace.conditional--;
      this.conditional--;
    }
    if (self && attrsBefore) {
      const merged = new Map<string, Value>();
      for (const name of new Set([...attrsBefore.keys(), ...attrEnds.flatMap((m) => [...m.keys()])])) {
        const values = attrEnds.map((m) => m.get(name) ?? attrsBefore.get(name)).filter((v): v is Value => v !== undefined);
        merged.set(name, mergeValues(values));
      }
      resetMap(self.attrs, merged);
    }
    if (ends.length === 0) return { kind: 'return', value: mergeValues(returned) };
    f.returns.push(...returned);
    const names = new Set(ends.flatMap((m) => [...m.keys()]));
    for (const name of names) {
      const before = f.locals.get(name);
      const values = ends.map((m) => m.get(name) ?? before ?? UNKNOWN);
      const merged = mergeValues(values);
      if (merged !== before) this.bind(f, name, merged);
    }
    return breaks === ends.length ? { kind: 'break' } : undefined;
  }

  private execFor(stmt: Node, f: Frame): Flow {
    const left = this.s.field(stmt, 'left');
    const right = this.s.field(stmt, 'right');
    const body = this.s.field(stmt, 'body');
    if (!left || !right || !body) return undefined;
    let items = this.iterate(this.eval(right, f));
    // Nested constant loops multiply: past the cap (or the file's budget) the loop counts as unbounded.
    if (items && (this.unrolledProduct * items.length > MAX_UNROLLED || this.steps > MAX_STEPS / 2)) {
      this.ctx.notes.limit('loop', `for ${left.text} in ${right.text}`, rangeOf(stmt));
      items = undefined;
    }
    if (!items) {
      if (f.trace) {
        this.assign(left, UNKNOWN, f);
        return this.loopOnce(body, f);
      }
      this.forgetAssigned(body, f, stmt);
      return undefined;
    }
    const outer = f.unroll;
    const product = this.unrolledProduct;
    this.unrolledProduct = product * Math.max(1, items.length);
    try {
      for (let i = 0; i < items.length; i++) {
        f.unroll = { index: i, count: items.length };
        this.assign(left, items[i]!, f);
        const flow = this.execBlock(body, f);
        if (flow?.kind === 'break') break;
        if (flow?.kind === 'return') return flow;
      }
    } finally {
      f.unroll = outer;
      this.unrolledProduct = product;
    }
    const orelse = this.s.field(stmt, 'alternative');
    const elseBody = orelse ? this.s.kids(orelse).find((c) => this.s.type(c) === 'block') : undefined;
    return elseBody ? this.execBlock(elseBody, f) : undefined;
  }

  /**
   * A loop whose bounds are unknown: whatever it assigns or appends to is no longer known. Module
   * containers it fills become opaque, so that calling them in forward is an unknown layer.
   */
  private forgetAssigned(body: Node, f: Frame, loop: Node): void {
    const opaque: Value = { t: 'opaque', node: loop, what: 'layers built in a loop with non-constant bounds' };
    const forget = (target: Node | null) => {
      if (!target) return;
      const t = this.s.unparen(target);
      if (this.s.type(t) === 'identifier') this.bind(f, t.text, opaque);
      else if (this.s.type(t) === 'attribute' && this.s.field(t, 'object')?.text === 'self' && f.self) {
        const name = this.s.field(t, 'attribute')?.text;
        if (name) f.self.attrs.set(name, opaque);
      } else if (this.s.type(t) === 'pattern_list' || this.s.type(t) === 'tuple_pattern' || this.s.type(t) === 'list_pattern') this.s.kids(t).forEach(forget);
    };
    // Only statements can assign or register layers: expressions are not descended into (large files).
    const visit = (n: Node) => {
      if (this.s.type(n) === 'function_definition' || this.s.type(n) === 'class_definition' || this.s.type(n) === 'decorated_definition') return;
      if (this.s.type(n) === 'expression_statement') {
        for (const expr of this.s.kids(n)) {
          if (this.s.type(expr) === 'assignment' || this.s.type(expr) === 'augmented_assignment') forget(this.s.field(expr, 'left'));
          if (this.s.type(expr) !== 'call') continue;
          const fn = this.s.field(expr, 'function');
          const method = fn && this.s.type(fn) === 'attribute' ? this.s.field(fn, 'attribute')?.text : null;
          if (method && ['append', 'extend', 'insert', 'add_module', 'update'].includes(method)) forget(this.s.fieldOf(fn, 'object'));
          if (method === 'add_module' && this.s.fieldOf(fn, 'object')?.text === 'self' && f.self?.seqItems) f.self.seqItems.push(opaque);
        }
        return;
      }
      if (this.s.type(n) === 'for_statement') forget(this.s.field(n, 'left'));
      for (const c of this.s.kids(n)) if (this.s.type(c) !== 'expression_statement' || c.text.includes('=') || c.text.includes('(')) visit(c);
    };
    visit(body);
  }

  private execExpression(expr: Node, f: Frame): void {
    if (this.s.type(expr) === 'assignment') {
      const right = this.s.field(expr, 'right');
      if (!right) return;
      // Chained `a = b = value`: the innermost right side is the value.
      let valueNode = right;
      const targets = [this.s.field(expr, 'left')];
      while (this.s.type(valueNode) === 'assignment') {
        targets.push(this.s.field(valueNode, 'left'));
        const next = this.s.field(valueNode, 'right');
        // A chain whose last link has no right side (broken code) assigns nothing.
        if (!next) return;
        valueNode = next;
      }
      const value = this.eval(valueNode, f);
      for (const t of targets) if (t) this.assign(t, value, f);
      return;
    }
    if (this.s.type(expr) === 'augmented_assignment') {
      const left = this.s.field(expr, 'left');
      const right = this.s.field(expr, 'right');
      const op = this.s.field(expr, 'operator')?.text.replace('=', '') ?? '';
      if (!left || !right) return;
      const current = this.eval(left, f);
      const value = this.eval(right, f);
      if (current.t === 'list' && op === '+') {
        const more = this.iterate(value);
        if (more) current.items.push(...more);
        else this.assign(left, { t: 'opaque', node: expr, what: `unknown items added to ${left.text}` }, f);
        return;
      }
      this.assign(left, this.combine(op, current, value, expr, f), f);
      return;
    }
    this.eval(expr, f);
  }

  assign(target: Node, value: Value, f: Frame): void {
    const t = this.s.unparen(target);
    switch (this.s.type(t)) {
      case 'identifier':
        // A raw weight is named after its variable (`w1`), as a module after its attribute.
        if (value.t === 'param' && value.raw && !value.slot.layer.name) value.slot.layer.name = t.text;
        this.bind(f, t.text, value);
        return;
      case 'attribute': {
        const obj = this.s.field(t, 'object');
        const name = this.s.field(t, 'attribute')?.text;
        if (!obj || !name) return;
        const holder = this.eval(obj, f);
        if (value.t === 'param' && value.raw && !value.slot.layer.name) value.slot.layer.name = name;
        if (holder.t === 'instance') holder.inst.attrs.set(name, value);
        return;
      }
      case 'subscript': {
        const holder = this.eval(this.s.required(t, 'value'), f);
        const key = constOf(this.eval(this.s.required(t, 'subscript'), f));
        if (holder.t === 'dict' && typeof key === 'string') holder.entries.set(key, value);
        if (holder.t === 'list' && typeof key === 'number' && holder.items[key] !== undefined) holder.items[key] = value;
        return;
      }
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list': {
        const targets = this.s.kids(t);
        const items = value.t === 'list' ? value.items : value.t === 'const' && Array.isArray(value.v) ? value.v.map(constant) : null;
        targets.forEach((target, i) => {
          // A tensor result unpacks into tensors from the same layer (`out, (h, c) = self.lstm(x)`).
          const item = items ? (items[i] ?? UNKNOWN) : value.t === 'tensor' ? value : UNKNOWN;
          this.assign(this.s.type(target) === 'list_splat_pattern' ? target.namedChild(0) ?? target : target, item, f);
        });
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- expressions

  eval(node: Node, f: Frame): Value {
    const n = this.s.unparen(node);
    switch (this.s.type(n)) {
      case 'identifier':
        return this.name(n, f);
      case 'attribute':
        return this.attribute(n, f);
      case 'subscript':
        return this.subscript(n, f);
      case 'call':
        return this.call(n, f);
      case 'list':
      case 'tuple':
      case 'expression_list':
      case 'set': {
        const items: Value[] = [];
        for (const c of this.s.kids(n)) {
          if (this.s.type(c) === 'list_splat') {
            const inner = this.iterate(this.eval(c.namedChild(0)!, f));
            if (!inner) return { t: 'opaque', node: c, what: `unknown items of ${c.text}` };
            items.push(...inner);
          } else items.push(this.eval(c, f));
        }
        return { t: 'list', items };
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension': {
        const items = this.comprehension(n, f);
        return items ? { t: 'list', items } : { t: 'opaque', node: n, what: 'comprehension with non-constant bounds' };
      }
      case 'dictionary': {
        const entries = new Map<string, Value>();
        for (const pair of this.s.kids(n)) {
          if (this.s.type(pair) !== 'pair') return UNKNOWN;
          const key = constOf(this.eval(this.s.required(pair, 'key'), f));
          if (typeof key !== 'string') return UNKNOWN;
          entries.set(key, this.eval(this.s.required(pair, 'value'), f));
        }
        return { t: 'dict', entries };
      }
      case 'binary_operator': {
        const op = this.s.field(n, 'operator')?.text ?? '';
        return this.combine(op, this.eval(this.s.required(n, 'left'), f), this.eval(this.s.required(n, 'right'), f), n, f);
      }
      case 'unary_operator': {
        const v = this.eval(this.s.required(n, 'argument'), f);
        if (v.t === 'tensor') return v;
        const c = constOf(v);
        const op = this.s.field(n, 'operator')?.text;
        return typeof c === 'number' ? constant(op === '-' ? -c : op === '~' ? ~c : c) : UNKNOWN;
      }
      case 'not_operator': {
        const t = this.truth(this.eval(this.s.required(n, 'argument'), f));
        return t === undefined ? UNKNOWN : constant(!t);
      }
      case 'boolean_operator': {
        const op = this.s.field(n, 'operator')?.text;
        const left = this.eval(this.s.required(n, 'left'), f);
        const lt = this.truth(left);
        if (lt === undefined) return UNKNOWN;
        if (op === 'and' ? !lt : lt) return left;
        return this.eval(this.s.required(n, 'right'), f);
      }
      case 'comparison_operator':
        return this.comparison(n, f);
      case 'conditional_expression': {
        const [body, condition, alternative] = this.s.kids(n);
        if (!body || !condition || !alternative) return UNKNOWN;
        const t = this.truth(this.eval(condition, f));
        if (t === undefined) return f.trace ? this.eval(body, f) : UNKNOWN;
        return this.eval(t ? body : alternative, f);
      }
      case 'string':
        return this.string(n, f);
      case 'lambda':
        return UNKNOWN;
      case 'yield':
      case 'await': {
        const inner = this.s.kids(n)[0];
        return inner ? this.eval(inner, f) : constant(null);
      }
      default: {
        const v = f.scope.evaluate(n);
        return v === undefined ? UNKNOWN : constant(v);
      }
    }
  }

  private string(n: Node, f: Frame): Value {
    const plain = stringValue(n);
    if (plain !== null) return constant(plain);
    // f-string: every interpolation must be a constant.
    let out = '';
    for (const part of this.s.kids(n)) {
      if (this.s.type(part) === 'string_content' || this.s.type(part) === 'escape_sequence') out += part.text;
      else if (this.s.type(part) === 'interpolation') {
        const expr = this.s.field(part, 'expression') ?? part.namedChild(0);
        const v = expr ? constOf(this.eval(expr, f)) : undefined;
        if (v === undefined) return UNKNOWN;
        out += str(v);
      }
    }
    return constant(out);
  }

  private isImported(dotted: string, f: Frame): boolean {
    const dot = dotted.indexOf('.');
    const head = dot < 0 ? dotted : dotted.slice(0, dot);
    return !f.locals.has(head) && this.ctx.file.imports.has(head);
  }

  private name(n: Node, f: Frame): Value {
    const text = n.text;
    const local = f.locals.get(text);
    if (local) return local;
    const c = f.scope.evaluate(n);
    if (c !== undefined) return constant(c);
    const cls = this.ctx.classes.get(text);
    if (cls) return { t: 'class', cls };
    const fn = this.ctx.functions.get(text);
    if (fn) return { t: 'fn', def: fn, self: null };
    if (this.ctx.file.imports.has(text)) return { t: 'ctor', qualified: this.ctx.file.imports.resolve(text), spelling: text };
    const bound = f.scope.lookup(text);
    if (bound && f.depth < MAX_DEPTH) {
      // A name bound once elsewhere (e.g. a module-level `act = nn.ReLU()`): evaluate where it is written.
      return this.eval(bound, { ...this.moduleFrame(), scope: Scope.of(bound), depth: f.depth + 2, unroll: f.unroll });
    }
    return UNKNOWN;
  }

  private attribute(n: Node, f: Frame): Value {
    const dotted = this.s.dottedName(n);
    if (dotted && this.isImported(dotted, f)) {
      const c = f.scope.evaluate(n);
      if (c !== undefined) return constant(c);
      return { t: 'ctor', qualified: this.ctx.file.imports.resolve(dotted), spelling: dotted };
    }
    const objNode = this.s.required(n, 'object');
    const name = this.s.field(n, 'attribute')?.text ?? '';
    if (name === '__name__') {
      const of = this.s.type(objNode) === 'attribute' && this.s.field(objNode, 'attribute')?.text === '__class__' ? this.eval(this.s.required(objNode, 'object'), f) : this.eval(objNode, f);
      const cn = classNameOf(of);
      return cn === undefined ? UNKNOWN : constant(cn);
    }
    const obj = this.eval(objNode, f);
    return this.member(obj, name);
  }

  member(obj: Value, name: string): Value {
    switch (obj.t) {
      case 'instance': {
        const attr = obj.inst.attrs.get(name);
        if (attr) return attr;
        const method = this.findMethod(obj.inst.cls, name);
        if (method) return { t: 'fn', def: method.def, self: decoratedWith(method.def, 'staticmethod') ? null : obj.inst };
        return this.classAttr(obj.inst.cls, name);
      }
      case 'layer': {
        const param = paramOf(obj.slot, name);
        if (param) return param;
        const size = sizeAttribute(obj.slot.layer, name);
        return size === undefined ? UNKNOWN : constant(size);
      }
      case 'dict':
        // nn.ModuleDict entries are attributes too (`self.transformer.wte`).
        return obj.entries.get(name) ?? UNKNOWN;
      case 'param':
        return name === 'data' ? obj : name === 'ndim' ? constant(obj.spec.dim) : UNKNOWN;
      case 'tensor':
        return name === 'T' || name === 'mT' || name === 'data' || name === 'real' ? obj : UNKNOWN;
      case 'class': {
        const method = this.findMethod(obj.cls, name);
        return method ? { t: 'fn', def: method.def, self: null } : this.classAttr(obj.cls, name);
      }
      case 'ctor':
        return { t: 'ctor', qualified: `${obj.qualified}.${name}`, spelling: `${obj.spelling}.${name}` };
      default:
        return UNKNOWN;
    }
  }

  /** A class-body attribute (`expansion = 4`, dataclass defaults), evaluated once per class. */
  private classAttr(cls: ClassInfo, name: string): Value {
    let perClass = this.classAttrs.get(cls);
    if (!perClass) this.classAttrs.set(cls, (perClass = new Map<string, Value>()));
    let value = perClass.get(name);
    if (value === undefined) {
      const node = classAttribute(cls, name);
      value = node ? this.eval(node, { ...this.moduleFrame(), scope: this.scopeInside(cls.node), depth: MAX_DEPTH - 2 }) : UNKNOWN;
      perClass.set(name, value);
    }
    return value;
  }

  private subscript(n: Node, f: Frame): Value {
    const value = this.eval(this.s.required(n, 'value'), f);
    if (value.t === 'tensor') return value;
    const indexNodes = n.childrenForFieldName('subscript').filter((c): c is Node => c !== null);
    if (indexNodes.length !== 1) return UNKNOWN;
    const indexNode = indexNodes[0]!;
    const items = value.t === 'list' || value.t === 'seq' ? value.items : value.t === 'instance' && value.inst.seqItems ? value.inst.seqItems : value.t === 'const' && Array.isArray(value.v) ? value.v.map(constant) : null;
    if (this.s.type(indexNode) === 'slice') {
      if (!items) return UNKNOWN;
      const parts = this.sliceBounds(indexNode, f);
      if (!parts) return UNKNOWN;
      const [start, stop, step] = parts;
      const len = items.length;
      const norm = (v: number | null, dflt: number) => (v === null ? dflt : v < 0 ? Math.max(0, len + v) : Math.min(v, len));
      const out: Value[] = [];
      if (step > 0) for (let i = norm(start, 0); i < norm(stop, len); i += step) out.push(items[i]!);
      else for (let i = start === null ? len - 1 : norm(start, len - 1); i > (stop === null ? -1 : norm(stop, -1)); i += step) if (items[i]) out.push(items[i]!);
      if (value.t === 'seq') return { t: 'seq', items: out, names: [], origin: null };
      if (value.t === 'const') return constant(out.map((v) => constOf(v) ?? null));
      return { t: 'list', items: out };
    }
    const key = constOf(this.eval(indexNode, f));
    if (typeof key === 'number' && items) return items[key < 0 ? items.length + key : key] ?? UNKNOWN;
    if (typeof key === 'string') {
      if (value.t === 'dict') return value.entries.get(key) ?? UNKNOWN;
      if (value.t === 'seq') {
        const i = value.names.indexOf(key);
        return i >= 0 ? value.items[i]! : UNKNOWN;
      }
    }
    return UNKNOWN;
  }

  private sliceBounds(slice: Node, f: Frame): [number | null, number | null, number] | null {
    // Slice children in order with ':' tokens between them; absent parts are null.
    const parts: (number | null)[] = [null, null, null];
    let index = 0;
    for (let i = 0; i < slice.childCount; i++) {
      const c = slice.child(i);
      if (!c) continue;
      if (this.s.type(c) === ':') {
        index++;
        continue;
      }
      const v = constOf(this.eval(c, f));
      if (typeof v !== 'number') return null;
      parts[index] = v;
    }
    const step = parts[2] ?? 1;
    return step === 0 ? null : [parts[0]!, parts[1]!, step];
  }

  private comprehension(n: Node, f: Frame): Value[] | null {
    const body = this.s.field(n, 'body');
    if (!body) return null;
    const clauses = this.s.kids(n).filter((c) => this.s.type(c) === 'for_in_clause' || this.s.type(c) === 'if_clause');
    const inner: Frame = { ...f, locals: new Map(f.locals) };
    const out: Value[] = [];
    const run = (i: number): boolean => {
      if (i === clauses.length) {
        out.push(this.eval(body, inner));
        return out.length <= MAX_ITERATIONS * 4;
      }
      const clause = clauses[i]!;
      if (this.s.type(clause) === 'if_clause') {
        const t = this.truth(this.eval(clause.namedChild(0)!, inner));
        if (t === undefined) return false;
        return t ? run(i + 1) : true;
      }
      const left = this.s.field(clause, 'left');
      const right = this.s.field(clause, 'right');
      const items = right ? this.iterate(this.eval(right, inner)) : undefined;
      if (!left || !items) return false;
      const outer = inner.unroll;
      for (let k = 0; k < items.length; k++) {
        inner.unroll = { index: k, count: items.length };
        this.assign(left, items[k]!, inner);
        if (!run(i + 1)) return false;
      }
      inner.unroll = outer;
      return true;
    };
    return run(0) ? out : null;
  }

  /** The items a `for` loop would visit; undefined when unknown. */
  iterate(value: Value): Value[] | undefined {
    switch (value.t) {
      case 'list':
      case 'seq':
        return value.items;
      case 'dict':
        return [...value.entries.keys()].map(constant);
      case 'instance':
        return value.inst.seqItems ?? undefined;
      case 'const':
        if (Array.isArray(value.v)) return value.v.length <= MAX_ITERATIONS ? value.v.map(constant) : undefined;
        if (typeof value.v === 'string') return [...value.v].map(constant);
        return undefined;
      case 'opaque':
        return [value];
      default:
        return undefined;
    }
  }

  truth(value: Value): boolean | undefined {
    switch (value.t) {
      case 'const':
        return truthy(value.v);
      case 'list':
        return value.items.length > 0;
      case 'dict':
        return value.entries.size > 0;
      case 'layer':
      case 'seq':
      case 'instance':
      case 'param':
      case 'class':
      case 'fn':
        return true;
      default:
        return undefined;
    }
  }

  private comparison(n: Node, f: Frame): Value {
    // `a < b < c`: operands and operators alternate; operators may be two tokens ("is not", "not in").
    const operands = this.s.kids(n).map((c) => this.eval(c, f));
    const ops: string[] = [];
    let pending = '';
    for (let i = 0; i < n.childCount; i++) {
      const c = n.child(i);
      if (!c || c.isNamed) {
        if (pending) ops.push(pending.trim());
        pending = '';
        continue;
      }
      pending += ` ${this.s.type(c)}`;
    }
    let result = true;
    for (let i = 0; i < ops.length; i++) {
      const r = this.compareValues(ops[i]!, operands[i]!, operands[i + 1]!);
      if (r === undefined) return UNKNOWN;
      result = result && r;
    }
    return constant(result);
  }

  private compareValues(op: string, a: Value, b: Value): boolean | undefined {
    const ca = constOf(a);
    const cb = constOf(b);
    if (ca !== undefined && cb !== undefined) return compare(op, ca, cb);
    const same = sameClass(a, b);
    if (same !== undefined && (op === '==' || op === 'is')) return same;
    if (same !== undefined && (op === '!=' || op === 'is not')) return !same;
    if ((op === 'in' || op === 'not in') && b.t === 'list') {
      const hits = b.items.map((item) => (constOf(item) !== undefined && ca !== undefined ? compare('==', ca, constOf(item)) : sameClass(a, item)));
      const found = hits.some((h) => h === true) ? true : hits.every((h) => h === false) ? false : undefined;
      return found === undefined ? undefined : op === 'in' ? found : !found;
    }
    // A module, parameter or class is never None.
    const known = (v: Value) => v.t === 'layer' || v.t === 'seq' || v.t === 'instance' || v.t === 'param' || v.t === 'class' || v.t === 'ctor';
    if ((known(a) && cb === null) || (known(b) && ca === null)) return op === 'is not' || op === '!=' ? true : op === 'is' || op === '==' ? false : undefined;
    return undefined;
  }

  /** The trace of raw-weight products outside any forward, when `values` carry data from it. */
  rawTrace(...values: Value[]): Trace | null {
    const raw = this.ctx.raw;
    return raw && values.some((v) => v.t === 'tensor' && v.from.some((k) => raw.nodes[k]?.raw === true)) ? raw : null;
  }

  /** `x @ W` with a raw weight W: W's linear layer applied to x (in forward's trace, or the file's raw-weight trace). */
  rawLinear(w: Extract<Value, { t: 'param' }>, x: Value, outputsFirst: boolean, n: Node, f: Frame): Value {
    orient(w, outputsFirst);
    if (!w.slot.layer.name) w.slot.layer.name = n.text.length <= 40 ? n.text : 'weight';
    const trace = f.trace ?? (this.ctx.raw ??= new Trace());
    const from = x.t === 'tensor' ? x.from : [];
    const index = trace.add(w.slot, from.length ? from : [MODEL_INPUT], !f.trace);
    return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
  }

  /** A binary operator: constants compute, lists concatenate/repeat, tensors merge. */
  private combine(op: string, a: Value, b: Value, n: Node, f: Frame): Value {
    if (op === '@') {
      const w = rawOperand(b);
      if (w) return this.rawLinear(w, a, w.raw!.transposed, n, f);
    }
    if (a.t === 'tensor' && a.weight && typeof constOf(b) === 'number') {
      const weight = scaled(a.weight, op, constOf(b) as number);
      if (weight) return { t: 'tensor', from: [], weight };
    }
    if (!f.trace && (op === '+' || op === '-')) {
      const raw = this.rawTrace(a, b);
      if (raw) return mergeTensors('add', [a, b], n, { ...f, trace: raw }, op);
    }
    if (op === '+' && f.trace) {
      const positioned = addPositions([a, b], n, f);
      if (positioned) return positioned;
    }
    if (a.t === 'tensor' || b.t === 'tensor') return mergeTensors(op === '+' || op === '-' ? 'add' : op === '*' ? 'multiply' : null, [a, b], n, f, op);
    if (op === '+' && a.t === 'list' && b.t === 'list') return { t: 'list', items: [...a.items, ...b.items] };
    if (op === '*' && a.t === 'list') {
      const times = constOf(b);
      if (typeof times !== 'number' || times > MAX_ITERATIONS) return UNKNOWN;
      // [nn.Linear(8, 8)] * 3 repeats one module object; the IR gives each application its own layer.
      const items: Value[] = [];
      for (let i = 0; i < times; i++) items.push(...a.items.map((item) => (constOf(item) !== undefined ? item : cloneValue(item, { index: i, count: times }))));
      return { t: 'list', items };
    }
    const v = arithmetic(op, constOf(a), constOf(b));
    return v === undefined ? UNKNOWN : constant(v);
  }

  // ---------------------------------------------------------------- calls

  evalArgs(list: ArgList, f: Frame): Args {
    const out: Args = { positional: [], keywords: new Map(), partial: false };
    if (!list) return out;
    if (this.s.type(list) !== 'argument_list') {
      // `f(x for x in xs)`: the generator is the only argument.
      out.positional.push(this.eval(list, f));
      return out;
    }
    for (const c of this.s.kids(list)) {
      if (this.s.type(c) === 'keyword_argument') {
        const name = this.s.field(c, 'name')?.text;
        const value = this.s.field(c, 'value');
        if (name && value) out.keywords.set(name, this.eval(value, f));
      } else if (this.s.type(c) === 'list_splat') {
        const items = this.iterate(this.eval(c.namedChild(0)!, f));
        if (items) out.positional.push(...items);
        else out.partial = true;
      } else if (this.s.type(c) === 'dictionary_splat') {
        const d = this.eval(c.namedChild(0)!, f);
        if (d.t === 'dict') for (const [k, v] of d.entries) out.keywords.set(k, v);
        else out.partial = true;
      } else if (this.s.type(c) !== 'comment') out.positional.push(this.eval(c, f));
    }
    return out;
  }

  private call(n: Node, f: Frame): Value {
    const fnNode = this.s.field(n, 'function');
    if (!fnNode) return UNKNOWN;
    const syntax: ArgList = this.s.field(n, 'arguments');
    if (this.s.type(fnNode) === 'attribute') {
      const dotted = this.s.dottedName(fnNode);
      if (dotted && this.isImported(dotted, f)) return libraryCall(this, this.ctx.file.imports.resolve(dotted), dotted, n, syntax, f);
      const objNode = this.s.required(fnNode, 'object');
      const method = this.s.field(fnNode, 'attribute')?.text ?? '';
      if (method === '__init__' && this.s.type(objNode) === 'call' && this.s.field(objNode, 'function')?.text === 'super') {
        this.superInit(this.evalArgs(syntax, f), f);
        return constant(null);
      }
      if (this.s.type(objNode) === 'call' && this.s.field(objNode, 'function')?.text === 'super' && f.cls && f.self) {
        const base = f.cls.bases.map((b) => this.findMethod(b, method)).find((m) => m);
        if (base) return this.callFunction(base.def, this.withSelf(this.evalArgs(syntax, f), f.self), base.owner, f);
        return UNKNOWN;
      }
      const obj = this.eval(objNode, f);
      const attr = obj.t === 'instance' ? obj.inst.attrs.get(method) : obj.t === 'dict' ? obj.entries.get(method) : undefined;
      if (attr) return this.callValue(attr, n, syntax, f);
      return methodCall(this, obj, method, n, syntax, f);
    }
    if (this.s.type(fnNode) === 'identifier' && !f.locals.has(fnNode.text)) {
      const name = fnNode.text;
      if (BUILTINS.has(name) && !this.ctx.functions.has(name) && !this.ctx.classes.has(name) && !this.ctx.file.imports.has(name)) return callBuiltin(this, name, n, this.evalArgs(syntax, f), f.scope);
      if (this.ctx.file.imports.has(name)) return libraryCall(this, this.ctx.file.imports.resolve(name), name, n, syntax, f);
    }
    return this.callValue(this.eval(fnNode, f), n, syntax, f);
  }

  withSelf(args: Args, self: Instance): Args {
    return { ...args, positional: [{ t: 'instance', inst: self }, ...args.positional] };
  }

  private superInit(args: Args, f: Frame): void {
    if (!f.cls || !f.self) return;
    for (const base of f.cls.bases) {
      const init = this.findMethod(base, '__init__');
      if (init) {
        this.callFunction(init.def, this.withSelf(args, f.self), init.owner, f);
        return;
      }
    }
    if (f.self.seqItems && f.self.seqItems.length === 0) this.fillSequential(f.self, args);
  }

  callValue(callee: Value, n: Node, syntax: ArgList, f: Frame): Value {
    switch (callee.t) {
      case 'loss':
        return UNKNOWN;
      case 'class':
        return this.instantiate(callee.cls, n, this.evalArgs(syntax, f), f);
      case 'ctor':
        return libraryCall(this, callee.qualified, callee.spelling, n, syntax, f);
      case 'fn': {
        const args = this.evalArgs(syntax, f);
        const owner = callee.self ? callee.self.cls : this.ownerOf(callee.def);
        return this.callFunction(callee.def, callee.self ? this.withSelf(args, callee.self) : args, owner, f);
      }
      case 'layer':
      case 'seq':
      case 'instance':
      case 'opaque':
      case 'list':
      case 'dict':
        if (!f.trace) return UNKNOWN;
        return apply(this, callee, this.evalArgs(syntax, f), n, f);
      default: {
        if (f.trace) {
          const args = this.evalArgs(syntax, f);
          if (hasTensor(args)) return barrier(this, n, `call ${this.s.field(n, 'function')?.text ?? 'call'}(...)`, args, f);
        }
        return f.trace ? UNKNOWN : { t: 'opaque', node: n, what: `module ${this.s.field(n, 'function')?.text ?? 'call'}(...)` };
      }
    }
  }

  ownerOf(def: Node): ClassInfo | null {
    const holder = def.parent?.type === 'decorated_definition' ? def.parent : def;
    const cls = holder.parent?.parent;
    if ((cls && this.s.type(cls)) !== 'class_definition') return null;
    return cls ? (this.ctx.classes.get(this.s.field(cls, 'name')?.text ?? '') ?? null) : null;
  }
}
