/**
 * Which model an expression refers to: one the file defines (`model = Sequential([...])`,
 * `model = Net()`, `model = build_model()`, `self` inside the model's class), one it imports
 * (`from model import Net` -> module "model", symbol "Net"), something else (a pretrained
 * torchvision model, `load_model(...)`), or unknown (null).
 */
import { usedWholeFileFact } from '../file-wide';
import type { Node } from '../../python/syntax-tree';
import type { ActivationName, ModelIR, Position } from '../../../shared/ir';
import { functionalActivation, methodActivation } from '../torch/activations';
import type { PyFile } from '../../python/file';
import { callArguments, dottedName, enclosing, namedChildren, unparen } from '../../python/syntax';
import { argumentFor, branchDefinitions, callSitesOf, escapeRegExp, originOf, reachingDefinition, type Resolve } from './flow';
import { addNote } from '../notes';
import { PARAMETER_MODULE, UNBOUND_NAME_MODULE, type ParameterRef } from '../types';
import { rangeOf } from '../../python/syntax';
import { builtAtCall } from '../../../shared/models';
import { submodule } from '../../python/imports';

export type ModelRef =
  | { kind: 'local'; model: ModelIR }
  /** `builtAt`: the call of this file that builds it (`Seq(3, 32, 2)`), which names the instance when calls build different ones. */
  | { kind: 'external'; module: string; symbol: string; parameter?: ParameterRef; builtAt?: Position }
  | { kind: 'other' };

/** Top-level packages whose callables are never models of this project. */
export const LIBRARIES: ReadonlySet<string> = new Set([
  'torch', 'torchvision', 'torchaudio', 'torchtext', 'tensorflow', 'keras', 'tf_keras', 'numpy', 'sklearn', 'scipy',
  'pandas', 'transformers', 'timm', 'jax', 'flax', 'lightning', 'pytorch_lightning', 'tensorflow_hub', 'cv2', 'PIL',
]);

/** Tensor methods that return the same values arranged otherwise: a loss reading `out.view(-1, C)` reads the model's output. */
const KEEPS_OUTPUT = new Set(['view', 'reshape', 'squeeze', 'unsqueeze', 'flatten', 'permute', 'transpose', 'contiguous', 'float', 'double', 'to', 'cpu', 'cuda', 'type_as', 'view_as', 'reshape_as']);

/** Steps outputRead follows from an expression to the call that made it. */
const MAX_OUTPUT_STEPS = 8;

/** Activations a loss call may apply to the output it reads: the ones losses are made for. */
const READ_AS_APPLIED: ReadonlySet<ActivationName> = new Set(['softmax', 'sigmoid', 'log_softmax']);

/** How deep names assigned on branches are followed (`a = b if c else d`, `b` itself on branches). */
const MAX_BRANCH_DEPTH = 3;

/** A model the training pass can attach facts to. */
export type KnownRef = Exclude<ModelRef, { kind: 'other' }>;

export const refKey = (ref: KnownRef): string =>
  ref.kind === 'local' ? `local:${ref.model.id}` : `external:${ref.module}:${ref.symbol}${ref.parameter ? `:${ref.parameter.name}` : ''}${ref.builtAt ? `@${ref.builtAt.line}:${ref.builtAt.character}` : ''}`;

type Place = ModelIR['range']['start'];

/** Whether `a` is at or before `b`. */
const atOrBefore = (a: Place, b: Place): boolean => a.line < b.line || (a.line === b.line && a.character <= b.character);

const placeOf = (point: { row: number; column: number }): Place => ({ line: point.row, character: point.column });

/**
 * The file's models by where they are written, to find the ones that contain a node without testing
 * each: a model-dense file's training code asks for ~500 nodes, and a file of 226 models tested each.
 */
class ModelPlaces {
  /** The models by start, and for each, the furthest end among it and those before it. */
  private readonly byStart: { model: ModelIR; order: number }[];
  private readonly reach: Place[] = [];

  constructor(models: readonly ModelIR[]) {
    this.byStart = models.map((model, order) => ({ model, order })).sort((a, b) => (atOrBefore(a.model.range.start, b.model.range.start) ? (atOrBefore(b.model.range.start, a.model.range.start) ? a.order - b.order : -1) : 1));
    let furthest: Place | null = null;
    for (const { model } of this.byStart) {
      if (!furthest || atOrBefore(furthest, model.range.end)) furthest = model.range.end;
      this.reach.push(furthest);
    }
  }

  /** The models whose range holds `node`, in the order of the file's model list. */
  containing(node: Node): ModelIR[] {
    const start = placeOf(node.startPosition);
    const end = placeOf(node.endPosition);
    // The last model starting at or before the node; before it, only while some model reaches its end.
    let low = 0;
    let high = this.byStart.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (atOrBefore(this.byStart[middle]!.model.range.start, start)) low = middle + 1;
      else high = middle;
    }
    const found: { model: ModelIR; order: number }[] = [];
    for (let i = low - 1; i >= 0 && atOrBefore(end, this.reach[i]!); i--) {
      const entry = this.byStart[i]!;
      if (atOrBefore(end, entry.model.range.end)) found.push(entry);
    }
    return found.sort((a, b) => a.order - b.order).map((e) => e.model);
  }
}

function joinModule(module: string, ...rest: string[]): string {
  return rest.filter(Boolean).reduce(submodule, module);
}

export class ModelResolver {
  readonly resolve: Resolve;
  private places: ModelPlaces | null = null;
  /** The models by each name they export (a builder's or class's name), in the order of the list. */
  private exporting: Map<string, ModelIR[]> | null = null;

  constructor(
    private readonly file: PyFile,
    private readonly models: readonly ModelIR[],
  ) {
    this.resolve = (node) => file.imports.resolveNode(node);
  }

  /**
   * The model whose output an expression is (`net(x)`, a name assigned or unpacked from such a call,
   * indexed or viewed: `out[0]`, `logits.view(-1, C)`), and the softmax, sigmoid or log-softmax it
   * applies to that output on the way (`F.softmax(net(x), dim=1)`, `out.sigmoid()`); ref null when
   * unknown. Another library function of the output (`torch.tanh(out)`) is another value.
   */
  outputRead(node: Node): { ref: ModelRef | null; applied: { name: ActivationName; node: Node } | null } {
    let applied: { name: ActivationName; node: Node } | null = null;
    const other = { ref: { kind: 'other' } as const, applied: null };
    let n: Node | null = node;
    for (let steps = 0; n && steps < MAX_OUTPUT_STEPS; steps++) {
      n = unparen(n);
      if (n.type === 'subscript') {
        n = n.childForFieldName('value');
        continue;
      }
      const callee = n.type === 'call' ? n.childForFieldName('function') : null;
      const receiver = callee?.type === 'attribute' ? callee.childForFieldName('object') : null;
      const method = callee?.type === 'attribute' ? (callee.childForFieldName('attribute')?.text ?? '') : null;
      if (method !== null && KEEPS_OUTPUT.has(method)) {
        n = receiver;
        continue;
      }
      const qualified = callee ? this.resolve(callee) : null;
      const activation = qualified ? functionalActivation(qualified) : method !== null ? methodActivation(method) : null;
      if (callee && activation !== null && READ_AS_APPLIED.has(activation) && !applied) {
        // The activation's input: the function's first argument, or the method's receiver.
        applied = { name: activation, node: n };
        n = qualified ? (callArguments(n).positional[0] ?? null) : receiver;
        continue;
      }
      if (callee) return LIBRARIES.has(qualified?.split('.')[0] ?? '') || activation !== null ? other : { ref: this.refOf(callee), applied };
      if (n.type !== 'identifier') return { ref: null, applied };
      const origin = originOf(n, this.resolve);
      if (!origin || origin === n) return { ref: null, applied };
      n = origin;
    }
    return { ref: null, applied };
  }

  /** The model an expression evaluates to; null when unknown. */
  refOf(node: Node, depth = 0): ModelRef | null {
    const origin = originOf(node, this.resolve);
    if (!origin) return depth > MAX_BRANCH_DEPTH ? null : (this.branchRef(node, depth) ?? this.unboundName(node));
    if (origin.type === 'conditional_expression' && depth <= MAX_BRANCH_DEPTH) {
      // `net = torch.load(p) if resume else Clf(cfg)`: the two values, like two branches.
      const [then, , otherwise] = namedChildren(origin);
      return then && otherwise ? this.oneBuilt(origin, [then, otherwise], depth) : null;
    }
    if (origin.type === 'identifier' && origin.text === 'self') {
      const cls = enclosing(origin, ['class_definition']);
      const name = cls?.childForFieldName('name')?.text;
      const model = name ? this.models.find((m) => m.exports.includes(name) || m.name === name) : undefined;
      return model ? { kind: 'local', model } : null;
    }
    const callee = origin.type === 'call' ? dottedName(origin.childForFieldName('function')) : null;
    // Where the call is: it names the model it built when calls build different ones, here or in another file.
    const at = { line: origin.startPosition.row, character: origin.startPosition.column };
    if (callee) {
      const own = this.modelsExporting(callee);
      if (own.length === 1) return { kind: 'local', model: own[0]! };
      const built = own.find((m) => builtAtCall(m, at, (path) => path === this.file.path));
      if (built) return { kind: 'local', model: built };
    }
    // The constructor of a model written in place: `Sequential([...])`, `keras.Model(inputs, outputs)`.
    const containing = (this.places ??= new ModelPlaces(this.models)).containing(origin);
    if (containing.length > 0) {
      const smallest = containing.reduce((a, b) => (b.range.end.line - b.range.start.line < a.range.end.line - a.range.start.line ? b : a));
      return { kind: 'local', model: smallest };
    }
    if (callee) {
      const imported = this.importedSymbol(callee);
      return imported?.kind === 'external' ? { ...imported, builtAt: at } : (imported ?? { kind: 'other' });
    }
    // `args.model`, `models[i]`, an unbound name: not knowable.
    return origin.type === 'attribute' || origin.type === 'subscript' || origin.type === 'identifier' ? null : { kind: 'other' };
  }

  private modelsExporting(name: string): readonly ModelIR[] {
    if (!this.exporting) {
      this.exporting = new Map();
      for (const model of this.models) {
        for (const exported of new Set(model.exports)) {
          const list = this.exporting.get(exported);
          if (list) list.push(model);
          else this.exporting.set(exported, [model]);
        }
      }
    }
    return this.exporting.get(name) ?? [];
  }

  /**
   * Every model an expression may be: refOf's one, or for a parameter of a function called with
   * different models (`train(Enc(), loader)`, `train(Dec(), loader)`), each model a call site passes.
   * Empty for a known non-model; null when some call site passes something unknown.
   */
  refsOf(node: Node): KnownRef[] | null {
    const single = this.refOf(node);
    if (single) return single.kind === 'other' ? [] : [single];
    const n = unparen(node);
    const def = n.type === 'identifier' ? reachingDefinition(n) : null;
    if (def?.kind !== 'param') return null;
    const sites = callSitesOf(def.fn);
    if (sites.length === 0) return this.parameterOfUncalled(def);
    if (sites.length < 2) return null;
    const refs = new Map<string, KnownRef>();
    const passed: Node[] = [];
    for (const { call, offset } of sites) {
      const arg = argumentFor(call, offset, def);
      const ref = arg ? this.refOf(arg) : null;
      // `train(restore(path), ...)`: a project helper may build another model; only library values are known non-models.
      if (!arg || !ref || (ref.kind === 'other' && !this.isLibraryValue(arg))) return null;
      if (ref.kind !== 'other' && !refs.has(refKey(ref))) {
        refs.set(refKey(ref), ref);
        passed.push(arg);
      }
    }
    if (refs.size > 1) {
      const fnName = def.fn.childForFieldName('name')?.text ?? 'the function';
      const list = passed.map((a) => `${a.text.length > 30 ? `${a.text.slice(0, 27)}...` : a.text} (line ${a.startPosition.row + 1})`).join(', ');
      addNote(this.file, { message: `'${n.text}' of ${fnName}() is each model its calls pass: ${list}; its training applies to each`, range: rangeOf(n) });
    }
    return [...refs.values()];
  }

  /**
   * A parameter of a module-level function the file never calls (`def workflow(model):` called from
   * run.py): the facts are the parameter's, for the linker to give to the models other files pass.
   */
  private parameterOfUncalled(def: { fn: Node; name: string; index: number }): KnownRef[] | null {
    const fnName = def.fn.childForFieldName('name')?.text;
    const holder = def.fn.parent?.type === 'decorated_definition' ? def.fn.parent.parent : def.fn.parent;
    if (!fnName || holder?.type !== 'module') return null;
    // Whether the function is called in its file is a fact of the whole file.
    usedWholeFileFact(this.file, `'${fnName}', called nowhere in the file`);
    return [{ kind: 'external', module: PARAMETER_MODULE, symbol: fnName, parameter: { name: def.name, index: def.index } }];
  }

  /**
   * A name assigned on several branches (`if resume: net = torch.load(p)` / `else: net = Clf(cfg)`):
   * the one model built there when every other branch loads or gets something that is not a model of
   * the project (a checkpoint, a library model). Two different models: unknown.
   */
  private branchRef(node: Node, depth: number): ModelRef | null {
    const n = unparen(node);
    if (n.type !== 'identifier') return null;
    const defs = branchDefinitions(n);
    if (defs.length === 0) return null;
    const values: Node[] = [];
    for (const def of defs) {
      if (def.kind !== 'assign' || def.statement.type !== 'assignment') return null;
      values.push(def.value);
    }
    return this.oneBuilt(n, values, depth);
  }

  /** The single model among `values` when all the others are known non-models; a note says which was taken. */
  private oneBuilt(at: Node, values: Node[], depth: number): ModelRef | null {
    const refs = values.map((v) => this.refOf(v, depth + 1));
    const known = new Map<string, KnownRef>();
    for (const r of refs) if (r && r.kind !== 'other') known.set(refKey(r), r);
    if (known.size !== 1) return null;
    // The rest must be known not to be models of the project: a library call (a checkpoint, a
    // pretrained model) or a literal. `restore(path)` of the project may build another model.
    if (refs.some((r, i) => r?.kind !== 'local' && r?.kind !== 'external' && !this.isLibraryValue(values[i]!))) return null;
    const ref = [...known.values()][0]!;
    const built = values[refs.findIndex((r) => r && r.kind !== 'other')]!;
    const others = values.filter((_, i) => refs[i]?.kind === 'other');
    if (others.length > 0) {
      const shorten = (v: Node) => (v.text.length > 40 ? `${v.text.slice(0, 37)}...` : v.text);
      addNote(this.file, {
        message: `'${at.type === 'identifier' ? at.text : shorten(at)}' is ${shorten(built)} (line ${built.startPosition.row + 1}) or ${others.map((o) => `${shorten(o)} (line ${o.startPosition.row + 1})`).join(' or ')}, depending on a condition: read as ${shorten(built)}`,
        range: rangeOf(at),
      });
    }
    return ref;
  }

  /** A literal (`None`), or what a library call returns (`torch.load(p)`, `keras.models.load_model(p)`). */
  private isLibraryValue(value: Node): boolean {
    const origin = originOf(value, this.resolve);
    if (!origin) return false;
    if (origin.type !== 'call') return origin.type !== 'identifier' && origin.type !== 'attribute' && origin.type !== 'subscript';
    const head = dottedName(origin.childForFieldName('function'))?.split('.')[0];
    const binding = head ? [...this.file.imports.bindings].reverse().find((b) => b.local === head) : undefined;
    return !!binding && !binding.module.startsWith('.') && LIBRARIES.has(binding.module.split('.')[0]!);
  }

  /**
   * A name the file uses but never binds (`model.fit(...)` in a notebook fragment whose model cell is
   * elsewhere, a receiver read as an implicit Sequential): the file's model of that name, else the
   * file's only model, with a note. Null when the file binds the name anywhere or has no single answer.
   */
  private unboundName(node: Node): ModelRef | null {
    const n = unparen(node);
    if (n.type !== 'identifier' || reachingDefinition(n) !== null || this.file.imports.has(n.text) || mayBind(this.file.text, n.text)) return null;
    usedWholeFileFact(this.file, `'${n.text}', bound nowhere in the file`);
    // No model here: the project's only model, if it has exactly one (the linker decides).
    if (this.models.length === 0) return { kind: 'external', module: UNBOUND_NAME_MODULE, symbol: n.text };
    const named = this.models.filter((m) => m.name === n.text);
    const model = named.length === 1 ? named[0]! : this.models.length === 1 && named.length === 0 ? this.models[0]! : null;
    if (!model) return null;
    if (model.name !== n.text) {
      addNote(this.file, { message: `'${n.text}' is never assigned in this file: read as its only model '${model.name}'`, range: rangeOf(n) });
    }
    return { kind: 'local', model };
  }

  /**
   * The models whose parameters an optimizer's first argument collects (`model.parameters()`, param
   * groups, `list(enc.parameters()) + list(dec.parameters())`): the known ones, and whether some
   * part could not be traced.
   */
  modelsOfParameters(params: Node): { known: KnownRef[]; unknown: boolean } {
    const p = unparen(params);
    let roots = parameterRoots(p);
    if (roots.length === 0 && p.type === 'identifier') {
      // `params = model.parameters()` bound to a name.
      const origin = originOf(p, this.resolve);
      if (origin && origin.id !== p.id && origin.type !== 'identifier') roots = parameterRoots(origin);
    }
    if (roots.length === 0) return { known: [], unknown: true };
    const known = new Map<string, KnownRef>();
    let unknown = false;
    for (const root of roots) {
      const refs = this.refsOf(root);
      if (refs === null) unknown = true;
      else for (const ref of refs) known.set(refKey(ref), ref);
    }
    return { known: [...known.values()], unknown };
  }

  /** `from model import Net` + `Net(...)`; `import models.net as net` + `net.Net(...)`. Null when not imported. */
  importedSymbol(callee: string): ModelRef | null {
    const parts = callee.split('.');
    const head = parts[0]!;
    const binding = [...this.file.imports.bindings].reverse().find((b) => b.local === head);
    if (!binding) {
      // `from model import *` then `Net()`: the last star import of a project module may provide it
      // (the linker checks that the module really defines the symbol).
      const star = parts.length === 1 ? lastProjectStarImport(this.file.text) : null;
      return star ? { kind: 'external', module: star, symbol: head } : null;
    }
    const root = binding.module.replace(/^\.+/, '').split('.')[0]!;
    if (!binding.module.startsWith('.') && LIBRARIES.has(root)) return { kind: 'other' };
    const last = parts[parts.length - 1]!;
    if (binding.symbol !== null) {
      if (parts.length === 1) return { kind: 'external', module: binding.module, symbol: binding.symbol };
      return { kind: 'external', module: joinModule(binding.module, binding.symbol, ...parts.slice(1, -1)), symbol: last };
    }
    if (parts.length === 1) return null;
    return { kind: 'external', module: joinModule(binding.module, ...parts.slice(1, -1)), symbol: last };
  }
}

/**
 * Whether the text may bind `name` anywhere: an assignment to it (alone or among other targets on
 * the line), a loop or `as` target, a parameter, an import, a def/class, global/nonlocal. Errs on the
 * side of "may": a name it clears is certainly never bound.
 */
function mayBind(text: string, name: string): boolean {
  const n = escapeRegExp(name);
  const word = `(?<![\\w.])${n}(?![\\w.(\\[])`;
  return [
    `^[^#\\n]*${word}[^\\n]*?(?<![=!<>])=(?!=)`,
    `\\bfor\\b[^\\n]*${word}[^\\n]*\\bin\\b`,
    `\\bas\\s+${n}\\b`,
    `\\bimport\\b[^\\n]*(?<![\\w.])${n}\\b`,
    `\\b(?:def|class)\\s+${n}\\b`,
    `\\bdef\\s+\\w+\\s*\\([^)]*(?<![\\w.])${n}\\b`,
    `\\b(?:global|nonlocal|lambda)\\b[^\\n:]*\\b${n}\\b`,
    `(?<![\\w.])${n}\\s*:=`,
  ].some((source) => new RegExp(source, 'm').test(text));
}

/** The module of the last `from <module> import *` that is not a known library, or null. */
function lastProjectStarImport(text: string): string | null {
  const modules = [...text.matchAll(/^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+\*/gm)].map((m) => m[1]!);
  const project = modules.filter((m) => m.startsWith('.') || !LIBRARIES.has(m.split('.')[0]!));
  return project.at(-1) ?? null;
}

/**
 * The objects whose parameters an expression collects: `model` in `model.parameters()`,
 * `model.fc.parameters()`, `model.named_parameters()`, `model.trainable_variables`,
 * `filter(lambda p: p.requires_grad, model.parameters())`, `[{'params': model.encoder.parameters()}]`.
 */
export function parameterRoots(expr: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node) => {
    if (n.type === 'call') {
      const fn = n.childForFieldName('function');
      if (fn?.type === 'attribute' && /^(parameters|named_parameters)$/.test(fn.childForFieldName('attribute')?.text ?? '')) {
        const obj = fn.childForFieldName('object');
        if (obj) out.push(rootObject(obj));
        return;
      }
      for (const a of callArguments(n).positional) visit(a);
      for (const a of callArguments(n).keywords.values()) visit(a);
      return;
    }
    if (n.type === 'attribute' && /^(trainable_variables|trainable_weights|weights|variables)$/.test(n.childForFieldName('attribute')?.text ?? '')) {
      const obj = n.childForFieldName('object');
      if (obj) out.push(rootObject(obj));
      return;
    }
    for (const c of n.namedChildren) if (c.type !== 'lambda') visit(c);
  };
  visit(expr);
  return out;
}

/** `model.encoder.lstm` -> `model`; `self.model.fc` -> `self.model` (an attribute of self is a value of its own). */
function rootObject(node: Node): Node {
  let cur = unparen(node);
  while (cur.type === 'attribute') {
    const obj = cur.childForFieldName('object');
    if (!obj) break;
    if (obj.type === 'identifier' && obj.text === 'self') return cur;
    cur = unparen(obj);
  }
  return cur;
}
