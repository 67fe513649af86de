/** Inline hints over real JSON-RPC: the predicted std and gradient ratio on each layer line, switchable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { InlayHintRequest, type InlayHint } from 'vscode-languageserver-protocol';
import { MeasuredLinesNotification } from '../../src/shared/protocol';
import { LspSession, fileUri, fixtureText, FIXTURES } from './harness';
import { defined } from '../defined';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

async function hintsFor(name: string, on: LspSession = session): Promise<InlayHint[]> {
  const uri = fileUri(join(FIXTURES, name));
  await on.open(uri, fixtureText(name));
  await on.diagnostics(uri);
  const hints = await on.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } });
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
    const grad = (hint: InlayHint) => Number(defined(/∇ (\S+)$/.exec(labelOf(hint)))[1]);
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

  it('after a probe, hints give way to the measured values at once: the server drops them on the measured lines and asks the client to refresh', async () => {
    const refreshing = await LspSession.start({ inlayHintRefresh: true });
    try {
      const name = 'keras_sigmoid_stack.py';
      const uri = fileUri(join(FIXTURES, name));
      expect((await hintsFor(name, refreshing)).map((h) => h.position.line)).toEqual([5, 6, 7, 8, 9]);
      const before = refreshing.inlayHintRefreshes;
      await refreshing.connection.sendNotification(MeasuredLinesNotification, { uri, lines: [5, 6, 7] });
      await refreshing.inlayHintRefreshAfter(before);
      expect((await hintsFor(name, refreshing)).map((h) => h.position.line)).toEqual([8, 9]);
      // The probe went stale (an edit): the predicted hints come back, again with a refresh.
      const stale = refreshing.inlayHintRefreshes;
      await refreshing.connection.sendNotification(MeasuredLinesNotification, { uri, lines: [] });
      await refreshing.inlayHintRefreshAfter(stale);
      expect((await hintsFor(name, refreshing)).map((h) => h.position.line)).toEqual([5, 6, 7, 8, 9]);
      // A malformed notification changes nothing and does not hurt the server.
      await refreshing.connection.sendNotification(MeasuredLinesNotification.method, { uri, lines: 'all' });
      expect((await hintsFor(name, refreshing)).map((h) => h.position.line)).toEqual([5, 6, 7, 8, 9]);
      expect(refreshing.alive).toBe(true);
    } finally {
      await refreshing.stop();
    }
  });

  it('a client without refresh support gets no refresh request, and its next hint request leaves the measured lines out', async () => {
    const name = 'keras_sigmoid_stack.py';
    const uri = fileUri(join(FIXTURES, name));
    await session.connection.sendNotification(MeasuredLinesNotification, { uri, lines: [9] });
    expect((await hintsFor(name)).map((h) => h.position.line)).toEqual([5, 6, 7, 8]);
    expect(session.inlayHintRefreshes).toBe(0);
    await session.connection.sendNotification(MeasuredLinesNotification, { uri, lines: [] });
    expect((await hintsFor(name)).map((h) => h.position.line)).toEqual([5, 6, 7, 8, 9]);
  });
});
