// `npm run bench`: runs every benchmark script in bench/ (each prints its own numbers; nothing is asserted).
// Not the modules the benchmarks import, nor compare.mjs, which measures this checkout against another
// one it is given: run alone, those printed nothing or their usage, and compare.mjs's exit 2 made the
// whole run fail.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NOT_RUN = new Set(['run.mjs', 'compare.mjs', 'bundle-engine.mjs', 'generate.mjs', 'thread-cpu.mjs']);

const here = dirname(fileURLToPath(import.meta.url));
const scripts = readdirSync(here)
  .filter((name) => name.endsWith('.mjs') && !NOT_RUN.has(name))
  .sort();
let failed = 0;
for (const name of scripts) {
  console.log(`\n== bench/${name} ==`);
  const run = spawnSync(process.execPath, [join(here, name)], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
