/**
 * The values the PyTorch interpreter works with: constructed modules (leaf layers, containers, user
 * module instances), their parameters, constants, and tensors while `forward` is traced.
 */
import type { Node } from '../../python/syntax-tree';
import type { InitializerIR, LayerIR, ShapePassMark } from '../../../shared/ir';
import type { ConstValue } from '../../python/constants';

export type ParamRole = 'kernel' | 'bias' | 'recurrent';

/** One parameter of a leaf module: its torch name ("weight", "weight_hh_l0"), what it is, its rank. */
export interface ParamSpec {
  name: string;
  role: ParamRole;
  dim: number;
}

/**
 * One constructed leaf module. Every forward call of it becomes an IR layer copied from `layer`,
 * so initializer calls seen later (nn.init, model.apply) write into this template.
 */
export interface Slot {
  layer: LayerIR;
  /** Resolved class, e.g. "torch.nn.Linear"; null for things that are not torch classes. */
  qualified: string | null;
  params: ParamSpec[];
  /** Why this module could not be modelled (kind 'unknown'); null when it could. */
  unsupported: string | null;
}

/** A class of the file that is a torch module (directly or through another class of the file). */
export interface ClassInfo {
  name: string;
  node: Node;
  /** Same-file base classes that are torch modules, in MRO order (first base first). */
  bases: ClassInfo[];
  /** Base torch class the chain ends in, e.g. "torch.nn.Module", "torch.nn.Sequential". */
  torchBase: string;
  methods: Map<string, Node>;
}

/** A constructed user module: its registered attributes (torch keeps registration order). */
export interface Instance {
  cls: ClassInfo;
  attrs: Map<string, Value>;
  /** Children of an nn.Sequential subclass (`super().__init__(*layers)`, `self.add_module`). */
  seqItems: Value[] | null;
  seqNames: string[];
}

/** The names and module of the method that made a lambda, read when the lambda runs (Python binds late). */
export interface Closure {
  readonly locals: ReadonlyMap<string, Value>;
  readonly self: Instance | null;
}

export type Value =
  | { t: 'layer'; slot: Slot }
  /** nn.Sequential: callable, runs its items in order. */
  | { t: 'seq'; items: Value[]; names: string[]; origin: number | null }
  /** nn.ModuleList, Python list or tuple. */
  | { t: 'list'; items: Value[] }
  /** nn.ModuleDict or a dict; `transformer`: a torch transformer layer or stack, its children as entries (see transformer.ts). */
  | { t: 'dict'; entries: Map<string, Value>; transformer?: TransformerSpec }
  | { t: 'instance'; inst: Instance }
  /** A parameter of a module; `raw`: a weight tensor made directly (torch.randn(..., requires_grad=True)), a linear layer where it multiplies. */
  | { t: 'param'; slot: Slot; spec: ParamSpec; raw?: { shape: [number, number]; transposed: boolean } }
  | { t: 'const'; v: ConstValue }
  /** A torch module class of the file (callable: instantiates it). */
  | { t: 'class'; cls: ClassInfo }
  /** An imported name (class or function), resolved: "torch.nn.Linear", "torch.nn.functional.relu". */
  | { t: 'ctor'; qualified: string; spelling: string }
  /**
   * A function or bound method of the file. `closure`: what a lambda made inside a method sees when it runs
   * (`m = self.mlp; self.mlpf = lambda x: m.c_proj(m.c_fc(x))`): that method's names and module.
   */
  | { t: 'fn'; def: Node; self: Instance | null; closure?: Closure }
  /** Something callable we cannot model (e.g. a torchvision model): calling it in forward is unsupported. */
  | { t: 'opaque'; node: Node; what: string; name?: string }
  /** A loss module (nn.CrossEntropyLoss()): calling it in forward computes a loss, not a layer output. */
  | { t: 'loss' }
  /**
   * A tensor while tracing forward: the trace nodes that produced it (empty: a constant or fresh tensor).
   * `scores` marks a product of two different tensors (q @ k^T): a softmax over it weighs attention,
   * it is not a layer's activation.
   */
  | {
      t: 'tensor';
      from: number[];
      scores?: boolean;
      weight?: { shape: [number, number]; init: InitializerIR; node: Node };
      /** Position indices (torch.arange and views of it): an Embedding reading them is a positional table. */
      positions?: boolean;
      /** A learned positional table (nn.Parameter(torch.zeros(1, T, D)), an Embedding of positions): added to a tensor, a 'position-embedding' layer. */
      table?: PositionTable;
      /** The last operation since its producers that changed its shape uncomputed (see LayerIR.shapePassedThrough). */
      reshapedBy?: ShapePassMark;
      /**
       * The trace node of a torch recurrent module whose every step this is (`out` of `out, h = self.lstm(x)`),
       * until a subscript or a change of shape takes part of it: a layer reading it reads all steps.
       */
      stepsOf?: number;
      /**
       * What of a torch recurrent module's result this is: 'result' for the call's value itself (the tuple
       * (every step, final states)), 'states' for an LSTM's (h, c), 'state' for one final state
       * (num_layers * directions, batch, hidden) of the module at trace node `of` (`lstm`: its states are (h, c)).
       */
      recurrent?: { part: 'result' | 'states' | 'state'; of: number; lstm: boolean };
      /**
       * A time step or a layer's final state picked by an index from a recurrent module's result, read as
       * its output: torch.cat of such picks (`x[:, -1]` and `x[:, 0]`) joins one copy per pick.
       */
      picked?: boolean;
      /**
       * A causal mask: 'tril' for torch.tril of ones (a registered buffer, its views and slices), 'above'
       * for `tril == 0` (true above the diagonal), what `att.masked_fill(mask, float('-inf'))` hides.
       */
      causal?: 'tril' | 'above';
    }
  | { t: 'unknown' };

/**
 * nn.TransformerEncoderLayer / TransformerDecoderLayer (children self_attn, [multihead_attn,] linear1,
 * dropout, linear2, norm1..3, dropout1..3, activation) and nn.TransformerEncoder / TransformerDecoder
 * stacks (children layers (a list of layer copies) and norm).
 */
export type TransformerSpec = { part: 'layer'; role: 'encoder' | 'decoder'; normFirst: boolean } | { part: 'stack' };

/** A learned table of `positions` rows of `features`, drawn by `init`, written at `node`. */
export interface PositionTable {
  positions: number | null;
  features: number | null;
  init: InitializerIR | null;
  node: Node;
  className: string;
  /** Set for a table that is a module (its attribute name names the layer). */
  slot: Slot | null;
}

export const UNKNOWN: Value = { t: 'unknown' };

export const constant = (v: ConstValue): Value => ({ t: 'const', v });

/** The constant carried by a value, or undefined. */
export function constOf(value: Value | undefined): ConstValue | undefined {
  if (!value) return undefined;
  if (value.t === 'const') return value.v;
  if (value.t === 'list') {
    const items = value.items.map(constOf);
    return items.every((v) => v !== undefined) ? (items) : undefined;
  }
  return undefined;
}

/** Whether a value is (or contains) modules: such values are kept as locals rather than constants. */
export function isModuleValue(value: Value): boolean {
  return value.t === 'layer' || value.t === 'seq' || value.t === 'instance' || value.t === 'opaque' || (value.t === 'list' && value.items.some(isModuleValue)) || (value.t === 'dict' && [...value.entries.values()].some(isModuleValue));
}

type Leaf = Extract<Value, { t: 'layer' } | { t: 'opaque' }>;
/** A module `modules()` yields: a leaf, or a container (a user class's instance, a Sequential). */
export type ModuleValue = Leaf | Extract<Value, { t: 'seq' } | { t: 'instance' }>;

/**
 * The modules of a module value in registration order, pre-order, with their paths: the leaves
 * (layers and opaque modules), and with `containers` the instances and Sequentials above them too,
 * each before what it holds (as torch's `modules()` walks `_modules`). Lists and dicts are walked
 * through, not yielded: a plain list is no module, and ModuleList is not told apart from one.
 * `within`: the containers being walked, so objects that hold each other (`model.trainer = self` in a
 * trainer that holds the model) are not walked around forever.
 */
function modulesBelow(value: Value, path: string, containers: boolean, out: { module: ModuleValue; path: string }[], within = new Set<object>()): void {
  const join = (name: string) => (path ? `${path}.${name}` : name);
  const container = value.t === 'instance' ? value.inst : value;
  if (within.has(container)) return;
  within.add(container);
  const below = (item: Value, name: string) => { modulesBelow(item, join(name), containers, out, within); };
  switch (value.t) {
    case 'layer':
    case 'opaque':
      out.push({ module: value, path });
      break;
    case 'seq':
      if (containers) out.push({ module: value, path });
      value.items.forEach((item, i) => { below(item, value.names[i] ?? String(i)); });
      break;
    case 'list':
      value.items.forEach((item, i) => { below(item, String(i)); });
      break;
    case 'dict':
      value.entries.forEach((v, k) => { below(v, k); });
      break;
    case 'instance':
      if (containers) out.push({ module: value, path });
      value.inst.seqItems?.forEach((item, i) => { below(item, value.inst.seqNames[i] ?? String(i)); });
      value.inst.attrs.forEach((v, k) => { below(v, k); });
      break;
    default:
      break;
  }
  within.delete(container);
}

/** Leaf modules (layers and opaque modules) of a module value in registration order, with their paths. */
function leaves(value: Value, path: string): { leaf: Leaf; path: string }[] {
  const out: { module: ModuleValue; path: string }[] = [];
  modulesBelow(value, path, false, out);
  return out.flatMap(({ module, path: p }) => (module.t === 'layer' || module.t === 'opaque' ? [{ leaf: module, path: p }] : []));
}

/** Every module of a module value, itself first, containers before what they hold, with their paths (what `named_modules()` visits). */
export function modulesOf(value: Value): { module: ModuleValue; path: string }[] {
  const out: { module: ModuleValue; path: string }[] = [];
  modulesBelow(value, '', true, out);
  return out;
}

/** Leaf slots of a module value in registration order (what `module.modules()` visits), with their paths. */
export function leafSlots(value: Value, path = ''): { slot: Slot; path: string }[] {
  const out = leaves(value, path);
  return out.flatMap(({ leaf, path: p }) => (leaf.t === 'layer' ? [{ slot: leaf.slot, path: p }] : []));
}

/** Names every leaf after its attribute path ("layer1.0.conv1"), as torch's named_modules() does. */
export function nameLeaves(value: Value): void {
  const out = leaves(value, '');
  for (const { leaf, path } of out) {
    if (leaf.t === 'layer') leaf.slot.layer.name = path;
    else leaf.name = path;
  }
}

/**
 * One value for what several paths of an unknown condition produced: the value itself when they agree,
 * tensors merged by their producers, the first module value when modules differ (its layers carry the
 * conditional mark), unknown otherwise.
 */
export function mergeValues(values: Value[]): Value {
  const first = values[0];
  if (!first) return UNKNOWN;
  if (values.every((v) => v === first)) return first;
  const consts = values.map(constOf);
  if (consts.every((c) => c !== undefined && JSON.stringify(c) === JSON.stringify(consts[0]))) return first;
  if (values.every((v) => v.t === 'tensor')) {
    const tensors = values;
    return { t: 'tensor', from: [...new Set(tensors.flatMap((t) => t.from))], scores: tensors.some((t) => t.scores === true) || undefined };
  }
  return values.find((v) => isModuleValue(v)) ?? values.find((v) => v.t === 'tensor') ?? UNKNOWN;
}
