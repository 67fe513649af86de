/**
 * Workspace trust: the probe may pick up @tensorflow/tfjs-node from the user's project, which runs
 * native code from that folder. In an untrusted workspace it must not even try.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProbe } from '../../src/probe/client';
import { probeOptions } from '../../src/shared/probe';
import { keras } from './ir-builder';
import { buildWorker } from './worker-bundle';

let workerPath = '';
beforeAll(async () => {
  workerPath = await buildWorker();
});

/** A project folder whose node_modules holds a stand-in tfjs-node that leaves a mark when loaded. */
function projectWithPlantedTfjsNode(): { dir: string; marker: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gl-untrusted-'));
  const pkg = join(dir, 'node_modules', '@tensorflow', 'tfjs-node');
  mkdirSync(pkg, { recursive: true });
  const marker = join(dir, 'LOADED');
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); throw new Error('stand-in');\n`);
  return { dir, marker };
}

describe('probe in an untrusted workspace', () => {
  const model = (dir: string) => ({ ...keras('small').input([8]).dense(4, 'relu').dense(2, 'softmax').build(), file: join(dir, 'model.py') });

  it('loads nothing from the workspace when the workspace is not trusted', async () => {
    const { dir, marker } = projectWithPlantedTfjsNode();
    const outcome = await startProbe(model(dir), probeOptions({ steps: 2, backend: 'auto' }), null, { workerPath, trustedWorkspace: false }).result;
    expect(existsSync(marker)).toBe(false);
    expect(outcome.ok).toBe(true);
  });

  it('does look in a trusted workspace (the same setup leaves the mark)', async () => {
    const { dir, marker } = projectWithPlantedTfjsNode();
    await startProbe(model(dir), probeOptions({ steps: 2, backend: 'auto' }), null, { workerPath, trustedWorkspace: true }).result;
    expect(existsSync(marker)).toBe(true);
  });
});
