/** `gradientLens/models` over real JSON-RPC: the models of a document with their findings' what-ifs (the probe's CodeLens source). */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsRequest, type ModelsResult } from '../../src/shared/protocol';
import { applyEdits } from '../unit/rules/ir-builder';
import { LspSession, fileUri, fixtureText, FIXTURES } from './harness';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

async function modelsOf(name: string): Promise<ModelsResult> {
  const uri = fileUri(join(FIXTURES, name));
  await session.open(uri, fixtureText(name));
  return session.connection.sendRequest(ModelsRequest, { uri });
}

describe('gradientLens/models', () => {
  it('returns the sigmoid stack with its layers and the GL101 what-if and text fix', async () => {
    const result = await modelsOf('keras_sigmoid_stack.py');
    expect(result.models).toHaveLength(1);
    const { model, whatIfs } = result.models[0]!;
    expect(model.framework).toBe('keras');
    expect(model.layers.filter((l) => l.kind === 'dense').length).toBeGreaterThanOrEqual(4);
    const gl101 = whatIfs.find((w) => w.code === 'GL101');
    expect(gl101?.whatIf.ops.length).toBeGreaterThan(0);
    expect(gl101?.fixes.length).toBeGreaterThan(0);
  });

  it('gives one what-if per rule: BatchNorm after relu in four conv blocks is one GL301 entry, all places fixed at once', async () => {
    const result = await modelsOf('keras_cifar_bn_after_relu.py');
    const [{ whatIfs }] = result.models as [(typeof result.models)[number]];
    expect(whatIfs.map((w) => w.code)).toEqual(['GL301']);
    const [gl301] = whatIfs as [(typeof whatIfs)[number]];
    expect(gl301.lines).toEqual([8, 10, 13, 15]);
    expect(gl301.whatIf.title).toBe('BatchNorm before relu (4 places)');
    // Each place: relu off the conv, an Activation after the BatchNorm, no conv bias.
    expect(gl301.whatIf.ops.filter((o) => o.op === 'insert-after')).toHaveLength(4);
    expect(gl301.whatIf.ops.filter((o) => o.op === 'set-use-bias')).toHaveLength(4);
    expect(gl301.fixes).toHaveLength(1);
    const edited = applyEdits(fixtureText('keras_cifar_bn_after_relu.py'), gl301.fixes[0]!.edits);
    expect(edited.match(/layers\.Activation\("relu"\)/g)).toHaveLength(4);
    expect(edited.match(/use_bias=False/g)).toHaveLength(4);
    expect(edited).not.toMatch(/Conv2D\([^)]*activation=/);
  });

  it('returns the clean twin with no what-if, and nothing for a document that is not open', async () => {
    const clean = await modelsOf('keras_relu_he.py');
    expect(clean.models).toHaveLength(1);
    expect(clean.models[0]!.whatIfs).toEqual([]);
    const closed = await session.connection.sendRequest(ModelsRequest, { uri: fileUri(join(FIXTURES, 'not-open.py')) });
    expect(closed.models).toEqual([]);
  });
});
