/**
 * IR records as V8 keeps them fast (shared/layers.ts commonRecord, shared/models.ts): every layer and
 * model the analysis of real files makes, and the copies cloneLayer, layerWith, cloneModel and
 * modelWith make of them, are fast-mode objects, and those with the same fields in the same order
 * share one map. Layers built by assigning their fields onto a smaller object were dictionaries (each
 * read of a field a hash lookup); spreads of models gave every copy a map of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInThisContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerIR, ModelIR } from '../../../src/shared/ir';
import { cloneLayer, layerWith } from '../../../src/shared/layers';
import { cloneModel, modelWith } from '../../../src/shared/models';
import { mapPacked } from '../../../src/shared/packed';
import { makeModel } from '../../../src/analysis/extract/builders';
import { judgeFlowProfile } from '../../../src/shared/gradient-flow';
import { analyzeFiles } from '../project-helper';

// V8's own answers (natives syntax, allowed for functions compiled after the flag is set).
setFlagsFromString('--allow-natives-syntax');
const native = (params: string[], body: string) => runInThisContext(`(function (${params.join(', ')}) { return ${body}; })`) as (...values: object[]) => unknown;
const hasFastProperties = native(['value'], '%HasFastProperties(value)');
const haveSameMap = native(['a', 'b'], '%HaveSameMap(a, b)');
// A field that changed representation leaves older records on a map V8 replaced, moved to the new one when next touched.
const migrate = native(['value'], '%TryMigrateInstance(value)');
const hasHoleyElements = native(['value'], '%HasHoleyElements(value)');

/** `run()` as TurboFan compiles `fn` (warmed up by two calls of `run`, then optimized before the third). */
function optimized<T>(fn: (...args: never[]) => unknown, run: () => T): T {
  native(['fn'], '%PrepareFunctionForOptimization(fn)')(fn);
  run();
  run();
  native(['fn'], '%OptimizeFunctionOnNextCall(fn)')(fn);
  return run();
}

/** The examples and the fixtures: models of every shape the analysis reads (Keras, PyTorch, graphs, recurrent, notebooks' code). */
function corpus(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const dir of ['examples', 'test/fixtures']) {
    for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) if (name.endsWith('.py')) files[join(dir, name)] = readFileSync(join(dir, name), 'utf8');
  }
  return files;
}

/** The records that do not share a map with the first record of the same fields in the same order. */
function mapsNotShared(records: readonly object[]): string[] {
  const firstByKeys = new Map<string, object>();
  const apart: string[] = [];
  for (const record of records) {
    migrate(record);
    const keys = Object.keys(record).join(',');
    const first = firstByKeys.get(keys);
    if (!first) firstByKeys.set(keys, record);
    else if (!haveSameMap(first, record)) apart.push(keys);
  }
  return apart;
}

const slow = (records: readonly object[]) => records.filter((record) => !hasFastProperties(record));

describe('IR records V8 keeps in fast mode', () => {
  let models: ModelIR[] = [];
  let layers: LayerIR[] = [];
  beforeAll(async () => {
    models = (await analyzeFiles(corpus())).flatMap((r) => r.models);
    layers = models.flatMap((m) => m.layers);
  });

  it('reads a corpus with many shapes of models and layers', () => {
    expect(models.length).toBeGreaterThan(50);
    expect(new Set(layers.map((l) => l.kind)).size).toBeGreaterThan(15);
  });

  it('makes every model and layer a fast-mode object, one map per set of fields', () => {
    expect(slow(layers)).toEqual([]);
    expect(slow(models)).toEqual([]);
    expect(mapsNotShared(layers)).toEqual([]);
    expect(mapsNotShared(models)).toEqual([]);
  });

  it('keeps the copies fast, on the maps of the records they copy', () => {
    const layerCopies = layers.flatMap((l) => [cloneLayer(l), layerWith(l, { units: 7 })]);
    const modelCopies = models.flatMap((m) => [cloneModel(m), modelWith(m, { name: `${m.name}_copy` })]);
    expect(slow(layerCopies)).toEqual([]);
    expect(slow(modelCopies)).toEqual([]);
    expect(mapsNotShared([...layers, ...layerCopies])).toEqual([]);
    expect(mapsNotShared([...models, ...modelCopies])).toEqual([]);
  });

  it('copies as the spreads and structuredClone did', () => {
    for (const model of models.slice(0, 20)) {
      expect(cloneModel(model)).toStrictEqual(structuredClone(model));
      expect(modelWith(model, { instantiated: true })).toStrictEqual({ ...model, instantiated: true });
      expect(Object.keys(modelWith(model, { instantiated: true }))).toEqual(Object.keys({ ...model, instantiated: true }));
    }
    for (const layer of layers.slice(0, 60)) {
      expect(cloneLayer(layer)).toStrictEqual(structuredClone(layer));
      expect(Object.keys(cloneLayer(layer))).toEqual(Object.keys(layer));
      expect(layerWith(layer, { units: 7 })).toStrictEqual({ ...layer, units: 7 });
    }
  });
});

describe('arrays V8 keeps packed whichever tier builds them (shared/packed.ts)', () => {
  const items = [3, 1, 2];
  const viaMap = (xs: number[]) => xs.map((x) => ({ x }));
  const viaMapPacked = (xs: number[]) => mapPacked(xs, (x) => ({ x }));

  it('tells a holey array from a packed one: an optimized map makes a holey one, mapPacked a packed one', () => {
    expect(hasHoleyElements(viaMap(items))).toBe(false);
    expect(hasHoleyElements(optimized(viaMap, () => viaMap(items)))).toBe(true);
    expect(optimized(viaMapPacked, () => viaMapPacked(items))).toEqual(viaMap(items));
    expect(hasHoleyElements(optimized(viaMapPacked, () => viaMapPacked(items)))).toBe(false);
  });

  it('gives models packed layers when makeModel and cloneModel are optimized', async () => {
    const [model] = (await analyzeFiles({ 'mlp.py': readFileSync('examples/saturating-activation-stack/bad.py', 'utf8') })).flatMap((r) => r.models);
    if (!model) throw new Error('no model in the example');
    const made = optimized(makeModel, () => makeModel({ ...model, layers: model.layers.map((l) => cloneLayer(l)) }));
    expect(made.layers.length).toBe(model.layers.length);
    expect(hasHoleyElements(made.layers)).toBe(false);
    expect(hasHoleyElements(optimized(cloneModel, () => cloneModel(model)).layers)).toBe(false);
  });

  it('judges a flow profile into packed lists when judgeFlowProfile is optimized', () => {
    const norms = [1e-9, 1e9, 1e3, 1e2, 1];
    const profile = optimized(judgeFlowProfile, () => judgeFlowProfile(norms));
    if (!profile) throw new Error('no profile of five norms');
    expect(profile.vanishing.length).toBeGreaterThan(0);
    expect(profile.exploding.length).toBeGreaterThan(0);
    expect(hasHoleyElements(profile.vanishing)).toBe(false);
    expect(hasHoleyElements(profile.exploding)).toBe(false);
  });
});
