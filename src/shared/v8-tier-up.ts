/**
 * V8 flags set at run time, for short processes whose V8 defaults suit long-running ones. Flags are
 * process-wide (worker threads included). They are set only on V8 versions known to have them (11 to
 * 13: Node 20 to 24); another would print "unrecognized flag" on stderr.
 *
 * The tier-up budget: --interrupt-budget is how much bytecode a function runs between V8's checks of
 * whether to hand it to TurboFan (67,584 in Node 20's V8). A raised budget leaves functions in the
 * baseline tiers until they have run longer, so fewer are compiled before the process ends. It is read
 * as functions run, so it is set before the hot code starts.
 */
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_INTERRUPT_BUDGET = 67_584;

export function setKnownV8Flags(...flags: string[]): void {
  if (!/^1[1-3]\./.test(process.versions.v8)) return;
  for (const flag of flags) setFlagsFromString(flag);
}

export function setInterruptBudget(budget: number): void {
  setKnownV8Flags(`--interrupt-budget=${String(budget)}`);
}
