/**
 * Framework names a file uses without importing them. Notebook fragments and course snippets lose
 * their import cell (`Sequential([Dense(300, ...)])`, `nn.Linear(...)`), and `from pkg import *`
 * hides where `nn` comes from. A name that nothing in the file binds (no import, definition,
 * assignment, parameter, loop or `as` target) and that is spelled like a framework name is taken to
 * be that name, and the file gets a note saying so. A name the file defines or imports is never
 * reinterpreted: `class Dense:` in a numpy network stays the file's own class.
 *
 * The pass runs once per parsed file, before any extractor reads names (each extractor calls it;
 * later calls do nothing), and records its assumptions on the file's ImportTable.
 */
import type { Node } from '../python/syntax-tree';
import type { Range } from '../../shared/ir';
import type { PyFile } from '../python/file';
import { canonicalQualified, isInternalPath, type AssumedBinding } from '../python/imports';
import { rangeOf } from '../python/syntax';
import { bareOffsets, writtenBare } from '../python/text-words';
import { layerSpec } from './keras/catalog';
import { addNote, type FileNote } from './notes';
import { isTorchLayerClass } from './torch/catalog';

/** Module aliases by their customary spelling. */
const MODULE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['torch', 'torch'],
  ['nn', 'torch.nn'],
  ['F', 'torch.nn.functional'],
  ['optim', 'torch.optim'],
  ['tf', 'tensorflow'],
  ['keras', 'keras'],
  ['layers', 'keras.layers'],
  ['K', 'keras.backend'],
]);

const KERAS_MODEL_CLASSES: ReadonlyMap<string, string> = new Map([
  ['Sequential', 'keras.models.Sequential'],
  ['Model', 'keras.models.Model'],
  ['Input', 'keras.layers.Input'],
]);
const TORCH_MODULE_CLASSES = new Set(['Sequential', 'Module', 'ModuleList', 'ModuleDict']);

const kerasName = (name: string): string | null => KERAS_MODEL_CLASSES.get(name) ?? (layerSpec(name) ? `keras.layers.${name}` : null);
const torchName = (name: string): string | null => (TORCH_MODULE_CLASSES.has(name) || isTorchLayerClass(name) ? `torch.nn.${name}` : null);

/** What each framework module exports by name, for `from <module> import *` (canonical module names). */
function exportedBy(module: string, name: string): string | null {
  switch (module) {
    case 'torch':
      return name === 'nn' || name === 'optim' ? `torch.${name}` : null;
    case 'torch.nn':
      return name === 'functional' || name === 'init' ? `torch.nn.${name}` : torchName(name);
    case 'tensorflow':
      return name === 'keras' ? 'keras' : null;
    case 'keras':
      return name === 'layers' || name === 'models' || name === 'backend' ? `keras.${name}` : KERAS_MODEL_CLASSES.has(name) ? `keras.${name}` : null;
    case 'keras.layers':
      return name === 'Input' || layerSpec(name) ? `keras.layers.${name}` : null;
    case 'keras.models':
      return name === 'Sequential' || name === 'Model' ? `keras.models.${name}` : null;
    default:
      return null;
  }
}

const isFrameworkModule = (module: string): boolean => /^(torch|keras|tensorflow)(\.|$)/.test(module);

/** Cheap first look: a spelling that could be an unbound framework name followed by `.` or `(`. */
const CANDIDATE = /\b([A-Z][A-Za-z0-9]*|nn|F|optim|tf|keras|layers|torch|K)\s*[.(]/g;

/** Parent types whose direct identifier children are bound names. */
const BINDING_PARENTS = new Set(['parameters', 'lambda_parameters', 'typed_parameter', 'list_splat_pattern', 'dictionary_splat_pattern', 'as_pattern_target', 'global_statement', 'nonlocal_statement']);
/** Containers of several assignment targets (`a, b = ...`, `for (i, x) in ...`). */
const TARGET_LISTS = new Set(['pattern_list', 'tuple_pattern', 'list_pattern', 'expression_list', 'tuple', 'list', 'parenthesized_expression', 'list_splat_pattern']);
const TARGET_FIELDS: readonly [string, string][] = [
  ['assignment', 'left'],
  ['augmented_assignment', 'left'],
  ['for_statement', 'left'],
  ['for_in_clause', 'left'],
  ['named_expression', 'name'],
  ['function_definition', 'name'],
  ['class_definition', 'name'],
  ['default_parameter', 'name'],
  ['typed_default_parameter', 'name'],
  ['as_pattern', 'alias'],
];

/** Whether a node is inside a string (an f-string's expressions too) or a comment. */
function insideText(node: Node): boolean {
  for (let at = node.parent; at; at = at.parent) if (at.type === 'string' || at.type === 'comment') return true;
  return false;
}

function isField(parent: Node, field: string, child: Node): boolean {
  return parent.childForFieldName(field)?.id === child.id;
}

/** Whether an identifier node is a place where a name is bound (not a use). */
export function isBinding(id: Node): boolean {
  let child = id;
  let parent = id.parent;
  if (!parent) return false;
  if (BINDING_PARENTS.has(parent.type)) return true;
  // Climb through target lists: `a, (b, c) = ...`.
  while (parent && TARGET_LISTS.has(parent.type)) {
    child = parent;
    parent = parent.parent;
  }
  if (!parent) return false;
  return TARGET_FIELDS.some(([type, field]) => parent.type === type && isField(parent, field, child));
}

/** Whether an identifier is read as a name (`nn` in `nn.Linear`, `Dense` in `Dense(3)`), not an attribute or keyword. */
function isUse(id: Node): boolean {
  const parent = id.parent;
  if (!parent) return false;
  if (parent.type === 'attribute') return isField(parent, 'object', id) && parent.parent?.type !== 'dotted_name';
  if (parent.type === 'keyword_argument') return isField(parent, 'value', id);
  return parent.type === 'call' ? isField(parent, 'function', id) : parent.type === 'argument_list';
}

interface StarImport {
  module: string;
  canonical: string;
  range: Range;
}

function starImports(root: Node): StarImport[] {
  const stars: StarImport[] = [];
  const visit = (node: Node) => {
    for (const child of node.namedChildren) {
      if (child.type === 'import_from_statement') {
        if (!child.namedChildren.some((c) => c.type === 'wildcard_import')) continue;
        const module = child.childForFieldName('module_name')?.text;
        if (module) stars.push({ module, canonical: canonicalQualified(module), range: rangeOf(child) });
      } else if (/statement|clause|block|definition|module|ERROR/.test(child.type) && child.type !== 'expression_statement') visit(child);
    }
  };
  visit(root);
  return stars;
}

/** Binds the framework names `file` uses but never binds (see the file comment). Idempotent. */
export function assumeFrameworkNames(file: PyFile): void {
  if (file.imports.assumptionsMade) return;
  file.imports.assumptionsMade = true;
  assume(file);
  noteImports(file);
}

function assume(file: PyFile): void {
  const imports = file.imports;

  const candidates = new Set<string>();
  for (const m of file.text.matchAll(CANDIDATE)) {
    const word = m[1]!;
    if (imports.has(word) || candidates.has(word)) continue;
    if (MODULE_ALIASES.has(word) || kerasName(word) || torchName(word)) candidates.add(word);
  }
  // Only a name written somewhere without a dot before it can be read bare (`layers.Dense(` never is):
  // this spares the walk over every node when all the file's uses are attributes.
  for (const word of candidates) if (!writtenBare(file.text, word)) candidates.delete(word);
  if (candidates.size === 0) return;

  // Each place a candidate is written bare, as the syntax tree reads it there (not every node of the
  // file: a script that star-imports its layers walked them all).
  const bound = new Set<string>();
  const firstUse = new Map<string, Node>();
  for (const name of candidates) {
    for (const at of bareOffsets(file.text, name)) {
      const id = file.root.descendantForIndex(at, at + name.length);
      if (id?.type !== 'identifier' || id.startIndex !== at || id.endIndex !== at + name.length || insideText(id)) continue;
      if (isBinding(id)) {
        bound.add(name);
        break;
      }
      if (!firstUse.has(name) && isUse(id)) firstUse.set(name, id);
    }
  }

  const unbound = [...firstUse].filter(([name]) => !bound.has(name)).sort(([, a], [, b]) => a.startIndex - b.startIndex).map(([name]) => name);
  if (unbound.length === 0) return;
  const stars = starImports(file.root);
  const unknownStar = stars.find((s) => !isFrameworkModule(s.canonical)) ?? null;

  const resolved = new Map<string, { qualified: string; starModule: string | null }>();
  const ambiguous: string[] = [];
  for (const name of unbound) {
    const fromStar = stars.map((s) => ({ s, q: exportedBy(s.canonical, name) })).find((x) => x.q);
    if (fromStar?.q) {
      resolved.set(name, { qualified: fromStar.q, starModule: fromStar.s.module });
      continue;
    }
    const alias = MODULE_ALIASES.get(name);
    const keras = kerasName(name);
    const torch = torchName(name);
    const qualified = alias ?? (keras && !torch ? keras : torch && !keras ? torch : null);
    if (qualified) resolved.set(name, { qualified, starModule: unknownStar?.module ?? null });
    else if (keras && torch) ambiguous.push(name);
  }
  // `Sequential`, `Dropout`, `Embedding` are spelled alike in both: the rest of the file decides, Keras when nothing does.
  const says = (pkg: string) => imports.importsPackage(pkg) || [...resolved.values()].some((r) => r.qualified.split('.')[0] === pkg);
  const torchSide = says('torch') && !(says('keras') || says('tensorflow'));
  for (const name of ambiguous) {
    const qualified = torchSide ? torchName(name) : kerasName(name);
    if (qualified) resolved.set(name, { qualified, starModule: unknownStar?.module ?? null });
  }

  for (const [name, { qualified, starModule }] of resolved) {
    const use = firstUse.get(name);
    if (use) imports.assume({ local: name, qualified, starModule, range: rangeOf(use) } satisfies AssumedBinding);
  }
}

/** Notes for what the assumptions and the import table read in a non-obvious way (left on the file once). */
function noteImports(file: PyFile): void {
  for (const note of importNotes(file)) addNote(file, note);
}

const quoted = (names: string[]) => names.map((n) => `'${n}'`).join(', ');
const frameworkOf = (qualified: string) => (qualified.startsWith('torch') ? 'PyTorch' : 'Keras');

/** One note per assumption kind: framework assumed without imports, names read through a star import, private import paths. */
function importNotes(file: PyFile): FileNote[] {
  const notes: FileNote[] = [];
  const groups = new Map<string, AssumedBinding[]>();
  for (const a of file.imports.assumed) {
    const key = a.starModule === null ? `none:${frameworkOf(a.qualified)}` : `star:${a.starModule}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  for (const [key, group] of groups) {
    group.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    const first = group[0]!;
    const names = quoted(group.map((a) => a.local));
    if (key.startsWith('none:')) {
      notes.push({ message: `${key.slice(5)} was assumed: no import found for ${names}`, range: first.range });
    } else {
      const star = `\`from ${first.starModule} import *\``;
      const readAs = group.map((a) => `'${a.local}' as ${a.qualified}`).join(', ');
      const message = isFrameworkModule(canonicalQualified(first.starModule ?? ''))
        ? `Star import ${star}: read ${readAs}`
        : `Read by spelling: ${readAs}; only ${star} can bind ${group.length === 1 ? 'it' : 'them'}`;
      notes.push({ message, range: first.range });
    }
  }
  const seen = new Set<string>();
  for (const b of file.imports.bindings) {
    const written = b.symbol === null ? b.module : `${b.module}.${b.symbol}`;
    if (seen.has(b.module) || !isInternalPath(written)) continue;
    seen.add(b.module);
    notes.push({ message: `Import path ${b.module} is internal or legacy; read as ${canonicalQualified(b.module)}`, range: b.range });
  }
  return notes;
}
