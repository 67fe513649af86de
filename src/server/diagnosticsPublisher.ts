/**
 * Publishing diagnostics: an open unit's analysis as LSP diagnostics on the documents that show it
 * (a file, or a notebook's cells), clearing documents that no longer have any.
 */
import type { Connection, Diagnostic } from 'vscode-languageserver/node';
import { findingToDiagnostic, noticeToDiagnostic, type LocationMapper } from './handlers/diagnostics';
import type { Analysis, OpenUnit } from './openUnits';
import { uriOfPath } from './uris';
import { rangeMoved } from '../analysis/row-shift';

const FIRST_LINE = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

export class DiagnosticsPublisher {
  /** The analysis whose diagnostics the editor currently shows, per unit. */
  private readonly shownAnalyses = new Map<string, Analysis>();
  /** Per unit: the document URIs that currently show diagnostics (so removed cells get cleared). */
  private readonly shownUris = new Map<string, Set<string>>();

  constructor(
    private readonly connection: Connection,
    /** The editor's version of a text document, sent with its diagnostics. */
    private readonly documentVersion: (uri: string) => number | undefined,
  ) {}

  /** Whether the editor already shows exactly this analysis for the unit. */
  shows(unit: OpenUnit, analysis: Analysis): boolean {
    return this.shownAnalyses.get(unit.uri) === analysis;
  }

  /** Shows the unit's analysis (null: none, e.g. linting is off) on its documents. `units`: every open unit, for cross-file locations. */
  publish(unit: OpenUnit, analysis: Analysis | null, units: Iterable<OpenUnit>): void {
    const byUri = new Map<string, Diagnostic[]>(unit.documentUris.map((u) => [u, []]));
    if (analysis) {
      for (const [uri, diagnostics] of diagnosticsOf(unit, analysis, locationMapper(units))) byUri.set(uri, diagnostics);
      this.shownAnalyses.set(unit.uri, analysis);
    } else {
      this.shownAnalyses.delete(unit.uri);
    }
    const previous = this.shownUris.get(unit.uri) ?? new Set<string>();
    for (const uri of previous) if (!byUri.has(uri)) void this.connection.sendDiagnostics({ uri, diagnostics: [] });
    for (const [uri, diagnostics] of byUri) void this.connection.sendDiagnostics({ uri, version: unit.layout ? undefined : this.documentVersion(uri), diagnostics });
    this.shownUris.set(unit.uri, new Set(byUri.keys()));
  }

  /** Shows the unit's shown analysis again (its document's version moved, its text did not); nothing before a first one. */
  republish(unit: OpenUnit, units: Iterable<OpenUnit>): void {
    const shown = this.shownAnalyses.get(unit.uri);
    if (shown) this.publish(unit, shown, units);
  }

  /** Clears everything a closed unit showed. */
  clear(unitUri: string): void {
    for (const shown of this.shownUris.get(unitUri) ?? []) void this.connection.sendDiagnostics({ uri: shown, diagnostics: [] });
    this.shownUris.delete(unitUri);
    this.shownAnalyses.delete(unitUri);
  }
}

/** The diagnostics of a unit's analysis by the document that shows them (exported for the incremental analysis test). */
export function diagnosticsOf(unit: OpenUnit, analysis: Analysis, mapLocation: LocationMapper): Map<string, Diagnostic[]> {
  const byUri = new Map<string, Diagnostic[]>();
  const add = (uri: string, diagnostic: Diagnostic) => {
    const list = byUri.get(uri) ?? [];
    list.push(diagnostic);
    byUri.set(uri, list);
  };
  const { result } = analysis;
  const rename = (text: string) => unit.message(text);
  if (result.error) {
    const at = unit.toEditor(FIRST_LINE);
    if (at) add(at.uri, noticeToDiagnostic({ message: `Gradient Lens: ${rename(result.error)}`, range: null, severity: 'information' }, at.range));
  }
  for (const notice of result.notices) {
    const at = unit.toEditor(notice.range ?? FIRST_LINE);
    if (at) add(at.uri, noticeToDiagnostic({ ...notice, message: rename(notice.message) }, at.range));
  }
  // Findings moved by lines typed above them are shown from the findings they were moved from.
  result.findingsAsHeld((finding, rows, findingIndex) => {
    const at = unit.toEditor(rangeMoved(finding.range, rows));
    if (at) add(at.uri, findingToDiagnostic(finding, at.range, mapLocation, { findingIndex, version: analysis.version }, { rows, rename }));
  });
  return byUri;
}

/** Maps analyzer locations (any file of the project) to editor locations (exported for the incremental analysis test). */
export function locationMapper(units: Iterable<OpenUnit>): LocationMapper {
  const byKey = new Map<string, OpenUnit>();
  for (const unit of units) byKey.set(unit.key, unit);
  return (location) => {
    const unit = byKey.get(location.file);
    if (unit) return unit.toEditor(location.range);
    return { uri: uriOfPath(location.file), range: location.range };
  };
}
