/** The probe in its own process: progress, cancellation, time budget, and crashes that stay contained. */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { discardProbeWorker, prepareProbeWorker, StandbyProbeWorker, startProbe } from '../../src/probe/client';
import { probeOptions, type ProbeProgressMessage } from '../../src/shared/probe';
import { convBlocksNet, keras } from './ir-builder';
import { setWasmThreads } from '../../src/probe/backend';
import { runProbe } from '../../src/probe/run';
import { buildWorker } from './worker-bundle';
import { defined } from '../defined';

let workerPath = '';
beforeAll(async () => {
  workerPath = await buildWorker();
});

/** Long runs that the engine's own time budget lets through, so only the client can stop them. */
const longRun = (steps: number) => probeOptions({ steps, backend: 'wasm', budget: { maxMs: 1e9 } });

const small = () => keras('small').input([8]).dense(16, 'relu').dense(3, 'softmax').build();
const slow = () => keras('slow').input([256]).denseStack(8, 256, 'tanh').dense(3, 'softmax').build();

describe('probe client', () => {
  it('runs in a worker process and streams progress in order', async () => {
    const progress: ProbeProgressMessage[] = [];
    const outcome = await startProbe(small(), probeOptions({ steps: 5, backend: 'wasm' }), null, { workerPath, onProgress: (m) => progress.push(m) }).result;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result.backend).toBe('wasm');
    expect(outcome.result.loss).toHaveLength(5);
    const steps = progress.filter((p) => p.phase === 'train').map((p) => p.step);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    expect(progress[0]!.phase).toBe('backend');
    // The result so far streams from the first step on: what the panel draws before the run ends.
    const first = defined(progress.find((p) => p.phase === 'train' && p.step === 1)).partial;
    expect(first?.steps).toBe(1);
    expect(first?.layers[0]!.gradNorm[0]).toBe(outcome.result.layers[0]!.gradNorm[0]);
    const lastPartial = defined(defined(progress.filter((p) => p.partial !== null).pop()).partial);
    expect(lastPartial.loss).toEqual(outcome.result.loss);
  });

  it("runs a model with large ops on the wasm backend's threads where there are cores, with one thread's numbers", async () => {
    // Its first convolution's step does ~3e7 multiply-adds: threaded on 2 or more cores (wasmThreadsFor).
    const cnn = convBlocksNet([32, 32, 3], [[32]], 1, 16);
    const options = probeOptions({ steps: 2, backend: 'wasm', batchSize: 32 });
    const inWorker = await startProbe(cnn, options, null, { workerPath }).result;
    setWasmThreads(1);
    const oneThread = await runProbe(cnn, options);
    setWasmThreads(null);
    if (!inWorker.ok || !oneThread.ok) throw new Error('probe failed');
    // A threaded build the worker cannot find or start is a hint notice.
    expect(inWorker.result.notices.filter((n) => n.message.includes('thread'))).toEqual([]);
    expect({ ...inWorker.result, durationMs: 0 }).toEqual({ ...oneThread.result, durationMs: 0 });
  });

  it('runs on a worker prepared before the model was known (the CLI forks while it analyzes), with the same numbers', async () => {
    const worker = prepareProbeWorker('wasm', { workerPath });
    expect(typeof worker).not.toBe('string');
    const options = probeOptions({ steps: 2, backend: 'wasm' });
    const warm = await startProbe(small(), options, null, { workerPath, worker }).result;
    const cold = await startProbe(small(), options, null, { workerPath }).result;
    expect(warm.ok && cold.ok).toBe(true);
    if (!warm.ok || !cold.ok) return;
    expect(warm.result.backend).toBe('wasm');
    expect(warm.result.layers.map((l) => l.gradNorm)).toEqual(cold.result.layers.map((l) => l.gradNorm));
    // A prepared worker that is not used ends; a missing worker is a clear failure, not a crash.
    const unused = prepareProbeWorker('wasm', { workerPath });
    if (typeof unused === 'string') throw new Error(unused);
    const exited = new Promise((resolve) => unused.child.once('exit', resolve));
    discardProbeWorker(unused);
    await exited;
    const missing = prepareProbeWorker('wasm', { workerPath: join(workerPath, '..', 'no-such-worker.js') });
    expect(missing).toMatch(/probe worker was not found/);
    const failed = await startProbe(small(), options, null, { workerPath, worker: missing }).result;
    expect(failed.ok).toBe(false);
  });

  it('stops a rehearsal when a request arrives mid-run, and answers the request with the fresh worker numbers', async () => {
    // A rehearsal that would not end on its own: if the request did not stop it, the probe would never answer.
    const worker = prepareProbeWorker('wasm', { workerPath }, { model: slow(), options: longRun(1_000_000) });
    if (typeof worker === 'string') throw new Error(worker);
    // Long enough for the backend to start and the rehearsal to run steps (a start takes ~0.3 s here).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const options = probeOptions({ steps: 3, backend: 'wasm' });
    const answered = await startProbe(small(), options, null, { workerPath, worker }).result;
    const fresh = await startProbe(small(), options, null, { workerPath }).result;
    if (!answered.ok || !fresh.ok) throw new Error('probe failed');
    expect(answered.result.loss).toEqual(fresh.result.loss);
    expect(answered.result.layers.map((l) => l.gradNorm)).toEqual(fresh.result.layers.map((l) => l.gradNorm));
  });

  it("keeps a standby worker for an editor's next probe: taken for its backend and trust only, ended when idle or disposed", async () => {
    const options = probeOptions({ steps: 2, backend: 'wasm' });
    const standby = new StandbyProbeWorker({ workerPath }, 60_000);
    expect(standby.take('wasm', true)).toBeUndefined();
    // Prepared after a probe of the model, which it rehearses while it waits: the numbers stay the fresh worker's.
    standby.prepare('wasm', true, { model: small(), options: probeOptions({ steps: 5, backend: 'wasm' }) });
    expect(standby.process).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const worker = defined(standby.take('wasm', true));
    expect(standby.process).toBeNull();
    const viaStandby = await startProbe(small(), options, null, { workerPath, worker }).result;
    const fresh = await startProbe(small(), options, null, { workerPath }).result;
    expect(viaStandby.ok && fresh.ok).toBe(true);
    if (!viaStandby.ok || !fresh.ok) return;
    expect(viaStandby.result.layers.map((l) => l.gradNorm)).toEqual(fresh.result.layers.map((l) => l.gradNorm));
    // Started for another backend or trust: not taken, and ended.
    standby.prepare('wasm', true);
    const other = defined(standby.process);
    const ended = new Promise((resolve) => other.once('exit', resolve));
    expect(standby.take('cpu', true)).toBeUndefined();
    await ended;
    standby.prepare('wasm', false);
    const untrusted = defined(standby.process);
    const endedToo = new Promise((resolve) => untrusted.once('exit', resolve));
    expect(standby.take('wasm', true)).toBeUndefined();
    await endedToo;
    // Unused past its idle time, it ends by itself; disposing ends one at once.
    const idle = new StandbyProbeWorker({ workerPath }, 200);
    idle.prepare('wasm', true);
    const idleChild = defined(idle.process);
    await new Promise((resolve) => idleChild.once('exit', resolve));
    expect(idle.process).toBeNull();
    standby.prepare('wasm', true);
    const disposed = defined(standby.process);
    const gone = new Promise((resolve) => disposed.once('exit', resolve));
    standby.dispose();
    await gone;
    expect(standby.process).toBeNull();
  });

  it('can be cancelled mid-run', async () => {
    const handle = startProbe(slow(), longRun(500), null, {
      workerPath,
      onProgress: (m) => {
        if (m.phase === 'train' && m.step === 2) handle.cancel();
      },
    });
    const outcome = await handle.result;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.kind).toBe('cancelled');
    expect(outcome.error.message).toMatch(/cancelled after \d+ of 500 steps|probe cancelled/);
  });

  it('cancels through an AbortSignal too', async () => {
    const controller = new AbortController();
    const handle = startProbe(slow(), longRun(500), null, {
      workerPath,
      signal: controller.signal,
      onProgress: (m) => {
        if (m.phase === 'train') controller.abort();
      },
    });
    const outcome = await handle.result;
    expect(!outcome.ok && outcome.error.kind).toBe('cancelled');
  });

  it('keeps what was measured when the time budget runs out, and says so', async () => {
    const outcome = await startProbe(slow(), probeOptions({ steps: 100_000, backend: 'wasm', budget: { maxMs: 1500 } }), null, { workerPath }).result;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const { result } = outcome;
    expect(result.steps).toBeGreaterThanOrEqual(1);
    expect(result.steps).toBeLessThan(100_000);
    expect(result.loss).toHaveLength(result.steps);
    expect(defined(result.layers.find((l) => l.gradNorm.length > 0)).gradNorm).toHaveLength(result.steps);
    expect(result.notices.map((n) => n.message)).toContainEqual(`The time budget ran out after ${result.steps} of 100000 steps; the steps measured are shown.`);
  });

  it('kills a worker that does not answer within the client timeout', async () => {
    const outcome = await startProbe(slow(), longRun(100_000), null, { workerPath, timeoutMs: 1500 }).result;
    expect(!outcome.ok && outcome.error.kind).toBe('timeout');
  });

  it('turns a crashing worker into an error outcome', async () => {
    const crashing = join(__dirname, '../fixtures/probe/crashing-worker.cjs');
    const outcome = await startProbe(small(), probeOptions(), null, { workerPath: crashing }).result;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.kind).toBe('crash');
    expect(outcome.error.message).toMatch(/code 3/);
    expect(outcome.error.message).toMatch(/simulated native crash/);
  });

  it('says where it looked when the worker bundle is missing', async () => {
    const outcome = await startProbe(small(), probeOptions(), null, { workerPath: '/nonexistent/probe-worker.js' }).result;
    expect(!outcome.ok && outcome.error.message).toMatch(/not found at \/nonexistent\/probe-worker\.js/);
  });
});
