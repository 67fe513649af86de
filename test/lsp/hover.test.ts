/** Hovers over real JSON-RPC: the numbers of the hovered layer, defaults on the constructor, activations, rule codes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Hover } from 'vscode-languageserver-protocol';
import { LspSession, fileUri, fixtureText, FIXTURES, positionOf } from './harness';
import { defined } from '../defined';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

function markdown(hover: Hover | null): string {
  expect(hover, 'a hover').not.toBeNull();
  const contents = defined(hover).contents;
  return typeof contents === 'object' && 'value' in contents ? contents.value : JSON.stringify(contents);
}

async function hoverOn(name: string, needle: string, offset = 1, occurrence = 0): Promise<Hover | null> {
  const uri = fileUri(join(FIXTURES, name));
  const text = fixtureText(name);
  await session.open(uri, text);
  const at = positionOf(text, needle, offset, occurrence);
  return session.hover(uri, at.line, at.character);
}

describe('hover', () => {
  it('explains an explicit nn.init call with this layer\'s fan-in, fan-out and std, and flags the mismatch', async () => {
    const hover = await hoverOn('torch_mlp.py', 'nn.init.kaiming_normal_', 10);
    const text = markdown(hover);
    // fc1 = nn.Linear(64, 128): He normal for ReLU has std sqrt(2 / 64).
    expect(text).toContain('fan_in = 64');
    expect(text).toContain('fan_out = 128');
    expect(text).toContain(Math.sqrt(2 / 64).toPrecision(4));
    // The layer's activation is tanh: Glorot's variance-preserving std is sqrt(2 / (64 + 128)).
    expect(text).toContain(Math.sqrt(2 / (64 + 128)).toPrecision(4));
    expect(text).toMatch(/does not match/);
    expect(text).toMatch(/He et al\. 2015/);
    expect(defined(hover).range?.start).toEqual(positionOf(fixtureText('torch_mlp.py'), 'nn.init.kaiming_normal_'));
  });

  it('shows the PyTorch default initializer on a layer constructor that writes none', async () => {
    const text = markdown(await hoverOn('torch_mlp.py', 'nn.Linear(hidden, hidden)', 4));
    expect(text).toMatch(/framework default/);
    // nn.Linear(128, 128) default: U(-1/sqrt(128), 1/sqrt(128)).
    expect(text).toContain('fan_in = 128');
    expect(text).toContain((1 / Math.sqrt(128)).toPrecision(4));
  });

  it('explains an activation: range, derivative bound and the init that suits it', async () => {
    const text = markdown(await hoverOn('torch_mlp.py', 'nn.Tanh()', 4));
    expect(text).toContain('(-1, 1)');
    expect(text).toMatch(/max derivative/);
    expect(text).toMatch(/xavier_uniform_/);
    expect(text).toMatch(/Glorot & Bengio 2010/);
  });

  it('explains a normalization layer and its placement', async () => {
    const text = markdown(await hoverOn('torch_tanh_stack.py', 'nn.BatchNorm1d', 4));
    expect(text).toMatch(/Batch normalization/);
    expect(text).toMatch(/Ioffe & Szegedy 2015/);
    expect(text).toMatch(/redundant/);
  });

  it('shows a rule\'s docs on its code in a noqa or ignore comment, and nothing on other text', async () => {
    const uri = 'untitled:Untitled-noqa';
    const source = `${fixtureText('torch_tanh_stack.py').replace('nn.Tanh(),', 'nn.Tanh(),  # noqa: E501, GL101')}\n# gradient-lens: ignore-file[GL302]\n`;
    await session.open(uri, source);
    const onCode = positionOf(source, 'GL101', 2);
    const rule = markdown(await session.hover(uri, onCode.line, onCode.character));
    expect(rule).toContain('GL101');
    expect(rule).toContain('saturating-activation-stack');
    expect(rule).toMatch(/## Why is this bad\?/);
    expect(rule).toMatch(/docs\/rules\/GL101\.md/);

    const fileLevel = positionOf(source, 'GL302', 1);
    expect(markdown(await session.hover(uri, fileLevel.line, fileLevel.character))).toContain('bias-before-batchnorm');

    const otherTool = positionOf(source, 'E501', 1);
    expect(await session.hover(uri, otherTool.line, otherTool.character)).toBeNull();
    const blank = positionOf(source, 'from torch import nn', 2);
    expect(await session.hover(uri, blank.line, blank.character)).toBeNull();
  });
});
