/** Messages between the server's main thread and its analysis worker thread. */
import type { FileResult, SourceEdit } from '../analysis/api';
import { hasTag, isObject } from '../shared/message-guard';
import type { Settings } from '../shared/settings';

export type ToWorker =
  | { kind: 'init'; roots: string[]; overrides: Partial<Settings>; maxFileBytes: number }
  | { kind: 'setFile'; path: string; text: string; edit: SourceEdit | null }
  | { kind: 'removeFile'; path: string }
  | { kind: 'settings'; overrides: Partial<Settings> }
  /** pyproject.toml changed on disk: forget the cached configuration files. */
  | { kind: 'reloadConfig' }
  | { kind: 'analyze'; id: number; path: string };

export type FromWorker =
  /**
   * `ms`: time the analyzer itself took in the worker for this result: analyzeFile plus the
   * setFile calls (parsing) since the previous result. The rest of a round trip is messaging.
   */
  | { kind: 'result'; id: number; result: FileResult; ms: number }
  | { kind: 'log'; message: string };

const TO_WORKER_KINDS = ['init', 'setFile', 'removeFile', 'settings', 'reloadConfig', 'analyze'] as const satisfies readonly ToWorker['kind'][];

export function isToWorker(value: unknown): value is ToWorker {
  if (!hasTag(value, 'kind', TO_WORKER_KINDS)) return false;
  switch (value.kind) {
    case 'init':
      return Array.isArray(value.roots) && isObject(value.overrides) && typeof value.maxFileBytes === 'number';
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
  if (!hasTag(value, 'kind', ['result', 'log'] as const)) return false;
  if (value.kind === 'log') return typeof value.message === 'string';
  return typeof value.id === 'number' && isObject(value.result) && typeof value.ms === 'number';
}
