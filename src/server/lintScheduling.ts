/**
 * When the open units are linted: a changed unit after a short pause, the other open units (which may
 * read facts from it) once typing pauses, every unit after a settings or workspace change; and the
 * lint itself, which publishes only a result that is still the newest.
 */
import type { DiagnosticsPublisher } from './diagnosticsPublisher';
import type { Analysis, OpenUnit } from './openUnits';
import { DebouncedScheduler, type WorkToken } from './scheduler';
import type { UnitAnalyses } from './unitAnalyses';

/** Re-analysis of the other open units after an edit (cross-file facts) waits for typing to pause. */
const DEPENDENTS_DELAY_MS = 400;
/**
 * A change is linted on the next turn of the event loop, which coalesces the notifications that
 * arrive together; a pause would only delay every keystroke's diagnostics (an editor sends one
 * notification per keystroke, tens of ms apart). Bursts never queue up analyses: see lint, which
 * waits for the one in flight and then analyzes only the newest text.
 */
const DEBOUNCE_MS = 0;
const DEPENDENTS_KEY = '\u0000dependents';

export interface LintTarget {
  /** The open units by URI. */
  units: ReadonlyMap<string, OpenUnit>;
  analyses: UnitAnalyses;
  diagnostics: DiagnosticsPublisher;
  /** The `gradientLens.enable` setting: off publishes empty diagnostics. */
  enabled(): boolean;
  onError(what: string, error: unknown): void;
}

export class LintScheduling {
  private readonly scheduler: DebouncedScheduler;

  constructor(private readonly target: LintTarget) {
    this.scheduler = new DebouncedScheduler((key, error) => { target.onError(`analysis of ${key} failed`, error); });
  }

  /** The unit changed: lint it, then the others that may depend on it. */
  unit(unit: OpenUnit): void {
    this.scheduler.schedule(unit.uri, DEBOUNCE_MS, (token) => this.lint(unit, token));
    this.dependents();
  }

  /** Other open units may read facts from the one that changed (a training script importing a model). */
  dependents(): void {
    if (this.target.units.size === 0) return;
    this.scheduler.schedule(DEPENDENTS_KEY, DEPENDENTS_DELAY_MS, async (token) => {
      for (const unit of [...this.target.units.values()]) {
        if (token.isCancelled) return;
        await this.lint(unit, token);
      }
    });
  }

  all(delay: number): void {
    for (const unit of this.target.units.values()) this.scheduler.schedule(unit.uri, delay, (token) => this.lint(unit, token));
  }

  cancel(uri: string): void {
    this.scheduler.cancel(uri);
  }

  cancelAll(): void {
    this.scheduler.cancelAll();
  }

  private isOpen(unit: OpenUnit): boolean {
    return this.target.units.get(unit.uri) === unit;
  }

  private async lint(unit: OpenUnit, token: WorkToken): Promise<void> {
    if (token.isCancelled || !this.isOpen(unit)) return;
    const { analyses, diagnostics } = this.target;
    let analysis: Analysis | null = null;
    if (this.target.enabled()) {
      // One analysis per unit at a time: wait for an older one, then analyze only if still newest.
      const older = analyses.runningOlder(unit);
      if (older) {
        await older;
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the client or a newer edit can cancel during the await
        if (token.isCancelled) return;
      }
      analysis = await analyses.of(unit);
      // Requests waiting for the same analysis (a hover right after typing) are answered first: turning a
      // dense file's findings into diagnostics and writing them takes milliseconds they need not wait.
      await nextTurn();
      // A newer change or a closed document makes this result stale: never publish it.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the client or a newer edit can cancel during the await
      if (!analysis || token.isCancelled || analysis.version !== unit.version || !this.isOpen(unit)) return;
      if (diagnostics.shows(unit, analysis)) return;
    }
    diagnostics.publish(unit, analysis, this.target.units.values());
  }
}

/** Resolves on a later turn of the event loop, after the continuations already queued. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
