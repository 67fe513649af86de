/**
 * Raw weight tensors: `torch.randn(512, 64, requires_grad=True)`, `nn.Parameter(torch.randn(...))`,
 * `torch.empty(...).requires_grad_()` used with `@`, `torch.matmul` / `mm` or `F.linear` are linear
 * layers, so the initialization rules judge them like nn.Linear. A 2-D factory tensor is a weight
 * candidate (its distribution known, scaled by constants); it becomes a weight when it requires grad.
 */
import type { Node } from '../../python/syntax-tree';
import type { InitializerIR, LayerIR } from '../../../shared/ir';
import { rangeOf } from '../../python/syntax';
import { makeLayer } from '../builders';
import type { Args } from './args';
import { constOf, type PositionTable, type Value } from './values';

export type WeightDraft = NonNullable<Extract<Value, { t: 'tensor' }>['weight']>;

/** The distribution of a tensor factory, per element; null for factories that are no weight (arange, data). */
function factoryInit(fn: string, args: Args, spelling: string, n: Node): InitializerIR | null {
  const base = { options: {}, spelling, range: rangeOf(n), explicit: true, framework: 'torch' as const };
  switch (fn) {
    case 'randn':
      return { ...base, name: 'random_normal', params: { mean: 0, std: 1 } };
    case 'rand':
      return { ...base, name: 'random_uniform', params: { a: 0, b: 1 } };
    case 'zeros':
      return { ...base, name: 'zeros', params: {} };
    case 'ones':
      return { ...base, name: 'ones', params: {} };
    case 'full': {
      const v = constOf(args.positional[1] ?? args.keywords.get('fill_value'));
      return typeof v === 'number' ? { ...base, name: 'constant', params: { value: v } } : null;
    }
    case 'empty':
    case 'Tensor':
    case 'FloatTensor':
      // Uninitialized memory: an initializer call is expected to follow.
      return { ...base, name: 'unknown', params: {} };
    default:
      return null;
  }
}

/** A 2-D tensor factory with constant sizes (`torch.randn(512, 64)`, `torch.randn((512, 64))`): a weight candidate. */
export function weightCandidate(qualified: string, args: Args, spelling: string, n: Node): WeightDraft | null {
  const fn = qualified.slice(qualified.lastIndexOf('.') + 1);
  const first = constOf(args.positional[0] ?? args.keywords.get('size'));
  // `torch.full(size, value)` takes its size as one tuple; the others also as separate ints.
  const dims = Array.isArray(first) ? first : fn === 'full' ? [] : args.positional.map(constOf);
  if (dims.length !== 2 || !dims.every((d): d is number => typeof d === 'number' && d > 0)) return null;
  const init = factoryInit(fn, args, spelling, n);
  return init ? { shape: [dims[0]!, dims[1]!], init, node: n } : null;
}

/** A (1, T, D) tensor factory with constant sizes (`torch.zeros(1, block_size, d_model)`): a positional table once it is a Parameter. */
export function tableCandidate(qualified: string, args: Args, spelling: string, n: Node): PositionTable | null {
  const fn = qualified.slice(qualified.lastIndexOf('.') + 1);
  const first = constOf(args.positional[0] ?? args.keywords.get('size'));
  const dims = Array.isArray(first) ? first : args.positional.map(constOf);
  if (dims.length !== 3 || dims[0] !== 1 || !dims.every((d): d is number => typeof d === 'number' && d > 0)) return null;
  const init = factoryInit(fn, args, spelling, n);
  return init ? { positions: dims[1]!, features: dims[2]!, init, node: n, className: 'nn.Parameter', slot: null } : null;
}

/** A candidate scaled by a constant (`torch.randn(512, 64) * 0.01`, `/ math.sqrt(512)`). */
export function scaled(draft: WeightDraft, op: string, k: number): WeightDraft | null {
  if ((op !== '*' && op !== '/') || k === 0 || !Number.isFinite(k)) return null;
  const f = op === '*' ? k : 1 / k;
  const p = draft.init.params;
  const params: Record<string, number> =
    draft.init.name === 'random_normal' ? { mean: (p.mean ?? 0) * f, std: (p.std ?? 1) * Math.abs(f) } : draft.init.name === 'random_uniform' ? { a: (p.a ?? 0) * f, b: (p.b ?? 1) * f } : draft.init.name === 'constant' ? { value: (p.value ?? 0) * f } : draft.init.name === 'ones' ? { value: f } : { ...p };
  const name = draft.init.name === 'ones' ? 'constant' : draft.init.name;
  return { ...draft, init: { ...draft.init, name, params } };
}

/** Layers that are raw weight tensors (not nn modules). */
const RAW_LAYERS = new WeakSet<LayerIR>();

/** Whether a layer is a raw weight tensor's product. */
export const isRawWeight = (layer: LayerIR): boolean => RAW_LAYERS.has(layer);

/** The weight a candidate becomes once it requires grad: a bias-free linear layer (oriented when first used). */
export function promote(draft: WeightDraft): Value {
  const [rows, cols] = draft.shape;
  const layer = makeLayer({ kind: 'dense', className: draft.init.spelling, range: rangeOf(draft.node), inFeatures: rows, units: cols, fanIn: rows, fanOut: cols, kernelInit: draft.init, biasInit: null, useBias: false });
  RAW_LAYERS.add(layer);
  return { t: 'param', slot: { layer, qualified: 'torch.nn.Linear', params: [{ name: 'weight', role: 'kernel', dim: 2 }], unsupported: null }, spec: { name: 'weight', role: 'kernel', dim: 2 }, raw: { shape: draft.shape, transposed: false } };
}

/** A raw weight used as `x @ W` (rows are inputs) or `F.linear(x, W)` / `x @ W.T` (rows are outputs): sizes follow. */
export function orient(weight: Extract<Value, { t: 'param' }>, outputsFirst: boolean): void {
  if (!weight.raw) return;
  const [rows, cols] = weight.raw.shape;
  const layer = weight.slot.layer;
  const [inF, out] = outputsFirst ? [cols, rows] : [rows, cols];
  layer.inFeatures = inF;
  layer.units = out;
  layer.fanIn = inF;
  layer.fanOut = out;
}

/** The raw weight among the operands of a product, when the other operand is the data. */
export function rawOperand(value: Value): Extract<Value, { t: 'param' }> | null {
  return value.t === 'param' && value.raw ? value : null;
}

