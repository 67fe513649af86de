/**
 * Incremental extraction (issue 10): a file is read as groups of top-level statements connected by the
 * module-level names they bind and read (a builder, the calls that instantiate it, the loop that trains
 * what it returns). Each group is extracted from a slice of the file that keeps the group and every
 * import at their own lines (the rest blank), so ranges are those of the file; the result is cached by
 * the slice's text and the calls other files make. An edit inside one definition extracts its group
 * again and reuses every other group's models, notes and training facts.
 *
 * The file is read whole instead (and the reason kept) when names cannot tell what a statement depends
 * on: syntax errors, two statements on one line, `global`, star imports, `exec`/`globals()`, a name read
 * that nothing in the file binds, or an extraction that used a whole-file fact (extract/file-wide.ts).
 */
import type { Parser, TreeCursor } from 'web-tree-sitter';
import type { Node } from './python/syntax-tree';
import type { PyFile } from './python/file';
import { PyFile as PyFileClass, type SliceRange } from './python/file';
import { statementNames, unchangedStatements, type StatementNames, type TopLevelStatement } from './python/top-level';
import { addsNothing, assembleFile, extractPart, hasEvidence, type AssemblyMemo, type ExtractedFile, type ExtractedPart } from './extract/index';
import type { AssignedAttributes, ExternalSites, ImportedDefinitions } from './extract/types';
import { throwIfCancelled } from './cancellation';
import { moveRows, prepareMove, rowShift, shiftRows, type RowMap, type RowShift } from './row-shift';
import { lineStarts, rememberLineStarts } from './rules/helpers/text-offsets';
import { keptText } from './python/kept-text';
import { PYTHON_BUILTINS } from './python/builtins';

/** Groups times lines beyond which a file is read whole (a 10,000-line file of ~450 models is well within). */
const MAX_SLICED_ROWS = 20_000_000;

/**
 * One group: the statements it keeps, in order (imports included), by their indices among the file's
 * top-level statements; their texts' ids, and its cache key. A group the next version of the file keeps
 * as it was shares its indices, ids and key; its statements are read from that version's.
 */
class Group {
  constructor(
    private readonly all: readonly TopLevelStatement[],
    readonly indices: readonly number[],
    readonly textIds: readonly number[],
    readonly key: string,
  ) {}

  get statements(): TopLevelStatement[] {
    return this.indices.map((i) => this.all[i]!);
  }
}

/** What is known of a statement's text: its names, and an id standing for the text in group keys. */
export interface KnownStatement {
  names: StatementNames;
  textId: number;
}

/** Text ids are never reused: a text read again after the cache was emptied gets a new one. */
let nextTextId = 0;

/** Statements (by index) grouped by their root in the union of what they bind and read; or why the file must be read whole. */
type Partition = { roots: readonly number[] } | { whole: string };

/**
 * What groupsOf read of the previous version of a file: an edit inside one statement leaves the others'
 * texts, and so their names, as they were (the same text, moved), and the partition with them.
 */
export interface StatementsRead {
  text: string;
  statements: readonly TopLevelStatement[];
  known: readonly KnownStatement[];
  partition: Partition;
  /** The groups made of them (none when the file was read whole), in the order the partition lists them. */
  groups: readonly Group[];
  /** Per statement that is not an import, the index of its group (imports are in every group). */
  groupAt: readonly number[];
}

/** A file's statement groups. */
export interface GroupPlan {
  groups: Group[];
  /**
   * When known, the groups that may differ from those of the version before (`from`, the groups the
   * previous call listed), by index: every other group is that version's group at the same index, with
   * the same key. Null: any may differ.
   */
  changed: { from: readonly Group[]; at: readonly number[] } | null;
}

/**
 * The groups of a parsed file, or why it must be read whole. `last` holds what the previous call read
 * (the previous version of the same file) and is set to what this one read.
 */
export function groupsOf(file: PyFile, namesCache: Map<string, KnownStatement>, last: { read: StatementsRead | null } = { read: null }): GroupPlan | { whole: string } {
  if (file.hasError) return { whole: 'the file has syntax errors' };
  const statements = file.statements;
  for (let i = 1; i < statements.length; i++) {
    if (statements[i]!.startRow <= statements[i - 1]!.endRow) return { whole: `two statements on line ${String(statements[i]!.startRow + 1)}` };
  }
  const known = knownStatements(file, statements, namesCache, last.read);
  const before = last.read;
  // The partition is a function of the names alone (reading it again cost 0.3 ms per edit of a 5,000-line file).
  const partition = before && sameNamesList(before.known, known) ? before.partition : partitionOf(known.map((k) => k.names));
  if ('whole' in partition) {
    last.read = { text: file.text, statements, known, partition, groups: [], groupAt: [] };
    return partition;
  }
  const unchanged = (i: number) => before !== null && known[i] === before.known[i] && statements[i]!.startRow === before.statements[i]!.startRow;
  const groupOf = (kept: readonly number[]) => new Group(statements, kept, kept.map((i) => known[i]!.textId), kept.map((i) => statementKey(known[i]!.textId, statements[i]!.startRow)).join(','));
  // The same partition of as many statements lists the same groups in the same order: a group whose
  // statements all have the same texts at the same rows keeps its key, the same string, and the rest of
  // what it was (spelling and hashing the keys of the 931 groups of a file of helper functions again per
  // edit, and gathering their members, cost more than the rest of the groups' bookkeeping).
  if (before?.partition === partition && before.groups.length > 0 && before.statements.length === statements.length) {
    // The groups holding a statement that changed, found from the statements (a group of a file of helper
    // functions holds every import besides its own statements: asking each group of each of its members
    // cost 0.1 ms per edit of a 5,000-line file). A changed import is in every group.
    const changed = new Set<number>();
    let importChanged = false;
    for (let i = 0; i < statements.length && !importChanged; i++) {
      if (unchanged(i)) continue;
      const at = before.groupAt[i];
      if (at === undefined) importChanged = true;
      else changed.add(at);
    }
    const groups = before.groups.map((g, at) => ((importChanged ? g.indices.every(unchanged) : !changed.has(at)) ? new Group(statements, g.indices, g.textIds, g.key) : groupOf(g.indices)));
    last.read = { text: file.text, statements, known, partition, groups, groupAt: before.groupAt };
    return { groups, changed: importChanged ? null : { from: before.groups, at: [...changed] } };
  }
  const imports: number[] = [];
  const members = new Map<number, number[]>();
  for (let i = 0; i < statements.length; i++) {
    if (known[i]!.names.isImport) {
      imports.push(i);
      continue;
    }
    const r = partition.roots[i]!;
    let list = members.get(r);
    if (!list) members.set(r, (list = []));
    list.push(i);
  }
  // Each group is the imports and its own statements, in source order: two ascending lists of indices
  // merged. A file of helper functions has a group per function, so what is per statement is made once.
  const owned = [...members.values()];
  const groups = owned.map((own) => groupOf(mergedAscending(imports, own)));
  const groupAt: number[] = [];
  owned.forEach((own, at) => {
    for (const i of own) groupAt[i] = at;
  });
  last.read = { text: file.text, statements, known, partition, groups, groupAt };
  return { groups, changed: null };
}

/** Two ascending lists of distinct numbers as one ascending list. */
function mergedAscending(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!);
  return out;
}

/**
 * What is known of each statement's text: read again only for statements whose text is new (walking
 * every statement with a cursor crossed into wasm a few times per statement: 4 ms per edit of a
 * 5,000-line file). A statement wholly before the first changed character, or wholly after the last,
 * is the previous version's statement at the same place in the list (the same text, moved by the edit):
 * looking each text up again hashed the whole file per edit.
 */
function knownStatements(file: PyFile, statements: readonly TopLevelStatement[], namesCache: Map<string, KnownStatement>, before: StatementsRead | null): KnownStatement[] {
  const text = file.text;
  const sameAs = before ? unchangedStatements(before, { text, statements }) : () => -1;
  const known: KnownStatement[] = [];
  // The file's nodes are read only for a statement whose text is new; the edited statement of a version
  // parsed in part is read from its own tree (see PyFile.parse).
  const alone = file.editedAlone;
  const whole: { walk?: StatementWalk } = {};
  const namesOf = (i: number): StatementNames => {
    if (alone?.index === i) {
      const own = new StatementWalk(alone.root);
      try {
        return own.names(0);
      } finally {
        own.dispose();
      }
    }
    return (whole.walk ??= new StatementWalk(file.root)).names(i);
  };
  try {
    for (let i = 0; i < statements.length; i++) known.push(knownStatement(i, statements[i]!));
  } finally {
    whole.walk?.dispose();
  }
  return known;

  function knownStatement(i: number, statement: TopLevelStatement): KnownStatement {
    const j = sameAs(i);
    let same = j >= 0 ? before?.known[j] : undefined;
    if (!same) {
      const statementText = text.slice(statement.startIndex, statement.endIndex);
      same = namesCache.get(statementText);
      // Kept across versions: the text and the names (words cut from the file's text) as copies of their own.
      if (!same) namesCache.set(keptText(statementText), (same = { names: keptText(namesOf(i)), textId: nextTextId++ }));
    }
    return same;
  }
}

/** See Partition: union-find over the statements that are not imports, binding the same name or reading what another binds. */
function partitionOf(names: readonly StatementNames[]): Partition {
  const bound = new Set<string>();
  for (const n of names) {
    if (n.dynamic) return { whole: n.dynamic };
    for (const name of n.binds) bound.add(name);
  }
  for (const n of names) {
    for (const name of n.reads) if (!bound.has(name) && !PYTHON_BUILTINS.has(name)) return { whole: `'${name}' is read but bound nowhere in the file` };
  }
  const parent = names.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const binder = new Map<string, number>();
  names.forEach((n, i) => {
    if (n.isImport) return;
    for (const name of n.binds) {
      const j = binder.get(name);
      if (j === undefined) binder.set(name, i);
      else parent[find(i)] = find(j);
    }
  });
  names.forEach((n, i) => {
    if (n.isImport) return;
    for (const name of n.reads) {
      const j = binder.get(name);
      if (j !== undefined) parent[find(i)] = find(j);
    }
  });
  return { roots: names.map((_, i) => find(i)) };
}

/** Whether two lists of statements say the same names, statement by statement (the same text gives the same object). */
function sameNamesList(a: readonly KnownStatement[], b: readonly KnownStatement[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !sameNames(a[i]!.names, b[i]!.names)) return false;
  return true;
}

function sameNames(a: StatementNames, b: StatementNames): boolean {
  return a.isImport === b.isImport && a.dynamic === b.dynamic && sameSet(a.binds, b.binds) && sameSet(a.reads, b.reads);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const name of a) if (!b.has(name)) return false;
  return true;
}

/**
 * The names of top-level statements, asked in order, read with one cursor moved forward over the
 * module's children. A cursor moved to each statement from the root made reading a long file's
 * statements quadratic (web-tree-sitter 0.25's gotoFirstChildForIndex does not land on the child, so
 * every statement was found by walking the siblings before it: 60 s for a 50,000-line file).
 */
class StatementWalk {
  private cursor: TreeCursor | null = null;
  /** The index (comments not counted) of the statement the cursor is on; -1 before the first. */
  private at = -1;

  constructor(private readonly root: Node) {}

  /** The names of the `index`-th top-level statement (comments not counted). */
  names(index: number): StatementNames {
    const cursor = this.cursor && index >= this.at ? this.cursor : this.restart();
    while (this.at < index) {
      if (!cursor.gotoNextSibling()) throw new Error(`no top-level statement ${String(index)}`);
      if (cursor.nodeType !== 'comment') this.at++;
    }
    const start = cursor.startIndex;
    const names = statementNames(cursor);
    // statementNames returns the cursor to the statement; should it not, the next question starts over.
    if (cursor.startIndex !== start || cursor.currentDepth !== 1) this.dispose();
    return names;
  }

  dispose(): void {
    this.cursor?.delete();
    this.cursor = null;
    this.at = -1;
  }

  private restart(): TreeCursor {
    this.dispose();
    const cursor = (this.cursor = this.root.walk());
    if (!cursor.gotoFirstChild()) throw new Error('no top-level statement');
    if (cursor.nodeType !== 'comment') this.at = 0;
    return cursor;
  }
}

/**
 * One statement's part of its group's key: its text (by id: hashing the texts of a long file's groups
 * again on every edit cost in proportion to the file) and its row.
 */
function statementKey(textId: number, row: number): string {
  return `${String(row)}:${String(textId)}`;
}

/** The key the group had in the text `rowOf` maps rows back to; null when one of its statements lies in changed lines. */
function movedKey(group: Group, rowOf: RowMap): string | null {
  const parts: string[] = [];
  for (const [k, s] of group.statements.entries()) {
    const row = rowOf(s.startRow);
    if (row === null || rowOf(s.endRow) !== row + s.endRow - s.startRow) return null;
    parts.push(statementKey(group.textIds[k]!, row));
  }
  return parts.join(',');
}

/**
 * The text of the file with only `statements`' lines kept (every other line empty), so rows and columns
 * stay, and the ranges of the kept lines in it (the parser reads only those).
 */
export function sliceOf(text: string, starts: readonly number[], statements: readonly TopLevelStatement[]): { text: string; ranges: SliceRange[] } {
  let out = '';
  let row = 0;
  const ranges: SliceRange[] = [];
  // The slice's line starts, known as it is made (the slice is as long as the file up to its last
  // statement: searching it for line breaks again cost 0.09 ms per keystroke at 5,000 lines).
  const sliceStarts = [0];
  for (const s of statements) {
    for (let r = row + 1; r <= s.startRow; r++) sliceStarts.push(out.length + r - row);
    out += '\n'.repeat(s.startRow - row);
    const from = starts[s.startRow] ?? text.length;
    // The kept lines with their line break: the parser must see each statement end.
    const next = starts[s.endRow + 1];
    const to = next ?? text.length;
    const start = out.length;
    for (let r = s.startRow + 1; r <= s.endRow + 1 && (starts[r] ?? Number.POSITIVE_INFINITY) <= to; r++) sliceStarts.push(start + starts[r]! - from);
    out += text.slice(from, to);
    const endsLine = next !== undefined;
    ranges.push({ startIndex: start, endIndex: out.length, startPosition: { row: s.startRow, column: 0 }, endPosition: endsLine ? { row: s.endRow + 1, column: 0 } : { row: s.endRow, column: to - (starts[s.endRow] ?? to) } });
    row = endsLine ? s.endRow + 1 : s.endRow;
  }
  rememberLineStarts(out, sliceStarts);
  return { text: out, ranges };
}

/** `parts` without the keys of `dropped` and with `found` (dropped first: a group found may have the key another had). */
function withFound(parts: Map<string, ExtractedPart>, dropped: readonly string[], found: readonly [string, ExtractedPart][]): Map<string, ExtractedPart> {
  for (const key of dropped) parts.delete(key);
  for (const [key, part] of found) parts.set(key, part);
  return parts;
}

/** A part without its models and evidence, which move apart (each model by itself, evidence as shiftRows' `evidence`). */
type PartRest = Omit<ExtractedPart, 'evidence' | 'models'>;

/** What extracting a version's groups reads besides the file (GroupCache.extract's arguments). */
export interface GroupContext {
  parser: Parser;
  file: PyFile;
  sites: ExternalSites | undefined;
  sitesKey: string;
  imported?: ImportedDefinitions;
  assigned?: AssignedAttributes;
}

/** A first extraction read whole instead (GroupCache.defer): its groups, once listed, and the next one to extract. */
interface DeferredGroups extends GroupContext {
  groups: readonly Group[] | null;
  next: number;
}

/** Whether `groups` slices of `file` cost more than reading it whole (each slice spans the file up to its group's last line). */
function slicesCostMore(groups: number, file: PyFile): boolean {
  return groups * (file.endRow + 1) > MAX_SLICED_ROWS;
}

/** `group`'s part: its slice of the file parsed alone and extracted (`starts`: the file's line starts). */
function extractGroup(context: GroupContext, starts: readonly number[], group: Group): ExtractedPart {
  const { parser, file } = context;
  const { text, ranges } = sliceOf(file.text, starts, group.statements);
  const slice = PyFileClass.parseSlice(parser, file.path, text, ranges, file.text);
  try {
    return extractPart(slice, context.sites, context.imported, context.assigned);
  } finally {
    slice.dispose();
  }
}

/** Per file: the extraction of each group, kept while its slice and the other files' calls are unchanged. */
export class GroupCache {
  private parts = new Map<string, ExtractedPart>();
  /** Names per statement text (see python/top-level.ts), kept across versions of the file. */
  private names = new Map<string, KnownStatement>();
  /** What groupsOf read of the last version (see StatementsRead). */
  private readonly statementsRead: { read: StatementsRead | null } = { read: null };
  /** The text of the other files' calls the parts were extracted with (they are dropped when it changes). */
  private sitesText = '';
  /** The text `parts` were extracted from: a part of a group the edit only moved is moved, not extracted again. */
  private partsText: string | null = null;
  /** Per part this cache moved, the copy moveRows made of its rest (moved again from its original: row-shift.ts). */
  private readonly movedRests = new WeakMap<ExtractedPart, PartRest>();
  /** The last assembly of the file's parts (input shapes moved with their lines: extract/index.ts). */
  private readonly assembly: AssemblyMemo = { last: null, guessed: 0, models: [] };
  /** Why the newest version was read whole, or null. */
  wholeReason: string | null = null;
  /** Groups the last call extracted (neither reused nor moved). */
  extractedGroups = 0;
  /** Whether nothing was asked of the cache yet: no extraction, none deferred. */
  private touched = false;
  /** The groups of a first extraction the project read whole, to extract when idle (fill); null when none are left. */
  private deferred: DeferredGroups | null = null;

  /** Whether the cache has neither extracted nor deferred anything: the file's first analysis. */
  get untouched(): boolean {
    return !this.touched;
  }

  /**
   * Records that the project reads this version whole (a first analysis, ProjectOptions.firstReadWhole):
   * its groups are extracted later by fill, while the caller is idle. Once only: later versions extract
   * their groups (typing may go on before the caller is idle again, and reading each version whole would
   * cost every keystroke what only the first analysis should).
   */
  defer(context: GroupContext): void {
    this.touched = true;
    this.extractedGroups = 0;
    this.wholeReason = null;
    this.deferred = { ...context, groups: null, next: 0 };
  }

  /**
   * Extracts the deferred version's groups (defer) until `deadline` (performance.now()) once it extracted
   * one, keeping each part as extract would have; whether none is left. `current` is the file's version
   * now: the groups of an older one are dropped (the next extraction lists the newer version's).
   */
  fill(deadline: number, current: PyFile | null): boolean {
    const deferred = this.deferred;
    if (!deferred) return true;
    if (deferred.file !== current) {
      this.deferred = null;
      return true;
    }
    if (!deferred.groups) {
      const plan = groupsOf(deferred.file, this.names, this.statementsRead);
      if ('whole' in plan || slicesCostMore(plan.groups.length, deferred.file)) {
        // Read whole by every extraction too (extract says why when it is asked).
        this.deferred = null;
        return true;
      }
      deferred.groups = plan.groups;
      this.sitesText = deferred.sitesKey;
      this.keep(new Map(), deferred.file.text);
    }
    const { file, groups } = deferred;
    let starts: readonly number[] | null = null;
    while (deferred.next < groups.length) {
      const group = groups[deferred.next++]!;
      if (this.parts.has(group.key)) continue;
      let part: ExtractedPart;
      try {
        part = extractGroup(deferred, (starts ??= lineStarts(file.text)), group);
      } catch {
        // The next extraction meets the failure again, and the project reads the file whole and reports it.
        this.deferred = null;
        this.keep(new Map(), null);
        return true;
      }
      this.parts.set(group.key, part);
      if (part.wholeFileFact) {
        // A part that needs the whole file: the next extraction finds it and stops there, as extract does.
        this.deferred = null;
        return true;
      }
      if (performance.now() > deadline && deferred.next < groups.length) return false;
    }
    // Left as extract leaves it: the groups in order with their parts (the next edit looks only at the
    // groups it changed), and the assembly whose input shapes the next one moves instead of guessing.
    const aligned: ExtractedPart[] = [];
    for (const group of groups) {
      const part = this.parts.get(group.key);
      // Every group's part was just kept; were one missing, the next extraction would list them again.
      if (!part) {
        this.deferred = null;
        return true;
      }
      aligned.push(part);
    }
    const adds = aligned.map((part) => !addsNothing(part));
    this.keep(this.parts, file.text, groups, aligned, adds);
    assembleFile(file, aligned.filter((_, i) => adds[i]), this.assembly);
    this.deferred = null;
    return true;
  }

  /** Parts kept for the next call: one per group of the newest version read in groups. */
  get keptParts(): number {
    return this.parts.size;
  }

  /** Input shapes the last call guessed (neither reused nor moved with their lines). */
  get guessedShapes(): number {
    return this.assembly.guessed;
  }

  /**
   * The groups the last extraction that read every group went through, in order, and the part of each
   * (aligned): a group that has the same key string at the same place has the same part, found without
   * looking it up. Empty when the last call stopped early (read whole, or a part needing the whole file).
   */
  private lastGroups: readonly Group[] = [];
  private lastParts: readonly ExtractedPart[] = [];
  /** Per part of lastParts, whether it adds anything to the assembly (addsNothing). */
  private lastAdds: readonly boolean[] = [];

  /** The parts (in the file as it is now) to keep, and the text they were computed from. */
  private keep(parts: Map<string, ExtractedPart>, text: string | null, groups: readonly Group[] = [], aligned: readonly ExtractedPart[] = [], adds: readonly boolean[] = []): void {
    this.parts = parts;
    this.partsText = text;
    this.lastGroups = groups;
    this.lastParts = aligned;
    this.lastAdds = adds;
  }

  /**
   * Walks ahead what moving the cached parts' models and the last assembly's completed models reads
   * first (row-shift.ts, prepareMove), until `deadline` (performance.now()) once it walked something;
   * whether every model was walked.
   */
  prepareMoves(deadline: number): boolean {
    let walked = false;
    const models = [...this.parts.values()].flatMap((part) => part.models).concat(this.assembly.models);
    for (const model of models) {
      walked = prepareMove(model) || walked;
      if (walked && performance.now() > deadline) return false;
    }
    return true;
  }

  /** The cached part of a group whose statements an edit only moved, with its rows moved; null when there is none. */
  private moved(group: Group, shift: RowShift): ExtractedPart | null {
    const before = movedKey(group, shift.backward);
    const part = before === null ? undefined : this.parts.get(before);
    if (!part) return null;
    // Copies whose fields move when read (moveRows): a model's layers are not copied unless read. Each
    // model moves by itself, so one that moved by whole lines is known as moved (uniformMoveOf) even
    // when the part's notes name an import above the edit.
    const mapOf = () => shift.forward;
    const models: ExtractedPart['models'] = [];
    for (const model of part.models) {
      const moved = moveRows(model, '', mapOf);
      if (!moved) return null;
      models.push(moved);
    }
    const { external, passes, notes, fileNotes, wholeFileFact } = part;
    const rest = moveRows(this.movedRests.get(part) ?? { external, passes, notes, fileNotes, wholeFileFact }, '', mapOf);
    const evidence = hasEvidence(part.evidence) ? shiftRows(part.evidence, '', mapOf, true) : part.evidence;
    if (!rest || !evidence) return null;
    const moved: ExtractedPart = { models, evidence, external: rest.external, passes: rest.passes, notes: rest.notes, fileNotes: rest.fileNotes, wholeFileFact: rest.wholeFileFact };
    this.movedRests.set(moved, rest);
    return moved;
  }

  /**
   * The file's extraction from its groups (reusing the cached ones); null when it must be read whole.
   * `sitesKey` is the text of `sites` (the calls other files make of this file's definitions) and of
   * the versions of the files `imported` reads.
   */
  extract(parser: Parser, file: PyFile, sites: ExternalSites | undefined, sitesKey: string, imported?: ImportedDefinitions, assigned?: AssignedAttributes): ExtractedFile | null {
    // Groups still deferred are extracted here if this version needs them (found in `parts` if filled).
    this.touched = true;
    this.deferred = null;
    this.extractedGroups = 0;
    this.assembly.guessed = 0;
    const plan = groupsOf(file, this.names, this.statementsRead);
    if ('groups' in plan && slicesCostMore(plan.groups.length, file)) {
      this.wholeReason = `${String(plan.groups.length)} groups of statements in ${String(file.endRow + 1)} lines`;
      this.keep(new Map(), null);
      return null;
    }
    if (this.names.size > 4 * (('groups' in plan ? plan.groups.length : 0) + 64)) {
      // Texts of this version keep their ids (the cached parts' keys spell them); older ones go.
      const current = new Set('groups' in plan ? plan.groups.flatMap((g) => g.textIds) : []);
      for (const [text, known] of this.names) if (!current.has(known.textId)) this.names.delete(text);
    }
    if ('whole' in plan) {
      this.wholeReason = plan.whole;
      this.keep(new Map(), null);
      return null;
    }
    if (sitesKey !== this.sitesText) {
      this.sitesText = sitesKey;
      this.keep(new Map(), null);
    }
    // A part is keyed by its group's key (its statements' text ids and rows): a Map hashes it faster than a
    // digest would be computed per group, and the parts are dropped when the other files' calls change.
    // A group with the key it had at the same place in the last extraction has the part it had: an edit
    // inside one definition of a file of helper functions changes one key of 931, and the others are
    // neither looked up nor stored again (the parts' map is changed in place).
    const former = this.lastGroups.length === plan.groups.length && this.partsText !== null ? this.lastGroups : null;
    const kept = (i: number): ExtractedPart | undefined => (former?.[i]!.key === plan.groups[i]!.key ? this.lastParts[i] : undefined);
    // The groups the edit may have changed, when the last extraction read the version groupsOf compared
    // with: the others are kept, and are not asked one by one (a file of helper functions has hundreds).
    const only = former && plan.changed?.from === former && this.lastAdds.length === former.length ? plan.changed.at : null;
    // A group known to need the whole file decides at once (a kept part needs none: the last extraction went on).
    let marked: string | null | undefined = null;
    for (const i of only ?? plan.groups.keys()) {
      if (!kept(i)) marked = this.parts.get(plan.groups[i]!.key)?.wholeFileFact;
      if (marked) break;
    }
    if (marked) {
      this.wholeReason = marked;
      this.lastGroups = [];
      return null;
    }
    // Only a group extracted again is sliced out of the text (most are found or moved).
    let starts: readonly number[] | null = null;
    const next = former ? this.parts : new Map<string, ExtractedPart>();
    const dropped: string[] = [];
    const found: [string, ExtractedPart][] = [];
    const aligned: ExtractedPart[] = only ? this.lastParts.slice() : [];
    const adds: boolean[] = only ? this.lastAdds.slice() : [];
    const previous = this.partsText;
    let shift: RowShift | null = null;
    for (const i of only ?? plan.groups.keys()) {
      const group = plan.groups[i]!;
      const key = group.key;
      let part = kept(i);
      if (!part) {
        if (former) dropped.push(former[i]!.key);
        part = this.parts.get(key) ?? next.get(key);
        if (!part && previous !== null && previous !== file.text) {
          shift ??= rowShift(previous, file.text);
          part = this.moved(group, shift) ?? undefined;
        }
        if (!part) {
          this.extractedGroups++;
          part = extractGroup({ parser, file, sites, sitesKey, imported, assigned }, (starts ??= lineStarts(file.text)), group);
          // A cancellation an extractor's guard swallowed: the part is incomplete and must not be kept.
          throwIfCancelled();
        }
        if (former) found.push([key, part]);
        else next.set(key, part);
        if (part.wholeFileFact) {
          this.wholeReason = part.wholeFileFact;
          this.keep(withFound(next, dropped, found), file.text);
          return null;
        }
      }
      aligned[i] = part;
      adds[i] = !addsNothing(part);
    }
    const parts = aligned.filter((_, i) => adds[i]);
    this.keep(withFound(next, dropped, found), file.text, plan.groups, aligned, adds);
    this.wholeReason = null;
    return assembleFile(file, parts, this.assembly);
  }
}
