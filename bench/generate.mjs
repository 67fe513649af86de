// Generated Python files for the benchmarks (bench/editor.mjs, bench/analysis.mjs). Files are made of
// whole blocks only, so they parse without errors at every size (a block cut in half would leave an
// open bracket that tree-sitter's recovery wraps around the whole file).

export const HEADER = `import torch
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras
from tensorflow.keras import layers
`;

const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'elu'];

/** ~50 lines of model code: a Keras MLP (the line marked EDIT is where editors type), a PyTorch module and its training loop. */
export function modelBlock(i) {
  const act = ACTIVATIONS[i % ACTIVATIONS.length];
  return `
def build_keras_${i}(n_classes=10):
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(${128 + (i % 7)}, activation="${act}", kernel_initializer="he_normal"),
        layers.BatchNormalization(),
        layers.Dense(128, activation="sigmoid"),  # EDIT
        layers.Dropout(0.2),
        layers.Dense(64, activation="sigmoid"),
        layers.Dense(64, activation="sigmoid"),
        layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
    return model


class Net${i}(nn.Module):
    def __init__(self, width=${64 + (i % 5)}):
        super().__init__()
        self.fc1 = nn.Linear(784, width)
        self.bn1 = nn.BatchNorm1d(width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, 10)
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = torch.${act === 'relu' ? 'relu' : 'tanh'}(self.fc2(x))
        return self.fc3(x)


def train_${i}(loader, epochs=3):
    net = Net${i}()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(net(xb.view(-1, 784)), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
    return net

`;
}

/** ~6 lines of ordinary research code (no model). */
export function helperBlock(i) {
  return `
def normalize_${i}(batch, eps=1e-${(i % 6) + 3}):
    mean = sum(batch) / len(batch)
    spread = max(batch) - min(batch)
    return [(x - mean) / (abs(spread) + eps) for x in batch]
`;
}

const lineCount = (text) => text.split('\n').length - 1;

/**
 * About `lines` lines (never more than one helper past it): `kind` 'dense' is model blocks back to back
 * (a model every ~17 lines); 'typical' is one model block per ~500 lines among helper functions.
 * The first model block sits in the middle of the file for 'typical' files, so edits there are
 * surrounded by code on both sides.
 */
export function generateFile(lines, kind = 'dense') {
  let text = HEADER;
  const modelLines = lineCount(modelBlock(0));
  if (kind === 'dense') {
    for (let i = 0; lineCount(text) + modelLines <= lines; i++) text += modelBlock(i);
  } else {
    const helpersPerModel = Math.max(1, Math.round((500 - modelLines) / lineCount(helperBlock(0))));
    let helpers = Math.floor(helpersPerModel / 2);
    for (let h = 0; h < helpers && lineCount(text) < lines / 2; h++) text += helperBlock(h);
    for (let i = 0; lineCount(text) + modelLines <= lines || i === 0; i++) {
      text += modelBlock(i);
      for (let h = 0; h < helpersPerModel && lineCount(text) < lines; h++) text += helperBlock(helpers++);
    }
  }
  while (lineCount(text) < lines) text += helperBlock(lineCount(text));
  return text;
}

/** Offset of the `activation="sigmoid"` argument on the EDIT line nearest the middle of the file. */
export function editSite(text) {
  const marker = 'activation="sigmoid"),  # EDIT';
  let index = text.indexOf(marker, Math.floor(text.length / 2));
  if (index < 0) index = text.lastIndexOf(marker);
  return index + 'activation="'.length;
}

/** The SourceEdit (api.ts) for replacing `oldText` at `index` by `newText` in ASCII text. */
export function editAt(text, index, oldText, newText) {
  const before = text.slice(0, index);
  const row = before.split('\n').length - 1;
  const column = index - (before.lastIndexOf('\n') + 1);
  return {
    startIndex: index,
    oldEndIndex: index + oldText.length,
    newEndIndex: index + newText.length,
    startPosition: { row, column },
    oldEndPosition: { row, column: column + oldText.length },
    newEndPosition: { row, column: column + newText.length },
  };
}
