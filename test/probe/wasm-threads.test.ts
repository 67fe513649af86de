/**
 * The wasm backend on several threads (src/probe/wasm-threads.ts) gives the probe the numbers of the
 * single-thread build, bit for bit: XNNPACK hands whole output tiles to threads, so each value is
 * computed the same way whatever the thread count. A CNN with BatchNorm (convolutions forward and both
 * gradients, pooling, the Dense kernels) and a sigmoid MLP, each probed on one thread and on two.
 */
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend, setWasmThreads } from '../../src/probe/backend';
import { runProbe } from '../../src/probe/run';
import { wasmThreadsFor } from '../../src/probe/wasm-threads';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import type { ModelIR } from '../../src/shared/ir';
import { keras } from './ir-builder';

function cnn(): ModelIR {
  const block = (b: ReturnType<typeof keras>, filters: number) =>
    b.layer({ kind: 'conv2d', units: filters, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'batchnorm' }).layer({ kind: 'activation', activation: 'relu' });
  let b = keras().input([16, 16, 3]);
  b = block(block(b, 16), 16).layer({ kind: 'maxpool', kernelSize: [2, 2] });
  b = block(b, 32).layer({ kind: 'maxpool', kernelSize: [2, 2] });
  return b.layer({ kind: 'flatten' }).denseStack(2, 64, 'relu').dense(10, 'softmax').build();
}

function mlp(): ModelIR {
  return keras().input([64]).denseStack(6, 64, 'sigmoid').dense(10, 'softmax').build();
}

/** The probe's result on `threads` threads, its duration (the one number that may differ) set to 0. */
async function probedOn(threads: number, model: ModelIR): Promise<{ threads: number; result: ProbeResult }> {
  setWasmThreads(threads);
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 4, batchSize: 16, seed: 3 }));
  if (!outcome.ok) throw new Error(outcome.error.message);
  return { threads: getThreadsCount(), result: { ...outcome.result, durationMs: 0 } };
}

describe('the wasm backend on several threads', () => {
  afterAll(async () => {
    setWasmThreads(wasmThreadsFor(1));
    await selectBackend('wasm');
  });

  it('threads for a machine: one per core up to the cap, at least one', () => {
    expect(wasmThreadsFor(1)).toBe(1);
    expect(wasmThreadsFor(2)).toBe(2);
    expect(wasmThreadsFor(0)).toBe(1);
    expect(wasmThreadsFor(64)).toBeLessThan(64);
  });

  it.each([
    ['a CNN with BatchNorm', cnn],
    ['a sigmoid MLP', mlp],
  ])('%s: the same probe result on one thread and on two, bit for bit', async (_, model) => {
    const single = await probedOn(1, model());
    const multi = await probedOn(2, model());
    expect(single.threads).toBe(1);
    expect(multi.threads).toBe(2);
    expect(multi.result.backend).toBe('wasm');
    expect(multi.result.notices.filter((n) => n.message.includes('thread'))).toEqual([]);
    expect(multi.result.loss.every(Number.isFinite)).toBe(true);
    expect(multi.result).toEqual(single.result);
  });
});
