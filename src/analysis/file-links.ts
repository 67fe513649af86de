/**
 * How files share facts without being analyzed: the modules each imports and the attributes its
 * functions assign dicts to. Files that import one another, or read `x.config` that another file's
 * function assigns, form one group (link.ts importGroups); analysis of a file needs only its group
 * (plus the other paths, so imports resolve), except for the one project-wide fact in Project
 * .trainsUnboundNames. `check --jobs` and `probe` both group with this.
 */
import type { Parser } from 'web-tree-sitter';
import { importGroups } from './link';
import { submodule } from './python/imports';
import { attributeWrites } from './python/attribute-writes';
import { PyFile } from './python/file';
import { DEFAULT_MAX_FILE_BYTES, refuseText } from './source-checks';

export interface FileLinks {
  path: string;
  modules: string[];
  assigns: string[];
}

/** The modules a file imports, read as Project.setFile reads them, and the attributes its functions assign dicts to; nothing for refused or unparsable text. */
export function fileLinks(parser: Parser, path: string, text: string | null): FileLinks {
  const none = { path, modules: [], assigns: [] };
  if (text === null || refuseText(text, DEFAULT_MAX_FILE_BYTES)) return none;
  let file: PyFile;
  try {
    file = PyFile.parse(parser, path, text);
  } catch {
    return none;
  }
  // Star imports count too: `from model import *` links train.py to model.py as much as a named import;
  // `from pkg import lib` may name the module pkg/lib.py (its calls `lib.build(...)` link there).
  const named = file.imports.bindings.flatMap((b) => (b.symbol === null || b.symbol === '*' ? [b.module] : [b.module, submodule(b.module, b.symbol)]));
  const modules = [...named, ...file.imports.starModules];
  const assigns = [...new Set(attributeWrites(file).map((w) => w.attribute))];
  file.dispose();
  return { path, modules, assigns };
}

/** The groups of files that share facts (paths), given each file's links and text. */
export function linkedGroups(links: readonly FileLinks[], textOf: (path: string) => string): string[][] {
  // A file that reads `x.config` shares facts with the files whose functions assign a dict to `.config`.
  const writers = links.filter((f) => f.assigns.length > 0);
  const joined = links.map((f) => {
    const text = textOf(f.path);
    return { ...f, joins: writers.filter((w) => w.path !== f.path && w.assigns.some((a) => new RegExp(`\\.${a}\\b`).test(text))).map((w) => w.path) };
  });
  return importGroups(joined);
}
