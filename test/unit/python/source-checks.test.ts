import { beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { Project } from '../../../src/analysis/project';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { SyntaxTree } from '../../../src/analysis/python/syntax-tree';
import { decodeSource, refuseText, syntaxNotices } from '../../../src/analysis/source-checks';
import { defined } from '../../defined';
import { editAt } from '../../../bench/generate.mjs';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});
const notices = (text: string) => syntaxNotices(new SyntaxTree(defined(parser.parse(text)), text).rootNode).map((n) => n.message);

describe('source checks', () => {
  it('names Python 2 statements, also inside functions', () => {
    expect(notices('def f():\n    if True:\n        print "hi"\n')).toEqual([
      'This looks like Python 2 (`print "hi"` at line 3); Gradient Lens reads Python 3, so results may be incomplete',
    ]);
    expect(notices('print("py3")\n')).toEqual([]);
  });

  it('reports syntax errors with their line and keeps the count bounded', () => {
    const out = notices('x = (1,\ny = 2\n');
    expect(out.length).toBeGreaterThan(0);
    expect(out[0]).toMatch(/^Syntax error at line \d+ .*the analysis covers the code that parses$/);
    const many = notices(Array.from({ length: 40 }, (_, i) => `a${i} = 1 +\nb${i} = ${i}`).join('\n'));
    expect(many.length).toBeLessThanOrEqual(6);
    expect(many.at(-1)).toMatch(/more syntax errors not listed/);
  });

  it('refuses binary, non-UTF-8 and oversized input with a reason', () => {
    expect(decodeSource(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))).toEqual({ error: 'binary file (contains NUL bytes); not analyzed' });
    expect(decodeSource(new Uint8Array([0x78, 0x20, 0x3d, 0x20, 0xff, 0xfe, 0x0a]))).toEqual({ error: 'not valid UTF-8; save the file as UTF-8 to analyze it' });
    expect(decodeSource(new TextEncoder().encode('x = "é"\n'))).toEqual({ text: 'x = "é"\n' });
    expect(refuseText('x'.repeat(3000), 2048)).toMatch(/over the 0\.0 MB limit/);
    expect(refuseText('x = 1\n', 2048)).toBeNull();
  });

  it('refuses a NUL an edit types into an open file, and reads the file again once the NUL is gone', async () => {
    const project = await Project.create({ incremental: true });
    const path = 'model.py';
    let text = 'import torch\n\ndef f(x):\n    return x + 1\n';
    const typed = (at: number, removed: string, written: string) => {
      const next = text.slice(0, at) + written + text.slice(at + removed.length);
      project.setFile(path, next, editAt(text, at, removed, written));
      text = next;
      return project.analyzeFile(path).error;
    };
    const binary = 'binary file (contains NUL bytes); not analyzed';
    project.setFile(path, text);
    expect(typed(text.indexOf('+'), '+', '\u0000')).toBe(binary);
    // Typed elsewhere while the NUL is there: still refused.
    expect(typed(text.indexOf('f('), 'f', 'g')).toBe(binary);
    expect(typed(text.indexOf('\u0000'), '\u0000', '-')).toBeNull();
    expect(typed(text.indexOf('g('), 'g', 'h')).toBeNull();
    project.dispose();
  });
});
