/**
 * Call-site sensitivity: where a class or builder function of the workspace is called, with which
 * constant arguments, and how the models the calls build are told apart. A definition is evaluated
 * per call with that call's arguments (positional, keyword, a literal `**dict` or `*list`, defaults
 * for what is left out); identical results collapse into one model, different ones become separate
 * models named after their call (`Mlp(fill=0)`, line 13). A definition nobody calls is evaluated once
 * with its defaults.
 */
import { basename } from 'node:path';
import type { Node } from './syntax-tree';
import type { WordAt } from './text-words';
import type { ModelIR, Range } from '../../shared/ir';
import { Scope, type ConstValue } from './constants';
import { namedChildren, rangeOf, unparen } from './syntax';
import { callArgs, dotted } from './syntax-cache';
import type { ImportTable } from './imports';
import { evaluateWith } from './evaluate';
import { sourceSnippet } from '../../shared/source-snippet';
import { modelWith } from '../../shared/models';

/** Arguments of one call, as constants; an argument whose value is unknown is `undefined` (never its default). */
export interface ConstArguments {
  positional: (ConstValue | undefined)[];
  keywords: Map<string, ConstValue | undefined>;
  /** A splat whose contents are unknown: parameters not given are unknown rather than defaulted. */
  partial: boolean;
  /** Of the arguments that are no constants, those that are library classes or their instances (LibraryArgument), by position and keyword. */
  library?: { positional: Map<number, LibraryArgument>; keywords: Map<string, LibraryArgument> };
}

/**
 * An argument that names a class of an imported library or builds one with literal arguments (`nn.GELU`,
 * `nn.Tanh()`, `torch.nn.LeakyReLU(0.2)`): a reader of the called definition, in another file, can make it
 * without the calling file's other names.
 */
export interface LibraryArgument {
  /** As the calling file's imports resolve it ("torch.nn.Tanh"). */
  qualified: string;
  spelling: string;
  /** The call that builds it; null when the class itself is passed. */
  call: Node | null;
}

/** One call of a definition: where it is and what it passes. */
export interface CallSite {
  file: string;
  range: Range;
  /** The call as written, shortened: the instance's name in findings (`Mlp(fill=0)`). */
  label: string;
  args: ConstArguments;
  /**
   * Functions the calling file passes to `.apply(...)` on what the call built, by their names there
   * (`self.net = Cluster(args)` ... `self.net.apply(weight_init)`): they change this instance's layers.
   */
  applied?: string[];
}

/** The call as written, whitespace collapsed, at most 60 characters. */
export function callLabel(call: Node): string {
  const text = call.text.replace(/\s+/g, ' ').replace(/\(\s+/g, '(').replace(/,?\s+\)/g, ')');
  return sourceSnippet(text);
}

/**
 * Calls of the names `names` as written (`Mlp(...)`, not `x.Mlp(...)`; a dotted name such as
 * `ResnetBuilder.build` for a static method) in the file of `root`, found in the calls its text writes
 * (SyntaxTree.writtenCalls), then checked on the syntax tree. Definitions (`def Mlp`, `class Mlp`) are not calls.
 */
export function callsOf(root: Node, names: ReadonlySet<string>): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  if (names.size === 0) return out;
  const text = root.tree.source;
  // The written calls of these names only, in text order (the map below is filled in that order).
  const byName = root.tree.writtenCallNames;
  const found: WordAt[] = [];
  for (const name of names) for (const index of byName.get(name) ?? []) found.push({ word: name, index });
  if (names.size > 1) found.sort((a, b) => a.index - b.index);
  for (const { word: name, index } of found) {
    if (/(?:def|class)\s+$/.test(text.slice(Math.max(0, index - 8), index))) continue;
    let node: Node | null = root.descendantForIndex(index);
    while (node && node.type !== 'call') node = node.parent;
    if (!node || node.childForFieldName('function')?.text !== name) continue;
    const list = out.get(name) ?? [];
    if (!list.some((n) => n.id === node.id)) list.push(node);
    out.set(name, list);
  }
  return out;
}

/** The constant a name or expression has where the call is written (a dict / list literal bound once included). */
function literalOf(scope: Scope, node: Node): Node {
  return scope.resolveExpression(node);
}

/**
 * The constant arguments of a call, evaluated where it is written. `**cfg` with `cfg` bound once to a
 * dict literal (or `dict(a=1)`) and `*sizes` bound to a constant list expand; any other splat makes the
 * arguments partial.
 */
export function constantArguments(call: Node, imports?: ImportTable): ConstArguments {
  const scope = Scope.of(call);
  const args = callArgs(call);
  const out: ConstArguments = { positional: [], keywords: new Map(), partial: false };
  const evaluate = (node: Node) => withCommandLineDefaults(scope, node, 0);
  const library = { positional: new Map<number, LibraryArgument>(), keywords: new Map<string, LibraryArgument>() };
  for (const node of args.positional) {
    const value = evaluate(node);
    const written = value === undefined && imports ? libraryArgument(node, imports) : null;
    if (written) library.positional.set(out.positional.length, written);
    out.positional.push(value);
  }
  for (const [name, node] of args.keywords) {
    const value = evaluate(node);
    const written = value === undefined && imports ? libraryArgument(node, imports) : null;
    if (written) library.keywords.set(name, written);
    out.keywords.set(name, value);
  }
  if (library.positional.size > 0 || library.keywords.size > 0) out.library = library;
  for (const splat of args.splats) {
    const inner = splat.namedChild(0);
    if (!inner) {
      out.partial = true;
      continue;
    }
    if (splat.type === 'list_splat') {
      const items = scope.evaluate(inner);
      if (Array.isArray(items)) out.positional.push(...items);
      else out.partial = true;
      continue;
    }
    const entries = dictEntries(scope, literalOf(scope, unparen(inner)));
    if (entries) for (const [k, v] of entries) out.keywords.set(k, v);
    else out.partial = true;
  }
  return out;
}

/**
 * A call's argument as the call passes it when no flag is given: `args.layers` with `args =
 * parser.parse_args()` reads its argparse default, as the readers take it, also through names bound to
 * expressions of such reads (`img_shape = (opt.channels, opt.img_height, opt.img_width)`).
 */
function withCommandLineDefaults(scope: Scope, node: Node, depth: number): ConstValue | undefined {
  return evaluateWith((n) => {
    const known = scope.evaluate(n);
    if (known !== undefined) return known;
    if (n.type === 'attribute' && n.childForFieldName('object')?.type === 'identifier') return scope.commandLineDefault(n);
    if (n.type !== 'identifier' || depth >= MAX_NAME_HOPS) return undefined;
    const bound = scope.resolveExpression(n);
    if (bound.type !== 'identifier') return withCommandLineDefaults(Scope.of(bound), bound, depth + 1);
    // A parameter of the function making the call (`Encoder(embed_dim, ...)` in `__init__(self, embed_dim=256)`):
    // its default, as that function's own model is read when its callers leave it out.
    const fallback = parameterDefault(bound);
    return fallback ? withCommandLineDefaults(Scope.of(fallback), fallback, depth + 1) : undefined;
  }, node);
}

/** Syntax of a literal argument: what a call written in another file can be evaluated with anywhere. */
const LITERALS = new Set(['integer', 'float', 'string', 'true', 'false', 'none']);

const isLiteral = (node: Node): boolean =>
  LITERALS.has(node.type) ? node.type !== 'string' || !node.namedChildren.some((c) => c.type === 'interpolation') : node.type === 'unary_operator' && (node.namedChildren[0]?.type === 'integer' || node.namedChildren[0]?.type === 'float');

/** `nn.GELU`, `nn.Tanh()`, `nn.LeakyReLU(0.2)` through an import the enclosing functions do not shadow; null otherwise. */
function libraryArgument(node: Node, imports: ImportTable): LibraryArgument | null {
  const callee = node.type === 'call' ? node.childForFieldName('function') : node;
  const name = dotted(callee);
  const head = name?.split('.')[0];
  if (!name || !head || !imports.has(head) || boundInFunctions(node, head)) return null;
  if (node.type === 'call') {
    const args = callArgs(node);
    if (args.splats.length > 0 || ![...args.positional, ...args.keywords.values()].every(isLiteral)) return null;
  }
  return { qualified: imports.resolve(name), spelling: name, call: node.type === 'call' ? node : null };
}

/** Whether a function enclosing `use` takes `name` as a parameter or binds it in its body. */
function boundInFunctions(use: Node, name: string): boolean {
  for (let fn: Node | null = use.parent; fn; fn = fn.parent) {
    if (fn.type !== 'function_definition') continue;
    const params = fn.childForFieldName('parameters')?.namedChildren ?? [];
    if (params.some((p) => (p.type === 'identifier' ? p : (p.childForFieldName('name') ?? p.namedChild(0)))?.text === name)) return true;
    const body = fn.childForFieldName('body');
    if (body && rebinds(body, name)) return true;
  }
  return false;
}

/** Statement-level nodes that rebind a name in a function body (besides plain and augmented assignment). */
const REBINDING_PARENTS = new Set(['for_statement', 'as_pattern_target', 'named_expression', 'global_statement', 'nonlocal_statement']);

/**
 * The default value of the parameter `use` names, in the nearest function enclosing it that has such a
 * parameter, when that function's body never rebinds the name; null otherwise.
 */
function parameterDefault(use: Node): Node | null {
  for (let fn: Node | null = use.parent; fn; fn = fn.parent) {
    if (fn.type !== 'function_definition') continue;
    const param = fn.childForFieldName('parameters')?.namedChildren.find((p) => (p.type === 'identifier' ? p : p.childForFieldName('name'))?.text === use.text);
    if (!param) continue;
    if (param.type !== 'default_parameter' && param.type !== 'typed_default_parameter') return null;
    const body = fn.childForFieldName('body');
    if (!body || rebinds(body, use.text)) return null;
    return param.childForFieldName('value');
  }
  return null;
}

function rebinds(body: Node, name: string): boolean {
  const visit = (node: Node): boolean => {
    for (const child of node.namedChildren) {
      if (child.type === 'function_definition' || child.type === 'class_definition' || child.type === 'lambda') continue;
      if (child.type === 'identifier' && child.text === name) {
        const parent = child.parent;
        const target = parent?.type === 'assignment' || parent?.type === 'augmented_assignment' ? parent.childForFieldName('left') : null;
        if (target?.equals(child) || (parent && (REBINDING_PARENTS.has(parent.type) || parent.type === 'pattern_list' || parent.type === 'tuple_pattern'))) return true;
      }
      if (visit(child)) return true;
    }
    return false;
  };
  return visit(body);
}

/** Names followed to the expressions they are bound to, one inside the other, when reading an argument. */
const MAX_NAME_HOPS = 4;

/** `{'a': 1, 'b': x}` or `dict(a=1, b=x)`: its entries (values unknown when not constant); null when not a literal. */
function dictEntries(scope: Scope, node: Node): Map<string, ConstValue | undefined> | null {
  const entries = new Map<string, ConstValue | undefined>();
  if (node.type === 'dictionary') {
    for (const pair of namedChildren(node)) {
      if (pair.type !== 'pair') return null;
      const key = scope.evaluate(pair.childForFieldName('key'));
      if (typeof key !== 'string') return null;
      entries.set(key, scope.evaluate(pair.childForFieldName('value')));
    }
    return entries;
  }
  if (node.type === 'call' && node.childForFieldName('function')?.text === 'dict') {
    const args = callArgs(node);
    if (args.positional.length > 0 || args.splats.length > 0) return null;
    for (const [k, v] of args.keywords) entries.set(k, scope.evaluate(v));
    return entries;
  }
  return null;
}

/** One call as a call site; with the calling file's imports, its library arguments too (see LibraryArgument). */
export function callSiteOf(file: string, call: Node, imports?: ImportTable): CallSite {
  const applied = appliedAfterwards(call);
  return { file, range: rangeOf(call), label: callLabel(call), args: constantArguments(call, imports), ...(applied.length > 0 ? { applied } : {}) };
}

/** Per tree: whether its text calls `.apply(` anywhere (most files do not: their call sites need no scope text). */
const applyMentioned = new WeakMap<object, boolean>();

function mentionsApply(node: Node): boolean {
  const tree = node.tree as unknown as object;
  let known = applyMentioned.get(tree);
  if (known === undefined) applyMentioned.set(tree, (known = /\.\s*apply\s*\(/.test(node.tree.rootNode.text)));
  return known;
}

/**
 * `target = Call(...)` then `target.apply(fn)` (a name or `self.attr` target; the class for an
 * attribute of self, else the function or module the call is in): the names passed to apply.
 */
function appliedAfterwards(call: Node): string[] {
  const statement = call.parent;
  const target = statement?.type === 'assignment' && statement.childForFieldName('right')?.id === call.id ? statement.childForFieldName('left') : null;
  if (!target || (target.type !== 'identifier' && !(target.type === 'attribute' && target.childForFieldName('object')?.text === 'self'))) return [];
  if (!mentionsApply(call)) return [];
  const kinds = target.type === 'attribute' ? ['class_definition'] : ['function_definition', 'module'];
  let scope: Node | null = statement?.parent ?? null;
  while (scope && !kinds.includes(scope.type)) scope = scope.parent;
  if (!scope) return [];
  const name = target.text.replace(/[.]/g, '\\.');
  const pattern = new RegExp(`(?<![\\w.])${name}\\s*\\.\\s*apply\\s*\\(\\s*([A-Za-z_]\\w*)\\s*\\)`, 'g');
  return [...new Set([...scope.text.matchAll(pattern)].map((m) => m[1]!))];
}

/** What one evaluation per call site built, before identical results collapse. */
export interface InstanceModels {
  /** null: the definition's own defaults (nobody calls it). */
  site: CallSite | null;
  models: ModelIR[];
}

/** What tells two models apart: everything but their names and where they were called. */
function signature(model: ModelIR): string {
  // Where another file wrote a layer is not what the model computes: the same module passed from two files builds one model.
  return JSON.stringify([model.style, model.layers, model.inputShape, model.unsupported], (key, value: unknown) => (key === 'writtenAt' ? undefined : value));
}

/**
 * Collapses per-call results: calls that built identical models give one model (named as if
 * unqualified); when calls built different models, each is a model of its own named after its call
 * (`Mlp(fill=0)`) and carrying `instance`. Models are matched across calls by name and position.
 */
export function collapseInstances(runs: readonly InstanceModels[]): ModelIR[] {
  const groups = new Map<string, { model: ModelIR; site: CallSite | null }[]>();
  for (const run of runs) {
    for (const model of run.models) {
      const key = model.id;
      const list = groups.get(key) ?? [];
      list.push({ model, site: run.site });
      groups.set(key, list);
    }
  }
  const out: ModelIR[] = [];
  for (const variants of groups.values()) {
    // One run (a builder called once, a class built once): nothing to tell apart, no signature to serialize.
    if (variants.length === 1) {
      out.push(variants[0]!.model);
      continue;
    }
    // The first variant of each signature. Models of different lengths differ: their signatures (the
    // whole IR serialized: a ResNet builder's five depths, 1,200 layers) are made only to compare
    // models of one length.
    const distinct: { model: ModelIR; site: CallSite | null; sig: string | null }[] = [];
    for (const v of variants) {
      const alike = distinct.filter((d) => d.model.layers.length === v.model.layers.length);
      if (alike.length === 0) {
        distinct.push({ ...v, sig: null });
        continue;
      }
      const sig = signature(v.model);
      if (!alike.some((d) => (d.sig ??= signature(d.model)) === sig)) distinct.push({ ...v, sig });
    }
    if (distinct.length === 1) {
      out.push(distinct[0]!.model);
      continue;
    }
    for (const { model, site } of distinct) {
      if (!site) {
        out.push(model);
        continue;
      }
      // Two calls written alike (`Clf()` twice, changed afterwards): their lines tell them apart, with their files when they are in several.
      const alike = distinct.flatMap((v) => (v.site?.label === site.label ? [v.site] : []));
      const files = new Set(alike.map((s) => s.file));
      const where = files.size > 1 ? `${basename(site.file)}:${site.range.start.line + 1}` : `line ${site.range.start.line + 1}`;
      const name = alike.length > 1 ? `${site.label} (${where})` : site.label;
      out.push(modelWith(model, { name, id: `${name}@${site.file === model.file ? site.range.start.line : model.range.start.line}`, instance: { label: site.label, file: site.file, range: site.range } }));
    }
  }
  return out;
}
