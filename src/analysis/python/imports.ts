/**
 * What each local name refers to after the file's imports, as a canonical qualified name:
 * `import tensorflow as tf` -> tf = "tensorflow"; `from torch import nn` -> nn = "torch.nn";
 * `from tensorflow.keras.layers import BatchNormalization as BN` -> BN = "keras.layers.BatchNormalization".
 * Keras spellings are canonicalized (tensorflow.keras / tf.keras / keras.src -> keras) so extractors
 * match one name per layer class.
 */
import type { Node } from './syntax-tree';
import { dottedName, nodesOfType, rangeOf, spanHolds, STATEMENT_CONTAINERS, stringValue } from './syntax';
import type { Range } from '../../shared/ir';

/** The module `name` inside `module`, as an import names it (`pkg` + `lib` -> `pkg.lib`; `.` + `lib` -> `.lib`). */
export function submodule(module: string, name: string): string {
  return module === '' || module.endsWith('.') ? `${module}${name}` : `${module}.${name}`;
}

export interface ImportBinding {
  /** Local name introduced by the import. */
  local: string;
  /** Module as written, including leading dots of relative imports ("..models"). */
  module: string;
  /** Imported symbol for `from m import s`; null for `import m`. */
  symbol: string | null;
  range: Range;
}

/**
 * Spellings of one framework module collapsed onto its public name. `internal` marks paths that are
 * private or long gone (TF 1.x `_impl`, `contrib`, `tensorflow.python`, Keras 3 `keras.src`,
 * torch's `nn.modules.<file>`): they still resolve, and a note says the path was read that way.
 */
const CANONICAL_PREFIXES: { from: RegExp; to: string; internal: boolean }[] = [
  { from: /^tensorflow\.python\.keras\._impl\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tensorflow\.contrib\.keras\.python\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tensorflow\.contrib\.keras\.api\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tensorflow\.contrib\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tensorflow\.python\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tensorflow\.keras\.api\._v2\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tensorflow\.keras(\.|$)/, to: 'keras$1', internal: false },
  { from: /^tf\.keras(\.|$)/, to: 'keras$1', internal: false },
  { from: /^keras\._impl\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^keras\.src(\.|$)/, to: 'keras$1', internal: true },
  { from: /^tf_keras(\.|$)/, to: 'keras$1', internal: false },
  { from: /^keras\.api\._v2\.keras(\.|$)/, to: 'keras$1', internal: true },
  { from: /^keras\.api(\.|$)/, to: 'keras$1', internal: true },
  { from: /^keras\._tf_keras\.keras(\.|$)/, to: 'keras$1', internal: true },
  // torch.nn.modules.linear.Linear, torch.nn.modules.Conv2d: the classes torch.nn re-exports.
  { from: /^torch\.nn\.modules(?:\.[a-z_]+)?\.(?=[A-Z])/, to: 'torch.nn.', internal: true },
  { from: /^torch\.nn\.modules(?:\.[a-z_]+)?$/, to: 'torch.nn', internal: true },
];

/** Canonical qualified name: Keras paths collapse onto `keras.*`, torch's module files onto `torch.nn`. */
export function canonicalQualified(name: string): string {
  for (const { from, to } of CANONICAL_PREFIXES) if (from.test(name)) return name.replace(from, to);
  return name;
}

/** Whether a module path is a private or legacy spelling that canonicalQualified rewrites. */
export function isInternalPath(name: string): boolean {
  return CANONICAL_PREFIXES.some((p) => p.internal && p.from.test(name));
}

/**
 * A name the file uses but never binds, taken to be a framework name by its spelling (notebook
 * fragments without their import cell, `from pkg import *`). Recorded so the reader is told.
 */
export interface AssumedBinding {
  local: string;
  /** Canonical qualified name it stands for ("torch.nn", "keras.layers.Dense"). */
  qualified: string;
  /** The star import that may bind it (its module as written), or null when nothing can. */
  starModule: string | null;
  /** First use. */
  range: Range;
}

/** `__import__('module').name` (a string literal module): the module and the name taken from it; null for anything else. */
function dunderImport(node: Node): { module: string; symbol: string } | null {
  if (node.type !== 'attribute') return null;
  const call = node.childForFieldName('object');
  const symbol = node.childForFieldName('attribute')?.text;
  if (call?.type !== 'call' || call.childForFieldName('function')?.text !== '__import__' || !symbol) return null;
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  const first = args[0];
  const module = args.length === 1 && first?.type === 'string' ? stringValue(first) : null;
  return module ? { module, symbol } : null;
}

export class ImportTable {
  readonly bindings: ImportBinding[] = [];
  /** Modules of `from M import *` statements, as written, in file order (they bind names no binding lists). */
  readonly starModules: string[] = [];
  /**
   * The classes and functions a `from <this module> import *` elsewhere binds: the public ones defined
   * at top level, or those a literal `__all__` lists (the definitions other files' code can build).
   */
  readonly starExports: string[] = [];
  /** Names bound by spelling only (see AssumedBinding); filled once by the extractors' assumption pass. */
  readonly assumed: AssumedBinding[] = [];
  /** Whether the assumption pass has run on this table. */
  assumptionsMade = false;
  private byLocal = new Map<string, string>();
  /**
   * resolve's answers by dotted name while byLocal stays as it is (setLocal empties it): the analysis of
   * a model-dense 5,000-line file resolves ~4,000 names, each a new string to look up and rewrite.
   */
  private readonly resolved = new Map<string, string>();
  /** The first and last row of each import statement: an edit of those rows changes the table (PyFile.parse). */
  private importRows: { first: number; last: number }[] = [];
  /**
   * Module-level names addModuleAliases weighed as aliases: whether each is one depends on how many lines
   * assign it, anywhere in the file, so an edited line that assigns one changes the table.
   */
  private aliasCandidates: string[] = [];

  static fromTree(root: Node): ImportTable {
    const table = new ImportTable();
    // Imports anywhere (functions, try/except, notebooks' later cells) count: real code imports lazily.
    // Imports are statements; an ERROR node may hold statements the parser could not place.
    // Every import statement holds the word `import`: subtrees without it are not walked.
    const holdsWord = spanHolds(root, /\bimport\b/g);
    const isImport = (type: string) => type === 'import_statement' || type === 'import_from_statement';
    const descend = (type: string, start: number, end: number) => (STATEMENT_CONTAINERS.has(type) || type === 'ERROR') && holdsWord(start, end);
    for (const n of nodesOfType(root, isImport, descend)) {
      table.add(n);
      table.importRows.push({ first: n.startPosition.row, last: n.endPosition.row });
    }
    table.addModuleAliases(root);
    table.starExports.push(...starExports(root));
    return table;
  }

  /**
   * `RNN = recurrent.LSTM`, `L = tf.keras.layers`, `act = tf.nn.relu` at module level: a name assigned
   * once, to a dotted name whose head an import binds, stands for what that dotted name resolves to
   * (Keras examples swap the recurrent class through such an alias). A name assigned on more than one
   * line is left alone: which value reaches a use would need flow analysis.
   */
  private addModuleAliases(root: Node): void {
    const text = root.text;
    for (const stmt of root.namedChildren) {
      const assignment = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
      if (assignment?.type !== 'assignment') continue;
      const left = assignment.childForFieldName('left');
      const right = assignment.childForFieldName('right');
      if (left?.type !== 'identifier' || (right?.type !== 'attribute' && right?.type !== 'identifier')) continue;
      const dunder = dunderImport(right);
      if (dunder) {
        // `identity_block = __import__('2-identity_block').identity_block`: a module whose file name is no identifier.
        if (!this.byLocal.has(left.text)) this.bind(left.text, dunder.module, dunder.symbol, assignment, `${dunder.module}.${dunder.symbol}`);
        continue;
      }
      const target = dottedName(right);
      const local = left.text;
      if (!target || this.byLocal.has(local) || !this.byLocal.has(target.split('.')[0]!)) continue;
      this.aliasCandidates.push(local);
      const assignedLines = text.match(new RegExp(`^[ \\t]*${local}[ \\t]*=(?!=)`, 'gm'))?.length ?? 0;
      if (assignedLines !== 1) continue;
      this.setLocal(local, this.resolve(target));
    }
  }

  /** Whether rows `first`..`last` hold part of an import statement. */
  importOnRows(first: number, last: number): boolean {
    return this.importRows.some((r) => r.first <= last && r.last >= first);
  }

  /**
   * Whether whole lines of a file, edited or written, could change its table: they hold the word
   * `import` (an import, or one a string or comment around it hid), `def` or `class` (a definition's
   * name, which starExports lists), or assign a name weighed as a module alias (its count of assigning lines).
   */
  couldChange(lines: string): boolean {
    if (/\b(?:import|def|class|__import__)\b/.test(lines)) return true;
    return this.aliasCandidates.some((local) => new RegExp(`^[ \\t]*${local}[ \\t]*=(?!=)`, 'm').test(lines));
  }

  /**
   * This table for the file after an edit that changed none of what it reads (PyFile.parse decides):
   * the same imports, aliases and star exports, with the rows below `lastEditedRow` moved by `rowDelta`,
   * and no assumptions (the assumption pass reads the new text again).
   */
  movedBelow(lastEditedRow: number, rowDelta: number): ImportTable {
    const table = new ImportTable();
    const row = (line: number) => (line > lastEditedRow ? line + rowDelta : line);
    const moved = (r: Range): Range => (r.start.line > lastEditedRow ? { start: { line: r.start.line + rowDelta, character: r.start.character }, end: { line: r.end.line + rowDelta, character: r.end.character } } : r);
    table.bindings.push(...(rowDelta === 0 ? this.bindings : this.bindings.map((b) => ({ ...b, range: moved(b.range) }))));
    table.starModules.push(...this.starModules);
    table.starExports.push(...this.starExports);
    table.byLocal = new Map(this.byLocal);
    for (const a of this.assumed) table.byLocal.delete(a.local);
    table.importRows = rowDelta === 0 ? this.importRows : this.importRows.map((r) => ({ first: row(r.first), last: row(r.last) }));
    table.aliasCandidates = this.aliasCandidates;
    return table;
  }

  private add(stmt: Node): void {
    if (stmt.type === 'import_statement') {
      for (const item of stmt.namedChildren) {
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
    if (module && stmt.namedChildren.some((c) => c.type === 'wildcard_import')) this.starModules.push(module);
    for (const item of stmt.namedChildren) {
      if (item === moduleNode || item.id === moduleNode?.id) continue;
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
    this.setLocal(local, canonicalQualified(qualified));
  }

  /** Binds a name the file never imports to a framework name (see AssumedBinding). */
  assume(binding: AssumedBinding): void {
    if (this.byLocal.has(binding.local)) return;
    this.assumed.push(binding);
    this.setLocal(binding.local, canonicalQualified(binding.qualified));
  }

  /** True when some import (or an assumption) introduces `local`. */
  has(local: string): boolean {
    return this.byLocal.has(local);
  }

  /**
   * Resolves a dotted name through the imports: "L.Dense" -> "keras.layers.Dense". Names whose first
   * part is not imported come back canonicalized but otherwise as written (a local or unknown name).
   */
  resolve(dotted: string): string {
    let qualified = this.resolved.get(dotted);
    if (qualified === undefined) {
      const dot = dotted.indexOf('.');
      const head = dot < 0 ? dotted : dotted.slice(0, dot);
      const rest = dot < 0 ? '' : dotted.slice(dot);
      const target = this.byLocal.get(head);
      qualified = canonicalQualified(target ? target + rest : dotted);
      this.resolved.set(dotted, qualified);
    }
    return qualified;
  }

  private setLocal(local: string, qualified: string): void {
    this.byLocal.set(local, qualified);
    this.resolved.clear();
  }

  /** Resolves a node that is a dotted name; null when it is not one. */
  resolveNode(node: Node | null | undefined): string | null {
    const name = dottedName(node);
    return name ? this.resolve(name) : null;
  }

  /** Whether the file imports anything from a top-level package ("torch", "keras", "tensorflow"). */
  importsPackage(pkg: string): boolean {
    const inPackage = (module: string) => module === pkg || module.startsWith(`${pkg}.`);
    return this.bindings.some((b) => inPackage(b.module)) || this.assumed.some((a) => inPackage(a.qualified));
  }
}

/** A definition's name as its text spells it (tree-sitter's identifier: `_` or XID_Start, then XID_Continue). */
const DEFINITION_NAME = /^(?:async[ \t]+)?(?:def|class)[ \t]+([\p{XID_Start}_]\p{XID_Continue}*)/u;

/**
 * The name of a function or class definition, read from its text: reading the node's children crosses
 * into wasm once per definition, ~1 ms per parse of a 5,000-line file of 300 definitions (every edit
 * parses the file and the slice of the edited definition: analysis/units.ts).
 */
function definitionName(def: Node): string | undefined {
  return DEFINITION_NAME.exec(def.text)?.[1] ?? def.childForFieldName('name')?.text;
}

/** See ImportTable.starExports. */
function starExports(root: Node): string[] {
  const defined: string[] = [];
  let listed: string[] | null = null;
  for (const stmt of root.namedChildren) {
    const def = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
    if (def?.type === 'class_definition' || def?.type === 'function_definition') {
      const name = definitionName(def);
      if (name) defined.push(name);
      continue;
    }
    const assignment = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
    if (assignment?.type !== 'assignment' || assignment.childForFieldName('left')?.text !== '__all__') continue;
    const value = assignment.childForFieldName('right');
    const names = value?.type === 'list' || value?.type === 'tuple' ? value.namedChildren.map(stringValue) : null;
    // Only a literal list of strings says what is exported; anything else leaves Python's default.
    listed = names?.every((n) => n !== null) ? names : null;
  }
  const exported = listed;
  return exported ? defined.filter((name) => exported.includes(name)) : defined.filter((name) => !name.startsWith('_'));
}
