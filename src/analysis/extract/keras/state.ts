/**
 * Per-file state shared by every read of one extraction: the file's own functions and classes (and
 * those it imports from other files of the workspace), which classes are Keras models or layers, the
 * graph-node counter, and the functional models found so far.
 */
import type { Node, SyntaxTree } from '../../python/syntax-tree';
import type { PyFile } from '../../python/file';
import { namedChildren, rangeOf } from '../../python/syntax';
import type { EvalNotes } from '../../python/limits';
import { outlineOf, type Outline } from './outline';
import { KerasSymbols, lastSegment, modulePart } from './symbols';
import { trainableKey, type FlowMarks, type GraphNode, type Value } from './values';
import type { UnreadOperation } from './lambda';
import type { InputShapeGuess, Range } from '../../../shared/ir';
import type { Flow } from '../../../shared/shapes';
import type { ImportedDefinitions } from '../types';
import type { CallArgs } from '../../python/evaluator';

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

/**
 * One file's definitions as the reader looks them up: its functions (not methods) and classes by name
 * (names defined twice are ambiguous and left out), the Keras symbols its imports bind, and which of its
 * classes are Keras models or layers.
 */
export class KerasFileTables {
  readonly functions = new Map<string, Node>();
  readonly classes = new Map<string, Node>();
  private readonly kinds = new Map<number, ClassKind | null>();
  private readonly ownWeights = new Map<number, boolean>();

  constructor(
    readonly file: PyFile,
    readonly symbols: KerasSymbols,
    readonly outline: Outline,
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

/** Where code of another file runs for the model's file: the call there that runs it, and that file. */
export interface ForeignSite {
  range: Range;
  file: string;
}

export class ExtractionState {
  nextSeq = 0;
  /** Lists that receive every graph node created while they are on the stack. */
  readonly recorders: GraphNode[][] = [];
  /** While a Lambda's function is read: what it did to tensors that the reader cannot model (see lambda.ts). */
  readonly lambdaReads: UnreadOperation[][] = [];
  readonly functionals: FunctionalRecord[] = [];
  /**
   * The arguments each call of a function passed as its caller was read for them (KerasEvaluator.argumentsAt),
   * by the caller's id, then the call's start index; `witnessing` is the map of the caller being read.
   */
  readonly callerReads = new Map<number, Map<number, CallArgs<Value>>>();
  witnessing: Map<number, CallArgs<Value>> | null = null;
  /**
   * `d.trainable = False` (True) as the code runs, by the model or layer it is written on (a Sequential's
   * builder, a functional model's value, a layer's factory): Keras reads the flag when a model that holds
   * it is compiled, so a model built from it afterwards (a GAN's combined model) does not train its weights,
   * while the model compiled before (the discriminator itself) does. Kept across the reads of the file's
   * scopes: it is the object's state, as in Python.
   */
  readonly trainableWrites = new Map<object, boolean>();
  /** How many applications of frozen models or layers are being read: the layers they make are frozen. */
  freezing = 0;

  /** Whether `x.trainable = False` holds for a value as the code runs now (see trainableWrites). */
  frozenNow(value: Value): boolean {
    const key = trainableKey(value);
    return key !== null && this.trainableWrites.get(key) === true;
  }

  /** `run()` with the layers it makes frozen when `frozen` (an application of a frozen model or layer). */
  freezingWhile<T>(frozen: boolean, run: () => T): T {
    if (!frozen) return run();
    this.freezing++;
    try {
      return run();
    } finally {
      this.freezing--;
    }
  }

  /** Records what a call of a function passed, while its caller is read for that (see callerReads). */
  witness(call: Node, args: CallArgs<Value>): void {
    const witnessing = this.witnessing;
    if (witnessing && !this.isForeign(call) && !witnessing.has(call.startIndex)) witnessing.set(call.startIndex, args);
  }
  /** Graph nodes made for `value.output` (see apply.ts outputOf), by layer factory or Sequential. */
  readonly appliedOutputs = new WeakMap<object, GraphNode[]>();
  /** The `self` of each custom layer instance once built: calling the instance again reuses its layers (and weights). */
  readonly instanceSelves = new WeakMap<object, Map<string, Value>>();
  /** The model's file's definitions. */
  readonly home: KerasFileTables;
  /** Other workspace files whose functions and classes the model's file calls, by syntax tree (read when first called). */
  private readonly others = new Map<SyntaxTree, KerasFileTables>();
  private readonly homeTree: SyntaxTree;
  /**
   * The innermost call of the model's file being read: layers that code of another file makes while it
   * runs are shown on its line (see homeSite).
   */
  homeCall: Node | null = null;

  /** Output shapes of graph nodes computed for K.int_shape (see lambda.ts), once per node. */
  readonly flows = new WeakMap<GraphNode, Flow>();
  /** Input layers without a shape whose K.int_shape-computed sizes were needed, by their range (see lambda.ts): the Input call's start index. */
  readonly unknownInputs = new Map<string, number>();
  /** Input layers whose shape K.int_shape took from `assumedInputs`, by their range: the Input call's start index. */
  readonly usedInputs = new Map<string, number>();

  constructor(
    file: PyFile,
    symbols: KerasSymbols,
    outline: Outline,
    readonly notes: EvalNotes,
    /** Shapes (the input guesses) K.int_shape reads for Input calls the code leaves without one, by the call's start index. */
    readonly assumedInputs: ReadonlyMap<number, InputShapeGuess> = new Map(),
    /** Where names the file imports from other files of the workspace are defined. */
    private readonly imported?: ImportedDefinitions,
  ) {
    this.home = new KerasFileTables(file, symbols, outline);
    this.homeTree = file.root.tree;
  }

  get file(): PyFile {
    return this.home.file;
  }

  get symbols(): KerasSymbols {
    return this.home.symbols;
  }

  get outline(): Outline {
    return this.home.outline;
  }

  /** The model's file's functions (not methods), by name. */
  get functions(): ReadonlyMap<string, Node> {
    return this.home.functions;
  }

  /** The model's file's classes, by name. */
  get classes(): ReadonlyMap<string, Node> {
    return this.home.classes;
  }

  /** The tables of the file `node` is written in. */
  tablesOf(node: Node): KerasFileTables {
    return node.tree === this.homeTree ? this.home : (this.others.get(node.tree) ?? this.home);
  }

  /** The Keras symbols of the file `node` is written in. */
  symbolsAt(node: Node): KerasSymbols {
    return this.tablesOf(node).symbols;
  }

  /** Whether `node` is written in another file than the model's. */
  isForeign(node: Node): boolean {
    return node.tree !== this.homeTree;
  }

  /**
   * The function `name` names where `at` is written: one of that file's own, else one it imports from
   * another file of the workspace (`from blocks import conv_bn`), read in that file.
   */
  functionNamed(name: string, at: Node): Node | null {
    const tables = this.tablesOf(at);
    return tables.functions.get(name) ?? this.importedDefinition(tables, name, 'function_definition');
  }

  /** The class `name` names where `at` is written (as functionNamed). */
  classNamed(name: string, at: Node): Node | null {
    const tables = this.tablesOf(at);
    return tables.classes.get(name) ?? this.importedDefinition(tables, name, 'class_definition');
  }

  private importedDefinition(from: KerasFileTables, name: string, type: 'function_definition' | 'class_definition'): Node | null {
    if (!this.imported || from.symbols.isLocal(name)) return null;
    const target = this.imported(from.file.path, name);
    if (!target) return null;
    const tree = target.file.root.tree;
    let tables = tree === this.homeTree ? this.home : this.others.get(tree);
    if (!tables) {
      const outline = outlineOf(target.file.root);
      this.others.set(tree, (tables = new KerasFileTables(target.file, new KerasSymbols(target.file, outline), outline)));
    }
    const def = type === 'function_definition' ? tables.functions.get(target.symbol) : tables.classes.get(target.symbol);
    return def ?? null;
  }

  /** `run()` with `node` (a call or list item of the model's file) as the line layers of other files' code are shown on. */
  atHome<T>(node: Node, run: () => T): T {
    if (this.isForeign(node)) return run();
    const outer = this.homeCall;
    this.homeCall = node;
    try {
      return run();
    } finally {
      this.homeCall = outer;
    }
  }

  /**
   * Where a layer made by code of another file (`origin`) is shown: on the line of the model's file whose
   * call ran that code, keeping where it is written; null for code of the model's file.
   */
  homeSite(origin: Node): ForeignSite | null {
    if (!this.isForeign(origin) || !this.homeCall) return null;
    return { range: rangeOf(this.homeCall), file: this.tablesOf(origin).file.path };
  }

  isMethod(def: Node): boolean {
    return this.tablesOf(def).isMethod(def);
  }

  classKind(classDef: Node): ClassKind | null {
    return this.tablesOf(classDef).classKind(classDef);
  }

  methodOf(classDef: Node, name: string): Node | null {
    return this.tablesOf(classDef).methodOf(classDef, name);
  }

  hasOwnWeights(classDef: Node): boolean {
    return this.tablesOf(classDef).hasOwnWeights(classDef);
  }
}
