/**
 * A layer another file's code makes when the model's file builds a module of that file
 * (`self.proj = ProjectionBlock([opts.dim, 128, 64], norm=True)` in encoder.py): the finding is shown
 * at that line of the model's file and marked where blocks.py writes the layer (once, however many
 * times the model builds the module), and both go away with a suppression on either line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { Project } from '../../../src/analysis/project';
import { analyzeFiles } from '../project-helper';
import { defined } from '../../defined';

const dir = join(__dirname, '../../fixtures/constructs/layer_elsewhere');
const blocks = readFileSync(join(dir, 'blocks.py'), 'utf8');
const encoder = readFileSync(join(dir, 'encoder.py'), 'utf8');
const codes = (r: FileResult | undefined) => defined(r).findings.map((f) => `${f.code}@${f.range.start.line + 1}${f.echoes ? ' (mark)' : ''}`);

describe('a finding about a layer written in another file', () => {
  it('is reported where the model builds the module and marked where the layer is written', async () => {
    const [inBlocks, inEncoder] = await analyzeFiles({ '/p/blocks.py': blocks, '/p/encoder.py': encoder });
    expect(codes(inEncoder)).toEqual(['GL302@9']);
    expect(codes(inBlocks)).toEqual(['GL302@9 (mark)']);
    const mark = defined(defined(inBlocks).findings[0]);
    expect(mark.message).toContain("(in model 'Encoder', built at encoder.py:9)");
    expect(mark.fixes).toEqual([]);
    expect(mark.echoes).toEqual([{ file: '/p/encoder.py', range: defined(defined(inEncoder).findings[0]).range }]);
  });

  it('shows the mark when only the layer\'s file is asked for (the editor analyzes one file)', async () => {
    const project = await Project.create();
    try {
      project.setFile('/p/blocks.py', blocks);
      project.setFile('/p/encoder.py', encoder);
      expect(codes(project.analyzeFile('/p/blocks.py'))).toEqual(['GL302@9 (mark)']);
    } finally {
      project.dispose();
    }
  });

  it('goes away with a suppression on the finding, and with the bias removed', async () => {
    const suppressed = encoder.replace('norm=True)', 'norm=True)  # noqa: GL302');
    const quiet = await analyzeFiles({ '/p/blocks.py': blocks, '/p/encoder.py': suppressed });
    expect(quiet.flatMap((r) => r.findings)).toEqual([]);
    const clean = await analyzeFiles({ '/p/blocks.py': blocks.replace('nn.Linear(widths[i - 1], widths[i])', 'nn.Linear(widths[i - 1], widths[i], bias=False)'), '/p/encoder.py': encoder });
    expect(clean.flatMap((r) => r.findings)).toEqual([]);
  });

  // The module built twice: one finding per build in encoder.py, one mark in blocks.py naming both.
  const builtTwice = encoder
    .replace('norm=True)\n', 'norm=True)\n        self.head = ProjectionBlock([64, opts.classes], norm=True)\n')
    .replace('return self.proj(x)', 'return self.head(self.proj(x))');

  it('is marked once where the layer is written when the model builds the module twice', async () => {
    const [inBlocks, inEncoder] = await analyzeFiles({ '/p/blocks.py': blocks, '/p/encoder.py': builtTwice });
    expect(codes(inEncoder)).toEqual(['GL302@9', 'GL302@10']);
    expect(codes(inBlocks)).toEqual(['GL302@9 (mark)']);
    const mark = defined(defined(inBlocks).findings[0]);
    expect(mark.message).toMatch(/\(in model 'Encoder', built at encoder\.py:9\) \(also 'head\.seq\.0' at encoder\.py:10\)$/);
    expect(defined(mark.echoes).map((site) => site.range.start.line + 1)).toEqual([9, 10]);
    // One build suppressed: the mark stays for the other.
    const oneSuppressed = await analyzeFiles({ '/p/blocks.py': blocks, '/p/encoder.py': builtTwice.replace('[opts.dim, 128, 64], norm=True)', '[opts.dim, 128, 64], norm=True)  # noqa: GL302') });
    expect(oneSuppressed.map(codes)).toEqual([['GL302@9 (mark)'], ['GL302@10']]);
  });

  it('goes away in every model with a suppression where the layer is written', async () => {
    const atDefinition = blocks.replace('nn.Linear(widths[i - 1], widths[i]))', 'nn.Linear(widths[i - 1], widths[i]))  # noqa: GL302');
    const quiet = await analyzeFiles({ '/p/blocks.py': atDefinition, '/p/encoder.py': builtTwice });
    expect(quiet.flatMap((r) => r.findings)).toEqual([]);
    // Another rule's suppression there silences nothing.
    const otherRule = blocks.replace('nn.Linear(widths[i - 1], widths[i]))', 'nn.Linear(widths[i - 1], widths[i]))  # noqa: GL101');
    const loud = await analyzeFiles({ '/p/blocks.py': otherRule, '/p/encoder.py': builtTwice });
    expect(loud.map(codes)).toEqual([['GL302@9 (mark)'], ['GL302@9', 'GL302@10']]);
  });

  it('adds no mark where the module, read with constant arguments, has the finding itself', async () => {
    const constant = encoder.replace('[opts.dim, 128, 64]', '[32, 128, 64]');
    const [inBlocks, inEncoder] = await analyzeFiles({ '/p/blocks.py': blocks, '/p/encoder.py': constant });
    expect(codes(inBlocks)).toEqual(['GL302@9']);
    expect(codes(inEncoder)).toEqual(['GL302@9']);
  });
});
