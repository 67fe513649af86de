/**
 * Model records (ModelIR) made and copied as V8 keeps them fast: every field a model always has written
 * in one object literal, the rest (optional fields, a patch) added after it. A spread of a model
 * (`{ ...model, instantiated }`) gave each copy a map of its own once the spread had seen models of a
 * few shapes (layers.ts, commonRecord, says why), so every read of a model's field went through V8's
 * slowest lookups. structuredClone's copies (linked models, what-if models) had maps other than the
 * originals' and took 3.5x cloneModel's time (65 against 18 us per model of a model-dense file).
 */
import { emptyTraining, type ModelIR, type Position } from './ir';
import { cloneData, copyLayer, CopiesMade, fieldsOf } from './layers';
import { mapPacked } from './packed';

/** A model's fields as makeModel is given them: those every model has, some at their defaults. */
export type ModelRecordFields = Pick<ModelIR, 'id' | 'name' | 'framework' | 'style' | 'file' | 'range' | 'nameRange' | 'layers'> &
  Partial<Pick<ModelIR, 'exports' | 'inputShape' | 'isGraph' | 'declaredName' | 'training' | 'unsupported'>>;

/** The fields every model has, as one object literal (in the order models have always had them). */
export function modelRecord(from: ModelRecordFields): ModelIR {
  return {
    id: from.id,
    name: from.name,
    framework: from.framework,
    style: from.style,
    file: from.file,
    range: from.range,
    nameRange: from.nameRange,
    exports: from.exports ?? [],
    inputShape: from.inputShape ?? null,
    layers: from.layers,
    isGraph: from.isGraph ?? false,
    declaredName: from.declaredName ?? null,
    training: from.training ?? emptyTraining(),
    unsupported: from.unsupported ?? [],
  };
}

/** `{ ...model, ...patch }`: a copy sharing the model's values, `patch`'s fields written over them. */
export function modelWith(model: ModelIR, patch: Partial<ModelIR>): ModelIR {
  const copy = fieldsOf(modelRecord(model));
  const source = fieldsOf(model);
  for (const key in source) copy[key] = source[key];
  return Object.assign(copy, patch) as ModelIR;
}

/** A deep copy of a model; objects it holds twice are one object in the copy too, as structuredClone copies them. */
/**
 * Whether `model` is the one the call at `at` built, in a file `inFile` accepts: a class or builder
 * that several calls build differently gives one model per call (ModelIR.instance).
 */
export function builtAtCall(model: ModelIR, at: Position, inFile: (path: string) => boolean): boolean {
  const call = model.instance;
  return call !== undefined && inFile(call.file) && call.range.start.line === at.line && call.range.start.character === at.character;
}

export function cloneModel(model: ModelIR): ModelIR {
  const copies = new CopiesMade();
  const copy = fieldsOf(modelRecord(model));
  copies.set(model, copy);
  const source = fieldsOf(model);
  for (const key in source) {
    copy[key] = key === 'layers' ? mapPacked(model.layers, (layer) => copyLayer(layer, copies)) : cloneData(source[key], copies);
  }
  return copy as unknown as ModelIR;
}
