/** applyWhatIf: each IR edit op, on chains and graphs, without touching the input model. */
import { describe, expect, it } from 'vitest';
import { applyWhatIf, WhatIfError } from '../../src/shared/what-if';
import { keras, torch } from './ir-builder';
import { defined } from '../defined';

const chain = () => keras('m').input([8]).dense(16, 'relu', { name: 'a' }).layer({ kind: 'activation', name: 'act', activation: 'relu' }).layer({ kind: 'batchnorm', name: 'bn' }).dense(2, undefined, { name: 'out' }).build();

const graph = () =>
  keras('g')
    .asGraph()
    .input([8])
    .layer({ kind: 'input', name: 'inp' })
    .layer({ kind: 'dense', name: 'a', units: 8, inputs: ['inp'] })
    .layer({ kind: 'activation', name: 'act', activation: 'relu', inputs: ['a'] })
    .layer({ kind: 'batchnorm', name: 'bn', inputs: ['act'] })
    .layer({ kind: 'add', name: 'res', inputs: ['bn', 'inp'] })
    .build();

const ids = (m: ReturnType<typeof chain>) => m.layers.map((l) => l.name);
const inputsOf = (m: ReturnType<typeof chain>, name: string) => defined(m.layers.find((l) => l.name === name)).inputs.map((id) => defined(m.layers.find((l) => l.id === id)).name);

describe('applyWhatIf', () => {
  it('sets activation and kernel initializer without mutating the input', () => {
    const model = chain();
    const before = JSON.stringify(model);
    const edited = applyWhatIf(model, { title: 't', ops: [{ op: 'set-activation', layerId: 'L0', activation: 'tanh' }, { op: 'set-kernel-init', layerId: 'L0', init: { name: 'glorot_normal', params: {}, options: {} } }] });
    expect(JSON.stringify(model)).toBe(before);
    expect(edited.layers[0]!.activation?.name).toBe('tanh');
    expect(edited.layers[0]!.kernelInit).toMatchObject({ name: 'glorot_normal', explicit: true, framework: 'keras' });
  });

  it('moves batch normalization before the activation in a chain', () => {
    const edited = applyWhatIf(chain(), { title: 't', ops: [{ op: 'move-before', layerId: 'L2', beforeLayerId: 'L1' }] });
    expect(ids(edited)).toEqual(['a', 'bn', 'act', 'out']);
  });

  it('moves it in a graph and rewires the edges', () => {
    const edited = applyWhatIf(graph(), { title: 't', ops: [{ op: 'move-before', layerId: 'L3', beforeLayerId: 'L2' }] });
    expect(ids(edited)).toEqual(['inp', 'a', 'bn', 'act', 'res']);
    expect(inputsOf(edited, 'bn')).toEqual(['a']);
    expect(inputsOf(edited, 'act')).toEqual(['bn']);
    expect(inputsOf(edited, 'res')).toEqual(['act', 'inp']);
  });

  it('inserts and removes layers, rewiring graph consumers', () => {
    const edited = applyWhatIf(graph(), { title: 't', ops: [{ op: 'insert-after', afterLayerId: 'L1', kind: 'batchnorm', activation: null }, { op: 'remove-layer', layerId: 'L3' }] });
    expect(edited.layers.map((l) => l.kind)).toEqual(['input', 'dense', 'batchnorm', 'activation', 'add']);
    expect(inputsOf(edited, 'act')).toEqual([edited.layers[2]!.name]);
    expect(inputsOf(edited, 'res')).toEqual(['act', 'inp']);
    expect(new Set(edited.layers.map((l) => l.id)).size).toBe(edited.layers.length);
  });

  it('patches the optimizer, creating one when the code has none', () => {
    const withAdam = torch('t').input([4]).dense(2).withOptimizer('adam', { learningRate: 0.1 }).build();
    expect(applyWhatIf(withAdam, { title: 't', ops: [{ op: 'set-optimizer', patch: { clipnorm: 1 } }] }).training.optimizer).toMatchObject({ name: 'adam', learningRate: 0.1, clipnorm: 1 });
    expect(applyWhatIf(chain(), { title: 't', ops: [{ op: 'set-optimizer', patch: { globalClipnorm: 5 } }] }).training.optimizer).toMatchObject({ name: 'unknown', globalClipnorm: 5 });
  });

  it('replaces kinds and bias use', () => {
    const edited = applyWhatIf(chain(), { title: 't', ops: [{ op: 'replace-kind', layerId: 'L2', kind: 'layernorm' }, { op: 'set-use-bias', layerId: 'L0', value: false }] });
    expect(edited.layers[2]!.kind).toBe('layernorm');
    expect(edited.layers[0]!.useBias).toBe(false);
  });

  it('names a missing layer id', () => {
    expect(() => applyWhatIf(chain(), { title: 't', ops: [{ op: 'remove-layer', layerId: 'L99' }] })).toThrow(WhatIfError);
    expect(() => applyWhatIf(chain(), { title: 't', ops: [{ op: 'remove-layer', layerId: 'L99' }] })).toThrow(/L99/);
  });
});
