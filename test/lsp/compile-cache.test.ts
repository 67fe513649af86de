/**
 * The language server's code cache (src/launcher/run-bundle.ts) over real JSON-RPC: the analysis worker
 * writes it once its first analysis is done, and the next server's two threads (the server and its
 * analysis worker) start from it and publish the same diagnostics.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LspSession, fileUri, fixtureText } from './harness';

const folder = mkdtempSync(join(tmpdir(), 'gl-lsp-compile-cache-'));
afterAll(() => { rmSync(folder, { recursive: true, force: true }); });

const env = { GRADIENT_LENS_COMPILE_CACHE: folder, NODE_DEBUG: 'gradient-lens-cache' };
const CACHE_FILE = /^server-bundle\.js-[0-9a-f]{16}\.v8cache$/;

/** Diagnostics of the fixture as one server publishes them, and the server's stderr. */
async function diagnosticsOfOneServer(untilCacheWritten: boolean): Promise<{ diagnostics: string; stderr: string }> {
  const session = await LspSession.start({ env });
  try {
    const uri = fileUri(join(folder, 'model.py'));
    await session.open(uri, fixtureText('torch_tanh_stack.py'));
    const diagnostics = JSON.stringify(await session.diagnostics(uri));
    // The worker writes after it sent its first result: wait until the file is there (bounded).
    for (let i = 0; untilCacheWritten && i < 100 && !readdirSync(folder).some((name) => CACHE_FILE.test(name)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    return { diagnostics, stderr: session.stderr.join('') };
  } finally {
    await session.stop();
  }
}

describe('the language server\'s code cache', () => {
  it('is written after the first analysis, and the next server and its worker run from it', async () => {
    const first = await diagnosticsOfOneServer(true);
    expect(first.stderr).toContain('no cache yet');
    const files = readdirSync(folder).filter((name) => CACHE_FILE.test(name));
    expect(files).toHaveLength(1);
    expect(first.diagnostics).toContain('GL101');

    const second = await diagnosticsOfOneServer(false);
    expect(second.stderr.split('\n').filter((line) => line.includes('cache accepted'))).toHaveLength(2);
    expect(second.stderr).not.toContain('wrote');
    expect(second.diagnostics).toBe(first.diagnostics);
  });
});
