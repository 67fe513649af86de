/** Code actions over real JSON-RPC: every offered edit, applied, makes re-analysis drop the finding. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { BLOCK_IN_MODELS, LspSession, codes, fixtureText, positionOf } from './harness';
import { defined } from '../defined';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

let documents = 0;
/** Opens a fixture as a fresh untitled document (each test edits its own copy). */
async function openCopy(name: string, text = fixtureText(name)): Promise<{ uri: string; diagnostics: Diagnostic[] }> {
  const uri = `untitled:Untitled-${++documents}`;
  await session.open(uri, text);
  return { uri, diagnostics: await session.diagnostics(uri) };
}

async function actionsFor(uri: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
  return session.codeActions(uri, diagnostic.range, [diagnostic]);
}

// BLOCK_IN_MODELS: the fix on a problem found in several models (one merged diagnostic).
const FIXTURES_WITH_FIXES = ['torch_mlp.py', 'torch_tanh_stack.py', BLOCK_IN_MODELS];

describe('code actions', () => {
  for (const name of FIXTURES_WITH_FIXES) {
    it(`each fix offered on ${name} removes its finding when applied`, async () => {
      const { diagnostics } = await openCopy(name);
      let fixesTried = 0;
      for (const diagnostic of diagnostics.filter((d) => d.code)) {
        const { uri } = await openCopy(name);
        const fixes = (await actionsFor(uri, diagnostic)).filter((a) => a.diagnostics?.length && !a.title.startsWith('Ignore '));
        for (const fix of fixes) {
          const { uri: copy } = await openCopy(name);
          await session.applyWorkspaceEdit(copy, rewrite(fix, uri, copy));
          const after = await session.diagnostics(copy);
          expect(after.filter((d) => d.code === diagnostic.code && d.range.start.line === diagnostic.range.start.line), `${fix.title} on ${diagnostic.code}`).toEqual([]);
          fixesTried++;
        }
      }
      expect(fixesTried).toBeGreaterThan(0);
    });
  }

  it('prefers the safe fix and labels an unsafe one', async () => {
    const { uri, diagnostics } = await openCopy('torch_tanh_stack.py');
    const gl302 = (await actionsFor(uri, defined(diagnostics.find((d) => d.code === 'GL302')))).find((a) => a.title.includes('bias=False'));
    expect(gl302?.isPreferred).toBe(true);
    const gl101 = (await actionsFor(uri, defined(diagnostics.find((d) => d.code === 'GL101')))).filter((a) => a.title.includes('unsafe'));
    expect(gl101.length).toBeGreaterThan(0);
    for (const action of gl101) expect(action.isPreferred).toBe(false);
  });

  it('"Ignore GL202 on this line" writes a noqa comment the analyzer honours', async () => {
    const { uri, diagnostics } = await openCopy('torch_mlp.py');
    const gl202 = defined(diagnostics.find((d) => d.code === 'GL202'));
    const ignore = defined((await actionsFor(uri, gl202)).find((a) => a.title === 'Ignore GL202 on this line'));
    await session.applyWorkspaceEdit(uri, ignore.edit);
    expect(session.text(uri).split('\n')[gl202.range.start.line]).toMatch(/nonlinearity="relu"\) {2}# noqa: GL202$/);
    expect(codes(await session.diagnostics(uri))).toEqual(['GL102']);
  });

  it('merges the code into an existing noqa comment instead of adding a second one', async () => {
    const text = fixtureText('torch_mlp.py').replace('nonlinearity="relu")', 'nonlinearity="relu")  # noqa: E501');
    const { uri, diagnostics } = await openCopy('torch_mlp.py', text);
    const ignore = defined((await actionsFor(uri, defined(diagnostics.find((d) => d.code === 'GL202')))).find((a) => a.title === 'Ignore GL202 on this line'));
    await session.applyWorkspaceEdit(uri, ignore.edit);
    expect(session.text(uri)).toContain('nonlinearity="relu")  # noqa: E501, GL202\n');
    expect(codes(await session.diagnostics(uri))).toEqual(['GL102']);
  });

  it('"Fix all safe problems in this file" applies every safe fix at once', async () => {
    const { uri, diagnostics } = await openCopy('torch_tanh_stack.py');
    const fixAll = (await session.codeActions(uri, diagnostics[0]!.range, [], ['source.fixAll'])).find((a) => a.kind === 'source.fixAll.gradientLens');
    expect(fixAll?.title).toBe('Fix all safe problems in this file');
    await session.applyWorkspaceEdit(uri, defined(fixAll).edit);
    expect(session.text(uri)).toContain('nn.Linear(256, 128, bias=False)');
    // Only the unsafe GL101 fix is left for the user to decide.
    expect(codes(await session.diagnostics(uri))).toEqual(['GL101']);
  });

  it('refuses actions for diagnostics of an older version of the text', async () => {
    const { uri, diagnostics } = await openCopy('torch_mlp.py');
    const stale = defined(diagnostics.find((d) => d.code === 'GL202'));
    const at = positionOf(session.text(uri), 'import torch');
    await session.edit(uri, [{ range: { start: at, end: at }, newText: '# a new first line\n' }]);
    await session.diagnostics(uri);
    expect(await actionsFor(uri, stale)).toEqual([]);
  });
});

/** A fix computed for one copy of a fixture, retargeted at another identical copy. */
function rewrite(action: CodeAction, from: string, to: string): CodeAction['edit'] {
  const changes = action.edit?.changes ?? {};
  return { changes: { [to]: changes[from] ?? [] } };
}
