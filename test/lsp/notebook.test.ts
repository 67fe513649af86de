/** Notebook document sync over real JSON-RPC: a notebook's Python cells analyzed as one program. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotebookLayout } from '../../src/shared/notebook-layout';
import { ModelsRequest } from '../../src/shared/protocol';
import { LspSession, codes, fixtureText, positionOf } from './harness';
import { defined } from '../defined';

let session: LspSession;
beforeAll(async () => {
  session = await LspSession.start();
});
afterAll(async () => {
  await session.stop();
});

const stack = fixtureText('torch_tanh_stack.py');
const imports = '%matplotlib inline\nimport torch\nfrom torch import nn\n';
// The model cell uses `nn` imported by the cell above: only the notebook as a whole resolves it.
const modelCell = stack.replace('from torch import nn\n\n', '');
const NOTEBOOK = 'file:///tmp/gradient-lens-tests/experiments.ipynb';

describe('notebooks', () => {
  let cells: string[];

  it('lints a model whose imports live in another cell, and puts each finding on the model cell', async () => {
    cells = await session.openNotebook(NOTEBOOK, [
      { text: '# Regressor experiments\nFour tanh layers, then batch norm.', kind: 'markup' },
      { text: imports },
      { text: modelCell },
      { text: 'print(regressor)' },
    ]);
    const diagnostics = await session.diagnosticsWhere(cells[2]!, (d) => codes(d).includes('GL101'), 'GL101 on the model cell');
    expect(codes(diagnostics).sort()).toEqual(['GL101', 'GL302']);
    // Ranges are relative to the cell, not to the joined text.
    expect(defined(diagnostics.find((d) => d.code === 'GL302')).range.start).toEqual(positionOf(modelCell, 'nn.Linear(256, 128)'));
    for (const other of [cells[1]!, cells[3]!]) expect(codes(await session.diagnosticsWhere(other, () => true, 'published'))).toEqual([]);
    expect(session.publishCount(cells[0]!)).toBe(0);
  });

  it('hovers and code actions work inside a cell', async () => {
    const at = positionOf(modelCell, 'nn.BatchNorm1d', 4);
    const hover = await session.hover(cells[2]!, at.line, at.character);
    expect(JSON.stringify(hover?.contents)).toMatch(/Batch normalization/);

    const gl302 = defined((await session.diagnosticsWhere(cells[2]!, (d) => codes(d).includes('GL302'), 'GL302')).find((d) => d.code === 'GL302'));
    const actions = await session.codeActions(cells[2]!, gl302.range, [gl302]);
    const fix = defined(actions.find((a) => a.isPreferred));
    expect(Object.keys(fix.edit?.changes ?? {})).toEqual([cells[2]]);
    const edit = defined(defined(fix.edit).changes)[cells[2]!]![0]!;
    expect(edit.range.start.line).toBe(gl302.range.start.line);
  });

  it('re-lints when a cell is edited', async () => {
    await session.changeNotebookCell(NOTEBOOK, cells[2]!, modelCell.replaceAll('nn.Tanh()', 'nn.ReLU()').replace('nn.Linear(256, 128)', 'nn.Linear(256, 128, bias=False)'), 2);
    await session.diagnosticsWhere(cells[2]!, (d) => d.length === 0, 'a clean model cell');
  });

  it('finds a Keras model built with model.add across cells, on the cells that add the layers', async () => {
    const uri = 'file:///tmp/gradient-lens-tests/keras-split.ipynb';
    const keras = await session.openNotebook(uri, [
      { text: 'from tensorflow import keras\nfrom tensorflow.keras import layers\n\nmodel = keras.Sequential()\nmodel.add(layers.Dense(256, activation="sigmoid", input_shape=(784,)))' },
      { text: '## More sigmoid layers', kind: 'markup' },
      { text: 'model.add(layers.Dense(128, activation="sigmoid"))\nmodel.add(layers.Dense(64, activation="sigmoid"))\nmodel.add(layers.Dense(10, activation="softmax"))' },
    ]);
    const first = await session.diagnosticsWhere(keras[0]!, (d) => codes(d).includes('GL101'), 'GL101 on the first layer cell');
    expect(defined(first.find((d) => d.code === 'GL101')).range.start.line).toBe(4);
    const related = defined(first.find((d) => d.code === 'GL101')).relatedInformation ?? [];
    // The other layers of the stack are in the third cell: related locations point into it.
    expect(related.some((r) => r.location.uri === keras[2])).toBe(true);
  });

  it('names notebook lines by cell in diagnostic messages, as the editor counts cells', async () => {
    const uri = 'file:///tmp/gradient-lens-tests/isinf.ipynb';
    const cellsOf = await session.openNotebook(uri, [
      { text: 'import torch\nimport torch.nn as nn' },
      { text: '## The model', kind: 'markup' },
      { text: 'class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(64, 64)\n\n    def forward(self, x):\n        x = torch.isinf(x).float() + x\n        return self.fc(x)' },
    ]);
    const text = (d: { message: string | { value: string } }) => (typeof d.message === 'string' ? d.message : d.message.value);
    const shown = await session.diagnosticsWhere(cellsOf[2]!, (d) => d.some((x) => text(x).includes('torch.isinf')), 'the note on torch.isinf');
    const note = defined(shown.find((d) => text(d).includes('torch.isinf')));
    // torch.isinf is on line 7 of the third cell (line 9 of the joined code cells).
    expect(note.range.start.line).toBe(6);
    expect(text(note)).toMatch(/^Cell 3, line 7: call torch\.isinf/);
  });

  it('gradientLens/models from any cell: the notebook\'s models with the cell placements that map their lines', async () => {
    const uri = 'file:///tmp/gradient-lens-tests/keras-models.ipynb';
    const keras = await session.openNotebook(uri, [
      { text: 'from tensorflow import keras\nfrom tensorflow.keras import layers' },
      { text: '## The model', kind: 'markup' },
      { text: 'model = keras.Sequential()\nmodel.add(layers.Dense(256, activation="sigmoid", input_shape=(784,)))' },
      { text: 'model.add(layers.Dense(128, activation="sigmoid"))\nmodel.add(layers.Dense(64, activation="sigmoid"))\nmodel.add(layers.Dense(10, activation="softmax"))' },
    ]);
    await session.diagnosticsWhere(keras[2]!, (d) => codes(d).includes('GL101'), 'GL101 on the model cell');
    const result = await session.connection.sendRequest(ModelsRequest, { uri: keras[3]! });
    expect(result.models.map((m) => m.model.name)).toEqual(['model']);
    expect(result.models[0]!.whatIfs.map((w) => w.code)).toContain('GL101');
    expect(result.cells?.map((c) => c.uri)).toEqual(keras);
    expect(result.cells?.map((c) => c.startLine)).toEqual([0, -1, 2, 4]);
    const layout = new NotebookLayout(defined(result.cells));
    const [{ model }] = result.models as [(typeof result.models)[number]];
    expect(layout.toCell(model.nameRange)).toEqual({ uri: keras[2], range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } } });
    const dense64 = model.layers.filter((l) => l.kind === 'dense')[2]!;
    expect(layout.toCell(dense64.range)?.uri).toBe(keras[3]);
    expect(layout.toCell(dense64.range)?.range.start.line).toBe(1);
    // A document gets no placements.
    expect((await session.connection.sendRequest(ModelsRequest, { uri: 'file:///tmp/gradient-lens-tests/none.py' })).cells).toBeNull();
  });

  it('names the models of one class built twice with the same call by the cells of the calls, as the editor counts cells', async () => {
    const uri = 'file:///tmp/gradient-lens-tests/twice.ipynb';
    const twice = await session.openNotebook(uri, [
      { text: 'import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        self.pool = nn.AdaptiveAvgPool2d(1)\n        self.fc = nn.Linear(8, 2)\n\n    def forward(self, x):\n        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))' },
      { text: 'Fine-tune a copy with ten classes.', kind: 'markup' },
      { text: 'net = Net()' },
      { text: 'tuned = Net()\ntuned.fc = nn.Linear(8, 10)' },
    ]);
    await session.diagnosticsWhere(twice[0]!, () => true, 'the class cell published');
    const result = await session.connection.sendRequest(ModelsRequest, { uri: twice[3]! });
    expect(result.models.map((m) => m.model.name)).toEqual(['Net() (cell 3, line 1)', 'Net() (cell 4, line 1)']);
  });
});
