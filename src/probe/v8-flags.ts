/**
 * V8 settings for a process that runs one probe: the worker (worker.ts) applies them when it starts,
 * and bench/probe-cases.ts in each case's process, so the benchmark measures the probe as it runs.
 *
 * A probe is a short process, and V8's defaults pay off only in long ones:
 * - TurboFan. In a fresh process it compiled ~350 ms of tfjs' engine functions (runKernelFunc,
 *   endScope, getFilteredNodesXToY, ...) and of our kernels' loops during a 30-step probe of a 20-layer
 *   MLP (node --trace-opt), ~265 ms of it on V8's background threads while steps 2-30 ran, about as
 *   much CPU as the steps' own 8-10 ms each. With about three times V8's tier-up budget
 *   (shared/v8-tier-up.ts) fewer functions get that far before the probe ends. Set after the modules
 *   load (their one-time initialization loops are optimized as before).
 * - The wasm backend's code. With dynamic tiering a wasm function runs first in V8's baseline compiler
 *   (Liftoff) and is compiled again by TurboFan on a background thread once hot, during the steps:
 *   about 1 ms of another thread's CPU per step of that MLP. Without it each function is compiled
 *   once, optimized, when first called (the first step grows by ~15 ms). Set before the backend
 *   compiles its module. --single-threaded-gc (which V8 takes only at start) measured within noise.
 */
import { setInterruptBudget, setKnownV8Flags } from '../shared/v8-tier-up';

const PROBE_INTERRUPT_BUDGET = 200_000;

export function applyProbeV8Flags(): void {
  setInterruptBudget(PROBE_INTERRUPT_BUDGET);
  setKnownV8Flags('--no-wasm-dynamic-tiering');
}
