/**
 * Cross-file linking: training facts that one file records about an imported model
 * (`from model import build_model` ... `model.fit(...)` in train.py) are merged into the model that
 * another file of the same project defines. Facts keep their own `file`, so findings about them land
 * on train.py's lines while the model stays in model.py.
 *
 * Resolution follows Python's import rules as far as they can be known statically:
 * - relative modules (`.model`, `..nets.lstm`) from the importing file's package directory;
 * - absolute modules (`model`, `pkg.models.net`) from the importing file's own directory (a script's
 *   folder is on sys.path), then from the root of its package (the first ancestor without
 *   `__init__.py`), then from the configured roots, then from every ancestor directory;
 * - `name.py` before `name/__init__.py`; a package `__init__.py` that re-exports the symbol
 *   (`from .net import Net`) is followed (a few hops).
 * Anything that does not resolve to exactly one model of the project stays unlinked: no guess.
 */
import { posix } from 'node:path';
import type { ModelIR, Position, Range, TrainingIR } from '../shared/ir';
import { builtAtCall, cloneModel } from '../shared/models';
import { PARAMETER_MODULE, UNBOUND_NAME_MODULE, type ExternalTraining, type ModelPass } from './extract/types';
import { submodule, type ImportBinding } from './python/imports';
import type { CallSite } from './python/call-sites';
import { mergeTraining } from './extract/training/merge';

export { mergeTraining };

/**
 * One file of the project as the linker needs it. The models are not mutated: a model that gains linked
 * training facts is replaced in `models` by a copy that holds them.
 */
/**
 * What the linker reads of a file's imports: its bindings, and for star imports the modules it
 * star-imports and what a star import of it binds (python/imports.ts ImportTable).
 */
export interface LinkImports {
  readonly bindings: readonly ImportBinding[];
  readonly starModules?: readonly string[];
  readonly starExports?: readonly string[];
}

export interface LinkFile {
  path: string;
  models: ModelIR[];
  external: readonly ExternalTraining[];
  /** Models the file passes to functions of other project files (`workflow(lstm_model)`). */
  passes?: readonly ModelPass[];
  /** The file's imports (for following re-exports in package `__init__.py` files); null when unparsed. */
  imports: LinkImports | null;
}

export interface LinkOptions {
  /** Extra import roots (e.g. a `src/` folder), absolute or in the same form as the file paths. */
  roots?: readonly string[];
  /**
   * Files of the project analyzed elsewhere (by another CLI worker): imports resolve among them as
   * among the project's own files, so `__init__.py` files and same-named modules there count.
   */
  otherPaths?: readonly string[];
}

/**
 * The files that can share facts, as groups: two files are in one group when one imports a module
 * that resolves to the other (call sites, training facts, re-exports, classes from other modules), or
 * when a file names the other in `joins` (it reads a dict the other's functions assign, see
 * python/attribute-writes.ts). Groups keep the order of `files`; each group's files in that order.
 */
export function importGroups(files: readonly { path: string; modules: readonly string[]; joins?: readonly string[] }[], options: LinkOptions = {}): string[][] {
  const index = new ProjectIndex(files.map((f) => ({ path: f.path, models: [], external: [], imports: null })), options);
  const parent = new Map<string, string>(files.map((f) => [f.path, f.path]));
  const find = (path: string): string => {
    let root = path;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    parent.set(path, root);
    return root;
  };
  for (const file of files) {
    for (const module of file.modules) {
      const target = index.resolveModule(file.path, module);
      if (target && parent.has(target.path)) parent.set(find(target.path), find(file.path));
    }
    for (const other of file.joins ?? []) if (parent.has(other)) parent.set(find(other), find(file.path));
  }
  const groups = new Map<string, string[]>();
  for (const file of files) {
    const root = find(file.path);
    const group = groups.get(root) ?? [];
    group.push(file.path);
    groups.set(root, group);
  }
  return [...groups.values()];
}

/**
 * One resolved import: facts from `from` were merged into model `modelId` of `toFile`. For a model
 * passed to a function (`workflow(lstm_model)` in run.py), `from` is the function's file, `symbol` the
 * function and `passedIn` the file that passes the model.
 */
export interface TrainingLink {
  from: string;
  module: string;
  symbol: string;
  toFile: string;
  modelId: string;
  /** For a name the importing file never binds (UNBOUND_NAME_MODULE): where its training starts there. */
  usedAt?: Range;
  passedIn?: string;
}

/** The first place an unbound name's training facts point at in their file. */
function firstUse(t: TrainingIR): Range | undefined {
  const ranges = [t.compile?.range, t.fit?.range, t.optimizer?.range, ...t.loops.map((l) => l.backward)].filter((r): r is Range => r !== undefined);
  return ranges.sort((a, b) => a.start.line - b.start.line || a.start.character - b.start.character)[0];
}

const MAX_REEXPORT_HOPS = 4;

const toPosix = (p: string) => p.replace(/\\/g, '/');

/**
 * Resolves every file's external training facts to models of the project and merges them in place.
 * Returns the links made (files with no resolvable import contribute none). Deterministic: importers
 * are processed in path order, so with several training scripts the first one's optimizer wins when
 * the model has none of its own (loops and data sources of all of them are kept).
 */
export function linkExternalTraining(files: readonly LinkFile[], options: LinkOptions = {}): TrainingLink[] {
  const index = new ProjectIndex(files, options);
  const links: TrainingLink[] = [];
  const all = files.flatMap((file) => file.models.map((model) => ({ file, model })));
  const onlyModel = all.length === 1 ? all[0]! : null;
  // Models are shared with the extraction cache: a target is copied once, and the copy takes its place.
  const copies = new Map<ModelIR, ModelIR>();
  const writable = (target: { file: LinkFile; model: ModelIR }): ModelIR => {
    let copy = copies.get(target.model);
    if (!copy) {
      copies.set(target.model, (copy = cloneModel(target.model)));
      const at = target.file.models.indexOf(target.model);
      if (at >= 0) target.file.models[at] = copy;
    }
    return copy;
  };
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    for (const ext of file.external) {
      if (ext.module === PARAMETER_MODULE) continue;
      const unbound = ext.module === UNBOUND_NAME_MODULE;
      const target = unbound ? onlyModel : index.resolveSymbol(file.path, ext.module, ext.symbol, 0, ext.builtAt);
      if (!target) continue;
      mergeTraining(writable(target).training, ext.training);
      const link: TrainingLink = { from: file.path, module: ext.module, symbol: ext.symbol, toFile: target.file.path, modelId: target.model.id };
      if (unbound) link.usedAt = firstUse(ext.training);
      links.push(link);
    }
  }
  // Models passed to functions of other files: each gets the training those functions give the parameter.
  const merged = new Set<string>();
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    for (const pass of file.passes ?? []) {
      const fn = index.definingFile(file.path, pass.module, pass.symbol, 0);
      const fnFile = fn ? index.fileOf(fn.path) : null;
      if (!fn || !fnFile || fnFile === file) continue;
      const facts = fnFile.external.filter((e) => e.module === PARAMETER_MODULE && e.symbol === fn.symbol && e.parameter && (e.parameter.name === pass.keyword || e.parameter.index === pass.position));
      if (facts.length === 0) continue;
      const target = passedModel(file, pass, index);
      if (!target) continue;
      for (const ext of facts) {
        const key = `${fnFile.path}\u0000${fn.symbol}\u0000${ext.parameter?.name ?? ''}\u0000${target.file.path}\u0000${target.model.id}`;
        if (merged.has(key)) continue;
        merged.add(key);
        mergeTraining(writable(target).training, ext.training);
        links.push({ from: fnFile.path, module: pass.module, symbol: fn.symbol, toFile: target.file.path, modelId: target.model.id, passedIn: file.path });
      }
    }
  }
  return links;
}

/** The model a pass hands over: one of the passing file's own, or the one it imports. */
function passedModel(file: LinkFile, pass: ModelPass, index: ProjectIndex): { file: LinkFile; model: ModelIR } | null {
  const passed = pass.model;
  if (passed.kind === 'external') return index.resolveSymbol(file.path, passed.module, passed.symbol, 0, passed.builtAt);
  const model = file.models.find((m) => m.id === passed.id);
  return model ? { file, model } : null;
}

/**
 * Whether `module`, imported by `importer`, is one of `paths` (Python's import rules as above).
 * For notes about what lies outside the analyzed files.
 */
export function moduleResolver(paths: readonly string[], options: LinkOptions = {}): (importer: string, module: string) => boolean {
  const index = new ProjectIndex(paths.map((path) => ({ path, models: [], external: [], imports: null })), options);
  return (importer, module) => index.resolveModule(importer, module) !== null;
}

/** What the call-site pass needs of one file: its path, imports and syntax. */
export interface SiteFile {
  path: string;
  imports: LinkImports | null;
  /** The calls of the given names (plain, or dotted as written: `lib.build`) in the file, as call sites (see python/call-sites.ts). */
  callsOf: (locals: ReadonlySet<string>) => Map<string, CallSite[]>;
  /** The names the file calls, plain or dotted, as written (`build`, `lib.build`, `m.Builder.build`). */
  calledNames: () => Iterable<string>;
}

/**
 * Calls made in the files `from` of classes and builders another file of the project defines
 * (`from lib.field import Field` ... `Field([3, 50, 1])`): per calling file, by the defining file's
 * path, then the defined name. Re-exports through package `__init__.py` files are followed (a few hops).
 */
export function crossFileSites(files: readonly SiteFile[], from: ReadonlySet<string>, options: LinkOptions = {}): Map<string, Map<string, Map<string, CallSite[]>>> {
  const index = new ProjectIndex(files.map((f) => ({ path: f.path, models: [], external: [], imports: f.imports })), options);
  const result = new Map<string, Map<string, Map<string, CallSite[]>>>();
  for (const file of files) {
    if (!from.has(file.path)) continue;
    const out = new Map<string, Map<string, CallSite[]>>();
    result.set(file.path, out);
    const targets = new Map<string, { path: string; symbol: string }>();
    for (const b of file.imports?.bindings ?? []) {
      if (b.symbol === null || b.symbol === '*') continue;
      const target = index.definingFile(file.path, b.module, b.symbol, 0);
      if (target && target.path !== file.path) targets.set(b.local, target);
    }
    for (const [local, target] of index.starBindings(file.path)) if (!targets.has(local)) targets.set(local, target);
    // Dotted calls: through a module object (`import lib` ... `lib.build(...)`) they bind like `from lib
    // import build`; a static method of an imported class (`Builder.build(...)`) keeps its qualification.
    const modules = index.moduleObjects(file.path, file.imports?.bindings ?? []);
    if (modules.size > 0 || targets.size > 0) {
      const named = new Map(targets);
      for (const called of file.calledNames()) {
        const dot = called.indexOf('.');
        if (dot < 0) continue;
        const head = called.slice(0, dot);
        const rest = called.slice(dot + 1);
        const defined = named.get(head);
        const target = modules.has(head) ? index.throughModule(file.path, modules, called) : defined ? { path: defined.path, symbol: `${defined.symbol}.${rest}` } : null;
        if (target && target.path !== file.path) targets.set(called, target);
      }
    }
    if (targets.size === 0) continue;
    for (const [local, sites] of file.callsOf(new Set(targets.keys()))) {
      const target = targets.get(local);
      if (!target) continue;
      let perFile = out.get(target.path);
      if (!perFile) out.set(target.path, (perFile = new Map<string, CallSite[]>()));
      perFile.set(target.symbol, [...(perFile.get(target.symbol) ?? []), ...sites]);
    }
  }
  return result;
}

/**
 * Where a name a file imports from another file of the project is defined (package re-exports
 * followed): that file's path and the name there; null for names from outside the project. A dotted
 * name is read through the file's module objects (`layers.ConvBN` with `import layers`).
 */
export function importedDefinitionSites(files: readonly { path: string; imports: LinkImports | null }[], options: LinkOptions = {}): ImportedDefinitionSites {
  const index = new ProjectIndex(files.map((f) => ({ path: f.path, models: [], external: [], imports: f.imports })), options);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const stars = new Map<string, Map<string, { path: string; symbol: string }>>();
  const starBindings = (importer: string) => {
    let found = stars.get(importer);
    if (!found) stars.set(importer, (found = index.starBindings(importer)));
    return found;
  };
  const modules = new Map<string, Map<string, string>>();
  const moduleObjects = (importer: string) => {
    let found = modules.get(importer);
    if (!found) modules.set(importer, (found = index.moduleObjects(importer, byPath.get(importer)?.imports?.bindings ?? [])));
    return found;
  };
  const where = (importer: string, local: string) => {
    // `layers.ConvBN` with `import layers`: a definition of a project module reached through its module object.
    if (local.includes('.')) {
      const target = index.throughModule(importer, moduleObjects(importer), local);
      return target && target.path !== importer ? target : null;
    }
    const binding = byPath.get(importer)?.imports?.bindings.find((b) => b.local === local && b.symbol !== null && b.symbol !== '*');
    if (!binding?.symbol) return starBindings(importer).get(local) ?? null;
    const target = index.definingFile(importer, binding.module, binding.symbol, 0);
    return target && target.path !== importer ? target : null;
  };
  return Object.assign(where, {
    starNames: (importer: string) => [...starBindings(importer).keys()],
    moduleFiles: (importer: string) => [...moduleObjects(importer).values()].flatMap((module) => index.resolveModule(importer, module)?.path ?? []),
  });
}

/** Where a name a file imports is defined (see importedDefinitionSites), and the names its star imports of project files bind. */
export interface ImportedDefinitionSites {
  (importer: string, local: string): { path: string; symbol: string } | null;
  starNames: (importer: string) => string[];
  /** The project files `importer` imports as module objects (`import layers`, `from models import resnet`). */
  moduleFiles: (importer: string) => string[];
}

class ProjectIndex {
  private readonly byPath = new Map<string, LinkFile>();
  private readonly roots: string[];
  /** resolveModule's answers by importer folder and module: every file asks for the same few modules (torch, torch.nn...). */
  private readonly resolved = new Map<string, LinkFile | null>();

  constructor(files: readonly LinkFile[], options: LinkOptions) {
    for (const path of options.otherPaths ?? []) this.byPath.set(posix.normalize(toPosix(path)), { path, models: [], external: [], imports: null });
    for (const f of files) this.byPath.set(posix.normalize(toPosix(f.path)), f);
    this.roots = (options.roots ?? []).map((r) => posix.normalize(toPosix(r)));
  }

  /**
   * The model `symbol` of `module` is, as `importer` imports it. When several calls built different
   * models of it, the one built by `importer`'s call at `builtAt` (none when that does not say).
   */
  resolveSymbol(importer: string, module: string, symbol: string, hops: number, builtAt?: Position, caller = importer): { file: LinkFile; model: ModelIR } | null {
    if (hops > MAX_REEXPORT_HOPS) return null;
    const file = this.resolveModule(importer, module);
    if (!file) return null;
    const models = file.models.filter((m) => m.exports.includes(symbol));
    if (models.length === 1) return { file, model: models[0]! };
    if (models.length > 1) {
      const from = posix.normalize(toPosix(caller));
      const built = builtAt ? models.filter((m) => builtAtCall(m, builtAt, (path) => posix.normalize(toPosix(path)) === from)) : [];
      return built.length === 1 ? { file, model: built[0]! } : null;
    }
    // A package that re-exports: `from .net import Net` in models/__init__.py.
    const binding = file.imports?.bindings.find((b) => b.local === symbol);
    if (!binding) {
      // A package that star-imports its modules: `from .field import *` in nets/__init__.py.
      const star = this.starBindings(file.path, hops + 1).get(symbol);
      const defining = star ? this.fileOf(star.path) : null;
      if (!star || !defining) return null;
      const starred = defining.models.filter((m) => m.exports.includes(star.symbol));
      return starred.length === 1 ? { file: defining, model: starred[0]! } : null;
    }
    if (binding.symbol === null) return null;
    return this.resolveSymbol(file.path, binding.module, binding.symbol, hops + 1, builtAt, caller);
  }

  /**
   * The file that defines `symbol` imported from `module` (following package re-exports), with the
   * name it has there; the module's own file when it does not re-export the name.
   */
  definingFile(importer: string, module: string, symbol: string, hops: number): { path: string; symbol: string } | null {
    const file = this.resolveModule(importer, module);
    if (!file) return null;
    const binding = hops < MAX_REEXPORT_HOPS ? file.imports?.bindings.find((b) => b.local === symbol && b.symbol !== null) : undefined;
    if (binding?.symbol) return this.definingFile(file.path, binding.module, binding.symbol, hops + 1) ?? { path: file.path, symbol };
    return { path: file.path, symbol };
  }

  /**
   * The names `importer`'s star imports of project files bind (`from models import *`), each with the
   * file that defines it and its name there: the star-imported module's own classes and functions (see
   * ImportTable.starExports) and, as Python does, what that module imports from project files in turn.
   * A later star import rebinds a name an earlier one bound; names the importer binds itself (its own
   * definitions, explicit imports) are not included.
   */
  starBindings(importer: string, hops = 0): Map<string, { path: string; symbol: string }> {
    const found = new Map<string, { path: string; symbol: string }>();
    const file = this.fileOf(importer);
    if (!file?.imports?.starModules || hops > MAX_REEXPORT_HOPS) return found;
    for (const module of file.imports.starModules) {
      const target = this.resolveModule(importer, module);
      if (!target || target.path === file.path) continue;
      // What the module binds itself overrides what its own star imports bind.
      for (const [name, defining] of this.starBindings(target.path, hops + 1)) found.set(name, defining);
      for (const b of target.imports?.bindings ?? []) {
        if (b.symbol === null || b.symbol === '*' || b.local.startsWith('_')) continue;
        const defining = this.definingFile(target.path, b.module, b.symbol, hops + 1);
        if (defining && defining.path !== target.path) found.set(b.local, defining);
      }
      for (const name of target.imports?.starExports ?? []) found.set(name, { path: target.path, symbol: name });
    }
    for (const name of file.imports.starExports ?? []) found.delete(name);
    for (const b of file.imports.bindings) found.delete(b.local);
    return found;
  }

  /**
   * The local names `importer` binds to modules of the project, with the module each names: `import
   * lib`, `import pkg.lib as lib`, and `from pkg import lib` when `pkg.lib` is a file of the project.
   */
  moduleObjects(importer: string, bindings: readonly ImportBinding[]): Map<string, string> {
    const found = new Map<string, string>();
    for (const b of bindings) {
      if (b.symbol === '*') continue;
      const module = b.symbol === null ? b.module : submodule(b.module, b.symbol);
      if (this.resolveModule(importer, module)) found.set(b.local, module);
    }
    return found;
  }

  /**
   * What `module.a.b` names, read from `importer` (`parts` = a, b): the definition in the deepest
   * submodule that is a project file (`import pkg` ... `pkg.lib.build`), re-exports followed; a name
   * inside it (`Builder.build`, a static method) keeps its qualification. Null when no part is a definition.
   */
  /** What a dotted name written in `importer` names through one of its module objects (`lib.build`, see moduleObjects); null otherwise. */
  throughModule(importer: string, modules: ReadonlyMap<string, string>, dotted: string): { path: string; symbol: string } | null {
    const dot = dotted.indexOf('.');
    const module = dot < 0 ? undefined : modules.get(dotted.slice(0, dot));
    return module === undefined ? null : this.moduleMember(importer, module, dotted.slice(dot + 1).split('.'));
  }

  moduleMember(importer: string, module: string, parts: readonly string[]): { path: string; symbol: string } | null {
    for (let split = parts.length - 1; split >= 0; split--) {
      const owner = parts.slice(0, split).reduce(submodule, module);
      if (!this.resolveModule(importer, owner)) continue;
      const defined = this.definingFile(importer, owner, parts[split]!, 0);
      return defined ? { path: defined.path, symbol: [defined.symbol, ...parts.slice(split + 1)].join('.') } : null;
    }
    return null;
  }

  /** The project file at `path` (as the files give it). */
  fileOf(path: string): LinkFile | null {
    return this.byPath.get(posix.normalize(toPosix(path))) ?? null;
  }

  /** The project file a module name refers to from `importer`; null when none or not in the project. */
  resolveModule(importer: string, module: string): LinkFile | null {
    const importerDir = posix.dirname(posix.normalize(toPosix(importer)));
    const key = `${importerDir}\0${module}`;
    let file = this.resolved.get(key);
    if (file === undefined) this.resolved.set(key, (file = this.resolveFrom(importerDir, module)));
    return file;
  }

  private resolveFrom(importerDir: string, module: string): LinkFile | null {
    const dots = module.length - module.replace(/^\.+/, '').length;
    const rest = module.slice(dots);
    if (dots > 0) {
      let base = importerDir;
      for (let i = 1; i < dots; i++) base = posix.dirname(base);
      return this.fileAt(base, rest);
    }
    for (const base of this.absoluteBases(importerDir)) {
      const found = this.fileAt(base, rest);
      if (found) return found;
    }
    return null;
  }

  private absoluteBases(importerDir: string): string[] {
    const bases = [importerDir];
    let pkgRoot = importerDir;
    while (this.byPath.has(posix.join(pkgRoot, '__init__.py')) && posix.dirname(pkgRoot) !== pkgRoot) pkgRoot = posix.dirname(pkgRoot);
    bases.push(pkgRoot, ...this.roots);
    for (let dir = importerDir; ; dir = posix.dirname(dir)) {
      bases.push(dir);
      if (posix.dirname(dir) === dir) break;
    }
    return [...new Set(bases)];
  }

  private fileAt(base: string, dotted: string): LinkFile | null {
    const parts = dotted ? dotted.split('.') : [];
    const stem = posix.join(base, ...parts);
    if (parts.length > 0) {
      const asModule = this.byPath.get(`${stem}.py`);
      if (asModule) return asModule;
    }
    return this.byPath.get(posix.join(stem, '__init__.py')) ?? null;
  }
}
