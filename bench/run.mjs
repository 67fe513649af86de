// `npm run bench`: runs every benchmark script that exists (each prints its own numbers; nothing is asserted).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = ['analysis.mjs', 'probe.mjs'].map((name) => join(here, name)).filter((path) => existsSync(path));
let failed = 0;
for (const script of scripts) {
  console.log(`\n== ${script.slice(here.length + 1)} ==`);
  const run = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
