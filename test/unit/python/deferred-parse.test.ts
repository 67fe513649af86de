/**
 * A version made by an edit inside one top-level definition is parsed only in part (python/file.ts,
 * issue 10): the edited statement by itself, the others carried, the whole tree when something reads
 * its nodes. What it answers before and after that parse must be what a parse of the text from scratch
 * answers: statements, last row, imports, positions, the tree itself. Edits that can reach other lines
 * or statements (quotes, an unclosed bracket, a line dedented out of the definition, a Python 2
 * statement) parse the whole file at once.
 */
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { PyFile } from '../../../src/analysis/python/file';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { topLevelStatements } from '../../../src/analysis/python/top-level';
import { Project } from '../../../src/analysis/project';
import { diffEdit } from '../../../src/server/sourceEdit';
import { defined } from '../../defined';

let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const SOURCE = `import torch.nn as nn
from tensorflow import keras


def build_model(units=32):
    model = keras.Sequential([
        keras.layers.Dense(units, activation="sigmoid"),
        keras.layers.Dense(units, activation="sigmoid"),
    ])
    return model


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 64)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.fc(x))


model = build_model(64)
model.compile(optimizer="sgd", loss="mse")
`;

const files: PyFile[] = [];
afterEach(() => {
  for (const f of files.splice(0).reverse()) f.dispose();
});

/** `after` parsed from `previous` with the edit between their texts. */
function edited(previous: PyFile, after: string): PyFile {
  const file = PyFile.parse(parser, 'm.py', after, previous, defined(diffEdit(previous.text, after)));
  files.push(file);
  return file;
}

function fresh(text: string): PyFile {
  const file = PyFile.parse(parser, 'm.py', text);
  files.push(file);
  return file;
}

/** What a version answers without its nodes, and then its tree, against the same text parsed from scratch. */
function expectSameAsFresh(file: PyFile): void {
  const scratch = fresh(file.text);
  expect(file.statements).toEqual(topLevelStatements(scratch.root));
  expect(file.endRow).toBe(scratch.root.endPosition.row);
  expect(file.imports.bindings).toEqual(scratch.imports.bindings);
  const offset = file.text.indexOf('return');
  expect(file.position(offset)).toEqual(scratch.root.tree.position(offset));
  expect(file.index(file.position(offset))).toBe(offset);
  expect(file.hasError).toBe(scratch.root.hasError);
  expect(file.tree.rootNode.toString()).toBe(scratch.tree.rootNode.toString());
  expect(topLevelStatements(file.root)).toEqual(topLevelStatements(scratch.root));
}

/**
 * Feeds SOURCE's next texts (each step's, given the text so far) to an incremental project as edits, and
 * after each compares its results with a fresh project's; how many steps changed the text.
 */
async function expectEditsAsFromScratch(steps: readonly ((text: string) => string)[]): Promise<number> {
  const path = '/w/m.py';
  const project = await Project.create({ incremental: true });
  const scratch = await Project.create();
  let applied = 0;
  try {
    let text = SOURCE;
    project.setFile(path, text);
    project.analyzeFile(path);
    for (const step of steps) {
      const next = step(text);
      if (next === text) continue;
      applied++;
      project.setFile(path, next, defined(diffEdit(text, next)));
      text = next;
      scratch.setFile(path, text);
      // As JSON: a difference is shown as text (a deep diff of models is too large to print).
      expect(JSON.stringify(project.analyzeFile(path), null, 1)).toBe(JSON.stringify(scratch.analyzeFile(path), null, 1));
    }
  } finally {
    project.dispose();
    scratch.dispose();
  }
  return applied;
}

describe('a version parsed in part', () => {
  it('is what an edit inside a function or a method makes, and answers as the text parsed from scratch', () => {
    const inFunction = edited(fresh(SOURCE), SOURCE.replace('activation="sigmoid"),\n        keras', 'activation="relu"),\n        keras'));
    expect(inFunction.editedAlone?.index).toBe(2);
    expectSameAsFresh(inFunction);
    // Lines typed inside a method of a version itself parsed in part: every statement below moves.
    const before = edited(fresh(SOURCE), SOURCE.replace('super().__init__()', 'super(Net, self).__init__()'));
    const inMethod = edited(before, before.text.replace('self.fc = nn.Linear(64, 64)', 'self.fc = nn.Linear(64, 64)\n        self.drop = nn.Dropout(0.5)'));
    expect([before.editedAlone?.index, inMethod.editedAlone?.index]).toEqual([3, 3]);
    expectSameAsFresh(inMethod);
  });

  it('hands its earlier tree on: versions edited in turn, then one parsed whole, equal their texts parsed from scratch', () => {
    let file = fresh(SOURCE);
    const versions: PyFile[] = [];
    for (const width of ['65', '66', '67']) {
      file = edited(file, file.text.replace(/nn\.Linear\(64, \d+\)/, `nn.Linear(64, ${width})`));
      expect(file.editedAlone === null).toBe(false);
      versions.push(file);
    }
    // An import edited: parsed whole, from the tree the deferred versions handed on.
    const whole = edited(file, file.text.replace('import torch.nn as nn', 'import torch.nn as nn\nimport torch'));
    expect(whole.editedAlone === null).toBe(true);
    expectSameAsFresh(whole);
    // A version whose tree went on to the next cannot be parsed any more: reading it says so.
    expect(() => versions[0]!.root).toThrow(/read after the next version/);
  });

  it('is what blank lines typed or deleted between statements make, where only blank space lies between them', () => {
    const entered = edited(fresh(SOURCE), SOURCE.replace('\n\nclass Net', '\n\n\n\nclass Net'));
    expect([entered.parsedInPart, entered.editedAlone === null]).toEqual([true, true]);
    const removed = edited(entered, entered.text.replace('\n\n\n\nclass Net', '\nclass Net'));
    expect(removed.parsedInPart).toBe(true);
    expectSameAsFresh(removed);
    // A comment between the two statements: parsed whole (a comment's indentation can move where a statement ends).
    const commented = SOURCE.replace('\n\nclass Net', '\n# the torch model\n\nclass Net');
    const below = edited(fresh(commented), commented.replace('\n\nclass Net', '\n\n\nclass Net'));
    expect(below.parsedInPart).toBe(false);
    expectSameAsFresh(below);
  });

  it('is not made where an edit reaches other lines or statements, or writes Python 2', () => {
    // A backslash joining the next line, a line dedented out of the function, Python 2, an import typed
    // inside the function (the table reads it), the definition's first line.
    const cases = [
      SOURCE.replace('    return model\n', '    return model \\\n'),
      SOURCE.replace('    return model', 'return model'),
      SOURCE.replace('    return model', '    print model\n    return model'),
      SOURCE.replace('    return model', '    from torch import nn as torch_nn\n    return model'),
      SOURCE.replace('units=32', 'units=33'),
    ];
    for (const text of cases) {
      const file = edited(fresh(SOURCE), text);
      expect(file.editedAlone === null, JSON.stringify(text)).toBe(true);
      expectSameAsFresh(file);
    }
    // An unclosed bracket: a syntax error, which tree-sitter recovers from in its own way when it parses
    // an edit (the tree may differ from a parse from scratch, as it did before versions were deferred).
    const unclosed = edited(fresh(SOURCE), SOURCE.replace('return model', 'return (model'));
    expect(unclosed.editedAlone === null).toBe(true);
    expect(unclosed.hasError).toBe(true);
  });

  it('after any edits typed inside definitions, the analysis equals one from scratch (a property)', async () => {
    // What is typed inside a body: names, layers, numbers, brackets, line breaks with indentation, a Python 2 print, an import.
    const fragments = ['relu', 'tanh', 'nn.Tanh()', 'keras.layers.Dense(8),', '0', '(', ')', ',', '\n        ', '\n    x = 1', 'print x', 'import torch', ' ', 'self.act', '#'];
    // Enter above a top-level statement, or a blank line above it removed.
    const enter = (k: number) => (text: string) => {
      const starts = [...text.matchAll(/\n\n(?=\S)/g)].map((m) => m.index);
      const at = starts[k % starts.length]!;
      return k % 3 === 2 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + '\n' + text.slice(at);
    };
    const bodyLines = (text: string) => text.split('\n').flatMap((line, row) => (/^ {4,}\S/.test(line) ? [row] : []));
    /** The text with `insert` typed over `remove` characters at a column of one of its indented lines, past the indentation. */
    const typed = (e: { line: number; column: number; remove: number; insert: string }) => (text: string) => {
      const rows = bodyLines(text);
      const lines = text.split('\n');
      const row = rows[e.line % rows.length]!;
      const line = lines[row]!;
      const lineStart = lines.slice(0, row).join('\n').length + (row > 0 ? 1 : 0);
      const at = lineStart + Math.min(line.length, line.length - line.trimStart().length + e.column);
      return text.slice(0, at) + e.insert + text.slice(Math.min(lineStart + line.length, at + e.remove));
    };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.record({ line: fc.nat(), column: fc.nat({ max: 40 }), remove: fc.nat({ max: 4 }), insert: fc.constantFrom(...fragments) }).map(typed), fc.nat().map(enter)), { minLength: 1, maxLength: 8 }), async (edits) => {
        await expectEditsAsFromScratch(edits);
      }),
      { seed: 20261205, numRuns: 100 },
    );
  });

  it('leaves the analysis of the edited file as from scratch, syntax notices included', async () => {
    const applied = await expectEditsAsFromScratch([
      (t) => t.replace('activation="sigmoid"),\n        keras', 'activation="tanh"),\n        keras'),
      (t) => t.replace('self.act = nn.Sigmoid()', 'self.act = nn.Tanh()'),
      (t) => t.replace('    return model', '    print model\n    return model'),
      (t) => t.replace('self.act = nn.Tanh()', 'self.act = nn.ReLU()'),
      (t) => t.replace('    print model\n', ''),
      (t) => t.replace('self.act = nn.ReLU()', 'self.act = nn.Sigmoid()'),
      // Enter above the class, then inside it, then the line removed.
      (t) => t.replace('\n\nclass Net', '\n\n\nclass Net'),
      (t) => t.replace('self.act = nn.Sigmoid()', 'self.act = nn.Tanh()'),
      (t) => t.replace('\n\n\nclass Net', '\n\nclass Net'),
    ]);
    expect(applied).toBe(9);
  });
});
