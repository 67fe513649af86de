/**
 * Which Keras / TensorFlow symbol a name in the source refers to. Built on ImportTable.resolve
 * (tensorflow.keras / tf.keras / keras.src already collapse onto `keras.*`), plus the two habits
 * real code has that imports alone do not cover: star imports (`from keras.layers import *`) and
 * notebooks whose `import tensorflow as tf` lives in a cell that was not exported.
 */
import type { Node } from '../../python/syntax-tree';
import type { PyFile } from '../../python/file';
import { canonicalQualified } from '../../python/imports';
import { dotted as dottedOnce } from '../../python/syntax-cache';
import type { Outline } from './outline';
import { layerSpec, MERGE_FUNCTIONS } from './catalog';
import type { ActivationName } from '../../../shared/ir';
import { activationOfFormula } from '../../python/elementwise-formula';
import { ImportedHeads, withinPackages } from '../../python/imported-heads';

/** The package whose objects are never Keras models, though it names its containers the same (`nn.Sequential`). */
const TORCH_PACKAGE = withinPackages(['torch']);

export class KerasSymbols {
  private readonly starModules: string[];
  private readonly localNames: Set<string>;
  readonly usesKeras: boolean;

  constructor(
    readonly file: PyFile,
    outline: Outline,
  ) {
    this.torchNames = new ImportedHeads(file, TORCH_PACKAGE);
    this.starModules = [];
    for (const stmt of outline.starImports) {
      const module = stmt.childForFieldName('module_name')?.text;
      if (module) this.starModules.push(canonicalQualified(module));
    }
    this.localNames = new Set();
    for (const def of [...outline.functions, ...outline.classes]) {
      const name = def.childForFieldName('name')?.text;
      if (name) this.localNames.add(name);
    }
    for (const def of outline.functions) {
      const name = def.childForFieldName('name')?.text;
      if (name) this.functions.set(name, def);
    }
    this.usesKeras =
      file.imports.importsPackage('keras') ||
      file.imports.importsPackage('tensorflow') ||
      file.imports.importsPackage('tf_keras') ||
      this.starModules.some((m) => m.startsWith('keras') || m.startsWith('tensorflow')) ||
      /\b(?:tf|tensorflow)\.keras\b|\bkeras\./.test(file.text);
  }

  /** The keras module a star import brought `name` from: layers from keras.layers, models from keras.models, ... */
  private starFrom(name: string): string | null {
    const kerasStars = this.starModules.filter((m) => m === 'keras' || m.startsWith('keras.'));
    const belongs = (module: string): boolean => {
      if (module.startsWith('keras.layers')) return !!layerSpec(name) || name in MERGE_FUNCTIONS || name === 'Input';
      if (module.startsWith('keras.models')) return name === 'Sequential' || name === 'Model';
      if (module.startsWith('keras.initializers')) return /^[A-Z]/.test(name);
      return module === 'keras';
    };
    return kerasStars.find(belongs) ?? null;
  }

  /**
   * The canonical qualified name of a dotted-name node ("keras.layers.Dense", "tensorflow.nn.relu"),
   * or null when the node is not a dotted name. A bare name that no import binds and no local
   * definition shadows resolves through a star import of a keras module when there is one.
   */
  qualified(node: Node | null | undefined): string | null {
    const dotted = dottedOnce(node);
    if (!dotted) return null;
    const head = dotted.split('.')[0]!;
    if (!this.file.imports.has(head) && !this.localNames.has(head)) {
      if (head === 'tf') return canonicalQualified(`tensorflow${dotted.slice(2)}`);
      if (!dotted.includes('.')) {
        const star = this.starFrom(dotted);
        if (star) return `${star}.${dotted}`;
      }
    }
    return this.file.imports.resolve(dotted);
  }

  /**
   * A test for source text that may construct a model: it mentions Sequential / Model or a local
   * alias of them, other than as an attribute of a torch name (`nn.Sequential`). Functions that fail it
   * cannot create a model of their own and are not read on their own (they are still inlined where
   * they are called).
   */
  mayBuildModel(text: string): boolean {
    if (!this.modelWords) {
      const aliases = this.file.imports.bindings
        .filter((b) => b.symbol && /^(Sequential|Model|Functional)$/.test(b.symbol) && b.local !== b.symbol)
        .map((b) => b.local.replace(/[^\w]/g, ''));
      this.modelWords = new RegExp(`\\b(?:Sequential|Model|${['Functional', ...aliases].join('|')})\\b`, 'g');
    }
    const words = this.modelWords;
    words.lastIndex = 0;
    for (let match = words.exec(text); match; match = words.exec(text)) if (!this.torchNames.attributeOfFramework(text, match.index)) return true;
    return false;
  }

  /** Dotted names of torch objects (`nn.Sequential`), whose words the model test would take for Keras's. */
  private readonly torchNames: ImportedHeads;
  private modelWords: RegExp | null = null;

  /** The file's functions by name, and the activation each computes as a formula (elementwise-formula.ts), once. */
  private readonly functions = new Map<string, Node>();
  private readonly formulas = new Map<string, ActivationName | null>();

  /** The activation the file's function `name` writes as a formula (`def gelu(x): ... tf.tanh(...)`); null when none. */
  formulaActivation(name: string): ActivationName | null {
    let found = this.formulas.get(name);
    if (found === undefined) {
      const def = this.isLocal(name) ? this.functions.get(name) : undefined;
      found = def ? activationOfFormula(def, false, 'keras', (head) => this.file.imports.has(head)) : null;
      this.formulas.set(name, found);
    }
    return found;
  }

  /** Whether a bare name is defined by the file itself (a function or class), so never a framework symbol. */
  isLocal(name: string): boolean {
    return this.localNames.has(name) && !this.file.imports.has(name);
  }
}

/** The last segment of a qualified name. */
export function lastSegment(qualified: string): string {
  const i = qualified.lastIndexOf('.');
  return i < 0 ? qualified : qualified.slice(i + 1);
}

/** The module part of a qualified name ("" for a bare name). */
export function modulePart(qualified: string): string {
  const i = qualified.lastIndexOf('.');
  return i < 0 ? '' : qualified.slice(0, i);
}
