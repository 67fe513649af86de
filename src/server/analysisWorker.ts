/**
 * The analysis engine in its own thread. The main thread keeps answering LSP requests while this
 * one parses and lints, and can stop it if an analysis never ends (see analysisHost.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import type { FileResult } from '../analysis/api';
import { createSettingsResolver, mergeSettings, type LoadedSettings } from '../analysis/config/index';
import { Project } from '../analysis/project';
import type { Settings } from '../shared/settings';
import { guardedListener } from '../shared/message-guard';
import { AnalysisCancelled } from '../analysis/cancellation';
import { isCancelledIn, isToWorker, PostedResults, type FromWorker, type ToWorker } from './analysisProtocol';
import { saveCompileCache } from '../shared/compile-cache';

/**
 * Quiet time after a result before the worker walks ahead what the next line typed above the file's
 * models would move (Project.prepareMoves: ~15 ms at once for a 5,000-line file of models, a third of
 * the first such Enter), and the longest it works at a time then: a message waits at most that long.
 */
const PREPARE_AFTER_MS = 100;
const PREPARE_SLICE_MS = 3;

export function runAnalysisWorker(port: MessagePort): void {
  const send = (message: FromWorker) => { port.postMessage(message); };
  let roots: string[] = [];
  let overrides: Partial<Settings> = {};
  const newResolver = () => createSettingsResolver((file, problems) => { send({ kind: 'log', message: `problems in ${file}:\n  ${problems.join('\n  ')}` }); });
  let resolveSettings: (path: string) => LoadedSettings = newResolver();
  const settingsFor = (path: string): Settings => {
    // Untitled documents have no folder of their own: the first workspace folder's settings apply.
    const where = /^[a-z][a-z0-9+.-]*:/i.test(path) ? (roots[0] ?? process.cwd()) : path;
    return mergeSettings(resolveSettings(where).settings, overrides);
  };

  let project: Promise<Project> | null = null;
  /** What the host holds of each file's last result (see PostedResults). */
  const posted = new PostedResults();
  let cancelFlags: Int32Array = new Int32Array(0);
  /** Parsing time since the last result was sent. */
  let parseMs = 0;
  // Messages are handled strictly in order: each waits for the one before.
  let queue: Promise<void> = Promise.resolve();
  const log = (message: string) => { send({ kind: 'log', message }); };
  let preparing: ReturnType<typeof setTimeout> | null = null;
  const stopPreparing = () => {
    if (preparing) clearTimeout(preparing);
    preparing = null;
  };
  const prepareWhenIdle = (p: Project, path: string) => {
    stopPreparing();
    const slice = () => {
      preparing = p.prepareMoves(path, performance.now() + PREPARE_SLICE_MS) ? null : setTimeout(slice, 0);
    };
    preparing = setTimeout(slice, PREPARE_AFTER_MS);
  };
  port.on('message', guardedListener('analysis worker', isToWorker, (message: ToWorker) => {
    stopPreparing();
    queue = queue.then(async () => {
      if (message.kind === 'init') {
        roots = message.roots;
        overrides = message.overrides;
        cancelFlags = new Int32Array(message.cancelFlags);
        project = Project.create({ settingsFor, maxFileBytes: message.maxFileBytes, incremental: true, firstReadWhole: true });
        return;
      }
      const p = await project;
      if (!p) return;
      switch (message.kind) {
        case 'setFile': {
          const started = performance.now();
          p.setFile(message.path, message.text, message.edit ?? undefined);
          parseMs += performance.now() - started;
          break;
        }
        case 'removeFile':
          p.removeFile(message.path);
          posted.forget(message.path);
          break;
        case 'settings':
          overrides = message.overrides;
          break;
        case 'reloadConfig':
          resolveSettings = newResolver();
          break;
        case 'analyze': {
          const { id } = message;
          const isCancelled = () => isCancelledIn(cancelFlags, id);
          if (isCancelled()) {
            send({ kind: 'cancelled', id });
            break;
          }
          send({ kind: 'started', id });
          let result: FileResult;
          const started = performance.now();
          const own = message.variant === undefined ? undefined : p.text(message.path);
          try {
            if (message.variant !== undefined) p.setFile(message.path, message.variant);
            result = p.analyzeFile(message.path, isCancelled, (models) => { send({ kind: 'models', id, models: posted.encodeModels(message.path, models) }); });
          } catch (error) {
            if (error instanceof AnalysisCancelled) {
              send({ kind: 'cancelled', id });
              break;
            }
            result = { path: message.path, error: `analysis failed: ${error instanceof Error ? error.message : String(error)}`, notices: [], models: [], findings: [] };
          } finally {
            if (own !== undefined) p.setFile(message.path, own);
          }
          send({ kind: 'result', id: message.id, result: posted.encode(result), ms: performance.now() - started + parseMs });
          parseMs = 0;
          // The first analysis compiled most of what the worker runs: later servers start with it (src/launcher/run-bundle.ts).
          saveCompileCache();
          prepareWhenIdle(p, message.path);
          break;
        }
      }
    }).catch((error: unknown) => { log(`analysis worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`); });
  }, log));
}
