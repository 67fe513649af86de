/**
 * Messages between the probe panel (webview-ui/) and its host (the extension, or the standalone
 * HTML report), as typed objects with `is()` guards (GitLens' convention). Both sides validate what
 * they receive; nothing is dispatched on an unchecked string.
 */
import { isObject } from './message-guard';
import { isProbeResult, type ProbeError, type ProbePhase, type ProbeResult } from './probe';

/** A what-if the panel can offer: a finding's IR edit, named by its rule code. */
export interface WhatIfChoice {
  /** Index in the host's list; the webview answers with it, never with the edit itself. */
  index: number;
  code: string;
  title: string;
  /** True when the finding also has a text fix the host can apply. */
  canApply: boolean;
  /** 1-based lines of the rule's findings (as in the layer table). */
  lines: number[];
}

/** Everything the panel shows; also what it keeps with setState so a reload restores it. */
export interface PanelState {
  result: ProbeResult | null;
  whatIfs: WhatIfChoice[];
  /** True once the model's source changed after the probe. */
  stale: boolean;
  /** Step shown by the gradient-flow profile (0-based); null = last step. */
  profileStep: number | null;
  /** Identifies the model for the host (ModelIR.id and the document URI), so a restored panel can re-probe. */
  modelId: string | null;
  documentUri: string | null;
  /** The what-if chosen in the fix list (a WhatIfChoice index), kept across probes; null = the first. */
  chosenWhatIf: number | null;
}

export function emptyPanelState(): PanelState {
  return { result: null, whatIfs: [], stale: false, profileStep: null, modelId: null, documentUri: null, chosenWhatIf: null };
}

// ---- host -> webview ------------------------------------------------------------------------------

export interface ShowResultMessage {
  type: 'show-result';
  result: ProbeResult;
  whatIfs: WhatIfChoice[];
  modelId: string;
  documentUri: string;
  /** True while the probe still runs: `result` holds the steps measured so far (the panel draws them). */
  streaming?: boolean;
}

export interface ProgressMessage {
  type: 'progress';
  phase: ProbePhase;
  step: number;
  steps: number;
}

export interface ErrorMessage {
  type: 'error';
  error: ProbeError;
}

export interface StaleMessage {
  type: 'stale';
  stale: boolean;
}

export type HostToWebviewMessage = ShowResultMessage | ProgressMessage | ErrorMessage | StaleMessage;

// ---- webview -> host ------------------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
}

/** The user picked a layer (heat-map row, profile point, bar, verdict or table row). */
export interface RevealLayerMessage {
  type: 'reveal-layer';
  layerId: string;
  /** 1-based line of the layer in the probed source. */
  line: number;
}

export interface ReprobeMessage {
  type: 'reprobe';
  steps: number;
  seed: number;
}

/** Probe the model and the chosen what-if, with the panel's Steps and Seed. */
export interface RunWhatIfMessage {
  type: 'run-what-if';
  index: number;
  steps: number;
  seed: number;
}

export interface ApplyFixMessage {
  type: 'apply-fix';
  index: number;
}

export type ExportFormat = 'json' | 'html' | 'png';

export interface ExportMessage {
  type: 'export';
  format: ExportFormat;
  /** For 'png': the charts as a data: URL (image/png). */
  dataUrl: string | null;
}

/** Sent once the first chart of a result has been drawn (for the latency measurement). */
export interface ChartsDrawnMessage {
  type: 'charts-drawn';
  /** performance.now() in the webview between receiving the result and the first chart's 'finished'. */
  renderMs: number;
}

export type WebviewToHostMessage = ReadyMessage | RevealLayerMessage | ReprobeMessage | RunWhatIfMessage | ApplyFixMessage | ExportMessage | ChartsDrawnMessage;

// ---- guards ---------------------------------------------------------------------------------------

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

export function isWhatIfChoice(value: unknown): value is WhatIfChoice {
  return isObject(value) && isCount(value.index) && typeof value.code === 'string' && typeof value.title === 'string' && typeof value.canApply === 'boolean' && Array.isArray(value.lines) && value.lines.every(isCount);
}

export function isShowResultMessage(value: unknown): value is ShowResultMessage {
  return (
    isObject(value) &&
    value.type === 'show-result' &&
    isProbeResult(value.result) &&
    Array.isArray(value.whatIfs) &&
    value.whatIfs.every(isWhatIfChoice) &&
    typeof value.modelId === 'string' &&
    typeof value.documentUri === 'string' &&
    (value.streaming === undefined || typeof value.streaming === 'boolean')
  );
}

export function isProgressMessage(value: unknown): value is ProgressMessage {
  return isObject(value) && value.type === 'progress' && typeof value.phase === 'string' && isCount(value.step) && isCount(value.steps);
}

export function isErrorMessage(value: unknown): value is ErrorMessage {
  return isObject(value) && value.type === 'error' && isObject(value.error) && typeof value.error.message === 'string' && typeof value.error.kind === 'string';
}

export function isStaleMessage(value: unknown): value is StaleMessage {
  return isObject(value) && value.type === 'stale' && typeof value.stale === 'boolean';
}

export function isHostToWebviewMessage(value: unknown): value is HostToWebviewMessage {
  return isShowResultMessage(value) || isProgressMessage(value) || isErrorMessage(value) || isStaleMessage(value);
}

export function isReadyMessage(value: unknown): value is ReadyMessage {
  return isObject(value) && value.type === 'ready';
}

export function isRevealLayerMessage(value: unknown): value is RevealLayerMessage {
  return isObject(value) && value.type === 'reveal-layer' && typeof value.layerId === 'string' && isCount(value.line) && value.line >= 1;
}

export function isReprobeMessage(value: unknown): value is ReprobeMessage {
  return isObject(value) && value.type === 'reprobe' && isStepsAndSeed(value);
}

function isStepsAndSeed(value: Record<string, unknown>): boolean {
  return isCount(value.steps) && value.steps >= 1 && value.steps <= 1000 && isCount(value.seed);
}

export function isRunWhatIfMessage(value: unknown): value is RunWhatIfMessage {
  return isObject(value) && value.type === 'run-what-if' && isCount(value.index) && isStepsAndSeed(value);
}

export function isApplyFixMessage(value: unknown): value is ApplyFixMessage {
  return isObject(value) && value.type === 'apply-fix' && isCount(value.index);
}

export function isExportMessage(value: unknown): value is ExportMessage {
  if (!isObject(value) || value.type !== 'export') return false;
  if (value.format === 'png') return typeof value.dataUrl === 'string' && value.dataUrl.startsWith('data:image/png;base64,');
  return (value.format === 'json' || value.format === 'html') && value.dataUrl === null;
}

export function isChartsDrawnMessage(value: unknown): value is ChartsDrawnMessage {
  return isObject(value) && value.type === 'charts-drawn' && typeof value.renderMs === 'number' && Number.isFinite(value.renderMs);
}

export function isWebviewToHostMessage(value: unknown): value is WebviewToHostMessage {
  return (
    isReadyMessage(value) ||
    isRevealLayerMessage(value) ||
    isReprobeMessage(value) ||
    isRunWhatIfMessage(value) ||
    isApplyFixMessage(value) ||
    isExportMessage(value) ||
    isChartsDrawnMessage(value)
  );
}

/** Restored webview state: only a well-formed one is used, anything else starts empty. */
export function isPanelState(value: unknown): value is PanelState {
  return (
    isObject(value) &&
    (value.result === null || isProbeResult(value.result)) &&
    Array.isArray(value.whatIfs) &&
    value.whatIfs.every(isWhatIfChoice) &&
    typeof value.stale === 'boolean' &&
    (value.profileStep === null || isCount(value.profileStep)) &&
    (value.modelId === null || typeof value.modelId === 'string') &&
    (value.documentUri === null || typeof value.documentUri === 'string') &&
    // Absent in states saved before the fix list kept its choice.
    (value.chosenWhatIf === undefined || value.chosenWhatIf === null || isCount(value.chosenWhatIf))
  );
}
