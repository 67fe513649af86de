/**
 * `check --jobs N`: the files analyzed on N worker threads with results identical to one job's.
 * Facts cross files only through imports, so the files are split into groups that import one another
 * (file-links.ts), read here from the texts without a parse (scan-links.ts) while the workers start.
 * Whole groups are dealt into pieces of about equal size; each piece is one Project, told the paths of
 * every other file so imports resolve exactly as in one project, in a worker (answered in one message)
 * or in this thread, which analyzes too (N jobs: N - 1 workers). The one fact that depends on the whole project (a name a file trains but never binds is the
 * project's only model) is checked afterwards; when a piece's answer would differ from the whole
 * project's, everything is analyzed again in this thread. Too few files to be worth a thread's start
 * (bundle load and parser set-up) are analyzed in this thread too.
 */
import { Worker } from 'node:worker_threads';
import type { FileResult } from '../analysis/api';
import { linkedGroups } from '../analysis/file-links';
import { scanFileLinks } from '../analysis/scan-links';
import { defaultSettings, type Settings } from '../shared/settings';
import { Project } from '../analysis/project';
import { hasTag } from '../shared/message-guard';

/** One input of `check`: its text, or why it could not be read. */
export type CheckSource = { path: string; text: string; error: null } | { path: string; text: null; error: string };

/** One piece of work: whole groups of files, analyzed as one project. */
interface PieceJob {
  files: CheckSource[];
  settings: [string, Settings][];
  allPaths: string[];
}

export type ToCheckWorker = { kind: 'analyze'; id: number } & PieceJob;

export interface PieceOutcome {
  results: FileResult[];
  /** Models the piece holds, and whether one of its files trains a name it never binds (see Project.trainsUnboundNames). */
  models: number;
  trainsUnboundNames: boolean;
}

export type FromCheckWorker = ({ kind: 'analyzed'; id: number } & PieceOutcome) | { kind: 'failed'; id: number; message: string };

export const CHECK_WORKER_ROLE = 'gradient-lens-check';

export function isToCheckWorker(value: unknown): value is ToCheckWorker {
  return hasTag(value, 'kind', ['analyze'] as const) && typeof value.id === 'number' && Array.isArray(value.files) && Array.isArray(value.settings) && Array.isArray(value.allPaths);
}

function isFromCheckWorker(value: unknown): value is FromCheckWorker {
  if (!hasTag(value, 'kind', ['analyzed', 'failed'] as const) || typeof value.id !== 'number') return false;
  if (value.kind === 'analyzed') return Array.isArray(value.results) && typeof value.models === 'number' && typeof value.trainsUnboundNames === 'boolean';
  return typeof value.message === 'string';
}

/** One piece (whole groups of linked files) as one project, the other files' paths known for imports. */
export async function analyzePiece(piece: PieceJob): Promise<PieceOutcome> {
  const settings = new Map(piece.settings);
  const mine = new Set(piece.files.map((s) => s.path));
  const project = await Project.create({ settingsFor: (path) => settings.get(path) ?? defaultSettings(), otherPaths: piece.allPaths.filter((p) => !mine.has(p)) });
  try {
    for (const source of piece.files) {
      if (source.text === null) project.setUnreadable(source.path, source.error);
      else project.setFile(source.path, source.text);
    }
    const results = project.analyzeAll();
    return { results, models: results.reduce((sum, r) => sum + r.models.length, 0), trainsUnboundNames: project.trainsUnboundNames() };
  } finally {
    project.dispose();
  }
}

/** Work split into about this many pieces per worker, so a slow piece does not leave the others idle. */
const PIECES_PER_WORKER = 4;

/**
 * Files per thread below which a worker is not started. Starting one (node's bootstrap, the bundle,
 * the parser) costs ~0.3 s of CPU, about what 50 small files' analysis does, and node at one job
 * already keeps part of a second core busy (GC and compiler threads): on 2 cores, 100 generated files
 * took 0.64 s at --jobs 1 and 0.70 s at --jobs 2.
 */
export const MIN_FILES_PER_WORKER = 64;

/** Splits `items` into consecutive pieces of about equal `weight`. */
function pieces<T>(items: readonly T[], weight: (item: T) => number, count: number): T[][] {
  const total = items.reduce((sum, item) => sum + weight(item), 0);
  const target = total / Math.max(1, count);
  const out: T[][] = [];
  let current: T[] = [];
  let currentWeight = 0;
  for (const item of items) {
    current.push(item);
    currentWeight += weight(item);
    if (currentWeight >= target) {
      out.push(current);
      current = [];
      currentWeight = 0;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

const sizeOf = (source: CheckSource) => (source.text?.length ?? 0) + 1;

class CheckPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (message: FromCheckWorker) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  constructor(workerScript: string, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(workerScript, { workerData: { role: CHECK_WORKER_ROLE } });
      worker.on('message', (message: unknown) => {
        if (!isFromCheckWorker(message)) return;
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.kind === 'failed') waiter?.reject(new Error(message.message));
        else waiter?.resolve(message);
      });
      worker.on('error', (error) => { this.failAll(error); });
      worker.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`a check worker exited with code ${code}`));
      });
      this.workers.push(worker);
    }
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  /**
   * Runs the pieces on the workers and in this thread, each taking the next piece when it is free;
   * answers in piece order. A worker holds two pieces, so it has the next one while this thread is
   * busy analyzing its own and cannot hand it one.
   */
  async run(pieces: readonly PieceJob[]): Promise<PieceOutcome[]> {
    const results = new Array<PieceOutcome>(pieces.length);
    let next = 0;
    const onWorker = async (worker: Worker) => {
      while (next < pieces.length) {
        const index = next++;
        const id = this.nextId++;
        const answer = new Promise<FromCheckWorker>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
        worker.postMessage({ kind: 'analyze', id, ...pieces[index]! } satisfies ToCheckWorker);
        const message = await answer;
        results[index] = message.kind === 'analyzed' ? message : { results: [], models: 0, trainsUnboundNames: false };
      }
    };
    const here = async () => {
      for (;;) {
        // Answers that came in while this thread analyzed are handled first, so their workers get their
        // next pieces (a piece's awaits settle as microtasks, which would run before any message).
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (next >= pieces.length) return;
        const index = next++;
        results[index] = await analyzePiece(pieces[index]!);
      }
    };
    // The workers' first pieces are posted before this thread starts on one.
    await Promise.all([...this.workers.flatMap((w) => [onWorker(w), onWorker(w)]), here()]);
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Threads worth analyzing `files` files on at `jobs` jobs, this one included (1: no worker). */
export function workersFor(files: number, jobs: number): number {
  return Math.max(1, Math.min(jobs, Math.floor(files / MIN_FILES_PER_WORKER)));
}

/**
 * Analyzes `sources` on up to `jobs` worker threads (dist/cli.js started as a worker: `workerScript`).
 * Returns null when the caller should analyze them in its own thread: too few files or groups to be
 * worth a thread, or a result that needs the whole project in one place (see the file comment).
 */
export async function analyzeInPool(sources: readonly CheckSource[], settingsFor: (path: string) => Settings, jobs: number, workerScript: string): Promise<FileResult[] | null> {
  const threads = workersFor(sources.length, jobs);
  if (threads < 2) return null;
  // This thread analyzes too. The workers load the bundle and set up their parsers while it groups the files.
  const pool = new CheckPool(workerScript, threads - 1);
  try {
    const byPath = new Map(sources.map((s) => [s.path, s]));
    const links = sources.map((s) => scanFileLinks(s.path, s.text));
    const groups = linkedGroups(links, (path) => byPath.get(path)?.text ?? '').map((paths) => paths.flatMap((p) => byPath.get(p) ?? []));
    const filePieces = pieces(groups, (group) => group.reduce((sum, s) => sum + sizeOf(s), 0), threads * PIECES_PER_WORKER);
    // One piece is the whole project: a thread would only add its start.
    if (filePieces.length < 2) return null;
    const allPaths = sources.map((s) => s.path);
    const outcomes = await pool.run(
      filePieces.map((piece) => {
        const files = piece.flat();
        return { files, allPaths, settings: files.map((s): [string, Settings] => [s.path, settingsFor(s.path)]) };
      }),
    );
    const models = outcomes.reduce((sum, o) => sum + o.models, 0);
    // A piece that links an unbound name decided "the project's only model" from its own models.
    if (outcomes.some((o) => o.trainsUnboundNames && (o.models === 1) !== (models === 1))) return null;
    const results = new Map(outcomes.flatMap((o) => o.results).map((r) => [r.path, r]));
    const ordered: FileResult[] = [];
    for (const source of sources) {
      const result = results.get(source.path);
      // A file no worker answered for is analyzed again in the caller's thread, with the rest.
      if (result === undefined) return null;
      ordered.push(result);
    }
    return ordered;
  } finally {
    await pool.close();
  }
}
