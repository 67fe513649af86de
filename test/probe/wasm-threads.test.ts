/**
 * The wasm backend on several threads (src/probe/wasm-threads.ts) gives the probe the numbers of the
 * single-thread build, bit for bit: XNNPACK hands whole output tiles to threads, so each value is
 * computed the same way whatever the thread count. A CNN with BatchNorm (convolutions forward and both
 * gradients, pooling, the Dense kernels) and a sigmoid MLP, each probed on one thread and on two.
 */
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend, setWasmThreads } from '../../src/probe/backend';
import { largestOpMacs } from '../../src/probe/cost';
import { runProbe } from '../../src/probe/run';
import { planWithinBudget } from '../../src/probe/scale';
import { wasmThreadsFor } from '../../src/probe/wasm-threads';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import type { ModelIR } from '../../src/shared/ir';
import { convBlocksNet, keras } from './ir-builder';

/** A small CNN with BatchNorm: every kind of op the CIFAR CNN runs, at a test's cost. */
const cnn = () => convBlocksNet([16, 16, 3], [[16, 16], [32]], 2, 64);
/** Issue 10's CIFAR CNN (bench/probe-cases.ts). */
const cifarCnn = () => convBlocksNet([32, 32, 3], [[32, 32], [64, 64]], 5, 256);

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
    setWasmThreads(null);
    await selectBackend('wasm');
  });

  it('threads: one per core up to the cap for a model with a large op, one for a model of small ops', () => {
    const large = Number.POSITIVE_INFINITY;
    expect([wasmThreadsFor(1, large), wasmThreadsFor(2, large), wasmThreadsFor(0, large)]).toEqual([1, 2, 1]);
    expect(wasmThreadsFor(64, large)).toBeLessThan(64);
    expect(wasmThreadsFor(8, 0)).toBe(1);
    const options = probeOptions({ backend: 'wasm', batchSize: 32 });
    const opMacs = (model: ModelIR) => {
      const { plan, batchSize } = planWithinBudget(model, options);
      return largestOpMacs(plan, batchSize);
    };
    // Issue 10's CIFAR CNN runs on threads where there are cores; a 64-wide MLP and a 16-wide CNN on one.
    expect(wasmThreadsFor(8, opMacs(cifarCnn()))).toBe(4);
    expect(wasmThreadsFor(8, opMacs(mlp()))).toBe(1);
    expect(wasmThreadsFor(8, opMacs(cnn()))).toBe(1);
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
