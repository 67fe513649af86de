/**
 * The findings cache's ids of what the rules read (analysis/lint-cache.ts): a definition keeps its id
 * from one version of a file to the next exactly while its text stays the same, including definitions
 * the edit left alone, which are not cut out of the text again.
 */
import type { Parser } from 'web-tree-sitter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionSpans, LintCache } from '../../../src/analysis/lint-cache';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { defined } from '../../defined';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});
afterAll(() => {
  parser.delete();
});

/** The definition ids of `text` and then of `edited`, read by one cache in turn, by the definition's name. */
function idsBeforeAndAfter(text: string, edited: string): { before: Map<string, number>; after: Map<string, number> } {
  const cache = new LintCache();
  const read = (version: string): Map<string, number> => {
    const file = PyFile.parse(parser, '/w/m.py', version);
    try {
      const definitions = definitionSpans(file.statements);
      const ids = cache.idsOf('/w/m.py', { text: version, definitions });
      // What the ids stand for is what a cache that never saw the version before reads.
      const fresh = new LintCache().idsOf('/w/m.py', { text: version, definitions });
      expect(ids.moduleText).toBe(fresh.moduleText);
      expect([...ids.definitions].map(([row, d]) => [row, d.text])).toEqual([...fresh.definitions].map(([row, d]) => [row, d.text]));
      return new Map(definitions.map((span) => [defined(/(?:def|class) (\w+)/.exec(version.slice(span.startIndex, span.endIndex))?.[1], 'name'), defined(ids.definitions.get(span.startRow), 'id').id]));
    } finally {
      file.dispose();
    }
  };
  return { before: read(text), after: read(edited) };
}

const BEFORE = `import torch


def first():
    a = 1
    b = 2


def second():
    return 3


def third():
    return 4
`;

/** An edit of BEFORE, the definitions that keep their id and those that get a new one. */
const EDITS: [what: string, edit: (text: string) => string, kept: string[], renewed: string[]][] = [
  ['lines added inside one definition: those before and after it (moved) keep theirs', (t) => t.replace('    return 3\n', '    x = 3\n\n    return x\n'), ['first', 'third'], ['second']],
  ["a definition's text changed but not its length", (t) => t.replace('    return 3\n', '    return 5\n'), ['first', 'third'], ['second']],
  // `b = 2` de-indented: `first` now ends with `a = 1`, before the changed characters, and is shorter.
  ['a definition that ends before the edit but ended inside it before (its last line left it)', (t) => t.replace('    b = 2\n', 'b = 2\n'), ['second', 'third'], ['first']],
  // The decorator is new text: `third` now starts with it, in the changed characters.
  ['a definition that starts after the edit but started inside it before (a decorator added)', (t) => t.replace('\ndef third', '\n@staticmethod\ndef third'), ['first', 'second'], ['third']],
  ['characters typed on a line of a definition that mentions no import', (t) => t.replace('    a = 1\n', '    a = 10\n'), ['second', 'third'], ['first']],
  ['an import written over a line of a definition, no line added (the module-level text holds it)', (t) => t.replace('    a = 1\n', '    import a\n'), ['second', 'third'], ['first']],
  ["the last definition's last line changed", (t) => t.replace('    return 4\n', '    return 44\n'), ['first', 'second'], ['third']],
  // One version apart from the next by two changes: the compared texts differ from inside `second` to the module-level comment.
  ['a definition and the module-level lines after it changed at once, no line added', (t) => t.replace('    return 3\n\n\ndef third', '    return 5\n\n# third\ndef third'), ['first', 'third'], ['second']],
];

describe('definition ids of the findings cache', () => {
  for (const [what, edit, kept, renewed] of EDITS) {
    it(`keeps a definition's id exactly while its text stays: ${what}`, () => {
      const { before, after } = idsBeforeAndAfter(BEFORE, edit(BEFORE));
      for (const name of kept) expect(after.get(name), name).toBe(before.get(name));
      for (const name of renewed) expect(after.get(name), name).not.toBe(before.get(name));
    });
  }
});
