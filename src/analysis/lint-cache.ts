/**
 * Findings per model, reused across analyses while nothing they can depend on changed (issue 10).
 *
 * A rule sees its model, the settings of the model's file and the source text of the files the model
 * points into (fixes read the lines of a layer, the imports, the enclosing function, module-level
 * assignments). So a model's findings are keyed by: the model itself (every range included, so a model
 * that moved is linted again), the settings, and per file it points into, the text the rules can read:
 * all module-level code outside function and class definitions, every line that mentions an import,
 * and the whole text of each top-level definition the model's ranges fall in. An edit inside another
 * definition leaves the key unchanged; any other edit changes it.
 */
import { createHash } from 'node:crypto';
import type { Node } from 'web-tree-sitter';
import { topLevelStatements, type TopLevelStatement } from './python/top-level';
import type { Finding } from '../shared/findings';
import type { ModelIR } from '../shared/ir';
import type { Settings } from '../shared/settings';
import { lintModel } from './lint';

/** What the key reads of one file: its text and the line spans of its top-level definitions. */
export interface LintSource {
  text: string;
  /** Top-level function and class definitions (decorators included), in order; null when unparsed. */
  definitions: readonly DefinitionSpan[] | null;
}

/** A top-level function or class definition (decorators included). */
export type DefinitionSpan = TopLevelStatement;

const DEFINITION_TYPES = new Set(['function_definition', 'class_definition', 'decorated_definition']);

/** The top-level definitions of a syntax tree. */
export function definitionSpans(root: Node): DefinitionSpan[] {
  return topLevelStatements(root).filter((s) => DEFINITION_TYPES.has(s.type));
}

/** The text of a file outside its top-level definitions, with every line that mentions an import. */
function moduleLevelText(source: LintSource): string {
  const { text, definitions } = source;
  if (!definitions) return text;
  let out = '';
  let from = 0;
  for (const span of definitions) {
    out += text.slice(from, span.startIndex);
    const body = text.slice(span.startIndex, span.endIndex);
    for (const line of body.split('\n')) if (line.includes('import')) out += `\n${line}`;
    out += '\n\u0000';
    from = span.endIndex;
  }
  return out + text.slice(from);
}

/** Lines each file's ranges cover in `model` (ranges without a `file` of their own belong to the nearest enclosing one). */
function linesByFile(model: ModelIR): Map<string, number[]> {
  const lines = new Map<string, number[]>();
  const visit = (value: unknown, file: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, file);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const own = typeof record.file === 'string' ? record.file : file;
    const start = record.start as { line?: unknown } | undefined;
    const end = record.end as { line?: unknown } | undefined;
    if (typeof start?.line === 'number' && typeof end?.line === 'number') {
      let list = lines.get(own);
      if (!list) lines.set(own, (list = []));
      list.push(start.line, end.line);
      return;
    }
    for (const key in record) visit(record[key], own);
  };
  visit(model, model.file);
  return lines;
}

/** Index of the definition containing `line`, or -1 (binary search over the ordered spans). */
function definitionAt(spans: readonly DefinitionSpan[], line: number): number {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const span = spans[mid]!;
    if (line < span.startRow) hi = mid - 1;
    else if (line > span.endRow) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Ids of what the rules can read of one file version: equal texts keep their id from one version to the next. */
interface FileIds {
  text: string;
  moduleText: string;
  moduleId: number;
  /** By the definition's first line: its text and id. */
  definitions: Map<number, { text: string; id: number }>;
}

/** One analysis' view of the files: memoized per file, since many models share a file. */
export class LintSources {
  private readonly settingsKeys = new Map<string, string>();

  constructor(
    private readonly sourceOf: (file: string) => LintSource | undefined,
    private readonly settingsFor: (file: string) => Settings,
    private readonly ids: (file: string, source: LintSource) => FileIds,
  ) {}

  text(file: string): string | undefined {
    return this.sourceOf(file)?.text;
  }

  settings(file: string): Settings {
    return this.settingsFor(file);
  }

  settingsKey(file: string): string {
    let key = this.settingsKeys.get(file);
    if (key === undefined) this.settingsKeys.set(file, (key = JSON.stringify(this.settingsFor(file))));
    return key;
  }

  /** What the rules can read of `file` when linting a model whose ranges there cover `lines`. */
  fileKey(file: string, lines: readonly number[]): string {
    const source = this.sourceOf(file);
    if (!source) return 'missing';
    const ids = this.ids(file, source);
    const spans = source.definitions;
    if (!spans) return String(ids.moduleId);
    // `lines` are sorted and distinct (LintCache.lint), so the definitions they fall in come in order.
    let key = String(ids.moduleId);
    let previous = -1;
    for (const line of lines) {
      const at = definitionAt(spans, line);
      if (at < 0 || at === previous) continue;
      previous = at;
      const span = spans[at]!;
      key += `:${String(span.startRow)}=${String(ids.definitions.get(span.startRow)?.id ?? -1)}`;
    }
    return key;
  }
}

/**
 * Per model object, a digest of its text and the lines it covers per file. Models are not mutated once
 * analyzed (the extraction cache hands the same objects to every analysis while their code is unchanged).
 * The digest, not the text, goes into the key: a key is built per model per analysis, and a dense
 * file's models are kilobytes each.
 */
const shapes = new WeakMap<ModelIR, { digest: string; lines: [string, number[]][] }>();

/** Findings of each model, kept from one analysis to the next while the model's key is unchanged. */
export class LintCache {
  private readonly entries = new Map<string, { file: string; findings: readonly Finding[] }>();
  private readonly used = new Set<string>();
  private readonly linted = new Set<string>();
  private readonly fileIds = new Map<string, FileIds>();
  private nextId = 0;

  /** What the rules read of one file, as ids that stay while the texts stay (compared, not hashed). */
  readonly idsOf = (file: string, source: LintSource): FileIds => {
    const previous = this.fileIds.get(file);
    if (previous?.text === source.text) return previous;
    const moduleText = moduleLevelText(source);
    const ids: FileIds = { text: source.text, moduleText, moduleId: previous?.moduleText === moduleText ? previous.moduleId : ++this.nextId, definitions: new Map() };
    for (const span of source.definitions ?? []) {
      const text = source.text.slice(span.startIndex, span.endIndex);
      const before = previous?.definitions.get(span.startRow);
      ids.definitions.set(span.startRow, { text, id: before?.text === text ? before.id : ++this.nextId });
    }
    this.fileIds.set(file, ids);
    return ids;
  };

  /** The findings of `model` (shared with later calls: callers must not mutate them). */
  lint(model: ModelIR, sources: LintSources): readonly Finding[] {
    let shape = shapes.get(model);
    if (!shape) shapes.set(model, (shape = { digest: createHash('sha256').update(JSON.stringify(model)).digest('base64'), lines: [...linesByFile(model)].map(([file, list]): [string, number[]] => [file, [...new Set(list)].sort((a, b) => a - b)]).sort(([a], [b]) => a.localeCompare(b)) }));
    const parts = [shape.digest, sources.settingsKey(model.file)];
    for (const [file, lines] of shape.lines) {
      parts.push(file, sources.fileKey(file, lines));
    }
    const key = parts.join('\u0002');
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { file: model.file, findings: lintModel(model, sources.settings(model.file), (file) => sources.text(file), []) }));
    this.used.add(key);
    this.linted.add(model.file);
    return entry.findings;
  }

  /** Drops what is kept of a file that left the project. */
  forget(file: string): void {
    this.fileIds.delete(file);
    for (const [key, entry] of this.entries) if (entry.file === file) this.entries.delete(key);
  }

  /**
   * Ends one analysis: entries of the files it linted that it did not use are dropped (an analysis
   * of one file keeps the other files' entries), so the cache holds the models of the newest texts.
   */
  endAnalysis(): void {
    for (const [key, entry] of this.entries) if (this.linted.has(entry.file) && !this.used.has(key)) this.entries.delete(key);
    this.used.clear();
    this.linted.clear();
  }
}
