/**
 * Cancellation over real JSON-RPC (issue 10): a newer edit stops the analysis of the older text, only
 * the newest text's diagnostics are published (and they are those of a fresh analysis of it), requests
 * waiting for a cancelled analysis are answered from the newer text, and a request the client cancels
 * is answered without waiting for the analysis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancellationTokenSource, HoverRequest, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { LspSession, fixtureText, positionOf } from './harness';

/** A long file of real model code (copies of the tanh-stack fixture, each its own model), long enough that analyzing it takes a while. */
const COPIES = 600;
const BLOCK = fixtureText('torch_tanh_stack.py');
const TEXT = Array.from({ length: COPIES }, (_, i) => BLOCK.replace('regressor = ', `regressor_${i} = `)).join('\n');
const MIDDLE = Math.floor(COPIES / 2);

/** No watchdog here: on a loaded machine the long file's analysis may take longer than the default limit. */
const OPTIONS = { initializationOptions: { analysisTimeoutMs: 600_000 } };

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start(OPTIONS);
});
afterAll(async () => {
  await session.stop();
});

/** Resolves once the server has an analysis in its worker (the one an edit just started). */
async function analysisRunning(s: LspSession): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await s.status()).runningAnalyses > 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('no analysis started');
}

/** `nn.Tanh()` -> `nn.ReLU()` (or back) in copy `copy`: the findings of that model change. */
function flipEdit(text: string, copy: number, to: 'ReLU' | 'Tanh') {
  const from = to === 'ReLU' ? 'Tanh' : 'ReLU';
  const start = positionOf(text, `regressor_${copy} = `);
  const at = positionOf(text.split('\n').slice(start.line).join('\n'), `nn.${from}()`, 3);
  const line = start.line + at.line;
  return { range: { start: { line, character: at.character }, end: { line, character: at.character + from.length } }, newText: to };
}

const shape = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${String(d.code)}@${d.range.start.line}:${d.range.start.character}`);

async function freshDiagnostics(text: string): Promise<Diagnostic[]> {
  const fresh = await LspSession.start(OPTIONS);
  try {
    const uri = 'untitled:Untitled-fresh';
    await fresh.open(uri, text);
    return await fresh.diagnostics(uri, 120_000);
  } finally {
    await fresh.stop();
  }
}

describe('cancellation', () => {
  it('a newer edit cancels the analysis of the older text; only the newest diagnostics are published, equal to a fresh analysis', async () => {
    const uri = 'untitled:Untitled-cancel';
    await session.open(uri, TEXT);
    await session.diagnostics(uri, 120_000);
    const before = await session.status();
    // The older analysis may finish before the newer edit arrives on a fast machine: try a few times.
    let cancelled = false;
    for (let attempt = 0; attempt < 5 && !cancelled; attempt++) {
      const published = session.publishCount(uri);
      await session.edit(uri, [flipEdit(session.text(uri), MIDDLE + attempt, 'ReLU')]);
      await analysisRunning(session);
      await session.edit(uri, [flipEdit(session.text(uri), MIDDLE - attempt - 1, 'ReLU')]);
      await session.diagnostics(uri, 120_000);
      const status = await session.status();
      cancelled = status.cancelledAnalyses > before.cancelledAnalyses;
      // When the older analysis was stopped, nothing was published for its text.
      if (cancelled) expect(session.publishCount(uri)).toBe(published + 1);
    }
    expect(cancelled).toBe(true);
    expect(shape(await session.diagnostics(uri))).toEqual(shape(await freshDiagnostics(session.text(uri))));
    await session.close(uri);
  }, 600_000);

  it('a hover waiting for a cancelled analysis is answered from the newer text', async () => {
    const uri = 'untitled:Untitled-hover-after-cancel';
    await session.open(uri, TEXT);
    await session.diagnostics(uri, 120_000);
    const layer = positionOf(session.text(uri), 'nn.Tanh()', 3, MIDDLE * 3);
    await session.edit(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '# first edit\n' }]);
    await analysisRunning(session);
    const hover = session.hover(uri, layer.line + 1, layer.character);
    // The second edit turns the hovered layer into a ReLU: the hover must describe the ReLU.
    await session.edit(uri, [{ range: { start: { line: layer.line + 1, character: layer.character }, end: { line: layer.line + 1, character: layer.character + 4 } }, newText: 'ReLU' }]);
    const contents = JSON.stringify(await hover);
    expect(contents).toMatch(/ReLU/);
    expect(contents).not.toMatch(/Tanh/);
    await session.close(uri);
  }, 600_000);

  it('a hover the client cancels is answered without waiting for the analysis, which goes on to publish', async () => {
    const uri = 'untitled:Untitled-hover-cancelled';
    await session.open(uri, TEXT);
    await session.diagnostics(uri, 120_000);
    const published = session.publishCount(uri);
    await session.edit(uri, [flipEdit(session.text(uri), MIDDLE, 'ReLU')]);
    await analysisRunning(session);
    const source = new CancellationTokenSource();
    const hover = session.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: positionOf(session.text(uri), 'nn.Linear(', 3, MIDDLE * 4) }, source.token);
    source.cancel();
    // Answered (null, or the protocol's RequestCancelled error) while the analysis still runs.
    const answer = await hover.then((value) => value, (error: unknown) => error);
    expect(answer === null || (answer instanceof Error && /cancel/i.test(answer.message))).toBe(true);
    expect(session.publishCount(uri)).toBe(published);
    expect((await session.diagnostics(uri, 120_000)).length).toBeGreaterThan(0);
    await session.close(uri);
  }, 600_000);
});
