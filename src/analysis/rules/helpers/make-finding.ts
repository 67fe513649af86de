/** Builds a Finding for a rule, applying the user's severity override for the code. */
import type { ModelIR, Range } from '../../../shared/ir';
import type { Finding, Fix, RelatedInfo, Severity, WhatIf } from '../../../shared/findings';
import type { RuleContext, RuleMeta } from '../types';

export interface FindingParts {
  message: string;
  range: Range;
  related?: RelatedInfo[];
  fixes?: Fix[];
  whatIf?: WhatIf | null;
  /**
   * The severity this finding has by its evidence when the user set none for the code: e.g. GL101 is
   * information when the prediction says the stack is healthy at initialization. Default: the rule's.
   */
  severity?: Severity;
}

export function makeFinding(meta: RuleMeta, model: ModelIR, context: RuleContext, parts: FindingParts): Finding {
  return {
    code: meta.code,
    name: meta.name,
    message: parts.message,
    severity: context.settings.severity[meta.code] ?? parts.severity ?? meta.defaultSeverity,
    file: model.file,
    range: parts.range,
    related: parts.related ?? [],
    fixes: parts.fixes ?? [],
    whatIf: parts.whatIf ?? null,
    modelId: model.id,
  };
}
