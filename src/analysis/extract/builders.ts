/** Constructors for IR nodes with every field present, so extractors only state what they know. */
import type { Framework, LayerCommon, LayerDetail, LayerIR, LayerKind, ModelIR, ModelStyle, Range } from '../../shared/ir';
import { emptyTraining } from '../../shared/ir';
import { defaultDetail } from '../../shared/layers';

/** The common fields a caller knows, plus either a kind's typed fields or just the kind (its defaults then apply). */
export type LayerFields = Partial<LayerCommon> & Pick<LayerCommon, 'className' | 'range'> & (LayerDetail | { kind: LayerKind });

export function makeLayer(fields: LayerFields): LayerIR {
  // A bare kind takes its defaults; typed fields given for the kind replace them. Object.assign onto
  // the defaults, not an object literal with spreads: V8 (Node 20) builds a literal of this size with
  // spreads on a slow path, ~7x the time (0.9 % of a model-dense check).
  return Object.assign(
    defaultDetail(fields.kind),
    {
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
      dataFormat: null,
      timeDistributed: false,
      conditional: false,
      repeated: false,
      frozen: false,
      noGrad: false,
      sharesWeightsWith: null,
      inputs: [],
      argsRange: null,
    },
    fields,
  );
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
  declaredName?: string | null;
}

/** Assigns layer ids in order (L0, L1, ...) and unique generated names where none was written. */
export function makeModel(fields: ModelFields): ModelIR {
  const counts = new Map<string, number>();
  const names = new Map<string, string>();
  const layers = fields.layers.map((layer, i) => {
    const id = `L${i}`;
    // A later call of a layer object is that layer: it takes the name the first call got.
    let name = layer.name || (layer.sharesWeightsWith !== null ? (names.get(layer.sharesWeightsWith) ?? '') : '');
    if (!name) {
      const base = layer.kind.replace(/-/g, '_');
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      name = n === 0 ? base : `${base}_${n}`;
    }
    names.set(id, name);
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
    declaredName: fields.declaredName ?? null,
    training: emptyTraining(),
    unsupported: [],
  };
}
