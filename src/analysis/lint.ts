/** Runs the enabled rules on one model and applies severity overrides. Suppressions are applied per file by the caller. */
import { basename } from 'node:path';
import type { ModelIR } from '../shared/ir';
import type { Finding } from '../shared/findings';
import type { Settings } from '../shared/settings';
import { RULES } from './rules/index';
import type { Rule, RuleContext } from './rules/types';
import { effectiveSeverity, isRuleEnabled, optionValue } from './config/index';
import { instanceSuffix } from './merge-findings';

export interface LintProblem {
  code: string;
  message: string;
}

function contextFor(rule: Rule, settings: Settings, sourceText: (file: string) => string | undefined): RuleContext {
  return {
    settings,
    sourceText,
    option: <T extends number | boolean | string>(key: string) => optionValue(rule.meta, key, settings) as T,
  };
}

/**
 * Findings of every enabled rule for `model`. A rule that throws is reported as a problem instead of
 * taking the analysis down: one bad rule must not hide the others' findings.
 */
export function lintModel(
  model: ModelIR,
  settings: Settings,
  sourceText: (file: string) => string | undefined,
  problems: LintProblem[] = [],
): Finding[] {
  const findings: Finding[] = [];
  const instance = instanceSuffix(model);
  for (const rule of RULES) {
    if (!isRuleEnabled(rule.meta.code, settings)) continue;
    try {
      for (const f of rule.check(model, contextFor(rule, settings, sourceText))) {
        findings.push({ ...f, message: f.message + instance, severity: settings.severity[rule.meta.code] ? effectiveSeverity(rule.meta, settings) : f.severity });
      }
    } catch (err) {
      problems.push({ code: rule.meta.code, message: `${rule.meta.code} failed on model ${model.name}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return [...findings, ...findings.flatMap((f) => markWhereWritten(model, f))];
}

/**
 * A finding about a layer another file's code makes (`self.net = BackBone(...)`: the layer is shown at
 * that line) is marked where that file writes the layer too, and goes away with the finding when it is
 * suppressed. The layer is the one whose range the finding carries (each relocated layer has its own).
 */
function markWhereWritten(model: ModelIR, finding: Finding): Finding[] {
  if (finding.echoes || finding.file !== model.file) return [];
  const written = model.layers.find((l) => l.range === finding.range)?.writtenAt;
  if (!written || written.file === model.file) return [];
  const at = `${basename(model.file)}:${finding.range.start.line + 1}`;
  return [{
    ...finding,
    file: written.file,
    range: written.range,
    message: `${finding.message} (in model '${model.name}', built at ${at})`,
    related: [{ location: { file: model.file, range: finding.range }, message: `model '${model.name}' builds this layer here` }, ...finding.related],
    fixes: [],
    echoes: [{ file: model.file, range: finding.range }],
    writtenHere: true,
  }];
}
