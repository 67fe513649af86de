/**
 * Incremental extraction by statement groups (src/analysis/units.ts): which statements an edit can
 * affect, the files read whole and why, equality with whole-file extraction on every example and
 * fixture, and reuse of what an edit does not touch (models and findings).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { PyFile } from '../../../src/analysis/python/file';
import { GroupCache, groupsOf, sliceOf, type KnownStatement, type StatementsRead } from '../../../src/analysis/units';
import { lineStarts } from '../../../src/analysis/rules/helpers/text-offsets';
import { AnalysisCancelled, runCancellable } from '../../../src/analysis/cancellation';
import { extractFile, type ExtractedFile } from '../../../src/analysis/extract/index';
import { Project } from '../../../src/analysis/project';
import { rowsWalked } from '../../../src/analysis/row-shift';
import type { FileResult } from '../../../src/analysis/api';
import { defined } from '../../defined';

const ROOT = resolve(__dirname, '../../..');
let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});

const parse = (text: string, path = '/w/models.py') => PyFile.parse(parser, path, text);

/** Each group as the first line of each of its statements that is not an import. */
function groupLines(text: string): string[][] {
  const file = parse(text);
  try {
    const plan = groupsOf(file, new Map());
    if ('whole' in plan) throw new Error(`read whole: ${plan.whole}`);
    return linesOf(plan.groups, text);
  } finally {
    file.dispose();
  }
}

function linesOf(groups: readonly { statements: readonly { startIndex: number; endIndex: number }[] }[], text: string): string[][] {
  return groups
    .map((g) => g.statements.map((s) => defined(text.slice(s.startIndex, s.endIndex).split('\n')[0])).filter((line) => !/^(import|from) /.test(line)))
    .sort((a, b) => defined(a[0]).localeCompare(defined(b[0])));
}

function wholeReason(text: string): string | null {
  const file = parse(text);
  try {
    const plan = groupsOf(file, new Map());
    return 'whole' in plan ? plan.whole : null;
  } finally {
    file.dispose();
  }
}

const BUILDERS = `import torch.nn as nn
from tensorflow import keras
from tensorflow.keras import layers

WIDTH = 64


def build_a():
    hidden = [layers.Dense(WIDTH, activation="sigmoid") for _ in range(4)]
    return keras.Sequential([keras.Input(shape=(8,)), *hidden, layers.Dense(1)])


def build_b():
    return keras.Sequential([keras.Input(shape=(8,)), layers.Dense(32, activation="tanh"), layers.Dense(1)])


class Net(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        self.fc = nn.Linear(8, WIDTH if cfg is None else cfg)


def train(loader):
    net = Net()
    for x in loader:
        net(x).sum().backward()
`;

describe('statement groups', () => {
  it('connects a definition to what it reads and to its callers, and keeps unrelated definitions apart', () => {
    expect(groupLines(BUILDERS)).toEqual([
      ['def build_b():'],
      ['WIDTH = 64', 'def build_a():', 'class Net(nn.Module):', 'def train(loader):'],
    ]);
  });

  it('reads the groups of each version of a file from the previous version\'s statements as from scratch: groups merged and split by an edit, definitions renamed, lines typed and deleted between them', () => {
    const steps: ((text: string) => string)[] = [
      // build_b calls build_a: one group.
      (t) => t.replace('    return keras.Sequential([keras.Input(shape=(8,)), layers.Dense(32', '    base = build_a()\n    return keras.Sequential([keras.Input(shape=(8,)), layers.Dense(32'),
      // Lines typed and deleted between definitions: every statement below moves.
      (t) => t.replace('\n\ndef build_b', '\n\n\n\ndef build_b'),
      (t) => t.replace('\n\n\n\n\ndef build_b', '\n\ndef build_b'),
      // The call removed again: two groups.
      (t) => t.replace('    base = build_a()\n', ''),
      // Net renamed: train reads a name nothing binds, and the file is read whole; then train follows.
      (t) => t.replace('class Net(', 'class Network('),
      (t) => t.replace('net = Net()', 'net = Network()'),
      // build_b reads WIDTH: it joins the group of everything else that does.
      (t) => t.replace('layers.Dense(32, activation="tanh")', 'layers.Dense(WIDTH, activation="tanh")'),
      // An import added at the top.
      (t) => `import numpy as np\n${t}`,
      // A comment typed inside a definition: no names change.
      (t) => t.replace('def train(loader):\n', 'def train(loader):\n    # one epoch\n'),
    ];
    const names = new Map<string, KnownStatement>();
    const last: { read: StatementsRead | null } = { read: null };
    let text = BUILDERS;
    const seen: (string | string[][])[] = [];
    for (const step of [(t: string) => t, ...steps]) {
      const next = step(text);
      text = next;
      const file = parse(text);
      try {
        const planned = groupsOf(file, names, last);
        const fresh = groupsOf(file, new Map());
        const shown = 'whole' in planned ? planned.whole : linesOf(planned.groups, text);
        expect(shown).toEqual('whole' in fresh ? fresh.whole : linesOf(fresh.groups, text));
        // Rows (which group keys spell) equal too.
        if ('groups' in planned && 'groups' in fresh) expect(planned.groups.map((g) => g.statements.map((s) => s.startRow)).sort()).toEqual(fresh.groups.map((g) => g.statements.map((s) => s.startRow)).sort());
        seen.push(shown);
      } finally {
        file.dispose();
      }
    }
    // The groups did merge and split, and one version was read whole.
    expect(seen[1]).toContainEqual(['WIDTH = 64', 'def build_a():', 'def build_b():', 'class Net(nn.Module):', 'def train(loader):']);
    expect(seen[4]).toContainEqual(['def build_b():']);
    expect(seen[5]).toBe("'Net' is read but bound nowhere in the file");
    expect(seen[7]).toEqual([['WIDTH = 64', 'def build_a():', 'def build_b():', 'class Network(nn.Module):', 'def train(loader):']]);
  });

  it('reads names per scope: a parameter named like a module constant does not hide the constant from the rest of the class', () => {
    const text = `import torch.nn as nn

cfg = {'A': [64, 'M']}


class VGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = self._make(cfg['A'])

    def _make(self, cfg):
        return nn.Sequential(*[nn.Linear(4, 4) for _ in cfg])


def unrelated(cfg):
    return cfg
`;
    expect(groupLines(text)).toEqual([["cfg = {'A': [64, 'M']}", 'class VGG(nn.Module):'], ['def unrelated(cfg):']]);
  });

  it('reads a file whole when names cannot tell what a statement depends on, and says why', () => {
    expect(wholeReason(BUILDERS)).toBeNull();
    expect(wholeReason('import torch\n\ndef f():\n    global net\n    net = torch.nn.Linear(2, 2)\n')).toBe('a global statement');
    expect(wholeReason('from keras.layers import *\n\nm = Dense(3)\n')).toBe('a star import');
    expect(wholeReason('import torch\n\nmodel.fit(X_train, y_train)\n')).toBe("'model' is read but bound nowhere in the file");
    expect(wholeReason('import torch\nx = 1; y = torch.zeros(x)\n')).toBe('two statements on line 2');
    expect(wholeReason('import torch\n\ndef f(:\n    pass\n')).toBe('the file has syntax errors');
  });
});

function pythonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pythonFiles(path);
    return entry.name.endsWith('.py') ? [path] : [];
  });
}

describe('extraction by groups', () => {
  it('equals whole-file extraction on every example and fixture, most of them read in groups', () => {
    const paths = ['examples', 'test/fixtures', 'test/lsp/fixtures'].flatMap((dir) => pythonFiles(join(ROOT, dir)));
    expect(paths.length).toBeGreaterThan(200);
    let grouped = 0;
    for (const path of paths) {
      const file = PyFile.parse(parser, path, readFileSync(path, 'utf8'));
      try {
        const cache = new GroupCache();
        const byGroups = cache.extract(parser, file, undefined, '');
        if (!byGroups) continue;
        grouped++;
        expect(JSON.parse(JSON.stringify(byGroups)) as ExtractedFile, path).toEqual(JSON.parse(JSON.stringify(extractFile(file))));
      } finally {
        file.dispose();
      }
    }
    expect(grouped / paths.length).toBeGreaterThan(0.6);
  });

  it('orders the models as whole-file extraction does after an edit changes how a model sorts (its framework)', () => {
    const v1 = `import torch.nn as nn
from tensorflow import keras


def build_a():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU())


def build_b():
    return keras.Sequential([keras.layers.Dense(8)])


a = build_a()
b = build_b()
`;
    const v2 = v1.replace('nn.Sequential(nn.Linear(4, 8), nn.ReLU())', 'keras.Sequential([keras.layers.Dense(4)])');
    const cache = new GroupCache();
    const names: string[][] = [];
    for (const text of [v1, v2]) {
      const file = parse(text);
      try {
        const byGroups = defined(cache.extract(parser, file, undefined, ''));
        expect(byGroups.models.map((m) => m.name)).toEqual(extractFile(file).models.map((m) => m.name));
        names.push(byGroups.models.map((m) => `${m.framework} ${m.name}`));
      } finally {
        file.dispose();
      }
    }
    expect(names).toEqual([['keras build_b', 'torch build_a'], ['keras build_a', 'keras build_b']]);
  });

  it('extracts again a group whose extraction an analysis cancelled, when the next edit is in another group', () => {
    const v1 = `import torch.nn as nn


def build_a():
    return nn.Sequential(nn.Linear(4, 8), nn.Sigmoid())


def build_b():
    return nn.Sequential(nn.Linear(8, 2), nn.Sigmoid())


a = build_a()
b = build_b()
`;
    const v2 = v1.replace('nn.Linear(4, 8), nn.Sigmoid()', 'nn.Linear(4, 8), nn.Tanh()');
    const v3 = v2.replace('nn.Linear(8, 2), nn.Sigmoid()', 'nn.Linear(8, 2), nn.ReLU()');
    const cache = new GroupCache();
    const activations = (text: string, cancelled = false): string[] => {
      const file = parse(text);
      try {
        const byGroups = defined(runCancellable(() => cancelled, () => cache.extract(parser, file, undefined, '')));
        const fresh = extractFile(file).models.map((m) => m.layers.map((l) => l.className).join(' '));
        const read = byGroups.models.map((m) => m.layers.map((l) => l.className).join(' '));
        expect(read).toEqual(fresh);
        return read;
      } finally {
        file.dispose();
      }
    };
    activations(v1);
    expect(() => activations(v2, true)).toThrow(AnalysisCancelled);
    expect(activations(v3)).toEqual(['nn.Linear nn.Tanh', 'nn.Linear nn.ReLU']);
  });

  it("gives each group's slice the line starts of its text (known as it is made, not searched)", () => {
    const paths = ['examples', 'test/fixtures'].flatMap((dir) => pythonFiles(join(ROOT, dir)));
    let slices = 0;
    for (const path of paths) {
      const text = readFileSync(path, 'utf8');
      const file = PyFile.parse(parser, path, text);
      try {
        const plan = groupsOf(file, new Map());
        if ('whole' in plan) continue;
        for (const group of plan.groups) {
          const slice = sliceOf(text, lineStarts(text), group.statements);
          const searched = [0, ...[...slice.text.matchAll(/\n/g)].map((m) => m.index + 1)];
          expect(lineStarts(slice.text), path).toEqual(searched);
          slices++;
        }
      } finally {
        file.dispose();
      }
    }
    expect(slices).toBeGreaterThan(500);
  });

  it('reads a file whole when one group uses up the statement budget, which is the whole file\'s', () => {
    const body = Array.from({ length: 400 }, (_, i) => `    value_${String(i)} = step * ${String(i)}`).join('\n');
    const text = `from keras.models import Sequential\nfrom keras.layers import Dense\n\nmodel = Sequential([Dense(4, input_shape=(3,))])\nfor step in range(250):\n${body}\n\n\ndef other():\n    return Sequential([Dense(2, input_shape=(3,))])\n`;
    const file = parse(text);
    try {
      const cache = new GroupCache();
      expect(cache.extract(parser, file, undefined, '')).toBeNull();
      expect(cache.wholeReason).toBe('the evaluation budget was used up');
    } finally {
      file.dispose();
    }
  });

  it('reuses the models of the groups an edit does not touch, and extracts the touched group again', () => {
    const cache = new GroupCache();
    const first = parse(BUILDERS);
    const before = defined(cache.extract(parser, first, undefined, ''));
    first.dispose();
    const model = (extracted: ExtractedFile, name: string) => defined(extracted.models.find((m) => m.name === name || m.exports.includes(name)));

    // Inside build_b: only its group is new.
    const edited = parse(BUILDERS.replace('activation="tanh"', 'activation="relu"'));
    const after = defined(cache.extract(parser, edited, undefined, ''));
    expect(model(after, 'build_a')).toBe(model(before, 'build_a'));
    expect(model(after, 'Net')).toBe(model(before, 'Net'));
    expect(model(after, 'build_b')).not.toBe(model(before, 'build_b'));
    expect(model(after, 'build_b').layers[1]?.activation?.name).toBe('relu');
    expect(JSON.parse(JSON.stringify(after))).toEqual(JSON.parse(JSON.stringify(extractFile(edited))));
    edited.dispose();
    // build_b's former part is let go: one part per group is kept.
    expect(cache.keptParts).toBe(2);

    // WIDTH is read by build_a and Net: both are extracted again, with the new width; build_b is reused.
    const widened = parse(BUILDERS.replace('activation="tanh"', 'activation="relu"').replace('WIDTH = 64', 'WIDTH = 128'));
    const third = defined(cache.extract(parser, widened, undefined, ''));
    expect(model(third, 'build_b')).toBe(model(after, 'build_b'));
    expect(model(third, 'build_a')).not.toBe(model(after, 'build_a'));
    expect(model(third, 'build_a').layers[1]).toMatchObject({ fanOut: 128 });
    expect(model(third, 'Net').layers[0]).toMatchObject({ fanOut: 128 });
    expect(JSON.parse(JSON.stringify(third))).toEqual(JSON.parse(JSON.stringify(extractFile(widened))));
    widened.dispose();
    expect(cache.keptParts).toBe(2);
  });
});

describe('input-shape evidence', () => {
  const CONV = readFileSync(join(ROOT, 'test/lsp/fixtures/evidence_elsewhere.py'), 'utf8');
  const guessOf = (extracted: ExtractedFile) => defined(extracted.models.find((m) => m.name === 'SmallConv')).inputGuess;

  it('is read from every group: a smoke test no model reads gives the model its input, and the file stays in groups', () => {
    const cache = new GroupCache();
    const file = parse(CONV);
    try {
      const byGroups = defined(cache.extract(parser, file, undefined, ''));
      expect(cache.wholeReason).toBeNull();
      expect(guessOf(byGroups)).toMatchObject({ shape: [1, 28, 28], source: 'example' });
      expect(JSON.parse(JSON.stringify(byGroups))).toEqual(JSON.parse(JSON.stringify(extractFile(file))));
    } finally {
      file.dispose();
    }
  });

  it('an edit to the evidence changes the input without extracting the model again; lines inserted above keep it equal to a whole-file read', () => {
    const cache = new GroupCache();
    const first = parse(CONV);
    const before = defined(cache.extract(parser, first, undefined, ''));
    first.dispose();
    const layersOf = (extracted: ExtractedFile) => defined(extracted.models.find((m) => m.name === 'SmallConv')).layers;

    const resized = CONV.replace('torch.randn(4, 1, 28, 28)', 'torch.randn(4, 1, 32, 32)');
    const second = parse(resized);
    const after = defined(cache.extract(parser, second, undefined, ''));
    expect(layersOf(after)).toBe(layersOf(before));
    expect(guessOf(after)).toMatchObject({ shape: [1, 32, 32], source: 'example' });
    expect(JSON.parse(JSON.stringify(after))).toEqual(JSON.parse(JSON.stringify(extractFile(second))));
    second.dispose();

    // Evidence that no longer fits the model (3 channels into Conv2d(1, ...)) is not used: the default, as for the whole file.
    const rgb = resized.replace('torch.randn(4, 1, 32, 32)', 'torch.randn(4, 3, 32, 32)');
    const third = parse(rgb);
    const refused = defined(cache.extract(parser, third, undefined, ''));
    expect(guessOf(refused)?.source).not.toBe('example');
    expect(JSON.parse(JSON.stringify(refused))).toEqual(JSON.parse(JSON.stringify(extractFile(third))));
    third.dispose();

    const inserted = rgb.replace('class SmallConv', 'WIDTH = 3\n\n\nclass SmallConv');
    const fourth = parse(inserted);
    expect(JSON.parse(JSON.stringify(defined(cache.extract(parser, fourth, undefined, ''))))).toEqual(JSON.parse(JSON.stringify(extractFile(fourth))));
    fourth.dispose();
  });

  it('a sequence-length constant in a group of its own sizes a token model elsewhere, as when the file is read whole', () => {
    const text = `from tensorflow import keras\nfrom tensorflow.keras import layers\n\nseq_len = 40\n\n\ndef build():\n    return keras.Sequential([layers.Embedding(1000, 32), layers.LSTM(16), layers.Dense(1)])\n`;
    const cache = new GroupCache();
    const file = parse(text);
    try {
      const byGroups = defined(cache.extract(parser, file, undefined, ''));
      expect(cache.wholeReason).toBeNull();
      expect(defined(byGroups.models[0]).inputGuess).toMatchObject({ shape: [40], tokens: true });
      expect(JSON.parse(JSON.stringify(byGroups))).toEqual(JSON.parse(JSON.stringify(extractFile(file))));
    } finally {
      file.dispose();
    }
  });
});

describe('findings cache', () => {
  it('keeps the findings of models an edit does not touch and lints the touched one again, as a fresh project does', async () => {
    const path = '/w/models.py';
    const live = await Project.create({ incremental: true });
    const fresh = await Project.create();
    try {
      live.setFile(path, BUILDERS);
      const before = live.analyzeFile(path).findings;
      const onBuildA = (line: number) => line >= BUILDERS.split('\n').indexOf('def build_a():') && line < BUILDERS.split('\n').indexOf('def build_b():');
      expect(before.some((f) => onBuildA(f.range.start.line))).toBe(true);

      // A comment line inside build_b: build_a's findings are the same objects, and equal a fresh analysis.
      const text = BUILDERS.replace('def build_b():\n', 'def build_b():\n    # tanh for now\n');
      live.setFile(path, text);
      const after = live.analyzeFile(path).findings;
      for (const finding of before.filter((f) => onBuildA(f.range.start.line))) expect(after).toContain(finding);
      fresh.setFile(path, text);
      expect(after).toEqual(fresh.analyzeFile(path).findings);

      // An import written inside another definition can change every fix's spelling: all are linted again.
      const imported = text.replace('def train(loader):\n', 'def train(loader):\n    import tensorflow as tf\n');
      live.setFile(path, imported);
      const third = live.analyzeFile(path).findings;
      for (const finding of third) expect(after).not.toContain(finding);
      fresh.setFile(path, imported);
      expect(third).toEqual(fresh.analyzeFile(path).findings);
    } finally {
      live.dispose();
      fresh.dispose();
    }
  });
});

/** A two-layer conv model whose input shape only a call elsewhere in its file tells. */
const SMALL_CONV = `class SmallConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.sigmoid(self.conv(x))
        return self.fc(x.mean(dim=(2, 3)))
`;

describe('lines added or removed above definitions (issue 10 §2)', () => {
  /** The live project's results and work after each step, against a fresh project's results for the same text. */
  async function steps(texts: string[], path = '/w/models.py'): Promise<{ work: ReturnType<Project['lastWork']>; findings: number; result: FileResult }[]> {
    const live = await Project.create({ incremental: true });
    const out: { work: ReturnType<Project['lastWork']>; findings: number; result: FileResult }[] = [];
    try {
      for (const text of texts) {
        live.setFile(path, text);
        const result = live.analyzeFile(path);
        const fresh = await Project.create();
        try {
          fresh.setFile(path, text);
          expect(result).toEqual(fresh.analyzeFile(path));
        } finally {
          fresh.dispose();
        }
        out.push({ work: live.lastWork(path), findings: result.findings.length, result });
      }
    } finally {
      live.dispose();
    }
    return out;
  }

  it('moves the groups and findings below blank lines typed above them instead of computing them again', async () => {
    const typed = BUILDERS.replace('WIDTH = 64\n', 'WIDTH = 64\n\n\n');
    const removed = typed.replace('\n\n\n\ndef build_b', '\ndef build_b');
    const [first, inserted, deleted] = await steps([BUILDERS, typed, removed]);
    expect(defined(first).work).toEqual({ extractedGroups: 2, guessedShapes: 3, lintedModels: 3 });
    expect(defined(first).findings).toBeGreaterThan(0);
    // Every group and model moved, none computed again; the fresh analysis of each text agrees (steps()).
    expect(defined(inserted).work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 0 });
    expect(defined(deleted).work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 0 });
  });

  it('moves the findings of models an edit inside another definition left alone when lines are then typed above them', async () => {
    // Typing inside build_b, then Enter above everything: as typing goes, the other models' findings were
    // reused by that edit, and are the same models' findings in the version the lines were typed in.
    const editedB = BUILDERS.replace('layers.Dense(32, activation="tanh")', 'layers.Dense(32, activation="relu")');
    const typed = editedB.replace('WIDTH = 64\n', 'WIDTH = 64\n\n\n');
    const editedA = typed.replace('range(4)', 'range(5)');
    const removed = editedA.replace('WIDTH = 64\n\n\n', 'WIDTH = 64\n');
    const [, inB, inserted, inA, deleted] = await steps([BUILDERS, editedB, typed, editedA, removed]);
    expect(defined(inB).work).toEqual({ extractedGroups: 1, guessedShapes: 1, lintedModels: 1 });
    expect(defined(inserted).work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 0 });
    // build_a shares its group with Net and train: the group is extracted again, Net's findings kept.
    expect(defined(inA).work.lintedModels).toBe(1);
    expect(defined(deleted).work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 0 });
  });

  it('walks ahead, while idle, what a line typed above the models moves first: that move then walks fewer values, to the same results', async () => {
    const path = '/w/models.py';
    const typed = BUILDERS.replace('WIDTH = 64\n', 'WIDTH = 64\n\n');
    const enter = async (prepare: boolean) => {
      const project = await Project.create({ incremental: true });
      try {
        project.setFile(path, BUILDERS);
        project.analyzeFile(path);
        // A deadline already past: one value at a time, and done after as many calls at most.
        if (prepare) for (let calls = 0; !project.prepareMoves(path, Number.NEGATIVE_INFINITY); calls++) expect(calls).toBeLessThan(50);
        const before = rowsWalked();
        project.setFile(path, typed);
        const result = project.analyzeFile(path);
        return { walked: rowsWalked() - before, result, work: project.lastWork(path) };
      } finally {
        project.dispose();
      }
    };
    const cold = await enter(false);
    const prepared = await enter(true);
    expect(cold.walked).toBeGreaterThan(0);
    // Left to walk: the other fields of each of the two parts below (a record made when the part moves).
    expect(prepared.walked).toBeLessThanOrEqual(2);
    expect(prepared.walked).toBeLessThan(cold.walked);
    expect(prepared.result).toEqual(cold.result);
    expect(prepared.work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 0 });
  });

  it('computes again the group a line is typed in, and lints again every model when module-level code changes', async () => {
    // Enter inside build_b: its group is extracted again, build_a's group (and Net) moved.
    const insideB = BUILDERS.replace('def build_b():\n', 'def build_b():\n\n');
    // A comment at module level is text the rules read (not a blank line): every model is linted again.
    const comment = insideB.replace('WIDTH = 64\n', 'WIDTH = 64\n# the hidden width\n');
    const [, typedInB, commented] = await steps([BUILDERS, insideB, comment]);
    expect(defined(typedInB).work).toEqual({ extractedGroups: 1, guessedShapes: 1, lintedModels: 1 });
    expect(defined(commented).work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 3 });
  });

  it('lints every model again when module-level text changes where no line moves, though every model is the one it was', async () => {
    // A blank line below WIDTH becomes a comment: no statement changes, so the groups and their models are
    // the same objects, but the rules read module-level text (a fix's imports and constants).
    const comment = BUILDERS.replace('WIDTH = 64\n\n', 'WIDTH = 64\n# the hidden width\n');
    const [first, commented] = await steps([BUILDERS, comment]);
    expect(defined(commented).work).toEqual({ extractedGroups: 0, guessedShapes: 0, lintedModels: 3 });
    // Every model is the object it was: only the module-level text says the findings may differ.
    for (const model of defined(commented).result.models) expect(defined(first).result.models).toContain(model);
  });

  it('moves input shapes guessed from evidence elsewhere with the lines: a line typed between a model and its evidence guesses none again', async () => {
    const path = '/w/conv.py';
    const text = `import torch
import torch.nn as nn


${SMALL_CONV}

def smoke_test():
    net = SmallConv()
    return net(torch.randn(4, 1, 28, 28))
`;
    const typed = text.replace('def smoke_test():\n', '# one batch\n\ndef smoke_test():\n');
    const changed = typed.replace('torch.randn(4, 1, 28, 28)', 'torch.randn(4, 1, 64, 64)');
    const [first, moved, edited] = (await steps([text, typed, changed], path)).map(({ work, result }) => ({ work, evidence: result.models[0]?.inputGuess?.evidence }));
    const line = (t: string) => t.split('\n').findIndex((l) => l.includes('torch.randn')) + 1;
    expect(defined(first).evidence).toContain(`line ${String(line(text))}`);
    // The model did not move; its evidence did, two lines down: the guess names the new line, guessed again for no model.
    expect(defined(moved).evidence).toContain(`line ${String(line(typed))}`);
    expect(defined(moved).work.guessedShapes).toBe(0);
    // The evidence itself changed: guessed again.
    expect(defined(edited).work.guessedShapes).toBe(1);
  });

  it('moves a model away from evidence written above it: the guess keeps naming the line that did not move, guessed again for no model', async () => {
    const path = '/w/conv_below.py';
    const text = `import torch
import torch.nn as nn


def smoke_test():
    net = SmallConv()
    return net(torch.randn(4, 1, 28, 28))


${SMALL_CONV}`;
    const typed = text.replace('\nclass SmallConv', '\n# the model\n\nclass SmallConv');
    const [first, moved] = (await steps([text, typed], path)).map(({ work, result }) => ({ work, model: result.models[0] }));
    const evidenceLine = `line ${String(text.split('\n').findIndex((l) => l.includes('torch.randn')) + 1)}`;
    expect(defined(first).model?.inputGuess?.evidence).toContain(evidenceLine);
    // The model moved two lines down, its evidence did not: the guess names the same line, and the model
    // is not the former copy moved (whose guess would name a line two below).
    expect(defined(moved).model?.range.start.line).toBe(Number(defined(first).model?.range.start.line) + 2);
    expect(defined(moved).model?.inputGuess?.evidence).toContain(evidenceLine);
    expect(defined(moved).work.guessedShapes).toBe(0);
  });
});

describe('a first analysis read whole, its groups extracted while idle (ProjectOptions.firstReadWhole, the server\'s project)', () => {
  const PATH = '/w/models.py';
  /** An edit inside build_b (a group of its own). */
  const IN_B = BUILDERS.replace('layers.Dense(32, activation="tanh")', 'layers.Dense(32, activation="sigmoid")');

  async function fresh(text: string): Promise<FileResult> {
    const project = await Project.create();
    try {
      project.setFile(PATH, text);
      return project.analyzeFile(PATH);
    } finally {
      project.dispose();
    }
  }

  /** The live project's result for `text` (set as a new version), checked against a fresh project's, and the groups it extracted. */
  async function analyzed(live: Project, text: string): Promise<number> {
    live.setFile(PATH, text);
    expect(live.analyzeFile(PATH)).toEqual(await fresh(text));
    return live.lastWork(PATH).extractedGroups;
  }

  /** Idle time until everything is done, one step per call (a deadline already past). */
  function idle(live: Project): void {
    for (let calls = 0; calls < 1000 && !live.prepareMoves(PATH, 0); calls++);
  }

  /** A project as the language server's analysis worker makes it, disposed when the test ends. */
  async function serverProject(): Promise<Project> {
    const project = await Project.create({ incremental: true, firstReadWhole: true });
    onTestFinished(() => { project.dispose(); });
    return project;
  }

  it('reads the file whole at first, extracts its groups when idle, then extracts only the group an edit changed', async () => {
    const live = await serverProject();
    expect(await analyzed(live, BUILDERS)).toBe(0);
    // One group per step when the deadline has passed: the first step leaves the second group to do.
    expect(live.prepareMoves(PATH, 0)).toBe(false);
    idle(live);
    expect(await analyzed(live, IN_B)).toBe(1);
    expect(live.lastWork(PATH).lintedModels).toBe(1);
  });

  it('extracts the groups with the next edit when it comes before any idle time, and reads only the first version whole', async () => {
    const live = await serverProject();
    expect(await analyzed(live, BUILDERS)).toBe(0);
    expect(await analyzed(live, IN_B)).toBe(2);
    expect(await analyzed(live, BUILDERS)).toBe(1);
  });

  it('keeps the groups a short idle time extracted, and drops the idle work of a version an edit replaced', async () => {
    const live = await serverProject();
    expect(await analyzed(live, BUILDERS)).toBe(0);
    // The first step extracts the group listed first (WIDTH's, build_a's: it starts higher); the edit is in build_b.
    expect(live.prepareMoves(PATH, 0)).toBe(false);
    expect(await analyzed(live, IN_B)).toBe(1);

    const other = await serverProject();
    expect(await analyzed(other, BUILDERS)).toBe(0);
    other.setFile(PATH, IN_B);
    // The groups left to extract were the replaced version's: nothing to do for them.
    expect(other.prepareMoves(PATH, Number.POSITIVE_INFINITY)).toBe(true);
    expect(other.analyzeFile(PATH)).toEqual(await fresh(IN_B));
    expect(other.lastWork(PATH).extractedGroups).toBe(2);
  });
});
