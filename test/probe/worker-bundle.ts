/** Builds src/probe/worker.ts into a temporary folder for tests, as esbuild.mjs does for dist/. */
import * as esbuild from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function buildWorker(): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'gl-probe-worker-')), 'probe-worker.js');
  await esbuild.build({
    entryPoints: [join(__dirname, '../../src/probe/worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    external: ['@tensorflow/tfjs-node'],
    logLevel: 'error',
  });
  return outfile;
}
