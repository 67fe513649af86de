/**
 * The moment to save V8's code cache (src/launcher/run-bundle.ts). The launcher offers a save on each
 * thread's global; the code calls saveCompileCache once the work that compiles most of the bundle is
 * done (a `check`, the analysis worker's first analysis), so the cache holds the functions a run uses
 * and not only those its first lines compile. Without the launcher (tests, benches) nothing is offered
 * and saving does nothing.
 */
const SAVE_COMPILE_CACHE: unique symbol = Symbol.for('gradient-lens.save-compile-cache');

type WithSave = typeof globalThis & { [SAVE_COMPILE_CACHE]?: () => void };

/** Saves this thread's compiled code for later processes, if the launcher asked for it (once). */
export function saveCompileCache(): void {
  const global = globalThis as WithSave;
  const save = global[SAVE_COMPILE_CACHE];
  delete global[SAVE_COMPILE_CACHE];
  save?.();
}

/** What the launcher calls: `save` runs at the first saveCompileCache on this thread. */
export function offerCompileCacheSave(save: () => void): void {
  (globalThis as WithSave)[SAVE_COMPILE_CACHE] = save;
}
