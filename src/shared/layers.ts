/**
 * The layer vocabulary: which kinds are recurrent, convolutional, normalizing, ... defined once and
 * imported by the extractors, the rules, the hovers and the probe. Also the defaults of each kind's
 * typed fields (what a layer is when its constructor writes nothing).
 */
import type { AttentionConfig, ConvConfig, Framework, LayerCommon, LayerDetail, LayerIR, LayerKind, LayerOf, PoolConfig, RecurrentConfig } from './ir';

const RECURRENT_KINDS = ['lstm', 'gru', 'simple-rnn'] as const;
const CONV_KINDS = ['conv1d', 'conv2d', 'conv3d', 'conv-transpose'] as const;
const NORMALIZATION_KINDS = ['batchnorm', 'layernorm', 'groupnorm'] as const;
const MERGE_KINDS = ['add', 'concat', 'multiply'] as const;
const POOL_KINDS = ['maxpool', 'avgpool'] as const;
const DROPOUT_KINDS = ['dropout', 'alpha-dropout'] as const;

export type RecurrentKind = (typeof RECURRENT_KINDS)[number];
export type ConvKind = (typeof CONV_KINDS)[number];
export type NormalizationKind = (typeof NORMALIZATION_KINDS)[number];
export type MergeKind = (typeof MERGE_KINDS)[number];

const has = <K extends LayerKind>(kinds: readonly K[]) => {
  const set: ReadonlySet<LayerKind> = new Set<LayerKind>(kinds);
  return (kind: LayerKind): kind is K => set.has(kind);
};

/** LSTM, GRU and simple RNNs (also ConvLSTM, which is an 'lstm' with a `recurrent.conv`). */
export const isRecurrentKind = has(RECURRENT_KINDS);
/** Convolutions, transposed ones included. */
export const isConvKind = has(CONV_KINDS);
export const isNormalizationKind = has(NORMALIZATION_KINDS);
/** Layers joining several tensors. */
export const isMergeKind = has(MERGE_KINDS);
export const isPoolKind = has(POOL_KINDS);
export const isDropoutKind = has(DROPOUT_KINDS);
/** Layers whose kernel is learned by matrix products: dense, convolutions, recurrent layers. */
export const isWeightedKind = (kind: LayerKind): kind is 'dense' | ConvKind | RecurrentKind => kind === 'dense' || isConvKind(kind) || isRecurrentKind(kind);
/** Layers whose weights train: the weighted ones plus embeddings. */
export const isLearningKind = (kind: LayerKind): kind is 'dense' | ConvKind | RecurrentKind | 'embedding' => isWeightedKind(kind) || kind === 'embedding';
/**
 * Whether the layer holds trainable parameters (what a repeated application shares, see
 * LayerIR.sharesWeightsWith): the learning kinds, attention, learned positions, affine normalization, PReLU.
 */
export function hasParameters(layer: LayerIR): boolean {
  if (isLearningKind(layer.kind) || layer.kind === 'attention' || layer.kind === 'position-embedding') return true;
  if (layer.kind === 'batchnorm' || layer.kind === 'layernorm' || layer.kind === 'groupnorm') return layer.norm.affine !== false;
  return layer.kind === 'activation' && layer.activation?.name === 'prelu';
}
/** Layers that read a sequence of steps per example: recurrent layers, 1-D convolutions, and embeddings (token ids). */
export const readsSteps = (kind: LayerKind): boolean => isRecurrentKind(kind) || kind === 'conv1d' || kind === 'embedding';

export const isRecurrent = (layer: LayerIR): layer is LayerOf<RecurrentKind> => isRecurrentKind(layer.kind);
export const isConv = (layer: LayerIR): layer is LayerOf<ConvKind> => isConvKind(layer.kind);
export const isNormalization = (layer: LayerIR): layer is LayerOf<NormalizationKind> => isNormalizationKind(layer.kind);
export const isMerge = (layer: LayerIR): layer is LayerOf<MergeKind> => isMergeKind(layer.kind);
export const isPool = (layer: LayerIR): layer is LayerOf<'maxpool' | 'avgpool'> => isPoolKind(layer.kind);
export const isDropout = (layer: LayerIR): layer is LayerOf<'dropout' | 'alpha-dropout'> => isDropoutKind(layer.kind);

/**
 * What a normalization adds to the variance it divides by: as the code writes it (PyTorch-GAN's
 * `nn.BatchNorm1d(256, 0.8)` passes eps=0.8 where momentum was meant), else the framework's default
 * for every normalization layer (Keras 1e-3, PyTorch 1e-5).
 */
export function normEpsilon(layer: LayerIR, framework: Framework): number {
  return (isNormalization(layer) ? layer.norm.epsilon : null) ?? (framework === 'keras' ? 1e-3 : 1e-5);
}

/**
 * The first layer that computes on the (first) model input. A model with several inputs lists its
 * Input layers first and may compute on another input before this one (an Embedding of class labels
 * multiplied into the noise): the first layer that reads the first Input is the one whose needs say
 * what that input is.
 */
export function firstComputing<L extends LayerIR>(layers: readonly L[]): L | undefined {
  const head = layers[0];
  const reader = head?.kind === 'input' && head.inputs.length === 0 ? layers.find((l) => l.inputs.includes(head.id)) : undefined;
  return reader ?? layers.find((l) => l.kind !== 'input');
}

/**
 * The layers whose outputs the loss reads, by index: those no layer reads, unless the model drops them
 * (LayerIR.unreturned). A model returning several outputs (a head per digit, a classifier beside a box
 * regressor, Keras Model(inputs, [a, b])) is trained on all of them, as Keras sums their losses. A
 * returned tensor that other layers also read (LayerIR.returnedToo: an RNN's state, intermediate features)
 * is left out: the training code decides whether a loss reads it, and usually none does.
 */
export function modelOutputs(model: { readonly layers: readonly LayerIR[]; readonly isGraph: boolean }): number[] {
  const { layers } = model;
  if (!model.isGraph) return layers.length > 0 ? [layers.length - 1] : [];
  const read = new Set(layers.flatMap((l) => l.inputs));
  const ends = layers.flatMap((l, i) => (!read.has(l.id) && l.kind !== 'input' && l.unreturned !== true ? [i] : []));
  return ends.length > 0 ? ends : layers.length > 0 ? [layers.length - 1] : [];
}

/**
 * The index of the nearest layer on the way into layer `index` (itself included) that passes `test`,
 * following the first input of each layer of a graph; null when none does.
 */
export function lastLayerOnPath(model: { readonly layers: readonly LayerIR[]; readonly isGraph: boolean }, index: number, test: (layer: LayerIR) => boolean): number | null {
  const byId = new Map(model.layers.map((l, i) => [l.id, i]));
  for (let i: number | undefined = index; i !== undefined && i >= 0; ) {
    const layer: LayerIR = model.layers[i]!;
    if (test(layer)) return i;
    i = !model.isGraph ? i - 1 : layer.inputs.length > 0 ? byId.get(layer.inputs[0]!) : undefined;
  }
  return null;
}

/**
 * Classes (or labels) an output holds: the width of layer `index` or of the nearest layer before it that
 * has one (an activation or dropout keeps its input's). Null when the layer that sets it does not say
 * (`Dense(n_out)` with `n_out` read from the data, a custom layer): never the width of a layer before that.
 */
export function outputWidth(model: { readonly layers: readonly LayerIR[]; readonly isGraph: boolean }, index: number): number | null {
  const at = lastLayerOnPath(model, index, (layer) => layer.units !== null || isLearningKind(layer.kind) || layer.kind === 'unknown');
  return at === null ? null : model.layers[at]!.units;
}

/** The class name of an Input layer that stands for random numbers a torch forward draws (torch.randn_like(std)). */
export const NOISE_INPUT = 'noise';

/** An input of random numbers the model's own code draws: fed N(0, 1), no gradient reaches it. */
export const isNoiseInput = (layer: LayerIR): boolean => layer.kind === 'input' && layer.className === NOISE_INPUT;

export const CONSTANT_INPUT = 'constant';

/**
 * A tensor the model makes itself and a layer reads (`self.embedding(self.grid)`, a coordinate grid built
 * in __init__): fed one N(0, 1) draw shared by every example of the batch, as a buffer is; no gradient reaches it.
 */
export const isConstantInput = (layer: LayerIR): boolean => layer.kind === 'input' && layer.className === CONSTANT_INPUT;

/** Gate count of a recurrent kernel: it is (input, gates * units). */
export function gatesOf(kind: RecurrentKind): number {
  return kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
}

/** The sliding-window settings of a layer that has them: convolutions and ConvLSTM. */
export function convOf(layer: LayerIR): ConvConfig | null {
  if (isConv(layer)) return layer.conv;
  if (isRecurrent(layer)) return layer.recurrent.conv;
  return null;
}

export function defaultConv(variant: ConvConfig['variant'] = 'standard'): ConvConfig {
  return { variant, strides: [1], padding: 'valid', dilation: [1], groups: 1, depthMultiplier: 1, outputPadding: [0], pointwise: null };
}

/** Pooling defaults: strides equal to the window (Keras and torch agree), no padding. */
export function defaultPool(): PoolConfig {
  return { strides: 'window', padding: 'valid', dilation: [1], ceilMode: false, adaptiveOutput: null };
}

export function defaultRecurrent(kind: RecurrentKind): RecurrentConfig {
  return {
    bidirectional: false,
    mergeMode: 'concat',
    returnSequences: null,
    numLayers: 1,
    batchFirst: null,
    dropout: null,
    recurrentDropout: null,
    recurrentActivation: kind === 'simple-rnn' ? null : 'sigmoid',
    unitForgetBias: true,
    conv: null,
  };
}

/** The typed fields of a kind when the source writes nothing about them. */
export function defaultDetail(kind: LayerKind): LayerDetail {
  switch (kind) {
    case 'input':
      return { kind, shape: null };
    case 'dense':
      return { kind, in2Features: null };
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
      return { kind, conv: defaultConv() };
    case 'conv-transpose':
      return { kind, conv: defaultConv('transpose') };
    case 'maxpool':
    case 'avgpool':
      return { kind, pool: defaultPool() };
    case 'global-pool':
      return { kind, reduce: 'avg', keepdims: null };
    case 'flatten':
      return { kind };
    case 'reshape':
      return { kind, reshape: { op: 'other', className: '' } };
    case 'batchnorm':
    case 'layernorm':
    case 'groupnorm':
      return { kind, norm: { axis: null, epsilon: null, momentum: null, affine: true, groups: null } };
    case 'dropout':
    case 'alpha-dropout':
      return { kind, rate: null, noise: 'dropout' };
    case 'activation':
      return { kind };
    case 'embedding':
      return { kind, paddingIdx: null };
    case 'lstm':
    case 'gru':
    case 'simple-rnn':
      return { kind, recurrent: defaultRecurrent(kind) };
    case 'add':
      return { kind, merge: { op: 'add', axis: null } };
    case 'multiply':
      return { kind, merge: { op: 'multiply', axis: null } };
    case 'concat':
      return { kind, merge: { op: 'concatenate', axis: null } };
    case 'rescaling':
      return { kind, scale: null, offset: null, op: 'rescaling' };
    case 'attention':
      return { kind, attention: defaultAttention() };
    case 'position-embedding':
      return { kind, positions: null };
    case 'local-response-norm':
      return { kind, lrn: { ...TORCH_LRN_DEFAULTS, size: null } };
    case 'tensor-op':
      return { kind, op: null };
    case 'backbone':
      return { kind, backbone: { architecture: '', channels: 0, defaultSide: 0, reductions: [], pooling: null, classes: null, training: 'unknown', trainingAt: null, changedLaterAt: null } };
    case 'unknown':
      return { kind, identity: false };
  }
}

/** Multi-head attention as both frameworks default it: no dropout, no mask, torch's (time, batch, features) layout. */
export function defaultAttention(): AttentionConfig {
  return { heads: null, keyDim: null, valueDim: null, dropout: 0, batchFirst: null, causal: false };
}

/** torch nn.LocalResponseNorm's defaults (size has none). */
export const TORCH_LRN_DEFAULTS = { alpha: 1e-4, beta: 0.75, k: 1 } as const;

/** A deep copy of a layer (its typed fields are objects that copies must not share). */
export function cloneLayer<L extends LayerIR>(layer: L): L {
  return copyLayer(layer, new CopiesMade());
}

/** cloneLayer within a larger copy (`copies`: what it copied so far, shared in the copy as in the original). */
export function copyLayer<L extends LayerIR>(layer: L, copies: CopiesMade): L {
  const known = copies.get(layer);
  if (known !== undefined) return known as L;
  // The record made with room for its common fields (commonRecord), then every field copied into it.
  const copy = fieldsOf(commonRecord(layer));
  copies.set(layer, copy);
  const source = fieldsOf(layer);
  for (const key in source) copy[key] = cloneData(source[key], copies);
  return copy as L;
}

/** A copy of `layer` sharing its fields' values, with `patch`'s fields written over them: `{ ...layer, ...patch }` as a fast-mode object (see commonRecord). */
export function layerWith<L extends LayerIR>(layer: L, patch: Partial<L>): L {
  const copy = fieldsOf(commonRecord(layer));
  const source = fieldsOf(layer);
  for (const key in source) copy[key] = source[key];
  return Object.assign(copy, patch) as L;
}

/** An IR record's fields by name (IR records are plain objects). */
export function fieldsOf(record: object): Record<string, unknown> {
  return record as Record<string, unknown>;
}

/** Past this many objects copied, the copies are looked up in a Map. */
const LISTED_COPIES = 32;

/**
 * The copies made so far, by original. A layer holds a few dozen objects: a list scanned by identity
 * finds them faster than a Map, whose first lookup of an object gives it an identity hash (an
 * allocation per object copied; copying layers was the largest part of analyzing a model-dense file).
 */
export class CopiesMade {
  private readonly originals: object[] = [];
  private readonly copies: unknown[] = [];
  private byOriginal: Map<object, unknown> | null = null;

  get(original: object): unknown {
    if (this.byOriginal) return this.byOriginal.get(original);
    const originals = this.originals;
    for (let i = 0; i < originals.length; i++) if (originals[i] === original) return this.copies[i];
    return undefined;
  }

  set(original: object, copy: unknown): void {
    if (this.byOriginal) {
      this.byOriginal.set(original, copy);
      return;
    }
    this.originals.push(original);
    this.copies.push(copy);
    if (this.originals.length > LISTED_COPIES) this.byOriginal = new Map(this.originals.map((o, i) => [o, this.copies[i]]));
  }
}

/**
 * A deep copy of IR data (plain objects, arrays and primitives, as the IR is), keeping objects the
 * value shares shared in the copy as structuredClone does: structuredClone's serializer was 3 % of
 * analyzing a model-dense file, where every layer a model reads is copied.
 */
export function cloneData(value: unknown, copies: CopiesMade): unknown {
  if (value === null || typeof value !== 'object') return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    copies.set(value, out);
    for (const item of value) out.push(cloneData(item, copies));
    return out;
  }
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  const source = value as Record<string, unknown>;
  // for-in, not Object.keys: IR objects are plain (nothing enumerable inherited), and a key array per
  // object was a third of what copying a model's layers allocated.
  for (const key in source) out[key] = cloneData(source[key], copies);
  return out;
}

/** Some of a kind's typed fields; object-valued ones (conv, pool, norm, ...) may be given in part. */
export type DetailPatch = LayerDetail extends infer D
  ? D extends unknown
    ? { [P in Exclude<keyof D, 'kind'>]?: D[P] extends readonly unknown[] | null ? D[P] : D[P] extends object ? Partial<D[P]> : D[P] }
    : never
  : never;

/** A kind's default fields with a patch applied (one level deep). */
export function detailWith(kind: LayerKind, patch: DetailPatch = {}): LayerDetail {
  const detail: Record<string, unknown> = { ...defaultDetail(kind) };
  for (const [key, value] of Object.entries(patch)) {
    const current = detail[key];
    const mergeable = current !== null && typeof current === 'object' && !Array.isArray(current) && value !== null && typeof value === 'object' && !Array.isArray(value);
    detail[key] = mergeable ? { ...current, ...value } : value;
  }
  return detail as LayerDetail;
}

/** The common fields a caller knows, plus either a kind's typed fields or just the kind (its defaults then apply). */
export type LayerFields = Partial<LayerCommon> & Pick<LayerCommon, 'className' | 'range'> & (LayerDetail | { kind: LayerKind });

export function makeLayer(fields: LayerFields): LayerIR {
  // A bare kind takes its defaults; typed fields given for the kind replace them.
  return Object.assign(commonRecord(fields), defaultDetail(fields.kind), fields);
}

/**
 * `makeLayer({ ...detail, ...place })` without the spread: a copy of details of one shape per kind
 * took V8's generic path (1.3 ms of the analysis of a model-dense 5,000-line file).
 */
export function makeLayerAt(detail: LayerDetail | { kind: LayerKind }, place: Pick<LayerCommon, 'className' | 'range' | 'argsRange'>): LayerIR {
  return Object.assign(commonRecord({ kind: detail.kind, className: place.className, range: place.range }), defaultDetail(detail.kind), detail, place);
}

/**
 * A layer's kind and common fields (LayerCommon), those `from` leaves out at their defaults, written
 * as one object literal. V8 (Node 20) gives an object made by a literal room for the literal's fields
 * in the object itself, and keeps an object in fast mode only while the fields added to it later by
 * key (Object.assign onto it, a copy key by key) number at most max(12, that room). Layers have 25-30 fields:
 * built by assigning them onto the kind's detail (or onto `{}`, copying one), every layer was a
 * dictionary-mode object, each read of a field a hash lookup. Spreads (`{ ...layer, units }`) are no
 * way out: V8 makes each copy of a many-field object a map of its own once the spread has seen several
 * shapes (every model read through its own map); copies go through cloneLayer and layerWith.
 */
function commonRecord(from: LayerFields): LayerCommon & { kind: LayerKind } {
  return {
    kind: from.kind,
    id: from.id ?? '',
    name: from.name ?? '',
    className: from.className,
    range: from.range,
    unrolled: from.unrolled ?? null,
    units: from.units ?? null,
    inFeatures: from.inFeatures ?? null,
    kernelSize: from.kernelSize ?? null,
    activation: from.activation ?? null,
    kernelInit: from.kernelInit ?? null,
    biasInit: from.biasInit ?? null,
    recurrentInit: from.recurrentInit ?? null,
    useBias: from.useBias ?? false,
    fanIn: from.fanIn ?? null,
    fanOut: from.fanOut ?? null,
    dataFormat: from.dataFormat ?? null,
    timeDistributed: from.timeDistributed ?? false,
    conditional: from.conditional ?? false,
    repeated: from.repeated ?? false,
    frozen: from.frozen ?? false,
    noGrad: from.noGrad ?? false,
    sharesWeightsWith: from.sharesWeightsWith ?? null,
    inputs: from.inputs ?? [],
    argsRange: from.argsRange ?? null,
  };
}

/** "nn.Conv2d 'conv1' (line 12)": a layer as the prediction's messages name it (no quotes for an unnamed one). */
export function layerLabel(layer: Pick<LayerIR, 'className' | 'name' | 'range'>): string {
  return `${layer.className}${layer.name ? ` '${layer.name}'` : ''} (line ${layer.range.start.line + 1})`;
}
