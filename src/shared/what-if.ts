/**
 * Apply a finding's IR-level "what if" edit to a model, purely: the input is never mutated.
 * The probe runs the edited copy with the same seed and data to show a fix's effect.
 */
import type { ActivationIR, ActivationName, LayerIR, LayerKind, ModelIR, OptimizerIR } from './ir';
import type { IrEditOp, WhatIf } from './findings';
import { makeLayer } from './layers';
import { cloneModel } from './models';

export class WhatIfError extends Error {}

function findIndex(model: ModelIR, layerId: string, op: IrEditOp['op']): number {
  const index = model.layers.findIndex((l) => l.id === layerId);
  if (index < 0) throw new WhatIfError(`what-if '${op}': model ${model.name} has no layer with id ${layerId}`);
  return index;
}

function activationFor(name: ActivationName): ActivationIR {
  return { name, spelling: name, range: null, source: 'kwarg', params: {} };
}

/** In a graph, whoever consumed `fromId` now consumes `toIds` instead. */
function rewireConsumers(layers: LayerIR[], fromId: string, toIds: string[]): void {
  for (const layer of layers) {
    if (!layer.inputs.includes(fromId)) continue;
    layer.inputs = layer.inputs.flatMap((id) => (id === fromId ? toIds : [id]));
  }
}

function removeAt(model: ModelIR, index: number): LayerIR {
  const removed = model.layers.splice(index, 1)[0]!;
  if (model.isGraph) rewireConsumers(model.layers, removed.id, removed.inputs);
  return removed;
}

function freshId(model: ModelIR, base: string): string {
  const taken = new Set(model.layers.map((l) => l.id));
  let n = 1;
  while (taken.has(`${base}~${n}`)) n++;
  return `${base}~${n}`;
}

function insertedLayer(model: ModelIR, after: LayerIR, kind: LayerKind, activation: ActivationName | null): LayerIR {
  return makeLayer({
    kind,
    id: freshId(model, after.id),
    name: `${kind}_after_${after.name}`,
    className: kind,
    range: after.range,
    activation: activation ? activationFor(activation) : null,
    useBias: true,
    inputs: [after.id],
  });
}

function patchOptimizer(model: ModelIR, patch: Partial<OptimizerIR>): void {
  const current: OptimizerIR = model.training.optimizer ?? {
    name: 'unknown',
    spelling: '(what-if)',
    file: model.file,
    range: model.range,
    learningRate: null,
    learningRateRange: null,
    momentum: null,
    clipnorm: null,
    clipvalue: null,
    globalClipnorm: null,
  };
  model.training.optimizer = { ...current, ...patch };
}

function applyOp(model: ModelIR, op: IrEditOp): void {
  switch (op.op) {
    case 'set-activation': {
      const layer = model.layers[findIndex(model, op.layerId, op.op)]!;
      layer.activation = { ...activationFor(op.activation), range: layer.activation?.range ?? null };
      return;
    }
    case 'set-kernel-init':
    case 'set-recurrent-init': {
      const layer = model.layers[findIndex(model, op.layerId, op.op)]!;
      const field = op.op === 'set-kernel-init' ? 'kernelInit' : 'recurrentInit';
      layer[field] = {
        name: op.init.name,
        params: { ...op.init.params },
        options: { ...op.init.options },
        spelling: op.init.name,
        range: layer[field]?.range ?? null,
        explicit: true,
        framework: model.framework,
      };
      return;
    }
    case 'set-use-bias':
      model.layers[findIndex(model, op.layerId, op.op)]!.useBias = op.value;
      return;
    case 'replace-kind':
      model.layers[findIndex(model, op.layerId, op.op)]!.kind = op.kind;
      return;
    case 'remove-layer':
      removeAt(model, findIndex(model, op.layerId, op.op));
      return;
    case 'move-before': {
      const moved = removeAt(model, findIndex(model, op.layerId, op.op));
      const target = findIndex(model, op.beforeLayerId, op.op);
      if (model.isGraph) {
        const before = model.layers[target]!;
        moved.inputs = before.inputs;
        before.inputs = [moved.id];
      }
      model.layers.splice(target, 0, moved);
      return;
    }
    case 'insert-after': {
      const index = findIndex(model, op.afterLayerId, op.op);
      const after = model.layers[index]!;
      const layer = insertedLayer(model, after, op.kind, op.activation);
      if (model.isGraph) rewireConsumers(model.layers, after.id, [layer.id]);
      model.layers.splice(index + 1, 0, layer);
      return;
    }
    case 'set-optimizer':
      patchOptimizer(model, op.patch);
      return;
  }
}

/** The model with every op of `whatIf` applied in order. Throws WhatIfError naming a missing layer id. */
export function applyWhatIf(model: ModelIR, whatIf: WhatIf): ModelIR {
  const copy = cloneModel(model);
  for (const op of whatIf.ops) applyOp(copy, op);
  return copy;
}
