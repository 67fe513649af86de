/**
 * The main thread's side of the analysis worker. It mirrors every file the worker holds, so that when
 * an analysis runs past its time limit (an analyzer bug on some input) it can stop the worker, start
 * a fresh one with the same files, and quarantine the files changed since the last good analysis:
 * those are the ones that triggered the hang. A quarantined file is analyzed again once it changes.
 */
import { Worker } from 'node:worker_threads';
import type { FileResult, SourceEdit } from '../analysis/api';
import { guardedListener } from '../shared/message-guard';
import type { Settings } from '../shared/settings';
import { isFromWorker, type FromWorker, type ToWorker } from './analysisProtocol';

export interface AnalysisHostOptions {
  /** The script that runs the worker (the server bundle itself: see main.ts). */
  workerScript: string;
  roots: string[];
  maxFileBytes: number;
  /** An analysis running longer than this (plus an allowance for the file's size) is stopped. */
  timeoutMs: number;
  log: (message: string) => void;
}

interface Pending {
  path: string;
  resolve: (result: FileResult) => void;
  timer: NodeJS.Timeout;
}

export class AnalysisHost {
  private worker: Worker;
  private readonly files = new Map<string, string>();
  /** Files set since the last analysis that finished: the suspects if the next one hangs. */
  private readonly changedSinceGood = new Set<string>();
  private readonly quarantined = new Map<string, string>();
  private readonly pending = new Map<number, Pending>();
  private overrides: Partial<Settings> = {};
  private nextId = 1;
  restarts = 0;
  /** Time the analyzer took for the latest result, inside the worker. */
  lastAnalyzerMs = 0;

  constructor(private readonly options: AnalysisHostOptions) {
    this.worker = this.startWorker();
  }

  private startWorker(): Worker {
    const worker = new Worker(this.options.workerScript, { workerData: { role: 'gradient-lens-analysis' } });
    worker.on('message', guardedListener('analysis host', isFromWorker, (message) => this.received(message), this.options.log));
    worker.on('error', (error) => this.options.log(`analysis worker failed: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => {
      if (worker === this.worker && code !== 0) this.restart(`the analysis worker exited with code ${code}`);
    });
    worker.postMessage({ kind: 'init', roots: this.options.roots, overrides: this.overrides, maxFileBytes: this.options.maxFileBytes } satisfies ToWorker);
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
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    this.changedSinceGood.clear();
    this.lastAnalyzerMs = message.ms;
    pending.resolve(message.result);
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

  analyze(path: string): Promise<FileResult> {
    if (this.quarantined.has(path)) return Promise.resolve(quarantineResult(path, this.options.timeoutMs));
    const id = this.nextId++;
    // Big files take longer to analyze legitimately: 1 s more per 50 kB of text.
    const limit = this.options.timeoutMs + (this.files.get(path)?.length ?? 0) / 50;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.timedOut(id, limit), limit);
      this.pending.set(id, { path, resolve, timer });
      this.post({ kind: 'analyze', id, path });
    });
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
      clearTimeout(p.timer);
      void this.analyze(p.path).then(p.resolve);
    }
  }

  dispose(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    void this.worker.terminate();
  }
}

function quarantineResult(path: string, timeoutMs: number): FileResult {
  return {
    path,
    error: `analysis did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped (an analyzer bug on this text, or a file too large to analyze in time; please report it). Gradient Lens analyzes the file again when it changes.`,
    notices: [],
    models: [],
    findings: [],
  };
}
