/**
 * Code actions for Gradient Lens diagnostics: each finding's fixes (the first safe one preferred),
 * "Ignore GLxxx on this line" (a `# noqa` comment), and "Fix all safe problems in this file".
 */
import { CodeActionKind, type CodeAction, type Diagnostic, type Range as LspRange, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver/node';
import type { Finding, Fix } from '../../shared/findings';
import type { Range } from '../../shared/ir';
import { noqaEdit } from '../noqa';
import type { Analysis, EditorLocation, OpenUnit } from '../openUnits';
import { uriOfPath } from '../uris';
import { DIAGNOSTIC_SOURCE, isDiagnosticData } from './diagnostics';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.gradientLens`;
export const FIX_ALL_TITLE = 'Fix all safe problems in this file';

export interface CodeActionRequest {
  unit: OpenUnit;
  analysis: Analysis;
  /** The document the request is for (a cell URI for notebooks). */
  documentUri: string;
  range: LspRange;
  diagnostics: Diagnostic[];
  /** Requested kinds; null for all. */
  only: string[] | null;
}

function wants(only: string[] | null, kind: string): boolean {
  return only === null || only.some((k) => kind === k || kind.startsWith(`${k}.`));
}

/** A fix's edits as a workspace edit; null when an edit cannot be shown exactly (e.g. it spans notebook cells). */
function fixToWorkspaceEdit(unit: OpenUnit, edits: Fix['edits']): WorkspaceEdit | null {
  const changes: Record<string, TextEdit[]> = {};
  for (const edit of edits) {
    const at: EditorLocation | null = edit.file === unit.key ? unit.toEditor(edit.range, true) : { uri: uriOfPath(edit.file), range: edit.range };
    if (!at) return null;
    (changes[at.uri] ??= []).push({ range: at.range, newText: edit.newText });
  }
  return { changes };
}

function ignoreAction(unit: OpenUnit, finding: Finding, diagnostic: Diagnostic): CodeAction | null {
  const line = finding.range.start.line;
  const edit = noqaEdit(unit.lineText(line), finding.code);
  if (!edit) return null;
  const at = unit.toEditor({ start: { line, character: edit.start }, end: { line, character: edit.end } }, true);
  if (!at) return null;
  return {
    title: `Ignore ${finding.code} on this line`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [diagnostic],
    edit: { changes: { [at.uri]: [{ range: at.range, newText: edit.newText }] } },
  };
}

/** True when two ranges share at least one character. */
export function overlaps(a: Range, b: Range): boolean {
  const before = (p: Range['start'], q: Range['start']) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return before(a.start, b.end) && before(b.start, a.end);
}

/**
 * One edit applying every safe fix of the unit. Fixes whose edits overlap an earlier one are left
 * for the next round, as Ruff does: applying both could corrupt the text.
 */
export function fixAllSafe(unit: OpenUnit, findings: Finding[]): WorkspaceEdit | null {
  const taken: { file: string; range: Range }[] = [];
  const edits: Fix['edits'] = [];
  for (const finding of findings) {
    const fix = finding.fixes.find((f) => f.safety === 'safe');
    if (!fix || !fixToWorkspaceEdit(unit, fix.edits)) continue;
    if (fix.edits.some((e) => taken.some((t) => t.file === e.file && overlaps(t.range, e.range)))) continue;
    for (const e of fix.edits) taken.push(e);
    edits.push(...fix.edits);
  }
  return edits.length > 0 ? fixToWorkspaceEdit(unit, edits) : null;
}

export function codeActionsFor(request: CodeActionRequest): CodeAction[] {
  const { unit, analysis, only } = request;
  const findings = analysis.result.findings;
  const actions: CodeAction[] = [];

  if (wants(only, CodeActionKind.QuickFix)) {
    const ignored = new Set<string>();
    for (const diagnostic of request.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE || !isDiagnosticData(diagnostic.data)) continue;
      if (diagnostic.data.version !== analysis.version) continue; // computed for older text: its edits would land wrong
      const finding = findings[diagnostic.data.findingIndex];
      if (!finding || finding.code !== diagnostic.code) continue;

      let preferred = false;
      for (const fix of [...finding.fixes].sort((a, b) => Number(a.safety === 'unsafe') - Number(b.safety === 'unsafe'))) {
        const edit = fixToWorkspaceEdit(unit, fix.edits);
        if (!edit) continue;
        const isPreferred: boolean = fix.safety === 'safe' && !preferred;
        preferred ||= isPreferred;
        actions.push({ title: fix.safety === 'unsafe' ? `${fix.title} (unsafe: review the change)` : fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred, edit });
      }
      const ignoreKey = `${finding.code}@${finding.range.start.line}`;
      if (!ignored.has(ignoreKey)) {
        ignored.add(ignoreKey);
        const ignore = ignoreAction(unit, finding, diagnostic);
        if (ignore) actions.push(ignore);
      }
    }
    const safeCount = findings.filter((f) => f.fixes.some((x) => x.safety === 'safe')).length;
    if (actions.length > 0 && safeCount > 0) {
      const edit = fixAllSafe(unit, findings);
      if (edit) actions.push({ title: FIX_ALL_TITLE, kind: CodeActionKind.QuickFix, edit });
    }
  }
  if (only !== null && wants(only, FIX_ALL_KIND)) {
    const edit = fixAllSafe(unit, findings);
    if (edit) actions.push({ title: FIX_ALL_TITLE, kind: FIX_ALL_KIND, edit });
  }
  return actions;
}
