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
  timer: NodeJS.Timeout | null;
  token: Token;
}

export class DebouncedScheduler {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly onError: (key: string, error: unknown) => void) {}

  /** Runs `work` after `delayMs` unless another call for `key` comes first. */
  schedule(key: string, delayMs: number, work: (token: WorkToken) => void | Promise<void>): void {
    this.cancel(key);
    const entry: Pending = { timer: null, token: new Token() };
    entry.timer = setTimeout(() => {
      entry.timer = null;
      void this.run(key, entry, work);
    }, delayMs);
    this.pending.set(key, entry);
  }

  cancel(key: string): void {
    const previous = this.pending.get(key);
    if (!previous) return;
    previous.token.isCancelled = true;
    if (previous.timer) clearTimeout(previous.timer);
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
