/**
 * The analysis engine's entry point: a set of Python sources (a CLI invocation or an editor workspace)
 * analyzed together, so facts in one file (a training loop in train.py) reach models in another.
 * Parsing and extraction are cached per file version; linking and rules run per request.
 */
import type { Parser } from 'web-tree-sitter';
import type { ModelIR } from '../shared/ir';
import type { Finding } from '../shared/findings';
import type { Settings } from '../shared/settings';
import { defaultSettings } from '../shared/settings';
import type { FileResult, Notice, ProjectOptions, SourceEdit } from './api';
import { createPythonParser } from './python/parser';
import { PyFile } from './python/file';
import { extractFile, readConstantsImported, type ExtractedFile } from './extract/index';
import { crossFileSites, importedDefinitionSites, linkExternalTraining, moduleResolver, type LinkOptions, type TrainingLink } from './link';
import { callSiteOf, callsOf, type CallSite } from './python/call-sites';
import { UNBOUND_NAME_MODULE, type AssignedAttributes, type ExternalSites, type ImportedDefinitions } from './extract/types';
import { attributeWrites, writesReadOf, type AttributeWrite, type WritesRead } from './python/attribute-writes';
import { GroupCache } from './units';
import { definitionSpans, LintCache, LintSources, type DefinitionSpan } from './lint-cache';
import { lintModel } from './lint';
import { combineFindings, modelPart, type ModelPart } from './merge-findings';
import { isRuleEnabled } from './config/index';
import { editSpellsDirective, isSuppressed, NO_SUPPRESSIONS, parseSuppressions, type Suppressions } from './suppression';
import { DEFAULT_MAX_FILE_BYTES, refuseText, syntaxNotices } from './source-checks';
import { rethrowCancellation, runCancellable, throwIfCancelled, type CancellationCheck } from './cancellation';
import { oneLine } from '../shared/source-snippet';
import { knowSharedEnds } from './row-shift';

interface FileState {
  path: string;
  text: string;
  /** Which version of the file this is (unique in the project): extractions that read it key on it. */
  stamp: number;
  error: string | null;
  parsed: PyFile | null;
  notices: Notice[];
  extracted: ExtractedFile | null;
  /** The cross-file call sites `extracted` was computed with (its cache key). */
  extractedWith: string;
  /** Notices of the extraction (replaced when the file is extracted again). */
  extractionNotices: Notice[];
  /** Calls this file makes of other project files' definitions; null until computed for this version and file set. */
  outgoing: { generation: number; starKey: string; sites: Map<string, Map<string, CallSite[]>> } | null;
  suppressions: Suppressions | null;
  /** Top-level definitions (the lint cache's key reads them); null until asked for. */
  definitions: DefinitionSpan[] | null;
  /** What attributeWrites read of the version before this one (what this one's unchanged statements take), until it is asked of this one. */
  writesBefore: WritesRead | null;
}

export class Project {
  private readonly files = new Map<string, FileState>();
  private readonly settingsFor: (path: string) => Settings;
  private readonly maxFileBytes: number;
  private readonly linkOptions: LinkOptions;
  /** Bumped when the set of files changes (imports may then resolve elsewhere). */
  private generation = 0;
  /** The last stamp given to a file version. */
  private stamps = 0;
  /** importedFiles() for the file versions it was computed with. */
  private imported: { version: string; files: ImportedFiles } | null = null;
  /** Names a file never binds that the last linking gave to the project's only model (for notes). */
  private unboundLinks: TrainingLink[] = [];
  /**
   * Findings kept per model between analyses (the editor's project). A one-shot project (the CLI) lints
   * each model once: keying findings would only cost (every model serialized and hashed).
   */
  private readonly lintCache: LintCache | null;
  /** Per file, the extraction of its statement groups (null when the project reads files whole). */
  private readonly groupCaches: Map<string, GroupCache> | null;
  /** Whether a file's first analysis reads it whole, its groups extracted when idle (ProjectOptions.firstReadWhole). */
  private readonly firstReadWhole: boolean;
  /** Per lint result (the lint cache's array), its model's findings per file after the suppressions of the model's file (see partsOf). */
  private readonly partsByLint = new WeakMap<readonly Finding[], { model: ModelIR; suppressions: Suppressions; parts: readonly ModelPart[] }>();

  private constructor(
    private readonly parser: Parser,
    options: ProjectOptions,
  ) {
    this.settingsFor = options.settingsFor ?? (() => defaultSettings());
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.linkOptions = options.otherPaths ? { otherPaths: options.otherPaths } : {};
    this.groupCaches = options.incremental ? new Map<string, GroupCache>() : null;
    this.firstReadWhole = options.incremental === true && options.firstReadWhole === true;
    this.lintCache = options.incremental ? new LintCache() : null;
  }

  static async create(options: ProjectOptions = {}): Promise<Project> {
    return new Project(await createPythonParser(), options);
  }

  /** Adds or replaces a file. With `edit` (the change from the previous text), re-parses incrementally. */
  setFile(path: string, text: string, edit?: SourceEdit): void {
    const previous = this.files.get(path);
    const written = previous && !previous.error && edit ? text.slice(edit.startIndex, edit.newEndIndex) : text;
    const state: FileState = { path, text, stamp: ++this.stamps, error: refuseText(text, this.maxFileBytes, written), parsed: null, notices: [], extracted: null, extractedWith: '', extractionNotices: [], outgoing: null, suppressions: null, definitions: null, writesBefore: null };
    if (previous?.suppressions === NO_SUPPRESSIONS && edit && !editSpellsDirective(text, edit)) state.suppressions = NO_SUPPRESSIONS;
    // The caches compare this text with the one before (row-shift.ts): the edit says where they differ.
    if (previous && edit) knowSharedEnds(previous.text, text, edit);
    if (!previous) this.generation++;
    if (!state.error) {
      try {
        const reuse = previous?.parsed && edit ? previous.parsed : undefined;
        state.parsed = PyFile.parse(this.parser, path, text, reuse, reuse ? edit : undefined);
        // The last version read, when the one before this was replaced before an analysis asked it.
        state.writesBefore = (previous?.parsed ? writesReadOf(previous.parsed) : null) ?? previous?.writesBefore ?? null;
        // A version parsed in part holds no syntax error and no Python 2 statement the version before did not.
        state.notices = state.parsed.parsedInPart && previous?.parsed && previous.notices.length === 0 ? [] : syntaxNotices(state.parsed.root);
      } catch (err) {
        state.error = `could not parse: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    if (previous?.parsed && previous.parsed !== state.parsed) previous.parsed.dispose();
    this.files.set(path, state);
  }

  /** Records a file that could not be read (the CLI's unreadable inputs), so results report it. */
  setUnreadable(path: string, error: string): void {
    this.removeFile(path);
    this.files.set(path, { path, text: '', stamp: ++this.stamps, error, parsed: null, notices: [], extracted: null, extractedWith: '', extractionNotices: [], outgoing: null, suppressions: null, definitions: null, writesBefore: null });
  }

  removeFile(path: string): void {
    this.groupCaches?.delete(path);
    this.lintCache?.forget(path);
    this.files.get(path)?.parsed?.dispose();
    if (this.files.delete(path)) this.generation++;
  }

  hasFile(path: string): boolean {
    return this.files.has(path);
  }

  paths(): string[] {
    return [...this.files.keys()];
  }

  text(path: string): string | undefined {
    return this.files.get(path)?.text;
  }

  /**
   * Extraction results of a file, computed once per version and per set of calls other files make of
   * its definitions (a class is evaluated with the arguments of its instantiations anywhere in the
   * project). Extractor failures become notices.
   */
  private extracted(state: FileState, sites: ExternalSites | undefined, imported: ImportedFiles): ExtractedFile {
    const key = `${sitesKey(sites)}\u0001${imported.keyOf(state.path)}\u0001${imported.assignedKey}`;
    if (state.extracted && state.extractedWith === key) return state.extracted;
    state.extractionNotices = [];
    if (!state.parsed) {
      state.extractedWith = key;
      return (state.extracted = { models: [], external: [], passes: [], notes: [], outside: [] });
    }
    let extracted: ExtractedFile;
    try {
      extracted = this.extractGroups(state.parsed, sites, key, imported) ?? extractFile(state.parsed, sites, imported.resolve, imported.assigned);
      // A cancellation an extractor's guard swallowed: the result is partial and must not be cached.
      throwIfCancelled();
    } catch (err) {
      rethrowCancellation(err);
      extracted = { models: [], external: [], passes: [], notes: [], outside: [] };
      state.extractionNotices.push({ message: `Gradient Lens could not read the models in this file: ${err instanceof Error ? err.message : String(err)}`, range: null, severity: 'error' });
    }
    state.extracted = extracted;
    state.extractedWith = key;
    for (const note of state.extracted.notes) {
      state.extractionNotices.push({ message: `Line ${note.range.start.line + 1}: ${oneLine(note.what)}`, range: note.range, severity: 'information' });
    }
    // A construct a note already explains at its place (a torchvision model's trained weights) is said once.
    const noted = new Set(state.extracted.notes.map((n) => `${String(n.range.start.line)}:${String(n.range.start.character)}:${n.what}`));
    for (const model of state.extracted.models) {
      for (const u of model.unsupported) {
        if (noted.has(`${String(u.range.start.line)}:${String(u.range.start.character)}:${u.what}`)) continue;
        if (u.what === model.truncated) {
          state.extractionNotices.push({ message: `Line ${u.range.start.line + 1}: model '${model.name}' has ${oneLine(u.what)}; no gradient flow is predicted or probed for a part of it`, range: u.range, severity: 'information' });
          continue;
        }
        state.extractionNotices.push({ message: `Line ${u.range.start.line + 1}: ${oneLine(u.what)} is not fully understood; findings for model '${model.name}' may miss what it does`, range: u.range, severity: 'information' });
      }
    }
    return state.extracted;
  }

  /** The file's extraction by statement groups (see units.ts); null when the project or the file reads it whole. */
  private extractGroups(parsed: PyFile, sites: ExternalSites | undefined, key: string, imported: ImportedFiles): ExtractedFile | null {
    if (!this.groupCaches) return null;
    let cache = this.groupCaches.get(parsed.path);
    if (!cache) this.groupCaches.set(parsed.path, (cache = new GroupCache()));
    if (this.firstReadWhole && cache.untouched) {
      cache.defer({ parser: this.parser, file: parsed, sites, sitesKey: key, imported: imported.resolve, assigned: imported.assigned });
      return null;
    }
    try {
      return cache.extract(this.parser, parsed, sites, key, imported.resolve, imported.assigned);
    } catch (err) {
      // An extractor that fails on a slice is given the whole file, whose failure is then reported.
      rethrowCancellation(err);
      return null;
    }
  }

  /** Calls each file's definitions receive from the other files of the project, by defining file. */
  private crossFileSites(): Map<string, Map<string, CallSite[]>> {
    if (this.files.size < 2) return new Map();
    const states = [...this.files.values()];
    // A star import's calls depend on what the star-imported files define (and import) in this version.
    const starKey = states.some((s) => s.parsed?.imports.starModules.length) ? states.map((s) => `${s.path}:${s.parsed?.imports.starExports.join(',') ?? ''}:${s.parsed?.imports.bindings.map((b) => b.local).join(',') ?? ''}`).join(';') : '';
    const isStale = (s: FileState) => s.outgoing?.generation !== this.generation || (s.outgoing.starKey !== starKey && (s.parsed?.imports.starModules.length ?? 0) > 0);
    const stale = new Set(states.filter((s) => s.parsed && isStale(s)).map((s) => s.path));
    if (stale.size > 0) {
      const imported = this.importedFiles();
      const siteFiles = states.map((state) => {
        const parsed = state.parsed;
        // A call's arguments may be constants its file imports (`build_generator(img_shape)`, `img_shape` from config's `args`).
        if (parsed) readConstantsImported(parsed, imported.resolve);
        return {
          path: state.path,
          imports: parsed?.imports ?? null,
          callsOf: (locals: ReadonlySet<string>) =>
            parsed ? new Map([...callsOf(parsed.root, locals)].map(([name, calls]) => [name, calls.map((c) => callSiteOf(state.path, c, parsed.imports))])) : new Map<string, CallSite[]>(),
          calledNames: () => parsed?.root.tree.writtenCallNames.keys() ?? [],
        };
      });
      const computed = crossFileSites(siteFiles, stale, this.linkOptions);
      for (const path of stale) {
        const state = this.files.get(path);
        if (state) state.outgoing = { generation: this.generation, starKey, sites: computed.get(path) ?? new Map<string, Map<string, CallSite[]>>() };
      }
    }
    const out = new Map<string, Map<string, CallSite[]>>();
    for (const state of states) {
      for (const [target, bySymbol] of state.outgoing?.sites ?? []) {
        let perFile = out.get(target);
        if (!perFile) out.set(target, (perFile = new Map<string, CallSite[]>()));
        for (const [symbol, sites] of bySymbol) perFile.set(symbol, [...(perFile.get(symbol) ?? []), ...sites]);
      }
    }
    return out;
  }

  private suppressionsOf(state: FileState): Suppressions {
    state.suppressions ??= parseSuppressions(state.text);
    return state.suppressions;
  }

  /**
   * Every model of the project with cross-file training facts merged in. Models are shared with the
   * extraction cache (only those the linker adds facts to are copies): callers must not mutate them.
   */
  /**
   * Where the names each file imports from other project files are defined (the extractors read those
   * classes, e.g. a sub-module built in another file), and per file a key naming the versions of every
   * file its extraction may read that way (imports of imports included).
   */
  private importedFiles(): ImportedFiles {
    const version = `${String(this.generation)}:${String(this.stamps)}`;
    if (this.imported?.version === version) return this.imported.files;
    const states = [...this.files.values()];
    const where = importedDefinitionSites(states.map((s) => ({ path: s.path, imports: s.parsed?.imports ?? null })), this.linkOptions);
    const resolve: ImportedDefinitions = Object.assign(
      (importer: string, local: string) => {
        const target = where(importer, local);
        const file = target ? this.files.get(target.path)?.parsed : null;
        return target && file ? { file, symbol: target.symbol } : null;
      },
      { starNames: where.starNames },
    );
    const targets = (path: string): string[] => {
      const locals = [...(this.files.get(path)?.parsed?.imports.bindings.map((b) => b.local) ?? []), ...where.starNames(path)];
      return [...locals.flatMap((local) => where(path, local)?.path ?? []), ...where.moduleFiles(path)];
    };
    const keys = new Map<string, string>();
    const keyOf = (path: string): string => {
      let key = keys.get(path);
      if (key !== undefined) return key;
      const seen = new Set<string>([path]);
      const stack = targets(path);
      for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(...targets(next));
      }
      seen.delete(path);
      key = [...seen].sort().map((p) => `${p}#${String(this.files.get(p)?.stamp ?? 0)}`).join('\u0002');
      keys.set(path, key);
      return key;
    };
    // Dicts functions assign to attributes of objects they are given (any file's model may read them).
    const writes = new Map<string, { file: PyFile; write: AttributeWrite }[]>();
    const writers: string[] = [];
    for (const state of states) {
      const parsed = state.parsed;
      if (!parsed) continue;
      const found = attributeWrites(parsed, state.writesBefore);
      // Read now: the version before is not needed again.
      state.writesBefore = null;
      if (found.length > 0) writers.push(`${state.path}#${String(state.stamp)}`);
      for (const write of found) writes.set(write.attribute, [...(writes.get(write.attribute) ?? []), { file: parsed, write }]);
    }
    const assigned: AssignedAttributes = (attribute) => writes.get(attribute) ?? [];
    const files = { resolve, keyOf, assigned, assignedKey: writers.sort().join('\u0002') };
    this.imported = { version, files };
    return files;
  }

  models(): ModelIR[] {
    const sites = this.crossFileSites();
    const imported = this.importedFiles();
    const inputs = [...this.files.values()].map((state) => {
      throwIfCancelled();
      const extracted = this.extracted(state, sites.get(state.path), imported);
      return { path: state.path, models: [...extracted.models], external: extracted.external, passes: extracted.passes, imports: state.parsed?.imports ?? null };
    });
    this.unboundLinks = linkExternalTraining(inputs, this.linkOptions).filter((l) => l.usedAt !== undefined);
    return inputs.flatMap((i) => i.models);
  }

  /** The findings of one model: from the cache while nothing it depends on changed, else linted now. */
  private lintOf(): (model: ModelIR) => readonly Finding[] {
    const cache = this.lintCache;
    const textOf = (file: string) => this.files.get(file)?.text;
    if (!cache) return (model) => lintModel(model, this.settingsFor(model.file), textOf, []);
    const sources = new LintSources((file) => {
      const state = this.files.get(file);
      if (!state) return undefined;
      if (state.parsed) state.definitions ??= definitionSpans(state.parsed.statements);
      return { text: state.text, definitions: state.definitions };
    }, this.settingsFor, cache.idsOf);
    return (model) => cache.lint(model, sources);
  }

  private findingsByFile(models: ModelIR[]): Map<string, Finding[]> {
    const parts = new Map<string, ModelPart[]>();
    const modelsById = new Map(models.map((m) => [m.id, m]));
    const lint = this.lintOf();
    for (const model of models) {
      throwIfCancelled();
      const found = lint(model);
      for (const part of this.partsOf(model, found)) {
        const file = part.findings[0]!.file;
        const list = parts.get(file) ?? [];
        list.push(part);
        parts.set(file, list);
      }
    }
    this.lintCache?.endAnalysis();
    const byFile = new Map<string, Finding[]>();
    for (const [file, list] of parts) byFile.set(file, combineFindings(list, (f) => modelsById.get(f.modelId)));
    return byFile;
  }

  /**
   * What `found` (a model's findings) leaves per file after suppressions. Kept per lint result while the
   * model's file has the same suppressions, when all of it is in that file (the common case, and the only
   * file it then reads); computed anew otherwise.
   */
  private partsOf(model: ModelIR, found: readonly Finding[]): readonly ModelPart[] {
    const state = this.files.get(model.file);
    const suppressions = state ? this.suppressionsOf(state) : null;
    const kept = this.partsByLint.get(found);
    if (kept && kept.model === model && kept.suppressions === suppressions) return kept.parts;
    const byFile = new Map<string, Finding[]>();
    const silencedWhereWritten = this.silencedWhereWritten(found);
    for (const finding of found) {
      const state = this.files.get(finding.file);
      if (!state) continue;
      // Findings that land in another file obey that file's settings and suppressions.
      if (finding.file !== model.file && !this.enabledIn(finding, finding.file)) continue;
      if (isSuppressed(this.suppressionsOf(state), finding.code, finding.range.start.line)) continue;
      if (this.echoesSuppressed(finding)) continue;
      if (silencedWhereWritten.has(siteKey(finding.code, finding))) continue;
      const list = byFile.get(finding.file) ?? [];
      list.push(finding);
      byFile.set(finding.file, list);
    }
    const parts = [...byFile.values()].map((list) => modelPart(model, list));
    const local = found.every((f) => f.file === model.file && (f.echoes ?? []).every((site) => site.file === model.file));
    if (local && suppressions && this.lintCache) this.partsByLint.set(found, { model, suppressions, parts });
    return parts;
  }

  /**
   * The findings a suppression where their layer is written silences: `# noqa: GL103` on the line of another
   * file's block that builds the layer (where its mark is shown) means that layer, in every model built from it.
   */
  private silencedWhereWritten(found: readonly Finding[]): Set<string> {
    const silenced = new Set<string>();
    for (const mark of found) {
      if (!mark.echoes || !mark.writtenHere) continue;
      const state = this.files.get(mark.file);
      if (!state || !isSuppressed(this.suppressionsOf(state), mark.code, mark.range.start.line)) continue;
      for (const site of mark.echoes) silenced.add(siteKey(mark.code, site));
    }
    return silenced;
  }

  /** A mark that echoes problems reported elsewhere goes away with them: when every echoed site is suppressed. */
  private echoesSuppressed(finding: Finding): boolean {
    const sites = finding.echoes ?? [];
    return (
      sites.length > 0 &&
      sites.every((site) => {
        const state = this.files.get(site.file);
        return state !== undefined && isSuppressed(this.suppressionsOf(state), finding.code, site.range.start.line);
      })
    );
  }

  private enabledIn(finding: Finding, file: string): boolean {
    return isRuleEnabled(finding.code, this.settingsFor(file));
  }

  /** Notes naming the classes a file's models take from modules that are not among the analyzed files. */
  private outsideNotices(state: FileState, inProject: () => (importer: string, module: string) => boolean): Notice[] {
    const outside = state.extracted?.outside ?? [];
    if (outside.length === 0) return [];
    const resolves = inProject();
    return outside
      .filter((o) => !resolves(state.path, o.module))
      .map((o) => ({
        message: `Line ${o.range.start.line + 1}: ${o.symbols.join(', ')} ${o.symbols.length === 1 ? 'comes' : 'come'} from ${o.module}, which is not among the analyzed files: ${o.symbols.length === 1 ? 'its' : 'their'} layers are not analyzed`,
        range: o.range,
        severity: 'information' as const,
      }));
  }

  /** Notes for names this file never binds, read as the project's only model (defined in another file). */
  private unboundNotices(state: FileState): Notice[] {
    return this.unboundLinks.flatMap(({ from, usedAt, symbol, modelId, toFile }) =>
      from === state.path && usedAt
        ? [{
            message: `Line ${usedAt.start.line + 1}: '${symbol}' is never assigned in this file: read as the project's only model '${modelId.slice(0, modelId.lastIndexOf('@'))}' (${toFile.split(/[\\/]/).pop() ?? toFile})`,
            range: usedAt,
            severity: 'information' as const,
          }]
        : [],
    );
  }

  /** A module resolver over the project's files, built on first use. */
  private lazyResolver(): () => (importer: string, module: string) => boolean {
    let resolver: ((importer: string, module: string) => boolean) | null = null;
    return () => (resolver ??= moduleResolver(this.paths(), this.linkOptions));
  }

  /** `state`'s result, given its models (modelsOf) and the findings by file. */
  private resultFor(state: FileState, models: ModelIR[], findings: Map<string, Finding[]>, inProject = this.lazyResolver()): FileResult {
    const suppressionNotices = state.parsed ? this.suppressionsOf(state).notices : [];
    return {
      path: state.path,
      error: state.error,
      notices: [...state.notices, ...state.extractionNotices, ...this.outsideNotices(state, inProject), ...this.unboundNotices(state), ...suppressionNotices],
      models,
      findings: findings.get(state.path) ?? [],
    };
  }

  /**
   * The results of one file. With `isCancelled`, the analysis stops at its next checkpoint once the
   * check returns true, throwing AnalysisCancelled (see cancellation.ts); what it cached is complete.
   * `onModels` receives the file's models (the result's) as soon as they are known, before linting.
   */
  analyzeFile(path: string, isCancelled?: CancellationCheck, onModels?: (models: ModelIR[]) => void): FileResult {
    const state = this.files.get(path);
    if (!state) return { path, error: 'not part of the project', notices: [], models: [], findings: [] };
    return runCancellable(isCancelled, () => {
      const models = this.models();
      const own = modelsOf(state, models);
      onModels?.(own);
      // Only models that live here or whose training facts live here can have findings here.
      const relevant = models.filter((m) => m.file === path || touches(m, path));
      return this.resultFor(state, own, this.findingsByFile(relevant));
    });
  }

  analyzeAll(): FileResult[] {
    const models = this.models();
    const findings = this.findingsByFile(models);
    const inProject = this.lazyResolver();
    const byFile = modelsByFile(models);
    return [...this.files.values()].map((state) => this.resultFor(state, byFile.get(state.path) ?? [], findings, inProject));
  }

  /**
   * Whether some file trains a name it never binds, which the linker gives to the project's only model
   * (so the result depends on how many models the whole project has). Call after an analysis.
   */
  trainsUnboundNames(): boolean {
    for (const state of this.files.values()) if (state.extracted?.external.some((e) => e.module === UNBOUND_NAME_MODULE)) return true;
    return false;
  }

  /**
   * What the file's last extraction and the last analysis's linting computed again rather than reused
   * or moved with their lines (the editor's project; zeros for one that reads files whole).
   */
  lastWork(path: string): { extractedGroups: number; guessedShapes: number; lintedModels: number } {
    const groups = this.groupCaches?.get(path);
    return { extractedGroups: groups?.extractedGroups ?? 0, guessedShapes: groups?.guessedShapes ?? 0, lintedModels: this.lintCache?.lintedModels ?? 0 };
  }

  /**
   * Work for the next edits of `path`, done ahead until `deadline` (performance.now()): the statement
   * groups of a first analysis read whole (firstReadWhole), then what the next lines typed above its
   * models read first to move the models and findings cached of them (the editor's project; the server
   * calls it while idle). Whether everything was done: call again until it is.
   */
  prepareMoves(path: string, deadline: number): boolean {
    const groups = this.groupCaches?.get(path);
    return (groups?.fill(deadline, this.files.get(path)?.parsed ?? null) ?? true) && (groups?.prepareMoves(deadline) ?? true) && (this.lintCache?.prepareMoves(path, deadline) ?? true);
  }

  dispose(): void {
    for (const path of [...this.files.keys()]) this.removeFile(path);
  }
}

/** Definitions a file imports from other project files, and the versions its extraction reads (a cache key). */
interface ImportedFiles {
  resolve: ImportedDefinitions;
  keyOf: (path: string) => string;
  assigned: AssignedAttributes;
  /** The versions of the files that assign such dicts (every extraction may read them). */
  assignedKey: string;
}

/** A stable text for a set of call sites (the extraction cache key). */
function sitesKey(sites: ExternalSites | undefined): string {
  if (!sites || sites.size === 0) return '';
  return JSON.stringify([...sites].map(([name, list]) => [name, list.map((s) => [s.file, s.range.start, s.label, s.args.positional, [...s.args.keywords], s.args.partial, s.applied ?? []])]));
}

/** The models of the project that live in `state`'s file. */
function modelsOf(state: FileState, models: readonly ModelIR[]): ModelIR[] {
  return models.filter((m) => m.file === state.path);
}

/** The project's models by the file they live in, in their order (one pass, not one per file). */
function modelsByFile(models: readonly ModelIR[]): Map<string, ModelIR[]> {
  const byFile = new Map<string, ModelIR[]>();
  for (const model of models) {
    const list = byFile.get(model.file);
    if (list) list.push(model);
    else byFile.set(model.file, [model]);
  }
  return byFile;
}

function touches(model: ModelIR, path: string): boolean {
  const t = model.training;
  return (
    t.optimizer?.file === path ||
    t.compile?.file === path ||
    t.fit?.file === path ||
    t.predict?.file === path ||
    t.loops.some((l) => l.file === path) ||
    t.data.some((d) => d.file === path) ||
    model.layers.some((l) => l.writtenAt?.file === path)
  );
}

/** A rule's finding at a place: a file and where its range starts. */
function siteKey(code: string, site: { file: string; range: Finding['range'] }): string {
  return `${code}|${site.file}|${site.range.start.line}:${site.range.start.character}`;
}
