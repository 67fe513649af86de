/** Finding and reading the TOML file that configures a Python file: the nearest pyproject.toml. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';

export interface ToolTableRead {
  /** The `[tool.gradient-lens]` table, or undefined when the file has none (or could not be read). */
  table: unknown;
  problems: string[];
}

function readToml(file: string): { document: Record<string, unknown> | null; problem: string | null } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { document: null, problem: `${file}: cannot read configuration: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  try {
    return { document: parse(text), problem: null };
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split('\n')[0];
      return { document: null, problem: `${file}:${error.line}:${error.column}: invalid TOML: ${firstLine}` };
    }
    return { document: null, problem: `${file}: invalid TOML: ${String(error)}` };
  }
}

function toolTableOf(document: Record<string, unknown>): unknown {
  const tool = document.tool;
  if (typeof tool !== 'object' || tool === null) return undefined;
  return (tool as Record<string, unknown>)['gradient-lens'];
}

/**
 * Reads `[tool.gradient-lens]` from a pyproject.toml. A file given with --config that has no
 * `tool` table is read as the gradient-lens table itself (a standalone gradient-lens.toml).
 */
export function readToolTable(file: string, standaloneAllowed: boolean): ToolTableRead {
  const { document, problem } = readToml(file);
  if (!document) return { table: undefined, problems: problem ? [problem] : [] };
  const table = toolTableOf(document);
  if (table === undefined && standaloneAllowed) {
    if (!('tool' in document)) return { table: document, problems: [] };
    return { table: undefined, problems: [`${file}: has no [tool.gradient-lens] table; default settings apply`] };
  }
  return { table, problems: [] };
}

/** The first directory to search from: the file's folder, or the path itself when it is a folder. */
function startDirectory(path: string): string {
  const absolute = resolve(path);
  try {
    if (statSync(absolute).isDirectory()) return absolute;
  } catch {
    // A path that does not exist (yet): search from where it would be.
  }
  return dirname(absolute);
}

/**
 * The nearest pyproject.toml at or above `path` that has a `[tool.gradient-lens]` table (Ruff's
 * rule: a pyproject.toml without our table does not stop the search). A pyproject.toml that is not
 * valid TOML does stop it, so its error is reported instead of silently using a file further up.
 * `cache` (folder -> result) lets one run over many files walk each folder once.
 */
export function findConfigFile(path: string, cache?: Map<string, string | null>): string | null {
  const visited: string[] = [];
  let directory = startDirectory(path);
  let found: string | null = null;
  for (;;) {
    const cached = cache?.get(directory);
    if (cached !== undefined) {
      found = cached;
      break;
    }
    visited.push(directory);
    const candidate = join(directory, 'pyproject.toml');
    if (existsSync(candidate)) {
      const { document, problem } = readToml(candidate);
      if (problem || (document && toolTableOf(document) !== undefined)) {
        found = candidate;
        break;
      }
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  // Every folder walked through resolves to the same file: many inputs share a few folders.
  for (const dir of visited) cache?.set(dir, found);
  return found;
}
