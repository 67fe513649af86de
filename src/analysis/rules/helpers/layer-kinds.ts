/** Groups of layer kinds that several rules reason about. */
import type { LayerIR, LayerKind } from '../../../shared/ir';

const LEARNING: ReadonlySet<LayerKind> = new Set(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose']);
const NORMALIZATION: ReadonlySet<LayerKind> = new Set(['batchnorm', 'layernorm', 'groupnorm']);
/** Layers that change neither the nonlinearity of the network nor its normalization state. */
const SHAPE_ONLY: ReadonlySet<LayerKind> = new Set(['flatten', 'reshape', 'maxpool', 'avgpool', 'global-pool']);
const DROPOUT: ReadonlySet<LayerKind> = new Set(['dropout', 'alpha-dropout']);

/** Dense and convolution layers: an affine map with a kernel (the layers initializers and activations apply to). */
export const isLearningLayer = (layer: LayerIR): boolean => LEARNING.has(layer.kind);
export const isNormalizationLayer = (layer: LayerIR): boolean => NORMALIZATION.has(layer.kind);
export const isShapeOnlyLayer = (layer: LayerIR): boolean => SHAPE_ONLY.has(layer.kind);
export const isDropoutLayer = (layer: LayerIR): boolean => DROPOUT.has(layer.kind);
