/**
 * `gradientLens/givenModel`: a model of a document built by a call of its class or builder function with
 * the arguments the user types in the editor, where no call in the workspace gives them (the editor's
 * counterpart of `probe --arg`): the document's text with that call appended is analyzed once in the
 * worker, in the file's place (analysis/given-arguments.ts); the file's own analysis is not touched.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { Parser } from 'web-tree-sitter';
import type { FileResult } from '../../analysis/api';
import { definitionOf, givenCall, givenModel, splitArgumentList } from '../../analysis/given-arguments';
import type { GivenModelParams, GivenModelResult } from '../../shared/protocol';
import type { Analysis, OpenUnit } from '../openUnits';

export { GivenModelRequest } from '../../shared/protocol';

export interface GivenModelContext {
  unitOf(uri: string): OpenUnit | undefined;
  analysisOf(unit: OpenUnit): Promise<Analysis | null>;
  /** The analysis of `text` in the unit's file's place, once; null when cancelled. */
  analyzeVariant(unit: OpenUnit, text: string): Promise<FileResult | null>;
  parser(): Promise<Parser>;
}

export async function givenModelOf(params: GivenModelParams, context: GivenModelContext, token: CancellationToken): Promise<GivenModelResult> {
  const refused = (problem: string, known: Pick<GivenModelResult, 'definition' | 'parameters'> = { definition: null, parameters: null }): GivenModelResult => ({ ...known, model: null, problem });
  const unit = context.unitOf(params.uri);
  if (!unit) return refused('the document is not open');
  const analysis = await context.analysisOf(unit);
  if (!analysis || token.isCancellationRequested) return refused('the document changed; try again');
  const chosen = analysis.result.models.find((m) => m.id === params.modelId && m.file === unit.key);
  if (!chosen) return refused(`the model ${params.modelId} is no longer in this document`);
  const text = unit.text;
  const parser = await context.parser();
  const built = definitionOf(parser, text, chosen);
  const definition = built?.definition ?? null;
  const known = { definition, parameters: built?.parameters ?? null };
  if (!definition) return refused(`model ${chosen.name} is not built by a class or function of this file whose parameters a call could set`, known);
  if (params.arguments === null) return { ...known, model: null, problem: null };
  const call = givenCall(parser, text, chosen, splitArgumentList(parser, params.arguments));
  if ('problem' in call) return refused(call.problem, known);
  const result = await context.analyzeVariant(unit, call.text);
  if (!result) return refused('the analysis was cancelled; try again', known);
  const model = givenModel(result.models, chosen, call);
  if (!model) return refused(`${call.label} builds no model the analyzer can read apart from the others of ${definition}`, known);
  return { ...known, model: { model, whatIfs: [] }, problem: null };
}
