/**
 * `gradientLens/models`: the models a document defines, with the IR-level what-ifs of their findings,
 * for the probe (CodeLens, "Probe This Model", the panel's what-if). Reads the unit's latest analysis.
 * A notebook's models come with its cell placements: the extension maps their lines to cells.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { ModelWhatIf, ModelsParams, ModelsResult } from '../../shared/protocol';
import type { Analysis, OpenUnit } from '../openUnits';

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
    .map((model) => {
      const whatIfs: ModelWhatIf[] = result.findings
        .filter((f) => f.modelId === model.id && f.whatIf !== null)
        .map((f) => ({ code: f.code, whatIf: f.whatIf!, fixes: f.fixes.filter((fix) => fix.edits.every((e) => e.file === unit.key)) }));
      return { model, whatIfs };
    });
  return { uri: params.uri, models, cells: unit.layout?.placements ?? null };
}
