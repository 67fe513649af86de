/**
 * The `gradient-lens` command: check, rules, explain, docs, probe. Usage errors exit 2, as do
 * configuration problems and unreadable inputs; commander's own exit codes are mapped onto that.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { registerCheckCommand } from './commands/check';
import { registerDocsCommand } from './commands/docs';
import { registerExplainCommand } from './commands/explain';
import { registerProbeCommand } from './commands/probe';
import { registerRulesCommand } from './commands/rules';
import { CHECK_WORKER_ROLE } from './check-pool';
import { runCheckWorker } from './check-worker';

export const USAGE_ERROR_EXIT = 2;

export function createProgram(): Command {
  const program = new Command('gradient-lens')
    .description('Lint Keras and PyTorch model code for vanishing and exploding gradients, and probe gradient flow.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCheckCommand(program);
  registerRulesCommand(program);
  registerExplainCommand(program);
  registerDocsCommand(program);
  registerProbeCommand(program);
  // Subcommands inherit the override so their usage errors also reach the handler below.
  for (const command of program.commands) command.exitOverride();
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; anything else commander rejects is a usage error.
      process.exitCode = error.exitCode === 0 ? 0 : USAGE_ERROR_EXIT;
      return;
    }
    process.stderr.write(`gradient-lens: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = USAGE_ERROR_EXIT;
  }
}

// The same bundle started as a worker thread is one of `check --jobs N`'s workers.
const role: unknown = isObjectWithRole(workerData) ? workerData.role : null;
if (!isMainThread && parentPort && role === CHECK_WORKER_ROLE) runCheckWorker(parentPort);
else void main(process.argv);

function isObjectWithRole(value: unknown): value is { role: unknown } {
  return typeof value === 'object' && value !== null && 'role' in value;
}
