// Materialises the accuracy sample (docs/accuracy/sample.json) into the gitignored cache folder.
// Each file comes from a local bare-git snapshot of its repository when ACCURACY_MIRROR names a
// folder of them (<mirror>/<owner>+<name>/repo[/.git]), otherwise from raw.githubusercontent.com at
// the pinned commit. Files already present are kept.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadSample, localPath, repoFolder } from './sample.mjs';

function snapshotGitDir(mirror, repo) {
  const base = join(mirror, repoFolder(repo), 'repo');
  if (existsSync(join(base, '.git'))) return join(base, '.git');
  return existsSync(base) ? base : null;
}

async function fetchRaw(repo, commit, path) {
  const url = `https://raw.githubusercontent.com/${repo}/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

export async function materialize({ quiet = false } = {}) {
  const sample = loadSample();
  const mirror = process.env.ACCURACY_MIRROR ?? null;
  let written = 0;
  const failures = [];
  for (const entry of sample.files) {
    const target = localPath(entry);
    if (existsSync(target)) continue;
    const commit = sample.repositories[entry.repo].commit;
    try {
      const gitDir = mirror ? snapshotGitDir(mirror, entry.repo) : null;
      const content = gitDir
        ? execFileSync('git', ['-C', gitDir, 'show', `${commit}:${entry.path}`], { maxBuffer: 64 * 1024 * 1024 })
        : await fetchRaw(entry.repo, commit, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      written += 1;
    } catch (error) {
      failures.push(`${entry.repo}/${entry.path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  if (!quiet) console.log(`materialised ${written} new file(s); ${sample.files.length - failures.length} of ${sample.files.length} present`);
  for (const failure of failures) console.error(`could not materialise ${failure}`);
  return failures.length === 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ok = await materialize();
  process.exitCode = ok ? 0 : 1;
}
