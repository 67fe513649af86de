// The analysis engine of a checkout, bundled as the CLI bundles it (web-tree-sitter's CJS build, since
// its ESM build needs import.meta.url), so benchmarks time shipped code. Used by analysis.mjs and compare.mjs.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Bundles `exports` (lines of `export { ... } from './src/...'`) of the checkout at `root` under this checkout's cache folder, and loads it. */
export async function bundleEngine(root, name, exports) {
  const outfile = join(here, `node_modules/.cache/gradient-lens-bench/${name}.cjs`);
  mkdirSync(dirname(outfile), { recursive: true });
  await esbuild.build({
    stdin: { contents: exports.join('\n'), resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    // Another checkout may have no node_modules of its own: resolve packages from this one.
    nodePaths: [join(here, 'node_modules')],
    plugins: [{ name: 'web-tree-sitter-cjs', setup: (b) => b.onResolve({ filter: /^web-tree-sitter$/ }, () => ({ path: require.resolve('web-tree-sitter') })) }],
  });
  return require(outfile);
}

export const ENGINE_EXPORTS = ["export { Project } from './src/analysis/project';", "export { createPythonParser } from './src/analysis/python/parser';"];
