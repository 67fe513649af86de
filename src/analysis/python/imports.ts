/**
 * What each local name refers to after the file's imports, as a canonical qualified name:
 * `import tensorflow as tf` -> tf = "tensorflow"; `from torch import nn` -> nn = "torch.nn";
 * `from tensorflow.keras.layers import BatchNormalization as BN` -> BN = "keras.layers.BatchNormalization".
 * Keras spellings are canonicalized (tensorflow.keras / tf.keras / keras.src -> keras) so extractors
 * match one name per layer class.
 */
import type { Node } from 'web-tree-sitter';
import { dottedName, rangeOf, STATEMENT_CONTAINERS, walk } from './syntax';
import type { Range } from '../../shared/ir';

export interface ImportBinding {
  /** Local name introduced by the import. */
  local: string;
  /** Module as written, including leading dots of relative imports ("..models"). */
  module: string;
  /** Imported symbol for `from m import s`; null for `import m`. */
  symbol: string | null;
  range: Range;
}

const KERAS_PREFIXES: [RegExp, string][] = [
  [/^tensorflow\.python\.keras(\.|$)/, 'keras$1'],
  [/^tensorflow\.keras(\.|$)/, 'keras$1'],
  [/^tf\.keras(\.|$)/, 'keras$1'],
  [/^keras\.src(\.|$)/, 'keras$1'],
  [/^tf_keras(\.|$)/, 'keras$1'],
  [/^keras\.api\._v2\.keras(\.|$)/, 'keras$1'],
  [/^keras\.api(\.|$)/, 'keras$1'],
  [/^keras\._tf_keras\.keras(\.|$)/, 'keras$1'],
];

/** Canonical qualified name: Keras paths collapse onto `keras.*`. */
export function canonicalQualified(name: string): string {
  for (const [re, to] of KERAS_PREFIXES) if (re.test(name)) return name.replace(re, to);
  return name;
}

export class ImportTable {
  readonly bindings: ImportBinding[] = [];
  private readonly byLocal = new Map<string, string>();

  static fromTree(root: Node): ImportTable {
    const table = new ImportTable();
    // Imports anywhere (functions, try/except, notebooks' later cells) count: real code imports lazily.
    walk(root, (n) => {
      if (n.type === 'import_statement' || n.type === 'import_from_statement') {
        table.add(n);
        return false;
      }
      // Imports are statements; an ERROR node may hold statements the parser could not place.
      return STATEMENT_CONTAINERS.has(n.type) || n.type === 'ERROR';
    });
    return table;
  }

  private add(stmt: Node): void {
    if (stmt.type === 'import_statement') {
      for (const item of stmt.namedChildren) {
        if (!item) continue;
        if (item.type === 'dotted_name') {
          // `import a.b` binds `a`; `a.b.X` then resolves through the full path.
          const first = item.text.split('.')[0]!;
          this.bind(first, first, null, item, first);
        } else if (item.type === 'aliased_import') {
          const name = item.childForFieldName('name')?.text;
          const alias = item.childForFieldName('alias')?.text;
          if (name && alias) this.bind(alias, name, null, item, name);
        }
      }
      return;
    }
    const moduleNode = stmt.childForFieldName('module_name');
    const module = moduleNode?.text ?? '';
    for (const item of stmt.namedChildren) {
      if (!item || item === moduleNode || item.id === moduleNode?.id) continue;
      if (item.type === 'dotted_name') {
        this.bind(item.text, module, item.text, item, `${module}.${item.text}`);
      } else if (item.type === 'aliased_import') {
        const name = item.childForFieldName('name')?.text;
        const alias = item.childForFieldName('alias')?.text;
        if (name && alias) this.bind(alias, module, name, item, `${module}.${name}`);
      }
    }
  }

  private bind(local: string, module: string, symbol: string | null, node: Node, qualified: string): void {
    this.bindings.push({ local, module, symbol, range: rangeOf(node) });
    this.byLocal.set(local, canonicalQualified(qualified));
  }

  /** True when some import introduces `local`. */
  has(local: string): boolean {
    return this.byLocal.has(local);
  }

  /**
   * Resolves a dotted name through the imports: "L.Dense" -> "keras.layers.Dense". Names whose first
   * part is not imported come back canonicalized but otherwise as written (a local or unknown name).
   */
  resolve(dotted: string): string {
    const dot = dotted.indexOf('.');
    const head = dot < 0 ? dotted : dotted.slice(0, dot);
    const rest = dot < 0 ? '' : dotted.slice(dot);
    const target = this.byLocal.get(head);
    return canonicalQualified(target ? target + rest : dotted);
  }

  /** Resolves a node that is a dotted name; null when it is not one. */
  resolveNode(node: Node | null | undefined): string | null {
    const name = dottedName(node);
    return name ? this.resolve(name) : null;
  }

  /** Whether the file imports anything from a top-level package ("torch", "keras", "tensorflow"). */
  importsPackage(pkg: string): boolean {
    return this.bindings.some((b) => b.module === pkg || b.module.startsWith(`${pkg}.`));
  }
}
