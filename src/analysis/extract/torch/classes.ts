/**
 * The classes of a file that are torch modules: bases resolving to torch.nn.Module (any spelling,
 * LightningModule included) or to another module class of the same file.
 */
import type { Node } from '../../python/syntax-tree';
import type { PyFile } from '../../python/file';
import { assignmentOf, dottedName, namedChildren } from '../../python/syntax';
import { torchLayerName } from './catalog';
import { classDefinitions } from './search';
import type { ClassInfo } from './values';

/** torchBase of a class that is not a torch module. */
export const PLAIN_CLASS = 'object';

/** Whether a class of the file is a torch module (a candidate model). */
export const isModuleClass = (cls: ClassInfo): boolean => cls.torchBase !== PLAIN_CLASS;

const MODULE_BASES = new Map([
  ['torch.nn.Module', 'torch.nn.Module'],
  ['torch.nn.modules.module.Module', 'torch.nn.Module'],
  ['torch.nn.modules.Module', 'torch.nn.Module'],
  ['torch.jit.ScriptModule', 'torch.nn.Module'],
  ['torch.nn.Sequential', 'torch.nn.Sequential'],
  ['torch.nn.modules.container.Sequential', 'torch.nn.Sequential'],
  ['pytorch_lightning.LightningModule', 'torch.nn.Module'],
  ['pytorch_lightning.core.LightningModule', 'torch.nn.Module'],
  ['pytorch_lightning.core.lightning.LightningModule', 'torch.nn.Module'],
  ['pytorch_lightning.core.module.LightningModule', 'torch.nn.Module'],
  ['lightning.LightningModule', 'torch.nn.Module'],
  ['lightning.pytorch.LightningModule', 'torch.nn.Module'],
  ['lightning.pytorch.core.LightningModule', 'torch.nn.Module'],
]);

function baseNames(def: Node): string[] {
  const list = def.childForFieldName('superclasses');
  if (!list) return [];
  return namedChildren(list)
    .filter((c) => c.type !== 'keyword_argument')
    .map((c) => dottedName(c))
    .filter((n): n is string => n !== null);
}

function methodsOf(def: Node): Map<string, Node> {
  const methods = new Map<string, Node>();
  const body = def.childForFieldName('body');
  for (const stmt of body ? namedChildren(body) : []) {
    const fn = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
    if (fn?.type !== 'function_definition') continue;
    const name = fn.childForFieldName('name')?.text;
    if (name) methods.set(name, fn);
  }
  return methods;
}

/** The id of the block a definition is a statement of (its decorators included). */
function blockOf(def: Node): number | undefined {
  const statement = def.parent?.type === 'decorated_definition' ? def.parent : def;
  return statement.parent?.id;
}

export function findModuleClasses(file: PyFile): Map<string, ClassInfo> {
  const defs = classDefinitions(file.root, file.text);
  const byName = new Map<string, Node>();
  for (const def of defs) {
    const name = def.childForFieldName('name')?.text;
    const known = name ? byName.get(name) : undefined;
    // A name defined twice in one block is the later class, as Python runs them (a module, or a notebook
    // cell run again with changes); in two branches (try/except, if/else) the first, the one that runs.
    if (name && (!known || blockOf(known) === blockOf(def))) byName.set(name, def);
  }
  const classes = new Map<string, ClassInfo>();
  const visiting = new Set<string>();
  const resolve = (name: string): ClassInfo | null => {
    // Returns null only for names that are not classes of the file (or cyclic bases).
    const existing = classes.get(name);
    if (existing) return existing;
    const def = byName.get(name);
    if (!def || visiting.has(name)) return null;
    visiting.add(name);
    const bases: ClassInfo[] = [];
    let torchBase: string | null = null;
    for (const base of baseNames(def)) {
      const local = !file.imports.has(base.split('.')[0]!) ? resolve(base) : null;
      if (local) {
        bases.push(local);
        if (local.torchBase !== PLAIN_CLASS) torchBase ??= local.torchBase;
        continue;
      }
      const resolved = file.imports.resolve(base);
      // Any torch.nn class is a Module (nn.Transformer, nn.ModuleList, nn.Linear subclasses).
      const known = MODULE_BASES.get(resolved) ?? (torchLayerName(resolved) ? 'torch.nn.Module' : undefined);
      if (known) torchBase ??= known;
    }
    visiting.delete(name);
    // Classes that are not modules (configs, dataclasses, trainers) are kept too: their attributes
    // carry sizes (`config.n_embd`) and their methods may build models.
    const info: ClassInfo = { name, node: def, bases, torchBase: torchBase ?? PLAIN_CLASS, methods: methodsOf(def) };
    classes.set(name, info);
    return info;
  };
  for (const name of byName.keys()) resolve(name);
  return classes;
}

/** Module-level function definitions by name (the first definition wins). */
export function findFunctions(file: PyFile): Map<string, Node> {
  const functions = new Map<string, Node>();
  for (const stmt of namedChildren(file.root)) {
    const fn = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
    if (fn?.type !== 'function_definition') continue;
    const name = fn.childForFieldName('name')?.text;
    if (name && !functions.has(name)) functions.set(name, fn);
  }
  return functions;
}

/** A class attribute (`expansion = 4` in the class body), looked up through same-file bases. */
export function classAttribute(cls: ClassInfo, name: string): Node | null {
  const body = cls.node.childForFieldName('body');
  for (const stmt of body ? namedChildren(body) : []) {
    const assign = assignmentOf(stmt);
    if (assign?.target.type === 'identifier' && assign.target.text === name) return assign.value;
  }
  for (const base of cls.bases) {
    const found = classAttribute(base, name);
    if (found) return found;
  }
  return null;
}

/** Field names of a dataclass-like body (`x: int = 3`, `y: float`), in order. */
export function classFields(cls: ClassInfo): string[] {
  const body = cls.node.childForFieldName('body');
  const fields: string[] = [];
  for (const stmt of body ? namedChildren(body) : []) {
    const expr = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
    const left = expr?.type === 'assignment' ? expr.childForFieldName('left') : null;
    if (left?.type === 'identifier' && expr?.childForFieldName('type')) fields.push(left.text);
  }
  return fields;
}
