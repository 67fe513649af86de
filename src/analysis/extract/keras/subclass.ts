/**
 * keras.Model subclasses, one instance at a time: layers come from `__init__` (run with the
 * instance's constructor arguments) and `build` (`self.x = ...`, lists and comprehensions of layers,
 * nested Sequentials), their order and the functional activations between them from
 * `call` (`tf.nn.relu(self.d1(x))`), with helper methods and custom layers inlined.
 * Without a `call`, the layers are taken in the order `__init__` assigns them.
 */
import type { Node } from '../../python/syntax-tree';
import type { ModelIR } from '../../../shared/ir';
import type { CallArgs } from '../../python/evaluator';
import { rangeOf } from '../../python/syntax';
import { chainSequential, instantiate } from './apply';
import { NO_MARKS, type KerasEvaluator } from './executor';
import { finalizeModel } from './models';
import { OPAQUE, type GraphNode, type Value } from './values';

/** The model one instance of `classDef` is, built with `args` (null: nobody instantiates it, its defaults). */
export function extractSubclass(ev: KerasEvaluator, classDef: Node, args: CallArgs<Value> | null = null): ModelIR | null {
  const state = ev.state;
  const nameNode = classDef.childForFieldName('name');
  if (!nameNode) return null;
  const self = new Map<string, Value>();
  const outer = ev.frameAt(classDef, null);
  const run = (def: Node, given: CallArgs<Value>) => ev.callFunction(def, { ...given, positional: [OPAQUE, ...given.positional] }, { def, classDef, self }, outer);
  const initDef = state.methodOf(classDef, '__init__');
  const callDef = state.methodOf(classDef, 'call');
  const recorder: GraphNode[] = [];
  if (initDef) run(initDef, args ?? { positional: [], keywords: new Map(), partial: false });
  // Some models make their layers in build(input_shape), which Keras calls before the first call().
  const buildDef = state.methodOf(classDef, 'build');
  if (buildDef) run(buildDef, { positional: [], keywords: new Map(), partial: false, optionalUnknown: true });
  state.recorders.push(recorder);
  try {
    if (callDef) run(callDef, { positional: [{ t: 'tensor', producers: [] }], keywords: new Map(), partial: false, optionalUnknown: true });
    else {
      // No call(): the layers in the order __init__ assigned them.
      const chain = ev.reader(outer);
      let previous: GraphNode[] = [];
      for (const value of self.values()) {
        if (value.t === 'layer') previous = [instantiate(chain, value.factory, previous, NO_MARKS)];
        else if (value.t === 'sequential') previous = chainSequential(chain, value.seq, previous, NO_MARKS);
      }
    }
  } finally {
    state.recorders.splice(state.recorders.indexOf(recorder), 1);
  }
  if (recorder.length === 0) return null;
  const topLevel = classDef.parent?.type === 'module' || classDef.parent?.parent?.type === 'module';
  return finalizeModel(state.file, {
    name: nameNode.text,
    nameNode,
    style: 'keras-subclass',
    call: null,
    range: rangeOf(classDef),
    exports: topLevel ? [nameNode.text] : [],
    nodes: recorder,
    marks: NO_MARKS,
    inputShape: null,
    graph: false,
  });
}
