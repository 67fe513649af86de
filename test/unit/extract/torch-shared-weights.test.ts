/**
 * A torch module applied more than once holds one set of parameters: every later application names
 * the first in `sharesWeightsWith`. Distinct constructions (a comprehension building N blocks, deep
 * copies) are the twins and share nothing.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/shared/ir';
import { extractFixture } from './torch-fixture';
import { modelNamed, sharing } from './extract-helper';

const models = async (): Promise<ModelIR[]> => extractFixture('shared_weights.py');

describe('shared weights (torch)', () => {
  it('marks each weighted sublayer of a trunk called on two inputs as the first call\'s, not its activations', async () => {
    const m = modelNamed(await models(), 'SiameseNet');
    expect(sharing(m)).toEqual(['trunk.0@L5 -> L1', 'trunk.2@L7 -> L3']);
    expect(m.layers.filter((l) => l.name === 'trunk.0')).toHaveLength(2);
  });

  it('shares nothing between two trunks constructed separately (the twin)', async () => {
    expect(sharing(modelNamed(await models(), 'TwinTowers'))).toEqual([]);
  });

  it('reads an RNN cell stepped through time in forward (each step reads the state the last wrote) as one recurrent layer', async () => {
    const m = modelNamed(await models(), 'UnrolledCell');
    // The cell's application is the recurrent layer over the sequence; the head reads its last state.
    expect(m.layers.map((l) => `${l.name}:${l.kind}`)).toEqual(['cell:simple-rnn', 'out:dense']);
    expect(sharing(m)).toEqual([]);
  });

  it('keeps a cell applied again to a state something else computed (iterative refinement) as shared applications', async () => {
    const m = modelNamed(await models(), 'RefinedCell');
    expect(m.layers.filter((l) => l.name === 'cell')).toHaveLength(3);
    expect(sharing(m).filter((s) => s.startsWith('cell@'))).toEqual(['cell@L4 -> L1', 'cell@L7 -> L1']);
  });

  it('marks a block listed three times as one module', async () => {
    const m = modelNamed(await models(), 'RepeatedBlock');
    expect(sharing(m).map((s) => s.split(' -> ')[1])).toEqual(['L0', 'L0']);
  });

  it.each(['DistinctBlocks', 'CopiedBlocks'])('shares nothing in %s (blocks constructed or deep-copied per entry)', async (name) => {
    const m = modelNamed(await models(), name);
    expect(m.layers.filter((l) => l.kind === 'dense')).toHaveLength(4);
    expect(sharing(m)).toEqual([]);
  });

  it('shares nothing in the layers _get_clones makes (deep copies of one encoder layer)', async () => {
    const all = await extractFixture('transformer_clones.py');
    expect(all.some((m) => m.layers.filter((l) => l.kind === 'dense').length > 2)).toBe(true);
    expect(all.flatMap(sharing)).toEqual([]);
  });
});
