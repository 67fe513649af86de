/**
 * Run a probe in its own process (dist/probe-worker.js) and get its outcome: progress is streamed,
 * the run can be cancelled, a hung run is killed after a time budget, and a worker that crashes
 * becomes an error outcome; the caller never crashes with it. Used by the CLI and the extension.
 * This module loads no tfjs: it only forks and talks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelIR } from '../shared/ir';
import type { WhatIf } from '../shared/findings';
import { guardedListener } from '../shared/message-guard';
import { PROBE_UNTRUSTED_ENV, isProbeToCallerMessage, type ProbeError, type ProbeOptions, type ProbeOutcome, type ProbeProgressMessage, type ProbeRequestMessage } from '../shared/probe';

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

  if (!existsSync(workerPath)) {
    finish(failure('crash', `the probe worker was not found at ${workerPath} (run the build: npm run build)`));
    return { result, cancel };
  }
  let stderr = '';
  try {
    const untrusted = client.trustedWorkspace === false;
    child = fork(workerPath, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      ...(untrusted ? { cwd: dirname(workerPath), env: { ...process.env, [PROBE_UNTRUSTED_ENV]: '1' } } : {}),
    });
  } catch (error) {
    finish(failure('crash', `could not start the probe process: ${error instanceof Error ? error.message : String(error)}`));
    return { result, cancel };
  }
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
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
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
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
