#!/usr/bin/env node
// `npm run examples`: the bundled examples through the real CLI, in two runs a newcomer can read.
// Every examples/<rule>/bad* shows a problem on purpose, so `gradient-lens check` reports it and exits 1
// (as it would on your code); every clean* twin is the fix and passes (exit 0). This command exits 0
// when both hold, and 1 when an example does not behave as documented.
// Usage: node scripts/examples.js [EXAMPLES_DIR]   (default: examples/)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const EXAMPLES = path.resolve(process.argv[2] ?? path.join(ROOT, 'examples'));

if (!fs.existsSync(CLI)) {
  console.error('dist/cli.js is missing: run `npm install` (it builds) or `npm run build` first.');
  process.exit(2);
}

/** examples/<folder>/<entry> relative to the repository, for entries starting with `prefix`. */
function entries(prefix) {
  return fs
    .readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(EXAMPLES, d.name)).filter((e) => e.startsWith(prefix)).map((e) => path.relative(ROOT, path.join(EXAMPLES, d.name, e))))
    .sort();
}

function check(title, paths) {
  console.log(`\n== ${title} ==\n`);
  const run = spawnSync(process.execPath, [CLI, 'check', ...paths], { cwd: ROOT, stdio: 'inherit' });
  return run.status;
}

const bad = check('Examples with a problem on purpose (examples/*/bad*)', entries('bad'));
const clean = check('Their fixed twins (examples/*/clean*)', entries('clean'));

console.log('');
const badAsExpected = bad === 1;
const cleanAsExpected = clean === 0;
console.log(
  badAsExpected
    ? 'bad*:   findings reported, exit status 1. Expected: these files contain the problems on purpose.'
    : `bad*:   exit status ${bad}, expected 1 (findings). Something is wrong with the analyzer or the examples.`,
);
console.log(
  cleanAsExpected
    ? 'clean*: no findings, exit status 0. Expected: they are the fixes.'
    : `clean*: exit status ${clean}, expected 0 (no findings). Something is wrong with the analyzer or the examples.`,
);
console.log('On your own code, `npx gradient-lens check <path>` exits 0 when nothing at warning or above is found, 1 otherwise, 2 on usage errors.');
process.exit(badAsExpected && cleanAsExpected ? 0 : 1);
