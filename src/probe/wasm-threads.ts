/**
 * The wasm backend's kernels on several threads under Node. tfjs-backend-wasm 4.22 ships XNNPACK built
 * with pthreads (tfjs-backend-wasm-threaded-simd.{js,worker.js,wasm}) but never starts it in Node: its
 * WASM_HAS_MULTITHREAD_SUPPORT flag answers false there (tensorflow/tfjs#3830), and its loader hands
 * Emscripten's pthread workers a Blob URL, which worker_threads refuse (ERR_WORKER_PATH, "must be an
 * absolute path ... Received blob:nodedata:..."). Here the same Emscripten module starts as its own
 * Node support expects: each pthread is a worker_thread whose script is the package's worker source,
 * and the main script it loads is the package's glue file, by path.
 *
 * XNNPACK splits an operator's output into tiles and gives whole tiles to threads; each value is
 * computed by the same micro-kernel in the same order whatever the thread count, so the numbers equal
 * the single-thread build's (test/probe/wasm-threads.test.ts). The probe's own kernels stay on the
 * main thread.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const THREADED = 'tfjs-backend-wasm-threaded-simd';
/** The threaded build's files, beside the bundle (dist/) or in the package's wasm-out/. */
const THREADED_FILES = { glue: `${THREADED}.js`, worker: `${THREADED}.worker.js`, wasm: `${THREADED}.wasm` } as const;

/**
 * At most this many threads run a probe's kernels. The probe shares the machine with the editor, the
 * language server and the user's own work; past four, the convolutions of a probe-sized model gain little.
 */
const WASM_THREADS_CAP = 4;

/**
 * Multiply-adds of a step's largest op (cost.ts largestOpMacs) from which the probe runs on threads.
 * XNNPACK splits every op, and each split is a barrier the calling thread waits at while the others
 * spin for the next op: a 20x Dense(64) sigmoid MLP at batch 64 (largest op ~0.3 M) ran no faster on
 * two threads and burned 10-13 ms/step more CPU; issue 10's CIFAR CNN (~300 M) ran ~25 % faster on
 * an otherwise idle 2-core machine. Set between the two, not tuned.
 */
const THREADED_FROM_MACS = 2e7;

/** Threads for the wasm backend on a machine with `cores` cores, for a model whose largest op does `largestOpMacs` (1: the single-thread build). */
export function wasmThreadsFor(cores: number, largestOpMacs: number): number {
  return largestOpMacs < THREADED_FROM_MACS ? 1 : Math.max(1, Math.min(cores, WASM_THREADS_CAP));
}

/** The folder holding the threaded build's three files, or null. */
export function threadedDirectory(roots: string[]): string | null {
  const complete = (dir: string) => Object.values(THREADED_FILES).every((f) => existsSync(join(dir, f)));
  for (const root of roots) {
    if (complete(root)) return root;
    try {
      const dir = dirname(createRequire(join(root, '__gradient_lens_probe__.js')).resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${THREADED_FILES.glue}`));
      if (complete(dir)) return dir;
    } catch {
      // try the next root
    }
  }
  return null;
}

/** What this module gives and reads of Emscripten's configuration (see the glue's Module[...] reads). */
interface FactoryConfig {
  locateFile(path: string, prefix: string): string | URL;
  mainScriptUrlOrBlob: string;
  instantiateWasm(imports: { env: Record<string, unknown> }, receive: (instance: unknown, module: unknown) => void): object;
  onAbort(what: unknown): void;
}

interface EmscriptenModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
}

type BackendModule = ConstructorParameters<typeof BackendWasm>[0];

/** The part of the WebAssembly API used here (this project's TypeScript libraries do not declare it). */
interface WebAssemblyApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/**
 * The pthread worker's script: the package's worker source (a string it ships for a Blob URL) run by
 * a data: URL module. The source expects CommonJS' require and __filename (its location, which
 * Emscripten reads as the main script's); an ES module has neither, so they are given as globals.
 */
function workerScript(dir: string): URL {
  const glue = join(dir, THREADED_FILES.glue);
  const { wasmWorkerContents } = createRequire(glue)(join(dir, THREADED_FILES.worker)) as { wasmWorkerContents: string };
  // The source sits in a template literal: its "\n" escapes arrive as line breaks inside string literals (tfjs' loader escapes them again too).
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const boot = [
    "import { createRequire } from 'node:module';",
    `globalThis.require = createRequire(${JSON.stringify(glue)});`,
    `globalThis.__filename = ${JSON.stringify(glue)};`,
    `(0, eval)(${JSON.stringify(source)});`,
  ].join('\n');
  // worker_threads take a data: URL only as a URL object (a string must be a path).
  return new URL(`data:text/javascript;base64,${Buffer.from(boot).toString('base64')}`);
}

/** The pthread workers Emscripten's runtime keeps (what `letProcessExit` reads). */
interface PThreads {
  PThread: { runningWorkers: { unref(): void }[] };
}

/**
 * Lets the process end while the backend's threads wait for work. Emscripten keeps a running pthread's
 * worker referenced, as a C program's threads keep it alive; XNNPACK's pool threads run as long as the
 * backend does, so a process that ends by finishing its work (a benchmark, a script) would never end.
 * Call after the backend's construction, which starts them.
 */
export function letProcessExit(module: BackendModule): void {
  for (const worker of (module as unknown as PThreads).PThread.runningWorkers) worker.unref();
}

/**
 * Starts the threaded build from `dir` with `threads` threads for XNNPACK's pool. Emscripten creates its
 * 8 pthread workers up front (the build's pool size) and resolves once each has loaded the module;
 * pthreadpool takes threads - 1 of them, the calling thread being the last.
 */
export async function startThreadedModule(dir: string, threads: number): Promise<BackendModule> {
  const glue = join(dir, THREADED_FILES.glue);
  const factory = createRequire(glue)(glue) as (config: FactoryConfig) => Promise<EmscriptenModule>;
  const worker = workerScript(dir);
  let aborted: (reason: Error) => void = () => undefined;
  const abort = new Promise<never>((_, reject) => {
    aborted = reject;
  });
  const module = await Promise.race([
    abort,
    factory({
      locateFile: (path, prefix) => (path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? join(dir, THREADED_FILES.wasm) : prefix + path),
      mainScriptUrlOrBlob: glue,
      instantiateWasm: (imports, receive) => {
        // tfjs sizes its pool from this import, halved (hyper-threading) and capped by it: the thread
        // count chosen here is the one it then takes (init_with_threads_count in its backend.cc).
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        webAssembly.instantiate(readFileSync(join(dir, THREADED_FILES.wasm)), imports).then(
          ({ instance, module: compiled }) => { receive(instance, compiled); },
          (e: unknown) => { aborted(e instanceof Error ? e : new Error(String(e))); },
        );
        return {};
      },
      onAbort: (what) => { aborted(new Error(`the threaded wasm build aborted: ${String(what)}`)); },
    }),
  ]);
  // The bridge tfjs' own loader adds (backend_wasm.ts init).
  const tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return Object.assign(module, { tfjs });
}
