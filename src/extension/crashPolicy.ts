/**
 * When the language server dies unexpectedly, restart it — but not forever: a server that crashes
 * repeatedly (say, on a file it cannot handle) would otherwise loop. Pure, so it is testable.
 */
export const MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 3 * 60_000;

export class CrashPolicy {
  private readonly crashes: number[] = [];

  /** Records a crash at `now`; true when the server should be restarted. */
  shouldRestart(now: number): boolean {
    this.crashes.push(now);
    while (this.crashes.length > 0 && now - this.crashes[0]! > RESTART_WINDOW_MS) this.crashes.shift();
    return this.crashes.length <= MAX_RESTARTS;
  }

  /** A deliberate restart (the Restart Server command) starts a fresh count. */
  reset(): void {
    this.crashes.length = 0;
  }
}
