/**
 * What the Keras reader tracks while it reads model-building code: symbolic tensors and the
 * graph nodes that produce them, layer objects not yet applied, Sequential models being built,
 * lists of those, and constants. Nothing here is ever run; the values only describe the code.
 */
import type { Node } from '../../python/syntax-tree';
import type { LayerIR, Range } from '../../../shared/ir';
import type { ConstValue, Scope } from '../../python/constants';
import type { CallArgs } from '../../python/evaluator';
import type { Shape } from '../../../shared/shapes';
import type { ArgContext } from './context';

/** Where a layer was made or applied, relative to the control flow around it. */
export interface FlowMarks {
  /** Ids of enclosing `if` statements whose condition is not statically known. */
  conditions: number[];
  /** How many unrolled (constant-bound) loops or comprehensions enclose it. */
  unrollDepth: number;
  /** The innermost loop with non-constant bounds around it (its body was read once). */
  repeatedLoop: Range | null;
}

/** One application of a layer: a node of the model graph. */
export interface GraphNode {
  /** Creation order within the file's extraction. */
  seq: number;
  layer: LayerIR;
  inputs: GraphNode[];
  /** The syntax node that made the layer (constructor call, operator, function call). */
  origin: Node;
  /** Marks at construction, merged with the marks at application. */
  marks: FlowMarks;
  declaredInput: Shape | null;
  unsupported: { what: string; range: Range }[];
  /**
   * The layer object this node applies (its factory, or the node a sub-model's copy was made from):
   * nodes of one object hold one set of weights. Absent for nodes that are not a layer object's call.
   */
  owner?: object;
}

/** A layer constructor call, evaluated when the layer is applied (each application -> one node). */
export interface LayerFactory {
  call: Node;
  className: string;
  written: string;
  ctx: ArgContext;
  marks: FlowMarks;
  /** Attribute or variable name the layer was bound to (`self.fc1` -> "fc1"), used when no name= is written. */
  boundName: string | null;
}

export interface SequentialItem {
  value: Value;
  /** The syntax that produced the item (list element or .add argument). */
  node: Node;
  marks: FlowMarks;
  /** A model or layer added after `x.trainable = False` (see ExtractionState.trainableWrites): its layers do not train here. */
  frozen?: boolean;
}

/** What `x.trainable = ...` is recorded on for a value (see ExtractionState.trainableWrites); null for values it does not freeze. */
export function trainableKey(value: Value): object | null {
  switch (value.t) {
    case 'sequential':
      return value.seq;
    case 'layer':
      return value.factory;
    case 'graph':
    case 'instance':
      return value;
    default:
      return null;
  }
}

export interface SequentialBuilder {
  call: Node;
  /** True when the constructor received a layer list. */
  fromList: boolean;
  items: SequentialItem[];
  marks: FlowMarks;
  /** Last `.add(...)` call, for the model's range. */
  lastAdd: Node | null;
  /** `model.build(input_shape)`: the shape without batch. */
  builtShape: Shape | null;
  binding: { name: string; nameNode: Node } | null;
}

export type Value =
  | { t: 'tensor'; producers: GraphNode[] }
  | { t: 'layer'; factory: LayerFactory }
  | { t: 'sequential'; seq: SequentialBuilder }
  | { t: 'list'; items: Value[] }
  | { t: 'const'; value: ConstValue }
  /** An instance of a class defined in this file (custom Layer or Model subclass), applied by running its methods. */
  | { t: 'instance'; classDef: Node; call: Node; args: CallArgs<Value>; marks: FlowMarks; boundName: string | null }
  /** A custom Layer or Model class of the workspace named without a call (`block = InvertedResidual`): calling it makes an instance. */
  | { t: 'class'; classDef: Node }
  /** A function of the file; `closure` is the reader of the function that defined it (nested `def f(x)` returned by a helper). */
  | { t: 'function'; def: Node; closure?: ClosureFrame; receiver?: Receiver }
  /** A dict with string keys (`**conv_params`, `{'filters': 64}`). */
  | { t: 'dict'; entries: Map<string, Value> }
  /** A functional model (`keras.Model(inputs, outputs)`), applicable to new tensors as a block. */
  | { t: 'graph'; inputs: GraphNode[]; outputs: GraphNode[] }
  /** Position indices (`tf.range(maxlen)`, `keras.ops.arange(maxlen)`): an Embedding of them is a learned positional table. */
  | { t: 'positions' }
  /** An Embedding applied to position indices: added to a tensor, it is a 'position-embedding' layer of that tensor. */
  | { t: 'table'; factory: LayerFactory }
  | { t: 'opaque' };

/** What a nested function sees of the call that defined it: that call's names, read when the function runs. */
export interface ClosureFrame {
  readonly locals: ReadonlyMap<string, Value>;
  readonly scope: Scope;
}

/** The instance a method read off `self` runs on (`Lambda(self._sampling)`): its class and its `self.*` attributes. */
export interface Receiver {
  readonly classDef: Node;
  readonly self: Map<string, Value>;
}

export const OPAQUE: Value = { t: 'opaque' };

/** The tensors a value carries (a tensor, or tensors nested in lists). */
export function producersOf(value: Value): GraphNode[] {
  if (value.t === 'tensor') return value.producers;
  if (value.t === 'list') return value.items.flatMap(producersOf);
  return [];
}

export function isTensorLike(value: Value): boolean {
  return value.t === 'tensor' || (value.t === 'list' && value.items.some(isTensorLike));
}

/**
 * One value for what the branches of an unknown condition left in a name: the value itself when they
 * agree, a tensor from every branch's producers when some branch holds a tensor, else the first value
 * that is not opaque (its layers carry the conditional mark).
 */
export function mergeValues(values: Value[]): Value {
  const first = values[0];
  if (!first) return OPAQUE;
  if (values.every((v) => v === first)) return first;
  const tensors = values.filter((v) => v.t === 'tensor');
  if (tensors.length > 0) return { t: 'tensor', producers: [...new Set(tensors.flatMap((t) => t.producers))] };
  return values.find((v) => v.t !== 'opaque') ?? OPAQUE;
}
