/**
 * V8 settings for a process that runs one probe: the worker (worker.ts) applies them when it starts,
 * and bench/probe-cases.ts in each case's process, so the benchmark measures the probe as it runs.
 *
 * A probe is a short process: in a fresh one, TurboFan compiled ~350 ms of tfjs' engine functions
 * (runKernelFunc, endScope, getFilteredNodesXToY, ...) and of our kernels' loops during a 30-step probe
 * of a 20-layer MLP (node --trace-opt), ~265 ms of it on V8's background threads while steps 2-30 ran,
 * about as much CPU as the steps' own 8-10 ms each. With about three times V8's tier-up budget
 * (shared/v8-tier-up.ts) fewer functions get that far before the probe ends. Set after the modules load
 * (their one-time initialization loops are optimized as before).
 */
import { setInterruptBudget } from '../shared/v8-tier-up';

const PROBE_INTERRUPT_BUDGET = 200_000;

export function applyProbeV8Flags(): void {
  setInterruptBudget(PROBE_INTERRUPT_BUDGET);
}
