/**
 * `check --jobs N`: the files analyzed on N threads with results identical to one job's.
 * Facts cross files only through imports, so the files are split into groups that import one another
 * (file-links.ts), read here from the texts without a parse (scan-links.ts). Whole groups are dealt into
 * pieces of about equal size; each piece is one Project, told the paths of every other file so imports
 * resolve exactly as in one project. This thread analyzes pieces too (N jobs: N - 1 workers), and every
 * thread takes the next piece from a counter they share, so no thread waits for another to hand it work.
 * The workers start as soon as the file list is known, loading the bundle and the parser while this
 * thread reads and groups the files; each answers piece by piece and says when the counter ran out.
 * The one fact that depends on the whole project (a name a file trains but never binds is the project's
 * only model) is checked afterwards; when a piece's answer would differ from the whole project's,
 * everything is analyzed again in this thread. Too few files to be worth a thread's start (bundle load,
 * parser set-up, and the optimizing compiler's work done again in each thread) are analyzed in this
 * thread alone.
 */
import { Worker } from 'node:worker_threads';
import type { ProjectOptions } from '../analysis/api';
import { linkedGroups } from '../analysis/file-links';
import { scanFileLinks } from '../analysis/scan-links';
import { defaultSettings, type Settings } from '../shared/settings';
import { Project } from '../analysis/project';
import { hasTag } from '../shared/message-guard';
import { checkedResult, type CheckedResult } from './report';

/** One input of `check`: its text, or why it could not be read. */
export type CheckSource = { path: string; text: string; error: null } | { path: string; text: null; error: string };

/** One piece of work: whole groups of files, analyzed as one project. */
interface PieceJob {
  files: CheckSource[];
  settings: [string, Settings][];
}

/** All the pieces, sent once to every worker; `next` (shared by all threads) is the next piece to take. */
export type ToCheckWorker = { kind: 'analyze'; pieces: PieceJob[]; allPaths: string[]; next: Int32Array };

export interface PieceOutcome {
  results: CheckedResult[];
  /** Models the piece holds, and whether one of its files trains a name it never binds (see Project.trainsUnboundNames). */
  models: number;
  trainsUnboundNames: boolean;
}

/** A worker's answer for piece `index`, or `done` once no piece is left to take. */
export type FromCheckWorker = ({ kind: 'analyzed'; index: number } & PieceOutcome) | { kind: 'done' };

export const CHECK_WORKER_ROLE = 'gradient-lens-check';

export function isToCheckWorker(value: unknown): value is ToCheckWorker {
  return hasTag(value, 'kind', ['analyze'] as const) && Array.isArray(value.pieces) && Array.isArray(value.allPaths) && value.next instanceof Int32Array;
}

function isFromCheckWorker(value: unknown): value is FromCheckWorker {
  if (!hasTag(value, 'kind', ['analyzed', 'done'] as const)) return false;
  if (value.kind === 'done') return true;
  return typeof value.index === 'number' && Array.isArray(value.results) && typeof value.models === 'number' && typeof value.trainsUnboundNames === 'boolean';
}

/** `sources` analyzed as one project (a piece, or every input at one job). */
export async function analyzeSources(sources: readonly CheckSource[], options: ProjectOptions): Promise<PieceOutcome> {
  const project = await Project.create(options);
  try {
    for (const source of sources) {
      if (source.text === null) project.setUnreadable(source.path, source.error);
      else project.setFile(source.path, source.text);
    }
    const results = project.analyzeAll().map(checkedResult);
    return { results, models: results.reduce((sum, r) => sum + r.models.length, 0), trainsUnboundNames: project.trainsUnboundNames() };
  } finally {
    project.dispose();
  }
}

/** One piece (whole groups of linked files) as one project, the other files' paths known for imports. */
function analyzePiece(piece: PieceJob, allPaths: readonly string[]): Promise<PieceOutcome> {
  const settings = new Map(piece.settings);
  const mine = new Set(piece.files.map((s) => s.path));
  return analyzeSources(piece.files, { settingsFor: (path) => settings.get(path) ?? defaultSettings(), otherPaths: allPaths.filter((p) => !mine.has(p)) });
}

/**
 * Takes pieces from the shared counter and analyzes them until none is left, passing each outcome to
 * `answer`: the loop of every thread, workers and this one.
 */
export async function analyzePieces(work: Omit<ToCheckWorker, 'kind'>, answer: (index: number, outcome: PieceOutcome) => void): Promise<void> {
  for (let index = Atomics.add(work.next, 0, 1); index < work.pieces.length; index = Atomics.add(work.next, 0, 1)) {
    answer(index, await analyzePiece(work.pieces[index]!, work.allPaths));
    // Between pieces the thread takes its messages: the main thread reads the workers' answers while
    // they still work, rather than all of them after its last piece.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Work split into about this many pieces per thread. The threads take pieces as they free up, so the
 * last piece taken is what one thread may still work on after the others ran out: small pieces keep
 * that short, and a piece's own cost (a Project, its parser, imports resolved among all paths) is small.
 */
const PIECES_PER_THREAD = 16;

/**
 * Files per thread below which a worker is not started. Starting one (node's bootstrap, the bundle,
 * the parser) and warming its code costs about what 50 small files' analysis does, and node at one job
 * already keeps part of a second core busy (GC and compiler threads): on 2 cores (medians of 7
 * alternated runs, check's tier-up budget), generated files at --jobs 1 and with a second thread took
 * 0.84 and 0.89 s for 64 files, 0.97 and 0.95 s for 96, 1.36 and 1.21 s for 128.
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

/** Threads worth analyzing `files` files on at `jobs` jobs, this one included (1: no worker). */
export function workersFor(files: number, jobs: number): number {
  return Math.max(1, Math.min(jobs, Math.floor(files / MIN_FILES_PER_WORKER)));
}

/** What one worker said: the outcomes of the pieces it took, and when it stopped (done, failed or exited). */
interface WorkerAnswers {
  outcomes: Map<number, PieceOutcome>;
  finished: Promise<void>;
}

/** The worker threads of one `check` (dist/cli.js started as a worker: `workerScript`), and this thread. */
export class CheckPool {
  private readonly workers: Worker[] = [];
  private readonly answers: WorkerAnswers[] = [];

  private constructor(workerScript: string, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(workerScript, { workerData: { role: CHECK_WORKER_ROLE } });
      const outcomes = new Map<number, PieceOutcome>();
      // A worker that fails or exits stops answering; the pieces it took but did not answer are
      // analyzed again in this thread, where a failure is reported as at one job.
      const finished = new Promise<void>((resolve) => {
        worker.on('message', (message: unknown) => {
          if (!isFromCheckWorker(message)) return;
          if (message.kind === 'done') resolve();
          else outcomes.set(message.index, message);
        });
        worker.on('error', () => { resolve(); });
        worker.on('exit', () => { resolve(); });
      });
      this.workers.push(worker);
      this.answers.push({ outcomes, finished });
    }
  }

  /** Starts the workers worth `files` files at `jobs` jobs; null when this thread alone is worth it. */
  static start(workerScript: string, files: number, jobs: number): CheckPool | null {
    const threads = workersFor(files, jobs);
    return threads < 2 ? null : new CheckPool(workerScript, threads - 1);
  }

  /**
   * Analyzes `sources` on the workers and this thread, results in the order of `sources`. Null when the
   * caller should analyze them as one project in its own thread: one piece would be the whole project,
   * or a result needs the whole project in one place (see the file comment).
   */
  async analyze(sources: readonly CheckSource[], settingsFor: (path: string) => Settings): Promise<CheckedResult[] | null> {
    const threads = this.workers.length + 1;
    const byPath = new Map(sources.map((s) => [s.path, s]));
    const links = sources.map((s) => scanFileLinks(s.path, s.text));
    const groups = linkedGroups(links, (path) => byPath.get(path)?.text ?? '').map((paths) => paths.flatMap((p) => byPath.get(p) ?? []));
    // Largest first, so the pieces taken last are the small ones (groups can outweigh the target).
    const filePieces = pieces(groups, (group) => group.reduce((sum, s) => sum + sizeOf(s), 0), threads * PIECES_PER_THREAD)
      .map((piece) => piece.flat())
      .sort((a, b) => b.reduce((sum, s) => sum + sizeOf(s), 0) - a.reduce((sum, s) => sum + sizeOf(s), 0));
    if (filePieces.length < 2) return null;
    const work = {
      pieces: filePieces.map((files) => ({ files, settings: files.map((s): [string, Settings] => [s.path, settingsFor(s.path)]) })),
      allPaths: sources.map((s) => s.path),
      next: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
    };
    for (const worker of this.workers) worker.postMessage({ kind: 'analyze', ...work } satisfies ToCheckWorker);
    const outcomes = new Array<PieceOutcome | undefined>(work.pieces.length);
    await analyzePieces(work, (index, outcome) => { outcomes[index] = outcome; });
    await Promise.all(this.answers.map((a) => a.finished));
    for (const answers of this.answers) for (const [index, outcome] of answers.outcomes) outcomes[index] = outcome;
    const pieceOutcomes: PieceOutcome[] = [];
    for (const [index, piece] of work.pieces.entries()) pieceOutcomes.push(outcomes[index] ?? (await analyzePiece(piece, work.allPaths)));
    const models = pieceOutcomes.reduce((sum, o) => sum + o.models, 0);
    // A piece that links an unbound name decided "the project's only model" from its own models.
    if (pieceOutcomes.some((o) => o.trainsUnboundNames && (o.models === 1) !== (models === 1))) return null;
    const results = new Map(pieceOutcomes.flatMap((o) => o.results).map((r) => [r.path, r]));
    const ordered: CheckedResult[] = [];
    for (const source of sources) {
      const result = results.get(source.path);
      // A file no piece answered for is analyzed again in the caller's thread, with the rest.
      if (result === undefined) return null;
      ordered.push(result);
    }
    return ordered;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
