/**
 * The input shape a probe should feed each model, and where it was read. Best first:
 *   1. model   - the model's own code (input_shape=, Input(shape=), Linear in_features of a first layer);
 *   2. data    - the data code of the file: torchvision datasets and transforms (Resize, CenterCrop,
 *                RandomResizedCrop, RandomCrop, Grayscale), keras.datasets, image_dataset_from_directory
 *                (image_size=, color_mode=), flow_from_directory(target_size=), `x.reshape(-1, 28, 28, 1)`,
 *                pad_sequences(maxlen=);
 *   3. example - example tensors (`torch.randn(1, 3, 224, 224)`), `summary(model, (3, 224, 224))`,
 *                `model.build((None, 28, 28, 1))`;
 *   4. constraint - what the layers allow: the Linear after a Flatten fixes H x W of a conv net;
 *                an Embedding first means integer tokens;
 *   5. default - a documented default per first-layer kind (docs/probe.md), which the editor asks about.
 * Evidence must fit the model (channels, features, rank) to be used; what does not fit is ignored.
 * Shapes are in the framework's layout: PyTorch (C, H, W), Keras (H, W, C).
 */
import type { Node } from '../python/syntax-tree';
import type { InputShapeGuess, LayerIR, LayerKind, LayerOf, ModelIR } from '../../shared/ir';
import { DEFAULT_IMAGE_SIDE, DEFAULT_SEQUENCE_LENGTH, REPRESENTATIVE_SIZES, representativeUnits } from '../../shared/input-defaults';
import type { PyFile } from '../python/file';
import { Scope, type ConstValue } from '../python/constants';
import { argument, callArguments, calleeName, enclosing } from '../python/syntax';
import { callsWithLastName } from './training/flow';
import { firstShapeConflict, propagateShapes, type ShapeConflict } from '../../shared/shapes';
import { cloneLayer, copyLayer, CopiesMade, firstComputing, isConstantInput, isNormalizationKind } from '../../shared/layers';
import { mapPacked } from '../../shared/packed';
import { tensorOpsRank } from '../../shared/tensor-ops-rank';

/** Something in the file's code that tells a shape. */
export interface Evidence {
  /** Without batch. For images: [C, H, W] when `channelsFirst`, else [H, W, C] or [H, W] (no channel axis). */
  shape: number[];
  kind: 'image' | 'tensor' | 'tokens' | 'features';
  channelsFirst: boolean;
  source: 'data' | 'example';
  what: string;
  line: number;
}

const TORCHVISION_IMAGES: Record<string, [number, number, number]> = {
  MNIST: [1, 28, 28],
  FashionMNIST: [1, 28, 28],
  KMNIST: [1, 28, 28],
  EMNIST: [1, 28, 28],
  QMNIST: [1, 28, 28],
  USPS: [1, 16, 16],
  CIFAR10: [3, 32, 32],
  CIFAR100: [3, 32, 32],
  SVHN: [3, 32, 32],
  STL10: [3, 96, 96],
  CelebA: [3, 218, 178],
  Omniglot: [1, 105, 105],
};
/** torchvision datasets whose image size is whatever the transforms make it (3 channels). */
const TORCHVISION_FOLDERS = /^(ImageFolder|ImageNet|DatasetFolder|Caltech101|Caltech256|Flowers102|Food101|OxfordIIITPet|StanfordCars|FGVCAircraft|Places365|LSUN|VOCDetection|VOCSegmentation|CocoDetection|INaturalist|DTD|GTSRB|EuroSAT|Country211|SUN397|FakeData)$/;
const KERAS_DATASETS: Record<string, Omit<Evidence, 'source' | 'what' | 'line'>> = {
  mnist: { shape: [28, 28], kind: 'image', channelsFirst: false },
  fashion_mnist: { shape: [28, 28], kind: 'image', channelsFirst: false },
  cifar10: { shape: [32, 32, 3], kind: 'image', channelsFirst: false },
  cifar100: { shape: [32, 32, 3], kind: 'image', channelsFirst: false },
  boston_housing: { shape: [13], kind: 'features', channelsFirst: false },
  california_housing: { shape: [8], kind: 'features', channelsFirst: false },
};
const TOKEN_DATASETS = /^keras\.datasets\.(imdb|reuters)\.load_data$/;
const EXAMPLE_TENSORS = /^(torch\.(randn|rand|zeros|ones|empty|normal)|numpy\.(random\.(rand|randn|random|normal|uniform)|zeros|ones|empty)|tensorflow\.(random\.(normal|uniform)|zeros|ones))$/;
const TOKEN_TENSORS = /^(torch\.randint|numpy\.random\.randint|tensorflow\.random\.uniform)$/;
const SEQUENCE_ASSIGNMENT = /^[ \t]*(max_?len(?:gth)?|seq(?:uence)?_?len(?:gth)?|block_size|context_(?:length|size)|max_seq(?:uence)?_len(?:gth)?|bptt|maxlen|num_steps|time_?steps)[ \t]*=[ \t]*(\d+)[ \t]*(?:#.*)?$/gim;
/** Last names of the calls that can tell a shape (a regex alternation, matched whole). */
const EVIDENCE_CALLS = [
  ...Object.keys(TORCHVISION_IMAGES),
  TORCHVISION_FOLDERS.source.slice(2, -2),
  'Resize|CenterCrop|RandomResizedCrop|RandomCrop|FiveCrop|TenCrop|Grayscale',
  'load_data|image_dataset_from_directory|flow_from_directory|flow_from_dataframe|pad_sequences|summary|build',
  'reshape|view|randn|rand|zeros|ones|empty|normal|uniform|random|randint',
].join('|');

/** Kinds that read an image-like (channels + spatial) input. */
const SPATIAL_FIRST: ReadonlySet<LayerKind> = new Set(['conv1d', 'conv2d', 'conv3d', 'conv-transpose', 'maxpool', 'avgpool', 'batchnorm', 'groupnorm']);
const RECURRENT: ReadonlySet<LayerKind> = new Set(['lstm', 'gru', 'simple-rnn']);

const isPositiveInts = (v: ConstValue | undefined | (ConstValue | undefined)[]): v is number[] => Array.isArray(v) && v.length > 0 && v.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0);

function evaluate(node: Node | null | undefined): ConstValue | undefined {
  return node ? Scope.of(node).evaluate(node) : undefined;
}

/** A size argument: n or (h, w). */
function sideOf(node: Node | null): [number, number] | null {
  const v = evaluate(node);
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
  if (isPositiveInts(v) && v.length === 2) return [v[0]!, v[1]!];
  return null;
}

/** Inside a class body (model code: `x.view(-1, 320)` in forward is a layer, not data). */
const inClass = (node: Node) => enclosing(node, ['class_definition']) !== null;

/** A fact placed where it is written (row and column as one number), so parts of a file combine in file order. */
interface Placed<T> {
  at: number;
  value: T;
}

/**
 * What the calls of one file, or of one slice of it (analysis/units.ts), tell about input shapes, before
 * the file combines them: transforms apply to datasets written anywhere in the file, and the last
 * transform written wins, so each fact keeps where it was written.
 */
export interface PartEvidence {
  items: Placed<Evidence>[];
  crop: Placed<[number, number]> | null;
  resize: Placed<[number, number]> | null;
  gray: Placed<number> | null;
  /** The first image-folder dataset. */
  folder: Placed<{ what: string; line: number }> | null;
  tokenSource: Placed<{ what: string; line: number }> | null;
  /** The last pad_sequences(maxlen=...). */
  padLength: Placed<{ length: number; what: string; line: number }> | null;
  /** The first `max_len = 100`-like line (sequenceConstant): lines outside every statement never match, so parts cover the file. */
  lengthConstant: Placed<{ length: number; what: string; line: number }> | null;
}

const placeOf = (node: Node): number => node.startPosition.row * 2 ** 24 + node.startPosition.column;

class EvidenceCollector {
  private readonly found: PartEvidence = { items: [], crop: null, resize: null, gray: null, folder: null, tokenSource: null, padLength: null, lengthConstant: null };
  /** Where the call being read is written. */
  private at = 0;

  constructor(private readonly file: PyFile) {}

  collect(): PartEvidence {
    // Only calls whose last name can tell a shape: found by text first, so a long file costs little.
    for (const call of callsWithLastName(this.file.root, EVIDENCE_CALLS)) {
      this.at = placeOf(call);
      this.call(call);
    }
    this.found.lengthConstant = sequenceConstant(this.file.text);
    return this.found;
  }

  private add(e: Evidence): void {
    this.found.items.push({ at: this.at, value: e });
  }

  private placed<T>(value: T): Placed<T> {
    return { at: this.at, value };
  }

  private call(call: Node): void {
    const written = calleeName(call);
    if (!written) return;
    const qualified = this.file.imports.resolve(written);
    const last = written.slice(written.lastIndexOf('.') + 1);
    const line = call.startPosition.row + 1;
    const args = callArguments(call);
    if (qualified.startsWith('torchvision.datasets.')) {
      const name = qualified.slice('torchvision.datasets.'.length);
      const known = TORCHVISION_IMAGES[name];
      if (known) this.add({ shape: [...known], kind: 'image', channelsFirst: true, source: 'data', what: `torchvision.datasets.${name}`, line });
      else if (TORCHVISION_FOLDERS.test(name)) this.found.folder ??= this.placed({ what: `torchvision.datasets.${name}`, line });
      return;
    }
    if (qualified.startsWith('torchvision.transforms.')) {
      const name = qualified.slice(qualified.lastIndexOf('.') + 1);
      const side = sideOf(argument(args, 0, 'size'));
      if (/^(CenterCrop|RandomResizedCrop|RandomCrop|FiveCrop|TenCrop)$/.test(name) && side) this.found.crop = this.placed(side);
      else if (name === 'Resize' && side) this.found.resize = this.placed(side);
      else if (name === 'Grayscale') {
        const n = evaluate(argument(args, 0, 'num_output_channels'));
        this.found.gray = this.placed(typeof n === 'number' ? n : 1);
      }
      return;
    }
    const kerasData = /^keras\.datasets\.(\w+)\.load_data$/.exec(qualified);
    if (kerasData) {
      const known = KERAS_DATASETS[kerasData[1]!];
      if (known) this.add({ ...known, shape: [...known.shape], source: 'data', what: `keras.datasets.${kerasData[1]}`, line });
      if (TOKEN_DATASETS.test(qualified)) this.found.tokenSource = this.placed({ what: `keras.datasets.${kerasData[1]}`, line });
      return;
    }
    if (/(^|\.)image_dataset_from_directory$/.test(qualified) || last === 'flow_from_directory' || last === 'flow_from_dataframe') {
      const side = sideOf(argument(args, null, last === 'image_dataset_from_directory' ? 'image_size' : 'target_size')) ?? [256, 256];
      const mode = evaluate(argument(args, null, 'color_mode'));
      const channels = mode === 'grayscale' ? 1 : mode === 'rgba' ? 4 : 3;
      this.add({ shape: [side[0], side[1], channels], kind: 'image', channelsFirst: false, source: 'data', what: `${last}(image_size ${side.join('x')})`, line });
      return;
    }
    if (last === 'pad_sequences') {
      const maxlen = evaluate(argument(args, null, 'maxlen'));
      if (typeof maxlen === 'number' && maxlen > 0) this.found.padLength = this.placed({ length: maxlen, what: `pad_sequences(maxlen=${maxlen})`, line });
      return;
    }
    if (last === 'summary' && args.positional.length >= 2) {
      const shape = evaluate(argument(args, 1, 'input_size'));
      if (isPositiveInts(shape)) this.add({ shape, kind: 'tensor', channelsFirst: true, source: 'example', what: `summary(..., ${JSON.stringify(shape)})`, line });
      return;
    }
    if (last === 'build' && written.includes('.')) {
      const shape = evaluate(argument(args, 0, 'input_shape'));
      if (Array.isArray(shape) && shape.length >= 2 && shape[0] === null && isPositiveInts(shape.slice(1))) {
        this.add({ shape: shape.slice(1) as number[], kind: 'tensor', channelsFirst: false, source: 'example', what: `build(${JSON.stringify(shape).replace(/null/g, 'None')})`, line });
      }
      return;
    }
    if (inClass(call)) return;
    if ((last === 'reshape' || last === 'view') && written.includes('.')) {
      const dims = args.positional.length === 1 ? evaluate(args.positional[0]) : args.positional.map((a) => evaluate(a));
      if (!Array.isArray(dims) || dims.length < 2) return;
      const [batch, ...rest] = dims;
      if ((batch === -1 || batch === undefined || typeof batch === 'number') && isPositiveInts(rest)) {
        this.add({ shape: rest, kind: 'tensor', channelsFirst: this.torchLike(), source: 'data', what: `${written}(${dims.map((d) => d ?? '…').join(', ')})`, line });
      }
      return;
    }
    if (EXAMPLE_TENSORS.test(qualified)) {
      if (enclosing(call, ['call'])?.text.startsWith('nn.Parameter')) return;
      const size = args.positional.length === 1 ? evaluate(args.positional[0]) : args.positional.map((a) => evaluate(a));
      const shape = Array.isArray(size) ? size : null;
      if (shape && shape.length >= 2 && isPositiveInts(shape)) {
        this.add({ shape: shape.slice(1), kind: 'tensor', channelsFirst: qualified.startsWith('torch.'), source: 'example', what: `${written}(${shape.join(', ')})`, line });
      }
      return;
    }
    if (TOKEN_TENSORS.test(qualified)) {
      const size = evaluate(argument(args, 2, 'size', 'shape'));
      if (isPositiveInts(size) && size.length === 2) this.add({ shape: [size[1]!], kind: 'tokens', channelsFirst: false, source: 'example', what: `${written}(…, (${size.join(', ')}))`, line });
    }
  }

  private torchLike(): boolean {
    return this.file.imports.importsPackage('torch');
  }
}

/** `max_len = 100`, `block_size = 256` on a line of `text`: a sequence length for token models (the first one written). */
function sequenceConstant(text: string): Placed<{ length: number; what: string; line: number }> | null {
  for (const m of text.matchAll(SEQUENCE_ASSIGNMENT)) {
    const value = Number(m[2]);
    if (!Number.isInteger(value) || value <= 1 || value > 100_000) continue;
    const line = text.slice(0, m.index).split('\n').length;
    return { at: line * 2 ** 24, value: { length: value, what: `${m[1] ?? ''} = ${value}`, line } };
  }
  return null;
}

/** The part's evidence (the calls of a file or of a slice of it). */
export function collectEvidence(file: PyFile): PartEvidence {
  return new EvidenceCollector(file).collect();
}

/** The placed fact written last (`first`: written first) among the parts'. */
function pick<T>(facts: readonly (Placed<T> | null)[], first = false): T | null {
  let best: Placed<T> | null = null;
  for (const f of facts) if (f && (!best || (first ? f.at < best.at : f.at > best.at))) best = f;
  return best?.value ?? null;
}

/** The file's evidence, in the order it is written, from its parts' (a whole file is one part): the same list whichever way the file was split. */
export function fileEvidence(parts: readonly PartEvidence[]): Evidence[] {
  const items = parts
    .flatMap((p) => p.items)
    .sort((a, b) => a.at - b.at)
    .map(({ value }) => ({ ...value, shape: [...value.shape] }));
  const side = pick(parts.map((p) => p.crop)) ?? pick(parts.map((p) => p.resize));
  const gray = pick(parts.map((p) => p.gray));
  for (const e of items) {
    // A transform's size and channels win over the dataset's native ones.
    if (e.kind === 'image' && e.channelsFirst && e.source === 'data') {
      if (side) e.shape = [e.shape[0]!, side[0], side[1]];
      if (gray !== null) e.shape[0] = gray;
      if (side || gray !== null) e.what += ' with its transforms';
    }
  }
  const folder = pick(parts.map((p) => p.folder), true);
  if (folder && side) {
    items.push({ shape: [gray ?? 3, side[0], side[1]], kind: 'image', channelsFirst: true, source: 'data', what: `${folder.what} with its transforms`, line: folder.line });
  }
  const sequence = pick(parts.map((p) => p.padLength)) ?? pick(parts.map((p) => p.lengthConstant), true);
  if (sequence) {
    const tokenSource = pick(parts.map((p) => p.tokenSource));
    items.push({ shape: [sequence.length], kind: 'tokens', channelsFirst: false, source: tokenSource ? 'data' : 'example', what: sequence.what, line: sequence.line });
  }
  return items;
}

/** What the model's first layer needs of its input. */
interface Requirement {
  first: LayerIR | null;
  /** Input channels / features the first layer declares. */
  channels: number | null;
  /** Rank without batch the first layer needs (null: any). */
  rank: number | null;
  tokens: boolean;
  torch: boolean;
  /** How many model inputs a first torch.cat joins for `first` (1 when none). */
  shares: number;
  /** torch: tensor operations on the input ask for a (time, features) sequence (`x.transpose(1, 2)`, `q @ k.transpose(-2, -1)`). */
  sequence: boolean;
  /** torch: the input is permuted first (`x.permute(0, 3, 1, 2)` before a conv): the order, batch included; `first` reads the permuted tensor. */
  permuted: number[] | null;
}

/** Shape-only layers that keep an image an image: the layer after them says what the input is (a ReflectionPad2d before the first conv). */
const SPATIAL_RESHAPES: ReadonlySet<string> = new Set(['zero-padding', 'edge-padding', 'upsampling']);

/** Pooling keeps the channels and the rank: the layer after it says what the input is (a U-Net block's pooled shortcut). */
const CHANNEL_KEEPING: ReadonlySet<LayerKind> = new Set(['maxpool', 'avgpool']);

function requirement(model: ModelIR): Requirement {
  const reader = firstComputing(model.layers);
  const from = reader ? model.layers.indexOf(reader) : 0;
  // `x + self.embedding(self.grid)` first (a soft position embedding): the sum has x's shape, so the
  // layer after it says what x is; the layer reading the model's own constant says nothing about x.
  const constants = new Set(model.layers.filter(isConstantInput).map((l) => l.id));
  const constantFed = new Set(model.layers.filter((l) => l.inputs.some((id) => constants.has(id))).map((l) => l.id));
  const addedTo = reader?.kind === 'add' && reader.inputs.some((id) => constantFed.has(id)) ? 1 : 0;
  // A global pool that keeps its dimensions (torch's AdaptiveAvgPool2d(1) first in a squeeze-and-excitation
  // block) keeps the rank and the channels too: the layer after it says what the input is.
  // A torch normalization whose size the code leaves unknown (a layer norm written by hand) keeps it too
  // (Keras normalizations never say their size: the layer itself is what the input is read from).
  const torchModel = model.framework === 'torch';
  const keepsShape = (l: LayerIR) => CHANNEL_KEEPING.has(l.kind) || (l.kind === 'global-pool' && l.keepdims === true) || (l.kind === 'reshape' && SPATIAL_RESHAPES.has(l.reshape.op)) || (torchModel && isNormalizationKind(l.kind) && l.inFeatures === null);
  let first = model.layers.slice(from + addedTo).find((l) => l.kind !== 'input' && !constantFed.has(l.id) && !keepsShape(l)) ?? null;
  // torch.cat((img_A, img_B), 1) of the model's inputs first (a pix2pix discriminator): the layer after it
  // says what they are, each holding an equal share of its channels.
  let shares = 1;
  const inputIds = new Set(model.layers.filter((l) => l.kind === 'input' && l.inputs.length === 0).map((l) => l.id));
  const joined = first;
  if (joined?.kind === 'concat' && joined.inputs.length > 1 && joined.inputs.every((id) => inputIds.has(id))) {
    const after = model.layers.find((l) => l.inputs.includes(joined.id));
    if (after) {
      first = after;
      shares = joined.inputs.length;
    }
  }
  const torch = model.framework === 'torch';
  // `x.permute(0, 3, 1, 2)` of the input first: the layer after it says what it reads, the input is that permuted back.
  const permute = torch && first?.kind === 'tensor-op' && first.op?.op === 'permute' ? first.op.order : null;
  const permuter = first;
  if (permute && permuter) first = model.layers.find((l) => l.inputs.includes(permuter.id)) ?? first;
  const kind = first?.kind;
  let rank: number | null = null;
  if (kind === 'conv1d' || RECURRENT.has(kind as LayerKind)) rank = 2;
  else if (kind === 'conv2d') rank = 3;
  else if (kind === 'conv3d') rank = 4;
  else if (kind === 'conv-transpose' && first?.kernelSize) rank = first.kernelSize.length + 1;
  else if (kind === 'attention') rank = 2;
  else if (kind === 'dense' && torch) rank = 1;
  const axesRank = torch && !permute ? tensorOpsRank(model) : null;
  const sequence = axesRank === 2 && (rank === null || rank === 1);
  if (sequence) rank = 2;
  const channels = first?.inFeatures ?? null;
  // An equal share (rounded down when they do not divide evenly: the probe gives the rest to the other inputs).
  return { first, channels: channels === null ? null : Math.floor(channels / shares), shares, rank, tokens: kind === 'embedding', torch, sequence, permuted: permute };
}

/** The evidence as this model's input (framework layout), or null when it does not fit. */
function fit(e: Evidence, req: Requirement, model: ModelIR): number[] | null {
  if (req.tokens !== (e.kind === 'tokens')) return null;
  if (req.tokens) return e.shape;
  let shape = [...e.shape];
  const first = req.first;
  const recurrent = first !== null && RECURRENT.has(first.kind);
  if (recurrent) {
    // An image read row by row (a classic MNIST RNN): time = height, features = width.
    if (e.kind === 'image') shape = e.channelsFirst ? shape.slice(1) : shape.slice(0, 2);
    if (shape.length !== 2) return null;
    return req.channels === null || shape[1] === req.channels ? shape : null;
  }
  if (req.torch !== e.channelsFirst && e.kind === 'image' && shape.length === 3) {
    // Convert between layouts: data in one, model in the other.
    shape = req.torch ? [shape[2]!, shape[0]!, shape[1]!] : [shape[1]!, shape[2]!, shape[0]!];
  }
  if (req.rank !== null && req.rank >= 2 && shape.length === req.rank - 1 && e.kind === 'image') {
    // Raw grayscale (28, 28) into a convolution: one channel.
    shape = req.torch ? [1, ...shape] : [...shape, 1];
  }
  if (req.rank === 1) {
    const features = shape.reduce((a, b) => a * b, 1);
    return req.channels === null || features === req.channels ? [features] : null;
  }
  if (req.rank !== null && shape.length !== req.rank) return null;
  if (req.channels !== null && req.rank !== null && req.rank >= 2) {
    const channels = req.torch ? shape[0] : shape[shape.length - 1];
    if (channels !== req.channels) return null;
  }
  // A partly declared Keras shape must agree where it is known.
  const declared = model.inputShape;
  if (declared && (declared.length !== shape.length || declared.some((d, i) => d !== null && d !== shape[i]))) return null;
  // A flattening first layer and then a Linear of known in_features: the product must match.
  const flat = flatFeatures(model);
  if (flat !== null && shape.reduce((a, b) => a * b, 1) !== flat) return null;
  return shape;
}

/** A first torch view whose sizes after the batch are all constants (`z.view(z.size(0), 100, 1, 1)`): the values it holds per example. */
function viewedElements(model: ModelIR): { first: LayerIR; elements: number } | null {
  const first = firstComputing(model.layers);
  if (first?.kind !== 'reshape' || first.reshape.op !== 'view' || !first.reshape.dims) return null;
  const sizes = first.reshape.dims.slice(1);
  if (sizes.length === 0 || !sizes.every((d): d is number => typeof d === 'number' && d >= 1)) return null;
  return { first, elements: sizes.reduce((a, b) => a * b, 1) };
}

/**
 * A first Keras `Reshape((int(n / 13), 13))` whose one computed size (read as -1) the code does not fix:
 * the input holds that size times the others; a sequence length (or image side) by default for it.
 */
function reshapedElements(model: ModelIR): { first: LayerIR; elements: number; shape: number[]; filled: number } | null {
  const first = model.layers.find((l) => l.kind !== 'input');
  if (first?.kind !== 'reshape' || first.reshape.op !== 'reshape' || !first.reshape.target) return null;
  const target = first.reshape.target;
  if (target.filter((d) => d === -1).length !== 1 || !target.every((d) => d === -1 || d >= 1)) return null;
  const fill = target.length === 2 ? DEFAULT_SEQUENCE_LENGTH : DEFAULT_IMAGE_SIDE;
  const shape = target.map((d) => (d === -1 ? fill : d));
  return { first, elements: shape.reduce((a, b) => a * b, 1), shape, filled: fill };
}

/** in_features of a Linear right after a first Flatten (nn.Flatten(), nn.Linear(784, ...)). */
function flatFeatures(model: ModelIR): number | null {
  const layers = model.layers.filter((l) => l.kind !== 'input');
  if (layers[0]?.kind !== 'flatten' || layers[1]?.kind !== 'dense') return null;
  return layers[1].inFeatures;
}

/** The complete shape of a model that declares it. */
function declaredShape(model: ModelIR): number[] | null {
  const declared = model.inputShape;
  return declared && declared.length > 0 && declared.every((d): d is number => typeof d === 'number' && d > 0) ? declared : null;
}

/** Common image sides, tried first when a Linear after a Flatten constrains H x W. */
const COMMON_SIDES = [28, 32, 64, 224, 96, 128, 256, 227, 299, 84, 48, 16, 40, 100, 150, 160, 180, 192, 200, 240, 300, 320, 384, 448, 512];

/**
 * A conv net whose Flatten feeds a Linear of known in_features: the square side that makes them meet,
 * by running the shape rules on trial sides. Common sizes first, then a search up to 1024.
 */
function sideFromFlatten(model: ModelIR, channels: number, rank: number, layout: InputShapeGuess['layout']): number | null {
  const flattenAt = model.layers.findIndex((l, i) => l.kind === 'flatten' && model.layers[i + 1]?.kind === 'dense' && model.layers[i + 1]!.inFeatures !== null);
  const target = model.layers[flattenAt + 1]?.inFeatures ?? null;
  if (flattenAt < 0 || target === null) return null;
  const flattenId = model.layers[flattenAt]!.id;
  // The layers up to the Flatten (a graph lists a layer after what it reads), copied per trial: the
  // propagation fills in sizes. Each side is tried once.
  const upToFlatten = model.layers.slice(0, flattenAt + 1);
  const tried = new Map<number, number | null>();
  const flatSize = (side: number): number | null => {
    const known = tried.get(side);
    if (known !== undefined) return known;
    const copies = new CopiesMade();
    const layers = mapPacked(upToFlatten, (layer) => copyLayer(layer, copies));
    const spatial = new Array<number>(rank - 1).fill(side);
    const shape = layout === 'channels_first' ? [channels, ...spatial] : [...spatial, channels];
    const out = propagateShapes(layers, shape, { layout, framework: model.framework }).get(flattenId);
    const size = Array.isArray(out) && out.length === 1 && typeof out[0] === 'number' && out[0] > 0 ? out[0] : null;
    tried.set(side, size);
    return size;
  };
  // A global pool before the Flatten makes every side fit: then the Linear says nothing about H x W.
  if (flatSize(37) === flatSize(101)) return null;
  for (const side of COMMON_SIDES) if (flatSize(side) === target) return side;
  // The flattened size never shrinks as the side grows: search for the side that reaches the target.
  let low = 1;
  let high = 1024;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if ((flatSize(mid) ?? 0) < target) low = mid + 1;
    else high = mid;
  }
  return flatSize(low) === target ? low : null;
}

/** The input shape of `model` from its own code and the file's evidence (fileEvidence). */
export function guessInputShape(model: ModelIR, evidence: readonly Evidence[]): InputShapeGuess {
  const req = requirement(model);
  const guess = guessFor(model, req, evidence);
  const order = req.permuted;
  if (!order || guess.source === 'model' || guess.source === 'user' || order.length !== guess.shape.length + 1 || guess.tokens) return guess;
  // y = x.permute(order) has y[i] = x[order[i]]: x's axis order[i] holds y's i-th size. x is fed as torch holds it.
  const shape = [...guess.shape];
  order.slice(1).forEach((k, i) => (shape[k - 1] = guess.shape[i]!));
  return { ...guess, shape, layout: 'channels_last', evidence: `${guess.evidence}, permuted back through ${model.layers.find((l) => l.kind === 'tensor-op')?.className ?? 'permute'}(${order.join(', ')})` };
}

function guessFor(model: ModelIR, req: Requirement, evidence: readonly Evidence[]): InputShapeGuess {
  const sequenceFirst = req.sequence || (req.first !== null && (RECURRENT.has(req.first.kind) || req.first.kind === 'attention'));
  // Keras convs written channels-first (data_format=, Keras 1 dim_ordering 'th') read (C, H, W) too.
  const kerasChannelsFirst = !req.torch && req.rank !== null && req.rank >= 3 && req.first?.dataFormat === 'channels_first';
  const channelsFirst = (req.torch && req.rank !== null && req.rank >= 2 && !sequenceFirst) || kerasChannelsFirst;
  const layout = channelsFirst ? 'channels_first' : 'channels_last';
  // Sizes computed from the input's shape were read for this guess: the probe must feed it.
  if (model.sizedForInput) return model.sizedForInput;
  const declared = declaredShape(model);
  // A Linear's in_features first, its output transposed or multiplied as a matrix: those are per-step features.
  if (declared && req.sequence && declared.length === 1) {
    return { shape: [DEFAULT_SEQUENCE_LENGTH, declared[0]!], tokens: false, layout, source: 'default', evidence: `sequence length ${DEFAULT_SEQUENCE_LENGTH} by default, ${declared[0]!} features per step: its tensor operations read (time, features)` };
  }
  if (declared) return { shape: declared, tokens: req.tokens, layout, source: 'model', evidence: kerasChannelsFirst ? 'the model code, channels first (data_format / dim_ordering)' : 'the model code' };
  // Data code first, then example tensors; the last-written fitting one of a kind (closest to training).
  for (const source of ['data', 'example'] as const) {
    // Evidence the layers refuse (the file's CIFAR data next to a ResidualBlock of other widths) belongs to another model.
    const fitting = evidence.filter((e) => e.source === source).flatMap((e) => {
      const shape = fit(e, req, model);
      return shape === null || conflictFor(model, shape, layout) !== null ? [] : [{ e, shape }];
    });
    const best = fitting[fitting.length - 1];
    if (best) return { shape: best.shape, tokens: req.tokens, layout, source, evidence: `${best.e.what} (line ${best.e.line})` };
  }
  const guess = constrainedOrDefault(model, req, layout);
  return guess.source === 'default' ? acceptedDefault(model, req, guess) : guess;
}

/** Image sides tried, smallest first, for a conv net the code gives no size for; a transposed first conv (a generator) starts from a latent 1x1. */
const TRIAL_SIDES = [DEFAULT_IMAGE_SIDE, 64, 128, 224, 256, 299, 512, 572];
const LATENT_SIDES = [1, 2, 4, 7, 8, 16, DEFAULT_IMAGE_SIDE];
const TRIAL_LENGTHS = [DEFAULT_SEQUENCE_LENGTH, 64, 128, 256, 512];

/**
 * A default the layers accept. The default of the first layer's kind may not fit the model (a
 * discriminator whose fifth 4x4 conv needs 64x64, a ResidualBlock(in_features) whose skip needs the
 * convs' own width, a DCGAN generator fed a latent): the shared shape rules run on trial shapes, with
 * the representative sizes the probe builds unknown widths with, and the smallest that every layer
 * accepts wins. The default itself when none does (the probe then names the layer that refuses).
 */
function acceptedDefault(model: ModelIR, req: Requirement, guess: InputShapeGuess): InputShapeGuess {
  // A transposed conv first reads a latent or a small map (a generator, a decoder): its smallest accepted side, not an image.
  const latent = req.first?.kind === 'conv-transpose';
  const conflict = conflictFor(model, guess.shape, guess.layout);
  if (conflict === null && !latent) return guess;
  const why = conflict ? `${describeConflict(conflict)} ${guess.shape.join('x')}` : `a first ${req.first?.className ?? 'layer'} reads a latent or a small map`;
  for (const candidate of trialShapes(model, req, guess)) {
    if (conflictFor(model, candidate.shape, guess.layout) === null) return { ...guess, shape: candidate.shape, evidence: `${candidate.what}, the smallest input every layer accepts (${why})` };
  }
  return guess;
}

/** The first layer that refuses `shape` when built as the probe builds it: unknown widths at their representative sizes. */
function conflictFor(model: ModelIR, shape: number[], layout: InputShapeGuess['layout']): ShapeConflict | null {
  const layers = model.layers;
  // Copies, made as the walk reaches each layer (it fills in the sizes it derives; most trial shapes
  // are refused by one of the first layers, and a generator has hundreds).
  return firstShapeConflict(layers, shape, { layout, framework: model.framework }, (layer, i) => {
    const copy = cloneLayer(layer);
    const sized = representativeUnits(layer, i === layers.length - 1, layers[i + 1]);
    if (sized) copy.units = sized.units;
    return copy;
  });
}

function describeConflict(c: ShapeConflict): string {
  return `${c.layer.className} at line ${c.layer.range.start.line + 1} refuses`;
}

/** Other defaults to try, in order of preference: other image sides and channel counts, other sequence lengths. */
function trialShapes(model: ModelIR, req: Requirement, guess: InputShapeGuess): { shape: number[]; what: string }[] {
  const shape = guess.shape;
  const first = req.first;
  const channelsFirst = guess.layout === 'channels_first';
  const trials: { shape: number[]; what: string }[] = [];
  if (first && first.kind !== 'attention' && (SPATIAL_FIRST.has(first.kind) || first.kind === 'conv-transpose') && shape.length >= 2 && first.kind !== 'conv1d') {
    const dims = shape.length - 1;
    const declaredChannels = channelsFirst ? shape[0]! : shape[dims]!;
    const channels = req.channels !== null ? [req.channels] : [declaredChannels, 1, 3, REPRESENTATIVE_SIZES.hidden].filter((c, i, all) => all.indexOf(c) === i);
    const sides = first.kind === 'conv-transpose' ? LATENT_SIDES : TRIAL_SIDES;
    for (const side of sides) {
      for (const c of channels) {
        const spatial = new Array<number>(dims).fill(side);
        const what = `${c} channel${c === 1 ? '' : 's'}, side ${side}`;
        trials.push({ shape: channelsFirst ? [c, ...spatial] : [...spatial, c], what });
      }
    }
    return trials;
  }
  if (shape.length === 2) {
    const timeAxis = model.framework === 'torch' && first?.kind === 'conv1d' ? 1 : 0;
    for (const length of TRIAL_LENGTHS) {
      const trial = [...shape];
      trial[timeAxis] = length;
      trials.push({ shape: trial, what: `sequence length ${length}` });
    }
  }
  return trials;
}

function constrainedOrDefault(model: ModelIR, req: Requirement, layout: InputShapeGuess['layout']): InputShapeGuess {
  const first = req.first;
  const declared = model.inputShape;
  const torch = req.torch;
  const partial = (fill: number) => (declared ?? []).map((d) => d ?? fill);
  if (req.tokens) {
    const length = declared?.[0] ?? null;
    if (typeof length === 'number') return { shape: [length], tokens: true, layout, source: 'model', evidence: 'the model code' };
    // A learned table of fewer positions than the default length (a GPT's block_size) bounds the sequence.
    const table = model.layers.find((l): l is LayerOf<'position-embedding'> => l.kind === 'position-embedding' && l.positions !== null && l.positions < DEFAULT_SEQUENCE_LENGTH);
    if (table?.positions) return { shape: [table.positions], tokens: true, layout, source: 'constraint', evidence: `an Embedding reads integer tokens; sequence length ${table.positions}, the positions of ${table.className} (line ${table.range.start.line + 1})` };
    return { shape: [DEFAULT_SEQUENCE_LENGTH], tokens: true, layout, source: 'constraint', evidence: `an Embedding reads integer tokens; sequence length ${DEFAULT_SEQUENCE_LENGTH} by default` };
  }
  const rank = req.rank;
  if (rank !== null && rank >= 3 && first && !RECURRENT.has(first.kind)) {
    // Torch, and Keras convs written channels-first (Keras 0/1 on Theano), read (C, H, W).
    const channelsFirst = layout === 'channels_first';
    const channels = req.channels ?? (declared && declared.length === rank ? (channelsFirst ? declared[0] : declared[rank - 1]) : null) ?? 3;
    const side = sideFromFlatten(model, channels, rank, layout);
    const spatial = (s: number) => new Array<number>(rank - 1).fill(s);
    if (side !== null) {
      const line = (model.layers.find((l) => l.kind === 'flatten')?.range.start.line ?? 0) + 1;
      return { shape: channelsFirst ? [channels, ...spatial(side)] : [...spatial(side), channels], tokens: false, layout, source: 'constraint', evidence: `the Linear after the Flatten (line ${line}) fixes the image side at ${side}` };
    }
    const shape = declared && declared.length === req.rank ? partial(DEFAULT_IMAGE_SIDE) : channelsFirst ? [channels, ...spatial(DEFAULT_IMAGE_SIDE)] : [...spatial(DEFAULT_IMAGE_SIDE), channels];
    return { shape, tokens: false, layout, source: 'default', evidence: `image side ${DEFAULT_IMAGE_SIDE} by default for a first ${first.className}` };
  }
  if (req.rank === 2 && first) {
    const features = req.channels ?? (declared?.length === 2 ? (torch && first.kind === 'conv1d' ? declared[0] : declared[1]) : null);
    if (features !== null && features !== undefined) {
      const shape = torch && first.kind === 'conv1d' ? [features, DEFAULT_SEQUENCE_LENGTH] : [DEFAULT_SEQUENCE_LENGTH, features];
      return { shape, tokens: false, layout, source: 'default', evidence: `sequence length ${DEFAULT_SEQUENCE_LENGTH} by default for a first ${first.className}` };
    }
    // A sequence layer reads (time, features) even when the code says neither (`input_shape=(None, data.shape[-1])`).
    const steps = declared?.length === 2 ? (torch && first.kind === 'conv1d' ? declared[1] : declared[0]) : null;
    const length = steps ?? DEFAULT_SEQUENCE_LENGTH;
    const perStep = REPRESENTATIVE_SIZES.sequenceFeatures;
    const shape = torch && first.kind === 'conv1d' ? [perStep, length] : [length, perStep];
    const lengthWhy = steps !== null ? `${length} steps from the model code` : `sequence length ${length} by default`;
    return { shape, tokens: false, layout, source: 'default', evidence: `${lengthWhy}, ${perStep} features per step (a representative value): ${first.className} reads (time, features)` };
  }
  if (declared && declared.length > 0 && declared.some((d) => d !== null)) {
    return { shape: partial(DEFAULT_IMAGE_SIDE), tokens: false, layout, source: 'default', evidence: `unknown dimensions set to ${DEFAULT_IMAGE_SIDE} by default` };
  }
  // A first view of known sizes is a constraint, before any default (a ViT's patch view before its attention).
  const viewed = viewedElements(model);
  if (viewed) return { shape: [viewed.elements], tokens: false, layout, source: 'constraint', evidence: `${viewed.first.className}(...) (line ${viewed.first.range.start.line + 1}) views it as ${viewed.elements} values per example` };
  // Attention reads (time, features): a sequence of the first layer's features.
  const attention = model.layers.find((l) => l.kind === 'attention');
  const features = req.channels ?? attention?.inFeatures ?? null;
  if (attention && features !== null) {
    return { shape: [DEFAULT_SEQUENCE_LENGTH, features], tokens: false, layout, source: 'default', evidence: `sequence length ${DEFAULT_SEQUENCE_LENGTH} by default: ${attention.className} reads (time, features)` };
  }
  if (req.rank === 1 && req.channels !== null && first && req.shares > 1) {
    return { shape: [req.channels], tokens: false, layout, source: 'constraint', evidence: `a share of the ${first.inFeatures ?? req.channels} in_features of ${first.className} (line ${first.range.start.line + 1}), which reads the ${req.shares} inputs joined` };
  }
  // The first Linear reads it past a normalization of unknown size (a layer norm written by hand), which keeps it.
  if (req.rank === 1 && req.channels !== null && first) {
    return { shape: [req.channels], tokens: false, layout, source: 'constraint', evidence: `the in_features of ${first.className} (line ${first.range.start.line + 1}), which reads it through a normalization` };
  }
  const reshaped = reshapedElements(model);
  if (reshaped && (!declared || declared.length === 1)) {
    const line = reshaped.first.range.start.line + 1;
    const what = `${reshaped.first.className} (line ${line}) makes it (${reshaped.shape.join(', ')}): the size it computes from a value the code does not fix is ${reshaped.filled} by default`;
    return { shape: [reshaped.elements], tokens: false, layout, source: 'default', evidence: what };
  }
  const flat = flatFeatures(model);
  if (flat !== null) return { shape: [flat], tokens: false, layout, source: 'constraint', evidence: `the in_features of the Linear after the Flatten` };
  // Nothing says: a small image for spatial layers, else a feature vector.
  const spatialFirst = first !== null && SPATIAL_FIRST.has(first.kind);
  const shape = spatialFirst ? (torch ? [3, DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE] : [DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE, 3]) : [DEFAULT_IMAGE_SIDE * DEFAULT_IMAGE_SIDE];
  return { shape, tokens: false, layout: spatialFirst && torch ? 'channels_first' : 'channels_last', source: 'default', evidence: spatialFirst ? `a ${DEFAULT_IMAGE_SIDE}x${DEFAULT_IMAGE_SIDE} RGB image by default` : `${DEFAULT_IMAGE_SIDE * DEFAULT_IMAGE_SIDE} features by default` };
}
