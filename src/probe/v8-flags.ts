/**
 * V8 settings for a process that runs one probe: the worker (worker.ts) applies them when it starts,
 * and bench/probe-cases.ts in each case's process, so the benchmark measures the probe as it runs.
 *
 * --interrupt-budget is how much bytecode a function runs between V8's checks of whether to optimize
 * it (67,584 in Node 20's V8). A probe is a short process: in a fresh one, TurboFan compiled ~350 ms of
 * tfjs' engine functions (runKernelFunc, endScope, getFilteredNodesXToY, ...) and of our kernels' loops
 * during a 30-step probe of a 20-layer MLP (node --trace-opt), ~265 ms of it on V8's background
 * threads while steps 2-30 ran, about as much CPU as the steps' own 8-10 ms each. With three times the
 * budget fewer functions get that far before the probe ends. Set after the modules load (their
 * one-time initialization loops are optimized as before); a V8 that does not know the flag ignores it.
 */
import { setFlagsFromString } from 'node:v8';

export const PROBE_V8_FLAGS = '--interrupt-budget=200000';

export function applyProbeV8Flags(): void {
  setFlagsFromString(PROBE_V8_FLAGS);
}
