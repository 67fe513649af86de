/**
 * torch's transformer modules, expanded into the layers they are made of so that every rule, the
 * propagation model and the probe see their Linear, LayerNorm, attention and dropout layers with
 * torch's own defaults (TransformerEncoderLayer does not re-initialize its children: linear1/linear2
 * keep nn.Linear's kaiming_uniform(a=sqrt(5)); self_attn is an nn.MultiheadAttention).
 *
 * nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu,
 * layer_norm_eps=1e-5, batch_first=False, norm_first=False); the decoder layer takes the same and a
 * second attention over the memory. nn.TransformerEncoder(encoder_layer, num_layers, norm=None) holds
 * num_layers deep copies. Their forward, as torch 1.13 writes it:
 *   post-LN (default): x = norm1(x + dropout1(self_attn(x))); x = norm2(x + dropout2(ff(x)))
 *   pre-LN (norm_first=True): x = x + dropout1(self_attn(norm1(x))); x = x + dropout2(ff(norm2(x)))
 *   ff(x) = linear2(dropout(activation(linear1(x)))); a decoder adds the memory attention before ff.
 */
import type { Node } from '../../python/syntax-tree';
import type { ActivationName } from '../../../shared/ir';
import { rangeOf } from '../../python/syntax';
import type { ConstValue } from '../../python/constants';
import type { Args } from './args';
import { buildLayer, type ArgReader } from './catalog';
import { numberValue } from '../normalize';
import { functionalSlot } from './flow';
import { apply, mergeTensors } from './forward';
import type { Frame, Interpreter } from './interpreter';
import { cloneValue } from './introspect';
import { UNKNOWN, constOf, type TransformerSpec, type Value } from './values';

const LAYER_CLASSES = new Set(['TransformerEncoderLayer', 'TransformerDecoderLayer']);
const STACK_CLASSES = new Set(['TransformerEncoder', 'TransformerDecoder']);

/** Whether a torch.nn class name is one of the transformer modules expanded here. */
export function isTransformerClass(name: string): boolean {
  return LAYER_CLASSES.has(name) || STACK_CLASSES.has(name);
}

/** An ArgReader over constants given by keyword (the children's constructor arguments). */
function given(values: Record<string, ConstValue>): ArgReader {
  return { get: (_index, ...names) => names.map((n) => values[n]).find((v) => v !== undefined), written: (_index, ...names) => names.some((n) => values[n] !== undefined) };
}

/** `activation=` as written: 'relu' / 'gelu', F.relu / F.gelu, or an activation module. */
function activationValue(value: Value | undefined, n: Node, spelling: string): Value {
  const slot = functionalSlot('activation', spelling, n);
  let name: ActivationName = 'relu';
  let written = 'relu (default)';
  if (value?.t === 'layer' && value.slot.layer.kind === 'activation') return value;
  const text = value?.t === 'const' && typeof value.v === 'string' ? value.v : value?.t === 'ctor' ? value.qualified.slice(value.qualified.lastIndexOf('.') + 1) : null;
  if (text === 'gelu' || text === 'relu') {
    name = text;
    written = text;
  } else if (value !== undefined) {
    name = 'unknown';
    written = 'activation';
  }
  slot.layer.activation = { name, spelling: written, range: value === undefined ? null : rangeOf(n), source: value === undefined ? 'default' : 'kwarg', params: {} };
  return { t: 'layer', slot };
}

/** Why a transformer stack is not read (its layer count or its layer not known); null for other classes and readable stacks. */
export function unreadStack(name: string, spelling: string, args: Args): string | null {
  if (!STACK_CLASSES.has(name)) return null;
  const { layer, count } = stackArguments(name, args);
  if (typeof count !== 'number') return `${spelling} with a num_layers that is not a constant`;
  return layer?.t === 'dict' && layer.transformer?.part === 'layer' ? null : `${spelling} of a layer that is not an nn.${name}Layer`;
}

/** A stack's layer (encoder_layer / decoder_layer) and num_layers as the call passes them. */
function stackArguments(name: string, args: Args): { layer: Value | undefined; count: ConstValue | undefined } {
  const layer = args.keywords.get(name === 'TransformerEncoder' ? 'encoder_layer' : 'decoder_layer') ?? args.positional[0];
  return { layer, count: constOf(args.keywords.get('num_layers') ?? args.positional[1] ?? UNKNOWN) };
}

/** The module value of `nn.TransformerEncoderLayer(...)` & co., or null for other classes. */
export function transformerModule(name: string, spelling: string, n: Node, args: Args): Value | null {
  const arg = (index: number, key: string): Value | undefined => args.keywords.get(key) ?? args.positional[index];
  const num = (index: number, key: string, fallback: number | null): ConstValue => {
    const v = arg(index, key);
    if (v === undefined) return fallback;
    return numberValue(constOf(v));
  };
  if (STACK_CLASSES.has(name)) {
    const { layer, count } = stackArguments(name, args);
    if (layer?.t !== 'dict' || layer.transformer?.part !== 'layer' || typeof count !== 'number' || count < 1) return null;
    const copies: Value[] = [];
    for (let i = 0; i < count; i++) copies.push(cloneValue(layer, { index: i, count }));
    const entries = new Map<string, Value>([['layers', { t: 'list', items: copies }]]);
    const norm = arg(2, 'norm');
    if (norm && norm.t === 'layer') entries.set('norm', norm);
    return { t: 'dict', entries, transformer: { part: 'stack' } };
  }
  if (!LAYER_CLASSES.has(name)) return null;
  const decoder = name === 'TransformerDecoderLayer';
  const d = num(0, 'd_model', null);
  const heads = num(1, 'nhead', null);
  const ff = num(2, 'dim_feedforward', 2048);
  const rate = num(3, 'dropout', 0.1);
  const eps = num(5, 'layer_norm_eps', 1e-5);
  const batchFirst = constOf(arg(6, 'batch_first') ?? UNKNOWN) === true;
  const normFirst = constOf(arg(7, 'norm_first') ?? UNKNOWN) === true;
  const child = (cls: string, values: Record<string, ConstValue>): Value => {
    const slot = buildLayer(`torch.nn.${cls}`, { name: cls, spelling, call: n, args: given(values) });
    return slot ? { t: 'layer', slot } : UNKNOWN;
  };
  const attention = () => child('MultiheadAttention', { embed_dim: d, num_heads: heads, dropout: rate, batch_first: batchFirst });
  const entries = new Map<string, Value>([['self_attn', attention()]]);
  if (decoder) entries.set('multihead_attn', attention());
  entries.set('linear1', child('Linear', { in_features: d, out_features: ff }));
  entries.set('dropout', child('Dropout', { p: rate }));
  entries.set('linear2', child('Linear', { in_features: ff, out_features: d }));
  for (const k of decoder ? [1, 2, 3] : [1, 2]) entries.set(`norm${k}`, child('LayerNorm', { normalized_shape: d, eps }));
  for (const k of decoder ? [1, 2, 3] : [1, 2]) entries.set(`dropout${k}`, child('Dropout', { p: rate }));
  entries.set('activation', activationValue(arg(4, 'activation'), n, spelling));
  return { t: 'dict', entries, transformer: { part: 'layer', role: decoder ? 'decoder' : 'encoder', normFirst } };
}

/** Calls a transformer layer or stack on (src) or (tgt, memory): its layers' nodes, wired as torch's forward. */
export function applyTransformer(interp: Interpreter, module: Extract<Value, { t: 'dict' }>, spec: TransformerSpec, args: Args, n: Node, f: Frame): Value {
  const x = args.positional[0] ?? args.keywords.get('src') ?? args.keywords.get('tgt') ?? UNKNOWN;
  const memory = args.positional[1] ?? args.keywords.get('memory') ?? x;
  const masked = ['mask', 'src_mask', 'tgt_mask'].some((k) => args.keywords.get(k)?.t === 'tensor') || constOf(args.keywords.get('is_causal') ?? args.keywords.get('tgt_is_causal')) === true;
  const call = (child: Value | undefined, ...inputs: Value[]): Value => (child ? apply(interp, child, { positional: inputs, keywords: new Map<string, Value>(), partial: false }, n, f) : UNKNOWN);
  if (spec.part === 'stack') {
    const layers = module.entries.get('layers');
    let cur = x;
    for (const layer of layers?.t === 'list' ? layers.items : []) {
      cur = layer.t === 'dict' && layer.transformer ? applyTransformer(interp, layer, layer.transformer, { positional: [cur, memory], keywords: new Map<string, Value>(masked ? [['mask', { t: 'tensor', from: [] }]] : []), partial: false }, n, f) : UNKNOWN;
    }
    const norm = module.entries.get('norm');
    return norm ? call(norm, cur) : cur;
  }
  const child = (key: string) => module.entries.get(key);
  const selfAttention = child('self_attn');
  if (masked && selfAttention?.t === 'layer' && selfAttention.slot.layer.kind === 'attention') selfAttention.slot.layer.attention.causal = true;
  const add = (a: Value, b: Value) => mergeTensors('add', [a, b], n, f, '+');
  const blocks: ((h: Value) => Value)[] = [(h) => call(child('dropout1'), call(selfAttention, h, h, h))];
  if (spec.role === 'decoder') blocks.push((h) => call(child('dropout2'), call(child('multihead_attn'), h, memory, memory)));
  const last = blocks.length + 1;
  blocks.push((h) => call(child(`dropout${last}`), call(child('linear2'), call(child('dropout'), call(child('activation'), call(child('linear1'), h))))));
  let cur = x;
  blocks.forEach((block, i) => {
    const norm = child(`norm${i + 1}`);
    cur = spec.normFirst ? add(cur, block(call(norm, cur))) : call(norm, add(cur, block(cur)));
  });
  return cur;
}
