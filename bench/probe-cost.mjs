// The probe's step-time estimate against measured steps on the wasm backend (bench/probe-cost.ts):
// how src/probe/cost.ts was calibrated, and how far it holds. Run: `node bench/probe-cost.mjs [filter]`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'gl-probe-cost-'));
const bundle = join(out, 'probe-cost.cjs');
await esbuild.build({ entryPoints: [join(root, 'bench/probe-cost.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, external: ['@tensorflow/tfjs-node'], logLevel: 'error' });
// From the repo root, so the wasm binaries resolve from node_modules.
const run = spawnSync(process.execPath, [bundle, process.argv[2] ?? ''], { cwd: root, stdio: 'inherit' });
rmSync(out, { recursive: true, force: true });
process.exitCode = run.status ?? 1;
