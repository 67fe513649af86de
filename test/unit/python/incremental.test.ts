/**
 * Incremental analysis equals analysis from scratch (issue 10), as a property (fast-check): random
 * edit sequences on the examples and fixtures (a cross-file workspace among them) are fed to one
 * long-lived incremental project as the language server feeds them (incremental re-parse from the
 * edit, statement groups, models and findings cached between analyses, some analyses cancelled
 * part-way), and every file's results (findings, models, notices), diagnostics and hovers must equal those of a
 * fresh project that reads every file whole, given the final texts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { AnalysisCancelled } from '../../../src/analysis/cancellation';
import { Project } from '../../../src/analysis/project';
import { hoverAt } from '../../../src/server/handlers/hover';
import { heldResult, PostedResults, type HeldResult } from '../../../src/server/analysisProtocol';
import type { Position } from '../../../src/shared/ir';
import { deserialize, serialize } from 'node:v8';
import { diffEdit } from '../../../src/server/sourceEdit';
import { diagnosticsOf, locationMapper } from '../../../src/server/diagnosticsPublisher';
import { OpenUnit } from '../../../src/server/openUnits';
import { pathToFileURL } from 'node:url';
import { byRows, moveRows, shiftRows } from '../../../src/analysis/row-shift';
import type { Finding } from '../../../src/shared/findings';
import { defined } from '../../defined';

const ROOT = resolve(__dirname, '../../..');
const SEED = Number(process.env.INCREMENTAL_SEED ?? 20261202);

function pythonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pythonFiles(path);
    return entry.name.endsWith('.py') ? [path] : [];
  });
}

/** Every example, and the LSP fixtures with their two-file workspace (a model and the script that trains it). */
const FILES = new Map([...pythonFiles(join(ROOT, 'examples')), ...pythonFiles(join(ROOT, 'test/lsp/fixtures'))].map((p) => [p, readFileSync(p, 'utf8')]));
const PATHS = [...FILES.keys()].sort();

/** What edits type or paste into model code: activations, layers, initializers, brackets, lines, suppressions. */
const FRAGMENTS = ['relu', 'tanh', 'sigmoid', 'activation="tanh"', 'nn.Sigmoid(),', 'nn.Tanh(),', 'layers.Dense(64),', 'kernel_initializer="he_normal"', '\n', '\n    ', '(', ')', ',', '# noqa: GL101', 'import torch\n', 'x = F.relu(x)\n', '\n\n', '# a note\n', 'nn.BatchNorm1d(64),', '0', '5'];

interface Edit {
  file: number;
  /** Where, as a fraction of the text, and how many characters to delete there. */
  at: number;
  remove: number;
  insert: string;
  /** Edit at the start of the line `at` falls in (typing Enter above a line, pasting or deleting whole lines). */
  atLineStart: boolean;
  /** Analyze the live project after this edit; cancel that analysis after `cancelAfter` checkpoints (null: let it finish). */
  analyze: boolean;
  cancelAfter: number | null;
}

const editArb: fc.Arbitrary<Edit> = fc.record({
  file: fc.nat({ max: PATHS.length - 1 }),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.oneof(fc.constant(0), fc.nat({ max: 12 })),
  insert: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.constant('')),
  atLineStart: fc.boolean(),
  analyze: fc.boolean(),
  cancelAfter: fc.option(fc.nat({ max: 40 }), { nil: null }),
});

/** Where hovers are asked: at every layer of the models a fresh analysis finds. */
function hoverPositions(result: FileResult): Position[] {
  return result.models.flatMap((m) => m.layers.map((l) => l.range.start));
}

/**
 * Results as compared: everything the editor shows, in a stable form. The hovers and diagnostics are
 * made first: the server moves the models and findings it holds when they are read, a hover reads only
 * the models near it, and diagnostics are made from the findings as held, moved or not.
 */
function comparable(result: HeldResult, text: string, positions: readonly Position[]): unknown {
  const lines = text.split('\n');
  const lineText = (line: number) => lines[line] ?? '';
  const hovers = positions.map((position) => hoverAt(result, lineText, position)?.markdown ?? null);
  const unit = new OpenUnit(result.path, pathToFileURL(result.path).href, text, null);
  const diagnostics = [...diagnosticsOf(unit, { version: 1, generation: 0, result }, locationMapper([unit]))];
  return { hovers, diagnostics, result };
}

/** A project's result and its hovers at its own layers. */
function comparableFresh(result: FileResult, text: string): unknown {
  return comparable(heldResult(result), text, hoverPositions(result));
}

/**
 * The language server's two ends of the worker channel: each result encoded against the previous one
 * (moved items as `[index, rows]`), copied as postMessage copies it, and decoded from what the host holds.
 */
function channel(moved: { items: number }): (result: FileResult) => HeldResult {
  const worker = new PostedResults();
  const host = new PostedResults();
  return (result) => {
    const posted = worker.encode(result);
    moved.items += [...(posted.models ?? []), ...posted.findings].filter((item) => Array.isArray(item)).length;
    return defined(host.decode(deserialize(serialize(posted)) as typeof posted));
  };
}

/** Lets the test worker answer its runner between long synchronous analyses. */
const breathe = () => new Promise((resolve) => setImmediate(resolve));

async function freshResults(texts: Map<string, string>): Promise<Map<string, FileResult>> {
  const project = await Project.create();
  try {
    for (const [path, text] of texts) project.setFile(path, text);
    const results = new Map<string, FileResult>();
    for (const path of texts.keys()) {
      results.set(path, project.analyzeFile(path));
      await breathe();
    }
    return results;
  } finally {
    project.dispose();
  }
}

/**
 * Applies `steps` to a file's text one edit at a time, as the editor sends them, in an editor's project:
 * each result must equal a fresh analysis of that text. Returns each step's result and text.
 */
async function stepsEqualFresh(path: string, steps: readonly ((text: string) => string)[]): Promise<{ result: FileResult; text: string }[]> {
  const live = await Project.create({ incremental: true });
  let text = defined(FILES.get(path));
  live.setFile(path, text);
  live.analyzeFile(path);
  const seen: { result: FileResult; text: string }[] = [];
  try {
    for (const step of steps) {
      const next = step(text);
      expect(next).not.toBe(text);
      live.setFile(path, next, diffEdit(text, next) ?? undefined);
      text = next;
      const result = live.analyzeFile(path);
      const expected = defined((await freshResults(new Map([[path, text]]))).get(path));
      expect(comparable(heldResult(result), text, hoverPositions(expected))).toEqual(comparableFresh(expected, text));
      seen.push({ result, text });
    }
    return seen;
  } finally {
    live.dispose();
  }
}

/** Applies `edit` to its file in `texts` and in the live project, as the editor sends it, and analyzes the file if the edit says so (cancelled part-way if it says so). */
async function applyEdit(live: Project, texts: Map<string, string>, edit: Edit): Promise<void> {
  const path = PATHS[edit.file]!;
  const before = defined(texts.get(path));
  const at = Math.floor(edit.at * before.length);
  const start = edit.atLineStart ? before.lastIndexOf('\n', at - 1) + 1 : at;
  const after = before.slice(0, start) + edit.insert + before.slice(Math.min(before.length, start + edit.remove));
  texts.set(path, after);
  live.setFile(path, after, diffEdit(before, after) ?? undefined);
  await breathe();
  if (!edit.analyze) return;
  let checks = 0;
  const cancelAfter = edit.cancelAfter;
  try {
    live.analyzeFile(path, cancelAfter === null ? undefined : () => ++checks > cancelAfter);
  } catch (error) {
    if (!(error instanceof AnalysisCancelled)) throw error;
  }
}

/** Every file's result in the live project (its diagnostics and hovers too) equals a fresh project's for the same texts. */
async function expectAllFresh(live: Project, texts: Map<string, string>): Promise<void> {
  const fresh = await freshResults(texts);
  for (const path of PATHS) {
    const text = defined(texts.get(path));
    const expected = defined(fresh.get(path));
    expect(comparable(heldResult(live.analyzeFile(path)), text, hoverPositions(expected)), path).toEqual(comparableFresh(expected, text));
    await breathe();
  }
}

/**
 * Random sequences of `arb` run (`run`) on one live project that has every file set and analyzed once;
 * after each sequence every file's result equals a fresh analysis of the texts.
 */
async function holdsOnLiveProject<T>(options: { firstReadWhole?: boolean }, arb: fc.Arbitrary<T>, run: (live: Project, texts: Map<string, string>, step: T) => Promise<void>): Promise<void> {
  const live = await Project.create({ incremental: true, ...options });
  const texts = new Map(FILES);
  for (const [path, text] of texts) live.setFile(path, text);
  for (const path of PATHS) live.analyzeFile(path);
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: 6 }), async (steps) => {
        for (const step of steps) await run(live, texts, step);
        await expectAllFresh(live, texts);
      }),
      { seed: SEED, numRuns: 8, endOnFailure: true },
    );
  } finally {
    live.dispose();
  }
}

/** An edit, and the idle time the server had on its file before it: none, that many steps of work, or (-1) all of it. */
const idleThenEditArb = fc.record({ idleSteps: fc.oneof(fc.constant(0), fc.nat({ max: 3 }), fc.constant(-1)), edit: editArb });

describe('incremental analysis', () => {
  it('equals a fresh analysis after random edit sequences, with analyses in between and some cancelled', async () => {
    expect(PATHS.length).toBeGreaterThan(20);
    // The editor's project (statement groups cached between analyses) against the CLI's (each file read whole).
    await holdsOnLiveProject({}, editArb, (live, texts, edit) => applyEdit(live, texts, edit));
  }, 900_000);

  it('equals a fresh analysis when each file was read whole at first and its groups are extracted in idle steps between random edits (the server\'s project)', async () => {
    await holdsOnLiveProject({ firstReadWhole: true }, idleThenEditArb, async (live, texts, { idleSteps, edit }) => {
      const path = PATHS[edit.file]!;
      // A deadline already past: one group (or one model's move) per step; an endless one: all of it.
      if (idleSteps < 0) live.prepareMoves(path, Number.POSITIVE_INFINITY);
      for (let i = 0; i < idleSteps; i++) live.prepareMoves(path, 0);
      await applyEdit(live, texts, edit);
    });
  }, 900_000);

  it('equals a fresh analysis after lines typed, pasted or deleted between and inside definitions (results moved with their lines), in the project and as posted to the server', async () => {
    const live = await Project.create({ incremental: true });
    const texts = new Map(FILES);
    for (const [path, text] of texts) live.setFile(path, text);
    for (const path of PATHS) live.analyzeFile(path);
    const moved = { items: 0 };
    const lineEdit = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), insert: fc.constantFrom('\n', '\n\n\n', '# a note\n', '    \n', '') });
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: PATHS.length - 1 }), fc.array(lineEdit, { minLength: 1, maxLength: 5 }), async (file, edits) => {
          const path = PATHS[file]!;
          const posted = channel(moved);
          posted(live.analyzeFile(path));
          let received: HeldResult | null = null;
          for (const edit of edits) {
            const before = defined(texts.get(path));
            const start = before.lastIndexOf('\n', Math.floor(edit.at * before.length) - 1) + 1;
            const lineEnd = before.indexOf('\n', start);
            // No text: delete the line there when it is blank (as when pressing Backspace on an empty line).
            const remove = edit.insert === '' && lineEnd >= 0 && before.slice(start, lineEnd).trim() === '' ? lineEnd + 1 - start : 0;
            const after = before.slice(0, start) + edit.insert + before.slice(start + remove);
            texts.set(path, after);
            live.setFile(path, after, diffEdit(before, after) ?? undefined);
            received = posted(live.analyzeFile(path));
          }
          const fresh = await Project.create();
          try {
            for (const [p, text] of texts) fresh.setFile(p, text);
            const text = defined(texts.get(path));
            const freshResult = fresh.analyzeFile(path);
            const positions = hoverPositions(freshResult);
            const expected = comparableFresh(freshResult, text);
            expect(comparable(heldResult(live.analyzeFile(path)), text, positions), path).toEqual(expected);
            // What the server holds after the worker posted each result against the one before.
            expect(comparable(defined(received), text, positions), path).toEqual(expected);
          } finally {
            fresh.dispose();
          }
          await breathe();
        }),
        { seed: SEED, numRuns: 30, endOnFailure: true },
      );
      // Models and findings went to the server as moved copies of what it held.
      expect(moved.items).toBeGreaterThan(0);
    } finally {
      live.dispose();
    }
  }, 900_000);

  it('shows findings posted as moved by lines typed above them as the moved findings: ranges, related locations and the lines messages name', () => {
    const file = '/w/model.py';
    const range = (line: number) => ({ start: { line, character: 8 }, end: { line, character: 40 } });
    const finding: Finding = {
      code: 'GL101',
      name: 'saturating-activation-stack',
      message: 'the sigmoid on line 5 follows the sigmoid on line 4: gradients shrink at every layer',
      severity: 'warning',
      file,
      range: range(4),
      related: [{ location: { file, range: range(3) }, message: 'the sigmoid on line 4' }],
      fixes: [],
      whatIf: null,
      modelId: 'build@2',
    };
    const resultOf = (findings: Finding[]): FileResult => ({ path: file, error: null, notices: [], models: [], findings });
    const posted = { items: 0 };
    const send = channel(posted);
    send(resultOf([finding]));
    // What the lint cache gives for a model two lines typed above it moved: the finding moved, posted as [index, rows].
    const held = send(resultOf([defined(moveRows(finding, file, byRows(2)))]));
    expect(posted.items).toBe(1);
    const unit = new OpenUnit(file, 'file:///w/model.py', '', null);
    const shown = (result: HeldResult) => [...diagnosticsOf(unit, { version: 2, generation: 0, result }, locationMapper([unit]))];
    expect(shown(held)).toEqual(shown(heldResult(resultOf([defined(shiftRows(finding, file, byRows(2)))]))));
    const diagnostic = shown(held)[0]?.[1][0];
    expect(diagnostic?.message).toBe('the sigmoid on line 7 follows the sigmoid on line 6: gradients shrink at every layer');
    expect(diagnostic?.range.start.line).toBe(6);
    expect(diagnostic?.relatedInformation?.[0]).toEqual({ location: { uri: 'file:///w/model.py', range: range(5) }, message: 'the sigmoid on line 6' });
  });

  /** shared_activation.py's classifier importing Dense itself after `opening` and stacking sigmoid layers with it (one edit: the lines between change). */
  const SHARED_ACTIVATION = join(ROOT, 'test/lsp/fixtures/shared_activation.py');
  const importingDense = (opening: string, closing: string) => (t: string) =>
    t.replace('def build_classifier():\n', `def build_classifier():\n${opening}    from tensorflow.keras.layers import Dense\n${closing}`).replace('        layers.Dense(64, activation="relu", kernel_initializer="he_normal"),\n'.repeat(3), '        Dense(64, activation="sigmoid"),\n'.repeat(3));

  it('equals a fresh analysis through an import added inside a function body, a top-level import changed and edits that change no import', async () => {
    const steps: ((text: string) => string)[] = [
      importingDense('', '\n'),
      (t) => t.replace('from tensorflow.keras import layers\n', 'from tensorflow.keras import layers, initializers\n'),
      // Inside one definition, no import touched: the import table is the previous version's, moved.
      (t) => t.replace('def build_decoder(n_out=784):\n', 'def build_decoder(n_out=784):\n    # the mirror of the encoder\n'),
      (t) => t.replace('Dense(64, activation="sigmoid")', 'Dense(64, activation="tanh")'),
      (t) => t.replace('from tensorflow.keras import layers, initializers\n', 'import tensorflow.keras.layers as layers\n'),
    ];
    const seen = await stepsEqualFresh(SHARED_ACTIVATION, steps);
    const classifierFindings = seen.map(({ result, text }) => {
      const classifier = text.slice(0, text.indexOf('def build_classifier')).split('\n').length - 1;
      return result.findings.filter((f) => f.range.start.line > classifier).length;
    });
    // Dense, imported in the function, was read as Keras's: its sigmoid stack is flagged.
    expect(classifierFindings[0]).toBeGreaterThan(0);
  }, 120_000);

  it('equals a fresh analysis when a quote typed or deleted on one line turns an import on a later line into a string or back', async () => {
    const steps: ((text: string) => string)[] = [
      // The import between two assignments, the second with ''' in its comment.
      importingDense('    head = 1\n', "    tail = 2  # '''\n"),
      // An edit on the line above the import: the import is now text of a string that ends in the comment.
      (t) => t.replace('    head = 1\n', "    head = '''\n"),
      // Inside the string: no syntax changes outside the edited line.
      (t) => t.replace('    tail = 2  #', '    tail = 3  #'),
      // And back: the import is code again.
      (t) => t.replace("    head = '''\n", '    head = 1\n'),
    ];
    const seen = await stepsEqualFresh(SHARED_ACTIVATION, steps);
    // Dense is Keras's by its import while the import is code, assumed to be while it is a string's text.
    const assumed = seen.map(({ result }) => result.notices.some((n) => n.message.includes("no import found for 'Dense'")));
    expect(assumed).toEqual([false, true, true, false]);
  }, 120_000);

  it('equals a fresh analysis through lines inserted above a model and edits to input-shape evidence in another group', async () => {
    const path = join(ROOT, 'test/lsp/fixtures/evidence_elsewhere.py');
    const steps: ((text: string) => string)[] = [
      (t) => t.replace('class SmallConv', '# Two sigmoid convs: the probe shows them saturate.\n\n\nclass SmallConv'),
      (t) => t.replace('torch.randn(4, 1, 28, 28)', 'torch.randn(4, 1, 64, 64)'),
      (t) => t.replace('import torch.nn.functional as F\n', 'import torch.nn.functional as F\n\nEPOCHS = 2\n'),
      (t) => t.replace('torch.sigmoid(self.conv2(x))', 'torch.relu(self.conv2(x))'),
      (t) => t.replace('def smoke_test():\n', 'def smoke_test():\n    # one batch of four\n'),
      (t) => t.replace('torch.randn(4, 1, 64, 64)', 'torch.randn(4, 3, 64, 64)'),
      (t) => t.replace('torch.randn(4, 3, 64, 64)', 'torch.randn(4, 1, 64, 64)'),
      // Lines typed between the model and its evidence: the model stays, the line its guess names moves.
      (t) => t.replace('\ndef train(', '\n\n# the loop\ndef train('),
    ];
    const guesses = (await stepsEqualFresh(path, steps)).map(({ result }) => result.models.find((m) => m.name === 'SmallConv')?.inputGuess?.shape);
    // The evidence reached the model: 28 -> 64, then refused for its three channels.
    expect(guesses[0]).toEqual([1, 28, 28]);
    expect(guesses[1]).toEqual([1, 64, 64]);
    expect(guesses[5]).not.toEqual([3, 64, 64]);
    expect(guesses[7]).toEqual([1, 64, 64]);
  }, 120_000);
});
