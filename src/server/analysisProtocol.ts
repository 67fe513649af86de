/** Messages between the server's main thread and its analysis worker thread. */
import type { FileResult, SourceEdit } from '../analysis/api';
import type { Finding } from '../shared/findings';
import type { ModelIR } from '../shared/ir';
import { hasTag, isObject } from '../shared/message-guard';
import type { Settings } from '../shared/settings';

/**
 * Cancellation flags shared by the two threads: the main thread stores a request's id at
 * `id % CANCEL_SLOTS` to cancel it; the worker's analysis polls its slot (see analysis/cancellation.ts).
 */
export const CANCEL_SLOTS = 1024;

/** Whether request `id` was cancelled, read from the shared flags. */
export function isCancelledIn(flags: Int32Array, id: number): boolean {
  return Atomics.load(flags, id % CANCEL_SLOTS) === id;
}

export function cancelIn(flags: Int32Array, id: number): void {
  Atomics.store(flags, id % CANCEL_SLOTS, id);
}

export type ToWorker =
  | { kind: 'init'; roots: string[]; overrides: Partial<Settings>; maxFileBytes: number; cancelFlags: SharedArrayBuffer }
  | { kind: 'setFile'; path: string; text: string; edit: SourceEdit | null }
  | { kind: 'removeFile'; path: string }
  | { kind: 'settings'; overrides: Partial<Settings> }
  /** pyproject.toml changed on disk: forget the cached configuration files. */
  | { kind: 'reloadConfig' }
  | { kind: 'analyze'; id: number; path: string };

/**
 * A FileResult as the worker posts it. An edit inside one definition leaves most models and findings
 * the same objects (the analyzer caches them): those are sent as their index in the previous result
 * posted for the same path, which the host holds, so a dense file is not copied whole per keystroke.
 */
export interface PostedResult extends Omit<FileResult, 'models' | 'findings'> {
  models: (ModelIR | number)[];
  findings: (Finding | number)[];
}

/** The previous result per path on each side of the channel: the worker encodes against it, the host decodes. */
export class PostedResults {
  private readonly previous = new Map<string, FileResult>();

  /** The worker's side: `result` with what the previous result for its path also held sent as indices. */
  encode(result: FileResult): PostedResult {
    const before = this.previous.get(result.path);
    this.previous.set(result.path, result);
    if (!before) return result;
    return { ...result, models: asIndices(result.models, before.models), findings: asIndices(result.findings, before.findings) };
  }

  /** The host's side: the result the worker encoded; null when an index names nothing (the two sides disagree). */
  decode(posted: PostedResult): FileResult | null {
    const before = this.previous.get(posted.path);
    const models = fromIndices(posted.models, before?.models ?? []);
    const findings = fromIndices(posted.findings, before?.findings ?? []);
    if (!models || !findings) return null;
    const result = { ...posted, models, findings };
    this.previous.set(result.path, result);
    return result;
  }

  /** The worker forgets a file: its next result for the path is sent whole. */
  forget(path: string): void {
    this.previous.delete(path);
  }
}

function asIndices<T extends object>(items: readonly T[], before: readonly T[]): (T | number)[] {
  const at = new Map<T, number>(before.map((item, i) => [item, i]));
  return items.map((item) => at.get(item) ?? item);
}

function fromIndices<T extends object>(items: readonly (T | number)[], before: readonly T[]): T[] | null {
  const out: T[] = [];
  for (const item of items) {
    const value = typeof item === 'number' ? before[item] : item;
    if (value === undefined) return null;
    out.push(value);
  }
  return out;
}

export type FromWorker =
  /**
   * `ms`: time the analyzer itself took in the worker for this result: analyzeFile plus the
   * setFile calls (parsing) since the previous result. The rest of a round trip is messaging.
   */
  | { kind: 'result'; id: number; result: PostedResult; ms: number }
  /** Request `id` starts now (the host's time limit counts from here, not from the queue). */
  | { kind: 'started'; id: number }
  /** Request `id` was cancelled before or while it ran (a newer edit made it stale). */
  | { kind: 'cancelled'; id: number }
  | { kind: 'log'; message: string };

const TO_WORKER_KINDS = ['init', 'setFile', 'removeFile', 'settings', 'reloadConfig', 'analyze'] as const satisfies readonly ToWorker['kind'][];

export function isToWorker(value: unknown): value is ToWorker {
  if (!hasTag(value, 'kind', TO_WORKER_KINDS)) return false;
  switch (value.kind) {
    case 'init':
      return Array.isArray(value.roots) && isObject(value.overrides) && typeof value.maxFileBytes === 'number' && value.cancelFlags instanceof SharedArrayBuffer;
    case 'setFile':
      return typeof value.path === 'string' && typeof value.text === 'string' && (value.edit === null || isObject(value.edit));
    case 'removeFile':
      return typeof value.path === 'string';
    case 'settings':
      return isObject(value.overrides);
    case 'reloadConfig':
      return true;
    case 'analyze':
      return typeof value.id === 'number' && typeof value.path === 'string';
  }
}

export function isFromWorker(value: unknown): value is FromWorker {
  if (!hasTag(value, 'kind', ['result', 'started', 'cancelled', 'log'] as const)) return false;
  if (value.kind === 'log') return typeof value.message === 'string';
  if (value.kind === 'cancelled' || value.kind === 'started') return typeof value.id === 'number';
  return typeof value.id === 'number' && isObject(value.result) && typeof value.result.path === 'string' && Array.isArray(value.result.models) && Array.isArray(value.result.findings) && typeof value.ms === 'number';
}
