/**
 * Runs one of our bundles with V8's code cache: the launcher of dist/cli.js and dist/server.js (see
 * esbuild.mjs). A new process spends much of a short command compiling: it parses the bundle (1.5 to
 * 1.7 MB), then compiles each function to bytecode when first called. The cache holds the bytecode of every
 * function an earlier run compiled, made once that run's work was done (shared/compile-cache.ts), so
 * later processes and their worker threads start without that work. bench/analysis.mjs prints a cold
 * `check` with and without it.
 *
 * The cache is V8's own format, which V8 checks against its version, its flags and the source's length
 * (a rejected cache is compiled around and written again); the file is named by a hash of the bundle's
 * text and Node's version, so a rebuilt bundle never meets another's bytecode. It lives in the OS temp
 * folder, as Node 22's module.enableCompileCache keeps its own, in a folder of this user's only (a cache
 * is code: another user's file is never read). NODE_DISABLE_COMPILE_CACHE (Node's switch for its own
 * cache) turns it off; GRADIENT_LENS_COMPILE_CACHE names another folder; NODE_DEBUG=gradient-lens-cache
 * prints what it does on stderr.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { debuglog } from 'node:util';
import { Script } from 'node:vm';
import { threadId } from 'node:worker_threads';
import { offerCompileCacheSave } from '../shared/compile-cache';

const debug = debuglog('gradient-lens-cache');

const CACHE_SUFFIX = '.v8cache';

type BundleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/**
 * Runs `bundleName` (a file beside `launcher`) as a CommonJS module whose `__filename` is the launcher's:
 * the bundle starts worker threads on its own file (the check pool, the analysis worker), and they go
 * through the launcher too.
 */
export function runBundle(launcher: string, bundleName: string): void {
  const folder = dirname(launcher);
  const bundle = join(folder, bundleName);
  const source = readFileSync(bundle, 'utf8');
  const cacheFolder = cacheFolderOf();
  const cache = cacheFolder && join(cacheFolder, `${bundleName}-${versionKey(source)}${CACHE_SUFFIX}`);
  const cached = cache ? readCache(cache) : undefined;
  // The wrapper stays on the bundle's first line, so stack traces keep the bundle's line numbers.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData: cached });
  const accepted = cached !== undefined && script.cachedDataRejected === false;
  if (cache) {
    debug('%s: %s', cache, cached === undefined ? 'no cache yet' : accepted ? 'cache accepted' : 'cache rejected by V8');
    if (!accepted) offerCompileCacheSave(() => { writeCache(cacheFolder, cache, bundleName, script); });
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as BundleFunction;
  run.call(module.exports, module.exports, createRequire(bundle), module, launcher, folder);
}

/** This user's cache folder, made private to them; null when caching is off or the folder is not safely theirs. */
function cacheFolderOf(): string | null {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return null;
  const uid = process.getuid?.();
  const folder = process.env.GRADIENT_LENS_COMPILE_CACHE || join(tmpdir(), `gradient-lens-compile-cache${uid === undefined ? '' : `-${String(uid)}`}`);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Someone else's folder of that name (made first, in a shared temp folder) could hold planted code.
    if (uid !== undefined && statSync(folder).uid !== uid) {
      debug('%s belongs to another user: no cache', folder);
      return null;
    }
    return folder;
  } catch (error) {
    debug('%s: %s: no cache', folder, messageOf(error));
    return null;
  }
}

/** The bundle's text and the Node that compiles it, hashed: what a cache file is for. */
function versionKey(source: string): string {
  return createHash('sha256').update(source).update(`\0${process.version}\0${process.arch}`).digest('hex').slice(0, 16);
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the script's cache (to a file of its own, then renamed: threads and processes may write at once), and removes older bundles' caches. */
function writeCache(folder: string, file: string, bundleName: string, script: Script): void {
  try {
    const data = script.createCachedData();
    const temporary = `${file}.${String(process.pid)}-${String(threadId)}.tmp`;
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, file);
    debug('%s: wrote %d bytes', file, data.length);
    for (const name of readdirSync(folder)) {
      const other = join(folder, name);
      if (other !== file && name.startsWith(`${bundleName}-`) && name.endsWith(CACHE_SUFFIX)) rmSync(other, { force: true });
    }
  } catch (error) {
    debug('%s: not written: %s', file, messageOf(error));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
