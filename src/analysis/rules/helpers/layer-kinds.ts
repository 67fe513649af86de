/** Groups of layer kinds that several rules reason about. */
import { isConvKind, isDropoutKind, isNormalizationKind } from '../../../shared/layers';
import type { LayerIR, LayerKind } from '../../../shared/ir';

/** Layers that change neither the nonlinearity of the network nor its normalization state. */
const SHAPE_ONLY: ReadonlySet<LayerKind> = new Set(['flatten', 'reshape', 'maxpool', 'avgpool', 'global-pool']);

/** Dense and convolution layers: an affine map with a kernel (the layers initializers and activations apply to). */
export const isLearningLayer = (layer: LayerIR): boolean => layer.kind === 'dense' || isConvKind(layer.kind);
export const isNormalizationLayer = (layer: LayerIR): boolean => isNormalizationKind(layer.kind);
export const isShapeOnlyLayer = (layer: LayerIR): boolean => SHAPE_ONLY.has(layer.kind);
export const isDropoutLayer = (layer: LayerIR): boolean => isDropoutKind(layer.kind);
