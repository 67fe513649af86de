/**
 * Tracing `forward`: calling module values on tensors records one trace node per layer call; functional
 * ops (activations, pooling, views, merges) become small layers; what is not understood becomes an
 * 'unknown' layer that keeps the data flow intact without assuming anything about it.
 */
import type { Node } from '../../python/syntax-tree';
import type { ConstValue } from '../../python/constants';
import type { LayerKind, TensorOpConfig } from '../../../shared/ir';
import type { Args } from './args';
import { unknownLayer } from './catalog';
import { activationParams, carriedMarks, combined, functionalSlot, isFlattenView, producers, readMarks, type ReadMarks } from './flow';
import type { Frame, Interpreter } from './interpreter';
import { flattenOp, type TensorOp } from './tensorops';
import { MODEL_INPUT, type Trace } from './trace';
import { rangeOf } from '../../python/syntax';
import { LIMITS } from '../../python/limits';
import { isDropout, isPool, isRecurrent, isRecurrentKind } from '../../../shared/layers';
import { integerValue, intList, paddingValue, shapeList } from '../normalize';
import { UNKNOWN, constOf, type Slot, type Value } from './values';
import { makeLayer } from '../builders';
import { applyTransformer } from './transformer';
import { viewDims, type SizeFactor } from './views';
import { movesBatch, recurrentFeatures } from '../../../shared/shapes';

/** Tensor products: combining two computed tensors through one of them yields attention-like scores. */
const PRODUCTS = new Set(['matmul', 'bmm', 'mm', 'einsum', 'baddbmm']);

/**
 * The features per step of a tensor that holds every step of a recurrent layer: its output, directly or
 * through dropout, activations and layers that compute step by step (a Linear decoding each step, a
 * LayerNorm); null when the tensor is no such thing (features null when unknown).
 */
function stepFeatures(input: Value, f: Frame): { features: number | null } | null {
  let from = input.t === 'tensor' && input.from.length === 1 ? input.from[0]! : -1;
  let features: number | null | undefined;
  while (from >= 0) {
    const layer = f.trace?.nodes[from]?.slot.layer;
    if (!layer) return null;
    if (isRecurrent(layer)) return { features: features === undefined ? recurrentFeatures(layer) : features };
    // A Linear or LayerNorm on the steps computes step by step: its output is still one row per step.
    if (layer.kind === 'dense' || layer.kind === 'layernorm') features ??= layer.kind === 'dense' ? layer.units : null;
    else if (!isDropout(layer) && layer.kind !== 'activation') return null;
    from = f.trace?.nodes[from]?.inputs.length === 1 ? f.trace.nodes[from]!.inputs[0]! : -1;
  }
  return null;
}

/**
 * `x.view(-1, k)` on every step of a recurrent layer (`decoded.view(-1, ntoken)`, `out.view(-1, hidden)`)
 * folds time into the batch, so what follows runs per step; `k` other than the features per step
 * (`out.view(-1, steps * hidden)`) flattens each example.
 */
function foldsSteps(all: Value[], input: Value, f: Frame): boolean {
  const dims = all.length === 2 && all[1]?.t === 'list' ? all[1].items : all.slice(1);
  if (constOf(dims[0]) !== -1) return false;
  const steps = stepFeatures(input, f);
  if (!steps) return false;
  const k = constOf(dims[1]);
  return typeof k !== 'number' || steps.features === null || k === steps.features;
}

/** The name an expression starts from: `self` in `self.grid.to(x.device)[0]`. */
function rootName(n: Node): string | null {
  let cur: Node | null = n;
  while (cur && cur.type !== 'identifier') cur = cur.type === 'attribute' ? cur.childForFieldName('object') : cur.type === 'call' ? cur.childForFieldName('function') : cur.type === 'subscript' ? cur.childForFieldName('value') : null;
  return cur?.text ?? null;
}

/** Layers whose reading of a constant tensor (not the data) the trace keeps as a constant input. */
const READS_CONSTANTS: ReadonlySet<LayerKind> = new Set<LayerKind>(['dense', 'conv1d', 'conv2d', 'conv3d']);

/** torch's recurrent cells: one time step per call, the state passed in and returned. */
const RECURRENT_CELL = /(^|\.)(LSTMCell|GRUCell|RNNCell)$/;

/**
 * An RNN cell stepped through time (`h = self.cell(x[:, t], h)` in a loop): the node of the same cell
 * whose output is the state this call reads, else null. The IR reads a cell's first application as
 * its recurrent layer run over the whole sequence, so later steps are that application, not further
 * layers fed by it (which would leave each step's weights without the state that reaches the loss).
 */
function earlierStepOf(slot: Slot, args: Args, trace: Trace): number | null {
  if (!isRecurrentKind(slot.layer.kind) || !RECURRENT_CELL.test(slot.qualified ?? slot.layer.className)) return null;
  return producers(stateArgument(args)).find((k) => k >= 0 && trace.nodes[k]?.slot === slot) ?? null;
}

/** The state a torch recurrent layer or cell is called with: `rnn(x, h0)`, `lstm(x, (h0, c0))`, `cell(x, hx=h)`. */
function stateArgument(args: Args): Value | undefined {
  return args.positional[1] ?? args.keywords.get('hx');
}

/** Calls a module value on tensors: one node per leaf layer call, in order. */
export function apply(interp: Interpreter, module: Value, args: Args, n: Node, f: Frame): Value {
  // Modules are applied inside a traced forward; outside one a call's result is simply not known.
  const trace = f.trace;
  if (!trace) return UNKNOWN;
  const input = args.positional[0] ?? args.keywords.get('input') ?? args.keywords.get('x') ?? UNKNOWN;
  switch (module.t) {
    case 'layer': {
      if (module.slot.layer.kind === 'attention') return attend(module.slot, args, f);
      const step = earlierStepOf(module.slot, args, trace);
      if (step !== null) return { t: 'tensor', from: [step] };
      // nn.Embedding(max_len, d)(torch.arange(T)): a learned positional table, a layer where it is added.
      if (module.slot.layer.kind === 'embedding' && input.t === 'tensor' && input.positions) {
        const layer = module.slot.layer;
        return { t: 'tensor', from: [], table: { positions: layer.inFeatures, features: layer.units, init: layer.kernelInit, node: n, className: layer.className, slot: module.slot } };
      }
      const from = module.slot.layer.kind === 'unknown' ? producers({ t: 'list', items: [...args.positional, ...args.keywords.values()] }) : producers(input);
      // A Linear or conv applied to a tensor the module made itself (a grid in __init__, held in `self.grid`
      // even when the numpy code that fills it is not followed): that tensor is an input of its own.
      const argument = n.childForFieldName('arguments')?.namedChildren[0];
      const made = input.t === 'tensor' ? !input.weight && !input.table && !input.positions : input.t === 'unknown' && argument !== undefined && rootName(argument) === 'self';
      if (from.length === 0 && made && READS_CONSTANTS.has(module.slot.layer.kind)) {
        from.push(trace.addInput({ name: argument && argument.text.length <= 40 ? argument.text : 'constant', range: rangeOf(argument ?? n), noise: false, constant: true }));
      }
      // A recurrent layer started from states a layer computed (`self.decoder(y, hidden)` with the encoder's
      // final hidden, `self.cell(x, h)` with h refined by a Linear) reads them after its input, as Keras'
      // initial_state=: the gradient reaching h_0 trains what computed them. A state an unknown step made
      // tells nothing and stays out.
      const states = isRecurrentKind(module.slot.layer.kind) && from.length > 0 ? producers(stateArgument(args)).filter((k) => k >= 0 && !from.includes(k) && trace.nodes[k]?.slot.layer.kind !== 'unknown') : [];
      const index = trace.add(module.slot, from.length ? [...from, ...states] : input.t === 'tensor' ? [] : [MODEL_INPUT], { reads: readMarks([input]) });
      if (index === null) return UNKNOWN;
      // nn.LSTM / GRU / RNN return (every step, final states); a cell returns its state only.
      const steps = isRecurrentKind(module.slot.layer.kind) && !RECURRENT_CELL.test(module.slot.qualified ?? module.slot.layer.className);
      return { t: 'tensor', from: [index], ...(steps ? { stepsOf: index, recurrent: { part: 'result', of: index, lstm: module.slot.layer.kind === 'lstm' } } : {}) };
    }
    case 'dict':
      if (module.transformer) return applyTransformer(interp, module, module.transformer, args, n, f);
      return barrier(interp, n, `call ${interp.s.field(n, 'function')?.text ?? 'call'}(...)`, args, f);
    case 'seq': {
      let cur = input;
      for (const item of module.items) cur = apply(interp, item, { positional: [cur], keywords: new Map(), partial: false }, n, f);
      return cur;
    }
    case 'instance': {
      const forward = interp.findMethod(module.inst.cls, 'forward');
      // A module whose forward is an activation written as a formula (GPT-2's NewGELU): that activation.
      const formula = forward ? interp.formulaActivation(forward.def, true) : null;
      if (formula) return tensorOp({ op: 'activation', name: formula }, `${module.inst.cls.name}()`, n, args, null, f);
      if (forward) {
        // A required argument the caller does not pass (the model's own forward, called by unseen code): another model input.
        const required = (name: string): Value => ({ t: 'tensor', from: [trace.addInput({ name, range: rangeOf(parameterNamed(forward.def, name) ?? forward.def), noise: false })] });
        return interp.callFunction(forward.def, interp.withSelf(args, module.inst), forward.owner, f, required);
      }
      if (module.inst.seqItems) return apply(interp, { t: 'seq', items: module.inst.seqItems, names: module.inst.seqNames, origin: null }, args, n, f);
      return barrier(interp, n, `module ${module.inst.cls.name} without forward()`, args, f);
    }
    case 'opaque': {
      // Shown where the module is written: its call, or the name it was given as (a Sequential's item `act`).
      const out = barrier(interp, module.node.type === 'call' || module.node.type === 'identifier' ? module.node : n, module.what, args, f);
      const made = trace.nodes[trace.nodes.length - 1];
      if (module.name && made && out.t === 'tensor' && out.from[0] === trace.nodes.length - 1) made.slot.layer.name = module.name;
      return out;
    }
    default:
      return barrier(interp, n, `call ${interp.s.field(n, 'function')?.text ?? 'call'}(...)`, args, f);
  }
}

/** The parameter `name` of a function definition. */
function parameterNamed(def: Node, name: string): Node | null {
  for (const param of def.childForFieldName('parameters')?.namedChildren ?? []) {
    const named = param.type === 'identifier' ? param : (param.childForFieldName('name') ?? param.namedChild(0));
    if (named?.text === name) return named;
  }
  return null;
}

/**
 * `attn(query, key, value, ...)`: one node fed by the three tensors in that order (the trace keeps
 * distinct producers: self-attention has one input, attention over a memory two). Its output is the
 * tuple (output, weights); unpacking and `[0]` read the output, which is what the model uses.
 */
function attend(slot: Slot, args: Args, f: Frame): Value {
  const query = args.positional[0] ?? args.keywords.get('query') ?? UNKNOWN;
  const key = args.positional[1] ?? args.keywords.get('key') ?? query;
  const value = args.positional[2] ?? args.keywords.get('value') ?? key;
  const first = (v: Value) => (v.t === 'tensor' && v.from.length > 0 ? v.from[0]! : MODEL_INPUT);
  const mask = args.keywords.get('attn_mask');
  // A mask tensor made in the code (torch.triu(...), generate_square_subsequent_mask) is read as causal; an unknown or None one is no mask.
  const causal = mask?.t === 'tensor' || constOf(args.keywords.get('is_causal')) === true;
  const layer = slot.layer;
  if (causal && layer.kind === 'attention' && !layer.attention.causal) layer.attention.causal = true;
  const index = f.trace?.add(slot, [first(query), first(key), first(value)], { reads: readMarks([query, key, value]) }) ?? null;
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

/** An 'unknown' layer fed by every tensor argument: the flow continues, but nothing is assumed about it. */
export function barrier(interp: Interpreter, n: Node, what: string, args: Args, f: Frame): Value {
  const spelling = interp.s.type(n) === 'call' ? (interp.s.field(n, 'function')?.text ?? n.text) : n.text.slice(0, 40);
  return unreadStep(spelling, n, what, [...args.positional, ...args.keywords.values()], f);
}

/** An 'unknown' layer `spelling` fed by the tensors among `values`, `what` saying why it is not read. */
function unreadStep(spelling: string, n: Node, what: string, values: Value[], f: Frame): Value {
  const slot = unknownLayer(spelling, n, what);
  const { from, reads } = combined(values);
  const index = f.trace?.add(slot, from, { reads }) ?? null;
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
    case 'loss': {
      // On what forward computed: the loss the model trains on, when no criterion elsewhere says another.
      // A value no layer computes: what forward returns beside it is the model's output, and the views
      // made for the loss alone (`logits.view(-1, V)`) lead nowhere the model returns.
      const read = [...all, ...args.keywords.values()].flatMap((v) => (v.t === 'tensor' ? v.from.filter((k) => k >= 0) : []));
      if (!f.trace || read.length === 0) return UNKNOWN;
      f.trace.loss ??= op.qualified;
      for (const k of read) f.trace.lossReads.add(k);
      return { t: 'tensor', from: [] };
    }
    case 'fresh':
      return { t: 'tensor', from: [] };
    case 'noise': {
      if (!f.trace) return { t: 'tensor', from: [] };
      // torch.normal(mu, sigma) with mu a learned (1, N, D) table broadcast to the slots: the draw is N x D per example.
      const table = [...all, ...args.keywords.values()].find((v): v is Extract<Value, { t: 'tensor' }> => v.t === 'tensor' && v.table !== undefined)?.table;
      const shape = table ? [table.positions, table.features] : undefined;
      return { t: 'tensor', from: [f.trace.addInput({ name: spelling, range: rangeOf(n), noise: true, ...(shape ? { shape } : {}) })] };
    }
    case 'pointwise': {
      // A known elementwise function: an opaque step in the flow (never an assumed adjacency), not a construct to report.
      const slot = functionalSlot('unknown', spelling, n);
      return node(slot, input, f);
    }
    case 'tensor': {
      const recorded = tensorOperation(op.fn, spelling, n, all, args, f);
      if (recorded) return recorded;
      // Attention is no change of shape to pass through: what is not read stops the flow, saying what.
      if (op.fn === 'scaled_dot_product_attention') {
        const why = tensorOpOf(op.fn, all, args, n) ? 'on tensors after a change of shape the trace does not follow' : 'with an attn_mask or an argument that is not a constant';
        return unreadStep(spelling, n, `${spelling}(...) ${why}`, [...all, ...args.keywords.values()], f);
      }
      return tensorOp({ op: 'pass', reshapes: true }, spelling, n, args, self, f);
    }
    case 'pass': {
      const masked = causalMask(spelling, n, all, args, f);
      if (masked) return masked;
      // A view of position indices or of a positional table (`.unsqueeze(0)`, `.expand(...)`) stays one.
      if (input.t === 'tensor' && input.from.length === 0 && (input.positions || input.table)) {
        // `self.slots_mu.expand(b, n_slots, -1)`: a one-row table broadcast to n rows.
        const rows = spelling.endsWith('expand') ? arg(2, 'size') : undefined;
        if (input.table?.positions === 1 && typeof rows === 'number' && rows > 0) return { ...input, table: { ...input.table, positions: rows } };
        return input;
      }
      // `x.mean(dim=1)` over a sequence's steps (batch first), `x.mean((2, 3))` over an image: average pooling.
      if (spelling.endsWith('mean') && input.t === 'tensor' && input.from.length > 0 && isPoolingMean(arg(1, 'dim'), arg(2, 'keepdim'))) {
        const slot = functionalSlot('global-pool', spelling, n);
        if (slot.layer.kind === 'global-pool') slot.layer.keepdims = false;
        return node(slot, input, f);
      }
      const { from, computed, scores, reads } = combined([...all, ...args.keywords.values()]);
      const reshapedHere = op.reshapes ? { spelling, range: f.trace?.relocation ?? rangeOf(n) } : undefined;
      return { t: 'tensor', from, scores: scores || (computed >= 2 && PRODUCTS.has(spelling.slice(spelling.lastIndexOf('.') + 1))), ...carriedMarks(reads, reshapedHere) };
    }
    case 'merge': {
      if (op.kind !== 'concat') return mergeTensors(op.kind, all, n, f, spelling);
      const listed = all[0]?.t === 'list';
      const parts = listed && all[0]?.t === 'list' ? all[0].items : all;
      // torch.cat(tensors, dim=0): the batch axis unless written; hstack joins dim 1, vstack dim 0.
      const written = listed ? (arg(1, 'dim') ?? arg(1, 'axis')) : undefined;
      const axis = typeof written === 'number' ? written : spelling.endsWith('hstack') ? 1 : 0;
      return mergeTensors(op.kind, parts, n, f, spelling, axis);
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
      // `out.view(-1, hidden)` on a recurrent layer's steps folds time into the batch (the Linear after it
      // runs per step); on anything else (-1, k) is a flatten.
      if (kind === 'reshape' && isFlattenView(all) && !foldsSteps(all, input, f)) kind = 'flatten';
      // `x.flatten(2)` (a ViT's patches): the tensor operation, its shape computed; when it cannot be
      // recorded, or its axes are not constants, a change of shape the trace does not compute.
      if (op.fn === 'flatten' && flattenOf(all, args) !== null) {
        return tensorOperation(op.fn, spelling, n, all, args, f) ?? tensorOp({ op: 'pass', reshapes: true }, spelling, n, args, self, f);
      }
      if (kind === 'global-pool') {
        const size = arg(1, 'output_size');
        const global = size === 1 || (Array.isArray(size) && size.every((x) => x === 1));
        if (!global) kind = op.fn.includes('max') ? 'maxpool' : 'avgpool';
      }
      const slot = functionalSlot(kind, spelling, n);
      const layer = slot.layer;
      if (layer.kind === 'reshape') {
        layer.reshape = { op: 'view', dims: viewDims(n, all.slice(1), args.partial) };
      } else if (isDropout(layer)) {
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
        // F.adaptive_avg_pool2d(x, 1) keeps its input's rank: (N, C, 1, 1).
        layer.keepdims = true;
      }
      return node(slot, input, f);
    }
  }
}

/** A constant integer, or null. */
function axisOf(v: Value | undefined): number | null {
  return integerValue(v === undefined ? undefined : constOf(v));
}

/** The axes of `torch.flatten(x, start_dim=0, end_dim=-1)` / `x.flatten(...)` as the IR holds them (see flattenOp); undefined when one is not a constant. */
function flattenOf(all: Value[], args: Args): TensorOpConfig | null | undefined {
  const written = (index: number, name: string, fallback: number): number | null => {
    const v = all[index] ?? args.keywords.get(name);
    return v === undefined ? fallback : axisOf(v);
  };
  const [start, end] = [written(1, 'start_dim', 0), written(2, 'end_dim', -1)];
  return start === null || end === null ? undefined : flattenOp(start, end);
}

/** Integer constants given one by one (`x.permute(0, 2, 1)`) or as one tuple (`x.permute((0, 2, 1))`); null when one is not. */
function axesOf(values: Value[]): number[] | null {
  const only = values.length === 1 ? constOf(values[0]) : undefined;
  const items = Array.isArray(only) ? only : values.map(constOf);
  return items.length > 0 && items.every((c): c is number => typeof c === 'number' && Number.isInteger(c)) ? items : null;
}

/**
 * The operation of `fn` on these arguments (`all`: the receiver first for a method), when its axes are
 * constants; the operands it reads, in order. Null when the code does not say the axes.
 */
function tensorOpOf(fn: string, all: Value[], args: Args, n: Node): { config: TensorOpConfig | TensorOpConfig[]; operands: Value[] } | null {
  const name = fn.replace(/_$/, '');
  const input = all[0] ?? args.keywords.get('input');
  if (!input) return null;
  const kw = (key: string) => args.keywords.get(key);
  switch (name) {
    case 'transpose':
    case 'swapaxes':
    case 'swapdims': {
      const a = axisOf(all[1] ?? kw('dim0') ?? kw('axis0'));
      const b = axisOf(all[2] ?? kw('dim1') ?? kw('axis1'));
      return a === null || b === null ? null : { config: { op: 'transpose', axes: [a, b] }, operands: [input] };
    }
    case 't':
      return { config: { op: 'transpose', axes: [0, 1] }, operands: [input] };
    case 'permute': {
      const dims = kw('dims');
      const order = axesOf(dims ? [dims] : all.slice(1));
      return order ? { config: { op: 'permute', order }, operands: [input] } : null;
    }
    case 'unsqueeze': {
      const axis = axisOf(all[1] ?? kw('dim'));
      return axis === null ? null : { config: { op: 'unsqueeze', axis }, operands: [input] };
    }
    case 'squeeze': {
      const written = all[1] ?? kw('dim');
      const axis = axisOf(written);
      return written !== undefined && axis === null ? null : { config: { op: 'squeeze', axis }, operands: [input] };
    }
    case 'matmul':
    case 'bmm':
    case 'mm': {
      const other = all[1] ?? kw('other') ?? kw('mat2');
      return other ? { config: { op: 'matmul', equation: null }, operands: [input, other] } : null;
    }
    case 'split':
    case 'chunk': {
      const written = all[1] ?? kw(name === 'chunk' ? 'chunks' : 'split_size_or_sections') ?? kw('split_size');
      const axis = axisOf(all[2] ?? kw('dim')) ?? 0;
      const c = written === undefined ? undefined : constOf(written);
      type Parts = Extract<TensorOpConfig, { op: 'split' }>['by'];
      const sizes = Array.isArray(c) && c.every((d): d is number => typeof d === 'number') ? c : null;
      const by: Parts | null = name === 'chunk' ? (typeof c === 'number' ? { chunks: c } : null) : typeof c === 'number' ? { size: c } : sizes ? { sizes } : null;
      // How many parts: chunk's count, the sizes listed, or (parts of a size) the names the result is unpacked into.
      const count = by === null ? null : 'chunks' in by ? by.chunks : 'sizes' in by ? by.sizes.length : unpackedInto(n);
      if (!by || count === null || count < 1 || count > LIMITS.loopIterations) return null;
      return { config: Array.from({ length: count }, (_, index): TensorOpConfig => ({ op: 'split', axis, index, by })), operands: [input] };
    }
    case 'scaled_dot_product_attention': {
      // (query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None): a mask other than None is not read.
      const [key, value] = [all[1] ?? kw('key'), all[2] ?? kw('value')];
      // Each argument as written: its default when absent, undefined when not a constant.
      const written = (index: number, name: string, fallback: ConstValue): ConstValue | undefined => {
        const v = all[index] ?? kw(name);
        return v === undefined ? fallback : constOf(v);
      };
      const [mask, dropout, causal, scale] = [written(3, 'attn_mask', null), written(4, 'dropout_p', 0), written(5, 'is_causal', false), written(6, 'scale', null)];
      if (!key || !value || mask !== null || typeof dropout !== 'number' || typeof causal !== 'boolean' || (scale !== null && typeof scale !== 'number')) return null;
      return { config: { op: 'dot-product-attention', causal, scale, dropout }, operands: [input, key, value] };
    }
    case 'flatten': {
      const config = flattenOf(all, args);
      return config ? { config, operands: [input] } : null;
    }
    case 'einsum': {
      const equation = constOf(input);
      const operands = all.length === 2 && all[1]?.t === 'list' ? all[1].items : all.slice(1);
      return typeof equation === 'string' && operands.length === 2 ? { config: { op: 'matmul', equation }, operands } : null;
    }
    default:
      return null;
  }
}

/**
 * A torch tensor operation recorded as a 'tensor-op' layer fed by its operands (a product of a tensor
 * with itself is fed twice): when its axes are constants, every operand is one computed tensor (a
 * model input or a layer's output), and it leaves the batch axis first. Null otherwise: the caller
 * passes the data through as before, marking the change of shape it does not compute.
 */
export function tensorOperation(fn: string, spelling: string, n: Node, all: Value[], args: Args, f: Frame): Value | null {
  const trace = f.trace;
  const found = tensorOpOf(fn.slice(fn.lastIndexOf('.') + 1), all, args, n);
  const configs = found ? [found.config].flat() : [];
  // Outside forward only raw weights' products are followed, and a product with a raw weight is a layer of its own.
  if (!found || !trace || trace.nodes.some((node) => node.raw) || configs.some(movesBatch)) return null;
  // After a change of shape the trace does not compute (a time-major `x.transpose(1, 0)`), the operands' shapes are not known: it stays uncomputed too.
  if (found.operands.some((v) => v.t === 'tensor' && v.from.some((k) => k >= 0 && trace.nodes[k]?.reshapedBy))) return null;
  const parts: Value[] = [];
  for (const config of configs) {
    const part = tensorOperationOf(config, spelling, n, found.operands, f);
    if (!part) return null;
    parts.push(part);
  }
  // split and chunk return their parts, one value each.
  return Array.isArray(found.config) ? { t: 'list', items: parts } : (parts[0] ?? UNKNOWN);
}

/** One 'tensor-op' layer of `config` fed by `producers` (a product of a tensor with itself is fed twice). */
function record(trace: Trace, config: TensorOpConfig, spelling: string, n: Node, producers: number[], reads: ReadMarks): Value {
  const slot = functionalSlot('tensor-op', spelling, n);
  if (slot.layer.kind === 'tensor-op') slot.layer.op = config;
  const index = trace.add(slot, producers, { repeats: true, reads });
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

/** A one-operand tensor operation recorded as tensorOperation records one; null when its operand is not one computed tensor. */
function tensorOperationOf(config: TensorOpConfig, spelling: string, n: Node, operands: Value[], f: Frame): Value | null {
  const trace = f.trace;
  const reads = readMarks(operands);
  const producers = operands.map((v) => (v.t === 'tensor' && v.from.length === 1 && !v.table && !v.positions && !v.weight ? v.from[0]! : null));
  if (!trace || reads.reshapedBy || producers.some((k) => k === null)) return null;
  return record(trace, config, spelling, n, producers as number[], reads);
}

/**
 * `att.masked_fill(mask, float('-inf'))` of a computed tensor where the mask is a torch.tril buffer
 * compared `== 0` (minGPT, nanoGPT): a 'causal-mask' tensor operation. Null for any other masking,
 * which passes the data through unmasked.
 */
function causalMask(spelling: string, n: Node, all: Value[], args: Args, f: Frame): Value | null {
  if (!/(^|\.)masked_fill_?$/.test(spelling) || !f.trace) return null;
  const [input, mask = args.keywords.get('mask'), fill = args.keywords.get('value')] = all;
  const value = fill === undefined ? undefined : constOf(fill);
  if (input?.t !== 'tensor' || mask?.t !== 'tensor' || mask.causal !== 'above' || typeof value !== 'number' || value > -1e4) return null;
  return tensorOperationOf({ op: 'causal-mask' }, spelling, n, [input], f);
}

/** How many names a call's result is unpacked into (`q, k, v = x.split(n, dim=2)`); null when it is not unpacked. */
function unpackedInto(call: Node): number | null {
  const parent = call.parent;
  const left = parent?.type === 'assignment' && parent.childForFieldName('right')?.id === call.id ? parent.childForFieldName('left') : null;
  if (!left || (left.type !== 'pattern_list' && left.type !== 'tuple_pattern' && left.type !== 'list_pattern')) return null;
  const targets = left.namedChildren.filter((c) => c.type !== 'comment');
  return targets.some((t) => t.type === 'list_splat_pattern') ? null : targets.length;
}

/** The reduced dimensions of a mean that pools: the steps of a (batch, time, features) tensor or the sides of an image. */
function isPoolingMean(dim: ConstValue | undefined, keepdim: ConstValue | undefined): boolean {
  if (keepdim === true) return false;
  const dims = Array.isArray(dim) ? [...dim].sort() : [dim];
  const text = JSON.stringify(dims);
  return text === '[1]' || text === '[2,3]' || text === '[-2,-1]';
}

export function node(slot: Slot, input: Value, f: Frame): Value {
  const from = producers(input);
  const index = f.trace?.add(slot, input.t === 'tensor' ? from : [MODEL_INPUT], { reads: readMarks([input]) }) ?? null;
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

/**
 * `x + table` with a learned positional table (an nn.Parameter of shape (1, T, D), an Embedding of
 * positions): a 'position-embedding' layer fed by x, named after the table's attribute.
 */
export function addPositions(parts: Value[], n: Node, f: Frame): Value | null {
  const table = parts.find((p): p is Extract<Value, { t: 'tensor' }> => p.t === 'tensor' && p.table !== undefined)?.table;
  const input = parts.find((p) => p.t === 'tensor' && p.from.length > 0);
  if (!table || !input || !f.trace || parts.length !== 2) return null;
  const source = table.slot?.layer;
  const layer = makeLayer({
    kind: 'position-embedding',
    positions: table.positions,
    className: table.className,
    name: source?.name ?? tableName(parts, n),
    range: source?.range ?? rangeOf(table.node),
    units: table.features,
    kernelInit: table.init,
  });
  const index = f.trace.add({ layer, qualified: null, params: [{ name: 'weight', role: 'kernel', dim: 2 }], unsupported: null }, producers(input));
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

/** `self.pos_emb[:, :t]` -> "pos_emb". */
function tableName(parts: Value[], n: Node): string {
  const operand = n.childForFieldName('right')?.text ?? n.text;
  const named = [n.childForFieldName('left')?.text ?? '', operand].find((text) => !/\(/.test(text) && /\[|^self\./.test(text)) ?? operand;
  return named.replace(/^self\./, '').replace(/\[.*$/, '') || `positions_${parts.length}`;
}

/**
 * Tensors combined by an operator or torch.cat: a merge layer when two different layer outputs meet
 * (a residual or a concatenation); scaling by a constant or a parameter passes the tensor through.
 */
export function mergeTensors(kind: 'add' | 'concat' | 'multiply' | null, parts: Value[], n: Node, f: Frame, spelling: string, axis: number | null = null): Value {
  const { from, distinct, computed, scores, reads } = combined(parts);
  if (!f.trace) return { t: 'tensor', from: [] };
  // torch.cat((x, x), 1): one tensor value joined with itself has twice its channels; each operand counts
  // (slices of one tensor, `h[-2]` and `h[-1]`, are other values: they are not repeats).
  const whole = kind === 'concat' && (axis === 1 || axis === -1) ? bothDirections(parts, f.trace) : null;
  if (whole) return whole;
  const repeated = kind === 'concat' && parts.length > 1 ? repeatedSource(parts) : null;
  if (repeated !== null) {
    const slot = functionalSlot('concat', spelling, n);
    if (slot.layer.kind === 'concat') slot.layer.merge.axis = axis;
    const index = f.trace.add(slot, parts.map(() => repeated), { repeats: true, reads });
    return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
  }
  // `q @ k.transpose(...)`: a product of two computed tensors yields attention scores.
  if (distinct < 2 || kind === null) return { t: 'tensor', from, scores: scores || (spelling === '@' && computed >= 2), ...carriedMarks(reads, undefined) };
  const slot = functionalSlot(kind, spelling, n);
  if (slot.layer.kind === 'concat') slot.layer.merge.axis = axis;
  // `a - b`: the first operand minus the second (not their sum: |out1 - out2| of a siamese net folds at 0).
  if (slot.layer.kind === 'add' && SUBTRACTION.test(spelling) && isDifference(parts)) slot.layer.merge.op = 'subtract';
  const index = f.trace.add(slot, from, { reads });
  return index === null ? UNKNOWN : { t: 'tensor', from: [index] };
}

/**
 * The producer of a tensor value every operand is (the same value, not a copy or a slice of it, or picks
 * of one recurrent module's steps or states, each read as its output); else null.
 */
function repeatedSource(parts: Value[]): number | null {
  const [first] = parts;
  if (first?.t !== 'tensor' || first.from.length !== 1 || first.table || first.positions) return null;
  const source = first.from[0]!;
  const pickOfSource = (p: Value) => p.t === 'tensor' && p.picked === true && p.from.length === 1 && p.from[0] === source;
  return parts.every((p) => p === first) || parts.every(pickOfSource) ? source : null;
}

/**
 * `torch.cat((h_n[-2], h_n[-1]), dim=1)`, the two halves just taken of a bidirectional module's output,
 * in order: that output itself (the halves are taken back off the trace). Null for anything else.
 */
function bothDirections(parts: Value[], trace: Trace): Value | null {
  const [first, second] = parts.map((p) => (p.t === 'tensor' && p.from.length === 1 ? p.from[0]! : -1));
  const last = trace.nodes.length - 1;
  if (parts.length !== 2 || first !== last - 1 || second !== last) return null;
  const halves = [trace.nodes[first], trace.nodes[second]].map((node) => {
    const layer = node?.slot.layer;
    const op = layer?.kind === 'tensor-op' ? layer.op : null;
    return op?.op === 'split' && op.axis === -1 && 'chunks' in op.by && op.by.chunks === 2 && node?.inputs.length === 1 ? { index: op.index, input: node.inputs[0]! } : null;
  });
  const [a, b] = halves;
  if (!a || !b || a.index !== 0 || b.index !== 1 || a.input !== b.input || a.input < 0) return null;
  trace.nodes.length = first;
  return { t: 'tensor', from: [a.input] };
}

/** One direction's final state of a bidirectional torch recurrent module (`h_n[-1]`): that half of its output's features. */
export function finalStateDirection(output: Value, direction: 0 | 1, n: Node, f: Frame): Value | null {
  const spelling = n.text.length <= 40 ? n.text : 'final state';
  return tensorOperationOf({ op: 'split', axis: -1, index: direction, by: { chunks: 2 } }, spelling, n, [output], f);
}

/** How a difference is spelled: `a - b`, `torch.sub(a, b)`, `torch.subtract(a, b)`, `a.sub(b)`. */
const SUBTRACTION = /^-$|(^|\.)(sub|sub_|subtract)$/;

/** Two operands, each one computed tensor of its own: the trace keeps their order, so a difference can be built. */
function isDifference(parts: Value[]): boolean {
  const [a, b] = parts;
  return parts.length === 2 && a?.t === 'tensor' && b?.t === 'tensor' && a.from.length === 1 && b.from.length === 1 && a.from[0] !== b.from[0];
}

/**
 * `x * c`, `c * x`, `x / c` with a constant number c and a tensor x a layer computed (not attention
 * scores, which the softmax reads, nor the model input: `x / 255` scales data the probe feeds standardized
 * already): the factor and the tensor it scales, or null. A factor of 1 scales nothing.
 */
export function scaling(op: '*' | '/', a: Value, b: Value): { tensor: Extract<Value, { t: 'tensor' }>; factor: number } | null {
  const pick = (tensor: Value, other: Value, invert: boolean) => {
    const c = constOf(other);
    if (tensor.t !== 'tensor' || tensor.from.length === 0 || tensor.from.some((k) => k < 0) || tensor.scores || typeof c !== 'number' || c === 0 || !Number.isFinite(c)) return null;
    const factor = invert ? 1 / c : c;
    return factor === 1 ? null : { tensor, factor };
  };
  return op === '/' ? pick(a, b, true) : (pick(a, b, false) ?? pick(b, a, false));
}

/**
 * `att * (1.0 / math.sqrt(k.size(-1)))`, `att / math.sqrt(k.size(-1))`: a computed tensor times a power of
 * a size of another computed tensor, a 'size-scale' tensor operation fed by both (the second for its
 * shape). Null when `factor` is not such a size or the tensors are not computed ones.
 */
export function scaleBySize(tensor: Value, factor: SizeFactor, sized: Value, n: Node, f: Frame): Value | null {
  if (tensor.t !== 'tensor' || tensor.scores) return null;
  const spelling = n.text.length <= 40 ? n.text : 'scale';
  return tensorOperationOf({ op: 'size-scale', axis: factor.axis, power: factor.power, factor: factor.factor }, spelling, n, [tensor, sized], f);
}

/** A constant factor on a computed tensor: a weightless rescaling layer, so that what follows sees the scaled values. */
export function scaleTensor(tensor: Extract<Value, { t: 'tensor' }>, factor: number, n: Node, f: Frame): Value {
  const slot = functionalSlot('rescaling', n.text.length <= 40 ? n.text : 'scale', n);
  const layer = slot.layer;
  if (layer.kind === 'rescaling') {
    layer.scale = factor;
    layer.offset = 0;
  }
  return node(slot, tensor, f);
}
