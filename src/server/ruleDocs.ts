/**
 * A rule's documentation is the page shipped with the extension (docs/rules/GL101.md, packaged beside
 * dist/), opened in the editor from the Problems view and from hovers: the project has no published
 * web site, so there is no web address to link to.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { uriOfPath } from './uris';

/** The folder holding package.json above this module: the extension (dist/server.js) or the repository (sources under test). */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const RULE_DOCS_DIR = join(packageRoot(), 'docs', 'rules');

/** By rule code: every diagnostic links its rule's page, and a dense file shows hundreds per keystroke. */
const uris = new Map<string, string>();

/** file: URI of a rule's page, e.g. <extension>/docs/rules/GL101.md. */
export function ruleDocsUri(code: string): string {
  let uri = uris.get(code);
  if (uri === undefined) uris.set(code, (uri = uriOfPath(join(RULE_DOCS_DIR, `${code.toUpperCase()}.md`))));
  return uri;
}
