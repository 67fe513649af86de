/**
 * Pure helpers for tensors flowing through a traced forward: which trace nodes produced a value, what
 * several operands share, and the small layers functional calls become.
 */
import type { Node } from '../../python/syntax-tree';
import type { ActivationName, LayerKind, ShapePassMark } from '../../../shared/ir';
import type { ConstValue } from '../../python/constants';
import { rangeOf } from '../../python/syntax';
import { makeLayer } from '../builders';
import { numberValue } from '../normalize';
import { FUNCTIONAL_DEFAULTS, FUNCTIONAL_PARAMS } from './activations';
import type { Args } from './args';
import { constOf, type Slot, type Value } from './values';

/** The trace nodes that produced a value (a tensor, or a list/tuple of tensors). */
export function producers(v: Value | undefined): number[] {
  if (!v) return [];
  if (v.t === 'tensor') return v.from;
  if (v.t === 'list') return [...new Set(v.items.flatMap((i) => producers(i)))];
  return [];
}

/** Whether any argument is (or contains) a tensor. */
export function hasTensor(args: Args): boolean {
  const check = (v: Value): boolean => v.t === 'tensor' || (v.t === 'list' && v.items.some(check));
  return args.positional.some(check) || [...args.keywords.values()].some(check);
}

/**
 * What several values feeding one operation have in common: producers, distinct producer sets,
 * how many operands are computed (not constants or parameters), and attention scores.
 */
export function combined(parts: Value[]): { from: number[]; distinct: number; computed: number; scores: boolean; reads: ReadMarks } {
  const tensors: Extract<Value, { t: 'tensor' }>[] = [];
  const collect = (v: Value) => {
    if (v.t === 'tensor') tensors.push(v);
    else if (v.t === 'list') v.items.forEach(collect);
  };
  parts.forEach(collect);
  const sources = new Set(tensors.map((t) => [...t.from].sort().join(',')).filter((s) => s !== ''));
  const computed = tensors.filter((t) => t.from.length > 0).length;
  return { from: [...new Set(tensors.flatMap((t) => t.from))], distinct: sources.size, computed, scores: tensors.some((t) => t.scores === true), reads: readMarks(tensors) };
}

/** What a layer learns of the tensors it reads beyond their producers (see Trace.add). */
export interface ReadMarks {
  /** The last uncomputed change of shape among them. */
  reshapedBy?: ShapePassMark;
  /** Recurrent modules whose every step is read (Value.stepsOf). */
  steps: number[];
}

/** The marks of the tensors among `values` (lists looked into). */
export function readMarks(values: Value[]): ReadMarks {
  const marks: ReadMarks = { steps: [] };
  const visit = (v: Value) => {
    if (v.t === 'list') v.items.forEach(visit);
    if (v.t !== 'tensor') return;
    if (v.reshapedBy) marks.reshapedBy = v.reshapedBy;
    if (v.stepsOf !== undefined && !marks.steps.includes(v.stepsOf)) marks.steps.push(v.stepsOf);
  };
  values.forEach(visit);
  return marks;
}

/** The marks a value computed from `marks` without a layer carries on: a change of shape ends a whole-sequence reading. */
export function carriedMarks(marks: ReadMarks, reshapedHere: ShapePassMark | undefined): Partial<Extract<Value, { t: 'tensor' }>> {
  const reshapedBy = reshapedHere ?? marks.reshapedBy;
  const [steps] = marks.steps;
  return { ...(reshapedBy ? { reshapedBy } : {}), ...(!reshapedHere && marks.steps.length === 1 && steps !== undefined ? { stepsOf: steps } : {}) };
}

/** A layer made by a functional call (F.relu, torch.cat, x.view), located at the call. */
export function functionalSlot(kind: LayerKind, spelling: string, n: Node): Slot {
  const list = n.childForFieldName('arguments');
  return { layer: makeLayer({ kind, className: spelling, range: rangeOf(n), argsRange: list ? rangeOf(list) : null }), qualified: null, params: [], unsupported: null };
}

/** Numeric parameters of a functional activation, torch defaults filled in. */
export function activationParams(name: ActivationName, arg: (index: number, name: string) => ConstValue | undefined): Record<string, number> {
  const params: Record<string, number> = { ...(FUNCTIONAL_DEFAULTS.get(name) ?? {}) };
  for (const [key, index, kw] of FUNCTIONAL_PARAMS.get(name) ?? []) {
    const v = numberValue(arg(index, kw));
    if (v !== null) params[key] = v;
  }
  return params;
}

/** `x.view(x.size(0), -1)`, `x.view(-1, 320)`, `x.reshape(b, -1)`: a flatten to (batch, features). */
export function isFlattenView(all: Value[]): boolean {
  const dims = all.slice(1);
  if (dims.length === 1 && dims[0]?.t === 'list') return isFlattenView([all[0]!, ...dims[0].items]);
  return dims.length === 2 && (constOf(dims[1]) === -1 || constOf(dims[0]) === -1);
}
