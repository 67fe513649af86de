// Shared by the accuracy scripts: where the sample list lives and where its files are materialised.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const samplePath = join(repoRoot, 'docs', 'accuracy', 'sample.json');
/** Gitignored: the sample's source files are third-party code and are never committed. */
export const cacheRoot = process.env.ACCURACY_CACHE ? resolve(process.env.ACCURACY_CACHE) : join(repoRoot, '.accuracy-cache');
export const filesRoot = join(cacheRoot, 'files');

/** Folder of one repository's materialised files: owner+name, as the snapshots are named. */
export function repoFolder(repo) {
  return repo.replace('/', '+');
}

export function localPath(entry) {
  return join(filesRoot, repoFolder(entry.repo), entry.path);
}

export function loadSample() {
  return JSON.parse(readFileSync(samplePath, 'utf8'));
}
