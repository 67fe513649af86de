/**
 * The main thread's side of the analysis worker. It mirrors every file the worker holds, so that when
 * an analysis runs past its time limit (an analyzer bug on some input) it can stop the worker, start
 * a fresh one with the same files, and quarantine the files changed since the last good analysis:
 * those are the ones that triggered the hang. A quarantined file is analyzed again once it changes.
 * An analysis a newer edit made stale is cancelled through flags both threads share: the worker
 * stops at its next checkpoint and answers `cancelled`.
 */
import { Worker } from 'node:worker_threads';
import type { SourceEdit } from '../analysis/api';
import { guardedListener } from '../shared/message-guard';
import type { Settings } from '../shared/settings';
import { CANCEL_SLOTS, cancelIn, heldResult, isFromWorker, PostedResults, type FromWorker, type HeldModels, type HeldResult, type ToWorker } from './analysisProtocol';

export interface AnalysisHostOptions {
  /** The script that runs the worker (the server bundle itself: see main.ts). */
  workerScript: string;
  roots: string[];
  maxFileBytes: number;
  /** An analysis running longer than this (plus an allowance for the file's size) is stopped. */
  timeoutMs: number;
  log: (message: string) => void;
}

/** One requested analysis; its id changes when a restart sends it again. */
interface Ticket {
  id: number;
  cancelled: boolean;
}

/** Who waits for an analysis: its models (ahead of its result when the worker posts them so) and its result; null: cancelled. */
interface Answer {
  models: (models: HeldModels | null) => void;
  result: (result: HeldResult | null) => void;
}

interface Pending {
  ticket: Ticket;
  path: string;
  /** The text analyzed in the file's place, once (see ToWorker 'analyze'); undefined: the file's own. */
  variant: string | undefined;
  answer: Answer;
  /** The time limit, armed when the worker starts the analysis (an analysis queued behind a long one is not late). */
  timer: NodeJS.Timeout | null;
}

/** An analysis requested from the worker. `result` is null when it was cancelled. */
export interface RunningAnalysis {
  readonly result: Promise<HeldResult | null>;
  /** The result's models, known before its findings (hovers need only them); null when cancelled first. */
  readonly models: Promise<HeldModels | null>;
  /** Stops the analysis at the worker's next checkpoint (or before it starts); `result` becomes null. */
  cancel(): void;
}

export class AnalysisHost {
  private worker: Worker;
  /** The last result per path the current worker posted (it sends what did not change as indices into it). */
  private posted = new PostedResults();
  private readonly files = new Map<string, string>();
  /** Files set since the last analysis that finished: the suspects if the next one hangs. */
  private readonly changedSinceGood = new Set<string>();
  private readonly quarantined = new Map<string, string>();
  private readonly pending = new Map<number, Pending>();
  private readonly cancelFlags = new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private overrides: Partial<Settings> = {};
  private nextId = 1;
  restarts = 0;
  /** Analyses the worker stopped (or never started) because they were cancelled. */
  cancelled = 0;
  /** Time the analyzer took for the latest result, inside the worker. */
  lastAnalyzerMs = 0;

  constructor(private readonly options: AnalysisHostOptions) {
    this.worker = this.startWorker();
  }

  private startWorker(): Worker {
    const worker = new Worker(this.options.workerScript, { workerData: { role: 'gradient-lens-analysis' } });
    this.posted = new PostedResults();
    // A stopped worker's late messages are dropped: its results are encoded against what it posted.
    worker.on('message', guardedListener('analysis host', isFromWorker, (message) => { if (worker === this.worker) this.received(message); }, this.options.log));
    worker.on('error', (error) => { this.options.log(`analysis worker failed: ${error.stack ?? error.message}`); });
    worker.on('exit', (code) => {
      if (worker === this.worker && code !== 0) this.restart(`the analysis worker exited with code ${code}`);
    });
    worker.postMessage({ kind: 'init', roots: this.options.roots, overrides: this.overrides, maxFileBytes: this.options.maxFileBytes, cancelFlags: this.cancelFlags.buffer } satisfies ToWorker);
    for (const [path, text] of this.files) worker.postMessage({ kind: 'setFile', path, text, edit: null } satisfies ToWorker);
    return worker;
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private received(message: FromWorker): void {
    if (message.kind === 'log') {
      this.options.log(message.message);
      return;
    }
    // Every result and every set of models is decoded, awaited or not: the next one may refer to it.
    if (message.kind === 'models') {
      const models = this.posted.decodeModels(message.models);
      if (!models) this.restart(`the analysis worker's models for ${message.models.path} refer to ones the server does not hold; restarted it`);
      else this.pending.get(message.id)?.answer.models(models);
      return;
    }
    const result = message.kind === 'result' ? this.posted.decode(message.result) : null;
    if (message.kind === 'result' && !result) {
      this.restart(`the analysis worker's result for ${message.result.path} refers to one the server does not hold; restarted it`);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.kind === 'started') {
      this.armTimer(message.id, pending);
      return;
    }
    this.pending.delete(message.id);
    if (pending.timer) clearTimeout(pending.timer);
    if (message.kind === 'cancelled') {
      this.cancelled++;
      pending.answer.models(null);
      pending.answer.result(null);
      return;
    }
    this.changedSinceGood.clear();
    this.lastAnalyzerMs = message.ms;
    // A result without models posted ahead (an analysis that failed) answers both.
    pending.answer.models(result);
    pending.answer.result(result);
  }

  /** Analyses sent to the worker and not answered yet. */
  get running(): number {
    return this.pending.size;
  }

  text(path: string): string | undefined {
    return this.files.get(path) ?? this.quarantined.get(path);
  }

  setFile(path: string, text: string, edit: SourceEdit | null): void {
    const wasQuarantined = this.quarantined.delete(path);
    this.files.set(path, text);
    this.changedSinceGood.add(path);
    // A quarantined file is not in the worker: it needs a full parse, not an incremental one.
    this.post({ kind: 'setFile', path, text, edit: wasQuarantined ? null : edit });
  }

  removeFile(path: string): void {
    this.files.delete(path);
    this.quarantined.delete(path);
    this.changedSinceGood.delete(path);
    this.post({ kind: 'removeFile', path });
  }

  setOverrides(overrides: Partial<Settings>): void {
    this.overrides = overrides;
    this.post({ kind: 'settings', overrides });
  }

  reloadConfig(): void {
    this.post({ kind: 'reloadConfig' });
  }

  /** The analysis of `path`, or of `variant` analyzed once in its place (the file's own text is kept). */
  analyze(path: string, variant?: string): RunningAnalysis {
    const ticket: Ticket = { id: 0, cancelled: false };
    let answerModels: Answer['models'] = () => undefined;
    const models = new Promise<HeldModels | null>((resolve) => { answerModels = resolve; });
    const result = new Promise<HeldResult | null>((resolve) => { this.request(ticket, path, { models: answerModels, result: resolve }, variant); });
    return {
      result,
      models,
      cancel: () => {
        ticket.cancelled = true;
        cancelIn(this.cancelFlags, ticket.id);
      },
    };
  }

  /** Sends (or, after a restart, sends again) the ticket's analysis under a new id. */
  private request(ticket: Ticket, path: string, answer: Answer, variant: string | undefined): void {
    if (ticket.cancelled) {
      answer.models(null);
      answer.result(null);
      return;
    }
    const id = (ticket.id = this.nextId++);
    if (this.quarantined.has(path)) {
      const result = quarantineResult(path, this.options.timeoutMs);
      answer.models(result);
      answer.result(result);
      return;
    }
    this.pending.set(id, { ticket, path, answer, timer: null, variant });
    this.post({ kind: 'analyze', id, path, ...(variant === undefined ? {} : { variant }) });
  }

  private armTimer(id: number, pending: Pending): void {
    // Big files take longer to analyze legitimately: 1 s more per 50 kB of text.
    const limit = this.options.timeoutMs + (this.files.get(pending.path)?.length ?? 0) / 50;
    pending.timer = setTimeout(() => {
      this.timedOut(id, limit);
    }, limit);
  }

  private timedOut(id: number, limit: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    const suspects = this.changedSinceGood.size > 0 ? [...this.changedSinceGood] : [pending.path];
    for (const path of suspects) {
      const text = this.files.get(path);
      if (text === undefined) continue;
      this.files.delete(path);
      this.quarantined.set(path, text);
    }
    this.changedSinceGood.clear();
    this.restart(`analysis of ${pending.path} ran past ${Math.round(limit)} ms; stopped it and set aside ${suspects.join(', ')} until it changes`);
  }

  /** Stops the worker and starts a fresh one; requests in flight are answered with the quarantine notice or retried. */
  private restart(reason: string): void {
    this.options.log(reason);
    this.restarts++;
    const old = this.worker;
    this.worker = this.startWorker();
    void old.terminate();
    const inFlight = [...this.pending.values()];
    this.pending.clear();
    for (const p of inFlight) {
      if (p.timer) clearTimeout(p.timer);
      this.request(p.ticket, p.path, p.answer, p.variant);
    }
  }

  dispose(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    void this.worker.terminate();
  }
}

function quarantineResult(path: string, timeoutMs: number): HeldResult {
  return heldResult({
    path,
    error: `analysis did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped (an analyzer bug on this text, or a file too large to analyze in time; please report it). Gradient Lens analyzes the file again when it changes.`,
    notices: [],
    models: [],
    findings: [],
  });
}
