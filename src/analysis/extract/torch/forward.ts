/**
 * Tracing `forward`: calling module values on tensors records one trace node per layer call; functional
 * ops (activations, pooling, views, merges) become small layers; what is not understood becomes an
 * 'unknown' layer that keeps the data flow intact without assuming anything about it.
 */
import type { Node } from 'web-tree-sitter';
import type { ConstValue } from '../../python/constants';
import type { Args } from './args';
import { unknownLayer } from './catalog';
import { activationParams, combined, functionalSlot, isFlattenView, producers } from './flow';
import type { Frame, Interpreter } from './interpreter';
import type { TensorOp } from './tensorops';
import { MODEL_INPUT } from './trace';
import { rangeOf } from '../../python/syntax';
import { isDropout, isPool } from '../../../shared/layers';
import { intList, paddingValue, shapeList } from '../normalize';
import { UNKNOWN, constOf, type Slot, type Value } from './values';

/** Tensor products: combining two computed tensors through one of them yields attention-like scores. */
const PRODUCTS = new Set(['matmul', 'bmm', 'mm', 'einsum', 'baddbmm']);

/** Calls a module value on tensors: one node per leaf layer call, in order. */
export function apply(interp: Interpreter, module: Value, args: Args, n: Node, f: Frame): Value {
  const trace = f.trace!;
  const input = args.positional[0] ?? args.keywords.get('input') ?? args.keywords.get('x') ?? UNKNOWN;
  switch (module.t) {
    case 'layer': {
      const from = module.slot.layer.kind === 'unknown' ? producers({ t: 'list', items: [...args.positional, ...args.keywords.values()] }) : producers(input);
      const index = trace.add(module.slot, from.length ? from : input.t === 'tensor' ? [] : [MODEL_INPUT]);
      return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
    }
    case 'seq': {
      let cur = input;
      for (const item of module.items) cur = apply(interp, item, { positional: [cur], keywords: new Map(), partial: false }, n, f);
      return cur;
    }
    case 'instance': {
      const forward = interp.findMethod(module.inst.cls, 'forward');
      if (forward) {
        return interp.callFunction(forward.def, interp.withSelf(args, module.inst), forward.owner, f, () => ({ t: 'tensor', from: [] }));
      }
      if (module.inst.seqItems) return apply(interp, { t: 'seq', items: module.inst.seqItems, names: module.inst.seqNames, origin: null }, args, n, f);
      return barrier(interp, n, `module ${module.inst.cls.name} without forward()`, args, f);
    }
    case 'opaque': {
      const out = barrier(interp, module.node.type === 'call' ? module.node : n, module.what, args, f);
      const made = f.trace!.nodes[f.trace!.nodes.length - 1];
      if (module.name && made && out.t === 'tensor' && out.from[0] === f.trace!.nodes.length - 1) made.slot.layer.name = module.name;
      return out;
    }
    default:
      return barrier(interp, n, `call ${interp.s.field(n, 'function')?.text ?? 'call'}(...)`, args, f);
  }
}

/** An 'unknown' layer fed by every tensor argument: the flow continues, but nothing is assumed about it. */
export function barrier(interp: Interpreter, n: Node, what: string, args: Args, f: Frame): Value {
  const spelling = interp.s.type(n) === 'call' ? (interp.s.field(n, 'function')?.text ?? n.text) : n.text.slice(0, 40);
  const slot = unknownLayer(spelling, n, what);
  const from = producers({ t: 'list', items: [...args.positional, ...args.keywords.values()] });
  const index = f.trace!.add(slot, from);
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

export function tensorOp(op: TensorOp, spelling: string, n: Node, args: Args, self: Value | null, f: Frame): Value {
  // For tensor methods the tensor is the receiver; positions of the other arguments shift by one.
  const all = self ? [self, ...args.positional] : args.positional;
  const input = all[0] ?? args.keywords.get('input') ?? UNKNOWN;
  const arg = (index: number, name: string): ConstValue | undefined => constOf(args.keywords.get(name) ?? all[index]);
  switch (op.op) {
    case 'meta':
      return UNKNOWN;
    case 'fresh':
      return { t: 'tensor', from: [] };
    case 'pointwise': {
      // A known elementwise function: an opaque step in the flow (never an assumed adjacency), not a construct to report.
      const slot = functionalSlot('unknown', spelling, n);
      return node(slot, input, f);
    }
    case 'pass': {
      const { from, computed, scores } = combined([...all, ...args.keywords.values()]);
      return { t: 'tensor', from, scores: scores || (computed >= 2 && PRODUCTS.has(spelling.slice(spelling.lastIndexOf('.') + 1))) };
    }
    case 'merge': {
      const parts = op.kind === 'concat' ? (all[0]?.t === 'list' ? all[0].items : all) : all;
      return mergeTensors(op.kind, parts, n, f, spelling);
    }
    case 'activation': {
      // softmax(q @ k^T): attention weights, not an activation of the network.
      if (input.t === 'tensor' && input.scores && (op.name === 'softmax' || op.name === 'log_softmax' || op.name === 'sigmoid')) return input;
      const slot = functionalSlot('activation', spelling, n);
      slot.layer.activation = { name: op.name, spelling, range: rangeOf(n), source: 'functional', params: activationParams(op.name, arg) };
      return node(slot, input, f);
    }
    case 'layer': {
      let kind = op.kind;
      if (kind === 'reshape' && isFlattenView(all)) kind = 'flatten';
      if (kind === 'global-pool') {
        const size = arg(1, 'output_size');
        const global = size === 1 || (Array.isArray(size) && size.every((x) => x === 1));
        if (!global) kind = op.fn.includes('max') ? 'maxpool' : 'avgpool';
      }
      const slot = functionalSlot(kind, spelling, n);
      const layer = slot.layer;
      if (isDropout(layer)) {
        const p = args.keywords.has('p') || all.length > 1 ? arg(1, 'p') : 0.5;
        layer.rate = typeof p === 'number' ? p : null;
      } else if (isPool(layer)) {
        const dims = Number(/(\d)d$/.exec(op.fn)?.[1] ?? 2);
        if (op.fn.includes('adaptive')) {
          layer.pool.adaptiveOutput = shapeList(arg(1, 'output_size'));
        } else {
          // F.max_pool2d(input, kernel_size, stride=None, padding=0, ...): the stride defaults to the window.
          const k = intList(arg(1, 'kernel_size'));
          layer.kernelSize = k && k.length === 1 ? Array.from({ length: dims }, () => k[0]!) : k;
          const stride = arg(2, 'stride');
          layer.pool.strides = stride === undefined || stride === null ? 'window' : intList(stride);
          const padding = arg(3, 'padding');
          layer.pool.padding = padding === undefined ? [0] : paddingValue(padding);
        }
      } else if (layer.kind === 'global-pool') {
        layer.reduce = op.fn.includes('max') ? 'max' : 'avg';
      }
      return node(slot, input, f);
    }
  }
}

export function node(slot: Slot, input: Value, f: Frame): Value {
  const from = producers(input);
  const index = f.trace!.add(slot, input.t === 'tensor' ? from : [MODEL_INPUT]);
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

/**
 * Tensors combined by an operator or torch.cat: a merge layer when two different layer outputs meet
 * (a residual or a concatenation); scaling by a constant or a parameter passes the tensor through.
 */
export function mergeTensors(kind: 'add' | 'concat' | 'multiply' | null, parts: Value[], n: Node, f: Frame, spelling: string): Value {
  const { from, distinct, computed, scores } = combined(parts);
  if (!f.trace) return { t: 'tensor', from: [] };
  // `q @ k.transpose(...)`: a product of two computed tensors yields attention scores.
  if (distinct < 2 || kind === null) return { t: 'tensor', from, scores: scores || (spelling === '@' && computed >= 2) };
  const slot = functionalSlot(kind, spelling, n);
  const index = f.trace.add(slot, from);
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}
