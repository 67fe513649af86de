/**
 * The predicted inline hint of a layer applied more than once (shared weights) speaks of one layer
 * applied N times, not of N layers, and its gradient is the summed one; layers a loop constructs on
 * one line are still counted as layers (the twin).
 */
import { describe, expect, it } from 'vitest';
import { predictionHints } from '../../../src/server/handlers/inlayHints';
import { extractFixture } from '../extract/torch-fixture';
import { modelNamed } from '../extract/extract-helper';

const everything = { start: { line: 0, character: 0 }, end: { line: 500, character: 0 } };

async function hintsOf(name: string): Promise<string[]> {
  const model = modelNamed(await extractFixture('shared_weights.py'), name);
  return predictionHints([model], everything).map((h) => h.label);
}

describe('predicted hints of shared weights', () => {
  it('says each Linear of a trunk called on two inputs is applied 2x, not two layers', async () => {
    const labels = await hintsOf('SiameseNet');
    expect(labels.filter((l) => l.endsWith('(applied 2x)'))).toHaveLength(2);
    expect(labels.filter((l) => / · ∇ .*layers\)/.test(l))).toEqual([]);
  });

  it('counts three Blocks a comprehension constructs as three layers (the twin)', async () => {
    const labels = await hintsOf('DistinctBlocks');
    expect(labels.some((l) => l.endsWith('(3 layers)'))).toBe(true);
    expect(labels.some((l) => /applied/.test(l))).toBe(false);
  });
});
