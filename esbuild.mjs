// One esbuild command per bundle (rust-analyzer convention). Run `node esbuild.mjs [--watch]`.
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
/** web-tree-sitter's ESM build reads import.meta.url, which is empty in a CJS bundle: bundle its CJS build. */
const treeSitterCjs = {
  name: 'web-tree-sitter-cjs',
  setup(build) {
    build.onResolve({ filter: /^web-tree-sitter$/ }, () => ({ path: require.resolve('web-tree-sitter') }));
  },
};
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [treeSitterCjs],
};

/** Each entry: [source, output, extra options]. Entries whose source does not exist yet are skipped. */
const bundles = [
  // dist/cli.js and dist/server.js are launchers: each runs its bundle (dist/<name>-bundle.js) with V8's
  // code cache (src/launcher/run-bundle.ts).
  ['src/launcher/cli.ts', 'dist/cli.js', { banner: { js: '#!/usr/bin/env node' } }],
  ['src/cli/main.ts', 'dist/cli-bundle.js', {}],
  ['src/launcher/server.ts', 'dist/server.js', {}],
  ['src/server/main.ts', 'dist/server-bundle.js', {}],
  ['src/extension/extension.ts', 'dist/extension.js', { external: ['vscode'] }],
  ['src/probe/worker.ts', 'dist/probe-worker.js', { external: ['@tensorflow/tfjs-node'] }],
  // The probe panel (browser code) and its stylesheet; the report inlines both.
  ['webview-ui/src/main.ts', 'dist/webview/webview.js', { platform: 'browser', format: 'iife', target: 'es2022', plugins: [], minify: true, sourcemap: false }],
  ['webview-ui/src/panel.css', 'dist/webview/webview.css', { platform: 'browser', format: undefined, plugins: [], minify: true, sourcemap: false }],
];

/** The wasm files the parser needs at run time sit beside the bundles. */
function copyWasm() {
  mkdirSync('dist', { recursive: true });
  const files = [
    require.resolve('web-tree-sitter/web-tree-sitter.wasm'),
    join(dirname(require.resolve('tree-sitter-python/package.json')), 'tree-sitter-python.wasm'),
  ];
  for (const f of files) copyFileSync(f, join('dist', f.split('/').pop()));
  // The probe worker's wasm backend loads its binaries from beside the bundle (setWasmPaths), and the
  // threaded build its Emscripten glue and pthread worker source too (src/probe/wasm-threads.ts).
  const tfjsWasm = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(tfjsWasm, f), join('dist', f));
  const tfjsThreaded = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));
  for (const f of ['tfjs-backend-wasm-threaded-simd.js', 'tfjs-backend-wasm-threaded-simd.worker.js', 'tfjs-backend-wasm-threaded-simd.wasm']) copyFileSync(join(tfjsThreaded, f), join('dist', f));
}

copyWasm();
for (const [entry, outfile, extra] of bundles) {
  if (!existsSync(entry)) continue;
  const options = { ...common, entryPoints: [entry], outfile, ...extra };
  if (watch) await (await esbuild.context(options)).watch();
  else await esbuild.build(options);
}
// `npx gradient-lens` in this repository runs package.json's bin directly, so it must be executable.
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
