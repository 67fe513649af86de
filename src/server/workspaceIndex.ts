/**
 * The workspace's Python files on disk, fed to the analyzer so cross-file facts resolve (a model
 * defined in model.py and trained in train.py). Open documents win over disk: the server tells the
 * index which paths are open and the index leaves those alone.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** Folders that hold installed or generated code, never the user's models. */
const SKIPPED_DIRECTORIES = new Set([
  '.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv', 'venv', 'env', '.env', '.tox', '.nox',
  '.mypy_cache', '.pytest_cache', '.ruff_cache', 'site-packages', '.ipynb_checkpoints', '.vscode-test', 'dist', 'build',
]);

export interface IndexLimits {
  maxFiles: number;
  maxFileBytes: number;
}

export const DEFAULT_INDEX_LIMITS: IndexLimits = { maxFiles: 5000, maxFileBytes: 2 * 1024 * 1024 };

/** Python files under `roots`, breadth-first, skipping vendored folders; stops at `limits.maxFiles`. */
export async function findPythonFiles(roots: string[], limits: IndexLimits = DEFAULT_INDEX_LIMITS): Promise<{ files: string[]; truncated: boolean }> {
  const files: string[] = [];
  const queue = [...roots];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable or vanished folder: nothing to index there
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name) && !entry.name.startsWith('.')) queue.push(join(dir, entry.name));
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        if (files.length >= limits.maxFiles) return { files, truncated: true };
        files.push(join(dir, entry.name));
      }
    }
  }
  return { files, truncated: false };
}

/** The file's text, or null when it is unreadable, too large, or not text. */
export async function readSource(path: string, limits: IndexLimits = DEFAULT_INDEX_LIMITS): Promise<string | null> {
  try {
    const stat = await fs.stat(path);
    if (!stat.isFile() || stat.size > limits.maxFileBytes) return null;
    const text = await fs.readFile(path, 'utf8');
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}
