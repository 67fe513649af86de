/** Constructors for IR nodes with every field present, so extractors only state what they know. */
import type { Framework, LayerIR, ModelIR, ModelStyle, Range } from '../../shared/ir';
import { emptyTraining } from '../../shared/ir';
import { modelRecord } from '../../shared/models';
import { mapPacked } from '../../shared/packed';

export { makeLayer, type LayerFields } from '../../shared/layers';

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

/**
 * Assigns layer ids in order (L0, L1, ...) and unique generated names where none was written, on the
 * layers themselves: they are the model's own copies (every extractor copies the layers it reads), and
 * copying each layer again here was a sixth of what copying cost a model-dense file.
 */
export function makeModel(fields: ModelFields): ModelIR {
  const counts = new Map<string, number>();
  const names = new Map<string, string>();
  const layers = mapPacked(fields.layers, (layer, i) => {
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
    layer.id = id;
    layer.name = name;
    return layer;
  });
  // A new model's training and unsupported constructs start empty. The fields named one by one, not
  // spread: a spread of `fields` (objects of several shapes) took V8's generic path, 1.5 ms of a
  // model-dense 5,000-line file's analysis.
  const { name, framework, style, file, range, nameRange, exports, inputShape, isGraph, declaredName } = fields;
  return modelRecord({ id: `${name}@${range.start.line}`, name, framework, style, file, range, nameRange, exports, inputShape, isGraph, declaredName, layers, training: emptyTraining(), unsupported: [] });
}
