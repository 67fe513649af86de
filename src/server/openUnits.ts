/**
 * What the editor has open, as the analyzer sees it: each open Python document, and each open
 * notebook's Python cells joined into one text. A unit knows how to move ranges between its analyzed
 * text and the editor documents that show it.
 */
import type { HeldResult } from './analysisProtocol';
import type { Position, Range } from '../shared/ir';
import { NotebookLayout } from '../shared/notebook-layout';

export interface EditorLocation {
  uri: string;
  range: Range;
}

/** The last analysis of a unit: what was published and what code actions and hovers read. */
export interface Analysis {
  /** The unit's version the analysis read. */
  version: number;
  /** The project's generation: any change to any file or to settings makes older analyses stale. */
  generation: number;
  result: HeldResult;
}

export class OpenUnit {
  /** Bumped on every change; results computed for an older version are stale. */
  version = 0;

  constructor(
    /** The analyzer's key for this text (a file path, or the URI for untitled documents). */
    readonly key: string,
    /** The text document's URI, or the notebook's URI. */
    readonly uri: string,
    public text: string,
    /** Set for notebooks: where each cell sits in `text`. */
    public layout: NotebookLayout | null,
  ) {}

  /** The documents diagnostics are published to. */
  get documentUris(): string[] {
    return this.layout ? this.layout.cellUris : [this.uri];
  }

  /** Where a range of the analyzed text is shown; `exact` refuses ranges clipped at a cell boundary. */
  toEditor(range: Range, exact = false): EditorLocation | null {
    if (!this.layout) return { uri: this.uri, range };
    return this.layout.toCell(range, exact);
  }

  /** A message about the analyzed text as the editor shows it: a notebook's line mentions named by cell. */
  message(text: string): string {
    return this.layout ? this.layout.message(text) : text;
  }

  /** The analyzed-text position of an editor position in `documentUri`; null when that document is not part of this unit. */
  fromEditor(documentUri: string, position: Position): Position | null {
    if (!this.layout) return documentUri === this.uri ? position : null;
    return this.layout.fromCell(documentUri, position);
  }

  private lines: { text: string; lines: string[] } | null = null;

  /** Line `line` (0-based) of the analyzed text, without its line break; '' past the end. */
  lineText(line: number): string {
    if (this.lines?.text !== this.text) this.lines = { text: this.text, lines: this.text.split('\n') };
    const raw = this.lines.lines[line] ?? '';
    return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  }
}
