/**
 * Debounced, cancellable work per key (one key per analyzed document). A newer request for the same
 * key cancels the older one: its timer is cleared if it has not fired, and its token reports
 * cancellation if it is already running, so stale results are never published.
 */

export interface WorkToken {
  readonly isCancelled: boolean;
}

class Token implements WorkToken {
  isCancelled = false;
}

interface Pending {
  /** Until the work starts: how to stop it from starting. */
  stop: (() => void) | null;
  token: Token;
}

export class DebouncedScheduler {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly onError: (key: string, error: unknown) => void) {}

  /**
   * Runs `work` after `delayMs` unless another call for `key` comes first. No delay runs it once the
   * messages already read are handled (setImmediate): a timer waits at least a millisecond.
   */
  schedule(key: string, delayMs: number, work: (token: WorkToken) => void | Promise<void>): void {
    this.cancel(key);
    const entry: Pending = { stop: null, token: new Token() };
    const start = () => {
      entry.stop = null;
      void this.run(key, entry, work);
    };
    if (delayMs > 0) {
      const timer = setTimeout(start, delayMs);
      entry.stop = () => { clearTimeout(timer); };
    } else {
      const immediate = setImmediate(start);
      entry.stop = () => { clearImmediate(immediate); };
    }
    this.pending.set(key, entry);
  }

  cancel(key: string): void {
    const previous = this.pending.get(key);
    if (!previous) return;
    previous.token.isCancelled = true;
    previous.stop?.();
    this.pending.delete(key);
  }

  cancelAll(): void {
    for (const key of [...this.pending.keys()]) this.cancel(key);
  }

  private async run(key: string, entry: Pending, work: (token: WorkToken) => void | Promise<void>): Promise<void> {
    try {
      await work(entry.token);
    } catch (error) {
      this.onError(key, error);
    } finally {
      if (this.pending.get(key) === entry) this.pending.delete(key);
    }
  }
}
