/**
 * A small abstract interpreter for the Python that builds and runs torch models. It never runs user
 * code: it walks statements with constant values, unrolls loops with constant bounds, constructs
 * module values (layers, containers, user module instances), applies initializer calls to their
 * parameters, and, with a Trace, follows tensors through `forward` to record layer calls in order.
 * Whatever it cannot know stays unknown; in `forward`, an unknown call on a tensor becomes an
 * 'unknown' layer so that no false adjacency is invented.
 */
import type { Node } from '../../python/syntax-tree';
import { Scope, type ConstValue } from '../../python/constants';
import type { PyFile } from '../../python/file';
import { namedChildren, rangeOf } from '../../python/syntax';
import type { EvalNotes } from '../../python/limits';
import { LIMITS } from '../../python/limits';
import { Evaluator, type BranchState, type DictValue, type EvalFrame, type Flow, type ListValue } from '../../python/evaluator';
import { arithmetic, compare, truthy } from '../../python/constops';
import type { ArgList, Args } from './args';
import { BUILTINS, callBuiltin } from './builtins';
import { libraryCall, methodCall, sequentialOf } from './calls';
import { classAttribute, classFields, findFunctions, findModuleClasses, isModuleClass } from './classes';
import { placeBuilt, placeOwn } from './imported';
import { mentionsBuilder, torchvisionBuilder, torchvisionSource } from './torchvision';
import type { AssignedAttributes, ImportedDefinitions } from '../types';
import type { Range } from '../../../shared/ir';
import { EvalNotes as FileNotes } from '../../python/limits';
import { hasTensor } from './flow';
import { addPositions, apply, barrier, finalStateDirection, mergeTensors, scaleBySize, scaleTensor, scaling, tensorOp, tensorOperation } from './forward';
import { sizeFactor } from './views';
import { childrenOf, classNameOf, cloneValue, paramOf, registerModule, sameClass, sizeAttribute } from './introspect';
import { MODEL_INPUT, Trace } from './trace';
import { orient, rawOperand, scaled } from './raw-weights';
import { methodOp } from './tensorops';
import { UNKNOWN, constOf, constant, leafSlots, mergeValues, type ClassInfo, type Closure, type Instance, type Value } from './values';
import { sourceSnippet } from '../../../shared/source-snippet';
import { WordSet } from '../../python/text-words';
import { ImportedHeads, withinPackages } from '../../python/imported-heads';
import { activationOfFormula } from '../../python/elementwise-formula';
import { handWrittenLayerNorm } from './layer-norm-formula';
import type { ActivationName } from '../../../shared/ir';
import { isRecurrent } from '../../../shared/layers';
import { trainsEachIteration } from '../training/loops';

const MAX_ITERATIONS = LIMITS.loopIterations;

/** Shared state of one file's interpretation. */

/** How a parameter shared by two layers (weight tying) is read. */
const TIED_WEIGHTS = 'weight tying is not read: the prediction and the probe give each of the two layers weights of its own, so their gradients are not summed';
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
  /** The first instantiation of a module class inside another class's methods (an encoder block a U-Net's __init__ builds). */
  inner?: Map<ClassInfo, { call: Node; inst: Instance }>;
  /** Limits reached and constructs not evaluated, for the file's notices. */
  notes: EvalNotes;
  /** Raw weight tensors multiplied outside any module's forward (a model written as tensor math). */
  raw?: Trace;
  /** Where the names this file imports from other files of the workspace are defined. */
  imported?: ImportedDefinitions;
  /** The workspace's functions that assign a dict to an attribute of an object they are given. */
  assigned?: AssignedAttributes;
  /** The interpreters of the files whose code this extraction runs, by path (this file's included). */
  homes?: Map<string, Interpreter>;
  /** A construction run once per entry of a config dict (see EntryFork); shared with the other files' interpreters. */
  fork?: EntryFork;
  /**
   * torchvision builder calls of this file that ask for trained weights, which are never read (each once,
   * by node id), with what each built: a model built from that value carries the note wherever the call is.
   */
  pretrained?: Map<number, { call: Node; built: Value }>;
}

/**
 * A construction that reads a dict with a key the code does not fix (`config['network'][args.dataset]`)
 * is run once per entry of that dict (see models.ts): while `listening`, the first such dict with
 * several entries is recorded in `met` (the caller notes how it was read); `chosen` is the entry the
 * current run reads wherever such a dict has it; `inner` the module classes other classes built in
 * each entry's run, first instance per entry.
 */
export interface EntryFork {
  chosen: string | null;
  listening: boolean;
  met: { entries: string[]; read: Node } | null;
  inner: Map<ClassInfo, Map<string, { call: Node; inst: Instance }>>;
}

/** A running function of the torch reader: the core's frame plus the module being built and the trace. */
export interface Frame extends EvalFrame<Value> {
  self: Instance | null;
  /** The class whose method runs (for super()). */
  cls: ClassInfo | null;
  trace: Trace | null;
}

const MAX_DEPTH = LIMITS.callDepth;

/** The core frame's fields torchFrame names; a field added to EvalFrame (an optional one too) makes its result `never`, a compile error there. */
type NamedFrameFields = 'scope' | 'locals' | 'depth' | 'unroll' | 'returns' | 'globalNames';
type NamedFrame = [Exclude<keyof EvalFrame<Value>, NamedFrameFields>] extends [never] ? Frame : never;

/**
 * A frame over the core's `base` with `locals`: the base's fields named, not spread (a spread per call
 * took V8's generic path, 1.2 ms of the analysis of a model-dense 5,000-line file).
 */
function torchFrame(base: EvalFrame<Value>, locals: Map<string, Value>, self: Instance | null, cls: ClassInfo | null, trace: Trace | null): NamedFrame {
  return { scope: base.scope, locals, depth: base.depth, unroll: base.unroll, returns: base.returns, globalNames: base.globalNames, self, cls, trace };
}

/** Whether a function definition carries a decorator such as @staticmethod. */
export function decoratedWith(def: Node, decorator: string): boolean {
  const holder = def.parent;
  if (holder?.type !== 'decorated_definition') return false;
  return namedChildren(holder).some((c) => c.type === 'decorator' && c.text.replace(/^@\s*/, '') === decorator);
}

/** Replaces a map's entries in place (instances keep their attribute map). */
function resetMap<K, V>(target: Map<K, V>, entries: Map<K, V>): void {
  target.clear();
  for (const [k, v] of entries) target.set(k, v);
}

/** What a model built by a torchvision builder asking for trained weights is read with. */
/** What a torchvision call that asks for trained weights is told (a note, and the models built from it: see models.ts). */
export function pretrainedNotRead(call: Node): string {
  return `${sourceSnippet(call.text)}: pretrained weights are not read; the model is read with torchvision's own initialization`;
}

/** Words without which a function cannot build, register or initialize torch modules. */
const MODULE_WORDS = /\b(nn|Sequential|ModuleList|ModuleDict|OrderedDict|init|apply|modules|children|parameters|named_parameters|named_modules|add_module|register_module|weight|bias|deepcopy|Linear|LSTM|GRU|RNN|Embedding)\b|\bConv|Norm\d?d?\b|_\(/g;

/** Packages whose objects are never torch modules, though their names share its words (`keras.Sequential`, `layers.LSTM`, `tf.nn`). */
const KERAS_PACKAGES = withinPackages(['keras', 'tensorflow']);

/** User-class instances within a module value (itself included), in registration order, each once (instances can hold each other). */
function instancesIn(value: Value, out: Instance[] = []): Instance[] {
  if (value.t === 'instance') {
    if (out.includes(value.inst)) return out;
    out.push(value.inst);
    value.inst.seqItems?.forEach((v) => instancesIn(v, out));
    value.inst.attrs.forEach((v) => instancesIn(v, out));
  } else if (value.t === 'seq' || value.t === 'list') value.items.forEach((v) => instancesIn(v, out));
  else if (value.t === 'dict') value.entries.forEach((v) => instancesIn(v, out));
  return out;
}

/** Where this file builds a module of another file's class: the line its layers point at. */
const builtAt = new WeakMap<Instance, Range>();

/**
 * Python builtins that, given one tensor, compute what a tensor method does: `sum(t)` adds the rows
 * (iterating the first dimension) as `t.sum(0)`, `abs(t)` is `t.abs()`. Read as those methods, not as
 * values the interpreter does not know (which would cut the layers before them off the output).
 */
const TENSOR_BUILTINS: ReadonlyMap<string, { method: string; args: number[] }> = new Map([
  ['sum', { method: 'sum', args: [0] }],
  ['abs', { method: 'abs', args: [] }],
]);

export class Interpreter extends Evaluator<Value, Frame, ClassInfo> {
  private readonly relevance = new Map<number, boolean>();
  private readonly classAttrs = new Map<ClassInfo, Map<string, Value>>();
  /** The file's classes and functions and the names it imports from the workspace (as words: see relevant). */
  private readonly knownNames: WordSet;
  /** Names this file imports from other files of the workspace. */
  private readonly importedNames: Set<string>;
  /** The names its imports bind, through which a dotted name may reach a workspace file (`layers.ConvBN`, see importedValue). */
  private readonly boundByImports: Set<string>;
  private readonly homes: Map<string, Interpreter>;
  /** The interpreter of the file whose models are extracted (not one made for another file's code). */
  private readonly isRoot: boolean;
  /** The call expression being evaluated (where code of another file is entered from). */
  private currentCall: Node | null = null;
  /** Objects handed to a function run to see what it assigns them (see assignedElsewhere); their attributes are recorded. */
  private readonly recorders = new Set<Value>();
  /** Notes given once per file (see noteOnce). */
  private readonly noted = new Set<string>();
  /** Dotted names of Keras / TensorFlow objects, whose words MODULE_WORDS would take for torch's. */
  private readonly kerasNames: ImportedHeads;
  /** Per definition: the activation its body computes as a formula of its one tensor argument (elementwise-formula.ts). */
  private readonly formulas = new Map<number, ActivationName | null>();

  constructor(readonly ctx: Context) {
    super(ctx.notes);
    this.isRoot = !ctx.homes;
    this.homes = ctx.homes ?? new Map<string, Interpreter>();
    if (!this.homes.has(ctx.file.path)) this.homes.set(ctx.file.path, this);
    const imported = ctx.imported;
    this.importedNames = new Set(imported ? [...ctx.file.imports.bindings.filter((b) => imported(ctx.file.path, b.local)).map((b) => b.local), ...(imported.starNames?.(ctx.file.path) ?? [])] : []);
    // Any import may be a module object (`from nets import layers` binds a module as well as a name).
    this.boundByImports = new Set(imported ? ctx.file.imports.bindings.filter((b) => b.symbol !== '*').map((b) => b.local) : []);
    this.kerasNames = new ImportedHeads(ctx.file, KERAS_PACKAGES);
    this.knownNames = new WordSet([...ctx.classes.keys(), ...ctx.functions.keys(), ...this.importedNames].map((n) => n.replace(/[^\w]/g, '')).filter((n) => n !== ''));
  }

  // ---------------------------------------------------------------- code of other files

  /** The interpreter of the file `node` belongs to (this one, or one made for an imported file). */
  private homeOf(node: Node): Interpreter {
    if (node.tree === this.ctx.file.syntax) return this;
    for (const home of this.homes.values()) if (node.tree === home.ctx.file.syntax) return home;
    return this;
  }

  /** The interpreter that runs the code of another file (made on first use). */
  private homeFor(file: PyFile): Interpreter {
    let home = this.homes.get(file.path);
    if (!home) {
      // Its notes are not this file's: what it cannot follow shows as unknown layers here.
      home = new Interpreter({ file, classes: findModuleClasses(file), functions: findFunctions(file), entered: new Set(), sequentials: new Map(), instances: new Map(), notes: new FileNotes(), ...(this.ctx.imported ? { imported: this.ctx.imported } : {}), ...(this.ctx.assigned ? { assigned: this.ctx.assigned } : {}), ...(this.ctx.fork ? { fork: this.ctx.fork } : {}), homes: this.homes });
      this.homes.set(file.path, home);
    }
    return home;
  }

  /**
   * The class or function `name` imports from another file of the workspace, run by that file's interpreter;
   * `name` may reach it through an imported module object (`layers.ConvBN` with `import layers`).
   */
  private importedValue(name: string): Value | null {
    if (!this.importedNames.has(name) && !(name.includes('.') && this.boundByImports.has(name.slice(0, name.indexOf('.'))))) return null;
    const target = this.ctx.imported?.(this.ctx.file.path, name);
    if (!target) return null;
    const home = this.homeFor(target.file);
    const cls = home.ctx.classes.get(target.symbol);
    if (cls) return { t: 'class', cls };
    const fn = home.ctx.functions.get(target.symbol);
    return fn ? { t: 'fn', def: fn, self: null } : null;
  }

  /** A function `importer` (another file of the workspace) imports as `local`, run by its file's interpreter; null when none. */
  importedFunction(importer: string, local: string): Extract<Value, { t: 'fn' }> | null {
    const target = this.ctx.imported?.(importer, local);
    const fn = target ? this.homeFor(target.file).ctx.functions.get(target.symbol) : undefined;
    return fn ? { t: 'fn', def: fn, self: null } : null;
  }

  /** A module another file's code built for this file's `call`: its own layers point at the call (see imported.ts). */
  private placeHere(built: Value, args: Args, call: Node, from?: string): void {
    if (built.t !== 'instance' && built.t !== 'layer') return;
    const at = rangeOf(call);
    // Modules inside it (a torchvision model's blocks) run from here too, wherever they end up.
    for (const inst of instancesIn(built)) if (!builtAt.has(inst)) builtAt.set(inst, at);
    const given = new Set([...args.positional, ...args.keywords.values()].flatMap((v) => leafSlots(v).map((l) => l.slot)));
    placeBuilt(leafSlots(built).map((l) => l.slot), given, at, from);
  }

  /** A library call: a torchvision architecture of the catalogue (see torchvision.ts), else the layer catalogue's. */
  library(qualified: string, spelling: string, n: Node, syntax: ArgList, f: Frame): Value {
    const builder = torchvisionBuilder(qualified);
    const home = builder ? this.homeFor(torchvisionSource(this.ctx.file.tree.language)) : null;
    const def = builder ? home?.ctx.functions.get(builder) : undefined;
    if (!def) {
      const made = libraryCall(this, qualified, spelling, n, syntax, f);
      if (this.isRoot) placeOwn(leafSlots(made).map((l) => l.slot));
      return made;
    }
    const args = this.evalArgs(syntax, f);
    const pretrained = args.keywords.get('pretrained') ?? args.positional[0];
    const weights = args.keywords.get('weights');
    const asksTrained = (pretrained && constOf(pretrained) !== false) || (weights && constOf(weights) !== null);
    if (asksTrained) this.ctx.notes.add(pretrainedNotRead(n), rangeOf(n));
    const built = this.callFunction(def, args, null, f);
    if (asksTrained && n.tree === this.ctx.file.root.tree) (this.ctx.pretrained ??= new Map()).set(n.id, { call: n, built });
    this.placeHere(built, args, n);
    return built;
  }

  /** Runs functions and methods defined in another file with that file's interpreter; layers they trace point here. */
  override callFunction(def: Node, args: Args, owner: ClassInfo | null, caller: Frame, argumentsForRequired?: (name: string) => Value): Value {
    const home = this.homeOf(def);
    if (home === this) return super.callFunction(def, args, owner, caller, argumentsForRequired);
    const trace = caller.trace;
    if (!trace || trace.relocation) return home.callFunction(def, args, owner, caller, argumentsForRequired);
    const self = args.positional[0];
    const at = (self?.t === 'instance' ? builtAt.get(self.inst) : undefined) ?? (this.currentCall ? rangeOf(this.currentCall) : null);
    trace.relocation = at;
    try {
      return home.callFunction(def, args, owner, caller, argumentsForRequired);
    } finally {
      trace.relocation = null;
    }
  }

  // ---------------------------------------------------------------- the value model

  readonly unknown = UNKNOWN;
  constant = constant;
  constOf(v: Value): ReturnType<typeof constOf> {
    return constOf(v);
  }
  protected container(c: ListValue<Value> | DictValue<Value>): Value {
    return c;
  }
  functionValue(def: Node): Value {
    return { t: 'fn', def, self: null };
  }
  /** A lambda a method makes (a forward stored on the module) sees that method's names when it runs. */
  protected override lambdaValue(lambda: Node, f: Frame): Value {
    return { t: 'fn', def: lambda, self: null, ...(f.depth > 0 ? { closure: { locals: f.locals, self: f.self } } : {}) };
  }
  opaque(node: Node, what: string): Value {
    return { t: 'opaque', node, what };
  }
  merge(values: Value[]): Value {
    return mergeValues(values);
  }

  // ---------------------------------------------------------------- hooks on the core

  protected enterFrame(caller: Frame, base: EvalFrame<Value>, owner: ClassInfo | null, args: Args): Frame {
    const closure = this.entering;
    this.entering = null;
    if (closure) return torchFrame(base, new Map(closure.locals), closure.self, closure.self?.cls ?? null, caller.trace);
    const first = args.positional[0];
    return torchFrame(base, base.locals, owner && first?.t === 'instance' ? first.inst : null, owner, caller.trace);
  }

  /** The closure of the lambda being called, for enterFrame (the core's call passes only the owner class). */
  private entering: Closure | null = null;

  /** Calls a function of the file: a lambda runs with the names of the method that made it. */
  callFunctionValue(fn: Extract<Value, { t: 'fn' }>, args: Args, f: Frame): Value {
    if (fn.closure) {
      this.entering = fn.closure;
      try {
        return this.callFunction(fn.def, args, null, f);
      } finally {
        // Taken by enterFrame; left only when the call was refused before a frame was made.
        this.entering = null;
      }
    }
    return this.callFunction(fn.def, fn.self ? this.withSelf(args, fn.self) : args, fn.self ? fn.self.cls : this.ownerOf(fn.def), f);
  }

  protected skipsCall(def: Node, owner: ClassInfo | null, caller: Frame): boolean {
    return !owner && !caller.trace && this.recorders.size === 0 && !this.relevant(def);
  }

  protected entered(def: Node): void {
    this.ctx.entered.add(def.id);
  }

  /** A training loop runs its step once, not once per epoch (trainsEachIteration). */
  protected override repeatsOneStep(loop: Node): boolean {
    return trainsEachIteration(loop);
  }

  /** In forward, a loop of unknown length runs once: the layers it applies are followed. */
  protected readsLoopsOnce(f: Frame): boolean {
    return f.trace !== null;
  }

  /** The module being built: each branch starts from its attributes as they were, and they merge too. */
  protected branchState(f: Frame): BranchState | null {
    const self = f.self;
    if (!self) return null;
    const before = new Map(self.attrs);
    const ends: Map<string, Value>[] = [];
    return {
      reset: () => { resetMap(self.attrs, before); },
      capture: () => { ends.push(new Map(self.attrs)); },
      merge: () => {
        const merged = new Map<string, Value>();
        for (const name of new Set([...before.keys(), ...ends.flatMap((m) => [...m.keys()])])) {
          const values = ends.map((m) => m.get(name) ?? before.get(name)).filter((v): v is Value => v !== undefined);
          merged.set(name, mergeValues(values));
        }
        resetMap(self.attrs, merged);
      },
    };
  }

  protected onBranches(f: Frame, delta: 1 | -1): void {
    if (f.trace) f.trace.conditional += delta;
  }

  /** In forward, `a if cond else b` with an unknown condition follows `a` (a tensor path must exist). */
  protected override unknownChoice(body: Node, alternative: Node, f: Frame): Value {
    if (f.trace) return this.eval(body, f);
    // `Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor`: one tensor type on either device (names only, nothing runs).
    const names = (node: Node) => node.type === 'attribute' || node.type === 'identifier';
    if (!names(body) || !names(alternative)) return UNKNOWN;
    const a = this.eval(body, f);
    const b = this.eval(alternative, f);
    return a.t === 'ctor' && b.t === 'ctor' && a.qualified.replace('.cuda.', '.') === b.qualified.replace('.cuda.', '.') ? b : UNKNOWN;
  }

  /**
   * A tensor result unpacks into tensors from the same layer (`out, (h, c) = self.lstm(x)`); only the
   * first part of a recurrent module's result holds every step.
   */
  protected override unpackedPart(value: Value, index: number): Value {
    if (value.t !== 'tensor') return UNKNOWN;
    const part = value.recurrent && value.recurrent.part !== 'state' ? recurrentPart(value, index) : null;
    if (part) return part;
    return index === 0 ? value : withoutSteps(value);
  }

  /** `tril == 0` of a torch.tril buffer: the causal mask's entries above the diagonal. */
  protected override elementwiseComparison(op: string, a: Value, b: Value): Value | undefined {
    if (op === '==' && a.t === 'tensor' && a.causal === 'tril' && constOf(b) === 0) return { t: 'tensor', from: [], causal: 'above' };
    return undefined;
  }

  protected override unary(op: string | undefined, v: Value): Value {
    return v.t === 'tensor' ? v : super.unary(op, v);
  }

  protected override assignName(name: string, value: Value, f: Frame): void {
    // A raw weight is named after its variable (`w1`), as a module after its attribute.
    if (value.t === 'param' && value.raw && !value.slot.layer.name) value.slot.layer.name = name;
    this.bind(f, name, value);
  }

  /**
   * `with torch.no_grad():` (inference_mode, set_grad_enabled(False)) in a traced forward: the layers
   * applied inside get no gradient (a frozen pre-trained trunk), as if their parameters did not require it.
   */
  protected override execWith(stmt: Node, f: Frame): Flow<Value> {
    const trace = f.trace;
    if (!trace || !this.disablesGradient(stmt, f)) return super.execWith(stmt, f);
    const start = trace.nodes.length;
    const flow = super.execWith(stmt, f);
    for (const node of trace.nodes.slice(start)) node.frozen = true;
    return flow;
  }

  private disablesGradient(stmt: Node, f: Frame): boolean {
    const items: Node[] = [];
    walkItems(stmt, items);
    return items.some((call) => {
      const fn = this.s.field(call, 'function');
      const dotted = fn ? this.s.dottedName(fn) : null;
      if (!dotted || !this.isImported(dotted, f)) return false;
      const qualified = this.ctx.file.imports.resolve(dotted);
      if (qualified === 'torch.no_grad' || qualified === 'torch.inference_mode' || qualified === 'torch.autograd.no_grad') return true;
      const arg = this.s.field(call, 'arguments')?.namedChildren[0];
      return qualified === 'torch.set_grad_enabled' && arg !== undefined && constOf(this.eval(arg, f)) === false;
    });
  }

  /** `self._modules[key] = module` registers a child, as add_module does. */
  override assign(target: Node, value: Value, f: Frame): void {
    const t = this.s.unparen(target);
    const holder = this.s.type(t) === 'subscript' ? this.s.unparen(this.s.required(t, 'value')) : null;
    if (holder && this.s.type(holder) === 'attribute' && this.s.field(holder, 'attribute')?.text === '_modules') {
      const owner = this.eval(this.s.required(holder, 'object'), f);
      if (owner.t === 'instance') {
        registerModule(owner.inst, constOf(this.eval(this.s.required(t, 'subscript'), f)), value);
        return;
      }
    }
    // `self.transformer.wte.weight = self.lm_head.weight` (weight tying): one parameter for two layers,
    // which the IR cannot hold; said, not silently trained as two.
    if (this.s.type(t) === 'attribute' && value.t === 'param' && !value.raw) {
      const owner = this.eval(this.s.required(t, 'object'), f);
      if (owner.t === 'layer' && owner.slot !== value.slot) this.noteOnce(t.parent ?? t, TIED_WEIGHTS);
    }
    super.assign(target, value, f);
  }

  protected assignAttribute(holder: Value, name: string, value: Value): void {
    if (value.t === 'param' && value.raw && !value.slot.layer.name) value.slot.layer.name = name;
    // `p.requires_grad = False` on a module's parameter (a loop over parameters(), `emb.weight.requires_grad = True`).
    if (holder.t === 'param' && !holder.raw && name === 'requires_grad') {
      const flag = constOf(value);
      if (typeof flag === 'boolean') holder.slot.layer.frozen = !flag;
    }
    if (holder.t === 'instance') holder.inst.attrs.set(name, value);
    if (holder.t === 'dict' && this.recorders.has(holder)) holder.entries.set(name, value);
  }

  /** A note on how an expression was read, once per file for the same text (a config read on many lines says it once). */
  noteOnce(n: Node, what: string): void {
    const text = sourceSnippet(n.text);
    if (this.noted.has(`${text}\u0000${what}`)) return;
    this.noted.add(`${text}\u0000${what}`);
    this.ctx.notes.add(`${text}: ${what}`, rangeOf(n));
  }

  /**
   * `args.config` on an object nothing here describes (an argparse namespace passed in): the dict the
   * workspace's functions assign to that attribute of an object they are given (`def my_model(args):
   * args.config = config`), each run with a fresh object; what several of them assign, as one of them.
   * Null when no function assigns it.
   */
  private assignedElsewhere(name: string, n: Node): Value | null {
    const writers = this.ctx.assigned?.(name) ?? [];
    if (writers.length === 0) return null;
    const values: Value[] = [];
    for (const { file, write } of writers) {
      const home = file.tree === this.ctx.file.tree ? this : this.homeFor(file);
      const holder: Extract<Value, { t: 'dict' }> = { t: 'dict', entries: new Map() };
      home.recorders.add(holder);
      try {
        home.callFunction(write.fn, { positional: [], keywords: new Map([[write.param, holder]]), partial: false, optionalUnknown: true }, null, home.moduleFrame());
      } finally {
        home.recorders.delete(holder);
      }
      const value = holder.entries.get(name);
      if (value?.t === 'dict') values.push(value);
    }
    if (values.length === 0) return null;
    const where = writers.map(({ file, write }) => `${write.fn.childForFieldName('name')?.text ?? 'a function'}() in ${file.path.split(/[\\/]/).pop() ?? file.path}`);
    this.noteOnce(n, `read as the dict ${[...new Set(where)].join(' or ')} assigns to it`);
    return this.oneOf(values);
  }

  /** Module containers a loop of unknown length fills become opaque: calling them in forward is an unknown layer. */
  protected override forgetAttribute(target: Node, opaque: Value, f: Frame): void {
    if (this.s.field(target, 'object')?.text !== 'self' || !f.self) return;
    const name = this.s.field(target, 'attribute')?.text;
    if (name) f.self.attrs.set(name, opaque);
  }

  protected override forgetCall(method: string, object: Node | null, opaque: Value, f: Frame): void {
    if (method === 'add_module' && object?.text === 'self' && f.self?.seqItems) f.self.seqItems.push(opaque);
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
    let result = this.mentionsModuleWord(text) || mentionsBuilder(text);
    // Every word looked up in a set: one alternation of all the file's names, tried at every position of
    // every function's text, was 7 % of analyzing a typical 5,000-line file (and a match per word 4 %).
    if (!result && this.knownNames.size > 0) {
      result = this.knownNames.someIn(text, (name) => {
        const fn = this.ctx.functions.get(name);
        return this.ctx.classes.has(name) || this.importedNames.has(name) || (fn !== undefined && fn.id !== def.id && this.relevant(fn));
      });
    }
    this.relevance.set(def.id, result);
    return result;
  }

  /**
   * Whether `text` writes a word of MODULE_WORDS other than as an attribute of a Keras / TensorFlow name
   * (`keras.Sequential`, `layers.LSTM`, `tf.nn.relu`): a Keras builder in a file that imports both
   * frameworks is not run by the torch reader, where it builds nothing.
   */
  private mentionsModuleWord(text: string): boolean {
    MODULE_WORDS.lastIndex = 0;
    for (let match = MODULE_WORDS.exec(text); match; match = MODULE_WORDS.exec(text)) {
      if (!this.kerasNames.attributeOfFramework(text, match.index)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- frames and functions

  moduleFrame(): Frame {
    return { scope: this.scopeOf(this.ctx.file.root), locals: this.moduleLocals, self: null, cls: null, depth: 0, unroll: null, trace: null };
  }

  /** A method by MRO (same-file bases), with the class that defines it. */
  /** The activation a function of the file (a module's `forward`: `isMethod`) writes by hand as a formula; null when none. */
  formulaActivation(def: Node, isMethod: boolean): ActivationName | null {
    let name = this.formulas.get(def.id);
    if (name === undefined) this.formulas.set(def.id, (name = activationOfFormula(def, isMethod, 'torch', (head) => this.ctx.file.imports.has(head))));
    return name;
  }

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
    const home = this.homeOf(cls.node);
    if (home !== this) {
      const built = home.instantiate(cls, call, args, f);
      if (call) this.placeHere(built, args, call, home.ctx.file.path);
      return built;
    }
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
    // A layer normalization written by hand: that layer wherever it is built (its forward is not traced), no model of its own.
    const forward = init ? this.findMethod(cls, 'forward') : null;
    const norm = init && forward ? handWrittenLayerNorm(inst, forward.def, init.def, call ?? cls.node, (head) => this.ctx.file.imports.has(head)) : null;
    if (norm) {
      norm.layer.unrolled = f.unroll;
      if (this.conditional > 0) norm.layer.conditional = true;
      return { t: 'layer', slot: norm };
    }
    if (call && f.cls === null && isModuleClass(cls)) {
      let sites = this.ctx.instances.get(cls);
      if (!sites) this.ctx.instances.set(cls, (sites = new Map<number, { call: Node; inst: Instance }>()));
      if (!sites.has(call.id)) sites.set(call.id, { call, inst });
    } else if (call && f.cls !== null && f.cls !== cls && isModuleClass(cls) && this.ctx.inner) {
      if (!this.ctx.inner.has(cls)) this.ctx.inner.set(cls, { call, inst });
      const fork = this.ctx.fork;
      const entry = fork?.chosen ?? null;
      if (fork && entry !== null) {
        let entries = fork.inner.get(cls);
        if (!entries) fork.inner.set(cls, (entries = new Map<string, { call: Node; inst: Instance }>()));
        if (!entries.has(entry)) entries.set(entry, { call, inst });
      }
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

  // ---------------------------------------------------------------- names, attributes, subscripts

  private isImported(dotted: string, f: Frame): boolean {
    const dot = dotted.indexOf('.');
    const head = dot < 0 ? dotted : dotted.slice(0, dot);
    return !f.locals.has(head) && this.ctx.file.imports.has(head);
  }

  name(n: Node, f: Frame): Value {
    const text = n.text;
    const local = f.locals.get(text);
    if (local) return local;
    const c = f.scope.evaluate(n);
    if (c !== undefined) return constant(c);
    const cls = this.ctx.classes.get(text);
    if (cls) return { t: 'class', cls };
    const fn = this.ctx.functions.get(text);
    if (fn) return { t: 'fn', def: fn, self: null };
    const imported = this.importedValue(text);
    if (imported) return imported;
    if (this.ctx.file.imports.has(text)) return { t: 'ctor', qualified: this.ctx.file.imports.resolve(text), spelling: text };
    const bound = f.scope.lookup(text);
    if (bound && f.depth < MAX_DEPTH) {
      // A name bound once elsewhere (e.g. a module-level `act = nn.ReLU()`): evaluate where it is written.
      return this.eval(bound, { ...this.moduleFrame(), scope: Scope.of(bound), depth: f.depth + 2, unroll: f.unroll });
    }
    return UNKNOWN;
  }

  attribute(n: Node, f: Frame): Value {
    const dotted = this.s.dottedName(n);
    if (dotted && this.isImported(dotted, f)) {
      const c = f.scope.evaluate(n);
      if (c !== undefined) return constant(c);
      return this.importedValue(dotted) ?? { t: 'ctor', qualified: this.ctx.file.imports.resolve(dotted), spelling: dotted };
    }
    const objNode = this.s.required(n, 'object');
    const name = this.s.field(n, 'attribute')?.text ?? '';
    if (name === '__name__') {
      const of = this.s.type(objNode) === 'attribute' && this.s.field(objNode, 'attribute')?.text === '__class__' ? this.eval(this.s.required(objNode, 'object'), f) : this.eval(objNode, f);
      const cn = classNameOf(of);
      return cn === undefined ? UNKNOWN : constant(cn);
    }
    // `opt.img_size` with `opt = parser.parse_args()`: the size the model is built with when no flag is given.
    const parsed = this.s.type(objNode) === 'identifier' ? f.scope.commandLineDefault(n) : undefined;
    if (parsed !== undefined) return constant(parsed);
    const obj = this.eval(objNode, f);
    if (obj.t === 'unknown' && this.s.type(objNode) === 'identifier' && objNode.text !== 'self') {
      const assigned = this.assignedElsewhere(name, n);
      if (assigned) return assigned;
    }
    return this.member(obj, name);
  }

  member(obj: Value, name: string): Value {
    switch (obj.t) {
      case 'instance': {
        const attr = obj.inst.attrs.get(name);
        if (attr) return attr;
        // The registered children, in order (read-only here: writes go through assign()).
        if (name === '_modules') return { t: 'dict', entries: new Map(childrenOf(obj)) };
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
    const home = this.homeOf(cls.node);
    if (home !== this) return home.classAttr(cls, name);
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

  subscript(n: Node, f: Frame): Value {
    const value = this.eval(this.s.required(n, 'value'), f);
    const indexNodes = n.childrenForFieldName('subscript');
    if (value.t === 'tensor') {
      // `self.lstm(x)[0]`, `[1]`, `(h, c)[0]`: a part of the result; `h_n[-1]`, `out[:, -1]`: a pick read as the output.
      const first = indexNodes[0];
      const key = first && this.s.type(first) !== 'slice' ? constOf(this.eval(first, f)) : undefined;
      const part = value.recurrent && value.recurrent.part !== 'state' && indexNodes.length === 1 && typeof key === 'number' ? recurrentPart(value, key) : null;
      if (part) return part;
      if (value.recurrent?.part === 'state') return finalState(value, key, n, f);
      return value.stepsOf !== undefined ? { ...withoutSteps(value), picked: true } : withoutSteps(value);
    }
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
    if (key === undefined && value.t === 'dict' && !value.transformer && value.entries.size > 0) {
      const fork = this.ctx.fork;
      const entry = fork?.chosen ?? null;
      const chosen = entry === null ? undefined : value.entries.get(entry);
      if (chosen) return chosen;
      // Another key fails in Python (KeyError): no model is built that way.
      if (fork?.listening && fork.met === null && value.entries.size > 1) {
        fork.met = { entries: [...value.entries.keys()], read: n };
        return this.oneOf([...value.entries.values()]);
      }
      this.noteOnce(n, `the key is not known; read as what the dict's ${value.entries.size === 1 ? 'only entry says' : `${String(value.entries.size)} entries agree on`}`);
      return this.oneOf([...value.entries.values()]);
    }
    if (key === undefined && items && items.length > 0 && value.t !== 'const') {
      // `self.blocks[i](z)` with an index the code does not fix (a loop over the inputs run once).
      this.noteOnce(n, `the index is not known; read as what the ${String(items.length)} items agree on`);
      return this.oneOf(items);
    }
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

  /** Modules and classes compare by identity and class; a module, parameter or class is never None. */
  protected compareObjects(op: string, a: Value, b: Value): boolean | undefined {
    const ca = constOf(a);
    const cb = constOf(b);
    const same = sameClass(a, b);
    if (same !== undefined && (op === '==' || op === 'is')) return same;
    if (same !== undefined && (op === '!=' || op === 'is not')) return !same;
    if ((op === 'in' || op === 'not in') && b.t === 'list') {
      const hits = b.items.map((item) => (constOf(item) !== undefined && ca !== undefined ? compare('==', ca, constOf(item)) : sameClass(a, item)));
      const found = hits.some((h) => h === true) ? true : hits.every((h) => h === false) ? false : undefined;
      return found === undefined ? undefined : op === 'in' ? found : !found;
    }
    // A module, parameter, class or traced tensor is never None.
    const known = (v: Value) => v.t === 'layer' || v.t === 'seq' || v.t === 'instance' || v.t === 'param' || v.t === 'class' || v.t === 'ctor' || v.t === 'tensor';
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
    const index = trace.add(w.slot, from.length ? from : [MODEL_INPUT], { raw: !f.trace });
    return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
  }

  /** `att * (1.0 / math.sqrt(k.size(-1)))` and `att / math.sqrt(k.size(-1))` while tracing; null for other products. */
  private sizeScaling(op: '*' | '/', a: Value, b: Value, n: Node, f: Frame): Value | null {
    // Only names, attributes and literals are evaluated again: a call in them would trace its layers twice.
    const plain = (e: Node): boolean => e.type !== 'call' && e.namedChildren.every(plain);
    const constant = (e: Node) => {
      const c = plain(e) ? constOf(this.eval(e, f)) : undefined;
      return typeof c === 'number' ? c : null;
    };
    const sides: [Value, Node | null][] = op === '/' ? [[a, this.s.field(n, 'right')]] : [[a, this.s.field(n, 'right')], [b, this.s.field(n, 'left')]];
    for (const [tensor, written] of sides) {
      const factor = written && tensor.t === 'tensor' ? sizeFactor(written, constant) : null;
      if (!factor || !plain(factor.receiver)) continue;
      const scale = op === '/' ? { ...factor, power: -factor.power, factor: 1 / factor.factor } : factor;
      return scaleBySize(tensor, scale, this.eval(factor.receiver, f), n, f);
    }
    return null;
  }

  /** A binary operator: constants compute, lists concatenate/repeat, tensors merge. */
  combine(op: string, a: Value, b: Value, n: Node, f: Frame): Value {
    if (op === '@') {
      const w = rawOperand(b);
      if (w?.raw) return this.rawLinear(w, a, w.raw.transposed, n, f);
      // `q @ k.transpose(-2, -1)`: a product of two computed tensors, as torch.matmul.
      const product = f.trace ? tensorOperation('matmul', '@', n, [a, b], { positional: [a, b], keywords: new Map(), partial: false }, f) : null;
      if (product) return product;
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
    if (f.trace && (op === '*' || op === '/')) {
      const scaledBy = scaling(op, a, b);
      if (scaledBy) return scaleTensor(scaledBy.tensor, scaledBy.factor, n, f);
      const bySize = this.sizeScaling(op, a, b, n, f);
      if (bySize) return bySize;
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

  call(n: Node, f: Frame): Value {
    const outer = this.currentCall;
    this.currentCall = n;
    try {
      return this.callExpression(n, f);
    } finally {
      this.currentCall = outer;
    }
  }

  private callExpression(n: Node, f: Frame): Value {
    const fnNode = this.s.field(n, 'function');
    if (!fnNode) return UNKNOWN;
    const syntax: ArgList = this.s.field(n, 'arguments');
    if (this.s.type(fnNode) === 'attribute') {
      const dotted = this.s.dottedName(fnNode);
      if (dotted && this.isImported(dotted, f)) {
        const imported = this.importedValue(dotted);
        return imported ? this.callValue(imported, n, syntax, f) : this.library(this.ctx.file.imports.resolve(dotted), dotted, n, syntax, f);
      }
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
      if (BUILTINS.has(name) && !this.ctx.functions.has(name) && !this.ctx.classes.has(name) && !this.ctx.file.imports.has(name)) {
        const args = this.evalArgs(syntax, f);
        const first = args.positional[0];
        const method = TENSOR_BUILTINS.get(name);
        const op = method && first?.t === 'tensor' && args.positional.length === 1 ? methodOp(method.method) : null;
        if (op && method && first) return tensorOp(op, name, n, { positional: method.args.map(constant), keywords: new Map(), partial: false }, first, f);
        return callBuiltin(this, name, n, args, f.scope);
      }
      const imported = this.importedValue(name);
      if (imported) return this.callValue(imported, n, syntax, f);
      if (this.ctx.file.imports.has(name)) return this.library(this.ctx.file.imports.resolve(name), name, n, syntax, f);
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
        return this.library(callee.qualified, callee.spelling, n, syntax, f);
      case 'fn': {
        const args = this.evalArgs(syntax, f);
        const formula = f.trace ? this.formulaActivation(callee.def, callee.self !== null) : null;
        if (formula) return tensorOp({ op: 'activation', name: formula }, this.s.field(n, 'function')?.text ?? 'function', n, args, null, f);
        return this.callFunctionValue(callee, args, f);
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
    const home = this.homeOf(def);
    if (home !== this) return home.ownerOf(def);
    const holder = def.parent?.type === 'decorated_definition' ? def.parent : def;
    const cls = holder.parent?.parent;
    if ((cls && this.s.type(cls)) !== 'class_definition') return null;
    return cls ? (this.ctx.classes.get(this.s.field(cls, 'name')?.text ?? '') ?? null) : null;
  }
}

/** The calls a `with` statement enters (`with torch.no_grad(), open(f) as g:`). */
function walkItems(stmt: Node, out: Node[]): void {
  for (const child of stmt.namedChildren) {
    if (child.type === 'block') continue;
    if (child.type === 'call') out.push(child);
    else walkItems(child, out);
  }
}

/** A copy of a tensor value that no longer stands for every step of a recurrent module, nor for a part of its result. */
function withoutSteps(value: Extract<Value, { t: 'tensor' }>): Extract<Value, { t: 'tensor' }> {
  const copy = { ...value };
  delete copy.stepsOf;
  delete copy.recurrent;
  delete copy.picked;
  return copy;
}

/**
 * Part `index` of a torch recurrent module's result (`out, h = self.gru(x)`, `self.lstm(x)[1]`) or of an
 * LSTM's states (`h, c = states`): every step, the states, or one state; null when `value` is neither.
 */
function recurrentPart(value: Extract<Value, { t: 'tensor' }>, index: number): Value | null {
  const rec = value.recurrent;
  if (!rec || rec.part === 'state') return null;
  const base = withoutSteps(value);
  if (rec.part === 'result') {
    if (index === 0) return value.stepsOf === undefined ? base : { ...base, stepsOf: value.stepsOf };
    return index === 1 ? { ...base, recurrent: { ...rec, part: rec.lstm ? 'states' : 'state' } } : UNKNOWN;
  }
  return index === 0 || index === 1 ? { ...base, recurrent: { ...rec, part: 'state' } } : UNKNOWN;
}

/**
 * `h_n[k]` of a final state (num_layers * directions, batch, hidden): for a bidirectional module, the last
 * layer's forward (-2) or backward (-1) state is that half of its output's features; any other pick is
 * read as the output (a unidirectional module's last layer is its output; an earlier layer's state is
 * not modelled apart).
 */
function finalState(value: Extract<Value, { t: 'tensor' }>, key: ConstValue | undefined, n: Node, f: Frame): Value {
  const base = withoutSteps(value);
  const picked = { ...base, picked: true };
  const layer = value.recurrent ? f.trace?.nodes[value.recurrent.of]?.slot.layer : undefined;
  if (typeof key !== 'number' || !layer || !isRecurrent(layer) || !layer.recurrent.bidirectional || layer.recurrent.mergeMode !== 'concat') return picked;
  const layers = layer.recurrent.numLayers;
  const fromEnd = key < 0 ? key : layers === null ? null : key - 2 * layers;
  if (fromEnd !== -1 && fromEnd !== -2) return picked;
  return finalStateDirection(base, fromEnd === -2 ? 0 : 1, n, f) ?? picked;
}
