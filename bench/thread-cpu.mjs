// The main thread's CPU time, apart from V8's background threads (bench/probe-cases.ts, bench/analysis.mjs).
import { readFileSync } from 'node:fs';

/**
 * CPU milliseconds the main thread has run, from Linux's per-thread scheduler statistics; null
 * elsewhere. process.cpuUsage counts every thread: V8 optimizes JavaScript on its background threads
 * (`node --no-concurrent-recompilation` moves that onto the main thread) and collects garbage there.
 */
export function mainThreadCpuMs() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}
