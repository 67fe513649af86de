/**
 * Backend selection, best first: tfjs-node ('tensorflow') when it loads, then wasm, then cpu. The
 * backend reported is the one tfjs actually runs on: setBackend's answer is checked every time,
 * because tfjs silently stays on the previous backend when wasm cannot find its binary.
 */
import * as tf from '@tensorflow/tfjs-core';
// Named imports, not bare side-effect imports: bundlers drop a bare import of a package whose
// package.json does not list its Node entry under sideEffects, and with it the registration.
// tfjs-layers' Node bundle registers the gradient functions of every core op (tfjs-core alone does not);
// tfjs-backend-cpu registers the cpu backend.
import { version_layers } from '@tensorflow/tfjs-layers';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { BackendWasm, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackendChoice, BackendName, ProbeNotice } from '../shared/probe';
import { ProbeFailure } from './errors';
import { letProcessExit, startThreadedModule, threadedDirectory } from './wasm-threads';

const WASM_FILE = 'tfjs-backend-wasm.wasm';

// tfjs prints an "install our node backend" banner to stderr the first time the cpu backend holds a
// tensor; the probe says that in its own notice (tryNode). PROD only turns off tfjs's console
// warnings and logs (backend_util.warn/log), no checks.
tf.env().set('PROD', true);

/** Versions of the tfjs packages the probe runs on (reported in failures; also keeps the imports alive). */
export const TFJS_VERSIONS = `tfjs-core ${tf.version_core}, layers ${version_layers}, cpu ${version_cpu}, wasm ${version_wasm}`;

/** Folders to resolve packages from: the running script's (the bundle's or the worker's), the workspace, cwd. */
function searchRoots(workspace: string | null): string[] {
  const roots = [process.argv[1] ? dirname(process.argv[1]) : null, workspace, process.cwd()];
  return [...new Set(roots.filter((r): r is string => !!r))];
}

function tryRequire(name: string, roots: string[]): { loaded: boolean; error: string } {
  let error = 'not installed';
  for (const root of roots) {
    try {
      createRequire(join(root, '__gradient_lens_probe__.js'))(name);
      return { loaded: true, error: '' };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (!message.includes('Cannot find module')) error = message.split('\n')[0]!;
    }
  }
  return { loaded: false, error };
}

/** The folder holding the wasm binaries: beside the bundle (dist/) or inside the installed package. */
export function wasmDirectory(roots: string[]): string | null {
  for (const root of roots) {
    if (existsSync(join(root, WASM_FILE))) return root;
    try {
      const resolved = createRequire(join(root, '__gradient_lens_probe__.js')).resolve(`@tensorflow/tfjs-backend-wasm/dist/${WASM_FILE}`);
      return dirname(resolved);
    } catch {
      // try the next root
    }
  }
  return null;
}

let wasmConfigured = false;

type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;
/** The package's own 'wasm' factory (the single-thread SIMD build), kept to register again. */
const singleThreadFactory: BackendFactory = tf.findBackendFactory('wasm');
/** As the package registers it: above cpu, below tfjs-node. */
const WASM_PRIORITY = 2;
/** Threads the wasm backend is to start on (1: the single-thread build), set by each selection. */
let wasmThreads = 1;
/** The thread count tests impose over the one asked for (setWasmThreads). */
let imposedThreads: number | null = null;
/** The threads the registered 'wasm' factory starts. */
let registeredThreads = 1;
/** Why the wasm backend runs on one thread where it could run on more; repeated with every selection that asks for more (a warm start's notices are not shown). */
let oneThreadNotice: ProbeNotice | null = null;
/** The reason the last threaded start failed (tfjs turns a failed start into setBackend's false). */
let threadsFailure = '';

/** Tests: every selection starts the wasm backend on this many threads (null: as asked), a running one with another count disposed. */
export function setWasmThreads(threads: number | null): void {
  imposedThreads = threads;
  oneThreadNotice = null;
}

function registerWasm(factory: BackendFactory, threads: number): void {
  // Disposes a running instance with its pthreads.
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
  registeredThreads = threads;
}

function fallBackToOneThread(reason: string): void {
  oneThreadNotice = { severity: 'hint', message: `the wasm backend runs on one thread: ${reason}.`, line: null };
  wasmThreads = 1;
  if (registeredThreads !== 1) registerWasm(singleThreadFactory, 1);
}

/** Registers the 'wasm' factory that starts `wasmThreads` threads, the threaded build's from `roots`. */
function registerWasmThreads(roots: string[]): void {
  if (wasmThreads === 1) {
    registerWasm(singleThreadFactory, 1);
    return;
  }
  const dir = threadedDirectory(roots);
  if (!dir) {
    fallBackToOneThread("the threaded build's files were not found");
    return;
  }
  const threads = wasmThreads;
  registerWasm(async () => {
    try {
      const module = await startThreadedModule(dir, threads);
      const backend = new BackendWasm(module);
      letProcessExit(module);
      return backend;
    } catch (e) {
      threadsFailure = e instanceof Error ? e.message : String(e);
      throw e;
    }
  }, threads);
}

async function trySet(name: BackendName): Promise<boolean> {
  try {
    if (tf.getBackend() === name) return true;
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

async function tryNode(roots: string[], notices: ProbeNotice[]): Promise<boolean> {
  // tfjs types findBackendFactory as always returning a factory; it returns null for an unregistered backend.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (!tf.findBackendFactory('tensorflow')) {
    const { loaded, error } = tryRequire('@tensorflow/tfjs-node', roots);
    if (!loaded) {
      notices.push({ severity: 'hint', message: `tfjs-node is not available (${error}); install @tensorflow/tfjs-node for faster probes.`, line: null });
      return false;
    }
  }
  return trySet('tensorflow');
}

let identityShared = false;

/**
 * tfjs runs an Identity for every tensor an op keeps for its gradient (Engine.clone), and the wasm
 * backend's Identity copies the values: a CIFAR CNN's training step copied 57 tensors, most of them
 * whole activations. Tensors are immutable, so here the copy shares the values (a reference count, as
 * the wasm backend's Reshape and the cpu backend's Identity do).
 */
function shareIdentityValues(): void {
  if (identityShared) return;
  // tfjs types getKernel as always returning a kernel; it returns undefined when the backend has none.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  const copying = tf.getKernel(tf.Identity, 'wasm')?.kernelFunc;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (!copying) return;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x;
      const backend = args.backend;
      // Strings live outside the heap; anything unexpected keeps the backend's own copy.
      if (!x || x.dtype === 'string' || !(backend instanceof BackendWasm)) return copying(args);
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  identityShared = true;
}

async function tryWasm(roots: string[], notices: ProbeNotice[], threads: number): Promise<boolean> {
  if (!wasmConfigured) {
    const dir = wasmDirectory(roots);
    if (!dir) {
      notices.push({ severity: 'warning', message: `the wasm backend's ${WASM_FILE} was not found; falling back.`, line: null });
      return false;
    }
    setWasmPaths(`${dir}/`);
    wasmConfigured = true;
  }
  const wanted = imposedThreads ?? threads;
  // Once threads could not start, the process stays on one.
  wasmThreads = oneThreadNotice ? 1 : wanted;
  // The threaded build's glue is JavaScript: never taken from the user's workspace (which may hold another tfjs version).
  if (registeredThreads !== wasmThreads) registerWasmThreads(searchRoots(null));
  let ok = await trySet('wasm');
  if (!ok && registeredThreads > 1) {
    fallBackToOneThread(`its threads could not start (${threadsFailure})`);
    ok = await trySet('wasm');
  }
  if (ok && oneThreadNotice && wanted > 1) notices.push(oneThreadNotice);
  if (ok) shareIdentityValues();
  return ok;
}

/**
 * Switch tfjs to the chosen backend and say which one runs. On wasm, `threads` threads run the
 * kernels (wasmThreadsFor for the model); a selection with another count than the running backend's
 * restarts it. Without a model (a warm start) one thread: the single-thread build starts in ~15 ms,
 * the threaded one in 0.3-0.6 s (its 8 pthread workers), which only a model with large ops repays.
 */
export async function selectBackend(choice: BackendChoice, workspace: string | null = null, threads = 1): Promise<{ backend: BackendName; notices: ProbeNotice[] }> {
  const notices: ProbeNotice[] = [];
  const roots = searchRoots(workspace);
  const attempts: [BackendChoice, () => Promise<boolean>][] = [
    ['node', () => tryNode(roots, notices)],
    ['wasm', () => tryWasm(roots, notices, threads)],
    ['cpu', () => trySet('cpu')],
  ];
  for (const [name, attempt] of attempts) {
    if (choice !== 'auto' && choice !== name) continue;
    if (await attempt()) {
      return { backend: tf.getBackend() as BackendName, notices };
    }
  }
  const detail = notices.map((n) => n.message).join('; ');
  throw new ProbeFailure('backend', `the ${choice} backend could not be started (${TFJS_VERSIONS})${detail ? `: ${detail}` : ''}`);
}
