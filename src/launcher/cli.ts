/**
 * dist/cli.js: runs the CLI's bundle (src/cli/main.ts) with the code cache (run-bundle.ts). V8's tier-up
 * budget is set here, before the bundle is compiled: V8 takes its flags into a cache's identity, and a
 * cache made after a flag changed would be refused by the next process, which compiles before setting it.
 */
import { CLI_INTERRUPT_BUDGET } from '../cli/interrupt-budget';
import { setInterruptBudget } from '../shared/v8-tier-up';
import { runBundle } from './run-bundle';

setInterruptBudget(CLI_INTERRUPT_BUDGET);
runBundle(__filename, 'cli-bundle.js');
