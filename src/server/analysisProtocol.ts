/** Messages between the server's main thread and its analysis worker thread. */
import type { FileResult, SourceEdit } from '../analysis/api';
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
