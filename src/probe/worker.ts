/**
 * The probe process (bundled to dist/probe-worker.js): receives a probe request over Node IPC, streams
 * progress, honours cancel messages between steps, and answers with exactly one done message. It
 * exits when its caller disconnects, so an abandoned probe never lingers. A warm message (sent before
 * the model is known) starts the backend early, and may rehearse a model; a request stops the
 * rehearsal and waits for that start to finish.
 */
import { dirname } from 'node:path';
import { guardedListener } from '../shared/message-guard';
import { PROBE_UNTRUSTED_ENV, isCallerToProbeMessage, type CallerToProbeMessage, type ProbeToCallerMessage } from '../shared/probe';
import { selectBackend } from './backend';
import { toProbeError } from './errors';
import { runProbe } from './run';
import { applyProbeV8Flags } from './v8-flags';

applyProbeV8Flags();

const running = new Map<number, AbortController>();
/** The backend start a warm message began, and its rehearsal (a failure is the request's to report). */
let warming: Promise<unknown> = Promise.resolve();
/** Stops the rehearsal a warm message started, if it still runs. */
let rehearsal: AbortController | null = null;

function send(message: ProbeToCallerMessage): void {
  process.send?.(message);
}

async function handle(message: CallerToProbeMessage): Promise<void> {
  if (message.type === 'probe-cancel') {
    running.get(message.id)?.abort();
    return;
  }
  if (message.type === 'probe-warm') {
    const { rehearse } = message;
    const controller = (rehearsal = rehearse ? new AbortController() : null);
    const started = selectBackend(message.backend);
    // Nothing is loaded from the user's folders for the rehearsal, and what it measures is dropped.
    warming = (rehearse && controller ? started.then(() => runProbe(rehearse.model, rehearse.options, { signal: controller.signal, workspace: null })) : started).catch(() => null);
    return;
  }
  const { id, model, options, whatIf } = message;
  const controller = new AbortController();
  running.set(id, controller);
  try {
    rehearsal?.abort();
    await warming;
    const outcome = await runProbe(model, options, {
      whatIf,
      signal: controller.signal,
      // In an untrusted workspace nothing is loaded from the user's folders (see client.ts).
      workspace: process.env[PROBE_UNTRUSTED_ENV] === '1' || !model.file ? null : dirname(model.file),
      onProgress: (e) => { send({ type: 'probe-progress', id, ...e }); },
    });
    send({ type: 'probe-done', id, outcome });
  } catch (error) {
    send({ type: 'probe-done', id, outcome: { ok: false, error: toProbeError(error) } });
  } finally {
    running.delete(id);
  }
}

if (!process.send) {
  process.stderr.write('probe-worker: start me with child_process.fork (I talk over Node IPC)\n');
  process.exit(2);
}
process.on('message', guardedListener('probe worker', isCallerToProbeMessage, (message) => void handle(message), (problem) => process.stderr.write(`${problem}\n`)));
process.on('disconnect', () => process.exit(0));
