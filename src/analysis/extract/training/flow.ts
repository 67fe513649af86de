/**
 * Where a value comes from, statically: the definition of a name that reaches a use (the last
 * unconditional assignment before it in the same function or module), function parameters traced
 * to their call sites, `self.x` attributes assigned once in a class, and pass-through calls
 * (`model.to(device)`, `nn.DataParallel(model)`). Anything ambiguous is unknown (null): the training
 * pass never guesses which of two values reaches a use.
 */
import type { Node } from '../../python/syntax-tree';
import { Scope } from '../../python/constants';
import { callArguments, calleeName, descendantsOfType, enclosing, namedChildren, unparen } from '../../python/syntax';

/** The definition of a name that reaches a use. */
export type Definition =
  /** `element`: the name is element `element` of what a call returns (`loss, preds = step(...)`), `value` being the call. */
  | { kind: 'assign'; value: Node; statement: Node; element?: number }
  | { kind: 'augmented'; operator: string; value: Node; statement: Node }
  | { kind: 'param'; fn: Node; name: string; index: number; defaultValue: Node | null };

/** A definition written as a statement in the scope (not a parameter). */
type LocalDefinition = Exclude<Definition, { kind: 'param' }>;

/** Statements whose body runs only sometimes: a definition inside one that does not also contain the use is conditional. */
const CONDITIONAL = new Set(['if_statement', 'elif_clause', 'else_clause', 'except_clause', 'match_statement', 'case_clause']);
const MAX_DEPTH = 12;

/** Methods that return their receiver (for the values the training pass follows). */
const RETURNS_RECEIVER = new Set(['to', 'cuda', 'cpu', 'double', 'float', 'half', 'bfloat16', 'train', 'eval', 'requires_grad_', 'share_memory']);
/** Wrappers whose first argument is the model (qualified names after imports). */
const WRAPS_FIRST_ARGUMENT = new Set([
  'torch.nn.DataParallel',
  'torch.nn.parallel.DataParallel',
  'torch.nn.parallel.DistributedDataParallel',
  'torch.compile',
]);

/** The innermost function (or the module) whose locals include names used at `node`. */
export function scopeNodeOf(node: Node): Node {
  // Parent walks cross into wasm for every step: remember the answer for every node passed on the way.
  const tree = node.tree as unknown as object;
  let known = scopeCache.get(tree);
  if (!known) scopeCache.set(tree, (known = new Map<number, Node>()));
  const passed: number[] = [];
  let scope: Node = node.tree.rootNode;
  for (let cur = node.parent; cur; cur = cur.parent) {
    const cached = known.get(cur.id);
    if (cached) {
      scope = cached;
      break;
    }
    if (cur.type === 'function_definition' || cur.type === 'module') {
      scope = cur;
      break;
    }
    passed.push(cur.id);
  }
  for (const id of passed) known.set(id, scope);
  return scope;
}

/** Per tree: node id -> the scope of the nodes below it (for nodes that are not themselves scopes). */
const scopeCache = new WeakMap<object, Map<number, Node>>();

/** Per tree, per scope node id: every name's definitions in that scope, in source order. */
const definitionCache = new WeakMap<object, Map<number, Map<string, LocalDefinition[]>>>();

/** Definitions of `name` made directly in `scope` (not in nested functions or classes), in source order. */
function definitionsIn(scope: Node, name: string): LocalDefinition[] {
  const tree = scope.tree as unknown as object;
  let perTree = definitionCache.get(tree);
  if (!perTree) definitionCache.set(tree, (perTree = new Map<number, Map<string, LocalDefinition[]>>()));
  let byName = perTree.get(scope.id);
  if (!byName) perTree.set(scope.id, (byName = collectDefinitions(scope)));
  return byName.get(name) ?? [];
}

function identifiersOf(target: Node): Node[] {
  return target.type === 'identifier' ? [target] : descendantsOfType(target, 'identifier');
}

function collectDefinitions(scope: Node): Map<string, LocalDefinition[]> {
  const body = scope.type === 'module' ? scope : scope.childForFieldName('body');
  const out = new Map<string, LocalDefinition[]>();
  const add = (name: string, def: LocalDefinition) => {
    const list = out.get(name);
    if (list) list.push(def);
    else out.set(name, [def]);
  };
  if (!body) return out;
  const visit = (node: Node) => {
    for (const child of namedChildren(node)) {
      if (SKIPPED.has(child.type)) continue;
      if (child.type === 'assignment') {
        const left = child.childForFieldName('left');
        const right = child.childForFieldName('right');
        if (left && right) {
          for (const id of identifiersOf(left)) {
            const part = assignedPart(left, right, id.text);
            if (part) add(id.text, { kind: 'assign', value: part.value, statement: child, ...(part.element !== undefined ? { element: part.element } : {}) });
          }
        }
        continue;
      }
      if (child.type === 'augmented_assignment') {
        const left = child.childForFieldName('left');
        const right = child.childForFieldName('right');
        const operator = child.childForFieldName('operator')?.text ?? '';
        if (left?.type === 'identifier' && right) add(left.text, { kind: 'augmented', operator, value: right, statement: child });
        continue;
      }
      // Loop variables and `with ... as x` are opaque: recorded so that they hide older definitions.
      if (child.type === 'for_statement') {
        const left = child.childForFieldName('left');
        if (left) for (const id of identifiersOf(left)) add(id.text, { kind: 'assign', value: left, statement: child });
      }
      if (child.type === 'with_statement') {
        for (const target of descendantsOfType(child.namedChild(0) ?? child, 'as_pattern_target')) {
          for (const id of identifiersOf(target)) add(id.text, { kind: 'assign', value: target, statement: child });
        }
      }
      // Only statements bind names: expressions (calls, literals) are not entered.
      if (STATEMENT_CONTAINERS.has(child.type)) visit(child);
    }
  };
  visit(body);
  return out;
}

const STATEMENT_CONTAINERS = new Set([
  'expression_statement', 'block', 'if_statement', 'elif_clause', 'else_clause', 'for_statement', 'while_statement', 'try_statement',
  'except_clause', 'except_group_clause', 'finally_clause', 'with_statement', 'match_statement', 'case_clause',
]);

const SKIPPED = new Set(['function_definition', 'class_definition', 'decorated_definition', 'lambda', 'comment']);
const OPAQUE_BINDERS = new Set(['for_statement', 'with_statement']);

function mentions(target: Node, name: string): boolean {
  return target.text === name || descendantsOfType(target, 'identifier').some((id) => id.text === name);
}

/**
 * The part of an assignment's right side bound to `name`: the whole value for `name = v`, the
 * matching element for `a, name = x, y`, or the unpacked expression itself (the opaque source) for
 * `(a, name), _ = f()`. Null when `name` is not a target.
 */
function assignedPart(left: Node, right: Node, name: string): { value: Node; element?: number } | null {
  if (left.type === 'identifier') return left.text === name ? { value: right } : null;
  if (left.type === 'pattern_list' || left.type === 'tuple_pattern' || left.type === 'list_pattern') {
    const targets = namedChildren(left);
    const values = right.type === 'expression_list' || right.type === 'tuple' ? namedChildren(right) : passedThrough(right, targets.length);
    const fits = values !== null && values.length === targets.length;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      // A call's result unpacked: the name is its element i (followed into the function by returnedPart).
      if (t.type === 'identifier' && t.text === name) return fits ? { value: values[i]! } : right.type === 'call' ? { value: right, element: i } : { value: right };
      if (t.type !== 'identifier' && mentions(t, name)) {
        const sub = fits ? values[i]! : right;
        return assignedPart(t, sub, name) ?? { value: sub };
      }
    }
    return null;
  }
  // Chained `a = b = v` appears as nested assignments; attribute/subscript targets do not bind names.
  return null;
}

/**
 * What a call of a function of the same file returns (`def step(...): ...; return loss, preds`): the
 * returned expression, or its element `element` when the caller unpacks a tuple. Null when the callee is
 * not one function of the file, or its returns disagree.
 */
export function returnedPart(call: Node, element: number | undefined): Node | null {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'identifier') return null;
  const fns = functionsNamed(call.tree.rootNode, callee.text);
  const fn = fns.length === 1 ? fns[0]! : null;
  if (!fn) return null;
  const returned = returnedValues(fn).map((value) => {
    if (!value || element === undefined) return value;
    return value.type === 'expression_list' || value.type === 'tuple' ? (namedChildren(value)[element] ?? null) : null;
  });
  const first = returned[0];
  return first && returned.every((r) => r?.text === first.text) ? first : null;
}

/** What each `return` of a function gives back (null for a bare `return`), not counting nested functions' returns. */
export function returnedValues(fn: Node): (Node | null)[] {
  const body = fn.childForFieldName('body');
  if (!body) return [];
  return descendantsOfType(body, 'return_statement')
    .filter((r) => enclosing(r, ['function_definition', 'lambda']) === fn)
    .map((r) => r.namedChild(0));
}

/**
 * Per syntax tree: where the text writes `def name` (offsets from the module's start), by name, found
 * once; each name's definitions are looked up in the tree when first asked (a file defines many
 * functions and is asked about a few).
 */
const functionsByTree = new WeakMap<object, { written: Map<string, number[]>; found: Map<string, Node[]> }>();

/** The function definitions of the file named `name` (any depth). */
function functionsNamed(module: Node, name: string): Node[] {
  let byName = functionsByTree.get(module.tree);
  if (!byName) {
    const written = new Map<string, number[]>();
    for (const m of module.text.matchAll(/\bdef[ \t]+([A-Za-z_]\w*)/g)) {
      const offsets = written.get(m[1]!);
      if (offsets) offsets.push(m.index);
      else written.set(m[1]!, [m.index]);
    }
    functionsByTree.set(module.tree, (byName = { written, found: new Map() }));
  }
  let found = byName.found.get(name);
  if (!found) {
    found = [];
    // Offsets in the module node's text start at its first token, not at the file's first character.
    for (const offset of byName.written.get(name) ?? []) {
      const at = module.descendantForIndex(module.startIndex + offset, module.startIndex + offset + 3);
      const fn = at ? enclosing(at, ['function_definition']) : null;
      if (fn && fn.childForFieldName('name')?.text === name) found.push(fn);
    }
    byName.found.set(name, found);
  }
  return found;
}

/**
 * `model, optimizer, loader = accelerator.prepare(model, optimizer, loader)` and apex's
 * `amp.initialize(model, optimizer)` hand back their arguments (wrapped) in order.
 */
function passedThrough(right: Node, count: number): Node[] | null {
  if (right.type !== 'call') return null;
  const fn = right.childForFieldName('function');
  const method = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : null;
  if (method !== 'prepare' && method !== 'initialize') return null;
  const args = callArguments(right);
  return args.positional.length === count && args.splats.length === 0 ? args.positional : null;
}

function parametersOf(fn: Node): { name: string; index: number; defaultValue: Node | null }[] {
  const params = fn.childForFieldName('parameters');
  if (!params) return [];
  const out: { name: string; index: number; defaultValue: Node | null }[] = [];
  let index = 0;
  for (const p of namedChildren(params)) {
    if (p.type === 'identifier') out.push({ name: p.text, index: index++, defaultValue: null });
    else if (p.type === 'typed_parameter') {
      const id = namedChildren(p).find((c) => c.type === 'identifier');
      if (id) out.push({ name: id.text, index: index++, defaultValue: null });
    } else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') {
      const id = p.childForFieldName('name');
      if (id) out.push({ name: id.text, index: index++, defaultValue: p.childForFieldName('value') });
    } else index++;
  }
  return out;
}

/** True when `def` sits in a branch (if/else/except/case) that does not also contain `use`. */
function isConditional(def: Node, use: Node, scope: Node): boolean {
  for (let cur = def.parent; cur && cur.id !== scope.id; cur = cur.parent) {
    if (CONDITIONAL.has(cur.type) && !(cur.startIndex <= use.startIndex && use.endIndex <= cur.endIndex)) return true;
    // The `if` body itself (its consequence block) is conditional too.
    if (cur.type === 'block' && cur.parent?.type === 'if_statement' && !(cur.startIndex <= use.startIndex && use.endIndex <= cur.endIndex)) return true;
  }
  return false;
}

/**
 * The definition of identifier `use` that reaches it: the last definition before it in its own
 * function (or module), or a parameter, or the single definition in the module for a global.
 * Null when there is none or it is ambiguous.
 */
export function reachingDefinition(use: Node): Definition | null {
  return definitionBefore(use.text, use, scopeNodeOf(use));
}

/** The definition of `name` reaching `anchor` in `scope`; closures look in their enclosing functions. */
function definitionBefore(name: string, anchor: Node, scope: Node): Definition | null {
  const before = definitionsIn(scope, name).filter(
    (d) => d.statement.endIndex <= anchor.startIndex || (OPAQUE_BINDERS.has(d.statement.type) && contains(d.statement, anchor)),
  );
  const last = before.at(-1);
  if (last) return isConditional(last.statement, anchor, scope) ? null : last;
  if (scope.type !== 'function_definition') return null;
  const param = parametersOf(scope).find((p) => p.name === name);
  if (param) return { kind: 'param', fn: scope, ...param };
  if (definitionsIn(scope, name).length > 0) return null;
  const outer = scopeNodeOf(scope);
  // A closure (`def train_step(x, y)` inside `make_train_step(model, optimizer)`) sees its enclosing function.
  if (outer.type === 'function_definition') return definitionBefore(name, scope, outer);
  // A global used inside a function: only a name bound exactly once in the module is known.
  const globals = definitionsIn(outer, name);
  return globals.length === 1 && !isConditional(globals[0]!.statement, anchor, outer) ? globals[0]! : null;
}

/**
 * The definitions of identifier `use` that may reach it when no single one does: the last
 * unconditional definition before it and every conditional one after that (`if resume: net = ...`
 * / `else: net = ...`). Empty when there is a single reaching definition or none at all.
 */
export function branchDefinitions(use: Node): Definition[] {
  const scope = scopeNodeOf(use);
  const before = definitionsIn(scope, use.text).filter((d) => d.statement.endIndex <= use.startIndex);
  let from = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    if (!isConditional(before[i]!.statement, use, scope)) {
      from = i;
      break;
    }
  }
  const reaching = before.slice(from);
  return reaching.length > 1 ? reaching : [];
}

function contains(outer: Node, inner: Node): boolean {
  return outer.startIndex <= inner.startIndex && inner.endIndex <= outer.endIndex;
}

/**
 * Finding calls by name. Walking every node through wasm is the costly part of the pass, so calls
 * are found from the source text instead: among the words written before a `(` (SyntaxTree.writtenCallWords,
 * grouped by word once per tree), those a pattern accepts, where the syntax tree confirms that the name
 * there is the callee of a call (not a string, comment or attribute read). Per tree and pattern, cached.
 */
interface TreeCalls {
  byPattern: Map<string, Node[]>;
}

const callCache = new WeakMap<object, TreeCalls>();

/** The offsets of the words `namePattern` accepts whole, in text order: one word's by lookup, an alternation's from the distinct words. */
function offsetsOf(byWord: ReadonlyMap<string, readonly number[]>, namePattern: string): { word: string; index: number }[] {
  if (/^\w+$/.test(namePattern)) return (byWord.get(namePattern) ?? []).map((index) => ({ word: namePattern, index }));
  const accepts = new RegExp(`^(?:${namePattern})$`);
  const found: { word: string; index: number }[] = [];
  for (const [word, offsets] of byWord) if (accepts.test(word)) for (const index of offsets) found.push({ word, index });
  return found.sort((a, b) => a.index - b.index);
}

/** The call whose callee ends with the identifier at [start, end), or null. */
function callNamedAt(rootNode: Node, start: number, end: number): Node | null {
  const id = rootNode.descendantForIndex(start, end);
  if (!id || id.type !== 'identifier' || id.startIndex !== start || id.endIndex !== end) return null;
  const parent = id.parent;
  if (!parent) return null;
  let fn: Node = id;
  if (parent.type === 'attribute') {
    if (parent.childForFieldName('attribute')?.startIndex !== start) return null;
    fn = parent;
  }
  const call = fn.parent;
  const callee = call?.type === 'call' ? call.childForFieldName('function') : null;
  return callee && callee.startIndex === fn.startIndex && callee.endIndex === fn.endIndex ? call : null;
}

/**
 * Calls whose callee's last name matches `namePattern` (a regex source of words such as `compile|fit`,
 * matched whole), inside `root`, in source order.
 */
export function callsWithLastName(root: Node, namePattern: string): Node[] {
  const tree = root.tree as unknown as object;
  let perTree = callCache.get(tree);
  if (!perTree) callCache.set(tree, (perTree = { byPattern: new Map() }));
  let calls = perTree.byPattern.get(namePattern);
  if (!calls) {
    calls = [];
    const rootNode = root.tree.rootNode;
    // Where `(?<!\w)(?:namePattern)(?=\s*\()` matches in the text.
    for (const { word, index } of offsetsOf(root.tree.writtenCallWords, namePattern)) {
      const call = callNamedAt(rootNode, index, index + word.length);
      if (call) calls.push(call);
    }
    perTree.byPattern.set(namePattern, calls);
  }
  if (root.parent === null) return calls;
  return calls.filter((c) => c.startIndex >= root.startIndex && c.endIndex <= root.endIndex);
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The calls inside `root` whose callee is written exactly `dotted` (`train`, `self.step`, `images.append`). */
export function callsNamed(root: Node, dotted: string): Node[] {
  const last = dotted.slice(dotted.lastIndexOf('.') + 1);
  return callsWithLastName(root, escapeRegExp(last)).filter((c) => calleeName(c) === dotted);
}

/** Calls to the function `fn` in its file: `f(...)`, and for `__init__` the class constructor `C(...)`. */
export function callSitesOf(fn: Node): { call: Node; offset: number }[] {
  const name = fn.childForFieldName('name')?.text;
  if (!name) return [];
  let callee = name;
  let offset = 0;
  const cls = enclosing(fn, ['class_definition']);
  if (cls && enclosing(fn, ['function_definition']) === null) {
    if (name !== '__init__') return methodCallSites(fn, name);
    callee = cls.childForFieldName('name')?.text ?? '';
    offset = 1;
  }
  return calledHere(fn, callsNamed(fn.tree.rootNode, callee)).map((call) => ({ call, offset }));
}

/**
 * The calls of `calls` that reach `fn` when the module defines a function of its name more than once (a
 * notebook that defines `train_model` again in a later cell): those after it and before the next one,
 * as the cells run. All of them otherwise.
 */
function calledHere(fn: Node, calls: Node[]): Node[] {
  const name = fn.childForFieldName('name')?.text;
  if (!name || fn.parent?.type !== 'module') return calls;
  const defined = functionsNamed(fn.tree.rootNode, name).filter((f) => f.parent?.type === 'module');
  if (defined.length < 2) return calls;
  const next = defined.find((f) => f.startIndex > fn.startIndex);
  return calls.filter((c) => c.startIndex > fn.endIndex && (!next || c.startIndex < next.startIndex));
}

/** `self.method(...)` calls inside the method's own class. */
function methodCallSites(fn: Node, name: string): { call: Node; offset: number }[] {
  const cls = enclosing(fn, ['class_definition']);
  if (!cls) return [];
  return callsNamed(cls, `self.${name}`).map((call) => ({ call, offset: 1 }));
}

/** The argument a call site passes for a parameter (or the parameter's default). */
export function argumentFor(call: Node, offset: number, param: { name: string; index: number; defaultValue: Node | null }): Node | null {
  const args = callArguments(call);
  const kw = args.keywords.get(param.name);
  if (kw) return kw;
  const pos = args.positional[param.index - offset];
  if (pos && param.index - offset >= 0) return pos;
  if (args.splats.length > 0) return null;
  return param.defaultValue;
}

/** Assignments `self.<attr> = value` in the methods of the class enclosing `node`. */
function selfAttributeValues(node: Node, attr: string): Node[] {
  const cls = enclosing(node, ['class_definition']);
  if (!cls) return [];
  const out: Node[] = [];
  for (const a of descendantsOfType(cls, 'assignment')) {
    const left = a.childForFieldName('left');
    const right = a.childForFieldName('right');
    if (left?.type === 'attribute' && left.text === `self.${attr}` && right) out.push(right);
  }
  return out;
}

export type Resolve = (qualified: Node) => string | null;

/**
 * Follows a value back to the expression that made it (a constructor call, a literal, a loader
 * call). Returns null when the origin cannot be known (ambiguous bindings, call sites that disagree,
 * loop variables, unknown attributes). `resolve` maps a callee to its qualified name (imports applied).
 */
export function originOf(node: Node, resolve: Resolve, depth = 0): Node | null {
  if (depth > MAX_DEPTH) return null;
  const n = unparen(node);
  if (n.type === 'identifier') {
    if (n.text === 'self' || n.text === 'cls') return n;
    const def = reachingDefinition(n);
    if (!def) return null;
    if (def.kind === 'assign') {
      if (OPAQUE_BINDERS.has(def.statement.type)) return null;
      return originOf(def.value, resolve, depth + 1);
    }
    if (def.kind === 'augmented') return def.statement;
    return originOfParameter(def, resolve, depth);
  }
  if (n.type === 'attribute') {
    const object = n.childForFieldName('object');
    const attr = n.childForFieldName('attribute')?.text;
    if (object?.type === 'identifier' && object.text === 'self' && attr) {
      const values = selfAttributeValues(n, attr);
      return values.length === 1 ? originOf(values[0]!, resolve, depth + 1) : null;
    }
    return n;
  }
  if (n.type === 'call') {
    const fn = n.childForFieldName('function');
    if (fn?.type === 'attribute') {
      const method = fn.childForFieldName('attribute')?.text ?? '';
      const receiver = fn.childForFieldName('object');
      if (RETURNS_RECEIVER.has(method) && receiver && !isImportedName(receiver, resolve)) return originOf(receiver, resolve, depth + 1);
    }
    const qualified = fn ? resolve(fn) : null;
    if (qualified && WRAPS_FIRST_ARGUMENT.has(qualified)) {
      const first = callArguments(n).positional[0];
      return first ? originOf(first, resolve, depth + 1) : null;
    }
  }
  return n;
}

/**
 * Every expression a value may come from: originOf's one, or for a parameter of a function its calls
 * pass different values (`fit(lstm, opt_a)`, `fit(gru, opt_b)`), each call's; null when one is unknown.
 */
export function originsOf(node: Node, resolve: Resolve): Node[] | null {
  const single = originOf(node, resolve);
  if (single) return [single];
  const n = unparen(node);
  const def = n.type === 'identifier' ? reachingDefinition(n) : null;
  if (def?.kind !== 'param') return null;
  const sites = callSitesOf(def.fn);
  if (sites.length < 2) return null;
  const origins = new Map<number, Node>();
  for (const { call, offset } of sites) {
    const arg = argumentFor(call, offset, def);
    const origin = arg ? originOf(arg, resolve) : null;
    if (!origin) return null;
    origins.set(origin.startIndex, origin);
  }
  return [...origins.values()];
}

/** True for `torch`, `np`, `tf`: calls on a module are never "returns its receiver". */
function isImportedName(node: Node, resolve: Resolve): boolean {
  const q = resolve(node);
  return q !== null && q !== node.text;
}

function originOfParameter(def: Extract<Definition, { kind: 'param' }>, resolve: Resolve, depth: number): Node | null {
  const sites = callSitesOf(def.fn);
  const origins: Node[] = [];
  for (const { call, offset } of sites) {
    const arg = argumentFor(call, offset, def);
    const origin = arg ? originOf(arg, resolve, depth + 1) : null;
    if (!origin) return null;
    origins.push(origin);
  }
  if (origins.length === 0) return null;
  const first = origins[0]!;
  return origins.every((o) => o.startIndex === first.startIndex && o.endIndex === first.endIndex) ? first : null;
}

/** A number written at `node`, following single bindings (module constants, `lr = 1e-3`). */
export function numberAt(node: Node, resolve: Resolve): number | undefined {
  const direct = Scope.of(node).number(node);
  if (direct !== undefined) return direct;
  const origin = originOf(node, resolve);
  return origin && origin.id !== node.id ? Scope.of(origin).number(origin) : undefined;
}
