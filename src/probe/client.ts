/**
 * Run a probe in its own process (dist/probe-worker.js) and get its outcome: progress is streamed,
 * the run can be cancelled, a hung run is killed after a time budget, and a worker that crashes
 * becomes an error outcome; the caller never crashes with it. Used by the CLI and the extension.
 * This module loads no tfjs: it only forks and talks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { ModelIR } from '../shared/ir';
import type { WhatIf } from '../shared/findings';
import { guardedListener } from '../shared/message-guard';
import { PROBE_UNTRUSTED_ENV, isProbeToCallerMessage, type BackendChoice, type ProbeError, type ProbeWarmMessage, type ProbeOptions, type ProbeOutcome, type ProbeProgressMessage, type ProbeRequestMessage } from '../shared/probe';

export interface ProbeClientOptions {
  /** Path of the bundled worker; default: probe-worker.js beside the running bundle. */
  workerPath?: string;
  onProgress?: (message: ProbeProgressMessage) => void;
  /** Kill the worker after this long (ms); default: the options' time budget plus 15 s of grace. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * False in an untrusted workspace: the worker then never loads packages (such as a native
   * @tensorflow/tfjs-node) from the workspace or the current directory, only those beside itself.
   */
  trustedWorkspace?: boolean;
  /** A worker forked beforehand (prepareProbeWorker); startProbe takes it over. */
  worker?: PreparedWorker | string;
}

export interface ProbeHandle {
  result: Promise<ProbeOutcome>;
  /** Ask the worker to stop; it is killed if it has not answered within CANCEL_GRACE_MS. */
  cancel(): void;
}

const CANCEL_GRACE_MS = 2000;
const STDERR_TAIL = 4000;

export function defaultWorkerPath(): string {
  return join(typeof __dirname === 'string' ? __dirname : process.cwd(), 'probe-worker.js');
}

function failure(kind: ProbeError['kind'], message: string): ProbeOutcome {
  return { ok: false, error: { kind, message, layer: null } };
}

let nextId = 1;

/** A forked worker and the tail of what it wrote to stderr (quoted when it dies). */
export interface PreparedWorker {
  child: ChildProcess;
  stderr: { text: string };
}

/** Forks the worker; a string says why it could not be started. */
function forkWorker(workerPath: string, trusted: boolean): PreparedWorker | string {
  if (!existsSync(workerPath)) return `the probe worker was not found at ${workerPath} (run the build: npm run build)`;
  let child: ChildProcess;
  try {
    child = fork(workerPath, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      ...(trusted ? {} : { cwd: dirname(workerPath), env: { ...process.env, [PROBE_UNTRUSTED_ENV]: '1' } }),
    });
  } catch (error) {
    return `could not start the probe process: ${error instanceof Error ? error.message : String(error)}`;
  }
  const stderr = { text: '' };
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.text = (stderr.text + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  return { child, stderr };
}

/**
 * Forks a worker before the model is known and has it start `backend`, so that loading tfjs and the
 * wasm module overlaps the caller's own work (the CLI analyzes the file meanwhile). Pass it to
 * startProbe as `worker`, or `discardProbeWorker` it.
 */
export function prepareProbeWorker(backend: BackendChoice, client: Pick<ProbeClientOptions, 'workerPath' | 'trustedWorkspace'> = {}, rehearse?: ProbeWarmMessage['rehearse']): PreparedWorker | string {
  const prepared = forkWorker(client.workerPath ?? defaultWorkerPath(), client.trustedWorkspace !== false);
  if (typeof prepared === 'string') return prepared;
  // A worker that dies here is reported by startProbe (exit) or never used.
  prepared.child.on('error', () => {});
  const warm: ProbeWarmMessage = { type: 'probe-warm', backend, ...(rehearse ? { rehearse } : {}) };
  prepared.child.send(warm);
  return prepared;
}

/** Ends a prepared worker that will not be used (the analysis failed). */
export function discardProbeWorker(prepared: PreparedWorker | string): void {
  // Killed, not disconnected: it may still be loading tfjs, and its pipes would keep the caller alive.
  if (typeof prepared !== 'string') prepared.child.kill();
}

/** Whether a worker's process, its IPC channel and its stderr pipe keep the caller's event loop alive. */
function keepsCallerAlive(child: ChildProcess, keep: boolean): void {
  const handles = [child, child.channel, child.stderr instanceof Socket ? child.stderr : null];
  for (const handle of handles) {
    if (keep) handle?.ref();
    else handle?.unref();
  }
}

/** How long a standby worker waits for a probe before it is ended: an idle worker holds ~100 MB. */
export const STANDBY_IDLE_MS = 5 * 60_000;

/** The size a standby worker rehearses the last model at: enough steps for V8 to compile the step's code, few examples. */
const REHEARSAL = { steps: 3, batchSize: 2 } as const;

/**
 * One probe worker kept started for an editor's next probe: forked, with tfjs and its backend loaded
 * while nothing waits, so that probe skips the fork and the load (a quarter of a second here). It is
 * taken only for the backend and the workspace trust it was started with, and ended after
 * STANDBY_IDLE_MS unused or when disposed. While it waits it keeps no process alive.
 */
export class StandbyProbeWorker {
  private held: { worker: PreparedWorker; backend: BackendChoice; trusted: boolean; timer: NodeJS.Timeout } | null = null;

  constructor(
    private readonly client: Pick<ProbeClientOptions, 'workerPath'> = {},
    private readonly idleMs = STANDBY_IDLE_MS,
  ) {}

  /** The standby worker, for startProbe's `worker`, when it was started for `backend` and `trusted` and is alive; any other is ended. */
  take(backend: BackendChoice, trusted: boolean): PreparedWorker | undefined {
    const held = this.held;
    this.held = null;
    if (!held) return undefined;
    clearTimeout(held.timer);
    const { child } = held.worker;
    if (held.backend === backend && held.trusted === trusted && child.connected && child.exitCode === null && child.signalCode === null) {
      // A probe runs in it now: it keeps its caller alive as a worker forked for the probe does.
      keepsCallerAlive(child, true);
      return held.worker;
    }
    discardProbeWorker(held.worker);
    return undefined;
  }

  /**
   * Starts the standby worker for the next probe (ending one started for other settings). `last`: the
   * model and options of the probe just made, rehearsed in it at a small size (REHEARSAL) so that V8
   * has compiled the probe's JavaScript before the next request, most often the same model again.
   */
  prepare(backend: BackendChoice, trusted: boolean, last?: { model: ModelIR; options: ProbeOptions }): void {
    if (this.held?.backend === backend && this.held.trusted === trusted && this.held.worker.child.connected) {
      this.held.timer.refresh();
      return;
    }
    this.dispose();
    const rehearse = last ? { model: last.model, options: { ...last.options, steps: REHEARSAL.steps, batchSize: Math.min(last.options.batchSize, REHEARSAL.batchSize) } } : undefined;
    const worker = prepareProbeWorker(backend, { ...this.client, trustedWorkspace: trusted }, rehearse);
    if (typeof worker === 'string') return;
    keepsCallerAlive(worker.child, false);
    const timer = setTimeout(() => { this.dispose(); }, this.idleMs);
    timer.unref();
    this.held = { worker, backend, trusted, timer };
  }

  /** The standby worker's process while one is held. */
  get process(): ChildProcess | null {
    return this.held?.worker.child ?? null;
  }

  dispose(): void {
    if (!this.held) return;
    clearTimeout(this.held.timer);
    discardProbeWorker(this.held.worker);
    this.held = null;
  }
}

export function startProbe(model: ModelIR, options: ProbeOptions, whatIf: WhatIf | null = null, client: ProbeClientOptions = {}): ProbeHandle {
  const workerPath = client.workerPath ?? defaultWorkerPath();
  const id = nextId++;
  let child: ChildProcess | null = null;
  let cancelled = false;
  let settle: (outcome: ProbeOutcome) => void = () => {};
  const result = new Promise<ProbeOutcome>((resolve) => {
    settle = resolve;
  });
  const timers: NodeJS.Timeout[] = [];
  let done = false;
  const finish = (outcome: ProbeOutcome) => {
    if (done) return;
    done = true;
    for (const t of timers) clearTimeout(t);
    client.signal?.removeEventListener('abort', cancel);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.disconnect();
      // A worker that ignores the disconnect is killed shortly after.
      const killer = setTimeout(() => child?.kill('SIGKILL'), 1000);
      killer.unref();
    }
    settle(outcome);
  };
  function cancel(): void {
    if (done) return;
    cancelled = true;
    if (child?.connected) child.send({ type: 'probe-cancel', id });
    const killer = setTimeout(() => {
      child?.kill('SIGKILL');
      finish(failure('cancelled', 'probe cancelled'));
    }, CANCEL_GRACE_MS);
    timers.push(killer);
  }

  const started = client.worker ?? forkWorker(workerPath, client.trustedWorkspace !== false);
  if (typeof started === 'string') {
    finish(failure('crash', started));
    return { result, cancel };
  }
  child = started.child;
  const stderr = started.stderr;
  child.on(
    'message',
    guardedListener('probe client', isProbeToCallerMessage, (message) => {
      if (message.id !== id) return;
      if (message.type === 'probe-progress') client.onProgress?.(message);
      else finish(message.outcome);
    }),
  );
  child.on('error', (error) => { finish(failure('crash', `the probe process failed: ${error.message}`)); });
  child.on('exit', (code, signal) => {
    if (cancelled) { finish(failure('cancelled', 'probe cancelled')); return; }
    const tail = stderr.text.trim().split('\n').slice(-5).join('\n');
    finish(failure('crash', `the probe process exited unexpectedly (${signal ?? `code ${code}`})${tail ? `:\n${tail}` : ''}`));
  });
  const timeoutMs = client.timeoutMs ?? options.budget.maxMs + 15_000;
  timers.push(
    setTimeout(() => {
      child.kill('SIGKILL');
      finish(failure('timeout', `the probe did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`));
    }, timeoutMs),
  );
  if (client.signal?.aborted) cancel();
  else client.signal?.addEventListener('abort', cancel);
  const request: ProbeRequestMessage = { type: 'probe-request', id, model, options, whatIf };
  child.send(request);
  return { result, cancel };
}
