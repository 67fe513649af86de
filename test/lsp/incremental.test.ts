/**
 * Incremental analysis over real JSON-RPC (issue 10): the server extracts a file as groups of
 * name-connected statements and reuses the groups an edit does not touch. An edit inside one definition
 * and an edit of a name other definitions read must both publish exactly what a fresh server publishes
 * for the final text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { ModelsRequest, type ModelsResult } from '../../src/shared/protocol';
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

/** What a server that never saw the earlier versions publishes for `text` (and its models, with `models`). */
async function fresh(text: string, at = uri): Promise<Diagnostic[]> {
  return (await freshWithModels(text, at)).diagnostics;
}

async function freshWithModels(text: string, at: string): Promise<{ diagnostics: Diagnostic[]; models: ModelsResult }> {
  const other = await LspSession.start();
  try {
    await other.open(at, text);
    const diagnostics = await other.diagnostics(at);
    return { diagnostics, models: await other.connection.sendRequest(ModelsRequest, { uri: at }) };
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

  it('lines inserted above a model and an edit to input-shape evidence in another definition publish what a fresh server does', async () => {
    const evidenceUri = fileUri(join(FIXTURES, 'evidence_elsewhere.py'));
    const text = fixtureText('evidence_elsewhere.py');
    await session.open(evidenceUri, text);
    const before = await session.diagnostics(evidenceUri);
    expect(before.map((d) => d.code)).toEqual(['GL202', 'GL202']);
    const guess = async () => (await session.connection.sendRequest(ModelsRequest, { uri: evidenceUri })).models.find((m) => m.model.name === 'SmallConv')?.model.inputGuess;
    expect(await guess()).toMatchObject({ shape: [1, 28, 28], source: 'example' });

    const classLine = positionOf(text, 'class SmallConv').line;
    const sample = positionOf(text, 'torch.randn(4, 1, 28, 28)', 'torch.randn(4, 1, '.length);
    // Later edit first: the sample grows to 64x64, then two comment lines go in above the class.
    await session.edit(evidenceUri, [
      { range: { start: sample, end: { line: sample.line, character: sample.character + '28, 28'.length } }, newText: '64, 64' },
      { range: { start: { line: classLine, character: 0 }, end: { line: classLine, character: 0 } }, newText: '# Sigmoid convs: expect saturation.\n\n' },
    ]);
    const after = await session.diagnostics(evidenceUri);
    expect(await guess()).toMatchObject({ shape: [1, 64, 64], source: 'example' });
    // The findings moved down with the class, two lines.
    expect(after.map((d) => d.range.start.line)).toEqual(before.map((d) => d.range.start.line + 2));
    const reference = await freshWithModels(session.text(evidenceUri), evidenceUri);
    expect(stable(after)).toEqual(stable(reference.diagnostics));
    expect((await session.connection.sendRequest(ModelsRequest, { uri: evidenceUri })).models).toEqual(reference.models.models);
  });

  it('hovers sent right after each edit (lines typed above the model, an activation changed) answer what a fresh server does for that text', async () => {
    await hoversAfterEachEdit('torch_mlp.py', [
      (t) => t.replace('class ', '# an MLP\n\n\nclass '),
      (t) => t.replace('nn.Tanh()', 'nn.ReLU()'),
      (t) => t.replace('# an MLP\n\n', ''),
    ]);
  });

  it('hovers on one model right after lines typed above several (the server moves only the models it reads), then models and diagnostics, equal a fresh server', async () => {
    const fixture = 'shared_activation.py';
    // Under a name of its own: the first tests keep the fixture open.
    const at = await hoversAfterEachEdit(fixture, [
      (t) => t.replace('\ndef ', '\n\n# builders\n\ndef '),
      (t) => t.replace('# builders\n', ''),
      (t) => t.replace('\ndef ', '\n\n\ndef '),
    ], (line) => line > positionOf(fixtureText(fixture), 'def build_classifier').line, 'moved_shared_activation.py');
    const reference = await freshWithModels(session.text(at), at);
    expect((await session.connection.sendRequest(ModelsRequest, { uri: at })).models).toEqual(reference.models.models);
    expect(stable(await session.diagnostics(at))).toEqual(stable(reference.diagnostics));
  });
});

/**
 * Opens the fixture in the live server, then per step: a fresh server's hovers at the layers (and
 * activations) of its models on lines `asked` accepts, for the new text; the same hovers asked of the
 * live server right after the edit, before its diagnostics (from its models of this text, never older
 * ones); then its diagnostics, which must be the fresh server's.
 */
async function hoversAfterEachEdit(fixture: string, steps: ((text: string) => string)[], asked: (line: number) => boolean = () => true, name = fixture): Promise<string> {
  const hoverUri = fileUri(join(FIXTURES, name));
  let text = fixtureText(fixture);
  await session.open(hoverUri, text);
  await session.diagnostics(hoverUri);
  for (const step of steps) {
    const next = step(text);
    expect(next).not.toBe(text);
    text = next;
    const reference = await LspSession.start();
    let expected: unknown[];
    let positions: { line: number; character: number }[];
    try {
      await reference.open(hoverUri, text);
      const { models } = await reference.connection.sendRequest(ModelsRequest, { uri: hoverUri });
      positions = models.flatMap((m) => m.model.layers.flatMap((l) => [l.range.start, ...(l.activation?.range ? [l.activation.range.start] : [])])).filter((p) => asked(p.line));
      expect(positions.length).toBeGreaterThan(3);
      expected = await Promise.all(positions.map((p) => reference.hover(hoverUri, p.line, p.character)));
    } finally {
      await reference.stop();
    }
    await session.change(hoverUri, text);
    expect(await Promise.all(positions.map((p) => session.hover(hoverUri, p.line, p.character)))).toEqual(expected);
    expect(stable(await session.diagnostics(hoverUri))).toEqual(stable(await fresh(text, hoverUri)));
  }
  return hoverUri;
}
