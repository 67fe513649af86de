// Ruff, the anchor the benchmarks measure in the same run (issue 10: "at or below Ruff's"): its language
// server for edit -> publishDiagnostics (bench/editor.mjs), its `check` for the CLI (bench/analysis.mjs).
// Found as $RUFF, else `ruff` on the PATH; never installed by the benchmarks (it is no dependency).
import { spawnSync } from 'node:child_process';

/** How to get Ruff here: pip finds a wheel in the machine's local cache where the registry is out of reach. */
export const RUFF_HINT = 'set RUFF=/path/to/ruff or put ruff on the PATH (`python3 -m venv /tmp/ruff && /tmp/ruff/bin/pip install ruff`, then RUFF=/tmp/ruff/bin/ruff)';

/** Ruff's executable and version, or null when there is none to run. */
export function findRuff() {
  const command = process.env.RUFF || 'ruff';
  const run = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (run.status !== 0 || !run.stdout) return null;
  return { command, version: run.stdout.trim() };
}
