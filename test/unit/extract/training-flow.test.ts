/** Value flow used by the training pass: which definition reaches a use, and where a value comes from. */
import { describe, expect, it } from 'vitest';
import { originOf } from '../../../src/analysis/extract/training/flow';
import { parsePython } from './training-helpers';
import { defined } from '../../defined';

/** The origin (as text) of the last occurrence of `name` in `use(...)`, the probe call at the end of the source. */
async function originText(src: string): Promise<string | null> {
  const file = await parsePython('flow.py', src);
  const probes = file.root.descendantsOfType('call').filter((c) => c.childForFieldName('function')?.text === 'use');
  const arg = defined(defined(defined(probes.at(-1)).childForFieldName('arguments')).namedChild(0));
  return originOf(arg, (n) => file.imports.resolveNode(n))?.text ?? null;
}

describe('originOf', () => {
  it('takes the last unconditional assignment before the use', async () => {
    expect(await originText('x = A()\nx = B()\nuse(x)\nx = C()\n')).toBe('B()');
  });

  it('is unknown when the last assignment is in a branch the use is not in', async () => {
    expect(await originText('x = A()\nif flag:\n    x = B()\nuse(x)\n')).toBeNull();
    expect(await originText('try:\n    x = A()\nexcept ImportError:\n    x = B()\nuse(x)\n')).toBeNull();
    expect(await originText('if flag:\n    x = B()\n    use(x)\n')).toBe('B()');
  });

  it('does not follow loop variables or with-targets', async () => {
    expect(await originText('x = A()\nfor x in items:\n    use(x)\n')).toBeNull();
    expect(await originText('with open(p) as x:\n    use(x)\n')).toBeNull();
  });

  it('maps tuple assignments element by element and sees through .to(device) and DataParallel', async () => {
    expect(await originText('a, b = A(), B()\nuse(b)\n')).toBe('B()');
    expect(await originText('import torch\nnet = Net()\nnet = net.to("cuda")\nnet = torch.nn.DataParallel(net)\nuse(net)\n')).toBe('Net()');
  });

  it('traces parameters to call sites that agree, and not to ones that disagree', async () => {
    expect(await originText('def f(m):\n    use(m)\n\nf(Net())\n')).toBe('Net()');
    expect(await originText('def f(m):\n    use(m)\n\nf(Net())\nf(Other())\n')).toBeNull();
    expect(await originText('def f(m=Default()):\n    use(m)\n\nf()\n')).toBe('Default()');
  });

  it('follows self attributes assigned once, through the constructor call site', async () => {
    const src = 'class T:\n    def __init__(self, model):\n        self.model = model\n\n    def go(self):\n        use(self.model)\n\nT(model=Net())\n';
    expect(await originText(src)).toBe('Net()');
  });
});
