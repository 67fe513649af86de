/** The worker side of `check --jobs N` (see check-pool.ts): dist/cli.js started as a worker thread. */
import type { MessagePort } from 'node:worker_threads';
import { Project } from '../analysis/project';
import { createPythonParser } from '../analysis/python/parser';
import { defaultSettings } from '../shared/settings';
import { isToCheckWorker, type FromCheckWorker, type PieceOutcome, type ToCheckWorker } from './check-pool';

/** One piece (whole groups of linked files) as one project, the other files' paths known for imports. */
async function analyzePiece(message: ToCheckWorker): Promise<PieceOutcome> {
  const settings = new Map(message.settings);
  const mine = new Set(message.files.map((s) => s.path));
  const project = await Project.create({ settingsFor: (path) => settings.get(path) ?? defaultSettings(), otherPaths: message.allPaths.filter((p) => !mine.has(p)) });
  try {
    for (const source of message.files) {
      if (source.text === null) project.setUnreadable(source.path, source.error);
      else project.setFile(source.path, source.text);
    }
    const results = project.analyzeAll();
    return { results, models: results.reduce((sum, r) => sum + r.models.length, 0), trainsUnboundNames: project.trainsUnboundNames() };
  } finally {
    project.dispose();
  }
}

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
