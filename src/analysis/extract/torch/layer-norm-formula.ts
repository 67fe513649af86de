/**
 * A layer normalization written by hand as a module whose forward is its formula (the Annotated
 * Transformer's LayerNorm, the BertLayerNorm of BERT ports):
 *   self.a_2 * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + self.eps) + self.b_2
 *   self.weight * ((x - u) / torch.sqrt(((x - u) ** 2).mean(-1, keepdim=True) + self.eps)) + self.bias
 * (the variance also as x.var(-1, keepdim=True), the root also as torch.rsqrt(...) times x - u), with its
 * scale and shift nn.Parameter(torch.ones(n)) and nn.Parameter(torch.zeros(n)). Such a module is the
 * layer normalization of the last axis; how it divides by the spread (torch's std and var are unbiased,
 * eps may sit outside the root) is kept in NormConfig.spread so the probe computes what torch does.
 * The formula is read from the syntax, names bound in forward followed; nothing else is assumed.
 */
import type { NormSpread } from '../../../shared/ir';
import { makeLayerAt } from '../../../shared/layers';
import type { Node } from '../../python/syntax-tree';
import { callArguments, rangeOf, unparen } from '../../python/syntax';
import { formulaStatements, isLibraryPath, tensorParameter } from '../../python/elementwise-formula';
import { torchDefaultNormBias, torchDefaultNormWeight } from '../defaults';
import { constOf, type Instance, type Slot } from './values';

/** What a layer-norm formula names: attributes of self for the scale and shift, eps as an attribute or a number. */
interface NormFormula {
  scale: string;
  shift: string;
  epsilon: { attribute: string } | { value: number };
  spread: NormSpread;
}

/** An expression with the names of forward bound where it is written (a later `x = ...` does not change an earlier use). */
interface Expr {
  node: Node;
  env: Env;
}
type Env = ReadonlyMap<string, Expr>;

/** What the matcher knows of the method: its `self` and tensor parameter, and which names are imported modules. */
interface Context {
  self: string;
  input: string;
  isLibrary: (name: string) => boolean;
}

/** The expression with parentheses and bound names looked through. */
function resolve(node: Node, env: Env): Expr {
  const n = unparen(node);
  const bound = n.type === 'identifier' ? env.get(n.text) : undefined;
  return bound ? resolve(bound.node, bound.env) : { node: n, env };
}

function operands(e: Expr, operator: string): [Expr, Expr] | null {
  if (e.node.type !== 'binary_operator' || e.node.childForFieldName('operator')?.text !== operator) return null;
  const left = e.node.childForFieldName('left');
  const right = e.node.childForFieldName('right');
  return left && right ? [resolve(left, e.env), resolve(right, e.env)] : null;
}

/** A number written as a literal (`1e-6`, `-1`); null otherwise. */
function literal(node: Node): number | null {
  const n = unparen(node);
  if (n.type === 'integer' || n.type === 'float') {
    const v = Number(n.text.replace(/_/g, ''));
    return Number.isFinite(v) ? v : null;
  }
  const argument = n.type === 'unary_operator' && n.childForFieldName('operator')?.text === '-' ? n.childForFieldName('argument') : null;
  if (argument) {
    const v = literal(argument);
    return v === null ? null : -v;
  }
  return null;
}

const isInput = (e: Expr, ctx: Context): boolean => e.node.type === 'identifier' && e.node.text === ctx.input;

/** `self.name`: the name. */
function selfAttribute(e: Expr, ctx: Context): string | null {
  if (e.node.type !== 'attribute' || e.node.childForFieldName('object')?.text !== ctx.self) return null;
  return e.node.childForFieldName('attribute')?.text ?? null;
}

/**
 * A call `name(...)` as a method of a value (`v.sqrt()`, `v.mean(-1)`) or a library function
 * (`torch.sqrt(v)`, `torch.mean(v, -1)`): the value it applies to and its other arguments.
 */
function applied(e: Expr, names: readonly string[], ctx: Context): { name: string; of: Expr; rest: Node[]; keywords: Map<string, Node> } | null {
  if (e.node.type !== 'call') return null;
  const fn = e.node.childForFieldName('function');
  const name = fn?.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? '') : '';
  const object = fn?.childForFieldName('object');
  if (!object || !names.includes(name)) return null;
  const args = callArguments(e.node);
  if (args.splats.length > 0) return null;
  const library = isLibraryPath(object, ctx.isLibrary);
  const of = library ? args.positional[0] : object;
  return of ? { name, of: resolve(of, e.env), rest: library ? args.positional.slice(1) : args.positional, keywords: args.keywords } : null;
}

/**
 * `x.mean(-1, keepdim=True)`, `x.std(...)`, `x.var(...)`, `torch.mean(x, dim=-1, keepdim=True)`: a
 * reduction over the last axis that keeps it; `unbiased` for std and var (torch divides by n - 1
 * unless `unbiased=False` or `correction=0`).
 */
function reduction(e: Expr, ctx: Context): { name: string; of: Expr; unbiased: boolean } | null {
  const call = applied(e, ['mean', 'std', 'var'], ctx);
  if (!call || call.rest.length > 1) return null;
  const dim = call.rest[0] ?? call.keywords.get('dim');
  const keepdim = call.keywords.get('keepdim');
  if (!dim || literal(dim) !== -1 || keepdim?.text !== 'True') return null;
  const allowed = call.name === 'mean' ? ['dim', 'keepdim'] : ['dim', 'keepdim', 'unbiased', 'correction'];
  if ([...call.keywords.keys()].some((k) => !allowed.includes(k))) return null;
  const unbiased = call.keywords.get('unbiased');
  const correction = call.keywords.get('correction');
  if ((unbiased && unbiased.text !== 'True' && unbiased.text !== 'False') || (correction && literal(correction) !== 0 && literal(correction) !== 1)) return null;
  return { name: call.name, of: call.of, unbiased: unbiased?.text !== 'False' && (!correction || literal(correction) === 1) };
}

/** `x - x.mean(-1, keepdim=True)` of the input. */
function isCentered(e: Expr, ctx: Context): boolean {
  const parts = operands(e, '-');
  const mean = parts ? reduction(parts[1], ctx) : null;
  return !!parts && isInput(parts[0], ctx) && mean?.name === 'mean' && isInput(mean.of, ctx);
}

/** `c ** 2`, `c.pow(2)`, `torch.pow(c, 2)`, `c.square()` of the centered input. */
function isCenteredSquare(e: Expr, ctx: Context): boolean {
  const power = operands(e, '**');
  if (power) return literal(power[1].node) === 2 && isCentered(power[0], ctx);
  const call = applied(e, ['pow', 'square'], ctx);
  if (!call || !isCentered(call.of, ctx) || call.keywords.size > 0) return false;
  return call.name === 'square' ? call.rest.length === 0 : call.rest.length === 1 && literal(call.rest[0]!) === 2;
}

/** eps: `self.eps` or a number. */
function epsilonOf(e: Expr, ctx: Context): NormFormula['epsilon'] | null {
  const attribute = selfAttribute(e, ctx);
  if (attribute) return { attribute };
  const value = literal(e.node);
  return value !== null && value >= 0 ? { value } : null;
}

/** `a + eps` or `eps + a` with `a` what `inner` accepts: its reading and eps. */
function plusEpsilon<T>(e: Expr, ctx: Context, inner: (e: Expr) => T | null): { value: T; epsilon: NormFormula['epsilon'] } | null {
  const parts = operands(e, '+');
  if (!parts) return null;
  for (const [a, b] of [parts, [parts[1], parts[0]] as const]) {
    const value = inner(a);
    const epsilon = epsilonOf(b, ctx);
    if (value !== null && epsilon) return { value, epsilon };
  }
  return null;
}

/** The variance of the input's last axis: x.var(-1, keepdim=True) (unbiased unless told) or the mean of the centered square (biased). */
function varianceOf(e: Expr, ctx: Context): { unbiased: boolean } | null {
  const r = reduction(e, ctx);
  if (r?.name === 'var' && isInput(r.of, ctx)) return { unbiased: r.unbiased };
  return r?.name === 'mean' && isCenteredSquare(r.of, ctx) ? { unbiased: false } : null;
}

/** `torch.sqrt(var + eps)`, `(var + eps).sqrt()`, `(var + eps) ** 0.5`: the root of the variance plus eps. */
function rootOf(e: Expr, ctx: Context, names: readonly string[], power: number): { spread: NormSpread; epsilon: NormFormula['epsilon'] } | null {
  const raised = operands(e, '**');
  const call = raised ? null : applied(e, names, ctx);
  const radicand = raised && literal(raised[1].node) === power ? raised[0] : call && call.rest.length === 0 && call.keywords.size === 0 ? call.of : null;
  const sum = radicand ? plusEpsilon(radicand, ctx, (a) => varianceOf(a, ctx)) : null;
  return sum ? { spread: { unbiased: sum.value.unbiased, epsInsideRoot: true }, epsilon: sum.epsilon } : null;
}

/** What the centered input is divided by: `std + eps` (eps outside the root) or the root of the variance plus eps. */
function divisorOf(e: Expr, ctx: Context): { spread: NormSpread; epsilon: NormFormula['epsilon'] } | null {
  const std = plusEpsilon(e, ctx, (a) => {
    const r = reduction(a, ctx);
    return r?.name === 'std' && isInput(r.of, ctx) ? r.unbiased : null;
  });
  if (std) return { spread: { unbiased: std.value, epsInsideRoot: false }, epsilon: std.epsilon };
  return rootOf(e, ctx, ['sqrt'], 0.5);
}

/** The factors of a product and quotient (`a * b / c`), names looked through: those multiplied and those divided by. */
function factors(e: Expr, out: { times: Expr[]; over: Expr[] }, divided = false): void {
  const product = operands(e, '*');
  const quotient = product ? null : operands(e, '/');
  if (product) {
    factors(product[0], out, divided);
    factors(product[1], out, divided);
  } else if (quotient) {
    factors(quotient[0], out, divided);
    factors(quotient[1], out, !divided);
  } else {
    (divided ? out.over : out.times).push(e);
  }
}

/** `scale * centered / divisor` (in any order, rsqrt(...) as a factor instead of dividing): the scale and the spread. */
function normalizedOf(e: Expr, ctx: Context): { scale: string; spread: NormSpread; epsilon: NormFormula['epsilon'] } | null {
  const parts = { times: [] as Expr[], over: [] as Expr[] };
  factors(e, parts);
  const scales = parts.times.flatMap((f) => selfAttribute(f, ctx) ?? []);
  const centered = parts.times.filter((f) => isCentered(f, ctx));
  const roots = parts.times.flatMap((f) => rootOf(f, ctx, ['rsqrt'], -0.5) ?? []);
  const divisors = parts.over.map((f) => divisorOf(f, ctx));
  // Every factor read: one scale, one centered input, one spread.
  if (scales.length !== 1 || centered.length !== 1 || scales.length + centered.length + roots.length !== parts.times.length) return null;
  const spreads = [...roots, ...divisors];
  const only = spreads[0];
  return spreads.length === 1 && only ? { scale: scales[0]!, ...only } : null;
}

/** The layer-norm formula `def` (a module's forward) computes; null when it computes anything else. */
function normFormula(def: Node, isLibrary: (name: string) => boolean): NormFormula | null {
  const input = tensorParameter(def, true);
  const self = def.childForFieldName('parameters')?.namedChildren[0]?.text;
  const statements = formulaStatements(def);
  if (!input || !self || !statements) return null;
  const ctx: Context = { self, input, isLibrary };
  let env: Env = new Map();
  for (const [name, value] of statements.assigns) env = new Map([...env, [name, { node: value, env }]]);
  const sum = operands(resolve(statements.result, env), '+');
  if (!sum) return null;
  for (const [a, b] of [sum, [sum[1], sum[0]] as const]) {
    const shift = selfAttribute(b, ctx);
    const normalized = shift ? normalizedOf(a, ctx) : null;
    if (shift && normalized && normalized.scale !== shift) return { shift, ...normalized };
  }
  return null;
}

/** `self.name = nn.Parameter(torch.<factory>(...))` in `init`, the one assignment of that attribute. */
function parameterFilledWith(init: Node, self: string, name: string, factory: 'ones' | 'zeros'): boolean {
  const assigned: Node[] = [];
  const visit = (n: Node) => {
    if (n.type === 'assignment') {
      const left = n.childForFieldName('left');
      if (left?.type === 'attribute' && left.childForFieldName('object')?.text === self && left.childForFieldName('attribute')?.text === name) assigned.push(n);
    }
    for (const child of n.namedChildren) visit(child);
  };
  visit(init);
  const value = assigned.length === 1 ? assigned[0]!.childForFieldName('right') : null;
  if (value?.type !== 'call' || !/(^|\.)Parameter$/.test(value.childForFieldName('function')?.text ?? '')) return false;
  const data = callArguments(value).positional[0];
  return data?.type === 'call' && new RegExp(`\\.${factory}$`).test(data.childForFieldName('function')?.text ?? '');
}

/**
 * The layer normalization a module instance is (see the file's header), made at `call`, which built it
 * (the class, when it is read on its own); null when its forward is not such a formula or its scale,
 * shift and eps are not what the formula needs.
 */
export function handWrittenLayerNorm(inst: Instance, forward: Node, init: Node, call: Node, isLibrary: (name: string) => boolean): Slot | null {
  const formula = normFormula(forward, isLibrary);
  const self = init.childForFieldName('parameters')?.namedChildren[0]?.text;
  if (!formula || !self || !parameterFilledWith(init, self, formula.scale, 'ones') || !parameterFilledWith(init, self, formula.shift, 'zeros')) return null;
  const eps = 'value' in formula.epsilon ? formula.epsilon.value : constOf(inst.attrs.get(formula.epsilon.attribute));
  if (typeof eps !== 'number' || eps < 0) return null;
  const args = call.childForFieldName('arguments');
  const layer = makeLayerAt(
    { kind: 'layernorm', norm: { axis: -1, epsilon: eps, momentum: null, affine: true, groups: null, spread: formula.spread } },
    { className: inst.cls.name, range: rangeOf(call), argsRange: args ? rangeOf(args) : null },
  );
  layer.kernelInit = torchDefaultNormWeight();
  layer.biasInit = torchDefaultNormBias();
  return {
    layer,
    qualified: null,
    params: [
      { name: formula.scale, role: 'kernel', dim: 1 },
      { name: formula.shift, role: 'bias', dim: 1 },
    ],
    unsupported: null,
  };
}
