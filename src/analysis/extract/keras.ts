/**
 * Keras extractor: every model a file defines -> ModelIR. Reads the module and each function that
 * may build a model with the Keras reader, hooks on the Python evaluation core (Sequential lists and
 * .add() calls, functional graphs up to keras.Model(inputs, outputs)), and each keras.Model subclass
 * through its __init__ and call.
 * Training facts (optimizer, compile, fit) are left to the training pass.
 *
 * What it does with code it cannot evaluate (documented behaviour, tested):
 * - `if cond:` with a condition that is not a known constant: every branch is read in order and
 *   the layers made or added there get conditional = true; constants assigned in such
 *   branches are unknown afterwards. A known condition (a constant flag, `num_classes == 2` with a
 *   known argument, `if __name__ == '__main__'`) just picks its branch, unmarked.
 * - `for` loops and comprehensions with constant bounds (range(...), literal lists, enumerate/zip
 *   of those; at most 256 items) are unrolled: each copy has `unrolled: {index, count}` and the
 *   range of the one call that made it. Other loops (and `while`) are read once: their layers get
 *   repeated = true and the model an `unsupported` entry naming the loop's line.
 * - Function parameters: a builder is read once per call of it in the file, with that call's
 *   arguments (`make_model(input_shape=(180, 180, 3))`); one nobody calls, once with its defaults.
 *   Keras' own `call(..., training=False)` arguments are always unknown.
 * - Block functions and custom Layer classes another file of the workspace defines (`from blocks import
 *   conv_bn`, `__import__('2-identity_block').identity_block`) are read in that file's names, with the
 *   call's arguments; their layers are shown on the line of this file that calls or builds them, and keep
 *   their own line as `writtenAt` (see ExtractionState.homeSite).
 * - `**kwargs` in a layer call: activation and initializers not written are 'unknown', not defaults.
 * - Unknown layer classes (and pretrained keras.applications models, Lambda,
 *   custom layers with their own weights) become kind 'unknown' layers with an `unsupported`
 *   entry, also when made into a variable and applied later; known weightless augmentation layers
 *   are 'unknown' with identity = true.
 * - Syntax errors: tree-sitter's error recovery keeps the rest of the file; statements inside
 *   ERROR nodes are still read.
 */
import type { Node } from '../python/syntax-tree';
import type { InputShapeGuess, ModelIR } from '../../shared/ir';
import { rangeKey } from './keras/lambda';
import { collectEvidence, fileEvidence, guessInputShape } from './input-shapes';
import type { PyFile } from '../python/file';
import { EvalNotes } from '../python/limits';
import { outlineOf } from './keras/outline';
import { KerasEvaluator, NO_MARKS } from './keras/executor';
import { functionalModel, sequentialModel } from './keras/models';
import { ExtractionState } from './keras/state';
import { extractSubclass } from './keras/subclass';
import { KerasSymbols } from './keras/symbols';
import { callSiteOf, callsOf, collapseInstances, type CallSite, type ConstArguments, type InstanceModels } from '../python/call-sites';
import type { ConstValue } from '../python/constants';
import { OPAQUE, type SequentialBuilder, type Value } from './keras/values';
import type { CallArgs } from '../python/evaluator';
import type { KerasCall, KerasFrame } from './keras/executor';
import { implicitReceivers } from './keras/implicit-receivers';
import type { ExternalSites, ImportedDefinitions, ModelExtractor } from './types';
import { assumeFrameworkNames } from './assumed-imports';
import { rethrowCancellation, throwIfCancelled } from '../cancellation';
import { sourceSnippet } from '../../shared/source-snippet';
import { rangeOf } from '../python/syntax';

export interface KerasExtraction {
  models: ModelIR[];
  /** Internal failures while reading a scope (that scope is skipped); empty on healthy input. */
  errors: string[];
}

function isInside(node: Node, outer: Node): boolean {
  return node.startIndex >= outer.startIndex && node.endIndex <= outer.endIndex;
}

/** Whether a call is made inside a Keras Model or Layer class (a sub-model built by its parent is not an instance of its own). */
function insideKerasClass(call: Node, state: ExtractionState): boolean {
  for (let cur = call.parent; cur; cur = cur.parent) if (cur.type === 'class_definition' && state.classKind(cur)) return true;
  return false;
}

function enclosingClass(def: Node): Node | null {
  for (let cur = def.parent; cur; cur = cur.parent) if (cur.type === 'class_definition') return cur;
  return null;
}

/** Call-site arguments as reader values: unknown ones are opaque (never their defaults). */
function argumentValues(args: ConstArguments): CallArgs<Value> {
  const value = (v: ConstValue | undefined): Value => (v === undefined ? OPAQUE : { t: 'const', value: v });
  return { positional: args.positional.map(value), keywords: new Map([...args.keywords].map(([k, v]) => [k, value(v)])), partial: args.partial, optionalUnknown: args.partial };
}

export function extractKerasDetailed(file: PyFile, notes: EvalNotes = new EvalNotes(), external: ExternalSites = new Map(), imported?: ImportedDefinitions): KerasExtraction {
  const first = readKeras(file, notes, external, new Map(), imported);
  if (!first || first.state.unknownInputs.size === 0) return first?.result ?? { models: [], errors: [] };
  // Sizes computed with K.int_shape from an Input whose shape the code leaves to its caller: the model is
  // read again with the input the probe will feed (the guess for the model read the first time), so
  // strides, windows, filters and the conditions on shapes are what Keras computes for that input.
  const evidence = fileEvidence([collectEvidence(file)]);
  const assumed = new Map<number, InputShapeGuess>();
  for (const model of first.result.models) {
    const input = model.layers.find((l) => l.kind === 'input' && l.shape === null && l.inputs.length === 0);
    const at = input ? first.state.unknownInputs.get(rangeKey(input.range)) : undefined;
    if (at !== undefined && !assumed.has(at)) assumed.set(at, guessInputShape(model, evidence));
  }
  if (assumed.size === 0) return first.result;
  const second = readKeras(file, new EvalNotes(), external, assumed, imported);
  if (!second) return first.result;
  for (const model of second.result.models) {
    const input = model.layers.find((l) => l.kind === 'input' && l.shape === null && l.inputs.length === 0);
    const at = input ? second.state.usedInputs.get(rangeKey(input.range)) : undefined;
    const guess = at === undefined ? undefined : assumed.get(at);
    if (guess) model.sizedForInput = guess;
  }
  return { models: second.result.models, errors: [...first.result.errors, ...second.result.errors] };
}

/** One read of the file's Keras code; `assumed`: Input calls (by start index) whose shape K.int_shape takes from a guess. */
function readKeras(file: PyFile, notes: EvalNotes, external: ExternalSites, assumed: ReadonlyMap<number, InputShapeGuess>, imported?: ImportedDefinitions): { result: KerasExtraction; state: ExtractionState } | null {
  assumeFrameworkNames(file);
  const outline = outlineOf(file.root);
  const symbols = new KerasSymbols(file, outline);
  if (!symbols.usesKeras) return null;
  const state = new ExtractionState(file, symbols, outline, notes, assumed, imported);
  const ev = new KerasEvaluator(state);
  const models: ModelIR[] = [];
  const errors: string[] = [];
  const guarded = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      rethrowCancellation(error);
      errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  // A Model subclass is read once per instantiation (in this file, outside Keras classes, then in other
  // files), with that call's arguments; one nobody instantiates, once with its defaults.
  const modelClasses = outline.classes.filter((c) => state.classKind(c) === 'model');
  const classNames = new Set(modelClasses.map((c) => c.childForFieldName('name')?.text ?? '').filter((n) => n && state.classes.has(n)));
  const instantiations = callsOf(file.root, classNames);
  for (const classDef of modelClasses) {
    const name = classDef.childForFieldName('name')?.text ?? '';
    const local = classNames.has(name) ? (instantiations.get(name) ?? []).filter((c) => !insideKerasClass(c, state)) : [];
    const sites = [...local.map((call) => ({ site: callSiteOf(file.path, call), call })), ...(external.get(name) ?? []).map((site) => ({ site, call: null }))];
    const runs: InstanceModels[] = [];
    for (const at of sites.length ? sites : [null]) {
      guarded(`class at line ${classDef.startPosition.row + 1}`, () => {
        const args = at ? (at.call ? ev.argumentsAt(at.call, argumentValues(at.site.args)) : argumentValues(at.site.args)) : null;
        const model = extractSubclass(ev, classDef, args);
        if (model) runs.push({ site: at?.site ?? null, models: [model] });
      });
    }
    models.push(...collapseInstances(runs));
  }

  const scopes: Node[] = [file.root, ...outline.functions.filter((def) => {
    const cls = enclosingClass(def);
    return (!cls || !state.classKind(cls)) && symbols.mayBuildModel(def.text);
  })];
  // A builder function (or a static method, `ResnetBuilder.build`) is read once per call of it in the
  // file, with that call's arguments; one nobody calls, once with its defaults.
  const builderNames = new Map<Node, string>();
  for (const def of scopes) {
    const name = def.type === 'function_definition' && !state.isMethod(def) ? def.childForFieldName('name')?.text : undefined;
    if (!name) continue;
    const cls = enclosingClass(def);
    const className = cls?.childForFieldName('name')?.text;
    if (!cls && state.functions.has(name)) builderNames.set(def, name);
    else if (cls && className && state.classes.get(className)?.id === cls.id) builderNames.set(def, `${className}.${name}`);
  }
  const calls = callsOf(file.root, new Set(builderNames.values()));
  // What `__init__` sets on `self` for a builder method of a plain class (`class GAN: ... def build_generator(self)`), once per class.
  const constructed = new Map<number, ReadonlyMap<string, Value>>();
  const constructorConstants = (classDef: Node, method: Node): ReadonlyMap<string, Value> => {
    const name = classDef.childForFieldName('name')?.text ?? '';
    if (method.childForFieldName('name')?.text === '__init__') return new Map();
    let known = constructed.get(classDef.id);
    if (!known) {
      // This file's instantiations, then other files' (`gan = GAN(latent_dim=64)` in train.py).
      const here = (callsOf(file.root, new Set([name])).get(name) ?? []).map((call) => ev.argumentsAt(call, argumentValues(callSiteOf(file.path, call).args)));
      const elsewhere = (external.get(name) ?? []).map((site) => argumentValues(site.args));
      known = ev.constructorConstants(classDef, [...here, ...elsewhere]);
      constructed.set(classDef.id, known);
    }
    return known;
  };
  const functionalRuns: InstanceModels[] = [];
  for (const scopeNode of scopes) {
    throwIfCancelled();
    const isModule = scopeNode.type === 'module';
    const name = builderNames.get(scopeNode);
    const sites: ({ site: CallSite; call: Node | null } | null)[] = name
      ? [...(calls.get(name) ?? []).filter((c) => !scopeNode.equals(c) && !isInside(c, scopeNode)).map((call) => ({ site: callSiteOf(file.path, call), call })), ...(external.get(name) ?? []).map((site) => ({ site, call: null }))]
      : [];
    if (sites.length === 0) sites.push(null);
    const runs: InstanceModels[] = [];
    for (const at of sites) {
      const site = at?.site ?? null;
      guarded(`scope at line ${scopeNode.startPosition.row + 1}`, () => {
        ev.forgetGlobalWrites();
        const sequentials: SequentialBuilder[] = [];
        const firstFunctional = state.functionals.length;
        let frame: KerasFrame;
        if (isModule) {
          frame = ev.frameAt(scopeNode, sequentials);
          for (const r of implicitReceivers(file, symbols)) {
            const seq: SequentialBuilder = { call: r.firstAdd, fromList: false, items: [], marks: NO_MARKS, lastAdd: null, builtShape: null, binding: { name: r.name, nameNode: r.nameNode } };
            frame.locals.set(r.name, { t: 'sequential', seq });
            sequentials.push(seq);
          }
          ev.execBlock(scopeNode, frame);
        } else {
          // The function read with this call's arguments; `frame` is where its models are finished.
          const args = at ? (at.call ? ev.argumentsAt(at.call, argumentValues(at.site.args)) : argumentValues(at.site.args)) : { positional: [], keywords: new Map<string, Value>(), partial: false };
          const classDef = enclosingClass(scopeNode);
          const owner: KerasCall = { def: scopeNode, classDef, self: new Map(classDef && state.isMethod(scopeNode) ? constructorConstants(classDef, scopeNode) : []), top: sequentials };
          frame = ev.frameAt(scopeNode, sequentials);
          frame.classDef = classDef;
          ev.callFunction(scopeNode, state.isMethod(scopeNode) ? { ...args, positional: [OPAQUE, ...args.positional] } : args, owner, ev.moduleFrame());
        }
        const exec = ev.reader(frame);
        const built: ModelIR[] = [];
        for (const seq of sequentials) {
          const model = sequentialModel(file, exec, seq);
          if (!model) continue;
          built.push(model);
          // `self.model = Sequential()` in __init__, its .add() calls in another method: never silently empty.
          if (model.layers.length === 0 && seq.binding?.name.startsWith('self.')) {
            notes.add(`${seq.binding.name} = ${sourceSnippet(seq.call.text)} gets its layers outside this method (.add() calls in another method are not followed): none are read`, rangeOf(seq.call));
          }
        }
        runs.push({ site, models: built });
        // Functional models made by this run (the record list is shared by every reader of the file).
        const made = state.functionals.splice(firstFunctional);
        const functionals: ModelIR[] = [];
        for (const record of made) guarded(`model at line ${record.call.startPosition.row + 1}`, () => functionals.push(functionalModel(file, record)));
        functionalRuns.push({ site, models: functionals });
      });
    }
    models.push(...collapseInstances(runs));
  }
  models.push(...collapseInstances(functionalRuns));
  // Functional models found while reading classes (before the scopes).
  for (const record of state.functionals) guarded(`model at line ${record.call.startPosition.row + 1}`, () => models.push(functionalModel(file, record)));

  const seen = new Set<string>();
  const unique = models.filter((m) => !preprocessingOnly(m) && (seen.has(m.id) ? false : (seen.add(m.id), true)));
  unique.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return { result: { models: unique, errors }, state };
}

/**
 * A pipeline of augmentation and preprocessing layers only (`keras.Sequential([RandomFlip(...),
 * RandomRotation(0.1)])`, a Rescaling): no weights, nothing for a gradient to train. It is a part of the
 * models that use it, not a model of its own.
 */
function preprocessingOnly(model: ModelIR): boolean {
  const computing = model.layers.filter((l) => l.kind !== 'input');
  return computing.length > 0 && computing.every((l) => (l.kind === 'unknown' && l.identity) || l.kind === 'rescaling');
}

export const extractKeras: ModelExtractor = (file, notes, external, imported) => extractKerasDetailed(file, notes, external, imported).models;
