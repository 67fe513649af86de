/**
 * Training loops: a gradient computation followed by an optimizer update in the same function.
 * - PyTorch: `loss.backward()` (also `scaler.scale(loss).backward()`, `accelerator.backward(loss)`,
 *   `self.manual_backward(loss)`) ... `optimizer.step()` / `scaler.step(optimizer)`.
 * - TensorFlow custom loops: `tape.gradient(loss, vars)` ... `optimizer.apply_gradients(...)`.
 * Each update pairs with the nearest gradient computation before it in the same function; clipping
 * counts only between the two (clipping after `step()` clips gradients that are about to be zeroed).
 */
import { memoSlot, type Node } from '../../python/syntax-tree';
import type { LoopClipIR, TrainingLoopIR } from '../../../shared/ir';
import { argument, callArguments, calleeName, enclosing, rangeOf, requiredField } from '../../python/syntax';
import { callsWithLastName, numberAt, originOf, reachingDefinition, returnedPart, scopeNodeOf, type Resolve } from './flow';

export interface LoopSite {
  ir: Omit<TrainingLoopIR, 'optimizer'>;
  /** The expression naming the optimizer that steps (`optimizer` in `optimizer.step()`), if any. */
  optimizerExpr: Node | null;
  /** The gradient computation's loss expression (`loss` in `loss.backward()`), for the loss name. */
  lossExpr: Node | null;
  /** For `apply_gradients(zip(grads, model.trainable_variables))`: the variables' expression. */
  variablesExpr: Node | null;
  framework: 'torch' | 'keras';
}

const NORM_CLIPS = new Set(['clip_grad_norm_', 'clip_grad_norm', 'clip_by_global_norm', 'clip_by_norm', 'clip_grads_with_norm_']);
const VALUE_CLIPS = new Set(['clip_grad_value_', 'clip_grad_value', 'clip_by_value']);

/** Keras methods that train a compiled model on data. */
export const FIT_METHODS: ReadonlySet<string> = new Set(['fit', 'fit_generator', 'train_on_batch']);

/** A method call that trains: a gradient of a loss, an update from one, or a Keras fit. */
const TRAINING_CALL = new RegExp(`\\.(?:backward|manual_backward|apply_gradients|${[...FIT_METHODS].join('|')})\\s*\\(`);
const TRAINS_EACH_ITERATION = memoSlot();

/**
 * Whether a loop trains in its body (`for epoch in range(opt.n_epochs): ... loss.backward()`): its
 * iterations repeat one step, so the readers run that step once instead of every epoch (200 of a GAN
 * script's, each re-reading the whole step). Read from its text, comments too.
 */
export function trainsEachIteration(loop: Node): boolean {
  return loop.memo(TRAINS_EACH_ITERATION, (n) => TRAINING_CALL.test(n.text));
}

/** Last names of the calls that can be a gradient, an update or a clip. */
const CANDIDATE_PATTERN = 'backward|manual_backward|gradient|step|apply_gradients|clamp_?|\\w*[cC][lL][iI][pP]\\w*';

const lastPart = (dotted: string | null) => (dotted ? dotted.slice(dotted.lastIndexOf('.') + 1) : '');

interface Gradient {
  node: Node;
  lossExpr: Node | null;
  framework: 'torch' | 'keras';
}

interface Update {
  node: Node;
  optimizerExpr: Node | null;
  variablesExpr: Node | null;
  framework: 'torch' | 'keras';
}

function gradientOf(call: Node, resolve: Resolve): Gradient | null {
  const fn = call.childForFieldName('function');
  if (fn?.type !== 'attribute') return null;
  const method = fn.childForFieldName('attribute')?.text;
  const receiver = fn.childForFieldName('object');
  const args = callArguments(call);
  if (method === 'backward') {
    const qualified = receiver ? resolve(receiver) : null;
    // `loss.backward()`; `accelerator.backward(loss)` / `torch.autograd.backward(loss)` name the loss as argument.
    const takesLoss = args.positional.length > 0 && (qualified === 'torch.autograd' || /accelerator|fabric|engine/i.test(receiver?.text ?? ''));
    return { node: call, lossExpr: takesLoss ? args.positional[0]! : receiver, framework: 'torch' };
  }
  if (method === 'manual_backward') return { node: call, lossExpr: args.positional[0] ?? null, framework: 'torch' };
  if (method === 'gradient' && receiver && /tape/i.test(receiver.text)) return { node: call, lossExpr: args.positional[0] ?? null, framework: 'keras' };
  return null;
}

function looksLikeOptimizer(expr: Node): boolean {
  return /opt/i.test(expr.text) && !/sched/i.test(expr.text);
}

function updateOf(call: Node, isOptimizer: (expr: Node) => boolean | null): Update | null {
  const fn = call.childForFieldName('function');
  if (fn?.type !== 'attribute') return null;
  const method = fn.childForFieldName('attribute')?.text;
  const receiver = fn.childForFieldName('object');
  if (!receiver) return null;
  const args = callArguments(call);
  if (method === 'step') {
    // `scaler.step(optimizer)`: the argument is the optimizer.
    const first = args.positional[0];
    if (first && (isOptimizer(first) ?? looksLikeOptimizer(first))) return { node: call, optimizerExpr: first, variablesExpr: null, framework: 'torch' };
    const known = isOptimizer(receiver);
    if (known === false) return null;
    if (known === null && !looksLikeOptimizer(receiver)) return null;
    return { node: call, optimizerExpr: receiver, variablesExpr: null, framework: 'torch' };
  }
  if (method === 'apply_gradients') {
    if (isOptimizer(receiver) === false) return null;
    const pairs = args.positional[0] ?? args.keywords.get('grads_and_vars') ?? null;
    const zipArgs = pairs?.type === 'call' && calleeName(pairs) === 'zip' ? callArguments(pairs).positional : [];
    return { node: call, optimizerExpr: receiver, variablesExpr: zipArgs[1] ?? null, framework: 'keras' };
  }
  return null;
}

interface Clip {
  node: Node;
  kind: 'norm' | 'value';
  /** The argument holding the threshold, for the framework's own clipping calls. */
  thresholdArg: Node | null;
}

function clipOf(call: Node, clippingHelpers: ReadonlySet<string>): Clip | null {
  const fn = call.childForFieldName('function');
  const name = fn?.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? '') : lastPart(calleeName(call));
  const args = callArguments(call);
  // torch's clip_grad_norm_(parameters, max_norm), tf.clip_by_global_norm(t_list, clip_norm).
  if (NORM_CLIPS.has(name)) return { node: call, kind: 'norm', thresholdArg: argument(args, 1, 'max_norm', 'clip_norm') };
  // clip_grad_value_(parameters, clip_value); tf.clip_by_value(t, clip_value_min, clip_value_max).
  if (VALUE_CLIPS.has(name)) return { node: call, kind: 'value', thresholdArg: name === 'clip_by_value' ? argument(args, 2, 'clip_value_max') : argument(args, 1, 'clip_value') };
  // Hand-written value clipping: `p.grad.data.clamp_(-1, 1)`.
  if ((name === 'clamp_' || name === 'clamp' || name === 'clip_') && /\.grad\b/.test(fn?.text ?? '')) return { node: call, kind: 'value', thresholdArg: argument(args, 1, 'max') };
  // Project helpers: `clip_gradient(model, 0.5)`, `self.clip_gradients()`, or a local function whose body clips.
  if (/clip/i.test(name) || clippingHelpers.has(name)) return { node: call, kind: 'norm', thresholdArg: null };
  return null;
}

/** The clip's threshold when it is a positive number the analysis knows (`1.0`, `max_norm=CLIP`). */
function clipThreshold(clip: Clip, resolve: Resolve): number | null {
  const value = clip.thresholdArg ? numberAt(clip.thresholdArg, resolve) : undefined;
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : null;
}

const CLIPPING_TEXT = /clip_grad_(norm|value)|clip_by_(global_norm|norm|value)|\.grad(\.data)?\.clamp_?\(/;

/** Names of the file's functions and methods whose body clips gradients (the innermost function around each clip). */
function clippingHelpersOf(root: Node): Set<string> {
  const out = new Set<string>();
  const module = root.tree.rootNode;
  // Offsets in the module node's text start at its first token, not at the file's first character.
  for (const m of module.text.matchAll(new RegExp(CLIPPING_TEXT.source, 'g'))) {
    const at = module.descendantForIndex(module.startIndex + m.index, module.startIndex + m.index + 1);
    const def = at ? enclosing(at, ['function_definition']) : null;
    const name = def?.childForFieldName('name')?.text;
    if (name) out.add(name);
  }
  return out;
}

/**
 * The closure an update re-evaluates: `optimizer.step(closure)` (LBFGS, and any optimizer given one)
 * calls the function, whose `backward()` computes the gradients the step uses. The function is the
 * last one of that name defined before the step in the step's own scope, or in an enclosing loop body.
 */
function closureOf(update: Update): Node | null {
  if (update.framework !== 'torch') return null;
  const args = callArguments(update.node);
  const arg = args.keywords.get('closure') ?? (update.optimizerExpr && args.positional[0]?.id === update.optimizerExpr.id ? null : args.positional[0]);
  if (arg?.type === 'attribute' && arg.childForFieldName('object')?.text === 'self') {
    // `optimizer.step(self._closure)`: a method of the class the step is in.
    const cls = enclosing(update.node, ['class_definition']);
    const name = arg.childForFieldName('attribute')?.text;
    const body = cls?.childForFieldName('body');
    for (const child of body?.namedChildren ?? []) {
      const def = child.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      if (def?.type === 'function_definition' && def.childForFieldName('name')?.text === name) return def;
    }
    return null;
  }
  if (arg?.type !== 'identifier') return null;
  const scope = scopeNodeOf(update.node);
  let found: Node | null = null;
  const visit = (node: Node) => {
    for (const child of node.namedChildren) {
      if (child.startIndex >= update.node.startIndex) continue;
      const def = child.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
      if (def?.type === 'function_definition') {
        if (def.childForFieldName('name')?.text === arg.text) found = def;
        continue;
      }
      if (child.type !== 'class_definition' && child.type !== 'expression_statement') visit(child);
    }
  };
  visit(scope.type === 'module' ? scope : (scope.childForFieldName('body') ?? scope));
  return found;
}

/**
 * Every (gradient, update) pair of the file. `isOptimizer` says whether an expression is known to be
 * an optimizer (true), known not to be one (false, e.g. a scheduler), or unknown (null).
 */
export function findLoops(root: Node, file: string, resolve: Resolve, isOptimizer: (expr: Node) => boolean | null): LoopSite[] {
  const helpers = clippingHelpersOf(root);
  const calls = callsWithLastName(root, [CANDIDATE_PATTERN, ...helpers].join('|'));
  const gradients: Gradient[] = [];
  const updates: Update[] = [];
  const clips: Clip[] = [];
  for (const call of calls) {
    const g = gradientOf(call, resolve);
    if (g) {
      gradients.push(g);
      continue;
    }
    const u = updateOf(call, isOptimizer);
    if (u) {
      updates.push(u);
      continue;
    }
    const c = clipOf(call, helpers);
    if (c) clips.push(c);
  }
  // Scopes are computed once per call: walking parents through wasm is the costly part.
  const scopeOf = new Map<number, number>();
  const scopeId = (n: Node) => {
    let id = scopeOf.get(n.id);
    if (id === undefined) scopeOf.set(n.id, (id = scopeNodeOf(n).id));
    return id;
  };
  const sites: LoopSite[] = [];
  for (const update of updates) {
    const scope = scopeId(update.node);
    const closure = closureOf(update);
    const gradient = closure
      ? gradients.filter((g) => g.framework === 'torch' && scopeId(g.node) === closure.id).at(-1)
      : gradients.filter((g) => g.framework === update.framework && g.node.endIndex <= update.node.startIndex && scopeId(g.node) === scope).at(-1);
    if (!gradient) continue;
    // In a closure, clipping after backward inside it counts (it runs before the step uses the gradients).
    const clipScope = closure ? closure.id : scope;
    const clipEnd = closure ? closure.endIndex : update.node.startIndex;
    const clip = clips.find((c) => c.node.startIndex >= gradient.node.endIndex && c.node.endIndex <= clipEnd && scopeId(c.node) === clipScope);
    const clipIR: LoopClipIR | null = clip ? { kind: clip.kind, range: rangeOf(clip.node), threshold: clipThreshold(clip, resolve) } : null;
    sites.push({
      ir: { file, backward: rangeOf(gradient.node), step: rangeOf(update.node), clip: clipIR, ...(closure ? { closure: rangeOf(closure) } : {}) },
      optimizerExpr: update.optimizerExpr,
      lossExpr: gradient.lossExpr,
      variablesExpr: update.variablesExpr,
      framework: update.framework,
    });
  }
  return sites;
}

/** Expressions lossCallsOf follows at most, per loss (a long sum of terms stops there). */
const LOSS_TRACE_STEPS = 64;

/**
 * The loss calls a loss expression adds up, in the order written: `criterion(out, y)` -> `nn.CrossEntropyLoss()`,
 * or `F.mse_loss(...)`, also when a function of the file computes it (`loss, preds = step(model, x, y,
 * criterion)`), through scaling and reductions (`scaler.scale(loss)`, `loss / accumulation_steps`,
 * `loss.mean()`), and every term of a sum (`0.5 * (adversarial_loss(v, valid) + auxiliary_loss(p, labels))`,
 * `loss += criterion(out[i], y[:, i])`).
 */
export function lossCallsOf(lossExpr: Node, resolve: Resolve): LossCall[] {
  const found: LossCall[] = [];
  const seen = new Set<number>();
  const pending: Node[] = [lossExpr];
  for (let steps = 0; steps < LOSS_TRACE_STEPS; steps++) {
    const expr = pending.shift();
    if (!expr) break;
    const origin = lossOrigin(expr, resolve);
    if (!origin || seen.has(origin.id)) continue;
    seen.add(origin.id);
    if (origin.type === 'parenthesized_expression') pending.push(...origin.namedChildrenWithoutComments);
    else if (origin.type === 'binary_operator') pending.push(requiredField(origin, 'left'), requiredField(origin, 'right'));
    // `loss += term`: the term, and what the name held before (`loss = first(...)`, or `loss = 0`).
    else if (origin.type === 'augmented_assignment') pending.push(requiredField(origin, 'left'), requiredField(origin, 'right'));
    else if (origin.type === 'call' && /\.(scale|mean|sum)$/.test(calleeName(origin) ?? '')) {
      const fn = requiredField(origin, 'function');
      const inner = lastPart(calleeName(origin)) === 'scale' ? callArguments(origin).positional[0] : fn.childForFieldName('object');
      if (inner) pending.push(inner);
    } else if (origin.type === 'call') {
      const returned = returnedPart(origin, undefined);
      if (returned) pending.push(returned);
      else found.push({ call: origin, criterion: criterionOf(origin, resolve) });
    }
  }
  return found;
}

/** A loss computed: the call that computes it (`criterion(out, y)`), and what it calls (`nn.CrossEntropyLoss()`, or the call itself for `F.mse_loss(...)`). */
export interface LossCall {
  call: Node;
  criterion: Node;
}

/** `criterion(out, y)`: the call that made the criterion (the loss module); any other loss call itself. */
function criterionOf(call: Node, resolve: Resolve): Node {
  const callee = call.childForFieldName('function');
  if (callee?.type === 'identifier' || (callee?.type === 'attribute' && callee.text.startsWith('self.'))) {
    const made = originOf(callee, resolve);
    if (made?.type === 'call') return made;
  }
  return call;
}

/** originOf, stepping into a file's function for a name unpacked from what it returns (`loss, _ = step(...)`). */
function lossOrigin(node: Node, resolve: Resolve): Node | null {
  const def = node.type === 'identifier' ? reachingDefinition(node) : null;
  if (def?.kind === 'assign' && def.element !== undefined) {
    const returned = returnedPart(def.value, def.element);
    return returned ? originOf(returned, resolve) : null;
  }
  return originOf(node, resolve);
}
