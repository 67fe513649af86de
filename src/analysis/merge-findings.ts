/**
 * One finding per problem: a building-block class is a model of its own and a part of every model that
 * holds it, and identical instances of one class are models each, so the same problem at the same place
 * comes back once per model. Such repeats merge into the most specific of them (the block's own
 * finding, else the first), which names the other models and instances. Findings whose text differs in
 * more than the enclosing model's layer path (other numbers, another conclusion) stay apart.
 */
import { basename } from 'node:path';
import type { Finding, RelatedInfo } from '../shared/findings';
import type { ModelIR, Range } from '../shared/ir';
import { sameRange } from '../shared/ranges';

/** Which instance a finding is about, when calls of one class or builder built different models. */
export function instanceSuffix(model: ModelIR): string {
  const at = model.instance;
  if (!at) return '';
  return ` (instance ${at.label}, ${lineOf(model, at)})`;
}

function lineOf(model: ModelIR, at: { file: string; range: Range }): string {
  return at.file === model.file ? `line ${at.range.start.line + 1}` : `${basename(at.file)}:${at.range.start.line + 1}`;
}

interface Occurrence {
  finding: Finding;
  model: ModelIR;
  /** The message without the model's instance suffix. */
  core: string;
}

interface Merged {
  kept: Occurrence;
  others: Occurrence[];
}

const firstQuoted = (text: string) => /'([^']+)'/.exec(text)?.[1] ?? '';

/** `outer` with the layer path `prefix.` taken off every quoted name. */
const withoutPath = (outer: string, prefix: string) => outer.split(`'${prefix}.`).join("'");

/**
 * Whether `outer` says what `inner` says about layers seen from a model that holds them under a path
 * (`'b1.conv'` for `'conv'`): equal once that path is taken off every quoted name.
 */
function saysWithin(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const outerName = firstQuoted(outer);
  const innerName = firstQuoted(inner);
  if (!outerName.endsWith(`.${innerName}`) || innerName === '') return false;
  return withoutPath(outer, outerName.slice(0, -innerName.length - 1)) === inner;
}

/** The paths under which `model` holds the layer written at `range`, relative to `kept`'s name for it (`b1`, `b2`). */
function pathsOf(model: ModelIR, range: Range, keptNames: readonly string[]): string[] {
  const paths = new Set<string>();
  for (const layer of model.layers) {
    if (!sameRange(layer.range, range)) continue;
    const inner = keptNames.find((name) => layer.name.endsWith(`.${name}`));
    if (inner !== undefined) paths.add(layer.name.slice(0, -inner.length - 1));
  }
  return [...paths];
}

/** "Net: b1, b2" or "Net() at line 21": where else the problem is, for the message and the related information. */
function whereElse(other: Occurrence, kept: Occurrence): string {
  const at = other.model.instance;
  const label = at ? `${at.label} at ${lineOf(other.model, at)}` : other.model.name;
  const keptNames = kept.model.layers.filter((l) => sameRange(l.range, kept.finding.range)).map((l) => l.name);
  const paths = pathsOf(other.model, other.finding.range, keptNames);
  return paths.length > 0 ? `${label}: ${paths.join(', ')}` : label;
}

function mergedFinding({ kept, others }: Merged): Finding {
  if (others.length === 0) return kept.finding;
  const elsewhere = others.filter((o) => o.model.id !== kept.model.id);
  if (elsewhere.length === 0) return kept.finding;
  const places = [...new Set(elsewhere.map((o) => whereElse(o, kept)))];
  const related: RelatedInfo[] = elsewhere.map((o) => ({
    location: o.model.instance ? { file: o.model.instance.file, range: o.model.instance.range } : { file: o.model.file, range: o.model.range },
    message: `also in ${whereElse(o, kept)}`,
  }));
  return { ...kept.finding, message: `${kept.finding.message} (also in ${places.join('; ')})`, related: [...kept.finding.related, ...related] };
}

/** Where a mark's echoed finding is, as its message names it ("'up2.up' at unet_model.py:20", with the model when it is another). */
function echoedAt(mark: Finding, markModel: ModelIR | undefined, kept: ModelIR | undefined): string {
  const site = mark.echoes?.[0];
  const at = site ? ` at ${basename(site.file)}:${site.range.start.line + 1}` : '';
  const inModel = markModel && markModel.id !== kept?.id ? ` in model '${markModel.name}'` : '';
  return `'${firstQuoted(mark.message)}'${inModel}${at}`;
}

/**
 * One mark where a layer is written, for every finding it echoes: a block written once and built several
 * times by another file (`self.up1 = Up(...)` ... `self.up4 = Up(...)`) has one layer line with a finding
 * per build. The first mark names the other builds; it echoes all their sites, so it goes away when all do.
 */
function mergedMark(marks: readonly Finding[], modelOf: (finding: Finding) => ModelIR | undefined): Finding {
  const [kept, ...others] = marks as [Finding, ...Finding[]];
  if (others.length === 0) return kept;
  const keptModel = modelOf(kept);
  const also = others.map((m) => echoedAt(m, modelOf(m), keptModel));
  const merged: Finding = {
    ...kept,
    message: `${kept.message} (also ${also.join(', ')})`,
    related: [...kept.related, ...others.flatMap((m) => m.related.slice(0, 1))],
    echoes: marks.flatMap((m) => m.echoes ?? []),
  };
  // Its suppression silences what it echoes only when every mark merged into it shows the same layer.
  if (!marks.every((m) => m.writtenHere)) delete merged.writtenHere;
  return merged;
}

const rangeKey = (finding: Finding) => {
  const { start, end } = finding.range;
  return `${finding.code}:${start.line}:${start.character}:${end.line}:${end.character}`;
};

/**
 * `findings` (of one file, in model order) with repeats of one problem merged. `modelOf` gives the
 * model a finding is about. Marks that echo problems reported elsewhere merge with the marks at their place.
 */
export function mergeRepeatedFindings(findings: readonly Finding[], modelOf: (finding: Finding) => ModelIR | undefined): Finding[] {
  const groups = new Map<string, Merged[]>();
  const marks = new Map<string, Finding[]>();
  const out: (Finding | Merged | Finding[])[] = [];
  for (const finding of findings) {
    const model = modelOf(finding);
    if (finding.echoes) {
      const key = rangeKey(finding);
      const atPlace = marks.get(key);
      if (atPlace) atPlace.push(finding);
      else {
        const first = [finding];
        marks.set(key, first);
        out.push(first);
      }
      continue;
    }
    if (!model) {
      out.push(finding);
      continue;
    }
    const suffix = instanceSuffix(model);
    const core = suffix !== '' && finding.message.endsWith(suffix) ? finding.message.slice(0, -suffix.length) : finding.message;
    const occurrence: Occurrence = { finding, model, core };
    const key = rangeKey(finding);
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    const same = group.find((m) => saysWithin(core, m.kept.core) || saysWithin(m.kept.core, core));
    if (!same) {
      const merged: Merged = { kept: occurrence, others: [] };
      group.push(merged);
      out.push(merged);
    } else if (core !== same.kept.core && saysWithin(same.kept.core, core)) {
      // This one names the layers as their own class does: it is the more specific.
      same.others.push(same.kept);
      same.kept = occurrence;
    } else same.others.push(occurrence);
  }
  return out.map((item) => (Array.isArray(item) ? mergedMark(item, modelOf) : 'kept' in item ? mergedFinding(item) : item));
}

/** One model's findings in one file, after suppressions, as combineFindings reads them. */
export interface ModelPart {
  model: ModelIR;
  /** In the order the rules gave them. */
  findings: readonly Finding[];
  /** Per finding, its code and line: where findings of two models may meet (a mark gives way to a finding on its line, repeats merge). */
  keys: readonly string[];
  /** Whether every finding is about `model` (then merging them alone reads that model only). */
  ownOnly: boolean;
  /** The findings merged and sorted on their own: kept with the part while no other part's findings meet them. */
  alone?: Finding[];
}

/** A part of `model`'s findings in one file. */
export function modelPart(model: ModelIR, findings: readonly Finding[]): ModelPart {
  return { model, findings, keys: findings.map((f) => `${f.code}:${String(f.range.start.line)}`), ownOnly: findings.every((f) => f.modelId === model.id) };
}

/** Findings in source order (line, column, code); equal ones keep their order. */
const byPosition = (a: Finding, b: Finding) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code);

/** `findings` (of one file, in model order) with marks on a finding's line dropped, repeats merged, in source order. */
function combined(findings: readonly Finding[], modelOf: (finding: Finding) => ModelIR | undefined): Finding[] {
  // A mark that echoes a problem where a layer is written says nothing a finding on that line does not.
  const direct = new Set(findings.filter((f) => !f.echoes).map((f) => `${f.code}:${String(f.range.start.line)}`));
  const kept = findings.filter((f) => !f.echoes || !direct.has(`${f.code}:${String(f.range.start.line)}`));
  return mergeRepeatedFindings(kept, modelOf).sort(byPosition);
}

/**
 * A file's findings from its models' parts (in model order): marks on a finding's line dropped, one
 * finding per problem, in source order. Only parts whose findings meet another part's (the same code on
 * the same line) are combined together; every other part is combined alone, and that result is kept with
 * it: an edit of one model of a file of hundreds reads the others' findings no more than once each.
 */
export function combineFindings(parts: readonly ModelPart[], modelOf: (finding: Finding) => ModelIR | undefined): Finding[] {
  const owners = new Map<string, ModelPart>();
  const meeting = new Set<ModelPart>();
  for (const part of parts) {
    for (const key of part.keys) {
      const owner = owners.get(key);
      if (owner === undefined) owners.set(key, part);
      else if (owner !== part) meeting.add(owner).add(part);
    }
  }
  const lists: Finding[][] = [];
  const together: Finding[] = [];
  for (const part of parts) {
    if (part.findings.length === 0) continue;
    if (meeting.has(part)) together.push(...part.findings);
    else if (part.ownOnly && modelOf(part.findings[0]!) === part.model) lists.push((part.alone ??= combined(part.findings, modelOf)));
    else lists.push(combined(part.findings, modelOf));
  }
  if (together.length > 0) lists.push(combined(together, modelOf));
  return inSourceOrder(lists);
}

/**
 * Sorted lists as one sorted list. No two lists hold equal findings (those meet, and are combined in one
 * list), so lists that follow one another need no sort of their findings.
 */
function inSourceOrder(lists: Finding[][]): Finding[] {
  if (follow(lists)) return lists.flat();
  lists.sort((a, b) => (a[0] && b[0] ? byPosition(a[0], b[0]) : 0));
  return follow(lists) ? lists.flat() : lists.flat().sort(byPosition);
}

/** Whether each list's findings all come before the next list's. */
function follow(lists: readonly Finding[][]): boolean {
  let last: Finding | undefined;
  for (const list of lists) {
    const first = list[0];
    if (last && first && byPosition(last, first) >= 0) return false;
    last = list.at(-1) ?? last;
  }
  return true;
}
