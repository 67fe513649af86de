/**
 * A symbolic reader of Keras model-building code. It walks the statements of one scope (module,
 * function, method) in order, tracking what each name holds (tensors, layers, Sequential models
 * being built, lists, constants) and builds the layer graph as layers are applied. Loops and
 * comprehensions with constant bounds are unrolled; helper functions, methods and custom layers
 * defined in the file are inlined; conditions that cannot be evaluated are read through and marked.
 * Nothing is executed: every value is a description of the code.
 */
import type { Node } from 'web-tree-sitter';
import type { ConstValue, Scope } from '../../python/constants';
import { LIMITS } from '../../python/limits';
import { namedChildren, rangeOf, unparen, requiredField } from '../../python/syntax';
import { callArgs, dotted as nameOf } from '../../python/syntax-cache';
import { isKerasLayerPath } from './activations';
import { layerSpec } from './catalog';
import { evaluateWith, type ArgContext } from './context';
import type { ExtractionState } from './state';
import { apply, callValues, inlineFunction, inputOf, outputOf } from './apply';
import { kerasCall, passthrough, tensorOperator, unknownLayerApplication } from './recognize';
import { lastSegment } from './symbols';
import { OPAQUE, mergeValues, type FlowMarks, type GraphNode, type SequentialBuilder, type Value } from './values';
import { mergedBindings } from '../../python/evaluator';

/** A name whose value is unknown: shadows any outer binding during constant evaluation. */
const SHADOW = undefined as unknown as ConstValue;

/** How deep helper functions / methods / custom layers are inlined. */
export const MAX_INLINE_DEPTH = LIMITS.inlineDepth;

const MAX_EXPRESSION_DEPTH = LIMITS.expressionDepth;

export interface ExecutorOptions {
  /** `self.*` attributes: shared between the methods of one instance. */
  selfEnv: Map<string, Value>;
  /** The class whose methods `self.m(...)` calls may inline. */
  classDef: Node | null;
  depth: number;
  /** Whether Sequential / functional models created here become ModelIRs (false while inlining). */
  emit: boolean;
  /** The function definition or module being read. */
  scopeNode: Node;
  /** Definitions being inlined (recursion guard). */
  active: Set<number>;
}

/** A call's arguments, evaluated once. */
export interface CallValues {
  positional: Value[];
  keywords: Map<string, Value>;
}

export const NO_ARGUMENTS: CallValues = { positional: [], keywords: new Map() };

/** The constant a value holds: a constant, or a list of constants (`UNITS = [128, 64]`). */
function constantOf(value: Value): ConstValue | undefined {
  if (value.t === 'const') return value.value;
  if (value.t !== 'list') return undefined;
  const items = value.items.map(constantOf);
  return items.every((i) => i !== undefined) ? (items) : undefined;
}

export function mergeMarks(a: FlowMarks, b: FlowMarks): FlowMarks {
  return {
    conditions: [...new Set([...a.conditions, ...b.conditions])],
    unrollDepth: Math.max(a.unrollDepth, b.unrollDepth),
    repeatedLoop: b.repeatedLoop ?? a.repeatedLoop,
  };
}

function truthy(v: ConstValue): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** Replaces a map's entries in place (the reader's environments are shared by reference). */
function resetMap<K, V>(target: Map<K, V>, entries: ReadonlyMap<K, V>): void {
  target.clear();
  for (const [k, v] of entries) target.set(k, v);
}

/** A branch's names, with those it dropped (bound to something unknown) as opaque. */
function withForgotten(end: ReadonlyMap<string, Value>, start: ReadonlyMap<string, Value>): Map<string, Value> {
  const out = new Map(end);
  for (const name of start.keys()) if (!out.has(name)) out.set(name, OPAQUE);
  return out;
}

function isMainGuard(cond: Node): boolean {
  return /^__name__\s*==\s*['"]__main__['"]$/.test(cond.text.trim());
}

export class Executor {
  readonly env = new Map<string, Value>();
  /** Sequential models created by this reader (emitted when bound to a name or returned). */
  readonly sequentials: SequentialBuilder[] = [];
  returned: Value | null = null;
  private done = false;
  /** Names given constants inside branches of `if`s whose condition is unknown (one set per open if). */
  private readonly branchAssigned: Set<string>[] = [];
  private readonly baseConditions: number;

  constructor(
    readonly state: ExtractionState,
    readonly options: ExecutorOptions,
    public scope: Scope,
    public marks: FlowMarks,
  ) {
    this.baseConditions = marks.conditions.length;
  }

  get argContext(): ArgContext {
    return { symbols: this.state.symbols, scope: this.scope };
  }

  // ---------------------------------------------------------------- names

  private bindName(name: string, value: Value | undefined, valueNode: Node | null = null): void {
    // A name bound once to this very expression is already known to the scope, which can then
    // still follow it to the expression (spelling, initializer objects).
    const boundOnceHere = valueNode !== null && this.scope.lookup(name)?.id === valueNode.id;
    // (Only when the scope can compute it: `filters = conv_params["filters"]` is known to the reader alone.)
    if (value?.t === 'const' && boundOnceHere && this.scope.evaluate(valueNode) !== undefined) {
      this.env.delete(name);
      return;
    }
    if (value?.t === 'const') {
      this.scope = this.scope.with(name, value.value);
      this.env.delete(name);
      this.branchAssigned.at(-1)?.add(name);
      return;
    }
    if (!boundOnceHere) this.scope = this.scope.with(name, SHADOW);
    if (value && value.t !== 'opaque') this.env.set(name, value);
    else this.env.delete(name);
  }

  private getName(key: string): Value | undefined {
    return key.startsWith('self.') ? this.options.selfEnv.get(key) : this.env.get(key);
  }

  /**
   * Binds function parameters: given arguments first, then declared constant defaults (unless
   * `useDefaults` is false: Keras passes call()'s `training` / `mask` itself, whatever the default).
   */
  bindParameters(def: Node, positional: Value[], keywords: Map<string, Value>, skipFirst: boolean, useDefaults = true): void {
    const params = def.childForFieldName('parameters');
    if (!params) return;
    let index = 0;
    let first = true;
    const named = new Set<string>();
    for (const param of namedChildren(params)) {
      let name: string | null = null;
      let defaultNode: Node | null = null;
      if (param.type === 'list_splat_pattern' || param.type === 'dictionary_splat_pattern') {
        const rest = param.namedChild(0)?.text;
        if (param.type === 'list_splat_pattern') {
          if (rest) this.bindName(rest, { t: 'list', items: positional.slice(index) });
          index = Number.POSITIVE_INFINITY;
        } else if (rest) {
          // `def _conv_bn_relu(**conv_params)`: the keywords no named parameter took.
          this.bindName(rest, { t: 'dict', entries: new Map([...keywords].filter(([k]) => !named.has(k))) });
        }
        continue;
      }
      if (param.type === 'identifier') name = param.text;
      else if (param.type === 'default_parameter' || param.type === 'typed_default_parameter') {
        name = param.childForFieldName('name')?.text ?? null;
        defaultNode = param.childForFieldName('value');
      } else if (param.type === 'typed_parameter') name = namedChildren(param).find((c) => c.type === 'identifier')?.text ?? null;
      if (!name) continue;
      if (first && skipFirst) {
        first = false;
        continue;
      }
      first = false;
      named.add(name);
      let value: Value | undefined = positional[index] ?? keywords.get(name);
      index++;
      if (!value && defaultNode && useDefaults) {
        const d = this.scope.evaluate(defaultNode);
        value = d !== undefined ? { t: 'const', value: d } : undefined;
      }
      this.bindName(name, value);
    }
  }

  // ---------------------------------------------------------------- statements

  execBlock(block: Node | null): void {
    if (!block) return;
    for (const stmt of namedChildren(block)) {
      if (this.done) return;
      this.execStatement(stmt);
    }
  }

  /** Whether the file's statement budget is used up (noted once, where it ran out); what remains stays unread. */
  private outOfSteps(stmt: Node): boolean {
    if (++this.state.steps <= LIMITS.steps) return false;
    if (this.state.steps === LIMITS.steps + 1) this.state.notes.limit('steps', stmt.text.split('\n')[0] ?? '', rangeOf(stmt));
    this.done = true;
    return true;
  }

  private execStatement(stmt: Node): void {
    if (this.outOfSteps(stmt)) return;
    switch (stmt.type) {
      case 'expression_statement': {
        for (const expr of namedChildren(stmt)) this.execExpression(expr);
        return;
      }
      case 'return_statement': {
        const valueNode = stmt.namedChild(0);
        const value = valueNode ? this.evalExpr(valueNode) : OPAQUE;
        if (value.t === 'sequential' && !value.seq.binding) {
          const fnName = this.options.scopeNode.childForFieldName('name');
          if (fnName && this.options.emit) value.seq.binding = { name: fnName.text, nameNode: fnName };
        }
        if (!this.returned || this.returned.t === 'opaque') this.returned = value;
        if (this.marks.conditions.length === this.baseConditions) this.done = true;
        return;
      }
      case 'function_definition':
      case 'decorated_definition': {
        // A nested def (`def f(input): ...; return f`): a function that runs later with this call's names.
        const def = stmt.type === 'function_definition' ? stmt : stmt.childForFieldName('definition');
        const name = def?.type === 'function_definition' ? def.childForFieldName('name')?.text : undefined;
        if (def && name && this.options.scopeNode.type !== 'module') this.bindName(name, { t: 'function', def, closure: this });
        return;
      }
      case 'if_statement':
        this.execIf(stmt);
        return;
      case 'for_statement':
        this.execFor(stmt);
        return;
      case 'while_statement':
        this.withRepeated(stmt, () => { this.execBlock(stmt.childForFieldName('body')); });
        return;
      case 'with_statement':
        this.execBlock(stmt.childForFieldName('body'));
        return;
      case 'try_statement':
        this.execBlock(stmt.childForFieldName('body'));
        for (const clause of namedChildren(stmt)) {
          if (clause.type === 'else_clause') this.execBlock(clause.childForFieldName('body'));
          if (clause.type === 'finally_clause') this.execBlock(namedChildren(clause).find((c) => c.type === 'block') ?? null);
        }
        return;
      case 'block':
      case 'ERROR':
        // Error recovery: statements tree-sitter could not place still count.
        for (const child of namedChildren(stmt)) {
          if (this.done) return;
          if (child.type.endsWith('_statement') || child.type === 'block' || child.type === 'ERROR') this.execStatement(child);
          else if (child.type === 'assignment' || child.type === 'call' || child.type === 'augmented_assignment') this.execExpression(child);
        }
        return;
      default:
        return;
    }
  }

  private execExpression(expr: Node): void {
    if (expr.type === 'assignment') {
      const target = expr.childForFieldName('left');
      const valueNode = expr.childForFieldName('right');
      if (!target || !valueNode) return;
      // Chained `a = b = value`: the right side is itself an assignment.
      if (valueNode.type === 'assignment') {
        this.execExpression(valueNode);
        const inner = valueNode.childForFieldName('left');
        if (inner) this.assign(target, this.evalExpr(inner), null);
        return;
      }
      this.assign(target, this.evalExpr(valueNode), valueNode);
      return;
    }
    if (expr.type === 'augmented_assignment') {
      this.execAugmented(expr);
      return;
    }
    this.evalExpr(expr);
  }

  private assign(target: Node, value: Value, valueNode: Node | null): void {
    if (target.type === 'identifier') {
      if (valueNode) this.nameValue(value, target.text, target);
      this.bindName(target.text, value, valueNode);
      return;
    }
    if (target.type === 'subscript') {
      const holder = target.childForFieldName('value');
      if (!holder) return;
      const object = this.evalExpr(holder);
      const index = target.childForFieldName('subscript');
      const key = index ? this.constOf(index) : undefined;
      if (object.t === 'dict' && typeof key === 'string') object.entries.set(key, value);
      return;
    }
    if (target.type === 'attribute') {
      const key = nameOf(target);
      if (!key) return;
      if (valueNode) this.nameValue(value, key, target);
      if (key.startsWith('self.')) this.options.selfEnv.set(key, value);
      else this.env.set(key, value);
      return;
    }
    if (target.type === 'pattern_list' || target.type === 'tuple_pattern' || target.type === 'list_pattern' || target.type === 'tuple' || target.type === 'list') {
      const targets = namedChildren(target);
      // `output, state_h, state_c = LSTM(..., return_state=True)(x)`: every part comes out of the same layer.
      if (value.t === 'tensor') {
        targets.forEach((t) => { this.assign(t, value, null); });
        return;
      }
      const items = value.t === 'list' ? value.items : value.t === 'const' && Array.isArray(value.value) ? value.value.map((v): Value => ({ t: 'const', value: v })) : [];
      targets.forEach((t, i) => { this.assign(t, items[i] ?? OPAQUE, null); });
    }
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

  private execAugmented(expr: Node): void {
    const left = expr.childForFieldName('left');
    const right = expr.childForFieldName('right');
    const op = expr.childForFieldName('operator')?.text ?? '';
    if (!left || !right) return;
    const current = this.evalExpr(left);
    const other = this.evalExpr(right);
    let result: Value = OPAQUE;
    if (current.t === 'tensor' || other.t === 'tensor') {
      result = tensorOperator(this, op.replace('=', ''), [current, other], expr);
    } else if (current.t === 'const' && other.t === 'const' && typeof current.value === 'number' && typeof other.value === 'number') {
      const a = current.value;
      const b = other.value;
      const v = op === '+=' ? a + b : op === '-=' ? a - b : op === '*=' ? a * b : op === '//=' ? Math.floor(a / b) : op === '/=' ? a / b : undefined;
      result = v === undefined || !Number.isFinite(v) ? OPAQUE : { t: 'const', value: v };
    } else if (current.t === 'list' && other.t === 'list' && op === '+=') {
      current.items.push(...other.items);
      return;
    }
    this.assign(left, result, null);
  }

  private execIf(stmt: Node): void {
    const branches: { cond: Node | null; body: Node | null }[] = [{ cond: stmt.childForFieldName('condition'), body: stmt.childForFieldName('consequence') }];
    for (const alt of namedChildren(stmt)) {
      if (alt.type === 'elif_clause') branches.push({ cond: alt.childForFieldName('condition'), body: alt.childForFieldName('consequence') });
      if (alt.type === 'else_clause') branches.push({ cond: null, body: alt.childForFieldName('body') });
    }
    let unknownFrom = -1;
    for (let i = 0; i < branches.length; i++) {
      const { cond, body } = branches[i]!;
      if (!cond) {
        this.execBlock(body);
        return;
      }
      if (isMainGuard(cond)) {
        this.execBlock(body);
        return;
      }
      const v = this.constOf(cond);
      if (v === undefined) {
        unknownFrom = i;
        break;
      }
      if (truthy(v)) {
        this.execBlock(body);
        return;
      }
    }
    if (unknownFrom < 0) return;
    // The condition cannot be known (the core's policy, python/evaluator.ts): every remaining branch,
    // and the empty `else` when there is none, is read from the state before the `if`; its layers are
    // marked conditional, and the names the branches bind merge (a tensor from either branch).
    const paths = branches.slice(unknownFrom).map((b) => b.body);
    if (branches[branches.length - 1]?.cond !== null) paths.push(null);
    const saved = this.marks;
    this.marks = { ...saved, conditions: [...saved.conditions, stmt.id] };
    const startEnv = new Map(this.env);
    const startSelf = new Map(this.options.selfEnv);
    const startScope = this.scope;
    const envEnds: Map<string, Value>[] = [];
    const selfEnds: Map<string, Value>[] = [];
    const assigned = new Set<string>();
    this.branchAssigned.push(assigned);
    try {
      for (const body of paths) {
        resetMap(this.env, startEnv);
        resetMap(this.options.selfEnv, startSelf);
        this.scope = startScope;
        this.execBlock(body);
        envEnds.push(withForgotten(this.env, startEnv));
        selfEnds.push(withForgotten(this.options.selfEnv, startSelf));
      }
    } finally {
      this.branchAssigned.pop();
      this.marks = saved;
    }
    resetMap(this.env, startEnv);
    resetMap(this.options.selfEnv, startSelf);
    this.scope = startScope;
    for (const [name, value] of mergedBindings(startEnv, envEnds, mergeValues, OPAQUE)) {
      this.scope = this.scope.with(name, SHADOW);
      this.branchAssigned.at(-1)?.add(name);
      if (value.t === 'opaque') this.env.delete(name);
      else this.env.set(name, value);
    }
    for (const [name, value] of mergedBindings(startSelf, selfEnds, mergeValues, OPAQUE)) this.options.selfEnv.set(name, value);
    // Which branch ran is unknown, so neither branch's constants hold afterwards.
    for (const name of assigned) {
      this.scope = this.scope.with(name, SHADOW);
      this.branchAssigned.at(-1)?.add(name);
    }
  }

  private withRepeated(loop: Node, body: () => void): void {
    const saved = this.marks;
    const header = rangeOf(loop);
    const bodyNode = loop.childForFieldName('body');
    if (bodyNode) header.end = rangeOf(bodyNode).start;
    this.marks = { ...saved, repeatedLoop: header };
    body();
    this.marks = saved;
  }

  private execFor(stmt: Node): void {
    const left = stmt.childForFieldName('left');
    const right = stmt.childForFieldName('right');
    const body = stmt.childForFieldName('body');
    if (!left || !right) return;
    let items = this.iterate(right);
    // Nested constant loops multiply (a 200-epoch loop around a 10-sample one): past the cap, or past
    // half the file's budget, the loop is read once like a loop with unknown bounds.
    if (items && (this.state.unrolledProduct * items.length > LIMITS.unrolledIterations || this.state.steps > LIMITS.steps / 2)) {
      this.state.notes.limit('loop', `for ${left.text} in ${right.text}`, rangeOf(stmt));
      items = undefined;
    }
    if (!items) {
      this.withRepeated(stmt, () => {
        this.assign(left, OPAQUE, null);
        this.execBlock(body);
      });
      return;
    }
    const saved = this.marks;
    const product = this.state.unrolledProduct;
    this.marks = { ...saved, unrollDepth: saved.unrollDepth + 1 };
    this.state.unrolledProduct = product * Math.max(1, items.length);
    try {
      for (const item of items) {
        if (this.done) break;
        this.assign(left, item, null);
        this.execBlock(body);
      }
    } finally {
      this.marks = saved;
      this.state.unrolledProduct = product;
    }
  }

  /** The values a loop iterates over when they are statically known; undefined otherwise. */
  private iterate(node: Node, cap: number = LIMITS.loopIterations): Value[] | undefined {
    const n = unparen(node);
    if (n.type === 'call') {
      const fn = n.childForFieldName('function')?.text;
      const args = callArgs(n);
      if (fn === 'range') {
        const nums = args.positional.map((a) => this.constOf(a));
        if (nums.length < 1 || nums.length > 3 || !nums.every((v): v is number => typeof v === 'number')) return undefined;
        const [a, b, stepBy] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
        if (stepBy === 0) return undefined;
        const out: Value[] = [];
        for (let i = a; stepBy > 0 ? i < b : i > b; i += stepBy) {
          out.push({ t: 'const', value: i });
          if (out.length > cap) return undefined;
        }
        return out;
      }
      if (fn === 'enumerate' && args.positional[0]) {
        const inner = this.iterate(args.positional[0], cap);
        return inner?.map((v, i): Value => ({ t: 'list', items: [{ t: 'const', value: i }, v] }));
      }
      if (fn === 'zip' && args.positional.length > 0) {
        const lists = args.positional.map((a) => this.iterate(a, cap));
        const known = lists.filter((l): l is Value[] => l !== undefined);
        if (known.length !== lists.length) return undefined;
        const length = Math.min(...known.map((l) => l.length));
        return Array.from({ length }, (_, i): Value => ({ t: 'list', items: known.map((l) => l[i] ?? OPAQUE) }));
      }
      if (fn === 'reversed' && args.positional[0]) return this.iterate(args.positional[0], cap)?.reverse();
    }
    const c = this.constOf(n);
    if (Array.isArray(c)) return c.length <= cap ? c.map((v): Value => ({ t: 'const', value: v })) : undefined;
    const value = this.evalExpr(n);
    return value.t === 'list' ? [...value.items] : value.t === 'sequential' ? value.seq.items.map((i) => i.value) : undefined;
  }

  // ---------------------------------------------------------------- expressions

  /** A constant, when the expression has one (self attributes, comparisons and boolean logic included). */
  constOf(node: Node): ConstValue | undefined {
    return evaluateWith((n) => this.constLeaf(n), node);
  }

  private constLeaf(n: Node): ConstValue | undefined {
    if (n.type === 'attribute') {
      const key = nameOf(n);
      const v = key ? this.getName(key) : undefined;
      if (v) return constantOf(v);
    }
    if (n.type === 'identifier') {
      const v = this.env.get(n.text);
      if (v) return constantOf(v);
    }
    return this.scope.evaluate(n);
  }

  evalExpr(node: Node): Value {
    // Generated code can nest expressions thousands deep (`a + b + c + ...`): no model code does.
    if (this.depth > MAX_EXPRESSION_DEPTH) return OPAQUE;
    this.depth++;
    try {
      return this.evalNode(unparen(node));
    } finally {
      this.depth--;
    }
  }

  private depth = 0;

  private evalNode(n: Node): Value {
    switch (n.type) {
      case 'call':
        return this.evalCall(n);
      case 'identifier': {
        const v = this.env.get(n.text);
        if (v) return v;
        const c = this.scope.evaluate(n);
        if (c !== undefined) return { t: 'const', value: c };
        return this.globalValue(n.text);
      }
      case 'attribute': {
        const key = nameOf(n);
        const v = key ? this.getName(key) : undefined;
        if (v) return v;
        const object = this.evalExpr(requiredField(n, 'object'));
        // `x.shape`, `x.T`: a tensor's attributes stay tied to it.
        if (object.t === 'tensor') return object;
        const attribute = n.childForFieldName('attribute')?.text;
        if (attribute === 'output' || attribute === 'outputs') return outputOf(this, object);
        if (attribute === 'input' || attribute === 'inputs') return inputOf(object);
        return OPAQUE;
      }
      case 'list':
      case 'tuple':
      case 'expression_list': {
        // Lists stay lists (they may be appended to later); constant tuples are constants.
        const c = n.type === 'tuple' ? this.scope.evaluate(n) : undefined;
        if (c !== undefined) return { t: 'const', value: c };
        const items: Value[] = [];
        for (const child of namedChildren(n)) {
          if (child.type === 'list_splat') {
            const innerNode = child.namedChild(0);
            const inner = innerNode ? this.evalExpr(innerNode) : OPAQUE;
            if (inner.t === 'list') items.push(...inner.items);
            else items.push(inner);
          } else items.push(this.evalExpr(child));
        }
        return { t: 'list', items };
      }
      case 'list_comprehension':
      case 'generator_expression':
        return { t: 'list', items: this.evalComprehension(n) };
      case 'binary_operator': {
        const c = this.scope.evaluate(n);
        if (c !== undefined) return { t: 'const', value: c };
        const left = this.evalExpr(requiredField(n, 'left'));
        const right = this.evalExpr(requiredField(n, 'right'));
        const op = n.childForFieldName('operator')?.text ?? '';
        if (left.t === 'list' && right.t === 'list' && op === '+') return { t: 'list', items: [...left.items, ...right.items] };
        if (left.t === 'tensor' || right.t === 'tensor') return tensorOperator(this, op, [left, right], n);
        return OPAQUE;
      }
      case 'subscript': {
        const object = this.evalExpr(requiredField(n, 'value'));
        const index = n.childForFieldName('subscript');
        if (object.t === 'dict' && index) {
          const key = this.constOf(index);
          return (typeof key === 'string' ? object.entries.get(key) : undefined) ?? OPAQUE;
        }
        if (object.t === 'list' && index) {
          const i = this.constOf(index);
          if (typeof i === 'number') return object.items[i < 0 ? object.items.length + i : i] ?? OPAQUE;
        }
        return object.t === 'tensor' ? object : OPAQUE;
      }
      case 'dictionary': {
        // String keys only (`{'filters': 64, 'kernel_size': 3}`); a splat or another key leaves it unknown.
        const entries = new Map<string, Value>();
        for (const pair of namedChildren(n)) {
          const keyNode = pair.type === 'pair' ? pair.childForFieldName('key') : null;
          const key = keyNode ? this.constOf(keyNode) : undefined;
          const valueNode = pair.type === 'pair' ? pair.childForFieldName('value') : null;
          if (typeof key !== 'string' || !valueNode) return OPAQUE;
          entries.set(key, this.evalExpr(valueNode));
        }
        return { t: 'dict', entries };
      }
      case 'conditional_expression': {
        const [a, cond, b] = namedChildren(n);
        const v = cond ? this.constOf(cond) : undefined;
        if (v !== undefined && a && b) return this.evalExpr(truthy(v) ? a : b);
        return a ? this.evalExpr(a) : OPAQUE;
      }
      default: {
        const c = this.scope.evaluate(n);
        return c !== undefined ? { t: 'const', value: c } : OPAQUE;
      }
    }
  }

  /** A name not bound in this reader: a function or class of the file, or a layer bound once in an outer scope. */
  private globalValue(name: string): Value {
    const fn = this.state.functions.get(name);
    if (fn) return { t: 'function', def: fn };
    const bound = this.scope.lookup(name);
    if (bound && bound.type === 'call') {
      const q = this.state.symbols.qualified(bound.childForFieldName('function'));
      // Only constructors are followed: re-reading arbitrary outer code here could duplicate models.
      if (q && isKerasLayerPath(q, this.argContext) && layerSpec(lastSegment(q))) return this.evalCall(bound);
    }
    return OPAQUE;
  }

  private evalComprehension(node: Node): Value[] {
    const body = node.childForFieldName('body');
    const clauses = namedChildren(node).filter((c) => c.type === 'for_in_clause' || c.type === 'if_clause');
    const results: Value[] = [];
    const expand = (i: number) => {
      if (!body) return;
      if (i === clauses.length) {
        results.push(this.evalExpr(body));
        return;
      }
      const clause = clauses[i]!;
      if (clause.type === 'if_clause') {
        const cond = clause.namedChild(0);
        const v = cond ? this.constOf(cond) : undefined;
        if (v === undefined) {
          const saved = this.marks;
          this.marks = { ...saved, conditions: [...saved.conditions, clause.id] };
          expand(i + 1);
          this.marks = saved;
        } else if (truthy(v)) expand(i + 1);
        return;
      }
      const left = clause.childForFieldName('left');
      const right = clause.childForFieldName('right');
      if (!left || !right) return;
      const savedScope = this.scope;
      const savedEnv = new Map(this.env);
      const items = this.iterate(right);
      if (!items) {
        this.withRepeated(clause, () => {
          this.assign(left, OPAQUE, null);
          expand(i + 1);
        });
      } else {
        const saved = this.marks;
        this.marks = { ...saved, unrollDepth: saved.unrollDepth + 1 };
        for (const item of items) {
          this.assign(left, item, null);
          expand(i + 1);
        }
        this.marks = saved;
      }
      this.scope = savedScope;
      this.env.clear();
      for (const [k, v] of savedEnv) this.env.set(k, v);
    };
    expand(0);
    return results;
  }

  // ---------------------------------------------------------------- calls

  private evalCall(call: Node): Value {
    const fnNode = call.childForFieldName('function');
    if (!fnNode) return OPAQUE;
    if (fnNode.type !== 'identifier' && fnNode.type !== 'attribute') {
      const callee = this.evalExpr(fnNode);
      if (callee.t === 'opaque' && fnNode.type === 'call') return unknownLayerApplication(this, fnNode, call);
      return apply(this, callee, call);
    }
    const dotted = nameOf(fnNode);
    if (!dotted) {
      // `obj[i](x)`, `f()(x)` with an attribute on a non-name: apply whatever the object is.
      return apply(this, this.evalExpr(fnNode), call);
    }
    const method = this.methodCall(fnNode, call);
    if (method) return method;
    const bound = this.getName(dotted) ?? (dotted.includes('.') ? undefined : this.env.get(dotted));
    if (bound) return apply(this, bound, call);

    const q = this.state.symbols.qualified(fnNode);
    if (q) {
      const keras = kerasCall(this, q, fnNode.text, call);
      if (keras) return keras;
    }
    if (!dotted.includes('.')) {
      const fn = this.state.functions.get(dotted);
      if (fn) return inlineFunction(this, fn, callValues(this, call), false);
      const cls = this.state.classes.get(dotted);
      // Constructor arguments are read now, in the scope that wrote them; __init__ runs when applied.
      if (cls && this.state.classKind(cls)) return { t: 'instance', classDef: cls, call, args: callValues(this, call), marks: this.marks, boundName: null };
    }
    return passthrough(this, call);
  }

  /** Calls on a value the reader holds: `model.add(..)`, `layers.append(..)`, `self.block(x)`. */
  private methodCall(fnNode: Node, call: Node): Value | null {
    if (fnNode.type !== 'attribute') return null;
    const objectNode = fnNode.childForFieldName('object');
    const method = fnNode.childForFieldName('attribute')?.text;
    if (!objectNode || !method) return null;
    const objectKey = nameOf(objectNode);
    const args = callArgs(call);
    if (objectKey === 'self' && this.options.classDef && !this.getName(`self.${method}`)) {
      const def = this.state.methodOf(this.options.classDef, method);
      if (def) return inlineFunction(this, def, callValues(this, call), true);
    }
    const object = objectKey ? this.getName(objectKey) : undefined;
    if (!object) return null;
    if (object.t === 'sequential') {
      const seq = object.seq;
      if (method === 'add') {
        for (const arg of args.positional.slice(0, 1)) seq.items.push({ value: this.evalExpr(arg), node: arg, marks: this.marks });
        seq.lastAdd = call;
        return { t: 'const', value: null };
      }
      if (method === 'build') {
        const shapeNode = args.positional[0] ?? args.keywords.get('input_shape');
        const shape = shapeNode ? this.constOf(shapeNode) : undefined;
        if (Array.isArray(shape) && shape.length > 0) seq.builtShape = shape.slice(1).map((d) => (typeof d === 'number' ? d : null));
        return { t: 'const', value: null };
      }
      if (method === 'pop') {
        seq.items.pop();
        return OPAQUE;
      }
      return OPAQUE;
    }
    if (object.t === 'dict') return this.dictMethod(object.entries, method, args.positional);
    if (object.t === 'list') {
      if (method === 'append' && args.positional[0]) {
        object.items.push(this.evalExpr(args.positional[0]));
        return { t: 'const', value: null };
      }
      if (method === 'extend' && args.positional[0]) {
        const more = this.evalExpr(args.positional[0]);
        if (more.t === 'list') object.items.push(...more.items);
        return { t: 'const', value: null };
      }
      if (method === 'insert' && args.positional[1]) {
        const at = this.constOf(args.positional[0]!);
        if (typeof at === 'number') object.items.splice(at, 0, this.evalExpr(args.positional[1]));
        return { t: 'const', value: null };
      }
    }
    if (object.t === 'tensor') return object;
    return null;
  }

  /** `params.setdefault('strides', (1, 1))`, `params.get('padding', 'same')`, `params.pop('name', None)`. */
  private dictMethod(entries: Map<string, Value>, method: string, positional: Node[]): Value | null {
    const keyNode = positional[0];
    const key = keyNode ? this.constOf(keyNode) : undefined;
    if (typeof key !== 'string' || !['setdefault', 'get', 'pop'].includes(method)) return OPAQUE;
    const fallback = (): Value => (positional[1] ? this.evalExpr(positional[1]) : { t: 'const', value: null });
    const present = entries.get(key);
    if (method === 'setdefault' && !present) entries.set(key, fallback());
    if (method === 'pop') entries.delete(key);
    return present ?? entries.get(key) ?? fallback();
  }

  newNode(layer: GraphNode['layer'], inputs: GraphNode[], origin: Node, marks: FlowMarks, declaredInput: GraphNode['declaredInput'] = null, unsupported: GraphNode['unsupported'] = []): GraphNode {
    const node: GraphNode = { seq: this.state.nextSeq++, layer, inputs, origin, marks, declaredInput, unsupported };
    for (const recorder of this.state.recorders) recorder.push(node);
    return node;
  }}
