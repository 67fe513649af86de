import { DEFAULT_INTERRUPT_BUDGET } from '../shared/v8-tier-up';

/**
 * V8's tier-up budget in a CLI process (shared/v8-tier-up.ts; set by the launcher, src/launcher/cli.ts):
 * 9x the default. A check is a short process that runs a large engine once over its files: with V8's
 * default, TurboFan compiled so much of it on the background threads (perf, 500 small files at one job:
 * 2.5 s of CPU beside the main thread's 3.6 s) that a second thread of --jobs added as much compiling as
 * it took analysis away. With the budget raised only functions hot for longer are compiled (medians of
 * alternated runs, 2 cores): 500 generated files at --jobs 1 in the same wall time (-1 to +4 %) and
 * 18-23 % less CPU, at --jobs 2 in 2.3 s instead of 3.2; a 5,000-line model-dense file in 1.11 s instead
 * of 1.17. Process-wide, worker threads included. The probe command sets its own (probe/v8-flags.ts).
 */
export const CLI_INTERRUPT_BUDGET = 9 * DEFAULT_INTERRUPT_BUDGET;
