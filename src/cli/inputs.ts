/**
 * Which files `check` reads: explicit files as given, folders walked recursively for .py and .ipynb,
 * skipping virtualenvs, dependency trees and caches. Missing paths become per-path errors.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Folder names never walked into: environments, dependencies, VCS data, caches, notebook checkpoints. */
export const SKIPPED_FOLDERS: ReadonlySet<string> = new Set([
  '.venv',
  'venv',
  'env',
  '.env',
  'site-packages',
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  '__pycache__',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.ipynb_checkpoints',
]);

const ANALYZED_EXTENSIONS = ['.py', '.pyi', '.ipynb'];

export interface InputError {
  path: string;
  error: string;
}

export interface CollectedInputs {
  /** Absolute paths, sorted, without duplicates. */
  files: string[];
  errors: InputError[];
}

/** A folder with pyvenv.cfg is a virtualenv whatever its name. */
function isVirtualenv(folder: string): boolean {
  return existsSync(join(folder, 'pyvenv.cfg'));
}

function walk(folder: string, files: Set<string>, seenFolders: Set<string>, errors: InputError[]): void {
  let real: string;
  try {
    real = realpathSync(folder);
  } catch {
    return;
  }
  // Symlinked folders can form cycles; each real folder is walked once.
  if (seenFolders.has(real)) return;
  seenFolders.add(real);
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    errors.push({ path: folder, error: `cannot read folder: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    return;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = statSync(path);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      } catch {
        continue; // a dangling link inside a folder is not something the user asked for
      }
    }
    if (isDirectory) {
      if (!SKIPPED_FOLDERS.has(entry.name) && !isVirtualenv(path)) walk(path, files, seenFolders, errors);
    } else if (isFile && ANALYZED_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
      files.add(path);
    }
  }
}

/** Expands the command-line paths (relative to `cwd`) into the files to analyze. */
export function collectInputs(paths: readonly string[], cwd: string = process.cwd()): CollectedInputs {
  const files = new Set<string>();
  const errors: InputError[] = [];
  const seenFolders = new Set<string>();
  for (const given of paths) {
    const path = resolve(cwd, given);
    let stats;
    try {
      stats = statSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      errors.push({ path, error: code === 'ENOENT' ? 'no such file or folder' : `cannot access: ${code ?? String(error)}` });
      continue;
    }
    // A file named explicitly is analyzed whatever its extension, as linters do.
    if (stats.isDirectory()) walk(path, files, seenFolders, errors);
    else if (stats.isFile()) files.add(path);
    // Reading a FIFO or a device could block forever or never end.
    else errors.push({ path, error: 'not a regular file or folder' });
  }
  return { files: [...files].sort(), errors };
}
