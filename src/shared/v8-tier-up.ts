/**
 * V8's tier-up budget, for processes that end before optimized code repays its compile. The
 * --interrupt-budget flag is how much bytecode a function runs between V8's checks of whether to hand
 * it to TurboFan (67,584 in Node 20's V8). A raised budget leaves functions in the baseline tiers until
 * they have run longer, so fewer are compiled. The flag is process-wide (worker threads included) and
 * read as functions run, so it is set before the hot code starts. It is set only on V8 versions known
 * to have it (11 to 13: Node 20 to 24); another would print "unrecognized flag" on stderr.
 */
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_INTERRUPT_BUDGET = 67_584;

export function setInterruptBudget(budget: number): void {
  if (/^1[1-3]\./.test(process.versions.v8)) setFlagsFromString(`--interrupt-budget=${String(budget)}`);
}
