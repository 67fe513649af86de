/** Constructors for IR nodes with every field present, so extractors only state what they know. */
import type { Framework, LayerIR, ModelIR, ModelStyle, Range } from '../../shared/ir';
import { emptyTraining } from '../../shared/ir';

export type LayerFields = Partial<LayerIR> & Pick<LayerIR, 'kind' | 'className' | 'range'>;

export function makeLayer(fields: LayerFields): LayerIR {
  return {
    id: '',
    name: '',
    unrolled: null,
    units: null,
    inFeatures: null,
    kernelSize: null,
    activation: null,
    kernelInit: null,
    biasInit: null,
    recurrentInit: null,
    useBias: false,
    fanIn: null,
    fanOut: null,
    params: {},
    inputs: [],
    argsRange: null,
    ...fields,
  };
}

export interface ModelFields {
  name: string;
  framework: Framework;
  style: ModelStyle;
  file: string;
  range: Range;
  nameRange: Range;
  layers: LayerIR[];
  exports?: string[];
  inputShape?: (number | null)[] | null;
  isGraph?: boolean;
}

/** Assigns layer ids in order (L0, L1, ...) and unique generated names where none was written. */
export function makeModel(fields: ModelFields): ModelIR {
  const counts = new Map<string, number>();
  const layers = fields.layers.map((layer, i) => {
    const id = `L${i}`;
    let name = layer.name;
    if (!name) {
      const base = layer.kind.replace(/-/g, '_');
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      name = n === 0 ? base : `${base}_${n}`;
    }
    return { ...layer, id, name };
  });
  return {
    id: `${fields.name}@${fields.range.start.line}`,
    name: fields.name,
    framework: fields.framework,
    style: fields.style,
    file: fields.file,
    range: fields.range,
    nameRange: fields.nameRange,
    exports: fields.exports ?? [],
    inputShape: fields.inputShape ?? null,
    layers,
    isGraph: fields.isGraph ?? false,
    training: emptyTraining(),
    unsupported: [],
  };
}
