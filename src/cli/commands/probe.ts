/**
 * `gradient-lens probe FILE`: rebuild one model of FILE in TensorFlow.js, train it briefly on synthetic
 * data in a separate process and report per-layer gradient flow. (Grows with issue 4.)
 */
import type { Command } from 'commander';

export interface ProbeCommandOptions {
  model?: string;
  line?: string;
  steps: string;
  batch: string;
  seed: string;
  backend: string;
  whatIf?: string;
  inputShape?: string;
  format: string;
  html?: string;
}

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('rebuild a model in TensorFlow.js, train it briefly on synthetic data and report gradient flow')
    .argument('<file>', 'Python file that defines the model')
    .option('--model <name>', 'model to probe (variable or class name)')
    .option('--line <n>', 'probe the model defined at this 1-based line')
    .option('--steps <n>', 'training steps', '30')
    .option('--batch <n>', 'batch size', '32')
    .option('--seed <n>', 'random seed (same seed, same numbers)', '0')
    .option('--backend <name>', 'auto | node | wasm | cpu', 'auto')
    .option('--what-if <code>', "also probe with this finding's fix applied (e.g. GL101)")
    .option('--input-shape <dims>', 'input shape without the batch dimension, e.g. 28,28,1')
    .option('--format <fmt>', 'text | json', 'text')
    .option('--html <file>', 'also write a self-contained HTML report')
    .action(async () => {
      process.stderr.write('gradient-lens probe: the probe engine is being built (issue 4)\n');
      process.exitCode = 2;
    });
}
