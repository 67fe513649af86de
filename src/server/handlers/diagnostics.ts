/** Findings and notices as LSP diagnostics. Pure: where a range lands is the caller's business. */
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic, type DiagnosticRelatedInformation, type Location } from 'vscode-languageserver/node';
import type { Notice } from '../../analysis/api';
import type { Finding, Severity } from '../../shared/findings';
import type { Location as SourceLocation, Range } from '../../shared/ir';
import { ruleDocsUri } from '../ruleDocs';
import { rangeMoved, spelledLinesMoved, uniformMoveOf } from '../../analysis/row-shift';

export const DIAGNOSTIC_SOURCE = 'gradient-lens';

/** Maps a location in the analyzed sources to an editor location; null when it is not shown anywhere. */
export type LocationMapper = (location: SourceLocation) => Location | null;

/** What a code action needs to find the finding behind a diagnostic it is given back. */
export interface DiagnosticData {
  /** Index into the findings published for this analysis unit. */
  findingIndex: number;
  /** Document version the diagnostic was computed for (stale actions are refused). */
  version: number;
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

function covers(outer: Range, inner: Range): boolean {
  const le = (a: Range['start'], b: Range['start']) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return le(outer.start, inner.start) && le(inner.end, outer.end);
}

/** Per finding; a finding moved by whole lines (row-shift.ts) is as unnecessary as the one it was moved from. */
const unnecessary = new WeakMap<Finding, boolean>();

/** The flagged code does nothing useful (a safe fix just deletes it): editors fade it. */
function isUnnecessary(finding: Finding): boolean {
  let known = unnecessary.get(finding);
  if (known === undefined) {
    const move = uniformMoveOf(finding);
    // The fixes are not read for a moved finding: the server moves their rows only when a code action needs them.
    known = move ? isUnnecessary(move.from as Finding) : deletesOnlyItself(finding);
    unnecessary.set(finding, known);
  }
  return known;
}

function deletesOnlyItself(finding: Finding): boolean {
  return finding.fixes.some(
    (fix) => fix.safety === 'safe' && fix.edits.length > 0 && fix.edits.every((e) => e.newText === '' && e.file === finding.file && covers(e.range, finding.range)),
  );
}

/**
 * How a finding the server holds is shown: moved by `rows` whole lines since it was made (row-shift.ts;
 * a line typed above it), and its messages as the editor names lines (a notebook's by cell).
 */
export interface FindingShown {
  rows: number;
  rename: (text: string) => string;
}

const AS_MADE: FindingShown = { rows: 0, rename: (text) => text };

/**
 * The diagnostic of `finding` as `shown`: the diagnostic of the finding moved by `shown.rows`, made
 * without moving the finding (a dense file's findings all move when a line is typed above them).
 * `range`: where the moved finding's range is shown.
 */
export function findingToDiagnostic(finding: Finding, range: Range, mapLocation: LocationMapper, data: DiagnosticData, shown: FindingShown = AS_MADE): Diagnostic {
  const { rows, rename } = shown;
  const relatedInformation: DiagnosticRelatedInformation[] = [];
  for (const related of finding.related) {
    const location = mapLocation(rows === 0 ? related.location : { file: related.location.file, range: rangeMoved(related.location.range, rows) });
    if (location) relatedInformation.push({ location, message: rename(spelledLinesMoved(related.message, rows)) });
  }
  const diagnostic: Diagnostic = {
    range,
    severity: SEVERITY[finding.severity],
    code: finding.code,
    codeDescription: { href: ruleDocsUri(finding.code) },
    source: DIAGNOSTIC_SOURCE,
    message: rename(spelledLinesMoved(finding.message, rows)),
    data,
  };
  if (relatedInformation.length > 0) diagnostic.relatedInformation = relatedInformation;
  if (isUnnecessary(finding)) diagnostic.tags = [DiagnosticTag.Unnecessary];
  return diagnostic;
}

/** A notice (syntax error, unsupported construct, file refused) as an uncoded diagnostic. */
export function noticeToDiagnostic(notice: Notice, range: Range): Diagnostic {
  return { range, severity: SEVERITY[notice.severity], source: DIAGNOSTIC_SOURCE, message: notice.message };
}

export function isDiagnosticData(value: unknown): value is DiagnosticData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.findingIndex === 'number' && typeof v.version === 'number';
}
