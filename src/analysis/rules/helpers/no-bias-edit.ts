/**
 * Dropping the bias of a layer whose output BatchNorm normalizes (GL302's fix, and part of GL301's
 * clean form): `use_bias=False` in Keras, `bias=False` in PyTorch.
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { isConv, isNormalization } from '../../../shared/layers';
import { spatialDims } from '../../../shared/shapes';
import { parseCallArguments } from './call-arguments';
import { keywordArgumentEdit } from './keyword-argument-edit';
import { lineStarts, offsetAt } from './text-offsets';

export function noBiasKeyword(model: ModelIR): string {
  return model.framework === 'keras' ? 'use_bias' : 'bias';
}

/** Keras BN normalizes the last axis by default (-1, or its index written out); axis 1 matches channels_first convolutions. */
export function normalizesFeatureAxis(model: ModelIR, layer: LayerIR, norm: LayerIR): boolean {
  if (model.framework !== 'keras') return true;
  const axis = isNormalization(norm) ? norm.norm.axis : null;
  if (axis === null || axis === -1) return true;
  if (layer.dataFormat === 'channels_first') return axis === 1;
  // `axis=3` after a Conv2D (channels last, as `CHANNEL_AXIS = 3` is written): the last axis, the features.
  return axis === lastAxis(layer);
}

/** The index of the feature axis (the last, batch counted) of a dense or conv layer's channels-last output; null for other kinds. */
function lastAxis(layer: LayerIR): number | null {
  if (layer.kind === 'dense') return 1;
  return isConv(layer) ? spatialDims(layer) + 1 : null;
}

/** Positional index of the bias flag: Dense(units, activation, use_bias), Linear(in, out, bias), Conv2d(..., groups, bias). */
function biasPositionalIndex(layer: LayerIR): number {
  return layer.kind === 'dense' ? 2 : 7;
}

/** The edit that sets the bias flag to False in the layer's call; null when the call cannot be edited safely. */
export function noBiasEdit(model: ModelIR, text: string, layer: LayerIR): TextEdit | null {
  const starts = lineStarts(text);
  const call = parseCallArguments(text, offsetAt(starts, layer.range.start), offsetAt(starts, layer.range.end));
  if (!call || call.args.filter((a) => a.keyword === null).length > biasPositionalIndex(layer)) return null;
  return keywordArgumentEdit(model.file, text, layer.range, noBiasKeyword(model), 'False');
}
