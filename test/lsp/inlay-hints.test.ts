/** Inline hints over real JSON-RPC: the predicted std and gradient ratio on each layer line, switchable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { InlayHintRequest, type InlayHint } from 'vscode-languageserver-protocol';
import { LspSession, fileUri, fixtureText, FIXTURES } from './harness';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

async function hintsFor(name: string): Promise<InlayHint[]> {
  const uri = fileUri(join(FIXTURES, name));
  await session.open(uri, fixtureText(name));
  await session.diagnostics(uri);
  const hints = await session.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } });
  return hints ?? [];
}

/** The settings change is a notification: ask until the count settles (or 5 s pass). */
async function hintsUntil(name: string, done: (count: number) => boolean): Promise<number> {
  let count = -1;
  for (let attempt = 0; attempt < 50; attempt++) {
    count = (await hintsFor(name)).length;
    if (done(count)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return count;
}

const labelOf = (hint: InlayHint): string => (typeof hint.label === 'string' ? hint.label : hint.label.map((p) => p.value).join(''));

describe('inlay hints', () => {
  it('puts the predicted std and gradient ratio at the end of every layer call', async () => {
    const hints = await hintsFor('keras_sigmoid_stack.py');
    // Five Dense layers on lines 6-10 (0-based 5-9), each hint at the end of its call.
    expect(hints.map((h) => h.position.line)).toEqual([5, 6, 7, 8, 9]);
    for (const hint of hints) expect(labelOf(hint)).toMatch(/^predicted σ [\d.e-]+ · ∇ [\d.e-]+$/);
    // The first layer of this sigmoid stack gets a far smaller share of the gradient than the output layer (∇ 1).
    const grad = (hint: InlayHint) => Number(/∇ (\S+)$/.exec(labelOf(hint))![1]);
    expect(grad(hints[4]!)).toBe(1);
    expect(grad(hints[0]!)).toBeLessThan(grad(hints[3]!));
    expect(grad(hints[0]!)).toBeLessThan(0.1);
    const tooltip = hints[0]!.tooltip;
    expect(typeof tooltip === 'string' ? tooltip : tooltip?.value).toMatch(/Predicted at initialization/);
  });

  it('is switched off by gradientLens.inlayHints.predicted = false', async () => {
    await session.setSettings({ inlayHints: { predicted: false } });
    expect(await hintsUntil('keras_sigmoid_stack.py', (n) => n === 0)).toBe(0);
    await session.setSettings({});
    expect(await hintsUntil('keras_sigmoid_stack.py', (n) => n === 5)).toBe(5);
  });
});
