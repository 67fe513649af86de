/**
 * Vitest global setup: builds the bundles once before any test, so tests that spawn the real CLI
 * (`node dist/cli.js`) or the language server run what users run. A failed build does not stop
 * tests that need no bundle; it is handed to the others (`inject('bundleBuildError')`), which fail
 * with the build's message instead of running a stale dist/.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    bundleBuildError: string | null;
  }
}

export default function setup(project: TestProject): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
  const failed = build.status !== 0;
  if (failed) process.stderr.write(`test/global-setup.ts: node esbuild.mjs failed\n${build.stderr}\n`);
  project.provide('bundleBuildError', failed ? `node esbuild.mjs failed:\n${build.stderr}` : null);
}
