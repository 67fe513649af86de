/**
 * The keras.applications image models a transfer-learning script builds its head on
 * (`base = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))`), as one table:
 * for each constructor, the channels of its last feature map (include_top=False), the steps that
 * take the input image down to that map, and the input side it is built for by default. Read from
 * the Keras 3 source (keras/src/applications/*.py), which tf.keras 2.x matches for these numbers
 * except MobileNetV3 (below):
 *
 * - VGG16/19: five MaxPooling2D(2, strides=2) ('valid'); block5 has 512 channels (post-ReLU, pooled).
 * - ResNet50/101/152 (resnet.py, v1): ZeroPadding2D(3) + Conv2D(7, strides=2), ZeroPadding2D(1) +
 *   MaxPooling2D(3, strides=2), then the first 1x1 convolution of conv3/4/5 with strides=2 ('valid');
 *   conv5 ends with 2048 channels after ReLU.
 * - ResNet50V2/101V2/152V2 (resnet_v2.py): the same stem; the stride sits on the last block of conv2,
 *   conv3 and conv4 (ZeroPadding2D(1) + 3x3 'valid' conv, shortcut MaxPooling2D(1, strides)); ends with
 *   post_bn + post_relu, 2048 channels.
 * - MobileNet (v1): Conv2D(3, strides=2, 'same'), then four depthwise blocks with strides=2 after
 *   ZeroPadding2D(((0, 1), (0, 1))) ('valid'); 1024 channels (x alpha), ReLU6.
 * - MobileNetV2: Conv2D(3, strides=2, 'same'), four stride-2 blocks padded by correct_pad (the same
 *   output as 'same'); Conv_1 1280 channels + ReLU6 (out_relu).
 * - MobileNetV3Small/Large: the stem and four stride-2 blocks as V2; conv_1 with 6 x the last block's
 *   channels (576 / 960) and hard-swish. tf.keras before 2.9 also pooled and added conv_2 (1024 / 1280)
 *   when include_top=False; the Keras 3 map is what is catalogued.
 * - EfficientNetB0-B7: stem 3x3 strides=2 after correct_pad, four stride-2 stages after correct_pad;
 *   top_conv round_filters(1280) x width (1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0) with swish; default
 *   sides 224, 240, 260, 300, 380, 456, 528, 600.
 * - EfficientNetV2B0-B3/S/M/L: every strided convolution 'same', five of them; top 1280 x width
 *   (B2 1.1, B3 1.2), swish; default sides 224, 240, 260, 300, 384, 480, 480.
 * - InceptionV3 / InceptionResNetV2: 3x3 strides=2 'valid', 3x3 'valid', 3x3 'same', MaxPooling2D(3,
 *   strides=2) 'valid', 1x1, 3x3 'valid', MaxPooling2D(3, strides=2), then two reductions by 3x3
 *   strides=2 'valid' (mixed3 / mixed8, mixed_6a / mixed_7a); 2048 (mixed10) and 1536 (conv_7b)
 *   channels, ReLU; 299 -> 8.
 * - Xception: 3x3 strides=2 'valid', 3x3 'valid', then four stride-2 steps in 'same'; 2048, ReLU.
 * - DenseNet121/169/201: the ResNet stem, then three transitions AveragePooling2D(2, strides=2); 1024,
 *   1664, 1920 channels after the last BN + ReLU.
 * - NASNetMobile / NASNetLarge: stem 3x3 strides=2 'valid', then four reduction cells padded by
 *   correct_pad; 1056 / 4032 channels after ReLU; 224 / 331 by default.
 *
 * Every one of them ends in ReLU, ReLU6 (or a max or average pool of those), or swish / hard-swish,
 * whose outputs are nearly all positive: the features the prediction and the probe feed a head.
 */
import type { BackboneConfig, Range, SpatialReduction } from '../../../shared/ir';
import type { Node } from '../../python/syntax-tree';
import type { ConstValue } from '../../python/constants';
import { descendantsOfType, enclosing, namedChildren, rangeOf } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { evaluateArg, type ArgContext } from './context';

export interface ApplicationSpec {
  channels: number;
  defaultSide: number;
  reductions: SpatialReduction[];
}

const same = (stride: number): SpatialReduction => ({ kernel: stride, stride, pad: 'same' });
const valid = (kernel: number, stride: number, pad = 0): SpatialReduction => ({ kernel, stride, pad });

const VGG = [valid(2, 2), valid(2, 2), valid(2, 2), valid(2, 2), valid(2, 2)];
/** ZeroPadding2D(3) + 7x7/2 conv, ZeroPadding2D(1) + 3x3/2 max pool. */
const RESNET_STEM = [valid(7, 2, 6), valid(3, 2, 2)];
const RESNET = [...RESNET_STEM, valid(1, 2), valid(1, 2), valid(1, 2)];
const RESNET_V2 = [...RESNET_STEM, valid(3, 2, 2), valid(3, 2, 2), valid(3, 2, 2)];
const MOBILENET = [same(2), valid(3, 2, 1), valid(3, 2, 1), valid(3, 2, 1), valid(3, 2, 1)];
/** Five halvings with 'same' (or correct_pad, which gives the same sides). */
const HALVED_FIVE_TIMES = [same(2), same(2), same(2), same(2), same(2)];
const INCEPTION = [valid(3, 2), valid(3, 1), valid(3, 2), valid(1, 1), valid(3, 1), valid(3, 2), valid(3, 2), valid(3, 2)];
const XCEPTION = [valid(3, 2), valid(3, 1), same(2), same(2), same(2), same(2)];
const DENSENET = [...RESNET_STEM, valid(2, 2), valid(2, 2), valid(2, 2)];
const NASNET = [valid(3, 2), same(2), same(2), same(2), same(2)];

const entries: [string, number, number, SpatialReduction[]][] = [
  ['VGG16', 512, 224, VGG],
  ['VGG19', 512, 224, VGG],
  ['ResNet50', 2048, 224, RESNET],
  ['ResNet101', 2048, 224, RESNET],
  ['ResNet152', 2048, 224, RESNET],
  ['ResNet50V2', 2048, 224, RESNET_V2],
  ['ResNet101V2', 2048, 224, RESNET_V2],
  ['ResNet152V2', 2048, 224, RESNET_V2],
  ['MobileNet', 1024, 224, MOBILENET],
  ['MobileNetV2', 1280, 224, HALVED_FIVE_TIMES],
  ['MobileNetV3Small', 576, 224, HALVED_FIVE_TIMES],
  ['MobileNetV3Large', 960, 224, HALVED_FIVE_TIMES],
  ['EfficientNetB0', 1280, 224, HALVED_FIVE_TIMES],
  ['EfficientNetB1', 1280, 240, HALVED_FIVE_TIMES],
  ['EfficientNetB2', 1408, 260, HALVED_FIVE_TIMES],
  ['EfficientNetB3', 1536, 300, HALVED_FIVE_TIMES],
  ['EfficientNetB4', 1792, 380, HALVED_FIVE_TIMES],
  ['EfficientNetB5', 2048, 456, HALVED_FIVE_TIMES],
  ['EfficientNetB6', 2304, 528, HALVED_FIVE_TIMES],
  ['EfficientNetB7', 2560, 600, HALVED_FIVE_TIMES],
  ['EfficientNetV2B0', 1280, 224, HALVED_FIVE_TIMES],
  ['EfficientNetV2B1', 1280, 240, HALVED_FIVE_TIMES],
  ['EfficientNetV2B2', 1408, 260, HALVED_FIVE_TIMES],
  ['EfficientNetV2B3', 1536, 300, HALVED_FIVE_TIMES],
  ['EfficientNetV2S', 1280, 384, HALVED_FIVE_TIMES],
  ['EfficientNetV2M', 1280, 480, HALVED_FIVE_TIMES],
  ['EfficientNetV2L', 1280, 480, HALVED_FIVE_TIMES],
  ['InceptionV3', 2048, 299, INCEPTION],
  ['InceptionResNetV2', 1536, 299, INCEPTION],
  ['Xception', 2048, 299, XCEPTION],
  ['DenseNet121', 1024, 224, DENSENET],
  ['DenseNet169', 1664, 224, DENSENET],
  ['DenseNet201', 1920, 224, DENSENET],
  ['NASNetMobile', 1056, 224, NASNET],
  ['NASNetLarge', 4032, 331, NASNET],
];

const CATALOGUE = new Map<string, ApplicationSpec>(entries.map(([name, channels, defaultSide, reductions]) => [name, { channels, defaultSide, reductions }]));

/** The catalogue's entry for a keras.applications constructor's name, if it has one. */
export function applicationSpec(className: string): ApplicationSpec | undefined {
  return CATALOGUE.get(className);
}

/**
 * The backbone a keras.applications call builds, from its keyword arguments (the constructors' positional
 * orders differ: MobileNet starts with input_shape, VGG16 with include_top), or null when the call is
 * written in a way the catalogue cannot read (positional arguments, a width multiplier `alpha` other
 * than 1, include_top or pooling not constants).
 */
export function readBackbone(call: Node, className: string, ctx: ArgContext): BackboneConfig | null {
  const spec = applicationSpec(className);
  const args = callArgs(call);
  if (!spec || args.positional.length > 0 || args.splats.length > 0) return null;
  const value = (name: string, fallback: ConstValue): ConstValue | undefined => {
    const node = args.keywords.get(name);
    return node ? evaluateArg(ctx, node) : fallback;
  };
  const includeTop = value('include_top', true);
  const pooling = value('pooling', null);
  const classes = value('classes', 1000);
  const alpha = value('alpha', 1);
  if (typeof includeTop !== 'boolean' || (pooling !== null && pooling !== 'avg' && pooling !== 'max') || alpha !== 1) return null;
  if (includeTop && typeof classes !== 'number') return null;
  return {
    architecture: className,
    channels: spec.channels,
    defaultSide: spec.defaultSide,
    reductions: spec.reductions,
    pooling: includeTop ? null : pooling,
    classes: includeTop ? (classes as number) : null,
    ...trainability(call),
  };
}

/** What of a base the model does not read (its layers, when they train; its classifier): said once per model, like an unknown layer. */
export function backboneUnread(base: BackboneConfig, written: string, range: Range): { what: string; range: Range }[] {
  if (base.classes !== null) return [{ what: `${written} with its ImageNet classifier (include_top=True)`, range }];
  if (base.training === 'frozen') return [];
  const how = base.training === 'partly' ? 'partly unfrozen' : base.training === 'unknown' ? 'perhaps not frozen' : 'not frozen';
  return [{ what: `${written} (${how}: its layers train)`, range }];
}

/** Calls that compile or train a model: Keras fixes which weights train when the model is compiled. */
const TRAINING_CALLS = /^(?:compile|fit|fit_generator|train_on_batch)$/;

type Training = Pick<BackboneConfig, 'training' | 'trainingAt' | 'changedLaterAt'>;

/**
 * Whether the base the call builds trains, read from what the code writes on the name it is bound to,
 * in order, up to the first compile or fit after it (later writes are fine-tuning, noted as not
 * modelled): `base.trainable = False`, `for layer in base.layers: layer.trainable = False` (every
 * layer), `for layer in base.layers[:-4]: layer.trainable = False` (some: 'partly'), and the same through
 * its place in a Sequential (`model.layers[0].trainable = False`). Writes in other functions, or
 * through another name (`layers = base.layers`), are not read.
 */
function trainability(call: Node): Training {
  let state: Training = { training: 'trainable', trainingAt: null, changedLaterAt: null };
  const scope = enclosing(call, ['function_definition'])?.childForFieldName('body') ?? call.tree.rootNode;
  const names = namesOf(call, scope);
  if (names.length === 0) return state;
  let compiled = false;
  const visit = (n: Node): void => {
    if (n.startIndex > call.endIndex) {
      const next = trainingWrite(n, names, state.training);
      if (next && compiled) {
        if (next !== state.training && !state.changedLaterAt) state = { ...state, changedLaterAt: rangeOf(n) };
        return;
      }
      if (next) {
        state = { ...state, training: next, trainingAt: rangeOf(n) };
        return;
      }
      if (n.type === 'call' && TRAINING_CALLS.test(n.childForFieldName('function')?.childForFieldName('attribute')?.text ?? '')) compiled = true;
    }
    if (n.type === 'function_definition' || n.type === 'class_definition') return;
    for (const child of n.namedChildren) visit(child);
  };
  for (const child of scope.namedChildren) visit(child);
  return state;
}

/**
 * The expressions the code can reach the base the call builds by: the name it is bound to
 * (`base = VGG16(...)`), or its place in a Sequential (`model.layers[0]` for `model =
 * Sequential([ResNet50(...), ...])` or a first `model.add(ResNet50(...))`; Input layers take no place).
 */
function namesOf(call: Node, scope: Node): string[] {
  let top = call;
  while (top.parent?.type === 'parenthesized_expression') top = top.parent;
  const parent = top.parent;
  if (parent?.type === 'assignment' && parent.childForFieldName('right') === top) {
    const target = parent.childForFieldName('left');
    return target?.type === 'identifier' ? [target.text] : [];
  }
  const isInput = (n: Node) => /\bInput(?:Layer)?\s*\(/.test(n.text);
  if (parent?.type === 'list') {
    // `model = Sequential([base, ...])`: the list is the constructor's first argument, bound to a name.
    const model = parent.parent?.type === 'argument_list' ? parent.parent.parent : null;
    const assignment = model?.parent;
    const target = assignment?.type === 'assignment' && assignment.childForFieldName('right') === model ? assignment.childForFieldName('left') : null;
    if (!model || !/Sequential$/.test(model.childForFieldName('function')?.text ?? '') || target?.type !== 'identifier') return [];
    const before = namedChildren(parent).filter((e) => e.startIndex < top.startIndex && !isInput(e));
    return [`${target.text}.layers[${before.length}]`];
  }
  const adding = parent?.type === 'argument_list' ? parent.parent : null;
  const receiver = adding?.childForFieldName('function');
  const model = receiver?.childForFieldName('object');
  if (!adding || receiver?.type !== 'attribute' || receiver.childForFieldName('attribute')?.text !== 'add' || model?.type !== 'identifier') return [];
  // `model.add(ResNet50(...))`: its place among the layers added to `model` before it.
  const earlier = descendantsOfType(scope, 'call').filter((c) => c.startIndex < adding.startIndex && c.childForFieldName('function')?.text === `${model.text}.add` && !isInput(c));
  return [`${model.text}.layers[${earlier.length}]`];
}

/**
 * A `for` loop over a model's layers (`for layer in base.layers:`): the model as written, the loop
 * variable, and whether it visits every layer (`base.layers`, `base.layers[:]`) or a part (`[:-4]`).
 */
export function layersLoop(n: Node): { model: string; variable: string; every: boolean } | null {
  if (n.type !== 'for_statement') return null;
  const variable = n.childForFieldName('left');
  const iterated = n.childForFieldName('right');
  if (variable?.type !== 'identifier' || !iterated) return null;
  const index = iterated.type === 'subscript' ? iterated.childForFieldName('subscript') : null;
  const listed = iterated.type === 'subscript' ? iterated.childForFieldName('value') : iterated;
  const model = listed?.type === 'attribute' && listed.childForFieldName('attribute')?.text === 'layers' ? listed.childForFieldName('object') : null;
  if (!model) return null;
  const every = index === null || (index.type === 'slice' && index.text.replace(/\s/g, '') === ':');
  return { model: model.text, variable: variable.text, every };
}

/** The loop whose every visit `write` (a statement in its body) runs on, unconditionally: a write under an `if` (`isinstance(layer, BatchNormalization)`) sets some layers only. */
export function unconditionalIn(write: Node, loop: Node): boolean {
  return enclosing(write, ['if_statement', 'for_statement', 'while_statement']) === loop;
}

/** The training state a statement leaves the base (reached by `names`) in (from `current`), or null when it writes none. */
function trainingWrite(n: Node, names: readonly string[], current: BackboneConfig['training']): BackboneConfig['training'] | null {
  if (n.type === 'assignment' && names.some((name) => n.childForFieldName('left')?.text === `${name}.trainable`)) return trainableValue(n.childForFieldName('right'));
  const loop = layersLoop(n);
  const body = n.childForFieldName('body');
  if (!loop || !body || !names.includes(loop.model)) return null;
  const writes = descendantsOfType(body, 'assignment').filter((a) => a.childForFieldName('left')?.text === `${loop.variable}.trainable`);
  if (writes.length !== 1) return writes.length === 0 ? null : 'unknown';
  const write = writes[0]!;
  const value = trainableValue(write.childForFieldName('right'));
  if (value === 'unknown' || (loop.every && unconditionalIn(write, n))) return value;
  return value === current ? current : 'partly';
}

function trainableValue(node: Node | null): BackboneConfig['training'] {
  if (node?.type === 'false') return 'frozen';
  if (node?.type === 'true') return 'trainable';
  return 'unknown';
}
