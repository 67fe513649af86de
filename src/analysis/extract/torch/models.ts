/**
 * Runs the interpreter over a file and turns what it built into ModelIRs: one per nn.Module subclass
 * (layers in `forward` order) and one per top-level nn.Sequential (not nested in another model).
 *
 * Choices that keep findings honest:
 * - Layers are what forward executes, in execution order (a module called twice appears twice).
 *   Layers defined in __init__ but never called are left out: they take no part in the data flow,
 *   so appending them would invent adjacencies (and false findings).
 * - A condition that cannot be evaluated follows its first branch only, never a mix of branches.
 * - Constructor arguments come from the file's only instantiation of the class; otherwise from the
 *   signature's defaults; a parameter with neither stays unknown (sizes null).
 * - A loop with non-constant bounds, an unknown module or an unmodelled call becomes one 'unknown'
 *   layer in the flow (listed in `unsupported`), so nothing is assumed across it.
 * - A class with no forward (an abstract base) and a model with no understood layer are not reported.
 */
import type { Node } from '../../python/syntax-tree';
import type { ModelIR, ModelStyle } from '../../../shared/ir';
import type { PyFile } from '../../python/file';
import { calleeName, enclosing, rangeOf, unparen, walk } from '../../python/syntax';
import { sequentialCalls } from './search';
import { makeModel } from '../builders';
import { propagateShapes } from '../../../shared/shapes';
import { firstComputing, hasParameters } from '../../../shared/layers';
import { findFunctions, findModuleClasses, isModuleClass } from './classes';
import { apply } from './forward';
import { producers } from './flow';
import { applyToLayers } from './calls';
import { isRawWeight } from './raw-weights';
import { inCatalogue } from './torchvision';
import { Interpreter, pretrainedNotRead, type Context, type EntryFork } from './interpreter';
import { rangeContains } from '../../../shared/ranges';
import { MODEL_INPUT, Trace } from './trace';
import { lossFromQualified } from '../training/losses';
import { isLossFunction } from './tensorops';
import { UNKNOWN, constant, leafSlots, nameLeaves, type ClassInfo, type Instance, type Value } from './values';
import { Scope } from '../../python/constants';
import { EvalNotes, LIMITS, TRACE_CUT } from '../../python/limits';
import { callLabel, collapseInstances, type CallSite, type ConstArguments, type InstanceModels, type LibraryArgument } from '../../python/call-sites';
import { relocateLayer } from '../relocate';
import type { ConstValue } from '../../python/constants';
import type { Args } from './args';
import type { AssignedAttributes, ExternalSites, ImportedDefinitions } from '../types';
import { rethrowCancellation } from '../../cancellation';

/** A word called in code (`Name(`, `Name (`), whole: what the regex \bName\s*\( finds for an ASCII name. */
const CALLED_WORD = /\b(\w+)\s*\(/g;
const ASCII_WORD = /^\w+$/;

const NO_ARGS = () => ({ positional: [], keywords: new Map(), partial: false });
const INPUT: Value = { t: 'tensor', from: [MODEL_INPUT] };

/** Input shape (without batch) known from the declared input size of the first layer that reads the (first) input. */

/**
 * Parameters of forward after its input that it hands to a loss it computes (`def forward(self, idx,
 * targets=None)` ... `F.cross_entropy(logits.view(-1, V), targets.view(-1))`): training passes them,
 * so they are tensors (never None); the calls of forward we cannot see are training's.
 */
function lossTargets(forward: Node | null): Map<string, Value> {
  const names = new Map<string, Value>();
  const params = forward?.childForFieldName('parameters')?.namedChildren ?? [];
  const optional = params.slice(2).flatMap((p) => (p.type === 'default_parameter' || p.type === 'typed_default_parameter' ? [p.childForFieldName('name')?.text ?? ''] : []));
  const body = forward?.childForFieldName('body');
  if (!body || optional.length === 0) return names;
  const visit = (n: Node): void => {
    if (n.type === 'call') {
      const fn = n.childForFieldName('function')?.text ?? '';
      const last = fn.slice(fn.lastIndexOf('.') + 1);
      if (isLossFunction(last) || /^self\.\w*(loss|criterion)\w*$/i.test(fn)) {
        for (const name of optional) if (mentions(n.childForFieldName('arguments'), name)) names.set(name, { t: 'tensor', from: [] });
      }
    }
    for (const child of n.namedChildren) visit(child);
  };
  visit(body);
  return names;
}

/** Whether `name` is read anywhere in `n`. */
function mentions(n: Node | null, name: string): boolean {
  return n !== null && ((n.type === 'identifier' && n.text === name) || n.namedChildren.some((c) => mentions(c, name)));
}

function inputShape(model: ModelIR): (number | null)[] | null {
  const first = firstComputing(model.layers);
  const head = model.layers[0];
  const readsInputOnly = first === head ? first?.inputs.length === 0 : first?.inputs.length === 1 && first.inputs[0] === head?.id;
  if (!first || !readsInputOnly || first.inFeatures === null) return null;
  switch (first.kind) {
    case 'dense':
      return [first.inFeatures];
    case 'layernorm':
      // It normalizes the last dimension: (..., C). Attention after it reads (time, C), which the input guess makes.
      return model.layers.some((l) => l.kind === 'attention') ? null : [first.inFeatures];
    case 'conv1d':
      return [first.inFeatures, null];
    case 'conv2d':
      return [first.inFeatures, null, null];
    case 'conv3d':
      return [first.inFeatures, null, null, null];
    default:
      return null;
  }
}


interface Naming {
  name: string;
  nameNode: Node;
  exports: string[];
}

/** How a top-level nn.Sequential is named: its variable, or the factory function that returns it. */
function sequentialNaming(call: Node): Naming {
  const parent = call.parent;
  const target = parent?.type === 'assignment' && parent.childForFieldName('right')?.id === call.id ? parent.childForFieldName('left') : null;
  const variable = target?.type === 'identifier' ? target : null;
  const fn = enclosing(call, ['function_definition', 'class_definition']);
  if (fn?.type === 'function_definition') {
    const fnName = fn.childForFieldName('name');
    const body = fn.childForFieldName('body');
    let returned = false;
    if (body) {
      walk(body, (n) => {
        if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') return false;
        if (n.type === 'return_statement') {
          const e = n.namedChild(0);
          const v = e ? unparen(e) : null;
          if (v && (v.id === call.id || (variable && v.type === 'identifier' && v.text === variable.text))) returned = true;
        }
        return true;
      });
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set in the walk's callback, which control-flow analysis does not follow
    if (returned && fnName) return { name: fnName.text, nameNode: fnName, exports: [fnName.text] };
    if (variable) return { name: variable.text, nameNode: variable, exports: [] };
  }
  if (variable) {
    const statement = parent?.parent;
    const moduleLevel = statement?.parent?.type === 'module';
    return { name: variable.text, nameNode: variable, exports: moduleLevel ? [variable.text] : [] };
  }
  if (target?.type === 'attribute') {
    const attr = target.childForFieldName('attribute');
    if (attr) return { name: attr.text, nameNode: attr, exports: [] };
  }
  const fnNode = call.childForFieldName('function') ?? call;
  return { name: 'Sequential', nameNode: fnNode, exports: [] };
}

/**
 * Origins (call ids) of every nn.Sequential nested inside `value` (not `value` itself). Objects can hold
 * each other (`model.trainer = self; self.model = model`): each container is visited once.
 */
function nestedOrigins(value: Value, into: Set<number>, top = true, seen = new Set<object>()): void {
  const inner = (v: Value) => { nestedOrigins(v, into, false, seen); };
  switch (value.t) {
    case 'seq':
      if (seen.has(value)) return;
      seen.add(value);
      if (!top && value.origin !== null) into.add(value.origin);
      value.items.forEach(inner);
      return;
    case 'list':
      if (seen.has(value)) return;
      seen.add(value);
      value.items.forEach(inner);
      return;
    case 'dict':
      if (seen.has(value)) return;
      seen.add(value);
      value.entries.forEach(inner);
      return;
    case 'instance':
      if (seen.has(value.inst)) return;
      seen.add(value.inst);
      value.inst.attrs.forEach(inner);
      value.inst.seqItems?.forEach(inner);
      return;
    default:
      return;
  }
}


const NO_CONST_ARGS: ConstArguments = { positional: [], keywords: new Map(), partial: false };

/**
 * A call's arguments as interpreter values: constants, library modules another file passes (made by
 * `library`), the rest unknown (never their defaults).
 */
function argsOf(args: ConstArguments, library: (written: LibraryArgument) => Value = () => UNKNOWN): Args {
  const value = (v: ConstValue | undefined, written: LibraryArgument | undefined): Value => (v !== undefined ? constant(v) : written ? library(written) : UNKNOWN);
  return {
    positional: args.positional.map((v, i) => value(v, args.library?.positional.get(i))),
    keywords: new Map([...args.keywords].map(([k, v]) => [k, value(v, args.library?.keywords.get(k))])),
    partial: args.partial,
  };
}

export function extractTorchModels(file: PyFile, notes: EvalNotes = new EvalNotes(), external: ExternalSites = new Map(), imported?: ImportedDefinitions, assigned?: AssignedAttributes): ModelIR[] {
  const classes = findModuleClasses(file);
  const moduleClasses = [...classes.values()].filter(isModuleClass);
  const functions = findFunctions(file);
  const fork: EntryFork = { chosen: null, listening: false, met: null, inner: new Map() };
  const ctx: Context = { file, classes, functions, entered: new Set(), sequentials: new Map(), instances: new Map(), inner: new Map(), notes, fork, ...(imported ? { imported } : {}), ...(assigned ? { assigned } : {}) };
  const interp = new Interpreter(ctx);
  const moduleFrame = interp.moduleFrame();
  const guarded = (run: () => void) => {
    try {
      run();
    } catch (error) {
      rethrowCancellation(error);
      // One construct the interpreter trips on must not cost the rest of the file.
      if (process.env.GRADIENT_LENS_DEBUG) console.error(`torch extractor: ${file.path}:`, error);
      notes.add(`the PyTorch reader stopped on an internal error (${error instanceof Error ? error.message : String(error)}); models of this file may be incomplete`, rangeOf(file.root));
    }
  };

  // 1. The module's own flow (calls functions with their real arguments), then functions nobody called.
  guarded(() => interp.execBlock(file.root, moduleFrame));
  // Functions that return a torchvision architecture (`def get_model(): m = models.resnet18(...); m.fc = ...; return m`).
  const torchvisionFactories: { def: Node; value: Value }[] = [];
  for (const def of functions.values()) {
    if (ctx.entered.has(def.id) || !interp.relevant(def)) continue;
    guarded(() => {
      const value = interp.callFunction(def, NO_ARGS(), null, moduleFrame);
      if (value.t === 'instance' && inCatalogue(value.inst.cls.node)) torchvisionFactories.push({ def, value });
    });
  }

  /**
   * A construction that reads a dict with a key the code does not fix (`config['network'][args.dataset]`,
   * entries whose layer lists differ in length): run once per entry of the first such dict (at most
   * LIMITS.configEntries), each run reading that entry wherever such a dict has it, so every entry's
   * model is built, not one that is unknown where they disagree. The runs are instances named after
   * their entry (`Net(args) (config 'voc')`); identical ones collapse (collapseInstances). No such read,
   * or more entries: the one run, reading what the entries agree on (the core's oneOf).
   */
  const perEntry = (run: () => Value, site: CallSite, at: Node): { value: Value; site: CallSite }[] => {
    fork.listening = true;
    fork.met = null;
    let value: Value;
    try {
      value = run();
    } finally {
      fork.listening = false;
    }
    const met = fork.met as EntryFork['met'];
    fork.met = null;
    if (!met) return [{ value, site }];
    const quoted = met.entries.map((e) => `'${e}'`).join(', ');
    // A read in another file's code (a builder it defines) is noted at the class, naming the read.
    const here = met.read.tree === file.syntax;
    const where = here ? met.read : at;
    const what = here ? 'the key is not known' : `the key of ${callLabel(met.read)} (in code of another file) is not known`;
    if (met.entries.length > LIMITS.configEntries) {
      interp.noteOnce(where, `${what}; the dict has ${String(met.entries.length)} entries (${quoted}), more than the ${String(LIMITS.configEntries)} ${site.label} is built for: read as what they agree on`);
      return [{ value, site }];
    }
    interp.noteOnce(where, `${what}; ${site.label} is built once per entry (${quoted})`);
    return met.entries.map((entry) => {
      fork.chosen = entry;
      try {
        return { value: run(), site: { ...site, label: `${site.label} (config '${entry}')` } };
      } finally {
        fork.chosen = null;
      }
    });
  };

  const nameOf = (cls: ClassInfo) => cls.node.childForFieldName('name') ?? cls.node;

  // 2. One instance per instantiation site, with its actual arguments (this file's calls, then other
  //    files' calls of the class); a class only another class builds: its first instance there (issue 8
  //    §2: those calls are call sites too, so a block gets the activation class its U-Net passes); a
  //    class nobody instantiates: its own defaults. Classes with sites run first, building the inner ones.
  const instances = new Map<ClassInfo, { inst: Instance; site: CallSite | null }[]>();
  const hasSites = (cls: ClassInfo) => (ctx.instances.get(cls)?.size ?? 0) > 0 || (external.get(cls.name)?.length ?? 0) > 0;
  // Whether another class's code calls the class (`Name(`). Each class's text is read once for the words
  // it calls, counted per word: a regex per pair of classes, asked again in every comparison of the sort,
  // was quadratic in a file's classes (~100 ms of a library file of 400 module classes).
  let callers: Map<string, number> | null = null;
  const wordsCalledIn = new Map<ClassInfo, ReadonlySet<string>>();
  const countCallers = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const other of moduleClasses) {
      const words = new Set(Array.from(other.node.text.matchAll(CALLED_WORD), (m) => m[1] ?? ''));
      wordsCalledIn.set(other, words);
      for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    return counts;
  };
  const builtByOther = (cls: ClassInfo): boolean => {
    // A name with other than ASCII word characters is not one `\w+` word: the regex itself decides.
    if (!ASCII_WORD.test(cls.name)) return moduleClasses.some((other) => other !== cls && new RegExp(`\\b${cls.name}\\s*\\(`).test(other.node.text));
    callers ??= countCallers();
    const own = wordsCalledIn.get(cls)?.has(cls.name) ? 1 : 0;
    return (callers.get(cls.name) ?? 0) - own > 0;
  };
  const rank = new Map(moduleClasses.map((cls) => [cls, hasSites(cls) ? 0 : builtByOther(cls) ? 2 : 1]));
  const ordered = [...moduleClasses].sort((a, b) => (rank.get(a) ?? 1) - (rank.get(b) ?? 1));
  for (const cls of ordered) {
    const list: { inst: Instance; site: CallSite | null }[] = [];
    const sites = [...(ctx.instances.get(cls)?.values() ?? [])].sort((a, b) => a.call.startIndex - b.call.startIndex);
    for (const { call, inst } of sites) list.push({ inst, site: { file: file.path, range: rangeOf(call), label: callLabel(call), args: NO_CONST_ARGS } });
    for (const written of external.get(cls.name) ?? []) {
      guarded(() => {
        // `Net(activation=nn.Tanh())` in another file: the module made here, shown at the class it is passed to.
        const library = (passed: LibraryArgument): Value => {
          if (!passed.qualified.startsWith('torch.nn.')) return UNKNOWN;
          if (!passed.call) return { t: 'ctor', qualified: passed.qualified, spelling: passed.spelling };
          const made = interp.library(passed.qualified, passed.spelling, passed.call, passed.call.childForFieldName('arguments'), moduleFrame);
          for (const { slot } of leafSlots(made)) relocateLayer(slot.layer, rangeOf(nameOf(cls)), written.file);
          return made;
        };
        for (const { value: v, site } of perEntry(() => interp.instantiate(cls, null, argsOf(written.args, library), moduleFrame), written, nameOf(cls))) {
          // `self.net = Cluster(args)` ... `self.net.apply(weight_init)` in the calling file.
          for (const name of site.applied ?? []) {
            const fn = interp.importedFunction(site.file, name);
            if (!fn) continue;
            const slots = leafSlots(v).map((l) => l.slot);
            const before = slots.map((slot) => [slot.layer.kernelInit, slot.layer.biasInit]);
            applyToLayers(interp, v, fn, moduleFrame);
            // What it set is written in another file: no line of this file to show or edit (findings take the layer's).
            slots.forEach((slot, i) => {
              const [kernel, bias] = before[i]!;
              if (slot.layer.kernelInit && slot.layer.kernelInit !== kernel) slot.layer.kernelInit.range = null;
              if (slot.layer.biasInit && slot.layer.biasInit !== bias) slot.layer.biasInit.range = null;
            });
          }
          if (v.t === 'instance') list.push({ inst: v.inst, site });
        }
      });
    }
    const inner = ctx.inner?.get(cls);
    const innerEntries = fork.inner.get(cls);
    if (list.length === 0 && innerEntries) for (const [entry, { call, inst }] of innerEntries) list.push({ inst, site: { file: file.path, range: rangeOf(call), label: `${callLabel(call)} (config '${entry}')`, args: NO_CONST_ARGS } });
    else if (list.length === 0 && inner) list.push({ inst: inner.inst, site: null });
    if (list.length === 0) {
      guarded(() => {
        const own: CallSite = { file: file.path, range: rangeOf(cls.node), label: cls.name, args: NO_CONST_ARGS };
        for (const { value: v, site } of perEntry(() => interp.instantiate(cls, null, NO_ARGS(), moduleFrame), own, nameOf(cls))) {
          if (v.t === 'instance') list.push({ inst: v.inst, site: site === own ? null : site });
        }
      });
    }
    if (list.length) instances.set(cls, list);
  }

  // 3. nn.Sequential calls the flow never reached (e.g. in methods of non-module classes).
  const classNodes = new Set(moduleClasses.map((c) => c.node.id));
  const insideModuleClass = (n: Node) => {
    for (let p = n.parent; p; p = p.parent) if (p.type === 'class_definition' && classNodes.has(p.id)) return true;
    return false;
  };
  for (const call of sequentialCalls(file.root, file.text)) {
    const callee = calleeName(call);
    if (!callee || file.imports.resolve(callee) !== 'torch.nn.Sequential' || ctx.sequentials.has(call.id) || insideModuleClass(call)) continue;
    guarded(() => interp.eval(call, { ...moduleFrame, scope: Scope.of(call) }));
  }

  const nested = new Set<number>();
  for (const list of instances.values()) for (const { inst } of list) nestedOrigins({ t: 'instance', inst }, nested);
  for (const { value } of ctx.sequentials.values()) nestedOrigins(value, nested);
  // A Sequential put into a model the module or a factory builds (`model.fc = nn.Sequential(...)` on a
  // torchvision model) is a part of that model, not a model of its own. An object of a plain class
  // (`agent = Agent()`, whose `self.q_net = nn.Sequential(...)`) holds models; it is not one.
  for (const value of [...moduleFrame.locals.values(), ...torchvisionFactories.map((f) => f.value)]) if (value.t === 'instance' && isModuleClass(value.inst.cls)) nestedOrigins(value, nested);

  const models: ModelIR[] = [];
  const build = (root: Value, style: ModelStyle, naming: Naming, range: Node, run: (trace: Trace) => Value) => {
    const trace = new Trace();
    nameLeaves(root);
    const output = run(trace);
    const { layers, isGraph } = trace.layers(rangeOf(naming.nameNode), producers(output));
    // Nothing understood (e.g. a subclass of nn.Linear whose forward calls F.linear): not a model to report
    // on, but what stopped the reading is named (an unknown loop count must not hide a model silently).
    if (layers.every((l) => l.kind === 'unknown')) {
      const stopped = trace.unsupported[0];
      if (stopped) notes.add(`${naming.name} is not analyzed: none of its layers is understood (line ${String(stopped.range.start.line + 1)}: ${stopped.what})`, rangeOf(naming.nameNode));
      return null;
    }
    const model = makeModel({ name: naming.name, framework: 'torch', style, file: file.path, range: rangeOf(range), nameRange: rangeOf(naming.nameNode), layers, exports: naming.exports, isGraph });
    model.inputShape = inputShape(model);
    // Sizes torch leaves implicit (LazyLinear, LazyConv2d) follow from the layers before them.
    if (model.layers.some((l) => l.inFeatures === null && (l.kind === 'dense' || l.kind.startsWith('conv')))) propagateShapes(model.layers, model.inputShape, { framework: 'torch' });
    model.unsupported = trace.unsupported;
    if (trace.cut) model.truncated = TRACE_CUT;
    // A loss forward computes on its outputs (nanoGPT's F.cross_entropy(logits, targets)) is what it trains on.
    const forwardLoss = lossFromQualified(trace.loss, null);
    // What it reads is not followed (forward may apply log_softmax first): not known to be the output.
    if (forwardLoss && model.training.losses.length === 0) model.training.losses = [{ ...forwardLoss, onOutput: null }];
    return model;
  };

  for (const cls of moduleClasses) {
    const list = instances.get(cls);
    const nameNode = cls.node.childForFieldName('name');
    if (!list || !nameNode) continue;
    const naming: Naming = { name: cls.name, nameNode, exports: [cls.name] };
    const runs: InstanceModels[] = [];
    const forward = interp.findMethod(cls, 'forward');
    if (!forward && !list[0]!.inst.seqItems) {
      // No forward (and not a base another class completes): the layers in registration order, said in a note.
      if (moduleClasses.some((other) => other.bases.includes(cls))) continue;
      for (const { inst, site } of list) {
        const registered: Value = { t: 'seq', items: leafSlots({ t: 'instance', inst }).map(({ slot }): Value => ({ t: 'layer', slot })), names: [], origin: null };
        if (!registered.items.some((v) => v.t === 'layer' && v.slot.layer.kind !== 'unknown')) continue;
        guarded(() => {
          const model = build({ t: 'instance', inst }, 'torch-module', naming, cls.node, (trace) => apply(interp, registered, { positional: [INPUT], keywords: new Map(), partial: false }, cls.node, { ...moduleFrame, trace }));
          if (model) runs.push({ site, models: [model] });
        });
      }
      if (runs.length) notes.add(`${cls.name} has no forward(): its layers are read in the order __init__ registers them`, rangeOf(nameNode));
    } else {
      for (const { inst, site } of list) {
        guarded(() => {
          // Called by code we do not see: optional parameters of forward are unknown, not their defaults,
          // but for the targets of a loss forward computes, which training gives.
          const model = build({ t: 'instance', inst }, 'torch-module', naming, cls.node, (trace) =>
            apply(interp, { t: 'instance', inst }, { positional: [INPUT], keywords: lossTargets(forward?.def ?? null), partial: false, optionalUnknown: true }, cls.node, { ...moduleFrame, trace }),
          );
          if (model) runs.push({ site, models: [model] });
        });
      }
    }
    models.push(...collapseInstances(runs));
  }

  const roots = [...ctx.sequentials.values()].filter(({ call }) => !insideModuleClass(call) && !nested.has(call.id));
  roots.sort((a, b) => a.call.startIndex - b.call.startIndex);
  for (const { call, value } of roots) {
    guarded(() =>
      {
        const model = build(value, 'torch-sequential', sequentialNaming(call), call, (trace) => apply(interp, value, { positional: [INPUT], keywords: new Map(), partial: false }, call, { ...moduleFrame, trace }));
        if (model) models.push(model);
      },
    );
  }
  // 3b. One layer trained as the model (`model = nn.Linear(784, 10)`, an optimizer given exactly its
  // parameters): the tutorials' linear and logistic regressions. A layer whose parameters an optimizer
  // takes beside others' is a part of something larger, not a model.
  // Module-level `name = call(...)` statements, with the value the name holds once the module has run (3b, 3c).
  const bindings = file.root.namedChildren.flatMap((stmt) => {
    const assignment = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
    const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
    const call = assignment?.childForFieldName('right');
    if (!left || call?.type !== 'call') return [];
    // `model, input_size = initialize_model(...)` (the fine-tuning tutorial): each name the call's result is unpacked into.
    const targets = left.type === 'identifier' ? [left] : left.type === 'pattern_list' || left.type === 'tuple_pattern' ? left.namedChildren.filter((n) => n.type === 'identifier') : [];
    return targets.flatMap((target) => {
      const value = moduleFrame.locals.get(target.text);
      return value ? [{ stmt, target, call, value }] : [];
    });
  });
  for (const { target, call, value } of bindings) {
    if (value.t !== 'layer' || !hasParameters(value.slot.layer) || !trainedWhole(file.text, target.text)) continue;
    const made = value.slot.layer.range.start;
    if (made.line !== call.startPosition.row || made.character !== call.startPosition.column) continue;
    guarded(() => {
      const model = build(value, 'torch-sequential', { name: target.text, nameNode: target, exports: [target.text] }, call, (trace) => apply(interp, value, { positional: [INPUT], keywords: new Map(), partial: false }, call, { ...moduleFrame, trace }));
      if (model) models.push(model);
    });
  }

  // 3c. A torchvision architecture the script itself builds and trains (`model = models.resnet18(pretrained=True)`,
  // then `model.fc = nn.Linear(num_ftrs, 2)`), at module level or returned by a function: the fine-tuning
  // scripts' model, named by its variable or function, with what the code did to it. Pretrained weights are
  // never read: the model says so (the probe shows it), as its layers start from torchvision's initialization.
  const seen = new Set<Instance>();
  /** The instance each torchvision model was built from: its pretrained call may be outside its range (`model, size = initialize_model(...)`). */
  const builtFrom = new Map<ModelIR, Instance>();
  const torchvisionModel = (value: Extract<Value, { t: 'instance' }>, naming: Naming, range: Node) => {
    if (seen.has(value.inst)) return;
    seen.add(value.inst);
    guarded(() => {
      const model = build(value, 'torch-module', naming, range, (trace) => apply(interp, value, { positional: [INPUT], keywords: new Map(), partial: false }, range, { ...moduleFrame, trace }));
      if (!model) return;
      builtFrom.set(model, value.inst);
      models.push(model);
    });
  };
  for (const { stmt, target, value } of bindings) {
    if (value.t === 'instance' && inCatalogue(value.inst.cls.node)) torchvisionModel(value, { name: target.text, nameNode: target, exports: [target.text] }, stmt);
  }
  for (const { def, value } of torchvisionFactories) {
    const nameNode = def.childForFieldName('name');
    if (nameNode && value.t === 'instance') torchvisionModel(value, { name: nameNode.text, nameNode, exports: [nameNode.text] }, def);
  }

  // 4. A model written as tensor math: raw weights multiplied outside any module (`torch.relu(x @ w1) @ w2`).
  const raw = ctx.raw;
  const weights = raw ? raw.nodes.filter((n) => isRawWeight(n.slot.layer)) : [];
  if (raw && weights.length > 0) {
    for (const part of raw.components()) {
      const partWeights = part.nodes.filter((n) => isRawWeight(n.slot.layer));
      if (partWeights.length === 0) continue;
      guarded(() => {
        const ranges = part.nodes.map((n) => n.slot.layer.range);
        const start = ranges.reduce((a, b) => (b.start.line < a.start.line ? b : a)).start;
        const end = ranges.reduce((a, b) => (b.end.line > a.end.line ? b : a)).end;
        const first = partWeights[0]!.slot.layer.range;
        const { layers, isGraph } = part.layers(first);
        const name = `weights ${[...new Set(partWeights.map((w) => w.slot.layer.name))].join(', ')}`;
        const model = makeModel({ name, framework: 'torch', style: 'torch-module', file: file.path, range: { start, end }, nameRange: first, layers, isGraph });
        model.unsupported = part.unsupported;
        if (part.cut) model.truncated = TRACE_CUT;
        models.push(model);
      });
    }
  }
  // Trained weights a model's code asks torchvision for are never read: the model says so (the probe shows it).
  for (const { call, built } of ctx.pretrained?.values() ?? []) {
    const at = rangeOf(call);
    for (const model of models) {
      const fromIt = built.t === 'instance' && builtFrom.get(model) === built.inst;
      if (fromIt || rangeContains(model.range, at)) model.unsupported.push({ what: pretrainedNotRead(call), range: at });
    }
  }
  models.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return models;
}

/** Whether an optimizer of torch.optim is given exactly `name.parameters()` (`optim.SGD(model.parameters(), lr=...)`). */
function trainedWhole(text: string, name: string): boolean {
  return new RegExp(`\\boptim\\.\\w+\\(\\s*${name}\\.parameters\\(\\)\\s*[,)]`).test(text);
}

/** Whether the file uses torch at all (cheap gate before interpreting). */
export function usesTorch(file: PyFile): boolean {
  return ['torch', 'pytorch_lightning', 'lightning'].some((p) => file.imports.importsPackage(p));
}
