/**
 * Cancelling an analysis that a newer edit made stale. The analysis is synchronous, so the request to
 * stop cannot arrive as a message while it runs: the caller passes a check that reads shared state
 * (the language server's worker reads a SharedArrayBuffer the main thread writes), and the engine
 * calls `throwIfCancelled()` at its loop heads. A cancellation is sticky: once the check says yes it
 * keeps saying yes, so a checkpoint swallowed by an extractor's error guard is followed by another
 * that is not, and nothing computed after a cancellation is ever cached.
 */

export class AnalysisCancelled extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'AnalysisCancelled';
  }
}

/** Returns true once the analysis should stop. */
export type CancellationCheck = () => boolean;

let current: CancellationCheck | null = null;

/** Runs `analysis` with `isCancelled` as the ambient check (analyses do not nest across checks, but restore anyway). */
export function runCancellable<T>(isCancelled: CancellationCheck | undefined, analysis: () => T): T {
  if (!isCancelled) return analysis();
  const previous = current;
  current = isCancelled;
  try {
    return analysis();
  } finally {
    current = previous;
  }
}

/** A checkpoint: throws AnalysisCancelled when the running analysis was cancelled. */
export function throwIfCancelled(): void {
  if (current?.()) throw new AnalysisCancelled();
}

/** Error guards that turn an extractor's failure into a note must let a cancellation through. */
export function rethrowCancellation(error: unknown): void {
  if (error instanceof AnalysisCancelled) throw error;
}
