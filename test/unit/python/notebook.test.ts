import { describe, expect, it } from 'vitest';
import { cellsToPython, notebookToPython } from '../../../src/analysis/notebook';
import { cellOfLine, messageInCells } from '../../../src/shared/notebook-layout';

const nb = (cells: unknown[], language = 'python') =>
  JSON.stringify({ cells, metadata: { kernelspec: { language }, language_info: { name: language } }, nbformat: 4, nbformat_minor: 5 });

describe('notebooks', () => {
  it('joins code cells, skips markdown, and maps lines back to cells', () => {
    const out = notebookToPython(
      nb([
        { cell_type: 'markdown', source: ['# Title\n', 'text'] },
        { cell_type: 'code', source: ['import torch\n', 'import torch.nn as nn'] },
        { cell_type: 'code', source: 'net = nn.Sequential(\n    nn.Linear(4, 4),\n)' },
      ]),
    );
    expect(out.text).toBe('import torch\nimport torch.nn as nn\nnet = nn.Sequential(\n    nn.Linear(4, 4),\n)');
    expect(out.cellStarts).toEqual([-1, 0, 2]);
    expect(cellOfLine(out.cellStarts, 3)).toEqual([2, 1]);
    expect(cellOfLine(out.cellStarts, 1)).toEqual([1, 1]);
  });

  it('names the lines a message mentions by cell, counting every cell, and leaves other numbers alone', () => {
    // Cells: markdown, 2 lines of imports, a skipped R cell, 5 lines of model.
    const cellStarts = [-1, 0, -1, 2];
    expect(messageInCells("the first layer fc1 (line 4) gets 1e-4 of fc3's (line 7)", cellStarts)).toBe("the first layer fc1 (cell 4, line 2) gets 1e-4 of fc3's (cell 4, line 5)");
    expect(messageInCells('Line 2: call torch.isinf(...) is not fully understood', cellStarts)).toBe('Cell 2, line 2: call torch.isinf(...) is not fully understood');
    expect(messageInCells('over 18 hidden layers, 3 lines 4 to 6, pipeline 3, Dense(64)', cellStarts)).toBe('over 18 hidden layers, 3 lines 4 to 6, pipeline 3, Dense(64)');
    // A line before every analyzed cell names no cell: kept as written.
    expect(messageInCells('line 1', [-1, 3])).toBe('line 1');
  });

  it('comments out IPython magics and shell escapes without moving lines', () => {
    const out = cellsToPython([{ kind: 'code', language: 'python', text: '%matplotlib inline\n!pip install torch\nfiles = !ls\nx = 1' }]);
    expect(out.text.split('\n')).toEqual(['# %matplotlib inline', '# !pip install torch', '# files = !ls', 'x = 1']);
    // IPython's help lines, the name before or after the question marks; a conditional expression stays code.
    const help = cellsToPython([{ kind: 'code', language: 'python', text: '?Dense\n??model.fit\nmodel.fit?\n?np.*load*\ny = a if b else c' }]);
    expect(help.text.split('\n')).toEqual(['# ?Dense', '# ??model.fit', '# model.fit?', '# ?np.*load*', 'y = a if b else c']);
    expect(help.notices).toEqual([]);
  });

  it('skips cells in other languages with a notice', () => {
    const out = cellsToPython([
      { kind: 'code', language: 'python', text: '%%bash\necho hi' },
      { kind: 'code', language: 'r', text: 'x <- 1' },
      { kind: 'code', language: 'python', text: 'y = 2' },
    ]);
    expect(out.cellStarts).toEqual([-1, -1, 0]);
    expect(out.notices.map((n) => n.message)).toEqual(['Cell 1 is not Python (%%bash); skipped', 'Cell 2 is not Python (r); skipped']);
  });

  it('refuses broken JSON and non-Python kernels with a clear message', () => {
    expect(() => notebookToPython('{"cells": [')).toThrow(/not a valid notebook \(JSON error/);
    expect(() => notebookToPython('{"metadata": {}}')).toThrow(/no "cells" list/);
    expect(() => notebookToPython(nb([{ cell_type: 'code', source: 'x <- 1' }], 'R'))).toThrow(/kernel language is r/);
  });
});
