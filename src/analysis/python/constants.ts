/**
 * Static evaluation of constant expressions, with names resolved when they are bound exactly once
 * in an enclosing scope (module, function or class body). Unknown stays unknown (undefined): the
 * analyzer never guesses a value.
 */
import type { Node } from './syntax-tree';
import { assignmentOf, namedChildren, stringValue, unparen } from './syntax';
import { LIMITS } from './limits';
import { arithmetic, braceFormat, str } from './constops';
import { argparseDefault, parsesCommandLine } from './argparse-defaults';

export type ConstValue = number | string | boolean | null | ConstValue[];

/**
 * `value[index]` on a constant tuple or list: an integer index (negative from the end) or a slice
 * `start:stop` with step 1 (a `K.int_shape(x)[1:]`); `evaluate` reads the index expressions.
 */
export function subscriptOf(value: ConstValue | undefined, index: Node, evaluate: (n: Node) => ConstValue | undefined): ConstValue | undefined {
  if (!Array.isArray(value)) return undefined;
  if (index.type !== 'slice') {
    const i = evaluate(index);
    if (typeof i !== 'number' || !Number.isInteger(i)) return undefined;
    return value[i < 0 ? value.length + i : i];
  }
  // start:stop:step, each optional: the parts between the colons.
  const parts: (Node | null)[] = [null];
  for (const child of index.children) {
    if (child.type === ':') parts.push(null);
    else parts[parts.length - 1] = child;
  }
  const bound = (node: Node | null | undefined, fallback: number): number | undefined => {
    if (!node) return fallback;
    const v = evaluate(node);
    if (v === null) return fallback;
    return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
  };
  const step = bound(parts[2], 1);
  const start = bound(parts[0], 0);
  const stop = bound(parts[1], value.length);
  if (step !== 1 || start === undefined || stop === undefined) return undefined;
  return value.slice(start, stop);
}

/** Python 3's round(x): to the nearest integer, halves to the even one. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Python arithmetic on two numbers (floored `//` and `%` as Python does); undefined for division by zero. */
const SCOPE_TYPES = new Set(['module', 'function_definition', 'class_definition']);

/** Whether `source` assigns `object.name` (`=` or an augmented assignment): then it is no constant. */
function assignsAttribute(source: string, object: string, name: string): boolean {
  return new RegExp(`\\b${object}\\.${name}\\s*(?:\\*\\*|//|>>|<<|[-+*/%&|^@])?=(?!=)`).test(source);
}

/** Classes whose instances hold the keywords (or the dict) they are made with as attributes: configuration objects. */
const ATTRIBUTE_CONTAINERS: ReadonlySet<string> = new Set(['Namespace', 'SimpleNamespace', 'EasyDict', 'edict', 'AttrDict', 'Munch', 'DotMap', 'ConfigDict', 'Box']);

/** Names assigned in a scope's own statements (not nested functions/classes), with their single value if bound once. */
function collectBindings(scopeNode: Node): Map<string, Node | null> {
  const bindings = new Map<string, Node | null>();
  const body = scopeNode.type === 'module' ? scopeNode : scopeNode.childForFieldName('body');
  if (!body) return bindings;
  const note = (name: string, value: Node | null) => {
    // A second binding makes the name ambiguous: null marks "bound, but not to one value".
    bindings.set(name, bindings.has(name) ? null : value);
  };
  // `global in_filters` (or nonlocal): assignments write the outer name, which this scope does not bind.
  const declaredOuter = new Set<string>();
  const visit = (node: Node) => {
    for (const child of namedChildren(node)) {
      if (child.type === 'global_statement' || child.type === 'nonlocal_statement') {
        for (const id of namedChildren(child)) if (id.type === 'identifier') declaredOuter.add(id.text);
        continue;
      }
      if (child.type === 'function_definition' || child.type === 'class_definition') {
        const name = child.childForFieldName('name');
        if (name) note(name.text, null);
        continue;
      }
      if (child.type === 'decorated_definition') {
        const def = child.childForFieldName('definition');
        const name = def?.childForFieldName('name');
        if (name) note(name.text, null);
        continue;
      }
      const assign = assignmentOf(child);
      if (assign) {
        if (assign.target.type === 'identifier') note(assign.target.text, assign.value);
        else for (const id of namedChildren(assign.target)) if (id.type === 'identifier') note(id.text, null);
        continue;
      }
      const expr = child.type === 'expression_statement' ? child.namedChild(0) : null;
      if (expr?.type === 'augmented_assignment') {
        const left = expr.childForFieldName('left');
        if (left?.type === 'identifier') note(left.text, null);
        continue;
      }
      if (child.type === 'for_statement') {
        const left = child.childForFieldName('left');
        if (left?.type === 'identifier') note(left.text, null);
      }
      // Compound statements: their bodies bind in this same scope.
      if (['if_statement', 'for_statement', 'while_statement', 'try_statement', 'with_statement', 'block', 'else_clause', 'elif_clause', 'except_clause', 'finally_clause'].includes(child.type)) {
        visit(child);
      }
    }
  };
  // Parameters are bound by every call: they shadow outer names with an unknown value.
  const params = scopeNode.type === 'function_definition' ? scopeNode.childForFieldName('parameters') : null;
  for (const param of params ? namedChildren(params) : []) {
    const id = param.type === 'identifier' ? param : (param.childForFieldName('name') ?? param.namedChildren.find((c) => c.type === 'identifier') ?? null);
    if (id?.type === 'identifier') bindings.set(id.text, null);
  }
  visit(body);
  for (const name of declaredOuter) bindings.delete(name);
  return bindings;
}

/**
 * Module-level constants a file imports from other files of the workspace (`from config import HIDDEN`),
 * by the syntax tree of the importing file: the extraction, which knows the workspace, registers the
 * reader (see extract/index.ts); a name no scope binds is looked up there.
 */
const importedConstants = new WeakMap<object, (name: string) => ConstValue | undefined>();

export function readImportedConstants(tree: object, read: (name: string) => ConstValue | undefined): void {
  importedConstants.set(tree, read);
}

/** A known value bound in a scope, the newest first (see Scope.with). */
interface KnownValue {
  readonly name: string;
  readonly value: ConstValue;
  readonly next: KnownValue | null;
  /** How many values this one and those after it hold. */
  readonly count: number;
}

/** Known values a scope keeps in its list before they join its settled ones (more once those are many: see Scope.with). */
const MIN_RECENT_VALUES = 8;

/** The bindings of a scope that holds known values only (never written: shared). */
const NO_BINDINGS = new Map<string, Node | null>();

/** Per tree, per scope node id: node objects are recreated on access, ids are stable within a tree. */
const bindingCache = new WeakMap<object, Map<number, Map<string, Node | null>>>();

export class Scope {
  private constructor(
    private readonly bindings: Map<string, Node | null>,
    private readonly parent: Scope | null,
    /** Known values bound here, the latest ones, newest first (see with). */
    private readonly recent: KnownValue | null = null,
    /** Known values bound here before those, shared by the scopes made from this one; recent ones win. */
    private readonly settled: ReadonlyMap<string, ConstValue> | null = null,
  ) {}

  /** The scope chain that encloses `node` (module -> ... -> innermost function/class). */
  static of(node: Node): Scope {
    const chain: Node[] = [];
    let cur: Node | null = node;
    while (cur) {
      if (SCOPE_TYPES.has(cur.type) && (cur.id !== node.id || cur.type === 'module')) chain.unshift(cur);
      cur = cur.parent;
    }
    let scope: Scope | null = null;
    for (const scopeNode of chain) scope = new Scope(Scope.bindingsOf(scopeNode), scope);
    return scope ?? new Scope(NO_BINDINGS, null);
  }

  /**
   * The scope of a definition's own body (for a function or class node itself). `outer` replaces the
   * enclosing scopes for a nested function run as a closure: the names of the call that defined it.
   */
  static inside(def: Node, outer?: Scope): Scope {
    return new Scope(Scope.bindingsOf(def), outer ?? Scope.of(def));
  }

  private static bindingsOf(scopeNode: Node): Map<string, Node | null> {
    const tree = scopeNode.tree as unknown as object;
    let perTree = bindingCache.get(tree);
    if (!perTree) bindingCache.set(tree, (perTree = new Map<number, Map<string, Node | null>>()));
    let b = perTree.get(scopeNode.id);
    if (!b) perTree.set(scopeNode.id, (b = collectBindings(scopeNode)));
    return b;
  }

  /** A child scope in which `name` has a known value (a loop variable during unrolling). */
  with(name: string, value: ConstValue): Scope {
    // Layers that only hold known values collapse into one: a long unrolled loop rebinding its names
    // keeps the chain (and every lookup) as short as the nesting of scopes, not as long as the loop.
    // Each new scope adds its value to a short list of the latest, shared with the scope before; once
    // the list is long its values join the settled ones in a map, which the scopes after share. A copy
    // of all the values per binding made a script's module quadratic (12 ms of a 567-line GAN's 90),
    // and a copy of the latest ones in a map was a fifth of what reading a ResNet builder allocated.
    if (this.bindings.size === 0 && this.parent) {
      const count = this.recent?.count ?? 0;
      if (count < Math.max(MIN_RECENT_VALUES, Math.sqrt(this.settled?.size ?? 0))) return new Scope(this.bindings, this.parent, { name, value, next: this.recent, count: count + 1 }, this.settled);
      const settled = new Map(this.settled ?? []);
      const newestFirst: KnownValue[] = [];
      for (let known = this.recent; known; known = known.next) newestFirst.push(known);
      for (let i = newestFirst.length - 1; i >= 0; i--) settled.set(newestFirst[i]!.name, newestFirst[i]!.value);
      return new Scope(this.bindings, this.parent, { name, value, next: null, count: 1 }, settled);
    }
    return new Scope(NO_BINDINGS, this, { name, value, next: null, count: 1 });
  }

  /** The latest known value bound here to `name` (its node in the list), or null. */
  private recentOf(name: string): KnownValue | null {
    for (let known = this.recent; known; known = known.next) if (known.name === name) return known;
    return null;
  }

  /** Whether this scope binds `name` to a value it knows (which may be "unknown": undefined). */
  private knowsHere(name: string): boolean {
    return this.recentOf(name) !== null || this.settled?.has(name) === true;
  }

  /** Whether some scope of the chain binds `name` (its value may still be unknown). */
  binds(name: string): boolean {
    return this.bindsOwn(name) || (this.parent?.binds(name) ?? false);
  }

  /** Whether the nearest scope that binds `name` is the outermost one (a function reading a module name). */
  boundAtModule(name: string): boolean {
    if (this.bindsOwn(name)) return this.parent === null;
    return this.parent?.boundAtModule(name) ?? false;
  }

  /** Whether this scope itself (not an enclosing one) binds `name`. */
  bindsOwn(name: string): boolean {
    return this.knowsHere(name) || this.bindings.has(name);
  }

  /** The expression a name is bound to once, in the nearest scope that binds it; undefined when unknown. */
  lookup(name: string): Node | undefined {
    if (this.knowsHere(name)) return undefined;
    if (this.bindings.has(name)) return this.bindings.get(name) ?? undefined;
    return this.parent?.lookup(name);
  }

  /** Follows `name -> value` through single bindings (at most a few hops) to the defining expression. */
  resolveExpression(node: Node): Node {
    let cur = unparen(node);
    for (let hops = 0; hops < 8 && cur.type === 'identifier'; hops++) {
      const next = this.lookup(cur.text);
      if (!next) break;
      cur = unparen(next);
    }
    return cur;
  }

  private overrideOf(name: string): ConstValue | undefined {
    const known = this.recentOf(name);
    if (known) return known.value;
    if (this.settled?.has(name)) return this.settled.get(name);
    if (this.bindings.has(name)) return undefined;
    return this.parent?.overrideOf(name);
  }

  /** The constant value of an expression; undefined when it cannot be known statically. */
  evaluate(node: Node | null | undefined, depth = 0): ConstValue | undefined {
    if (!node || depth > 20) return undefined;
    const n = unparen(node);
    switch (n.type) {
      case 'integer': {
        const v = Number(n.text.replace(/_/g, '').replace(/[lL]$/, ''));
        return Number.isFinite(v) ? v : undefined;
      }
      case 'float': {
        const v = Number(n.text.replace(/_/g, ''));
        return Number.isFinite(v) ? v : undefined;
      }
      case 'true':
        return true;
      case 'false':
        return false;
      case 'none':
        return null;
      case 'string':
        return stringValue(n) ?? this.formatted(n, depth);
      case 'concatenated_string': {
        const parts = namedChildren(n).map((c) => this.evaluate(c, depth + 1));
        return parts.every((p): p is string => typeof p === 'string') ? parts.join('') : undefined;
      }
      case 'identifier': {
        const o = this.overrideOf(n.text);
        if (o !== undefined) return o;
        const bound = this.lookup(n.text);
        if (bound) return this.evaluate(bound, depth + 1);
        return this.binds(n.text) ? undefined : importedConstants.get(n.tree)?.(n.text);
      }
      case 'unary_operator': {
        const v = this.evaluate(n.childForFieldName('argument'), depth + 1);
        const op = n.childForFieldName('operator')?.text;
        if (typeof v !== 'number') return undefined;
        return op === '-' ? -v : op === '+' ? v : undefined;
      }
      case 'binary_operator':
        return this.binary(n, depth);
      case 'tuple':
      case 'list': {
        const items = namedChildren(n).map((c) => this.evaluate(c, depth + 1));
        return items.every((v) => v !== undefined) ? (items) : undefined;
      }
      case 'call':
        return this.mathCall(n, depth);
      case 'subscript':
        return this.subscript(n, depth);
      case 'attribute': {
        const text = n.text;
        if (text === 'math.pi' || text === 'np.pi' || text === 'numpy.pi') return Math.PI;
        if (text === 'math.e') return Math.E;
        return this.namespaceAttribute(n, depth);
      }
      default:
        return undefined;
    }
  }

  /**
   * `opt.img_size` with `opt = parser.parse_args()`: the argument's default, evaluated where it is
   * written. Not part of `evaluate`: a value the command line may change is no fact for a rule (a
   * learning rate of `--lr`), but it is what the model is built with when no flag is given.
   */
  commandLineDefault(n: Node, depth = 0): ConstValue | undefined {
    const object = n.childForFieldName('object');
    const name = n.childForFieldName('attribute')?.text;
    // Asked of every `x.y` the readers evaluate: a file that parses no command line answers at once.
    if (object?.type !== 'identifier' || !name || !parsesCommandLine(n)) return undefined;
    let parsed = this.resolveExpression(object);
    // A function the interpreter runs holds `args` as the value it could not compute: its written binding says what it is.
    if (parsed.type === 'identifier') parsed = Scope.of(object).resolveExpression(object);
    const fallback = parsed.type === 'call' ? argparseDefault(parsed, name) : undefined;
    return fallback ? Scope.of(fallback).evaluate(fallback, depth + 1) : undefined;
  }

  /** A number, or undefined. */
  number(node: Node | null | undefined): number | undefined {
    const v = this.evaluate(node);
    return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined;
  }

  /** An f-string whose interpolations are constants (`f"h{i}"` in an unrolled loop); format specs are not read. */
  private formatted(n: Node, depth: number): ConstValue | undefined {
    let out = '';
    for (const c of namedChildren(n)) {
      if (c.type === 'string_content' || c.type === 'escape_sequence') out += c.text;
      else if (c.type === 'interpolation') {
        if (c.childForFieldName('format_specifier') || c.childForFieldName('type_conversion')) return undefined;
        const v = this.evaluate(c.childForFieldName('expression'), depth + 1);
        // A sequence prints as a tuple or a list, which constants do not tell apart.
        if (v === undefined || Array.isArray(v)) return undefined;
        out += str(v);
      } else if (c.type !== 'string_start' && c.type !== 'string_end') return undefined;
    }
    return out;
  }

  private binary(n: Node, depth: number): ConstValue | undefined {
    const a = this.evaluate(n.childForFieldName('left'), depth + 1);
    const b = this.evaluate(n.childForFieldName('right'), depth + 1);
    const op = n.childForFieldName('operator')?.text;
    return op ? arithmetic(op, a, b) : undefined;
  }

  /**
   * `args.img_rows` with `args = argparse.Namespace(img_rows=28, ...)` (or SimpleNamespace, EasyDict,
   * `EasyDict({'img_rows': 28})`): the value the container is made with, unless the file assigns that
   * attribute anywhere (`args.img_rows = 32`, `+=`), which makes it no constant.
   */
  private namespaceAttribute(n: Node, depth: number): ConstValue | undefined {
    const object = n.childForFieldName('object');
    const name = n.childForFieldName('attribute')?.text;
    if (object?.type !== 'identifier' || !name) return undefined;
    // Made in another file of the workspace (`from config import args`), and not changed in this one.
    if (!this.binds(object.text) && !this.lookup(object.text)) {
      const value = importedConstants.get(n.tree)?.(`${object.text}.${name}`);
      return value === undefined || assignsAttribute(n.tree.source, object.text, name) ? undefined : value;
    }
    return this.containerAttribute(object.text, name, depth);
  }

  /** The attribute `name` of the configuration object (ATTRIBUTE_CONTAINERS) the name `object` is bound to once here, as it is made. */
  containerAttribute(object: string, name: string, depth = 0): ConstValue | undefined {
    const bound = this.lookup(object);
    const call = bound ? unparen(bound) : null;
    const args = call?.type === 'call' ? call.childForFieldName('arguments') : null;
    const callee = call?.childForFieldName('function')?.text.split('.').at(-1);
    if (!args || !callee || !ATTRIBUTE_CONTAINERS.has(callee) || assignsAttribute(args.tree.source, object, name)) return undefined;
    for (const arg of namedChildren(args)) {
      if (arg.type === 'keyword_argument' && arg.childForFieldName('name')?.text === name) return this.evaluate(arg.childForFieldName('value'), depth + 1);
      if (arg.type !== 'dictionary') continue;
      for (const pair of namedChildren(arg)) {
        const key = pair.type === 'pair' ? pair.childForFieldName('key') : null;
        if (key?.type === 'string' && stringValue(key) === name) return this.evaluate(pair.childForFieldName('value'), depth + 1);
      }
    }
    return undefined;
  }

  /** `shape[1]`, `shape[-1]`, `shape[1:]`, `shape[:-1]` on a constant tuple or list. */
  private subscript(n: Node, depth: number): ConstValue | undefined {
    const index = n.childForFieldName('subscript');
    if (!index || n.namedChildCount !== 2) return undefined;
    return subscriptOf(this.evaluate(n.childForFieldName('value'), depth + 1), index, (c) => this.evaluate(c, depth + 1));
  }

  private mathCall(n: Node, depth: number): ConstValue | undefined {
    const callee = n.childForFieldName('function');
    const fn = callee?.text;
    const args = n.childForFieldName('arguments');
    const values = args ? namedChildren(args).map((a) => this.evaluate(a, depth + 1)) : [];
    if (callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'format') {
      const template = this.evaluate(callee.childForFieldName('object'), depth + 1);
      if (typeof template !== 'string' || !args) return undefined;
      const positional: (ConstValue | undefined)[] = [];
      const keywords = new Map<string, ConstValue | undefined>();
      for (const a of namedChildren(args)) {
        const name = a.type === 'keyword_argument' ? a.childForFieldName('name')?.text : undefined;
        if (name) keywords.set(name, this.evaluate(a.childForFieldName('value'), depth + 1));
        else positional.push(this.evaluate(a, depth + 1));
      }
      return braceFormat(template, positional, keywords);
    }
    return constantCall(fn, values);
  }

  /**
   * The values a `for` loop / comprehension iterates over when its bounds are constant:
   * range(n), range(a, b[, step]), a constant list/tuple. Undefined otherwise. Capped to stay sane.
   */
  iteration(iterable: Node, cap: number = LIMITS.loopIterations): ConstValue[] | undefined {
    const n = unparen(iterable);
    if (n.type === 'call' && n.childForFieldName('function')?.text === 'range') {
      const args = n.childForFieldName('arguments');
      const nums = args ? namedChildren(args).map((a) => this.number(a)) : [];
      if (nums.some((v) => v === undefined) || nums.length === 0 || nums.length > 3) return undefined;
      const [a, b, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
      if (step === 0) return undefined;
      const out: number[] = [];
      for (let i = a; step > 0 ? i < b : i > b; i += step) {
        out.push(i);
        if (out.length > cap) return undefined;
      }
      return out;
    }
    if (n.type === 'call' && n.childForFieldName('function')?.text === 'enumerate') {
      const args = n.childForFieldName('arguments');
      const inner = args?.namedChild(0);
      const items = inner ? this.iteration(inner, cap) : undefined;
      return items?.map((v, i) => [i, v]);
    }
    const v = this.evaluate(n);
    return Array.isArray(v) && v.length <= cap ? v : undefined;
  }
}

/** A call of a builtin or math function on constants (`np.prod(shape)`, `int(n / 2)`, `max(a, b)`), by the callee as written. */
export function constantCall(fn: string | undefined, values: readonly (ConstValue | undefined)[]): ConstValue | undefined {
  const only = values[0];
  if ((fn === 'np.prod' || fn === 'numpy.prod' || fn === 'math.prod') && values.length === 1 && Array.isArray(only) && only.every((v) => typeof v === 'number')) {
    return only.reduce((a, b) => a * b, 1);
  }
  const nums = values.filter((v): v is number => typeof v === 'number');
  if (nums.length !== values.length) return undefined;
  switch (fn) {
    case 'math.sqrt':
    case 'np.sqrt':
    case 'numpy.sqrt':
      return nums.length === 1 && nums[0]! >= 0 ? Math.sqrt(nums[0]!) : undefined;
    case 'int':
      return nums.length === 1 ? Math.trunc(nums[0]!) : undefined;
    case 'round':
      return nums.length === 1 ? roundHalfEven(nums[0]!) : undefined;
    case 'float':
      return nums.length === 1 ? nums[0] : undefined;
    case 'abs':
      return nums.length === 1 ? Math.abs(nums[0]!) : undefined;
    case 'min':
      return nums.length ? Math.min(...nums) : undefined;
    case 'max':
      return nums.length ? Math.max(...nums) : undefined;
    case 'pow':
    case 'math.pow':
      return nums.length === 2 ? nums[0]! ** nums[1]! : undefined;
    case 'math.log':
      return nums.length === 1 && nums[0]! > 0 ? Math.log(nums[0]!) : undefined;
    default:
      return undefined;
  }
}
