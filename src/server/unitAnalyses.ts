/**
 * The analyses of the open units: the newest one kept per unit, the ones being computed shared by
 * every request for the same text, and the project's generation that makes older ones stale.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { AnalysisHost } from './analysisHost';
import type { HeldModels } from './analysisProtocol';
import type { Analysis, OpenUnit } from './openUnits';

interface Running {
  version: number;
  generation: number;
  promise: Promise<Analysis | null>;
  /** The analysis' models, known before its findings; null when it was cancelled first. */
  models: Promise<HeldModels | null>;
  cancel: () => void;
}

export class UnitAnalyses {
  /** Analyses being computed, so concurrent requests for the same text share one; a newer edit of the unit cancels its analysis. */
  private readonly inFlight = new Map<string, Running>();
  private readonly newest = new Map<string, Analysis>();
  /** Bumped by any change to any file or to settings. */
  private generation = 0;
  /** Wall time of the last analysis that finished, for the status request. */
  lastAnalysisMs = 0;

  constructor(private readonly host: () => AnalysisHost | null) {}

  /** Something every analysis may read changed (a file, the settings): older analyses are stale. */
  invalidate(): void {
    this.generation++;
  }

  /** The unit's text changed: its running analysis of an older text stops (whoever waits asks again). */
  cancelStale(unit: OpenUnit): void {
    const running = this.inFlight.get(unit.uri);
    if (running && running.version !== unit.version) running.cancel();
  }

  forget(uri: string): void {
    this.newest.delete(uri);
  }

  /** The analysis of an older text still running for the unit, if any. */
  runningOlder(unit: OpenUnit): Promise<Analysis | null> | null {
    const running = this.inFlight.get(unit.uri);
    return running && running.version !== unit.version ? running.promise : null;
  }

  /**
   * The unit's analysis, computed now when there is none for its current text. Hovers and code
   * actions accept one made before another file changed (`anyGeneration`): they read only this
   * unit's text, and code actions must match the diagnostics the editor shows.
   */
  of(unit: OpenUnit, anyGeneration = false): Promise<Analysis | null> {
    const current = this.newest.get(unit.uri);
    if (current && current.version === unit.version && (anyGeneration || current.generation === this.generation)) return Promise.resolve(current);
    return this.running(unit, anyGeneration)?.promise ?? Promise.resolve(null);
  }

  /**
   * The models of the unit's current text, for requests that read nothing else (hovers, hints): those
   * of its analysis, as soon as the worker knows them, without waiting for the findings.
   */
  modelsOf(unit: OpenUnit): Promise<HeldModels | null> {
    const current = this.newest.get(unit.uri);
    if (current && current.version === unit.version) return Promise.resolve(current.result);
    return this.running(unit, true)?.models ?? Promise.resolve(null);
  }

  /** The analysis of the unit's current text being computed, started now if there is none; null without a worker. */
  private running(unit: OpenUnit, anyGeneration: boolean): Running | null {
    const inFlight = this.inFlight.get(unit.uri);
    if (inFlight && inFlight.version === unit.version && (anyGeneration || inFlight.generation === this.generation)) return inFlight;
    const host = this.host();
    if (!host) return null;
    const { version } = unit;
    const generation = this.generation;
    const startedAt = performance.now();
    const request = host.analyze(unit.key);
    const promise: Promise<Analysis | null> = request.result.then((result) => {
      if (this.inFlight.get(unit.uri)?.promise === promise) this.inFlight.delete(unit.uri);
      if (!result) return null; // cancelled: a newer edit came
      this.lastAnalysisMs = performance.now() - startedAt;
      const analysis: Analysis = { version, generation, result };
      // Keep it only while it is the newest for this unit.
      if (unit.version === version) this.newest.set(unit.uri, analysis);
      return analysis;
    });
    const running: Running = { version, generation, promise, models: request.models, cancel: () => { request.cancel(); } };
    this.inFlight.set(unit.uri, running);
    return running;
  }

  /**
   * The unit's analysis for requests (hovers, code actions, hints, models): when a newer edit cancels
   * the one awaited, the newer text's is awaited instead. Null at once when the client cancels the
   * request, or when the unit is closed (`isOpen` false).
   */
  current(unit: OpenUnit, token: CancellationToken, isOpen: (unit: OpenUnit) => boolean): Promise<Analysis | null> {
    return newestOf(() => this.of(unit, true), unit, token, isOpen);
  }

  /** The unit's models for requests, as `current` gives its analysis. */
  currentModels(unit: OpenUnit, token: CancellationToken, isOpen: (unit: OpenUnit) => boolean): Promise<HeldModels | null> {
    return newestOf(() => this.modelsOf(unit), unit, token, isOpen);
  }
}

/** What `ask` answers for the unit's text; asked again for the newer text when a newer edit cancelled it. */
async function newestOf<T>(ask: () => Promise<T | null>, unit: OpenUnit, token: CancellationToken, isOpen: (unit: OpenUnit) => boolean): Promise<T | null> {
  for (;;) {
    const version = unit.version;
    const answer = await unlessCancelled(ask(), token);
    if (answer !== null || token.isCancellationRequested || unit.version === version || !isOpen(unit)) return answer;
  }
}

/** `promise`'s value, or null as soon as the client cancels the request (the work itself goes on for others). */
function unlessCancelled<T>(promise: Promise<T>, token: CancellationToken): Promise<T | null> {
  if (token.isCancellationRequested) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const subscription = token.onCancellationRequested(() => {
      subscription.dispose();
      resolve(null);
    });
    promise.then(
      (value) => {
        subscription.dispose();
        resolve(value);
      },
      (error: unknown) => {
        subscription.dispose();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
