// `npm run bench`: runs every benchmark script in bench/ (each prints its own numbers; nothing is asserted).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = readdirSync(here)
  .filter((name) => name.endsWith('.mjs') && name !== 'run.mjs')
  .sort();
let failed = 0;
for (const name of scripts) {
  console.log(`\n== bench/${name} ==`);
  const run = spawnSync(process.execPath, [join(here, name)], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
