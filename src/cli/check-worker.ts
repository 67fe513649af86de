/** The worker side of `check --jobs N` (see check-pool.ts): dist/cli.js started as a worker thread. */
import type { MessagePort } from 'node:worker_threads';
import { loadPython } from '../analysis/python/parser';
import { analyzePieces, isToCheckWorker, type FromCheckWorker } from './check-pool';

export function runCheckWorker(port: MessagePort): void {
  // The parser's language loads while the main thread reads and groups the files (Project.create reuses it).
  void loadPython().catch(() => undefined);
  port.on('message', (message: unknown) => {
    if (!isToCheckWorker(message)) return;
    // A failure ends the worker (an uncaught rejection): the main thread analyzes its piece again.
    void analyzePieces(message, (index, outcome) => { port.postMessage({ kind: 'analyzed', index, ...outcome } satisfies FromCheckWorker); }).then(() => {
      port.postMessage({ kind: 'done' } satisfies FromCheckWorker);
    });
  });
}
