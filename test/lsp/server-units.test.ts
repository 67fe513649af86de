/** The server's pure pieces: incremental edits, results posted against the previous one, noqa comments, notebook layout, editor settings, crash policy. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diffEdit, pointAt } from '../../src/server/sourceEdit';
import { noqaEdit } from '../../src/server/noqa';
import { NotebookLayout } from '../../src/shared/notebook-layout';
import { parseEditorSettings } from '../../src/server/editorSettings';
import { CrashPolicy, MAX_RESTARTS, RESTART_WINDOW_MS } from '../../src/extension/crashPolicy';
import { parseSuppressions, isSuppressed } from '../../src/analysis/suppression';
import { defined } from '../defined';
import { PostedResults } from '../../src/server/analysisProtocol';
import type { Finding } from '../../src/shared/findings';

describe('diffEdit', () => {
  it('describes a one-character insertion in the middle of a line', () => {
    const before = 'x = Dense(64)\ny = 2\n';
    const after = 'x = Dense(640)\ny = 2\n';
    expect(diffEdit(before, after)).toEqual({
      startIndex: 12,
      oldEndIndex: 12,
      newEndIndex: 13,
      startPosition: { row: 0, column: 12 },
      oldEndPosition: { row: 0, column: 12 },
      newEndPosition: { row: 0, column: 13 },
    });
  });

  it('is null for equal texts', () => {
    expect(diffEdit('a\nb', 'a\nb')).toBeNull();
  });

  it('always describes exactly the replaced span (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n', ' ', '#') }), fc.string({ unit: fc.constantFrom('a', 'b', '\n', ' ', '#') }), (before, after) => {
        const edit = diffEdit(before, after);
        if (!edit) return before === after;
        const rebuilt = before.slice(0, edit.startIndex) + after.slice(edit.startIndex, edit.newEndIndex) + before.slice(edit.oldEndIndex);
        const endPoints = JSON.stringify([pointAt(before, edit.oldEndIndex), pointAt(after, edit.newEndIndex)]);
        return rebuilt === after && endPoints === JSON.stringify([edit.oldEndPosition, edit.newEndPosition]);
      }),
    );
  });
});

describe('noqaEdit', () => {
  const apply = (line: string, code: string) => {
    const e = noqaEdit(line, code);
    return e ? line.slice(0, e.start) + e.newText + line.slice(e.end) : null;
  };

  it('appends a noqa comment to a plain line', () => {
    expect(apply('    layers.Dense(64, activation="sigmoid"),', 'GL101')).toBe('    layers.Dense(64, activation="sigmoid"),  # noqa: GL101');
  });

  it('merges into an existing noqa list, including other tools\' codes', () => {
    expect(apply('x = Dense(8)  # noqa: GL202', 'GL101')).toBe('x = Dense(8)  # noqa: GL202, GL101');
    expect(apply('x = Dense(8)  # noqa: E501', 'GL101')).toBe('x = Dense(8)  # noqa: E501, GL101');
  });

  it('keeps an existing comment and adds the noqa after it', () => {
    expect(apply('x = Dense(8)  # hidden layer', 'GL101')).toBe('x = Dense(8)  # hidden layer  # noqa: GL101');
  });

  it('ignores a # inside a string', () => {
    expect(apply('name = "#1 layer"', 'GL101')).toBe('name = "#1 layer"  # noqa: GL101');
  });

  it('does nothing when the line already suppresses the code', () => {
    expect(noqaEdit('x = 1  # noqa: GL101', 'GL101')).toBeNull();
    expect(noqaEdit('x = 1  # noqa', 'GL101')).toBeNull();
    expect(noqaEdit('x = 1  # gradient-lens: ignore[GL101]', 'GL101')).toBeNull();
  });

  it('writes what the analyzer then honours', () => {
    for (const line of ['x = 1', 'x = 1  # note', 'x = 1  # noqa: E501', 'x = 1  # noqa: GL202', "s = '#'"]) {
      const fixed = defined(apply(line, 'GL101'));
      expect(isSuppressed(parseSuppressions(fixed), 'GL101', 0), fixed).toBe(true);
      expect(isSuppressed(parseSuppressions(line), 'GL101', 0), line).toBe(false);
    }
  });
});

describe('NotebookLayout', () => {
  const layout = new NotebookLayout([
    { uri: 'cell:md', startLine: -1, lineCount: 2, lastLineLength: 3 },
    { uri: 'cell:a', startLine: 0, lineCount: 3, lastLineLength: 10 },
    { uri: 'cell:b', startLine: 3, lineCount: 2, lastLineLength: 7 },
  ]);

  it('maps ranges of the joined text back to their cell', () => {
    expect(layout.toCell({ start: { line: 4, character: 2 }, end: { line: 4, character: 5 } })).toEqual({ uri: 'cell:b', range: { start: { line: 1, character: 2 }, end: { line: 1, character: 5 } } });
  });

  it('cuts a range that crosses cells at the end of its first cell', () => {
    expect(layout.toCell({ start: { line: 1, character: 0 }, end: { line: 4, character: 1 } })).toEqual({ uri: 'cell:a', range: { start: { line: 1, character: 0 }, end: { line: 2, character: 10 } } });
  });

  it('maps cell positions into the joined text, and refuses cells that are not part of it', () => {
    expect(layout.fromCell('cell:b', { line: 1, character: 4 })).toEqual({ line: 4, character: 4 });
    expect(layout.fromCell('cell:md', { line: 0, character: 0 })).toBeNull();
    expect(layout.cellUris).toEqual(['cell:a', 'cell:b']);
  });
});

describe('parseEditorSettings', () => {
  it('keeps only what the user set, normalized', () => {
    expect(parseEditorSettings({ enable: true, select: [], ignore: ['gl101', ''], severity: { gl203: 'error', GL101: 'loud' }, thresholds: { 'saturating-stack-length': 5, bad: {} } })).toEqual({
      enable: true,
      predictedHints: true,
      overrides: { ignore: ['GL101'], severity: { GL203: 'error' }, thresholds: { 'saturating-stack-length': 5 } },
    });
  });

  it('never throws on malformed input', () => {
    fc.assert(fc.property(fc.anything(), (value) => typeof parseEditorSettings(value).enable === 'boolean'));
  });
});

describe('CrashPolicy', () => {
  it(`restarts up to ${MAX_RESTARTS} crashes within the window, then gives up until reset`, () => {
    const policy = new CrashPolicy();
    const decisions = Array.from({ length: MAX_RESTARTS + 1 }, (_, i) => policy.shouldRestart(1000 + i));
    expect(decisions).toEqual([...Array<boolean>(MAX_RESTARTS).fill(true), false]);
    expect(policy.shouldRestart(1000 + RESTART_WINDOW_MS + 100)).toBe(true);
    policy.reset();
    expect(policy.shouldRestart(0)).toBe(true);
  });
});

describe('results posted against the previous one', () => {
  const finding = (n: number): Finding => ({ code: 'GL101', name: 'saturating-activation-stack', message: `finding ${String(n)}`, severity: 'warning', file: '/p/m.py', range: { start: { line: n, character: 0 }, end: { line: n, character: 9 } }, related: [], fixes: [], whatIf: null, modelId: 'm@0' });

  it('decode to the findings the worker holds after findings are removed, added and kept, wherever (property)', () => {
    // Per finding of the last result: 0 kept, 1 removed, 2 a new one added before it, 3 kept.
    const ops = fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(ops, ops, ops, (...rounds) => {
        const [worker, host] = [new PostedResults(), new PostedResults()];
        let made = 0;
        let findings = Array.from({ length: 25 }, () => finding(made++));
        const post = (list: Finding[]) => {
          expect(host.decode(worker.encode({ path: '/p/m.py', error: null, notices: [], models: [], findings: list }))?.findings).toEqual(list);
        };
        post(findings);
        for (const round of rounds) {
          findings = findings.flatMap((kept, i) => {
            const op = round[i % round.length]!;
            return op === 1 ? [] : op === 2 ? [finding(made++), kept] : [kept];
          });
          post(findings);
        }
      }),
      { numRuns: 300, seed: 20261204 },
    );
  });
});
