/** The worker side of `check --jobs N` (see check-pool.ts): dist/cli.js started as a worker thread. */
import type { MessagePort } from 'node:worker_threads';
import type { Parser } from 'web-tree-sitter';
import { Project } from '../analysis/project';
import { fileLinks } from '../analysis/file-links';
import { createPythonParser } from '../analysis/python/parser';
import { defaultSettings, type Settings } from '../shared/settings';
import { isToCheckWorker, type CheckSource, type FromCheckWorker, type GroupOutcome, type ToCheckWorker } from './check-pool';

let parser: Promise<Parser> | null = null;

async function analyzeGroup(group: CheckSource[], settings: Map<string, Settings>, allPaths: string[]): Promise<GroupOutcome> {
  const mine = new Set(group.map((s) => s.path));
  const project = await Project.create({ settingsFor: (path) => settings.get(path) ?? defaultSettings(), otherPaths: allPaths.filter((p) => !mine.has(p)) });
  try {
    for (const source of group) {
      if (source.text === null) project.setUnreadable(source.path, source.error);
      else project.setFile(source.path, source.text);
    }
    const results = project.analyzeAll();
    return { results, models: results.reduce((sum, r) => sum + r.models.length, 0), trainsUnboundNames: project.trainsUnboundNames() };
  } finally {
    project.dispose();
  }
}

async function handle(message: ToCheckWorker): Promise<FromCheckWorker> {
  if (message.kind === 'imports') {
    parser ??= createPythonParser();
    const p = await parser;
    return { kind: 'imports', id: message.id, files: message.files.map((s) => fileLinks(p, s.path, s.text)) };
  }
  const settings = new Map(message.settings);
  const groups: GroupOutcome[] = [];
  for (const group of message.groups) groups.push(await analyzeGroup(group, settings, message.allPaths));
  return { kind: 'analyzed', id: message.id, groups };
}

export function runCheckWorker(port: MessagePort): void {
  port.on('message', (message: unknown) => {
    if (!isToCheckWorker(message)) return;
    handle(message).then(
      (answer) => { port.postMessage(answer); },
      (error: unknown) => { port.postMessage({ kind: 'failed', id: message.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromCheckWorker); },
    );
  });
}
