/** Diagnostics over real JSON-RPC: codes, ranges, links, related locations, tags, incremental edits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, DiagnosticTag } from 'vscode-languageserver-protocol';
import { BLOCK_IN_MODELS, LspSession, codes, fileUri, fixtureText, FIXTURES, positionOf } from './harness';
import { defined } from '../defined';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

const uriOf = (name: string) => fileUri(join(FIXTURES, name));

describe('diagnostics', () => {
  it('reports GL202 and GL102 on the tanh MLP, each on its own line, with docs link and related layers', async () => {
    const uri = uriOf('torch_mlp.py');
    const text = fixtureText('torch_mlp.py');
    await session.open(uri, text);
    const diagnostics = await session.diagnostics(uri);
    expect(codes(diagnostics).sort()).toEqual(['GL102', 'GL202']);

    const gl202 = defined(diagnostics.find((d) => d.code === 'GL202'));
    expect(gl202.range.start).toEqual(positionOf(text, 'nn.init.kaiming_normal_'));
    expect(gl202.source).toBe('gradient-lens');
    // The He-scaled tanh MLP is predicted attenuated, not vanishing, at initialization: information, with the number.
    expect(gl202.severity).toBe(DiagnosticSeverity.Information);
    expect(gl202.message).toMatch(/Predicted attenuated: the first layer gets ~[\d.]+ of the last hidden layer's gradient at initialization\.$/);
    // The rule's page shipped with the extension (a file that exists), not a web address.
    const docs = gl202.codeDescription?.href ?? '';
    expect(docs).toMatch(/^file:\/\/.*\/docs\/rules\/GL202\.md$/);
    expect(readFileSync(fileURLToPath(docs), 'utf8')).toMatch(/^# GL202/m);
    expect(gl202.message).toMatch(/tanh/);
    expect(gl202.relatedInformation?.length).toBeGreaterThan(0);
    for (const related of gl202.relatedInformation ?? []) expect(related.location.uri).toBe(uri);

    const gl102 = defined(diagnostics.find((d) => d.code === 'GL102'));
    expect(gl102.range.start.line).toBe(positionOf(text, 'torch.softmax').line);
  });

  it('reports a block\'s problem once, naming the models and instances that hold it as related locations', async () => {
    const uri = uriOf(BLOCK_IN_MODELS);
    const text = fixtureText(BLOCK_IN_MODELS);
    await session.open(uri, text);
    const diagnostics = await session.diagnostics(uri);
    expect(codes(diagnostics)).toEqual(['GL302']);
    const gl302 = defined(diagnostics[0]);
    expect(gl302.range.start).toEqual(positionOf(text, 'nn.Conv2d'));
    expect(gl302.message).toMatch(/^'conv' adds a bias .* \(also in Net\(\) at line 28: b1, b2; Net\(\) at line 32: b1, b2\)$/);
    expect(gl302.relatedInformation?.map((r) => `${r.message}@${r.location.range.start.line}`)).toEqual([
      "BatchNorm 'bn' cancels the bias@10",
      'also in Net() at line 28: b1, b2@27',
      'also in Net() at line 32: b1, b2@31',
    ]);
  });

  it('reports nothing on the clean twin', async () => {
    const uri = uriOf('torch_mlp_clean.py');
    await session.open(uri, fixtureText('torch_mlp_clean.py'));
    expect(await session.diagnostics(uri)).toEqual([]);
  });

  it('follows incremental edits: fixing the activation in place clears GL202, undoing brings it back', async () => {
    const uri = 'untitled:Untitled-edit';
    const text = fixtureText('torch_mlp.py');
    await session.open(uri, text);
    expect(codes(await session.diagnostics(uri))).toContain('GL202');

    // Type the fix the way a user does: replace "relu" inside nonlinearity="relu" character by character.
    const at = positionOf(text, 'nonlinearity="relu"', 'nonlinearity="'.length);
    await session.edit(uri, [{ range: { start: at, end: { line: at.line, character: at.character + 4 } }, newText: '' }]);
    for (const [i, ch] of [...'tanh'].entries()) {
      await session.edit(uri, [{ range: { start: { line: at.line, character: at.character + i }, end: { line: at.line, character: at.character + i } }, newText: ch }]);
    }
    expect(session.text(uri)).toContain('nonlinearity="tanh"');
    expect(codes(await session.diagnostics(uri))).toEqual(['GL102']);

    await session.change(uri, text);
    expect(codes(await session.diagnostics(uri)).sort()).toEqual(['GL102', 'GL202']);
  });

  it('sends the findings again with the new version after an edit that leaves the text as it was', async () => {
    const uri = 'untitled:Untitled-no-op';
    await session.open(uri, fixtureText('torch_mlp.py'));
    const first = codes(await session.diagnostics(uri));
    expect(first).toContain('GL202');
    // An empty change (a client sends one when an edit is undone within one notification): version 2, same text.
    await session.edit(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '' }]);
    expect(codes(await session.diagnostics(uri))).toEqual(first);
  });

  it('marks a removable finding as unnecessary only when its safe fix deletes it, and keeps the bias finding plain', async () => {
    const uri = uriOf('torch_tanh_stack.py');
    const text = fixtureText('torch_tanh_stack.py');
    await session.open(uri, text);
    const diagnostics = await session.diagnostics(uri);
    expect(codes(diagnostics).sort()).toEqual(['GL101', 'GL302']);
    const gl302 = defined(diagnostics.find((d) => d.code === 'GL302'));
    // Its fix adds `bias=False`; the layer itself is needed, so it must not be faded.
    expect(gl302.tags ?? []).not.toContain(DiagnosticTag.Unnecessary);
    expect(gl302.range.start).toEqual(positionOf(text, 'nn.Linear(256, 128)'));
  });

  it('still lints a file with a syntax error and says where the error is', async () => {
    const uri = 'untitled:Untitled-broken';
    const text = `${fixtureText('torch_mlp.py')}\n\nmodel = TanhMLP(\nprint("training"`;
    await session.open(uri, text);
    const diagnostics = await session.diagnostics(uri);
    expect(codes(diagnostics), JSON.stringify(diagnostics)).toContain('GL202');
    const syntax = diagnostics.find((d) => d.code === undefined && /syntax/i.test(typeof d.message === 'string' ? d.message : d.message.value));
    expect(syntax, JSON.stringify(diagnostics)).toBeDefined();
    expect(defined(syntax).range.start.line).toBeGreaterThanOrEqual(positionOf(text, 'model = TanhMLP(').line);
  });

  it('clears diagnostics when the document closes', async () => {
    const uri = uriOf('torch_mlp.py');
    const before = session.publishCount(uri);
    await session.close(uri);
    await session.diagnosticsWhere(uri, (d) => d.length === 0 && session.publishCount(uri) > before, 'cleared diagnostics');
  });
});
