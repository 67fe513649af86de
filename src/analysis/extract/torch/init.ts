/**
 * torch.nn.init calls (`nn.init.kaiming_normal_(w, nonlinearity='relu')`) and in-place tensor
 * initializers (`w.data.normal_(0, 0.01)`, `b.zero_()`) -> InitializerIR with canonical names.
 */
import type { Node } from '../../python/syntax-tree';
import type { InitializerIR, InitializerName } from '../../../shared/ir';
import type { ConstValue } from '../../python/constants';
import { calculateGain as torchGain } from '../../../shared/knowledge/math';
import { callArguments, rangeOf, type CallArguments } from '../../python/syntax';

type Evaluate = (node: Node) => ConstValue | undefined;

/** One numeric or string parameter: [IR key, position after the tensor, keyword, torch default]. */
type ParamDef = [key: string, index: number | null, keyword: string, fallback: number | string | null];

interface InitDef {
  name: InitializerName;
  params: ParamDef[];
}

const NORMAL: InitDef = { name: 'random_normal', params: [['mean', 0, 'mean', 0], ['std', 1, 'std', 1]] };
const ZEROS: InitDef = { name: 'zeros', params: [] };

const NN_INIT: ReadonlyMap<string, InitDef> = new Map([
  ['normal', NORMAL],
  ['uniform', { name: 'random_uniform', params: [['a', 0, 'a', 0], ['b', 1, 'b', 1]] }],
  ['trunc_normal', { name: 'truncated_normal', params: [['mean', 0, 'mean', 0], ['std', 1, 'std', 1], ['a', 2, 'a', -2], ['b', 3, 'b', 2]] }],
  ['constant', { name: 'constant', params: [['value', 0, 'val', null]] }],
  ['zeros', ZEROS],
  ['ones', { name: 'ones', params: [] }],
  ['eye', { name: 'identity', params: [] }],
  ['dirac', { name: 'identity', params: [['groups', 0, 'groups', 1]] }],
  ['xavier_uniform', { name: 'xavier_uniform', params: [['gain', 0, 'gain', 1]] }],
  ['xavier_normal', { name: 'xavier_normal', params: [['gain', 0, 'gain', 1]] }],
  ['kaiming_uniform', { name: 'kaiming_uniform', params: [['a', 0, 'a', 0], ['mode', 1, 'mode', 'fan_in'], ['nonlinearity', 2, 'nonlinearity', 'leaky_relu']] }],
  ['kaiming_normal', { name: 'kaiming_normal', params: [['a', 0, 'a', 0], ['mode', 1, 'mode', 'fan_in'], ['nonlinearity', 2, 'nonlinearity', 'leaky_relu']] }],
  ['orthogonal', { name: 'orthogonal', params: [['gain', 0, 'gain', 1]] }],
  ['sparse', { name: 'unknown', params: [['sparsity', 0, 'sparsity', null], ['std', 1, 'std', 0.01]] }],
]);

/** In-place tensor methods that initialize: `w.normal_(mean, std)`, `w.uniform_(from, to)`, `w.fill_(v)`, `w.zero_()`. */
const TENSOR_METHODS: ReadonlyMap<string, InitDef> = new Map([
  ['normal_', NORMAL],
  ['uniform_', { name: 'random_uniform', params: [['a', 0, 'from', 0], ['b', 1, 'to', 1]] }],
  ['fill_', { name: 'constant', params: [['value', 0, 'value', null]] }],
  ['zero_', ZEROS],
]);

/** A recognized initializer call: what it sets and the tensor expression it sets it on. */
export interface InitCall {
  init: InitializerIR;
  target: Node;
}

function spellingOf(call: Node): string {
  const text = call.text.replace(/\s+/g, ' ');
  if (text.length <= 120) return text;
  return `${call.childForFieldName('function')?.text ?? 'init'}(...)`;
}

function build(def: InitDef, call: Node, args: CallArguments, offset: number, evaluate: Evaluate): InitializerIR {
  const params: Record<string, number> = {};
  const options: Record<string, string> = {};
  for (const [key, index, keyword, fallback] of def.params) {
    const node = args.keywords.get(keyword) ?? (index !== null ? args.positional[index + offset] : undefined);
    const value = node ? evaluate(node) : fallback;
    if (typeof value === 'number') params[key] = value;
    else if (typeof value === 'string') options[key] = value;
  }
  return { name: def.name, params, options, spelling: spellingOf(call), range: rangeOf(call), explicit: true, framework: 'torch' };
}

/** `torch.nn.init.X_(tensor, ...)` (resolved name given), or null when the call is not one. */
export function nnInitCall(call: Node, qualified: string, evaluate: Evaluate): InitCall | null {
  if (!qualified.startsWith('torch.nn.init.')) return null;
  const fn = qualified.slice('torch.nn.init.'.length).replace(/_$/, '');
  if (fn === 'calculate_gain' || fn === 'gain') return null;
  const args = callArguments(call);
  const target = args.keywords.get('tensor') ?? args.positional[0];
  if (!target) return null;
  const def = NN_INIT.get(fn) ?? { name: 'unknown' as const, params: [] };
  return { init: build(def, call, args, args.keywords.has('tensor') ? 0 : 1, evaluate), target };
}

/** `tensor.normal_(...)` and friends; the caller decides whether the object is a parameter. */
export function tensorMethodInit(call: Node, evaluate: Evaluate): InitCall | null {
  const fn = call.childForFieldName('function');
  if (fn?.type !== 'attribute') return null;
  const def = TENSOR_METHODS.get(fn.childForFieldName('attribute')?.text ?? '');
  const target = fn.childForFieldName('object');
  if (!def || !target) return null;
  return { init: build(def, call, callArguments(call), 0, evaluate), target };
}

/** torch.nn.init.calculate_gain on statically known arguments; undefined when either is not known. */
export function calculateGain(nonlinearity: ConstValue | undefined, param: ConstValue | undefined): number | undefined {
  if (typeof nonlinearity !== 'string') return undefined;
  if (param !== undefined && param !== null && typeof param !== 'number') return undefined;
  return torchGain(nonlinearity, param) ?? undefined;
}
