/**
 * Activations written by hand as a formula of one tensor are read as the catalog activation they compute:
 * GELU's tanh, erf and sigmoid forms (GPT-2 and BERT ports), swish, mish; anything else stays unknown.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { descendantsOfType } from '../../../src/analysis/python/syntax';
import { activationOfFormula } from '../../../src/analysis/python/elementwise-formula';
import { defined } from '../../defined';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const IMPORTS = 'import math\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\nimport tensorflow as tf\n\n';

/** The activation the file's only function (a method when it takes `self`) computes. */
function activationOf(body: string, params = 'x'): string | null {
  const file = PyFile.parse(parser, 'm.py', `${IMPORTS}def f(${params}):\n${body}\n`);
  const def = defined(descendantsOfType(file.syntax.rootNode, 'function_definition')[0]);
  return activationOfFormula(def, params.startsWith('self'), 'torch', (head) => file.imports.has(head));
}

describe('an activation written as a formula', () => {
  it.each([
    ['GPT-2 GELU (tanh form, torch.pow)', '    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))', 'gelu'],
    ['BERT GELU (erf form)', '    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))', 'gelu'],
    ['GELU as a method, x.pow and a docstring', '    """GELU."""\n    return 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x.pow(3))))', 'gelu'],
    ['GELU in two statements (TensorFlow)', '    cdf = 0.5 * (1.0 + tf.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * tf.pow(x, 3))))\n    return x * cdf', 'gelu'],
    ['quick GELU (sigmoid form)', '    return x * torch.sigmoid(1.702 * x)', 'gelu'],
    ['swish', '    return x * torch.sigmoid(x)', 'swish'],
    ['swish as a method of the tensor', '    return x * x.sigmoid()', 'swish'],
    ['mish', '    return x * torch.tanh(F.softplus(x))', 'mish'],
  ])('%s', (_, body, expected) => {
    expect(activationOf(body)).toBe(expected);
  });

  it('reads a module forward after self', () => {
    expect(activationOf('    return x * torch.sigmoid(x)', 'self, x')).toBe('swish');
  });

  it('reads a parameter with a type annotation', () => {
    expect(activationOf('    return x * torch.sigmoid(x)', 'self, x: torch.Tensor')).toBe('swish');
  });

  it.each([
    ['a scale', '    return 2 * x'],
    ['an exponential', '    return torch.exp(x)'],
    ['a module attribute', '    return x * self.gain', 'self, x'],
    ['a name the function does not bind', '    return x * scale'],
    ['a function of the file', '    return helper(x)'],
    ['a branch', '    if x is None:\n        return x\n    return x * torch.sigmoid(x)'],
    ['two tensor parameters', '    return x * torch.sigmoid(y)', 'x, y'],
    ['a keyword argument', '    return torch.pow(x, exponent=3)'],
    ['a library that is not imported', '    return x * jax.nn.sigmoid(x)'],
  ])('is not %s', (_, body, params = 'x') => {
    expect(activationOf(body, params)).toBeNull();
  });
});
