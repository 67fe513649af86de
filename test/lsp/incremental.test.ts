/**
 * Incremental analysis over real JSON-RPC (issue 10): the server extracts a file as groups of
 * name-connected statements and reuses the groups an edit does not touch. An edit inside one definition
 * and an edit of a name other definitions read must both publish exactly what a fresh server publishes
 * for the final text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { LspSession, fileUri, fixtureText, FIXTURES, positionOf } from './harness';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

const uri = fileUri(join(FIXTURES, 'shared_activation.py'));
/** Diagnostics without the document version they were published for. */
const stable = (diagnostics: Diagnostic[]) => diagnostics.map((d) => ({ ...d, data: undefined }));
const lines = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${String(d.code)}@${String(d.range.start.line + 1)}`).sort();

/** What a server that never saw the earlier versions publishes for `text`. */
async function fresh(text: string): Promise<Diagnostic[]> {
  const other = await LspSession.start();
  try {
    await other.open(uri, text);
    return await other.diagnostics(uri);
  } finally {
    await other.stop();
  }
}

/** Edits replacing every `from` after `after` in the current text by `to`. */
function replaceAll(text: string, from: string, to: string, after: string): TextEdit[] {
  const edits: TextEdit[] = [];
  for (let at = text.indexOf(from, text.indexOf(after)); at >= 0; at = text.indexOf(from, at + from.length)) {
    const before = text.slice(0, at);
    const start = { line: before.split('\n').length - 1, character: at - (before.lastIndexOf('\n') + 1) };
    edits.push({ range: { start, end: { line: start.line, character: start.character + from.length } }, newText: to });
  }
  // Later edits first, so each range is still valid when it applies.
  return edits.reverse();
}

describe('incremental analysis over JSON-RPC', () => {
  it('an edit inside one definition adds its findings, keeps the others, and equals a fresh analysis', async () => {
    const text = fixtureText('shared_activation.py');
    await session.open(uri, text);
    const before = await session.diagnostics(uri);
    // The two builders that read HIDDEN = "sigmoid" stack four sigmoid layers; the relu classifier is clean.
    expect(lines(before)).toEqual(['GL101@11', 'GL101@22']);

    await session.edit(uri, replaceAll(text, 'activation="relu"', 'activation="sigmoid"', 'def build_classifier'));
    const after = await session.diagnostics(uri);
    const classifier = positionOf(session.text(uri), 'def build_classifier').line;
    const added = after.filter((d) => d.range.start.line > classifier);
    // The classifier's sigmoid stack with He initialization, and nothing else changed.
    expect(new Set(added.map((d) => d.code))).toEqual(new Set(['GL101', 'GL202']));
    expect(stable(after.filter((d) => d.range.start.line < classifier))).toEqual(stable(before));
    expect(stable(after)).toEqual(stable(await fresh(session.text(uri))));
  });

  it('an edit of a module-level name re-analyzes every definition that reads it, and equals a fresh analysis', async () => {
    const text = session.text(uri);
    const at = positionOf(text, 'HIDDEN = "sigmoid"', 'HIDDEN = "'.length);
    await session.edit(uri, [{ range: { start: at, end: { line: at.line, character: at.character + 'sigmoid'.length } }, newText: 'relu' }]);
    const after = await session.diagnostics(uri);
    const classifier = positionOf(session.text(uri), 'def build_classifier').line;
    // Both readers of HIDDEN are now relu stacks with Glorot: their GL101 findings are gone.
    expect(after.filter((d) => d.range.start.line < classifier)).toEqual([]);
    expect(after.some((d) => d.range.start.line > classifier)).toBe(true);
    expect(stable(after)).toEqual(stable(await fresh(session.text(uri))));
  });
});
