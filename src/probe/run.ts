/**
 * The in-process probe API (tests, benchmarks, the worker): select the backend, run the model and,
 * with a what-if, run the edited model with the same seed and data. Never throws: every failure is an
 * error outcome.
 */
import type { ModelIR } from '../shared/ir';
import type { WhatIf } from '../shared/findings';
import type { BackendName, ProbeOptions, ProbeOutcome, ProbePhase, ProbeResult, ProbeVerdict } from '../shared/probe';
import { applyWhatIf, WhatIfError } from '../shared/what-if';
import { availableParallelism } from 'node:os';
import { selectBackend } from './backend';
import { largestOpMacs } from './cost';
import { planWithinBudget } from './scale';
import { ProbeFailure, toProbeError } from './errors';
import { trainModel } from './train';
import { wasmThreadsFor } from './wasm-threads';

export interface ProgressEvent {
  phase: ProbePhase;
  step: number;
  steps: number;
  loss: number | null;
  backend: BackendName | null;
  /** Provisional verdicts on the steps so far (see ProbeProgressMessage). */
  verdicts: ProbeVerdict[] | null;
  /** The result so far (see ProbeProgressMessage). */
  partial: ProbeResult | null;
}

export interface RunHooks {
  whatIf?: WhatIf | null;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /** Folder to look for @tensorflow/tfjs-node in (the user's workspace). */
  workspace?: string | null;
}

export async function runProbe(model: ModelIR, options: ProbeOptions, hooks: RunHooks = {}): Promise<ProbeOutcome> {
  const started = Date.now();
  const deadline = started + options.budget.maxMs;
  const progress = (event: ProgressEvent) => hooks.onProgress?.(event);
  try {
    progress({ phase: 'backend', step: 0, steps: options.steps, loss: null, backend: null, verdicts: null, partial: null });
    // Planned before the backend starts: the wasm backend's threads depend on the model's largest op.
    const budgeted = planWithinBudget(model, options);
    const threads = wasmThreadsFor(availableParallelism(), largestOpMacs(budgeted.plan, budgeted.batchSize));
    const { backend, notices } = await selectBackend(options.backend, hooks.workspace ?? null, threads);
    const isCancelled = () => hooks.signal?.aborted ?? false;
    const edited = hooks.whatIf ? applyWhatIf(model, hooks.whatIf) : null;
    progress({ phase: 'build', step: 0, steps: options.steps, loss: null, backend, verdicts: null, partial: null });
    // With a what-if, the first run gets half the time budget, the what-if the rest.
    const result = await trainModel(model, options, backend, {
      isCancelled,
      deadline: edited ? started + options.budget.maxMs / 2 : deadline,
      onStep: (step, steps, loss, verdicts, partial) => progress({ phase: 'train', step, steps, loss, backend, verdicts, partial }),
    }, budgeted);
    result.notices.unshift(...notices);
    if (edited && hooks.whatIf) {
      progress({ phase: 'what-if-build', step: 0, steps: options.steps, loss: null, backend, verdicts: null, partial: null });
      // The same steps as the first run (fewer when its time budget cut it short), so the two compare.
      const other = await trainModel(edited, { ...options, steps: result.steps }, backend, {
        isCancelled,
        deadline,
        onStep: (step, steps, loss, verdicts, partial) => progress({ phase: 'what-if-train', step, steps, loss, backend, verdicts, partial: partial && { ...result, whatIf: partial, whatIfTitle: hooks.whatIf?.title ?? null } }),
      });
      result.whatIf = other;
      result.whatIfTitle = hooks.whatIf.title;
    }
    return { ok: true, result };
  } catch (error) {
    if (error instanceof WhatIfError) return { ok: false, error: new ProbeFailure('input', error.message).toProbeError() };
    return { ok: false, error: toProbeError(error) };
  }
}
