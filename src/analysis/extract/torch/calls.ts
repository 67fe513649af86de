/**
 * Calls the interpreter resolves by what they call: torch library functions and classes (layers,
 * containers, nn.init, wrappers), methods of containers and modules (append, add_module, apply,
 * modules(), named_parameters()), strings, tensors and parameters (in-place initializers).
 */
import { callArgs } from '../../python/syntax-cache';
import type { Node } from '../../python/syntax-tree';
import type { InitializerIR, LayerKind } from '../../../shared/ir';
import { argReader, type ArgList, type Args } from './args';
import { buildLayer, pretrainedEmbedding, torchLayerName, unknownLayer } from './catalog';
import { braceFormat, compare, stringMethod } from '../../python/constops';
import { functionalSlot, hasTensor } from './flow';
import { apply, barrier, tensorOp } from './forward';
import { calculateGain, nnInitCall, tensorMethodInit } from './init';
import { decoratedWith, type Frame, type Interpreter } from './interpreter';
import { childrenOf, cloneValue, namedModules, namedParameters, registerModule } from './introspect';
import { functionOp, methodOp } from './tensorops';
import { isTransformerClass, transformerModule, unreadStack } from './transformer';
import { promote, rawOperand, tableCandidate, weightCandidate } from './raw-weights';
import { UNKNOWN, constOf, constant, leafSlots, type Slot, type Value } from './values';

const RETURNS_SELF = new Set(['to', 'cuda', 'cpu', 'float', 'double', 'half', 'train', 'eval', 'requires_grad_', 'type', 'share_memory', 'bfloat16']);

const TENSOR_FACTORIES = /^torch\.(zeros|ones|randn|rand|empty|full|tensor|arange|linspace|eye|zeros_like|ones_like|randn_like|rand_like|randint|from_numpy|as_tensor|Tensor|FloatTensor|LongTensor)$/;

const MODULE_WRAPPERS = new Set([
  'torch.nn.DataParallel',
  'torch.nn.parallel.DataParallel',
  'torch.nn.parallel.DistributedDataParallel',
  'torch.nn.utils.weight_norm',
  'torch.nn.utils.spectral_norm',
  'torch.nn.utils.parametrizations.weight_norm',
  'torch.nn.utils.parametrizations.spectral_norm',
  'torch.compile',
  'torch.jit.script',
]);

/** torch.nn.utils.rnn: packing and padding of variable-length sequences (pad_packed_sequence returns (data, lengths)). */
const RNN_PACKING = /^torch\.nn\.utils\.rnn\.(pack_padded_sequence|pad_packed_sequence|pack_sequence)$/;

const PARAMETER_CLASSES = new Set(['torch.nn.Parameter', 'torch.nn.parameter.Parameter']);

/** Math functions whose arguments may be module sizes (`1 / math.sqrt(m.in_features)`). */
const MATH = new Map<string, (...xs: number[]) => number>([
  ['math.sqrt', Math.sqrt],
  ['numpy.sqrt', Math.sqrt],
  ['math.log', Math.log],
  ['numpy.log', Math.log],
  ['math.exp', Math.exp],
  ['math.floor', Math.floor],
  ['math.ceil', Math.ceil],
  ['math.pow', Math.pow],
  ['numpy.prod', (...xs) => xs.reduce((a, b) => a * b, 1)],
]);

/** einops layers: pure rearrangements (Rearrange) and reductions (Reduce). */
const EINOPS_LAYERS = new Map<string, LayerKind>([
  ['einops.layers.torch.Rearrange', 'reshape'],
  ['einops.layers.torch.Reduce', 'global-pool'],
]);

/** Whether the call is the data of an nn.Parameter(...) call. */
function inParameter(n: Node): boolean {
  const call = n.parent?.parent;
  return call?.type === 'call' && /(^|\.)Parameter$/.test(call.childForFieldName('function')?.text ?? '');
}

export function libraryCall(interp: Interpreter, qualified: string, spelling: string, n: Node, syntax: ArgList, f: Frame): Value {
  const args = interp.evalArgs(syntax, f);
  if (qualified === 'torch.nn.Sequential') {
    const seq = sequentialOf(interp, args, n);
    if (!interp.ctx.sequentials.has(n.id)) interp.ctx.sequentials.set(n.id, { call: n, value: seq });
    return seq;
  }
  if (qualified === 'torch.nn.ModuleList') {
    const items = args.positional[0] ? interp.iterate(args.positional[0]) : [];
    return items ? { t: 'list', items: items.map((v, i) => moduleOrOpaque(interp, v, n, i)) } : { t: 'opaque', node: n, what: `${spelling}(...) with unknown contents` };
  }
  if (qualified === 'torch.nn.ModuleDict' || qualified === 'collections.OrderedDict') {
    const a0 = args.positional[0];
    if (!a0) return { t: 'dict', entries: new Map(args.keywords) };
    if (a0.t === 'dict') return { t: 'dict', entries: new Map(a0.entries) };
    const pairs = interp.iterate(a0);
    const entries = new Map<string, Value>();
    for (const pair of pairs ?? []) {
      const kv = pair.t === 'list' ? pair.items : null;
      const key = kv ? constOf(kv[0]) : undefined;
      if (!kv || typeof key !== 'string') return { t: 'opaque', node: n, what: `${spelling}(...) with unknown keys` };
      entries.set(key, kv[1] ?? UNKNOWN);
    }
    return pairs ? { t: 'dict', entries } : { t: 'opaque', node: n, what: `${spelling}(...) with unknown contents` };
  }
  if (qualified === 'copy.deepcopy') return cloneValue(args.positional[0] ?? UNKNOWN, f.unroll);
  // Wrappers that return (or run) the module they are given.
  if (MODULE_WRAPPERS.has(qualified)) return args.positional[0] ?? args.keywords.get('module') ?? UNKNOWN;
  const einops = EINOPS_LAYERS.get(qualified);
  if (einops) {
    const slot = functionalSlot(einops, spelling, n);
    slot.layer.unrolled = f.unroll;
    return { t: 'layer', slot };
  }
  if (f.trace && qualified.startsWith('einops.') && hasTensor(args)) return tensorOp({ op: 'pass', reshapes: true }, spelling, n, args, null, f);
  if (qualified === 'torch.utils.checkpoint.checkpoint' && f.trace) {
    // Activation checkpointing runs its function on the remaining arguments.
    const fn = args.positional[0] ?? UNKNOWN;
    const rest: Args = { positional: args.positional.slice(1), keywords: new Map(), partial: false };
    if (fn.t === 'fn') return interp.callFunctionValue(fn, rest, f);
    return apply(interp, fn, rest, n, f);
  }
  if (qualified === 'torch.nn.parallel.data_parallel' && f.trace) {
    const module = args.positional[0] ?? args.keywords.get('module') ?? UNKNOWN;
    return apply(interp, module, { positional: args.positional.slice(1, 2), keywords: new Map(), partial: false }, n, f);
  }
  if (qualified === 'torch.nn.init.calculate_gain' || qualified === 'torch.nn.init.gain') {
    const g = calculateGain(constOf(args.positional[0] ?? args.keywords.get('nonlinearity')), constOf(args.positional[1] ?? args.keywords.get('param')));
    return g === undefined ? UNKNOWN : constant(g);
  }
  if (qualified.startsWith('torch.nn.init.')) {
    const init = nnInitCall(n, qualified, (node) => constOf(interp.eval(node, f)));
    if (init) applyInit(init.init, interp.eval(init.target, f));
    return constant(null);
  }
  if (PARAMETER_CLASSES.has(qualified)) {
    const data = args.positional[0] ?? args.keywords.get('data');
    if (data?.t === 'param' && data.raw) return data;
    if (data?.t === 'tensor' && data.table) return data;
    return data?.t === 'tensor' && data.weight ? promote(data.weight) : { t: 'tensor', from: [] };
  }
  if (qualified === 'torch.autograd.Variable' || qualified === 'torch.autograd.variable.Variable') {
    const data = args.positional[0];
    if (data?.t === 'tensor' && data.weight && constOf(args.keywords.get('requires_grad')) === true) return promote(data.weight);
  }
  const packing = RNN_PACKING.exec(qualified);
  if (packing && f.trace) {
    // Packing padded sequences only tells the RNN their lengths; the probe's sequences are all full length.
    const data = args.positional[0] ?? args.keywords.get('sequence') ?? args.keywords.get('input') ?? UNKNOWN;
    return packing[1] === 'pad_packed_sequence' ? { t: 'list', items: [data, { t: 'tensor', from: [] }] } : data;
  }
  if (f.trace) {
    // In forward, random draws are noise inputs, and wrapping one (torch.Tensor(np.random.normal(...))) keeps it one.
    const op = functionOp(qualified);
    if (op?.op === 'noise') return tensorOp(op, spelling, n, args, null, f);
    const data = args.positional[0];
    if (TENSOR_FACTORIES.test(qualified) && data?.t === 'tensor' && data.from.length > 0 && data.from.every((k) => f.trace?.isNoise(k))) return data;
  }
  if (TENSOR_FACTORIES.test(qualified)) {
    const weight = weightCandidate(qualified, args, spelling, n);
    if (!weight) {
      if (qualified === 'torch.arange') return { t: 'tensor', from: [], positions: true };
      // A (1, T, D) factory is a positional table only once it is learned (a Parameter).
      const table = tableCandidate(qualified, args, spelling, n);
      return table && (constOf(args.keywords.get('requires_grad')) === true || inParameter(n)) ? { t: 'tensor', from: [], table } : { t: 'tensor', from: [] };
    }
    return constOf(args.keywords.get('requires_grad')) === true ? promote(weight) : { t: 'tensor', from: [], weight };
  }
  // x @ W spelled as a call: torch.matmul / torch.mm (rows of W are inputs), F.linear (rows are outputs).
  if (qualified === 'torch.matmul' || qualified === 'torch.mm' || qualified === 'torch.nn.functional.linear') {
    const w = rawOperand(args.positional[1] ?? args.keywords.get('weight') ?? UNKNOWN);
    const x = args.positional[0] ?? args.keywords.get('input') ?? UNKNOWN;
    if (w?.raw) return interp.rawLinear(w, x, qualified.endsWith('.linear') !== w.raw.transposed, n, f);
  }
  const math = MATH.get(qualified);
  if (math) {
    // np.prod(img_shape): one sequence of numbers.
    const single = args.positional.length === 1 ? constOf(args.positional[0]) : undefined;
    const nums = Array.isArray(single) && qualified === 'numpy.prod' ? single : args.positional.map(constOf);
    if (!nums.every((x): x is number => typeof x === 'number')) return UNKNOWN;
    const r = math(...nums);
    return Number.isFinite(r) ? constant(r) : UNKNOWN;
  }
  // torch.tril(torch.ones(T, T)): the lower triangle a causal mask keeps (registered as a buffer, sliced in forward).
  if (qualified === 'torch.tril' && ![...args.positional, ...args.keywords.values()].some((v) => v.t === 'tensor' && v.from.length > 0)) return { t: 'tensor', from: [], causal: 'tril' };
  // nn.Transformer.generate_square_subsequent_mask(T): a causal mask tensor.
  if (qualified.endsWith('.generate_square_subsequent_mask')) return { t: 'tensor', from: [] };
  if (/^torch\.nn\.(Embedding|EmbeddingBag)\.from_pretrained$/.test(qualified)) {
    const vectors = args.positional[0] ?? args.keywords.get('embeddings');
    const weights = vectors?.t === 'tensor' && vectors.weight ? vectors.weight : null;
    const made = pretrainedEmbedding({ name: 'Embedding', spelling, call: n, args: argReader(args) }, weights);
    made.qualified = 'torch.nn.Embedding';
    made.layer.unrolled = f.unroll;
    return { t: 'layer', slot: made };
  }
  const layerName = torchLayerName(qualified);
  if (layerName?.endsWith('Loss')) return { t: 'loss' };
  if (layerName && f.trace && hasTensor(args)) return barrier(interp, n, `${spelling}(...) called on a tensor`, args, f);
  if (layerName && isTransformerClass(layerName)) {
    const module = transformerModule(layerName, spelling, n, args);
    if (module) return module;
  }
  if (layerName && !['Module', 'Parameter', 'ParameterList', 'ParameterDict'].includes(layerName)) {
    const slot = buildLayer(qualified, { name: layerName, spelling, call: n, args: argReader(args) });
    const made = slot ?? unknownLayer(spelling, n, (isTransformerClass(layerName) ? unreadStack(layerName, spelling, args) : null) ?? `layer ${spelling}`);
    made.layer.unrolled = f.unroll;
    // Made on a branch of a condition whose value is unknown: possibly absent.
    if (interp.conditional > 0) made.layer.conditional = true;
    return { t: 'layer', slot: made };
  }
  if (f.trace) {
    const op = functionOp(qualified);
    if (op) return tensorOp(op, spelling, n, args, null, f);
    if (hasTensor(args)) return barrier(interp, n, `call ${spelling}(...)`, args, f);
    return UNKNOWN;
  }
  const raw = interp.rawTrace(...args.positional, ...args.keywords.values());
  if (raw) {
    const op = functionOp(qualified);
    if (op) return tensorOp(op, spelling, n, args, null, { ...f, trace: raw });
  }
  return { t: 'opaque', node: n, what: `${spelling}(...)` };
}

export function moduleOrOpaque(interp: Interpreter, v: Value, n: Node, i: number): Value {
  if (v.t === 'layer' || v.t === 'seq' || v.t === 'list' || v.t === 'dict' || v.t === 'instance' || v.t === 'opaque') return v;
  // The item as written (`activation_function`, a parameter nobody passed a known module to) names it, not its container.
  const written = callArgs(n);
  const item = written.splats.length === 0 ? written.positional[i] : undefined;
  const container = `item ${i} of ${interp.s.field(n, 'function')?.text ?? 'container'}(...)`;
  return { t: 'opaque', node: item ?? n, what: item ? `${item.text.slice(0, 40)} (${container})` : container };
}

/** nn.Sequential(a, b, ...) or nn.Sequential(OrderedDict([...])). */
export function sequentialOf(interp: Interpreter, args: Args, call: Node | null): Value {
  const origin = call ? call.id : null;
  const only = args.positional[0];
  if (args.positional.length === 1 && only?.t === 'dict') return { t: 'seq', items: [...only.entries.values()], names: [...only.entries.keys()], origin };
  const items = args.positional.map((v, i) => (call ? moduleOrOpaque(interp, v, call, i) : v));
  if (args.partial && call) items.push({ t: 'opaque', node: call, what: `layers from an unknown list in ${call.text.slice(0, 60)}` });
  return { t: 'seq', items, names: items.map((_, i) => String(i)), origin };
}

export function methodCall(interp: Interpreter, obj: Value, method: string, n: Node, syntax: ArgList, f: Frame): Value {
  if (obj.t === 'param') {
    if (method === 'requires_grad_' && !obj.raw) {
      setTrainable([obj.slot], interp.evalArgs(syntax, f));
      return obj;
    }
    const init = tensorMethodInit(n, (node) => constOf(interp.eval(node, f)));
    if (init) {
      applyInit(init.init, obj);
      return obj;
    }
    if (obj.raw && (method === 't' || method === 'T')) return { ...obj, raw: { ...obj.raw, transposed: !obj.raw.transposed } };
    if (obj.raw && (RETURNS_SELF.has(method) || method === 'requires_grad_')) return obj;
    if (method === 'dim' || method === 'ndimension') return constant(obj.spec.dim);
    return UNKNOWN;
  }
  if (obj.t === 'tensor') {
    const args = interp.evalArgs(syntax, f);
    if (obj.weight && method === 'requires_grad_' && constOf(args.positional[0] ?? args.keywords.get('requires_grad')) !== false) {
      const weight = promote(obj.weight);
      // In place: `w.requires_grad_()` on its own line makes the variable a weight.
      const receiver = interp.s.fieldOf(interp.s.field(n, 'function'), 'object');
      if (receiver && interp.s.type(receiver) === 'identifier') interp.assign(receiver, weight, f);
      return weight;
    }
    if (obj.weight && RETURNS_SELF.has(method)) return obj;
    if (!f.trace) {
      // Outside a forward, only the data flow through raw weights is traced (`torch.relu(x @ w1) @ w2`).
      const op = methodOp(method);
      const raw = interp.rawTrace(obj);
      if (op && raw) {
        const receiver = interp.s.fieldOf(interp.s.field(n, 'function'), 'object');
        return tensorOp(op, receiver && interp.s.type(receiver) === 'identifier' ? `${receiver.text}.${method}` : `Tensor.${method}`, n, args, obj, { ...f, trace: raw });
      }
      // A causal mask stays one through views, copies and moves (`torch.tril(...).view(1, 1, T, T)`).
      return { t: 'tensor', from: [], ...(obj.causal && (op?.op === 'layer' || op?.op === 'pass') ? { causal: obj.causal } : {}) };
    }
    const op = methodOp(method);
    const receiver = interp.s.fieldOf(interp.s.field(n, 'function'), 'object');
    const fn = receiver && interp.s.type(receiver) === 'identifier' ? `${receiver.text}.${method}` : `Tensor.${method}`;
    if (op) return tensorOp(op, fn, n, args, obj, f);
    return barrier(interp, n, `call ${fn}(...)`, { ...args, positional: [obj, ...args.positional] }, f);
  }
  if (obj.t === 'const' && typeof obj.v === 'string') {
    const args = interp.evalArgs(syntax, f);
    if (method === 'format') {
      const keywords = new Map([...args.keywords].map(([k, v]) => [k, constOf(v)] as const));
      const s = braceFormat(obj.v, args.positional.map(constOf), keywords);
      return s === undefined ? UNKNOWN : constant(s);
    }
    const r = stringMethod(obj.v, method, args.positional.map(constOf));
    return r === undefined ? UNKNOWN : constant(r);
  }
  if (obj.t === 'list' || obj.t === 'seq') {
    const args = interp.evalArgs(syntax, f);
    if (method === 'append' || method === 'add_module') {
      const item = method === 'append' ? args.positional[0] : args.positional[1];
      if (item) obj.items.push(item);
      if (obj.t === 'seq') obj.names.push(method === 'add_module' ? String(constOf(args.positional[0]) ?? obj.items.length - 1) : String(obj.items.length - 1));
      return constant(null);
    }
    if (method === 'extend') {
      const items = args.positional[0] ? interp.iterate(args.positional[0]) : undefined;
      if (items) {
        obj.items.push(...items);
        if (obj.t === 'seq') obj.names.push(...items.map((_, i) => String(obj.items.length - items.length + i)));
      } else obj.items.push({ t: 'opaque', node: n, what: `unknown items added by ${n.text.slice(0, 60)}` });
      return constant(null);
    }
    if (method === 'insert' && obj.t === 'list') {
      const i = constOf(args.positional[0]);
      if (typeof i === 'number' && args.positional[1]) obj.items.splice(i < 0 ? obj.items.length + i : i, 0, args.positional[1]);
      return constant(null);
    }
    if (method === 'pop' && obj.t === 'list') return obj.items.pop() ?? UNKNOWN;
    if (method === 'reverse' && obj.t === 'list') {
      obj.items.reverse();
      return constant(null);
    }
    if (method === 'copy') return { t: 'list', items: [...obj.items] };
  }
  if (obj.t === 'dict') {
    if (method === 'items') return { t: 'list', items: [...obj.entries].map(([k, v]): Value => ({ t: 'list', items: [constant(k), v] })) };
    if (method === 'values') return { t: 'list', items: [...obj.entries.values()] };
    if (method === 'keys') return { t: 'list', items: [...obj.entries.keys()].map(constant) };
    if (method === 'update') {
      const d = interp.evalArgs(syntax, f).positional[0];
      if (d?.t === 'dict') for (const [k, v] of d.entries) obj.entries.set(k, v);
      return constant(null);
    }
  }
  if (obj.t === 'class') {
    const found = interp.findMethod(obj.cls, method);
    if (found) return interp.callFunction(found.def, interp.evalArgs(syntax, f), found.owner, f);
    return UNKNOWN;
  }
  if (obj.t === 'layer' || obj.t === 'seq' || obj.t === 'instance' || obj.t === 'list' || obj.t === 'dict') return moduleMethod(interp, obj, method, n, syntax, f);
  if (obj.t === 'opaque' && f.trace && method === 'forward') return apply(interp, obj, interp.evalArgs(syntax, f), n, f);
  if (obj.t === 'const' && Array.isArray(obj.v) && method === 'index') {
    const c = constOf(interp.evalArgs(syntax, f).positional[0]);
    const i = obj.v.findIndex((x) => c !== undefined && compare('==', x, c));
    return i >= 0 ? constant(i) : UNKNOWN;
  }
  if (f.trace) {
    const args = interp.evalArgs(syntax, f);
    if (hasTensor(args)) return barrier(interp, n, `call ${interp.s.field(n, 'function')?.text ?? method}(...)`, args, f);
  }
  return UNKNOWN;
}

/** `module.apply(fn)`: `fn` runs on every layer below `module`. */
export function applyToLayers(interp: Interpreter, obj: Value, fn: Extract<Value, { t: 'fn' }>, f: Frame): void {
  for (const { slot } of leafSlots(obj)) {
    const layer: Value = { t: 'layer', slot };
    const owner = fn.self ? fn.self.cls : interp.ownerOf(fn.def);
    interp.callFunction(fn.def, { positional: fn.self ? [{ t: 'instance', inst: fn.self }, layer] : [layer], keywords: new Map(), partial: false }, owner, { ...f, trace: null });
  }
}

/** Methods of nn.Module values: registration, traversal, apply, and calls of user methods. */
export function moduleMethod(interp: Interpreter, obj: Value, method: string, n: Node, syntax: ArgList, f: Frame): Value {
  if (method === 'requires_grad_') {
    // `self.backbone.requires_grad_(False)`: every parameter below it stops training.
    setTrainable(leafSlots(obj).map(({ slot }) => slot), interp.evalArgs(syntax, f));
    return obj;
  }
  if (RETURNS_SELF.has(method)) return obj;
  const args = interp.evalArgs(syntax, f);
  switch (method) {
    case 'modules':
      return { t: 'list', items: namedModules(obj).map(([, v]) => v) };
    case 'named_modules':
      return { t: 'list', items: namedModules(obj).map(([k, v]): Value => ({ t: 'list', items: [constant(k), v] })) };
    case 'children':
      return { t: 'list', items: childrenOf(obj).map(([, v]) => v) };
    case 'named_children':
      return { t: 'list', items: childrenOf(obj).map(([k, v]): Value => ({ t: 'list', items: [constant(k), v] })) };
    case 'parameters':
      return { t: 'list', items: namedParameters(obj).map(([, v]) => v) };
    case 'named_parameters':
      return { t: 'list', items: namedParameters(obj).map(([k, v]): Value => ({ t: 'list', items: [constant(k), v] })) };
    case 'apply': {
      const fn = args.positional[0];
      if (fn?.t === 'fn') applyToLayers(interp, obj, fn, f);
      return obj;
    }
    case 'add_module':
    case 'register_module': {
      const name = constOf(args.positional[0]);
      const module = args.positional[1] ?? UNKNOWN;
      if (obj.t === 'instance' && (obj.inst.seqItems || typeof name === 'string')) registerModule(obj.inst, name, module);
      return constant(null);
    }
    case 'register_buffer':
    case 'register_parameter': {
      const name = constOf(args.positional[0]);
      // A buffer keeps being a causal mask (`register_buffer("bias", torch.tril(...).view(1, 1, T, T))`).
      const given = args.positional[1];
      if (obj.t === 'instance' && typeof name === 'string') obj.inst.attrs.set(name, { t: 'tensor', from: [], ...(given?.t === 'tensor' && given.causal ? { causal: given.causal } : {}) });
      return constant(null);
    }
    case 'forward':
      return f.trace ? apply(interp, obj, args, n, f) : UNKNOWN;
    default:
      break;
  }
  if (obj.t === 'instance') {
    const found = interp.findMethod(obj.inst.cls, method);
    if (found) return interp.callFunction(found.def, decoratedWith(found.def, 'staticmethod') ? args : interp.withSelf(args, obj.inst), found.owner, f);
  }
  if (f.trace && hasTensor(args)) return barrier(interp, n, `call ${interp.s.field(n, 'function')?.text ?? method}(...)`, args, f);
  return UNKNOWN;
}

export function applyInit(init: InitializerIR, target: Value): void {
  if (target.t !== 'param') return;
  const layer = target.slot.layer;
  if (target.spec.role === 'kernel') layer.kernelInit = init;
  else if (target.spec.role === 'bias') layer.biasInit = init;
  else layer.recurrentInit = init;
}

/** `requires_grad_(flag)` (True when not written) on parameters or modules: frozen when the flag is a constant False. */
function setTrainable(slots: Slot[], args: Args): void {
  const flag = constOf(args.positional[0] ?? args.keywords.get('requires_grad'));
  if (flag !== false && flag !== true && args.positional.length + args.keywords.size > 0) return;
  for (const slot of slots) slot.layer.frozen = flag === false;
}
