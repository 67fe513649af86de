/**
 * The import table after an incremental re-parse (issue 10): an edit inside one definition that changes
 * no import keeps the previous version's table (rows below the edit moved); an edit that adds, changes
 * or hides an import, renames a definition or assigns a module alias again builds it anew. Either way it
 * must equal the table of the same text parsed from scratch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { PyFile } from '../../../src/analysis/python/file';
import type { ImportTable } from '../../../src/analysis/python/imports';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { topLevelStatements } from '../../../src/analysis/python/top-level';
import { diffEdit } from '../../../src/server/sourceEdit';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const SOURCE = `"""Two torch models; the second imports its layers lazily, as optional dependencies are."""
from torch import nn
import torch.nn.functional as F

Act = nn.Tanh
__all__ = ["Encoder", "build_head"]


class Encoder(nn.Module):
    def __init__(self, width=256):
        super().__init__()
        self.fc1 = nn.Linear(784, width)
        self.fc2 = nn.Linear(width, width)
        self.act = Act()

    def forward(self, x):
        return self.act(self.fc2(self.act(self.fc1(x))))


def build_head(width=256):
    from torch.nn import (
        Linear,
        Sigmoid,
    )
    return nn.Sequential(Linear(width, 10), Sigmoid())
`;

/** What the table says: its bindings with their ranges, star facts, and how each name the file uses resolves. */
function facts(table: ImportTable): unknown {
  const names = ['nn', 'F', 'Act', 'Linear', 'Sigmoid', 'Tanh', 'Encoder', 'build_head', 'Dense', 'Dropout', 'identity_block'];
  return { bindings: table.bindings, starModules: table.starModules, starExports: table.starExports, resolved: names.map((n) => [n, table.has(n), table.resolve(`${n}.x`)]) };
}

/** The table after editing `before` into `after` incrementally, and the one of `after` parsed from scratch. */
function tables(before: string, after: string): { incremental: ImportTable; fresh: ImportTable } {
  const previous = PyFile.parse(parser, 'm.py', before);
  const edit = diffEdit(before, after);
  const edited = edit ? PyFile.parse(parser, 'm.py', after, previous, edit) : previous;
  const fresh = PyFile.parse(parser, 'm.py', after);
  // The tables hold no syntax nodes: they outlive their trees.
  for (const file of new Set([previous, edited, fresh])) file.dispose();
  return { incremental: edited.imports, fresh: fresh.imports };
}

/** Edits of SOURCE, and a fact of the edited text's table (as facts() spells it) that shows the edit was read; null: nothing changes. */
const EDITS: [string, (text: string) => string, string | null][] = [
  ['lines typed inside a method move the lazy import below them', (t) => t.replace('        self.act = Act()\n', '        self.act = Act()\n        # two hidden layers\n\n'), null],
  ['an activation changed inside a definition keeps every binding', (t) => t.replace('Sigmoid())', 'nn.ReLU())'), null],
  ['an import added inside a function body binds its name', (t) => t.replace('    return nn.Sequential(', '    from keras.layers import Dense\n    return nn.Sequential('), '["Dense",true,"keras.layers.Dense.x"]'],
  ['a top-level import changed rebinds its name', (t) => t.replace('from torch import nn', 'import torch.nn as nn'), '"module":"torch.nn","symbol":null'],
  ['a name added to a parenthesized import, on a line without the word import, binds it', (t) => t.replace('        Sigmoid,\n', '        Sigmoid,\n        Tanh,\n'), '["Tanh",true,"torch.nn.Tanh.x"]'],
  ['a second assignment of a module alias inside a method unbinds the alias', (t) => t.replace('        self.act = Act()\n', '        Act = None\n        self.act = Act()\n'), '["Act",false,"Act.x"]'],
  ['a block taken with __import__ (a module whose file name is no identifier) binds its name', (t) => t.replace('Act = nn.Tanh\n', "Act = nn.Tanh\nidentity_block = __import__('2-identity_block').identity_block\n"), '["identity_block",true,"2-identity_block.identity_block.x"]'],
  ['a definition renamed leaves the star exports', (t) => t.replace('def build_head(', 'def make_head('), '"starExports":["Encoder"]'],
  ['a string opened inside a method hides the imports below it', (t) => t.replace('        self.act = Act()\n', '        self.act = Act()\n        """\n'), null],
];

describe('import table after an edit', () => {
  it.each(EDITS)('%s, as parsing the new text from scratch does', (_, edit, shown) => {
    const before = facts(tables(SOURCE, SOURCE).fresh);
    const { incremental, fresh } = tables(SOURCE, edit(SOURCE));
    expect(facts(incremental)).toEqual(facts(fresh));
    if (shown === null) return;
    expect(JSON.stringify(facts(fresh))).toContain(shown);
    expect(JSON.stringify(before)).not.toContain(shown);
  });

  it('a quote typed or deleted on the line above an import turns it into a string\'s text or back, as parsing from scratch does', () => {
    // The string opened after `note =` ends in the comment two lines below: the import between is its text.
    const hidden = SOURCE.replace('def build_head(width=256):\n', "def build_head(width=256):\n    note = '''\n    from torch.nn import Dropout\n    end = 2  # '''\n");
    const shown = hidden.replace("    note = '''\n", '    note = 1\n');
    const dropout = '["Dropout",true,"torch.nn.Dropout.x"]';
    for (const [before, after, bound] of [[hidden, shown, true], [shown, hidden, false]] as const) {
      const { incremental, fresh } = tables(before, after);
      expect(facts(incremental)).toEqual(facts(fresh));
      expect(JSON.stringify(facts(fresh)).includes(dropout)).toBe(bound);
    }
  });
});

/** Every node of a tree in order: its type, offsets and positions (what the readers read of it). */
function nodesOf(file: PyFile): string[] {
  const out: string[] = [];
  const cursor = file.tree.walk();
  try {
    for (;;) {
      const { startPosition: s, endPosition: e } = cursor;
      out.push(`${cursor.nodeType} ${String(cursor.startIndex)}-${String(cursor.endIndex)} ${String(s.row)}:${String(s.column)}-${String(e.row)}:${String(e.column)}`);
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) if (!cursor.gotoParent()) return out;
    }
  } finally {
    cursor.delete();
  }
}

describe('syntax tree after lines typed or deleted between top-level statements', () => {
  // Told to the parser from the last line before them that is not blank (file.ts, reusableEdit): the tree is the same.
  const STEPS: [string, (text: string) => string][] = [
    ['a blank line typed above a class', (t) => t.replace('\n\nclass Encoder', '\n\n\nclass Encoder')],
    ['three lines typed above a function that follows a class', (t) => t.replace('\n\ndef build_head', '\n\n\n\n\ndef build_head')],
    ['a comment typed between them', (t) => t.replace('\n\n\n\n\ndef build_head', '\n\n# the head\n\n\ndef build_head')],
    ['spaces typed on a blank line', (t) => t.replace('\n\n\nclass Encoder', '\n    \n\nclass Encoder')],
    ['the lines deleted again', (t) => t.replace('\n    \n\nclass Encoder', '\n\nclass Encoder').replace('\n\n# the head\n\n\ndef build_head', '\n\ndef build_head')],
    ['lines typed after the last statement', (t) => `${t}\n\n`],
    ['a line typed above the first statement', (t) => `\n${t}`],
    // Blank lines at the top: the walk back over them stops at the file's start.
    ['another typed between the blank first line and the first statement', (t) => `\n\n${t.slice(1)}`],
    ['the first two deleted', (t) => t.slice(2)],
    ['Enter at the end of a statement followed by another on the next line', (t) => t.replace('Act = nn.Tanh\n', 'Act = nn.Tanh\n\n')],
    ['a line typed above an import', (t) => t.replace('\nimport torch.nn.functional as F\n', '\n\nimport torch.nn.functional as F\n')],
    ['that line deleted and two more below the import', (t) => t.replace('\n\nimport torch.nn.functional as F\n', '\nimport torch.nn.functional as F\n\n\n')],
    ['a statement indented by spaces typed before it', (t) => t.replace('\n__all__', '\n  __all__')],
    ['the spaces deleted', (t) => t.replace('\n  __all__', '\n__all__')],
    ['a line break deleted between two statements', (t) => t.replace('Act = nn.Tanh\n\n__all__', 'Act = nn.Tanh\n__all__')],
    ['a comment typed above a statement', (t) => t.replace('\n__all__', '\n# exported\n__all__')],
    ['the line break after the comment deleted: the statement becomes its text', (t) => t.replace('# exported\n__all__', '# exported__all__')],
    ['the line break typed again', (t) => t.replace('# exported__all__', '# exported\n__all__')],
  ];

  it('equals the tree of the new text parsed from scratch, edit after edit', () => {
    let text = SOURCE;
    let file = PyFile.parse(parser, 'm.py', text);
    try {
      for (const [what, step] of STEPS) {
        const next = step(text);
        expect(next, what).not.toBe(text);
        const edit = diffEdit(text, next);
        if (!edit) throw new Error(what);
        const edited = PyFile.parse(parser, 'm.py', next, file, edit);
        file.dispose();
        file = edited;
        text = next;
        const fresh = PyFile.parse(parser, 'm.py', text);
        try {
          expect(nodesOf(file), what).toEqual(nodesOf(fresh));
          // Carried from the version before (file.ts, blankGap): the statements and the import table too.
          expect(topLevelStatements(file.root), what).toEqual(topLevelStatements(fresh.root));
          expect(facts(file.imports), what).toEqual(facts(fresh.imports));
        } finally {
          fresh.dispose();
        }
      }
    } finally {
      file.dispose();
    }
  });
});

describe('resolving names', () => {
  it('answers again once an assumption binds a name it resolved before (resolve keeps its answers only while the bindings stay)', () => {
    const file = PyFile.parse(parser, 'notebooks/nb_cell.py', 'import torch\n\nmodel = Sequential(layers.Dense(10), Dense(3))\n');
    const imports = file.imports;
    // Not imported: a notebook cell whose import cell is elsewhere, read as written until assumed.
    expect([imports.resolve('layers.Dense'), imports.resolve('torch.nn.modules.linear.Linear')]).toEqual(['layers.Dense', 'torch.nn.Linear']);
    imports.assume({ local: 'layers', qualified: 'tensorflow.keras.layers', starModule: null, range: { start: { line: 2, character: 19 }, end: { line: 2, character: 25 } } });
    expect([imports.resolve('layers.Dense'), imports.resolve('torch.nn.modules.linear.Linear')]).toEqual(['keras.layers.Dense', 'torch.nn.Linear']);
  });
});
