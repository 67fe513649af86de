/** The worker side of `check --jobs N` (see check-pool.ts): dist/cli.js started as a worker thread. */
import type { MessagePort } from 'node:worker_threads';
import { createPythonParser } from '../analysis/python/parser';
import { analyzePiece, isToCheckWorker, type FromCheckWorker } from './check-pool';

export function runCheckWorker(port: MessagePort): void {
  // The parser's language loads while the main thread groups the files (Project.create reuses it).
  void createPythonParser().then((parser) => { parser.delete(); }, () => undefined);
  port.on('message', (message: unknown) => {
    if (!isToCheckWorker(message)) return;
    analyzePiece(message).then(
      (outcome) => { port.postMessage({ kind: 'analyzed', id: message.id, ...outcome } satisfies FromCheckWorker); },
      (error: unknown) => { port.postMessage({ kind: 'failed', id: message.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromCheckWorker); },
    );
  });
}
