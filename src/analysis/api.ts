/**
 * The public contract of the analysis engine (editor-independent). The CLI, the language server and
 * the tests use only what this file names; src/analysis/project.ts implements it.
 */
import type { ModelIR, Range } from '../shared/ir';
import type { Finding, Severity } from '../shared/findings';
import type { Settings } from '../shared/settings';

/** A non-finding message about a file: syntax errors, Python 2, unsupported layers, size limits. */
export interface Notice {
  message: string;
  range: Range | null;
  severity: Severity;
}

export interface FileResult {
  path: string;
  /** Set when the file could not be analyzed at all (binary, too large, unreadable, not Python). */
  error: string | null;
  notices: Notice[];
  /** Models defined in this file. */
  models: ModelIR[];
  /** Findings located in this file (including those about models defined elsewhere, e.g. a training loop here). */
  findings: Finding[];
}

/** A text change for incremental re-parsing (0-based; offsets in UTF-16 code units as in LSP). */
export interface SourceEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: { row: number; column: number };
  oldEndPosition: { row: number; column: number };
  newEndPosition: { row: number; column: number };
}

export interface ProjectOptions {
  /** Settings per file (the nearest pyproject.toml merged with editor settings). Default: defaults. */
  settingsFor?: (path: string) => Settings;
  /** Files larger than this are refused with a clear error. Default 2 MB. */
  maxFileBytes?: number;
  /**
   * Paths of the project's other files, analyzed elsewhere (the CLI's workers each analyze a group of
   * files that import one another): imports resolve among them as among this project's files.
   */
  otherPaths?: readonly string[];
  /**
   * Extract each file as groups of name-connected top-level statements, cached between analyses, so
   * an edit extracts only its group again (analysis/units.ts): for the editor. One-shot analyses (the
   * CLI) read each file whole, which costs less when nothing is reused. Default false.
   */
  incremental?: boolean;
  /**
   * With `incremental`: the first analysis of a file reads it whole, as a one-shot analysis does (on a
   * 5,000-line file a fifth to a half of the time of extracting its groups one by one), and its groups
   * are extracted afterwards, while the caller is idle (prepareMoves). For the language server: the
   * first diagnostics of an opened file come sooner. Default false.
   */
  firstReadWhole?: boolean;
}
