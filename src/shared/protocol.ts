/**
 * Custom LSP messages between the extension and the language server, declared once as typed
 * request objects (rust-analyzer's convention). Both sides import these; nothing is sent by name.
 */
import { isObject } from './message-guard';
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { Fix, WhatIf } from './findings';
import type { ModelIR } from './ir';
import type { CellPlacement } from './notebook-layout';

export interface ServerStatus {
  /** The server process id: changes when the server is restarted. */
  pid: number;
  /** Milliseconds since the server process started. */
  uptimeMs: number;
  /** Python files read from disk for cross-file facts. */
  indexedFiles: number;
  /** Open documents and notebooks. */
  openDocuments: number;
  /** Resident set size and V8 heap in use, bytes. */
  rssBytes: number;
  heapUsedBytes: number;
  /** Duration of the most recent analysis as the server saw it (worker round trip), milliseconds. */
  lastAnalysisMs: number;
  /** The part of it spent in the analyzer itself, milliseconds. */
  lastAnalyzerMs: number;
  /** Times the analysis worker was replaced after an analysis ran past its time limit or the worker died. */
  analysisRestarts: number;
  /** Analyses in the worker (running or queued) right now. */
  runningAnalyses: number;
  /** Analyses stopped because a newer edit made them stale. */
  cancelledAnalyses: number;
}

export const ServerStatusRequest = new RequestType0<ServerStatus, void>('gradientLens/serverStatus');

// ---- probe: the models of a document (src/server/handlers/models.ts) --------------------------

export interface ModelsParams {
  /** A text document (or a notebook cell) open in the editor. */
  uri: string;
}

/** A rule's IR-level "what if" for one model: its findings' edits together, named by the rule code. */
export interface ModelWhatIf {
  code: string;
  whatIf: WhatIf;
  /** The text fixes (the first is what "Apply fix" applies: every place of the rule at once); edits are in the analyzed file. */
  fixes: Fix[];
  /** 1-based lines (of the analyzed text) of the rule's findings in this model. */
  lines: number[];
}

export interface DocumentModel {
  model: ModelIR;
  whatIfs: ModelWhatIf[];
}

export interface ModelsResult {
  uri: string;
  /**
   * Models defined in the document, in source order; empty when it has none or is not open. For a
   * notebook (asked for any of its cells): every model of the notebook, with ranges in its analyzed text.
   */
  models: DocumentModel[];
  /** For a notebook: every cell in the notebook's order and where it sits in that text (-1: not analyzed; new NotebookLayout(cells) maps ranges); null for documents. */
  cells: CellPlacement[] | null;
}

export const ModelsRequest = new RequestType<ModelsParams, ModelsResult, void>('gradientLens/models');

// ---- probe: a model built with arguments the user gives (src/server/handlers/givenModel.ts) ----

export interface GivenModelParams {
  uri: string;
  /** The model (its id) whose class or builder function the call builds. */
  modelId: string;
  /** The arguments as typed, `d_model=512, num_heads=8` (Python literals); null asks only for the parameters. */
  arguments: string | null;
}

export interface GivenModelResult {
  /** The class or function that builds the model, and the parameters a call of it can set (null: any, or unknown). */
  definition: string | null;
  parameters: string[] | null;
  /** The model the call builds (named after it, no what-ifs); null with `problem` saying why. */
  model: DocumentModel | null;
  problem: string | null;
}

/**
 * A model a class or builder of the document builds when called with the arguments the user types, where
 * no call in the workspace gives them (the editor's counterpart of `probe --arg`).
 */
export const GivenModelRequest = new RequestType<GivenModelParams, GivenModelResult, void>('gradientLens/givenModel');

/** Whether JSON from the server is a GivenModelResult (its model, when present, checked as DocumentModels are: by shape). */
export function isGivenModelResult(value: unknown): value is GivenModelResult {
  if (!isObject(value)) return false;
  const nameOrNull = (x: unknown) => x === null || typeof x === 'string';
  const model = value.model;
  const modelOk = model === null || (isObject(model) && isObject(model.model) && typeof model.model.id === 'string' && Array.isArray(model.whatIfs));
  const parametersOk = value.parameters === null || (Array.isArray(value.parameters) && value.parameters.every((p) => typeof p === 'string'));
  return nameOrNull(value.definition) && nameOrNull(value.problem) && parametersOk && modelOk;
}

// ---- probe: lines that show measured values (src/extension/probe/decorations.ts) ----------------

export interface MeasuredLinesParams {
  /** A text document (or a notebook cell) open in the editor. */
  uri: string;
  /** 0-based lines where a fresh probe shows measured values; empty when they went stale or were cleared. */
  lines: number[];
}

/**
 * The client tells the server which lines a probe annotates with measured values: the server's
 * predicted inlay hints give way there, and it asks the client to refresh its hints at once.
 */
export const MeasuredLinesNotification = new NotificationType<MeasuredLinesParams>('gradientLens/measuredLines');
