/**
 * The Python evaluation core: it walks statements with abstract values and never runs user code.
 * It owns what is the same for every framework: scopes and frames, statement execution (assignment
 * and augmented assignment, `for` / `while` within the limits, `if`, `with`, `try`, `return`,
 * nested `def`), comprehensions, calls of the file's functions with their actual arguments
 * (positional, keyword, `*list`, `**dict`, defaults), the generic expressions (literals, f-strings,
 * boolean logic, comparisons of constants) and the policy for the unknown: an `if` whose condition is
 * unknown explores every remaining branch on a fork of the frame and merges the forks.
 *
 * A framework recogniser subclasses it and says what its values are (the value model: constants,
 * lists, dicts, functions, merging, truth, iteration) and what a name, an attribute, a call, an
 * operator or a subscript means for them (the hooks).
 */
import { memoSlot, type Node } from './syntax-tree';
import { throwIfCancelled } from '../cancellation';
import { Scope, type ConstValue } from './constants';
import { compare, str } from './constops';
import { LIMITS, type EvalNotes } from './limits';
import { SyntaxCache } from './syntax-cache';
import { rangeOf, stringValue } from './syntax';

/** A call's evaluated arguments. */
export interface CallArgs<V> {
  positional: V[];
  keywords: Map<string, V>;
  /** A splat whose contents are unknown: positions after it are unknown. */
  partial: boolean;
  /** Parameters not given are unknown rather than their defaults (a model's entry point called by unknown code). */
  optionalUnknown?: boolean;
}

/** What the core keeps of one running function (a framework adds its own fields). */
export interface EvalFrame<V> {
  scope: Scope;
  locals: Map<string, V>;
  depth: number;
  /** The constant loop being unrolled around the code, if any (its index and length). */
  unroll: { index: number; count: number } | null;
  /**
   * Values returned on paths that ended under a condition whose value is unknown; the call's result
   * merges them with the value returned at the end. Shared by the frames forked for branches.
   */
  returns?: V[];
  /** Names the running function declares `global`: assigning them writes the module's names. */
  globalNames?: Set<string>;
}

/** A list the core builds and reads (literals, comprehensions, `+=`, `*list`): every framework's values include it. */
export interface ListValue<V> {
  t: 'list';
  items: V[];
}

/** A dict the core builds and reads (literals, `**dict`): every framework's values include it. */
export interface DictValue<V> {
  t: 'dict';
  entries: Map<string, V>;
}

/** Whether a value is the core's list (a framework's value tagged 'list' is one: see Evaluator.container). */
function isList<V>(v: { t: string }): v is ListValue<V> {
  return v.t === 'list';
}

function isDict<V>(v: { t: string }): v is DictValue<V> {
  return v.t === 'dict';
}

export type Flow<V> = { kind: 'return'; value: V } | { kind: 'break' } | { kind: 'continue' } | undefined;

/** State outside a frame's locals that the branches of an unknown `if` change (a module under construction). */
export interface BranchState {
  /** Back to the state before the first branch (each branch starts from it). */
  reset(): void;
  /** Records the state a branch ended in. */
  capture(): void;
  /** Merges the recorded ends into the live state. */
  merge(): void;
}

/**
 * The names forks of one frame left differently from `before`, with the merge of their values (a name
 * a fork does not hold has its value from before, else `missing`). Only names some fork rebound are
 * merged: a fork starts as a copy of `before`, and every framework's merge gives back a value all
 * forks share. Merging every name cost each `if` of unknown condition the size of all the frame's
 * values (constant lists compared whole): a script's module-level loop around one took 150 ms.
 */
export function mergedBindings<V>(before: ReadonlyMap<string, V>, ends: readonly ReadonlyMap<string, V>[], merge: (values: V[]) => V, missing: V): Map<string, V> {
  const rebound = new Set<string>();
  for (const end of ends) for (const [name, value] of end) if (before.get(name) !== value) rebound.add(name);
  const out = new Map<string, V>();
  for (const name of rebound) {
    const prior = before.get(name);
    const merged = merge(ends.map((m) => m.get(name) ?? prior ?? missing));
    if (merged !== prior) out.set(name, merged);
  }
  return out;
}

/** Whether `condition` reads a name (or `self.x`) that a statement of `body` assigns (nested functions aside). */
function readsAssigned(condition: Node, body: Node): boolean {
  const assigned = new Set<string>();
  const targets = (t: Node | null): void => {
    if (!t) return;
    if (t.type === 'identifier' || t.type === 'attribute') assigned.add(t.text);
    else if (t.type === 'pattern_list' || t.type === 'tuple_pattern' || t.type === 'list_pattern' || t.type === 'parenthesized_expression') t.namedChildren.forEach(targets);
  };
  // Statements only: an assignment is a statement's expression (`a = b = v` nests), a block is a compound statement's part.
  const pending = [body];
  for (let n = pending.pop(); n !== undefined; n = pending.pop()) {
    if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'decorated_definition') continue;
    if (n.type === 'assignment' || n.type === 'augmented_assignment') {
      targets(n.childForFieldName('left'));
      const right = n.childForFieldName('right');
      if (right?.type === 'assignment') pending.push(right);
      continue;
    }
    if (n.type === 'for_statement') targets(n.childForFieldName('left'));
    if (n.type === 'expression_statement' || n.type === 'block' || n.type.endsWith('_statement') || n.type.endsWith('_clause')) pending.push(...n.namedChildren);
  }
  const read = [condition];
  for (let n = read.pop(); n !== undefined; n = read.pop()) {
    if ((n.type === 'identifier' || n.type === 'attribute') && assigned.has(n.text)) return true;
    read.push(...n.namedChildren);
  }
  return false;
}

/** Statements that bind no name of the frame they run in (nor make a reader rebind one). */
const NON_BINDING_STATEMENTS: ReadonlySet<string> = new Set(['pass_statement', 'break_statement', 'continue_statement', 'return_statement', 'raise_statement', 'assert_statement', 'print_statement', 'comment']);
const BINDS_NAMES = memoSlot();

/**
 * Whether running `block` may bind a name of its frame, read from its statements: assignments,
 * loops (a loop of unknown length forgets what it appends to), definitions, imports, `with ... as`,
 * `except ... as`, `del`, `global`, a walrus anywhere; conservatively, any statement but an expression
 * and the few that bind nothing. A branch that binds nothing runs on the frame's own names, uncopied:
 * an unknown `if` inside a script's unrolled loop copied every module name twice an iteration.
 */
function bindsNames(block: Node): boolean {
  return block.memo(BINDS_NAMES, (b) => b.namedChildren.some(statementBinds));
}

function statementBinds(stmt: Node): boolean {
  if (stmt.text.includes(':=')) return true;
  if (stmt.type === 'expression_statement') return stmt.namedChildren.some((e) => e.type === 'assignment' || e.type === 'augmented_assignment');
  if (stmt.type === 'if_statement') {
    const consequence = stmt.childForFieldName('consequence');
    return (consequence !== null && bindsNames(consequence)) || stmt.childrenForFieldName('alternative').some((alt) => {
      const body = alt.childForFieldName('consequence') ?? alt.childForFieldName('body');
      return body === null || bindsNames(body);
    });
  }
  return !NON_BINDING_STATEMENTS.has(stmt.type);
}

/** Shadows a name in a Scope with a known constant, or with "unknown" (undefined). */
function shadow(scope: Scope, name: string, value: ConstValue | undefined): Scope {
  // Scope.with treats an undefined override as "bound here, value unknown", which hides outer bindings.
  return scope.with(name, value as ConstValue);
}

export abstract class Evaluator<V extends { t: string }, F extends EvalFrame<V>, Owner> {
  /** Memoized node access (see syntax-cache.ts). */
  readonly s = new SyntaxCache();
  private readonly scopes = new Map<number, Scope>();
  private readonly innerScopes = new Map<number, Scope>();
  /** Statements executed in this file (one budget per file). */
  protected steps = 0;
  /** Product of the lengths of the constant loops being unrolled (nested unrolling has one cap). */
  private unrolledProduct = 1;
  /** How many branches of unknown conditions enclose the code being evaluated (their layers are conditional). */
  conditional = 0;
  /** The module frame's locals (one per file). */
  protected readonly moduleLocals = new Map<string, V>();
  /** Module names functions assign under a `global` declaration, as last written (read where no local or scope binding has them). */
  protected readonly globalValues = new Map<string, V>();

  /**
   * Forgets what functions wrote under `global`: each top-level read (a builder at one of its call sites)
   * starts from the module as written, not from what an earlier read left in it.
   */
  forgetGlobalWrites(): void {
    this.globalValues.clear();
  }

  /** The value a function set under `global` for a name no scope of `f` binds (the module's name, read when used). */
  protected globalValue(name: string, f: F): V | undefined {
    return f.scope.binds(name) ? undefined : this.globalValues.get(name);
  }

  /**
   * A module name read inside a function that binds no such name itself: its value at the module as the
   * function runs (Python reads globals when used), e.g. a layer or an input made at module level and
   * applied in a helper. Undefined until the module has assigned it.
   */
  protected moduleValue(name: string, f: F): V | undefined {
    return f.locals !== this.moduleLocals && f.scope.boundAtModule(name) ? this.moduleLocals.get(name) : undefined;
  }

  constructor(protected notes: EvalNotes) {}

  /** Runs `run` with the notes it makes kept in `aside`: code read only to learn a value, whose notes belong to no model. */
  withNotesAside<T>(aside: EvalNotes, run: () => T): T {
    const kept = this.notes;
    this.notes = aside;
    try {
      return run();
    } finally {
      this.notes = kept;
    }
  }

  // ---------------------------------------------------------------- the value model

  abstract readonly unknown: V;
  abstract constant(c: ConstValue): V;
  /** The constant a value carries (lists of constants included), or undefined. */
  abstract constOf(v: V): ConstValue | undefined;
  /**
   * The core's list and dict as the framework's values: the identity, written in the framework's terms
   * so the compiler checks that its value type includes them (and tags nothing else 'list' or 'dict').
   */
  protected abstract container(c: ListValue<V> | DictValue<V>): V;
  list(items: V[]): V {
    return this.container({ t: 'list', items });
  }
  /** The items of a list value (mutable: `+=`, `append`), or null. */
  listItems(v: V): V[] | null {
    return isList<V>(v) ? v.items : null;
  }
  dict(entries: Map<string, V>): V {
    return this.container({ t: 'dict', entries });
  }
  /** The entries of a dict value (mutable), or null. */
  dictEntries(v: V): Map<string, V> | null {
    return isDict<V>(v) ? v.entries : null;
  }
  /** A function of the file, unbound; `f` is the frame that defines it (a nested `def` sees its names when it runs). */
  abstract functionValue(def: Node, f: F): V;
  /** A `lambda` expression as a value, for a reader that can call it (else it is unknown). */
  protected lambdaValue?(lambda: Node, f: F): V;
  /** Something the core cannot follow, written at `node` (what: why, for notes). */
  abstract opaque(node: Node, what: string): V;
  /** One value for what several paths produced. */
  abstract merge(values: V[]): V;
  /**
   * One of `values`, which one unknown (`config[dataset]` with a key the code does not fix): what they
   * agree on. Lists of one length are read position by position and dicts key by key (a key only some
   * have comes from those: reading it from the others fails in Python, so no model is built that way);
   * constants that agree stay, anything else is the framework's merge.
   */
  oneOf(values: V[]): V {
    const first = values[0];
    if (first === undefined) return this.unknown;
    if (values.length === 1) return first;
    const lists = values.map((v) => {
      const c = this.listItems(v) ? undefined : this.constOf(v);
      return Array.isArray(c) ? c.map((item) => this.constant(item)) : this.listItems(v);
    });
    const length = lists[0]?.length;
    if (lists.every((l): l is V[] => l !== null && l.length === length)) return this.list(lists[0]!.map((_, i) => this.oneOf(lists.map((l) => l[i]!))));
    const dicts = values.map((v) => this.dictEntries(v));
    if (dicts.every((d): d is Map<string, V> => d !== null)) {
      const keys = [...new Set(dicts.flatMap((d) => [...d.keys()]))];
      return this.dict(new Map(keys.map((k) => [k, this.oneOf(dicts.flatMap((d) => d.get(k) ?? []))])));
    }
    const consts = values.map((v) => this.constOf(v));
    if (consts.every((c) => c !== undefined)) return consts.every((c) => JSON.stringify(c) === JSON.stringify(consts[0])) ? first : this.unknown;
    return this.merge(values);
  }
  /** Python truthiness; undefined when unknown. */
  abstract truth(v: V): boolean | undefined;
  /** The items a `for` loop would visit; undefined when unknown. */
  abstract iterate(v: V): V[] | undefined;

  // ---------------------------------------------------------------- the framework's hooks

  /** The module-level frame of the file. */
  abstract moduleFrame(): F;
  /** The frame for running a function called from `caller`: `base` with the framework's fields (`owner`'s methods, `args` given). */
  protected abstract enterFrame(caller: F, base: EvalFrame<V>, owner: Owner | null, args: CallArgs<V>): F;
  /** Whether a call of `def` is not worth running (its result is then unknown). */
  protected abstract skipsCall(def: Node, owner: Owner | null, caller: F): boolean;
  /** Notified when `def` runs with real arguments. */
  protected abstract entered(def: Node): void;
  /** Whether loops of unknown length run their body once here (following values), rather than forgetting what they assign. */
  protected abstract readsLoopsOnce(f: F): boolean;
  /** State beyond the frame's locals that branches of an unknown `if` fork and merge. */
  protected abstract branchState(f: F): BranchState | null;
  /** Told when branches of an unknown condition start (+1) and end (-1). */
  protected abstract onBranches(f: F, delta: 1 | -1): void;
  abstract name(n: Node, f: F): V;
  abstract attribute(n: Node, f: F): V;
  abstract subscript(n: Node, f: F): V;
  abstract call(n: Node, f: F): V;
  /** A binary operator on two values. */
  abstract combine(op: string, a: V, b: V, n: Node, f: F): V;
  /** `holder.name = value` with the holder evaluated. */
  protected abstract assignAttribute(holder: V, name: string, value: V, f: F): void;
  /** Comparison of values that are not both constants; undefined when unknown. */
  protected abstract compareObjects(op: string, a: V, b: V): boolean | undefined;

  /** A conditional expression whose condition is unknown. */
  protected abstract unknownChoice(body: Node, alternative: Node, f: F): V;

  /** What the target at `index` gets when a value that is not a sequence is unpacked (`out, h = rnn(x)`). */
  protected abstract unpackedPart(value: V, index: number): V;

  /** `-x`, `~x`, `+x` (default: on numbers). */
  protected unary(op: string | undefined, v: V): V {
    const c = this.constOf(v);
    return typeof c === 'number' ? this.constant(op === '-' ? -c : op === '~' ? ~c : c) : this.unknown;
  }

  /** `name = value`: binds it (a framework may also name what it holds). */
  protected assignName(name: string, value: V, f: F): void {
    this.bind(f, name, value);
  }

  /** `name = <valueNode>` written as such (one target, its right side at hand); by default assignName. */
  protected assignWritten?(name: string, value: V, f: F, valueNode: Node): void;

  /** Told of the value a `return` statement returns (before the call's result merges the paths). */
  protected returned?(value: V, f: F): void;

  /**
   * Whether a `for` loop over constant items repeats one step in every iteration (a training loop over
   * its epochs), so that running each iteration would compute nothing the first does not: its body then
   * runs once, the loop variable unknown, instead of once per item.
   */
  protected repeatsOneStep?(loop: Node): boolean;

  /** Told when a constant loop or comprehension starts (+1) and ends (-1) unrolling around the code. */
  protected onUnroll?(f: F, delta: 1 | -1): void;

  /** Runs the body of a loop (or comprehension clause) of unknown length once; a framework may mark what it makes. */
  protected readOnce(_loop: Node, _f: F, run: () => Flow<V>): Flow<V> {
    return run();
  }

  /** Whether a comprehension over unknown items (or with an unknown filter) runs its body once rather than being unknown. */
  protected readsComprehensionsOnce?(f: F): boolean;

  /** `obj.x = ...` inside a loop of unknown length: what the attribute held is no longer known. */
  protected abstract forgetAttribute(target: Node, opaque: V, f: F): void;
  /** `obj.method(...)` inside a loop of unknown length (after `obj` itself is forgotten when the method mutates it). */
  protected abstract forgetCall(method: string, object: Node | null, opaque: V, f: F): void;

  // ---------------------------------------------------------------- scopes and frames

  protected scopeOf(def: Node): Scope {
    let s = this.scopes.get(def.id);
    if (!s) this.scopes.set(def.id, (s = Scope.of(def)));
    return s;
  }

  protected scopeInside(def: Node): Scope {
    let s = this.innerScopes.get(def.id);
    if (!s) this.innerScopes.set(def.id, (s = Scope.inside(def)));
    return s;
  }

  bind(f: F, name: string, value: V): void {
    if (f.globalNames?.has(name)) {
      // `global ROW_AXIS` then `ROW_AXIS = 1`: the module's name, read by every function run later.
      // Written under an unknown condition, it is unknown (the other path may write something else).
      const written = this.conditional > 0 ? this.unknown : value;
      this.globalValues.set(name, written);
      this.moduleLocals.set(name, written);
      // Read again in this function, the name has what it just wrote (not the value it had on entry).
      f.scope = shadow(f.scope, name, this.constOf(written));
      return;
    }
    f.locals.set(name, value);
    const c = this.constOf(value);
    // At module level nothing outer can be hidden, and locals are read first: a non-constant needs no
    // Scope entry there (this keeps the Scope chain short in long scripts).
    if (c === undefined && f.depth === 0 && f.locals === this.moduleLocals) return;
    f.scope = shadow(f.scope, name, c);
  }

  /**
   * Runs a function or method with its actual arguments. `args.positional` includes `self` for
   * methods. Parameters take keywords first, then positions, then (unless `args.optionalUnknown`)
   * their defaults; `*args` and `**kwargs` are unknown. `argumentsForRequired` supplies parameters
   * nobody passed (an entry point called by unknown code). `def` may be a `lambda` (its body is its value).
   */
  callFunction(def: Node, args: CallArgs<V>, owner: Owner | null, caller: F, argumentsForRequired?: (name: string) => V): V {
    throwIfCancelled();
    if (caller.depth >= LIMITS.callDepth) {
      const name = this.s.field(def, 'name');
      this.notes.limit('recursion', `${name?.text ?? 'function'}()`, rangeOf(name ?? def));
      return this.unknown;
    }
    if (this.skipsCall(def, owner, caller)) return this.unknown;
    const body = this.s.field(def, 'body');
    if (!body) return this.unknown;
    // Defaults are evaluated where the def is written (made only when a default is read).
    let defaults: F | null = null;
    const f = this.enterFrame(caller, { scope: this.scopeInside(def), locals: new Map(), depth: caller.depth + 1, unroll: caller.unroll }, owner, args);
    // Module names functions set under `global` (read when the function runs), unless it binds the name itself.
    const own = f.scope;
    for (const [name, value] of this.globalValues) {
      const c = this.constOf(value);
      if (c !== undefined && !own.bindsOwn(name)) f.scope = shadow(f.scope, name, c);
    }
    let index = 0;
    let rest = false;
    const named = new Set<string>();
    for (const param of this.s.kids(this.s.field(def, 'parameters') ?? def)) {
      const type = this.s.type(param);
      if (type === 'list_splat_pattern' || type === 'dictionary_splat_pattern') {
        const name = param.namedChild(0)?.text;
        // `*args` takes the positions no parameter took, `**kwargs` the keywords none took (known unless a splat was unknown).
        const taken = type === 'list_splat_pattern' ? this.list(args.positional.slice(index)) : this.dict(new Map([...args.keywords].filter(([k]) => !named.has(k))));
        if (name) this.bind(f, name, args.partial ? this.unknown : taken);
        rest = true;
        continue;
      }
      if (type === 'keyword_separator') {
        rest = true;
        continue;
      }
      const nameNode = type === 'identifier' ? param : type === 'typed_parameter' ? param.namedChild(0) : this.s.field(param, 'name');
      const name = nameNode && this.s.type(nameNode) === 'identifier' ? nameNode.text : null;
      if (!name) continue;
      named.add(name);
      const defaultNode = this.s.field(param, 'value');
      let value: V | undefined = args.keywords.get(name);
      if (value === undefined && !rest && index < args.positional.length) value = args.positional[index];
      else if (value === undefined && !rest && args.partial) value = this.unknown;
      if (!rest) index++;
      // The policy for optional parameters: unknown when the caller is unknown code, not their defaults.
      if (value === undefined) value = defaultNode ? (args.optionalUnknown ? this.unknown : this.eval(defaultNode, (defaults ??= { ...this.moduleFrame(), scope: this.scopeOf(def), depth: caller.depth + 1 }))) : argumentsForRequired ? argumentsForRequired(name) : this.unknown;
      this.bind(f, name, value);
    }
    this.entered(def);
    f.returns = [];
    // A lambda's body is the expression it returns.
    if (this.s.type(def) === 'lambda') return this.eval(body, f);
    const flow = this.execBlock(body, f);
    const last = flow?.kind === 'return' ? flow.value : this.constant(null);
    return f.returns.length ? this.merge([...f.returns, last]) : last;
  }

  // ---------------------------------------------------------------- statements

  /** `with ...:` runs its body; a reader may note what the context manager means (torch.no_grad()). */
  protected execWith(stmt: Node, f: F): Flow<V> {
    const body = this.s.field(stmt, 'body');
    return body ? this.execBlock(body, f) : undefined;
  }

  execBlock(block: Node, f: F): Flow<V> {
    for (const stmt of this.s.kids(block)) {
      const flow = this.execStatement(stmt, f);
      if (flow) return flow;
    }
    return undefined;
  }

  private execStatement(stmt: Node, f: F): Flow<V> {
    // A hard budget per file: whatever remains unexecuted stays unknown, with one note where it ran out.
    if (++this.steps > LIMITS.steps) {
      if (this.steps === LIMITS.steps + 1) this.notes.limit('steps', stmt.text.split('\n')[0] ?? '', rangeOf(stmt));
      return undefined;
    }
    switch (this.s.type(stmt)) {
      case 'expression_statement': {
        for (const expr of this.s.kids(stmt)) this.execExpression(expr, f);
        return undefined;
      }
      case 'return_statement': {
        const e = stmt.namedChild(0);
        const value = e ? this.eval(e, f) : this.constant(null);
        this.returned?.(value, f);
        return { kind: 'return', value };
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
        const unrolled = this.execWhile(stmt, body, f);
        if (unrolled) return unrolled.flow;
        if (this.readsLoopsOnce(f)) return this.loopOnce(stmt, body, f);
        this.forgetAssigned(body, f, stmt);
        return undefined;
      }
      case 'with_statement':
        return this.execWith(stmt, f);
      case 'block': {
        const body = this.s.type(stmt) === 'block' ? stmt : this.s.field(stmt, 'body');
        return body ? this.execBlock(body, f) : undefined;
      }
      case 'try_statement': {
        const body = this.s.field(stmt, 'body');
        const flow = body ? this.execBlock(body, f) : undefined;
        if (flow) return flow;
        // The `else` runs when the body raised nothing, the path followed here.
        for (const clause of this.s.kids(stmt)) {
          const type = this.s.type(clause);
          if (type !== 'else_clause' && type !== 'finally_clause') continue;
          const block = this.s.field(clause, 'body') ?? this.s.kids(clause).find((c) => this.s.type(c) === 'block');
          const after = block ? this.execBlock(block, f) : undefined;
          if (after) return after;
        }
        return undefined;
      }
      case 'ERROR': {
        // Error recovery: the statements tree-sitter could not place still count.
        for (const child of this.s.kids(stmt)) {
          const type = this.s.type(child);
          const flow = type.endsWith('_statement') || type === 'block' || type === 'ERROR' ? this.execStatement(child, f) : type === 'assignment' || type === 'augmented_assignment' || type === 'call' ? (this.execExpression(child, f), undefined) : undefined;
          if (flow) return flow;
        }
        return undefined;
      }
      case 'global_statement': {
        for (const id of this.s.kids(stmt)) if (this.s.type(id) === 'identifier') (f.globalNames ??= new Set()).add(id.text);
        return undefined;
      }
      case 'function_definition': {
        const name = this.s.field(stmt, 'name')?.text;
        if (name) this.bind(f, name, this.functionValue(stmt, f));
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

  /** Runs a loop body once (a loop over an unknown number of steps, while following values). */
  private loopOnce(loop: Node, body: Node, f: F): Flow<V> {
    const flow = this.readOnce(loop, f, () => this.execBlock(body, f));
    return flow?.kind === 'return' ? flow : undefined;
  }

  /**
   * `if` / `elif` / `else`. Known conditions pick their branch. From the first condition whose value
   * is unknown on, every remaining branch is explored (plus the implicit empty `else`) on a fork of
   * the frame, and the forks are merged: names that differ become the merge of their values, what a
   * branch makes is marked conditional (see `conditional`), and a branch that returns adds its value
   * to the call's possible results.
   */
  private execIf(stmt: Node, f: F): Flow<V> {
    const branches: { cond: Node | null; body: Node | null }[] = [{ cond: this.s.field(stmt, 'condition'), body: this.s.field(stmt, 'consequence') }];
    for (const alt of stmt.childrenForFieldName('alternative')) {
      if (this.s.type(alt) === 'elif_clause') branches.push({ cond: this.s.field(alt, 'condition'), body: this.s.field(alt, 'consequence') });
      else branches.push({ cond: null, body: this.s.field(alt, 'body') ?? this.s.kids(alt).find((c) => this.s.type(c) === 'block') ?? null });
    }
    for (let i = 0; i < branches.length; i++) {
      const { cond, body } = branches[i]!;
      // `if __name__ == "__main__":` at module level: the script's own run, what the file does as a program.
      const truth = cond ? (f.depth === 0 && isMainGuard(cond) ? true : this.truth(this.eval(cond, f))) : true;
      if (truth === false) continue;
      if (truth === true) return body ? this.execBlock(body, f) : undefined;
      const paths = branches.slice(i);
      if (paths[paths.length - 1]?.cond !== null) paths.push({ cond: null, body: null });
      return this.explore(paths.map((p) => p.body), f);
    }
    return undefined;
  }

  /** Runs each body on a fork of `f` (null: a path that does nothing) and merges the forks back into `f`. */
  private explore(bodies: (Node | null)[], f: F): Flow<V> {
    f.returns ??= [];
    const ends: Map<string, V>[] = [];
    const returned: V[] = [];
    let breaks = 0;
    this.onBranches(f, 1);
    this.conditional++;
    const state = this.branchState(f);
    try {
      for (const body of bodies) {
        state?.reset();
        // A path that binds no name (`if loss <= 0: break`, the implicit else) shares the frame's names.
        const fork: F = body && bindsNames(body) ? { ...f, locals: new Map(f.locals) } : { ...f };
        const flow = body ? this.execBlock(body, fork) : undefined;
        state?.capture();
        if (flow?.kind === 'return') returned.push(flow.value);
        else {
          if (flow?.kind === 'break') breaks++;
          ends.push(fork.locals);
        }
      }
    } finally {
      this.onBranches(f, -1);
      this.conditional--;
    }
    state?.merge();
    if (ends.length === 0) return { kind: 'return', value: this.merge(returned) };
    f.returns.push(...returned);
    for (const [name, merged] of mergedBindings(f.locals, ends, (values) => this.merge(values), this.unknown)) this.bind(f, name, merged);
    return breaks === ends.length ? { kind: 'break' } : undefined;
  }

  private execFor(stmt: Node, f: F): Flow<V> {
    const left = this.s.field(stmt, 'left');
    const right = this.s.field(stmt, 'right');
    const body = this.s.field(stmt, 'body');
    if (!left || !right || !body) return undefined;
    let items = this.iterate(this.eval(right, f));
    // A loop each of whose iterations repeats one step (a framework says which) runs that step once.
    if (items && items.length > 1 && this.repeatsOneStep?.(stmt)) {
      this.assign(left, this.unknown, f);
      return this.loopOnce(stmt, body, f);
    }
    // Nested constant loops multiply: past the cap (or half the file's budget) the loop counts as unbounded.
    if (items && (this.unrolledProduct * items.length > LIMITS.unrolledIterations || this.steps > LIMITS.steps / 2)) {
      this.notes.limit('loop', `for ${left.text} in ${right.text}`, rangeOf(stmt));
      items = undefined;
    }
    if (!items) {
      if (this.readsLoopsOnce(f)) {
        this.assign(left, this.unknown, f);
        return this.loopOnce(stmt, body, f);
      }
      this.forgetAssigned(body, f, stmt);
      return undefined;
    }
    const outer = f.unroll;
    const product = this.unrolledProduct;
    this.unrolledProduct = product * Math.max(1, items.length);
    this.onUnroll?.(f, 1);
    try {
      for (let i = 0; i < items.length; i++) {
        f.unroll = { index: i, count: items.length };
        this.assign(left, items[i]!, f);
        const flow = this.execBlock(body, f);
        if (flow?.kind === 'break') break;
        if (flow?.kind === 'return') return flow;
      }
    } finally {
      this.onUnroll?.(f, -1);
      f.unroll = outer;
      this.unrolledProduct = product;
    }
    const orelse = this.s.field(stmt, 'alternative');
    const elseBody = orelse ? this.s.kids(orelse).find((c) => this.s.type(c) === 'block') : undefined;
    return elseBody ? this.execBlock(elseBody, f) : undefined;
  }

  /**
   * `while csize > 4: ... csize = csize / 2` (a DCGAN discriminator's pyramid): unrolled while its
   * condition is a known constant, each pass as an iteration of a constant loop (the count set when it
   * ends). Null when the condition is not known before the first pass (a loop of unknown bounds) or
   * reads nothing the body assigns (`while True:`). A condition unknown after some passes, or more
   * passes than a while loop may unroll, ends the unrolling: what the loop assigns is forgotten from
   * there, as for unknown bounds.
   */
  private execWhile(stmt: Node, body: Node, f: F): { flow: Flow<V> } | null {
    const condition = this.s.field(stmt, 'condition');
    // A condition nothing in the body changes (`while True:` around an event loop) runs until a break: not unrolled.
    if (!condition || !readsAssigned(condition, body)) return null;
    const holds = () => this.truth(this.eval(condition, f));
    let truth = holds();
    if (truth === undefined) return null;
    const outer = f.unroll;
    const product = this.unrolledProduct;
    const passes: { index: number; count: number }[] = [];
    this.onUnroll?.(f, 1);
    try {
      while (truth === true) {
        // No note of its own: what the loop assigns becomes unknown, noted where a model uses it.
        if (passes.length >= LIMITS.whilePasses || product * (passes.length + 1) > LIMITS.unrolledIterations || this.steps > LIMITS.steps / 2) {
          this.forgetAssigned(body, f, stmt);
          return { flow: undefined };
        }
        const pass = { index: passes.length, count: 0 };
        passes.push(pass);
        f.unroll = pass;
        this.unrolledProduct = product * passes.length;
        const flow = this.execBlock(body, f);
        if (flow?.kind === 'break') return { flow: undefined };
        if (flow?.kind === 'return') return { flow };
        truth = holds();
      }
    } finally {
      for (const pass of passes) pass.count = passes.length;
      this.onUnroll?.(f, -1);
      f.unroll = outer;
      this.unrolledProduct = product;
    }
    if (truth === undefined) {
      this.forgetAssigned(body, f, stmt);
      return { flow: undefined };
    }
    const orelse = this.s.field(stmt, 'alternative');
    const elseBody = orelse ? this.s.kids(orelse).find((c) => this.s.type(c) === 'block') : undefined;
    return { flow: elseBody ? this.execBlock(elseBody, f) : undefined };
  }

  /**
   * A loop whose bounds are unknown: whatever it assigns or appends to is no longer known (it becomes
   * opaque, so that using it later is an unknown, never a guess).
   */
  private forgetAssigned(body: Node, f: F, loop: Node): void {
    const opaque = this.opaque(loop, 'layers built in a loop with non-constant bounds');
    const forget = (target: Node | null) => {
      if (!target) return;
      const t = this.s.unparen(target);
      const type = this.s.type(t);
      if (type === 'identifier') this.bind(f, t.text, opaque);
      else if (type === 'attribute') this.forgetAttribute(t, opaque, f);
      else if (type === 'pattern_list' || type === 'tuple_pattern' || type === 'list_pattern') this.s.kids(t).forEach(forget);
    };
    // Only statements can assign or register layers: expressions are not descended into (large files).
    const visit = (n: Node) => {
      const type = this.s.type(n);
      if (type === 'function_definition' || type === 'class_definition' || type === 'decorated_definition') return;
      if (type === 'expression_statement') {
        for (const expr of this.s.kids(n)) {
          if (this.s.type(expr) === 'assignment' || this.s.type(expr) === 'augmented_assignment') forget(this.s.field(expr, 'left'));
          if (this.s.type(expr) !== 'call') continue;
          const fn = this.s.field(expr, 'function');
          const method = fn && this.s.type(fn) === 'attribute' ? this.s.field(fn, 'attribute')?.text : null;
          if (!method) continue;
          const object = this.s.fieldOf(fn, 'object');
          if (['append', 'extend', 'insert', 'add_module', 'update'].includes(method)) forget(object);
          this.forgetCall(method, object, opaque, f);
        }
        return;
      }
      if (type === 'for_statement') forget(this.s.field(n, 'left'));
      for (const c of this.s.kids(n)) if (this.s.type(c) !== 'expression_statement' || c.text.includes('=') || c.text.includes('(')) visit(c);
    };
    visit(body);
  }

  private execExpression(expr: Node, f: F): void {
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
      for (const t of targets) if (t) this.assign(t, value, f, valueNode);
      return;
    }
    if (this.s.type(expr) === 'augmented_assignment') {
      const left = this.s.field(expr, 'left');
      const right = this.s.field(expr, 'right');
      const op = this.s.field(expr, 'operator')?.text.replace('=', '') ?? '';
      if (!left || !right) return;
      const current = this.eval(left, f);
      const value = this.eval(right, f);
      const items = this.listItems(current);
      if (items && op === '+') {
        const more = this.iterate(value);
        if (more) items.push(...more);
        else this.assign(left, this.opaque(expr, `unknown items added to ${left.text}`), f);
        return;
      }
      this.assign(left, this.combine(op, current, value, expr, f), f);
      return;
    }
    this.eval(expr, f);
  }

  assign(target: Node, value: V, f: F, valueNode: Node | null = null): void {
    const t = this.s.unparen(target);
    switch (this.s.type(t)) {
      case 'identifier':
        if (valueNode && this.assignWritten) this.assignWritten(t.text, value, f, valueNode);
        else this.assignName(t.text, value, f);
        return;
      case 'attribute': {
        const obj = this.s.field(t, 'object');
        const name = this.s.field(t, 'attribute')?.text;
        if (!obj || !name) return;
        this.assignAttribute(this.eval(obj, f), name, value, f);
        return;
      }
      case 'subscript': {
        const holder = this.eval(this.s.required(t, 'value'), f);
        const key = this.constOf(this.eval(this.s.required(t, 'subscript'), f));
        const entries = this.dictEntries(holder);
        const items = this.listItems(holder);
        if (entries && typeof key === 'string') entries.set(key, value);
        if (items && typeof key === 'number' && items[key] !== undefined) items[key] = value;
        return;
      }
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list': {
        const targets = this.s.kids(t);
        const c = this.constOf(value);
        const items = this.listItems(value) ?? (Array.isArray(c) ? c.map((v) => this.constant(v)) : null);
        targets.forEach((target, i) => {
          const item = items ? (items[i] ?? this.unknown) : this.unpackedPart(value, i);
          this.assign(this.s.type(target) === 'list_splat_pattern' ? target.namedChild(0) ?? target : target, item, f);
        });
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- expressions

  eval(node: Node, f: F): V {
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
        const items: V[] = [];
        for (const c of this.s.kids(n)) {
          if (this.s.type(c) === 'list_splat') {
            const inner = c.namedChild(0);
            const more = inner ? this.iterate(this.eval(inner, f)) : undefined;
            if (!more) return this.opaque(c, `unknown items of ${c.text}`);
            items.push(...more);
          } else items.push(this.eval(c, f));
        }
        return this.list(items);
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension': {
        const items = this.comprehension(n, f);
        return items ? this.list(items) : this.opaque(n, 'comprehension with non-constant bounds');
      }
      case 'dictionary': {
        const entries = new Map<string, V>();
        for (const pair of this.s.kids(n)) {
          if (this.s.type(pair) !== 'pair') return this.unknown;
          const key = this.constOf(this.eval(this.s.required(pair, 'key'), f));
          if (typeof key !== 'string') return this.unknown;
          entries.set(key, this.eval(this.s.required(pair, 'value'), f));
        }
        return this.dict(entries);
      }
      case 'binary_operator': {
        const op = this.s.field(n, 'operator')?.text ?? '';
        return this.combine(op, this.eval(this.s.required(n, 'left'), f), this.eval(this.s.required(n, 'right'), f), n, f);
      }
      case 'unary_operator':
        return this.unary(this.s.field(n, 'operator')?.text, this.eval(this.s.required(n, 'argument'), f));
      case 'not_operator': {
        const t = this.truth(this.eval(this.s.required(n, 'argument'), f));
        return t === undefined ? this.unknown : this.constant(!t);
      }
      case 'boolean_operator': {
        const op = this.s.field(n, 'operator')?.text;
        const left = this.eval(this.s.required(n, 'left'), f);
        const lt = this.truth(left);
        if (lt === undefined) return this.unknown;
        if (op === 'and' ? !lt : lt) return left;
        return this.eval(this.s.required(n, 'right'), f);
      }
      case 'comparison_operator':
        return this.comparison(n, f);
      case 'conditional_expression': {
        const [body, condition, alternative] = this.s.kids(n);
        if (!body || !condition || !alternative) return this.unknown;
        const t = this.truth(this.eval(condition, f));
        if (t === undefined) return this.unknownChoice(body, alternative, f);
        return this.eval(t ? body : alternative, f);
      }
      case 'string':
        return this.string(n, f);
      case 'lambda':
        return this.lambdaValue?.(n, f) ?? this.unknown;
      case 'yield':
      case 'await': {
        const inner = this.s.kids(n)[0];
        return inner ? this.eval(inner, f) : this.constant(null);
      }
      default: {
        const v = f.scope.evaluate(n);
        return v === undefined ? this.unknown : this.constant(v);
      }
    }
  }

  private string(n: Node, f: F): V {
    const plain = stringValue(n);
    if (plain !== null) return this.constant(plain);
    // f-string: every interpolation must be a constant.
    let out = '';
    for (const part of this.s.kids(n)) {
      if (this.s.type(part) === 'string_content' || this.s.type(part) === 'escape_sequence') out += part.text;
      else if (this.s.type(part) === 'interpolation') {
        const expr = this.s.field(part, 'expression') ?? part.namedChild(0);
        const v = expr ? this.constOf(this.eval(expr, f)) : undefined;
        if (v === undefined) return this.unknown;
        out += str(v);
      }
    }
    return this.constant(out);
  }

  private comprehension(n: Node, f: F): V[] | null {
    const body = this.s.field(n, 'body');
    if (!body) return null;
    const clauses = this.s.kids(n).filter((c) => this.s.type(c) === 'for_in_clause' || this.s.type(c) === 'if_clause');
    const inner: F = { ...f, locals: new Map(f.locals) };
    const once = this.readsComprehensionsOnce?.(f) ?? false;
    const out: V[] = [];
    const run = (i: number): boolean => {
      if (i === clauses.length) {
        out.push(this.eval(body, inner));
        return out.length <= LIMITS.loopIterations * 4;
      }
      const clause = clauses[i]!;
      if (this.s.type(clause) === 'if_clause') {
        const cond = clause.namedChild(0);
        const t = cond ? this.truth(this.eval(cond, inner)) : undefined;
        if (t === undefined && once) return this.underUnknownCondition(inner, () => run(i + 1));
        if (t === undefined) return false;
        return t ? run(i + 1) : true;
      }
      const left = this.s.field(clause, 'left');
      const right = this.s.field(clause, 'right');
      if (!left || !right) return false;
      const items = this.iterate(this.eval(right, inner));
      if (!items && once) {
        this.assign(left, this.unknown, inner);
        let ok = true;
        this.readOnce(clause, inner, () => {
          ok = run(i + 1);
          return undefined;
        });
        return ok;
      }
      if (!items) return false;
      const outer = inner.unroll;
      this.onUnroll?.(inner, 1);
      try {
        for (let k = 0; k < items.length; k++) {
          inner.unroll = { index: k, count: items.length };
          this.assign(left, items[k]!, inner);
          if (!run(i + 1)) return false;
        }
      } finally {
        this.onUnroll?.(inner, -1);
        inner.unroll = outer;
      }
      return true;
    };
    return run(0) ? out : null;
  }

  /** Runs `body` as the one explored branch of a condition whose value is unknown (what it makes is conditional). */
  private underUnknownCondition<T>(f: F, body: () => T): T {
    this.onBranches(f, 1);
    this.conditional++;
    try {
      return body();
    } finally {
      this.onBranches(f, -1);
      this.conditional--;
    }
  }

  /** A comparison computed element by element (a tensor compared with a number): its value, or undefined for Python's own. */
  protected elementwiseComparison?(op: string, a: V, b: V): V | undefined;

  private comparison(n: Node, f: F): V {
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
    const [first, second] = operands;
    const elementwise = ops.length === 1 && first !== undefined && second !== undefined ? this.elementwiseComparison?.(ops[0]!, first, second) : undefined;
    if (elementwise !== undefined) return elementwise;
    let result = true;
    for (let i = 0; i < ops.length; i++) {
      const a = operands[i];
      const b = operands[i + 1];
      const r = a === undefined || b === undefined ? undefined : this.compareValues(ops[i]!, a, b);
      if (r === undefined) return this.unknown;
      result = result && r;
    }
    return this.constant(result);
  }

  private compareValues(op: string, a: V, b: V): boolean | undefined {
    const ca = this.constOf(a);
    const cb = this.constOf(b);
    if (ca !== undefined && cb !== undefined) return compare(op, ca, cb);
    return this.compareObjects(op, a, b);
  }

  // ---------------------------------------------------------------- calls

  /**
   * The builtins that make loops and sizes (`range`, `enumerate`, `zip`, `reversed`, `len`) over the
   * framework's values; undefined for another name. A result that cannot be known is `unknown`.
   */
  iterationBuiltin(name: string, args: CallArgs<V>): V | undefined {
    const first = args.positional[0] ?? this.unknown;
    switch (name) {
      case 'range': {
        const nums = args.positional.map((v) => this.constOf(v));
        if (nums.length === 0 || nums.length > 3 || !nums.every((x): x is number => typeof x === 'number')) return this.unknown;
        const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
        if (step === 0) return this.unknown;
        const out: number[] = [];
        for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
          out.push(i);
          if (out.length > LIMITS.loopIterations) return this.unknown;
        }
        return this.constant(out);
      }
      case 'enumerate': {
        const items = this.iterate(first);
        const from = this.constOf(args.positional[1] ?? args.keywords.get('start') ?? this.constant(0));
        if (!items || typeof from !== 'number') return this.unknown;
        return this.list(items.map((v, i) => this.list([this.constant(i + from), v])));
      }
      case 'zip': {
        const lists = args.positional.map((v) => this.iterate(v));
        const known = lists.filter((l): l is V[] => l !== undefined);
        if (known.length === 0 || known.length !== lists.length) return this.unknown;
        const length = Math.min(...known.map((l) => l.length));
        return this.list(Array.from({ length }, (_, i) => this.list(known.map((l) => l[i]!))));
      }
      case 'reversed': {
        const items = this.iterate(first);
        return items ? this.list([...items].reverse()) : this.unknown;
      }
      case 'len': {
        const items = this.iterate(first);
        return items ? this.constant(items.length) : this.unknown;
      }
      default:
        return undefined;
    }
  }

  /** A call's arguments: positional, keywords, `*list` and `**dict` spread when known (else `partial`). */
  evalArgs(list: Node | null, f: F): CallArgs<V> {
    const out: CallArgs<V> = { positional: [], keywords: new Map(), partial: false };
    if (!list) return out;
    if (this.s.type(list) !== 'argument_list') {
      // `f(x for x in xs)`: the generator is the only argument.
      out.positional.push(this.eval(list, f));
      return out;
    }
    for (const c of this.s.kids(list)) {
      const type = this.s.type(c);
      if (type === 'keyword_argument') {
        const name = this.s.field(c, 'name')?.text;
        const value = this.s.field(c, 'value');
        if (name && value) out.keywords.set(name, this.eval(value, f));
      } else if (type === 'list_splat') {
        const inner = c.namedChild(0);
        const items = inner ? this.iterate(this.eval(inner, f)) : undefined;
        if (items) out.positional.push(...items);
        else out.partial = true;
      } else if (type === 'dictionary_splat') {
        const inner = c.namedChild(0);
        const entries = inner ? this.dictEntries(this.eval(inner, f)) : null;
        if (entries) for (const [k, v] of entries) out.keywords.set(k, v);
        else out.partial = true;
      } else if (type !== 'comment') out.positional.push(this.eval(c, f));
    }
    return out;
  }
}

/** `__name__ == "__main__"` (either quote, either side). */
function isMainGuard(cond: Node): boolean {
  return /^__name__\s*==\s*(['"])__main__\1$|^(['"])__main__\2\s*==\s*__name__$/.test(cond.text);
}
