/**
 * What Python code can ask a constructed module: `isinstance(m, nn.Linear)`, `type(m)`,
 * `m.__class__.__name__`, `m.weight` / `m.bias`, `m.in_features`, `modules()` / `named_parameters()`,
 * and `copy.deepcopy(m)`.
 */
import { cloneLayer } from '../../../shared/layers';
import type { LayerIR } from '../../../shared/ir';
import type { ConstValue } from '../../python/constants';
import { constant, leafSlots, modulesOf, type ClassInfo, type Instance, type ParamSpec, type Slot, type Value } from './values';

const simpleName = (qualified: string): string => qualified.slice(qualified.lastIndexOf('.') + 1);

/** torch's abstract bases that user code tests against, by the layer kinds they cover. */
const ABSTRACT_BASES: ReadonlyMap<string, (slot: Slot) => boolean> = new Map([
  ['_ConvNd', (s) => /^(Lazy)?Conv(Transpose)?[123]d$/.test(simpleName(s.qualified ?? ''))],
  ['_ConvTransposeNd', (s) => /^(Lazy)?ConvTranspose[123]d$/.test(simpleName(s.qualified ?? ''))],
  ['_BatchNorm', (s) => /BatchNorm/.test(simpleName(s.qualified ?? ''))],
  ['_NormBase', (s) => /(BatchNorm|InstanceNorm)/.test(simpleName(s.qualified ?? ''))],
  ['_InstanceNorm', (s) => /InstanceNorm/.test(simpleName(s.qualified ?? ''))],
  ['RNNBase', (s) => /^(LSTM|GRU|RNN)$/.test(simpleName(s.qualified ?? ''))],
  ['RNNCellBase', (s) => /^(LSTM|GRU|RNN)Cell$/.test(simpleName(s.qualified ?? ''))],
  ['_DropoutNd', (s) => /Dropout/.test(simpleName(s.qualified ?? ''))],
  ['_MaxPoolNd', (s) => /^MaxPool/.test(simpleName(s.qualified ?? ''))],
  ['_AvgPoolNd', (s) => /^AvgPool/.test(simpleName(s.qualified ?? ''))],
]);

function isSubclass(cls: ClassInfo, of: ClassInfo): boolean {
  return cls === of || cls.bases.some((b) => isSubclass(b, of));
}

/** isinstance(value, spec); undefined when it cannot be decided. */
export function isInstance(value: Value, spec: Value): boolean | undefined {
  if (spec.t === 'list') {
    const results = spec.items.map((s) => isInstance(value, s));
    if (results.some((r) => r === true)) return true;
    return results.every((r) => r === false) ? false : undefined;
  }
  if (spec.t === 'class') {
    if (value.t === 'instance') return isSubclass(value.inst.cls, spec.cls);
    return value.t === 'layer' || value.t === 'seq' || value.t === 'list' || value.t === 'dict' ? false : undefined;
  }
  if (spec.t !== 'ctor' || !spec.qualified.startsWith('torch.nn')) return undefined;
  const wanted = simpleName(spec.qualified);
  const isModule = value.t === 'layer' || value.t === 'seq' || value.t === 'instance';
  if (wanted === 'Module') return isModule ? true : value.t === 'param' || value.t === 'const' ? false : undefined;
  if (value.t === 'seq') return wanted === 'Sequential';
  if (value.t === 'instance') return wanted === 'Sequential' ? value.inst.seqItems !== null : false;
  if (value.t !== 'layer') return value.t === 'param' || value.t === 'const' ? false : undefined;
  const slot = value.slot;
  if (!slot.qualified) return undefined;
  const base = ABSTRACT_BASES.get(wanted);
  if (base) return base(slot);
  return simpleName(slot.qualified) === wanted;
}

/** `type(m)` of a module value. */
export function typeOf(value: Value): Value {
  if (value.t === 'layer' && value.slot.qualified) return { t: 'ctor', qualified: value.slot.qualified, spelling: simpleName(value.slot.qualified) };
  if (value.t === 'seq') return { t: 'ctor', qualified: 'torch.nn.Sequential', spelling: 'Sequential' };
  if (value.t === 'instance') return { t: 'class', cls: value.inst.cls };
  return { t: 'unknown' };
}

/** `m.__class__.__name__` / `type(m).__name__`. */
export function classNameOf(value: Value): string | undefined {
  if (value.t === 'layer') return value.slot.qualified ? simpleName(value.slot.qualified) : undefined;
  if (value.t === 'seq') return 'Sequential';
  if (value.t === 'instance') return value.inst.cls.name;
  if (value.t === 'ctor') return simpleName(value.qualified);
  if (value.t === 'class') return value.cls.name;
  return undefined;
}

/** Whether two values are the same class reference (`type(m) == nn.Linear`). */
export function sameClass(a: Value, b: Value): boolean | undefined {
  if (a.t === 'ctor' && b.t === 'ctor') return simpleName(a.qualified) === simpleName(b.qualified);
  if (a.t === 'class' && b.t === 'class') return a.cls === b.cls;
  if ((a.t === 'class' && b.t === 'ctor') || (a.t === 'ctor' && b.t === 'class')) return false;
  return undefined;
}

const RECURRENT_PARAM = /^(weight_ih|weight_hh|bias_ih|bias_hh)(_l\d+)?(_reverse)?$/;

/** `m.weight`, `m.bias`, `lstm.weight_hh_l0`; const None for a disabled bias; undefined when unknown. */
export function paramOf(slot: Slot, name: string): Value | undefined {
  const exact = slot.params.find((p) => p.name === name);
  if (exact) return { t: 'param', slot, spec: exact };
  const rnn = RECURRENT_PARAM.exec(name);
  if (rnn && slot.params.some((p) => p.name.startsWith(rnn[1]!))) {
    const role = rnn[1] === 'weight_ih' ? 'kernel' : rnn[1] === 'weight_hh' ? 'recurrent' : 'bias';
    return { t: 'param', slot, spec: { name, role, dim: role === 'bias' ? 1 : 2 } };
  }
  if (name === 'bias' && !slot.layer.useBias && slot.layer.kind !== 'unknown') return constant(null);
  return undefined;
}

/** Size attributes torch modules expose (`self.fc.in_features`). */
export function sizeAttribute(layer: LayerIR, name: string): ConstValue | undefined {
  if (name === 'kernel_size') return layer.kernelSize ?? undefined;
  const byName: Record<string, number | null> = {
    in_features: layer.kind === 'dense' ? layer.inFeatures : null,
    out_features: layer.kind === 'dense' ? layer.units : null,
    in_channels: layer.inFeatures,
    out_channels: layer.units,
    num_features: layer.units,
    hidden_size: layer.units,
    input_size: layer.inFeatures,
    embedding_dim: layer.units,
    num_embeddings: layer.inFeatures,
    normalized_shape: layer.kind === 'layernorm' ? layer.units : null,
  };
  const v = byName[name];
  return v === null || v === undefined ? undefined : v;
}

/** `add_module(name, m)`, `self._modules[name] = m`: a child registered under `name` (its position when not a string). */
export function registerModule(inst: Instance, name: unknown, module: Value): void {
  if (inst.seqItems) {
    inst.seqItems.push(module);
    inst.seqNames.push(typeof name === 'string' ? name : String(inst.seqItems.length - 1));
  } else {
    inst.attrs.set(typeof name === 'string' ? name : String(childrenOf({ t: 'instance', inst }).length), module);
  }
}

/** Immediate children of a module value, with their names (`named_children()`). */
export function childrenOf(value: Value): [string, Value][] {
  switch (value.t) {
    case 'seq':
      return value.items.map((item, i) => [value.names[i] ?? String(i), item]);
    case 'list':
      return value.items.map((item, i) => [String(i), item]);
    case 'dict':
      return [...value.entries];
    case 'instance': {
      const items: [string, Value][] = value.inst.seqItems?.map((item, i) => [value.inst.seqNames[i] ?? String(i), item]) ?? [];
      const attrs = [...value.inst.attrs].filter(([, v]) => v.t === 'layer' || v.t === 'seq' || v.t === 'list' || v.t === 'dict' || v.t === 'instance');
      return [...items, ...attrs];
    }
    default:
      return [];
  }
}

/** `named_parameters()` over the leaf layers: [qualified name, param]. */
export function namedParameters(value: Value): [string, Value][] {
  return leafSlots(value).flatMap(({ slot, path }) =>
    slot.params.map((spec: ParamSpec): [string, Value] => [path ? `${path}.${spec.name}` : spec.name, { t: 'param', slot, spec }]),
  );
}

/**
 * `named_modules()`: the module itself, the containers below it and its layers, in torch's order, so a
 * loop that tests `isinstance(m, Bottleneck)` meets the blocks (torchvision's zero_init_residual).
 * Opaque modules are left out (isinstance could not be decided for them), as before.
 */
export function namedModules(value: Value): [string, Value][] {
  return modulesOf(value).flatMap(({ module, path }): [string, Value][] => (module.t === 'opaque' ? [] : [[path, module]]));
}

/** `copy.deepcopy(m)`: fresh slots (so each copy gets its own initializers), same source ranges. */
export function cloneValue(value: Value, unrolled: LayerIR['unrolled']): Value {
  switch (value.t) {
    case 'layer': {
      const layer: LayerIR = cloneLayer(value.slot.layer);
      layer.unrolled = unrolled ?? value.slot.layer.unrolled;
      return { t: 'layer', slot: { ...value.slot, layer } };
    }
    case 'seq':
      return { ...value, items: value.items.map((i) => cloneValue(i, unrolled)) };
    case 'list':
      return { t: 'list', items: value.items.map((i) => cloneValue(i, unrolled)) };
    case 'dict':
      return { ...value, entries: new Map([...value.entries].map(([k, v]) => [k, cloneValue(v, unrolled)])) };
    case 'instance': {
      const inst: Instance = {
        cls: value.inst.cls,
        attrs: new Map([...value.inst.attrs].map(([k, v]) => [k, cloneValue(v, unrolled)])),
        seqItems: value.inst.seqItems?.map((i) => cloneValue(i, unrolled)) ?? null,
        seqNames: [...value.inst.seqNames],
      };
      return { t: 'instance', inst };
    }
    default:
      return value;
  }
}
