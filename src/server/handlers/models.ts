/**
 * `gradientLens/models`: the models a document defines, with the IR-level what-ifs of their findings,
 * for the probe (CodeLens, "Probe This Model", the panel's what-if). Reads the unit's latest analysis.
 * A notebook's models come with its cell placements: the extension maps their lines to cells.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { Finding, Fix, IrEditOp } from '../../shared/findings';
import type { ModelWhatIf, ModelsParams, ModelsResult } from '../../shared/protocol';
import type { Analysis, OpenUnit } from '../openUnits';
import { overlaps } from './codeActions';

export { ModelsRequest } from '../../shared/protocol';

export interface ModelsContext {
  unitOf(uri: string): OpenUnit | undefined;
  analysisOf(unit: OpenUnit): Promise<Analysis | null>;
}

export async function modelsOf(params: ModelsParams, context: ModelsContext, token: CancellationToken): Promise<ModelsResult> {
  const empty: ModelsResult = { uri: params.uri, models: [], cells: null };
  const unit = context.unitOf(params.uri);
  if (!unit) return empty;
  const analysis = await context.analysisOf(unit);
  if (!analysis || token.isCancellationRequested) return empty;
  const { result } = analysis;
  const models = result.models
    .filter((model) => model.file === unit.key)
    // A notebook's models are named as the editor shows lines: `Model() (line 86)`, one of two calls, is `Model() (cell 7, line 2)`.
    .map((model) => ({ model: unit.layout ? { ...model, name: unit.message(model.name) } : model, whatIfs: whatIfsByRule(result.findings.filter((f) => f.modelId === model.id), unit.key) }));
  return { uri: params.uri, models, cells: unit.layout?.placements ?? null };
}

/**
 * One what-if per rule: a rule that fires at several places of a model (BatchNorm after relu in four
 * conv blocks) is probed with all its IR edits applied at once, and "Apply fix" applies the first fix
 * of each place (those whose edits do not overlap an earlier one), all in `file`.
 */
export function whatIfsByRule(findings: Finding[], file: string): ModelWhatIf[] {
  const byCode = new Map<string, Finding[]>();
  for (const finding of findings) if (finding.whatIf) byCode.set(finding.code, [...(byCode.get(finding.code) ?? []), finding]);
  return [...byCode].map(([code, group]) => {
    const seen = new Set<string>();
    const ops: IrEditOp[] = [];
    const whatIfs = group.flatMap((f) => f.whatIf ?? []);
    for (const op of whatIfs.flatMap((w) => w.ops)) {
      const key = JSON.stringify(op);
      if (!seen.has(key)) ops.push(op);
      seen.add(key);
    }
    const titles = [...new Set(whatIfs.map((w) => w.title))];
    const places = group.length > 1 ? ` (${group.length} places)` : '';
    const title = titles.length === 1 ? `${titles[0]}${places}` : `${titles[0]} and ${titles.length - 1} more${places}`;
    const lines = [...new Set(group.map((f) => f.range.start.line + 1))].sort((a, b) => a - b);
    return { code, whatIf: { title, ops }, fixes: mergedFix(group, file, places), lines };
  });
}

function mergedFix(group: Finding[], file: string, places: string): Fix[] {
  const firsts = group.map((f) => f.fixes.find((fix) => fix.edits.every((e) => e.file === file))).filter((fix): fix is Fix => fix !== undefined);
  if (firsts.length === 0) return [];
  const edits: Fix['edits'] = [];
  for (const fix of firsts) {
    if (fix.edits.some((e) => edits.some((taken) => overlaps(taken.range, e.range)))) continue;
    edits.push(...fix.edits);
  }
  return [{ title: `${firsts[0]!.title}${places}`, safety: firsts.some((f) => f.safety === 'unsafe') ? 'unsafe' : 'safe', edits }];
}
