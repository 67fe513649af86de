/**
 * Loads web-tree-sitter and the Python grammar once per process. The wasm files are found beside the
 * running bundle (dist/, where esbuild.mjs copies them) or, when running from source, in node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import { CursorCalls } from './cursor-calls';

let loading: Promise<Language> | null = null;
let calls: CursorCalls | null = null;

function firstExisting(candidates: string[]): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`Gradient Lens: cannot find ${candidates[0]?.split('/').pop()} (looked in ${candidates.join(', ')})`);
  return found;
}

function moduleDir(pkg: string): string | null {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

function wasmCandidates(file: string, pkg: string): string[] {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const pkgDir = moduleDir(pkg);
  return [join(here, file), ...(pkgDir ? [join(pkgDir, file)] : []), join(process.cwd(), 'node_modules', pkg, file)];
}

/** The Python language, loaded once. */
export function loadPython(): Promise<Language> {
  loading ??= (async () => {
    const runtime = firstExisting(wasmCandidates('web-tree-sitter.wasm', 'web-tree-sitter'));
    // Emscripten makes this object the module: its exports are then on it (see cursor-calls.ts).
    const binding = { locateFile: () => runtime };
    await Parser.init(binding);
    calls = CursorCalls.of(binding);
    // Read here, not by Language.load: given a path it imports fs/promises dynamically, which a bundle run
    // from V8's code cache cannot (src/launcher/run-bundle.ts).
    return Language.load(readFileSync(firstExisting(wasmCandidates('tree-sitter-python.wasm', 'tree-sitter-python'))));
  })();
  return loading;
}

/** Direct reads of tree cursors (cursor-calls.ts), once the language is loaded; null if unavailable. */
export function cursorCalls(): CursorCalls | null {
  return calls;
}

/** A new parser for Python. Parsers are cheap; the language is shared. */
export async function createPythonParser(): Promise<Parser> {
  const language = await loadPython();
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}
