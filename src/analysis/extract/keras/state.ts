/**
 * Per-file state shared by every read of one extraction: the file's own functions and classes,
 * which classes are Keras models or layers, the graph-node counter, and the functional models
 * found so far.
 */
import type { Node } from '../../python/syntax-tree';
import type { PyFile } from '../../python/file';
import { namedChildren } from '../../python/syntax';
import type { EvalNotes } from '../../python/limits';
import type { Outline } from './outline';
import type { KerasSymbols } from './symbols';
import { lastSegment, modulePart } from './symbols';
import type { FlowMarks, GraphNode, Value } from './values';
import type { UnreadOperation } from './lambda';
import type { InputShapeGuess } from '../../../shared/ir';
import type { Flow } from '../../../shared/shapes';

export interface FunctionalRecord {
  /** The `Model(inputs, outputs)` call. */
  call: Node;
  inputs: GraphNode[];
  outputs: GraphNode[];
  marks: FlowMarks;
  scopeNode: Node;
}

export type ClassKind = 'model' | 'layer';

/** The definition a class-body statement defines (unwrapping decorators). */
function definitionOf(stmt: Node): Node | null {
  if (stmt.type === 'function_definition' || stmt.type === 'class_definition') return stmt;
  if (stmt.type === 'decorated_definition') return stmt.childForFieldName('definition');
  return null;
}

export class ExtractionState {
  nextSeq = 0;
  /** Lists that receive every graph node created while they are on the stack. */
  readonly recorders: GraphNode[][] = [];
  /** While a Lambda's function is read: what it did to tensors that the reader cannot model (see lambda.ts). */
  readonly lambdaReads: UnreadOperation[][] = [];
  readonly functionals: FunctionalRecord[] = [];
  /** Graph nodes made for `value.output` (see apply.ts outputOf), by layer factory or Sequential. */
  readonly appliedOutputs = new WeakMap<object, GraphNode[]>();
  /** The `self` of each custom layer instance once built: calling the instance again reuses its layers (and weights). */
  readonly instanceSelves = new WeakMap<object, Map<string, Value>>();
  /** Functions that are not methods, by name (names defined twice are ambiguous and left out). */
  readonly functions = new Map<string, Node>();
  readonly classes = new Map<string, Node>();
  private readonly kinds = new Map<number, ClassKind | null>();
  private readonly ownWeights = new Map<number, boolean>();

  /** Output shapes of graph nodes computed for K.int_shape (see lambda.ts), once per node. */
  readonly flows = new WeakMap<GraphNode, Flow>();
  /** Input layers without a shape whose K.int_shape-computed sizes were needed, by their range (see lambda.ts): the Input call's start index. */
  readonly unknownInputs = new Map<string, number>();
  /** Input layers whose shape K.int_shape took from `assumedInputs`, by their range: the Input call's start index. */
  readonly usedInputs = new Map<string, number>();

  constructor(
    readonly file: PyFile,
    readonly symbols: KerasSymbols,
    readonly outline: Outline,
    readonly notes: EvalNotes,
    /** Shapes (the input guesses) K.int_shape reads for Input calls the code leaves without one, by the call's start index. */
    readonly assumedInputs: ReadonlyMap<number, InputShapeGuess> = new Map(),
  ) {
    const seen = new Map<string, number>();
    for (const def of [...outline.functions, ...outline.classes]) {
      if (def.type === 'function_definition' && this.isInClassBody(def)) continue;
      const name = def.childForFieldName('name')?.text;
      if (!name) continue;
      seen.set(name, (seen.get(name) ?? 0) + 1);
      (def.type === 'function_definition' ? this.functions : this.classes).set(name, def);
    }
    for (const [name, count] of seen) {
      if (count > 1) {
        this.functions.delete(name);
        this.classes.delete(name);
      }
    }
  }

  private isInClassBody(def: Node): boolean {
    let parent = def.parent;
    if (parent?.type === 'decorated_definition') parent = parent.parent;
    return parent?.type === 'block' && parent.parent?.type === 'class_definition';
  }

  /** A method (not a @staticmethod): its first parameter is the instance. */
  isMethod(def: Node): boolean {
    if (!this.isInClassBody(def)) return false;
    const decorated = def.parent?.type === 'decorated_definition' ? def.parent : null;
    return !decorated || !/@staticmethod\b/.test(decorated.text.slice(0, decorated.text.indexOf('def')));
  }

  /** Whether a class of this file is a Keras Model or Layer subclass (directly or through local bases). */
  classKind(classDef: Node, depth = 0): ClassKind | null {
    const cached = this.kinds.get(classDef.id);
    if (cached !== undefined) return cached;
    let kind: ClassKind | null = null;
    const bases = classDef.childForFieldName('superclasses');
    for (const base of bases ? namedChildren(bases) : []) {
      if (base.type === 'keyword_argument') continue;
      const q = this.symbols.qualified(base);
      if (!q) continue;
      const last = lastSegment(q);
      const module = modulePart(q);
      const local = !module ? this.classes.get(last) : undefined;
      if (local && local.id !== classDef.id && depth < 8) {
        kind = this.classKind(local, depth + 1);
      } else if (q.startsWith('keras.') || (!module && this.symbols.usesKeras)) {
        if (last === 'Model' || last === 'Sequential' || last === 'Functional') kind = 'model';
        else if (last === 'Layer') kind = 'layer';
      }
      if (kind) break;
    }
    this.kinds.set(classDef.id, kind);
    return kind;
  }

  /** A method of a class of this file, looked up through its local base classes. */
  methodOf(classDef: Node, name: string, depth = 0): Node | null {
    const body = classDef.childForFieldName('body');
    for (const stmt of body ? namedChildren(body) : []) {
      const def = definitionOf(stmt);
      if (def?.type === 'function_definition' && def.childForFieldName('name')?.text === name) return def;
    }
    if (depth > 8) return null;
    const bases = classDef.childForFieldName('superclasses');
    for (const base of bases ? namedChildren(bases) : []) {
      const local = base.type === 'identifier' ? this.classes.get(base.text) : undefined;
      if (local && local.id !== classDef.id) {
        const found = this.methodOf(local, name, depth + 1);
        if (found) return found;
      }
    }
    return null;
  }

  /** Whether a custom layer makes weights itself (`self.add_weight`, `tf.Variable`), which no IR kind describes. */
  hasOwnWeights(classDef: Node): boolean {
    let own = this.ownWeights.get(classDef.id);
    if (own === undefined) this.ownWeights.set(classDef.id, (own = /\bself\.add_weight\s*\(|\btf\.Variable\s*\(/.test(classDef.text)));
    return own;
  }
}
