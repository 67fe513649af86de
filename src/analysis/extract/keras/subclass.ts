/**
 * keras.Model subclasses: layers come from `__init__` and `build` (`self.x = ...`, lists and comprehensions of
 * layers, nested Sequentials), their order and the functional activations between them from
 * `call` (`tf.nn.relu(self.d1(x))`), with helper methods and custom layers inlined.
 * Without a `call`, the layers are taken in the order `__init__` assigns them.
 */
import type { Node } from 'web-tree-sitter';
import type { ModelIR } from '../../../shared/ir';
import { rangeOf } from '../../python/syntax';
import { chainSequential, instantiate } from './apply';
import { Executor } from './executor';
import { finalizeModel } from './models';
import type { ExtractionState } from './state';
import type { FlowMarks, GraphNode, Value } from './values';

const NO_MARKS: FlowMarks = { conditions: [], unrollDepth: 0, repeatedLoop: null };

export function extractSubclass(state: ExtractionState, classDef: Node): ModelIR | null {
  const nameNode = classDef.childForFieldName('name');
  if (!nameNode) return null;
  const selfEnv = new Map<string, Value>();
  const reader = (def: Node) =>
    new Executor(state, { selfEnv, classDef, depth: 0, emit: false, scopeNode: def, active: new Set([classDef.id]) }, state.scopeInside(def), NO_MARKS);
  const initDef = state.methodOf(classDef, '__init__');
  const callDef = state.methodOf(classDef, 'call');
  const recorder: GraphNode[] = [];
  if (initDef) {
    const init = reader(initDef);
    init.bindParameters(initDef, [], new Map(), true);
    init.execBlock(initDef.childForFieldName('body'));
  }
  // Some models make their layers in build(input_shape), which Keras calls before the first call().
  const buildDef = state.methodOf(classDef, 'build');
  if (buildDef) {
    const build = reader(buildDef);
    build.bindParameters(buildDef, [], new Map(), true, false);
    build.execBlock(buildDef.childForFieldName('body'));
  }
  state.recorders.push(recorder);
  try {
    if (callDef) {
      const call = reader(callDef);
      call.bindParameters(callDef, [{ t: 'tensor', producers: [] }], new Map(), true, false);
      call.execBlock(callDef.childForFieldName('body'));
    } else {
      // No call(): the layers in the order __init__ assigned them.
      const chain = reader(initDef ?? classDef);
      let previous: GraphNode[] = [];
      for (const value of selfEnv.values()) {
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
