/**
 * A pre-built image model used as one layer (LayerIR kind 'backbone', Keras keras.applications): what
 * the prediction and the probe both assume of it, in one place, so that they never disagree.
 *
 * A frozen base is a fixed, weightless feature extractor: nothing before it trains, and the head is
 * fed its features. Both stand in for them with max(0, z), z ~ N(0, 1) per value, independent over
 * examples, positions and channels: every catalogued architecture ends in ReLU or ReLU6 (EfficientNet
 * and MobileNetV3 in swish / hard-swish, whose negative part is small), so its features are
 * nonnegative with a mean of the order of their spread; a unit pre-activation is what He-scaled ReLU
 * layers keep. The scale of real ImageNet features depends on the image and the weights, which the
 * analyzer never loads: the head is judged on features of this scale, and its verdicts say so.
 */
import type { BackboneConfig, LayerOf } from './ir';
import { layerLabel } from './layers';

/** Mean and second moment of max(0, z), z ~ N(0, 1): the features a frozen base is taken to give. */
export const BACKBONE_FEATURE_MEAN = 1 / Math.sqrt(2 * Math.PI);
export const BACKBONE_FEATURE_SECOND_MOMENT = 0.5;


/** Why a backbone is not modelled (the prediction's reason and the probe's refusal), or null for a frozen feature extractor. */
export function backboneNotModelled(layer: LayerOf<'backbone'>): string | null {
  const base = layer.backbone;
  const at = (range: BackboneConfig['trainingAt']) => (range ? ` (line ${range.start.line + 1})` : '');
  if (base.classes !== null) return `${layerLabel(layer)} keeps its ImageNet classifier (include_top=True); a pre-trained base is modelled only as a frozen feature extractor (include_top=False)`;
  switch (base.training) {
    case 'frozen':
      return null;
    case 'partly':
      return `${layerLabel(layer)} is partly unfrozen${at(base.trainingAt)}: its layers train, and they are not modelled`;
    case 'unknown':
      return `whether ${layerLabel(layer)} trains is written with a value the analyzer cannot read${at(base.trainingAt)}; its layers are not modelled`;
    default:
      return `${layerLabel(layer)} trains (it is not frozen: no \`trainable = False\` on it is read before the model is first compiled); its layers are not modelled`;
  }
}

/** The information note of a frozen base: what it is taken to give, and what is not measured. */
export function frozenBackboneNote(layer: LayerOf<'backbone'>, features: readonly (number | null)[]): string {
  const later = layer.backbone.changedLaterAt ? `; it is unfrozen again at line ${layer.backbone.changedLaterAt.start.line + 1} after the first compile (fine-tuning), which is not modelled` : '';
  return `${layerLabel(layer)} is frozen: a fixed feature extractor whose own gradients are not measured, taken to give ${features.join('x')} post-ReLU features max(0, N(0, 1)) to the head${later}`;
}
