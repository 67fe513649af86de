/**
 * `gradientLens/givenModel` over real JSON-RPC: a class nobody in the workspace calls, built with the
 * arguments the user types (the editor's counterpart of `probe --arg`), analyzed in the worker in the
 * file's place; the document's own models and diagnostics stay as they were.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GivenModelRequest, ModelsRequest, isGivenModelResult } from '../../src/shared/protocol';
import { LspSession, fileUri } from './harness';
import { defined } from '../defined';

const PATH = join(__dirname, '../fixtures/probe-arguments/torch_attention_no_caller.py');
const TEXT = readFileSync(PATH, 'utf8');
const uri = fileUri(PATH);

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
  await session.open(uri, TEXT);
});
afterAll(async () => {
  await session.stop();
});

const own = async () => (await session.connection.sendRequest(ModelsRequest, { uri })).models.map((m) => m.model);
const given = async (args: string | null) => {
  const [model] = await own();
  return session.connection.sendRequest(GivenModelRequest, { uri, modelId: defined(model).id, arguments: args });
};

describe('gradientLens/givenModel', () => {
  it('names the class and the parameters a call can set, for the input box', async () => {
    expect(await given(null)).toEqual({ definition: 'MultiHeadAttention', parameters: ['d_model', 'num_heads'], model: null, problem: null });
  });

  it('builds the class with the arguments typed, named after the call; the document keeps its own model', async () => {
    const before = await own();
    const diagnostics = await session.diagnostics(uri);
    const result = await given('d_model=64, num_heads=(4)');
    expect(isGivenModelResult(result)).toBe(true);
    expect(result.problem).toBeNull();
    const model = defined(result.model).model;
    expect(model.name).toBe('MultiHeadAttention(d_model=64, num_heads=(4))');
    expect(model.layers.filter((l) => l.kind === 'dense').map((l) => [l.name, l.inFeatures, l.units])).toEqual([
      ['W_q', 64, 64],
      ['W_k', 64, 64],
      ['W_v', 64, 64],
      ['W_o', 64, 64],
    ]);
    // The heads' view reads the sizes given: (T, 4, 16).
    const views = model.layers.filter((l) => l.kind === 'reshape' && l.reshape.op === 'view').map((l) => (l.kind === 'reshape' && l.reshape.op === 'view' ? l.reshape.dims?.slice(2) : null));
    expect(views.slice(0, 3)).toEqual([[4, 16], [4, 16], [4, 16]]);
    expect(await own()).toEqual(before);
    expect(await session.diagnostics(uri)).toEqual(diagnostics);
  });

  it('says what is wrong with what was typed, in the terms of the definition', async () => {
    expect((await given('heads=4')).problem).toBe('MultiHeadAttention has no parameter heads (its parameters: d_model, num_heads)');
    expect((await given('d_model=width')).problem).toMatch(/^the value of d_model \("width"\) is not a Python literal/);
    expect((await given('')).problem).toBe('no NAME=VALUE argument given');
    expect((await given('d_model=64, d_model=32')).problem).toBe('d_model is given twice');
  });
});
