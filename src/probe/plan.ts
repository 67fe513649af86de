/**
 * The probe's plan of a model: which input to feed, which layer reads which, every layer's output shape
 * and parameter count, decided before any tensor exists. Unsupported layers, impossible shapes and
 * models over budget are refused here with a message naming the layer and its line.
 * Shapes exclude the batch dimension and are channels-last (NHWC), whatever the framework.
 */
import { sameRange } from '../shared/ranges';
import { tensorOpsRank } from '../shared/tensor-ops-rank';
import type { InputShapeGuess, InputShapeSource, LayerIR, LayerKind, LayerOf, ModelIR, TensorOpConfig, ViewDim } from '../shared/ir';
import { DEFAULT_IMAGE_SIDE, REPRESENTATIVE_SIZES, representativeUnits } from '../shared/input-defaults';
import { convOf, firstComputing, gatesOf, isConstantInput, isConv, isNoiseInput, isPool, isRecurrent, layerWith, modelOutputs, readsSteps, type RecurrentKind } from '../shared/layers';
import { backboneOutput, broadcastShapes, concatAxis, describeTensorOp, layerOutput, readChannelsLast, tensorOpOutput, perDim, poolWindows, readerKind, recurrentFeatures, returnsSequences, shapeConflict, type Flow, type ShapeContext, type Window } from '../shared/shapes';
import type { ProbeNotice, ProbeOptions } from '../shared/probe';
import { describeLayer, layerFailure, layerLine, ProbeFailure } from './errors';
import { attentionParams, attentionSizes, positionEmbeddingParams } from './attention';
import { oneLine } from '../shared/source-snippet';
import { backboneNotModelled, frozenBackboneNote } from '../shared/backbone';

export type Shape = number[];

export interface PlannedLayer {
  ir: LayerIR;
  /** Indices into Plan.layers of the inputs; -1 is the model input. */
  inputs: number[];
  inShapes: Shape[];
  outShape: Shape;
  /** Parameters the rebuilt layer has. */
  params: number;
  /** Recurrent layers: emit only the last time step (Keras return_sequences=False, torch out[:, -1]). */
  lastStepOnly: boolean;
  /** Concatenate: the axis of the per-example shape that is joined. */
  axis: number | null;
  /**
   * A torch tensor operation (computed in torch's axis order) or softmax over a `dim=`: which inputs
   * arrive with their channels last (an image a convolution made, which torch holds channels first),
   * and whether its output leaves so (for a tensor operation: as its reader needs, see readChannelsLast).
   */
  channelsLast?: { inputs: boolean[]; output: boolean };
  /**
   * A torch softmax after a view that folded axes into the batch (`decoded.view(-1, ntoken)`), which the
   * probe keeps as leading axes of each example: how many, so that its dim= counts after them.
   */
  foldedAxes?: number;
}

/** 'noise': random numbers the model's own code draws (torch.randn_like in forward): always N(0, 1), never raw-scale data. */
export type InputKind = { kind: 'float' } | { kind: 'noise' } | { kind: 'constant' } | { kind: 'tokens'; vocabulary: number };

/** A model input after the first (a Keras functional model with several Input layers): index -(k + 2) in PlannedLayer.inputs. */
export interface ExtraInput {
  /** The Input layer's index in Plan.layers. */
  layer: number;
  shape: Shape;
  input: InputKind;
}

export interface Plan {
  inputShape: Shape;
  /** 'tokens' when the first layer is an Embedding: integer inputs in [0, vocabulary). */
  input: InputKind;
  /** The model's other inputs, each fed its own synthetic batch. */
  extraInputs: ExtraInput[];
  layers: PlannedLayer[];
  notices: ProbeNotice[];
}

/** PlannedLayer.inputs entry of the model input `k` (0 is the first, -1). */
export const modelInputIndex = (k: number): number => -(k + 1);

const knownFlow = (shape: Shape): Flow => ({ shape, rankKnown: true });

/** A layer the shared rules accept but whose output the shape module cannot give (a guard; not expected). */
function unreadableOutput(layer: LayerIR): ProbeFailure {
  return layerFailure('unsupported', layer, 'the probe cannot compute its output shape');
}

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}


export function vocabularyOf(layer: LayerIR): number | null {
  return layer.kind === 'embedding' ? layer.inFeatures : null;
}

/** The sliding window of a convolution, per spatial dimension, as the probe builds it. */
export interface ConvWindow {
  kernel: number[];
  strides: number[];
  /** 'same' | 'valid' | 'causal' (Keras Conv1D: all the padding before), or explicit symmetric pads per dimension. */
  padding: 'same' | 'valid' | 'causal' | number[];
  dilation: number;
}

/** A convolution's window from its typed fields; a failure naming the layer when a setting is not a constant. */
export function convWindow(layer: LayerIR, rank: number): ConvWindow {
  const conv = convOf(layer);
  const kernel = perDim(layer.kernelSize, rank);
  if (!conv || !kernel) throw layerFailure('unsupported', layer, 'the kernel size is not a constant the probe can read');
  const strides = perDim(conv.strides, rank);
  const dilation = perDim(conv.dilation, rank);
  const padding = conv.padding === null ? null : typeof conv.padding === 'string' ? conv.padding : perDim(conv.padding, rank);
  if (!strides || !dilation || padding === null) throw layerFailure('unsupported', layer, 'its stride, padding or dilation is not a constant the probe can read');
  if (dilation.some((d) => d !== dilation[0])) throw layerFailure('unsupported', layer, 'different dilations per dimension are not supported by the probe');
  return { kernel, strides, padding, dilation: dilation[0]! };
}

/** The window of a pooling layer along each spatial dimension of its input (adaptive pools resolved). */
export function poolWindow(layer: LayerIR, spatial: Shape): Window[] {
  const windows = isPool(layer) ? poolWindows(layer, spatial) : null;
  if (!windows) throw layerFailure('unsupported', layer, isPool(layer) && layer.pool.adaptiveOutput ? `adaptive pooling to ${layer.pool.adaptiveOutput.join('x')} from ${spatial.join('x')} needs uneven windows, which the probe does not build` : 'its window, stride or padding is not a constant the probe can read');
  if (windows.some((w) => w.padding === 'causal' || w.dilation !== 1)) throw layerFailure('unsupported', layer, 'dilated or causal pooling is not supported by the probe');
  return windows;
}

/**
 * How the probe runs a pooling layer: tfjs 'same' or 'valid' windows on an input padded by
 * [before, after] per dimension (torch's explicit padding, and ceil_mode's extra end window).
 */
export function poolPadding(layer: LayerIR, spatial: Shape, out: Shape): { windows: Window[]; pads: [number, number][]; mode: 'same' | 'valid' } {
  const windows = poolWindow(layer, spatial);
  if (windows.every((w) => w.padding === 'same')) return { windows, pads: windows.map(() => [0, 0]), mode: 'same' };
  if (windows.some((w) => w.padding === 'same')) throw layerFailure('unsupported', layer, 'mixed same and explicit pooling padding is not supported by the probe');
  const pads = windows.map((w, i): [number, number] => {
    const pad = typeof w.padding === 'number' ? w.padding : 0;
    // ceil_mode: the last window may run past the padded input; pad its end so tfjs sees it whole.
    const needed = (out[i]! - 1) * w.stride + w.kernel;
    return [pad, Math.max(pad, needed - spatial[i]! - pad)];
  });
  if (layer.kind === 'avgpool' && pads.some(([a, b]) => b > a)) throw layerFailure('unsupported', layer, 'average pooling with ceil_mode windows past the input is not supported by the probe');
  return { windows, pads, mode: 'valid' };
}

/** Channel groups of a group norm; InstanceNorm is one group per channel. A failure when not a constant. */
export function groupsOf(layer: LayerIR, channels: number): number {
  if (/InstanceNorm/.test(layer.className)) return channels;
  const groups = layer.kind === 'groupnorm' ? layer.norm.groups : null;
  if (groups === null) throw layerFailure('unsupported', layer, 'the number of groups is not a constant the probe can read');
  if (groups < 1 || channels % groups !== 0) throw layerFailure('shape', layer, `${groups} groups do not divide ${channels} channels`);
  return groups;
}

/**
 * Why the probe cannot build a layer, naming what was written and what to do about it. `reason`: what the
 * reader said of it (model.unsupported), quoted when it says more than the layer's own name.
 */
function unsupportedAdvice(layer: LayerIR, reason: string | undefined): string {
  const what = layer.className || layer.kind;
  if (layer.kind !== 'unknown') return `the probe cannot build ${what} (a '${layer.kind}' layer) yet`;
  const restated = reason === undefined || [`layer ${what}`, `call ${what}(...)`, `${what}(...)`].includes(reason);
  if (!restated) return `the probe does not know ${what}: the analyzer could not follow it (${reason}). Probe a model without it, or write it so that its sizes and layers are constants`;
  return `the probe does not know ${what}: it cannot see what it computes (a custom block, a layer from another library or an expression). Probe a model without it, or build it from layers the probe knows`;
}

/** One size of a torch view as the user wrote it, for messages: `x.size(0)`, `64`, `?` for a computed value. */
function describeViewDim(dim: ViewDim, receiver: string): string {
  if (dim === null) return '?';
  if (typeof dim === 'number') return String(dim);
  return dim.of.map((k) => `${receiver}.size(${k})`).join(' * ');
}

/** Why a torch view's output is not known on this input. */
function viewProblem(dims: ViewDim[], x: Shape): { text: string; unreadable: boolean } {
  const sizes = dims.slice(1);
  const unknown = sizes.filter((d) => d === null || d === -1).length;
  if (unknown > 1) return { text: `${unknown} of its sizes are values the code computes, which the probe cannot read`, unreadable: true };
  const constant = size(sizes.filter((d): d is number => typeof d === 'number' && d > 0));
  if (unknown === 0 && sizes.every((d) => typeof d === 'number')) return { text: `its sizes hold ${constant} values per example but its input has ${size(x)}`, unreadable: false };
  return { text: `its input's ${size(x)} values per example do not fit its sizes`, unreadable: false };
}

/** A per-example shape with its channels moved from last to first (torch's order), and back. */
const channelsFirst = (shape: Shape): Shape => (shape.length >= 2 ? [shape[shape.length - 1]!, ...shape.slice(0, -1)] : shape);
const channelsLastOf = (shape: Shape): Shape => (shape.length >= 2 ? [...shape.slice(1), shape[0]!] : shape);

/** Layers whose output the probe keeps channels-last, where torch has channels first. */
const CHANNELS_LAST_KINDS: ReadonlySet<LayerKind> = new Set(['conv1d', 'conv2d', 'conv3d', 'conv-transpose', 'maxpool', 'avgpool']);
/** Layers whose output keeps the axis order of their first input. */
const ORDER_KEEPING_KINDS: ReadonlySet<LayerKind> = new Set(['input', 'activation', 'dropout', 'alpha-dropout', 'rescaling', 'batchnorm', 'groupnorm', 'layernorm', 'local-response-norm', 'add', 'multiply', 'concat', 'unknown', 'position-embedding']);

/** Whether a torch layer's output (of `rank` axes per example) leaves with its channels last in the probe (see PlannedLayer.channelsLast). */
function leavesChannelsLast(layer: LayerIR, rank: number, firstInputLast: boolean, nextKind: LayerKind | null): boolean {
  if (rank < 2) return false;
  if (CHANNELS_LAST_KINDS.has(layer.kind)) return true;
  if (layer.kind === 'global-pool') return layer.keepdims === true;
  if (layer.kind === 'tensor-op') return readChannelsLast(nextKind, rank);
  if (layer.kind === 'reshape') return layer.reshape.op === 'view' ? rank >= 3 && readChannelsLast(nextKind, rank) && nextKind !== 'conv1d' : layer.reshape.op !== 'other' && layer.reshape.op !== 'reshape';
  return ORDER_KEEPING_KINDS.has(layer.kind) && firstInputLast;
}

export { isGlobalMax };
function isGlobalMax(layer: LayerIR): boolean {
  return layer.kind === 'global-pool' && layer.reduce === 'max';
}

class Planner {
  readonly notices: ProbeNotice[] = [];
  constructor(
    private readonly model: ModelIR,
    private readonly options: ProbeOptions,
  ) {}

  private get torch(): boolean {
    return this.model.framework === 'torch';
  }

  note(severity: ProbeNotice['severity'], message: string, layer: LayerIR | null = null): void {
    this.notices.push({ severity, message, line: layer ? layerLine(layer) : null });
  }

  /** The first layer that computes something (not an Input marker). */
  private firstLayer(): LayerIR | null {
    return firstComputing(this.model.layers) ?? null;
  }

  /**
   * The length of a further sequence input (a seq2seq's target beside its source): the first input's,
   * when that is a sequence too (token ids, or steps of features), so an entered length holds for both;
   * else the default.
   */
  private sequenceLengthBeside(main: Shape): { length: number; why: string } {
    const first = this.firstLayer();
    const steps = first !== null && readsSteps(first.kind) && main.length === (first.kind === 'embedding' ? 1 : 2) ? main[0] : undefined;
    return steps !== undefined ? { length: steps, why: `sequence length ${steps} as the first input's` } : { length: this.options.sequenceLength, why: `sequence length ${this.options.sequenceLength} by default` };
  }

  /**
   * The layer with a representative size where the code leaves one unknown (a constructor argument
   * no call site fixes), named in a note; the layer itself when every size is known.
   */
  withKnownSizes(layer: LayerIR, isOutput: boolean, next: LayerIR | undefined, input: Shape | undefined): LayerIR {
    const filled: { what: string; value: number | string; why: string }[] = [];
    let out = layer;
    if (isConv(out) && out.kernelSize === null && !isRecurrent(out)) {
      out = layerWith(out, { kernelSize: [REPRESENTATIVE_SIZES.kernel] });
      filled.push({ what: 'kernel size', value: REPRESENTATIVE_SIZES.kernel, why: 'a representative value' });
    }
    if (isPool(out) && out.kernelSize === null && out.pool.adaptiveOutput === null && input && input.length >= 2) {
      // A window computed from the input's shape (`pool_size=K.int_shape(x)[1:3]`) is, in practice, the whole map.
      const spatial = input.slice(0, -1);
      out = layerWith(out, { kernelSize: spatial });
      filled.push({ what: 'window', value: spatial.join('x'), why: 'the whole input map, as a global pool' });
    }
    const sized = representativeUnits(layer, isOutput, next);
    if (sized) {
      const what = layer.kind === 'embedding' ? 'embedding dimension' : layer.kind === 'dense' ? 'units' : layer.kind.startsWith('conv') ? 'filters' : 'hidden size';
      out = layerWith(out, { units: sized.units });
      filled.push({ what, value: sized.units, why: sized.fromNext && next ? `the input size of ${describeLayer(next)}` : 'a representative value' });
    }
    if (layer.kind === 'embedding' && vocabularyOf(layer) === null) {
      out = layerWith(out, { inFeatures: REPRESENTATIVE_SIZES.vocabulary }); // an Embedding's inFeatures is its vocabulary
      filled.push({ what: 'vocabulary', value: REPRESENTATIVE_SIZES.vocabulary, why: 'a representative value' });
    }
    if (out.kind === 'reshape' && out.reshape.op === 'repeat-vector' && out.reshape.n === null) {
      // RepeatVector(story_maxlen) with a length computed from the data: only the number of steps changes.
      out = layerWith(out, { reshape: { op: 'repeat-vector', n: this.options.sequenceLength } });
      filled.push({ what: 'number of repetitions', value: this.options.sequenceLength, why: 'the default sequence length' });
    }
    if (isRecurrent(out) && out.recurrent.numLayers === null) {
      out = layerWith(out, { recurrent: { ...out.recurrent, numLayers: REPRESENTATIVE_SIZES.stackedLayers } });
      filled.push({ what: 'number of stacked layers', value: REPRESENTATIVE_SIZES.stackedLayers, why: 'a representative value' });
    }
    if (filled.length > 0) {
      const values = filled.map((f) => `${f.what} ${f.value.toLocaleString('en-US')} (${f.why})`).join(', ');
      this.note('warning', `${describeLayer(layer)}: the code does not fix its ${filled.map((f) => f.what).join(' and ')}; probed with ${values}.`, layer);
    }
    return out;
  }

  /** The first input is fed channels-last where torch reads it channels first (an image, a Conv1d's (C, L)). */
  inputChannelsLast = false;

  /** The first input's shape is only a guess (the data code, a default): the operand it is first joined with may say better. */
  inputGuessed = false;
  /** Index in `notices` of the note that says where the guess came from. */
  guessNotice: number | null = null;

  resolveInputShape(): Shape {
    const first = this.firstLayer();
    const sizedFor = this.model.sizedForInput;
    if (this.options.inputShape) {
      this.note('information', `Input shape ${this.options.inputShape.join('x')} as given (channels last).`);
      // Sizes the code computes from the input's shape (K.int_shape) were read for the guessed input.
      if (sizedFor && sizedFor.shape.join('x') !== this.options.inputShape.join('x')) {
        this.note('warning', `Strides, windows or widths the code computes from the input's shape (K.int_shape) were read for ${sizedFor.shape.join('x')}; for ${this.options.inputShape.join('x')} the code may build them otherwise.`);
      }
      return this.options.inputShape;
    }
    if (sizedFor) this.note('information', `Strides, windows or widths the code computes from the input's shape (K.int_shape) are read for ${sizedFor.shape.join('x')}, the input probed.`);
    const guess = this.model.inputGuess;
    this.inputGuessed = guess !== undefined && guess !== null && guess.source !== 'model' && guess.source !== 'user';
    if (guess) return this.fromGuess(guess);
    const declared = this.model.inputShape;
    if (declared && declared.length > 0) {
      const filled = this.fillUnknown(declared, first);
      const image = first?.kind === 'conv2d' || (first?.kind === 'conv-transpose' && first.kernelSize?.length === 2);
      if (this.model.framework !== 'torch' || filled.length !== 3 || !image) return filled;
      const channelsLast = [filled[1]!, filled[2]!, filled[0]!];
      this.inputChannelsLast = true;
      this.note('information', `PyTorch input (C, H, W) = (${filled.join(', ')}) is probed channels-last as ${channelsLast.join('x')}.`);
      return channelsLast;
    }
    if (!first) throw new ProbeFailure('input', `model ${this.model.name} has no layers to probe`);
    const seq = this.options.sequenceLength;
    switch (first.kind) {
      case 'embedding':
        this.note('information', `Input: ${seq} integer tokens per example (the code does not say the sequence length).`, first);
        return [seq];
      case 'dense':
        if (first.inFeatures) {
          this.note('information', `Input shape [${first.inFeatures}] from the in_features of ${describeLayer(first)}.`);
          return [first.inFeatures];
        }
        break;
      case 'conv2d':
        if (first.inFeatures) {
          this.note('warning', `Input ${DEFAULT_IMAGE_SIDE}x${DEFAULT_IMAGE_SIDE}x${first.inFeatures}: channels from ${describeLayer(first)}, image side ${DEFAULT_IMAGE_SIDE} by default.`);
          return [DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE, first.inFeatures];
        }
        break;
      case 'conv1d':
      case 'lstm':
      case 'gru':
      case 'simple-rnn':
        if (first.inFeatures) {
          this.note('warning', `Input ${seq}x${first.inFeatures}: features from ${describeLayer(first)}, sequence length ${seq} by default.`);
          return [seq, first.inFeatures];
        }
        break;
      default:
        break;
    }
    throw new ProbeFailure('shape', `cannot tell the input shape of model ${this.model.name}: the code does not say it (no input_shape / Input(shape=) / in_features).`);
  }

  /** The analyzer's input shape, moved channels-last, with a note that says where it was read. */
  private fromGuess(guess: InputShapeGuess): Shape {
    const written = guess.shape.join('x');
    const moved = guess.layout === 'channels_first' && guess.shape.length >= 2;
    this.inputChannelsLast = moved && this.torch;
    const shape = moved ? [...guess.shape.slice(1), guess.shape[0]!] : [...guess.shape];
    const layout = moved ? ` (C first), probed channels-last as ${shape.join('x')}` : '';
    const what = guess.tokens ? `Input: ${written} integer tokens` : `Input shape ${written}${layout}`;
    const from: Record<InputShapeSource, string> = {
      model: 'from the model code',
      data: `from the data code: ${guess.evidence}`,
      example: `from an example input: ${guess.evidence}`,
      constraint: `from the layers: ${guess.evidence}`,
      default: `is a guess (${guess.evidence}); nothing in the code says it`,
      user: 'as entered',
    };
    this.guessNotice = this.notices.length;
    this.note(guess.source === 'default' ? 'warning' : 'information', `${what} ${from[guess.source]}.`);
    return shape;
  }

  private fillUnknown(declared: (number | null)[], first: LayerIR | null): Shape {
    if (declared.every((d): d is number => d !== null)) {
      this.note('information', `Input shape ${declared.join('x')} from the model code.`);
      return declared;
    }
    const recurrent = first !== null && readsSteps(first.kind);
    const fill = recurrent ? this.options.sequenceLength : DEFAULT_IMAGE_SIDE;
    const shape = declared.map((d) => d ?? fill);
    this.note('warning', `Input shape ${shape.join('x')}: unknown dimensions of (${declared.map((d) => d ?? 'None').join(', ')}) set to ${fill}.`);
    return shape;
  }

  /** Output shape of the shape-only layers the analyzer files under 'reshape', with the probe's reasons when it cannot build one. */
  private reshaped(layer: LayerIR, x: Shape, nextKind: LayerKind | null): Shape {
    if (layer.kind !== 'reshape') throw layerFailure('unsupported', layer, `the probe cannot build ${layer.className}`);
    const config = layer.reshape;
    const out = this.shapeOf(layer, [x], nextKind);
    switch (config.op) {
      case 'reshape':
        if (!config.target) throw layerFailure('unsupported', layer, 'the target shape is not a constant the probe can read');
        if (!out) throw layerFailure('shape', layer, `cannot reshape ${x.join('x')} to (${config.target.join(', ')})`);
        return out;
      case 'cropping':
        if (!out) throw layerFailure('shape', layer, `cropping leaves nothing of ${x.join('x')}`);
        return out;
      case 'upsampling':
        if (x.length - 1 > 2) throw layerFailure('unsupported', layer, '3-D upsampling is not supported by the probe');
        break;
      case 'edge-padding':
        if (config.mode === 'reflect' && config.pads?.some(([a, b], i) => Math.max(a, b) >= x[i]!)) throw layerFailure('shape', layer, `reflection padding ${config.pads.map((p) => p.join('/')).join(', ')} is not smaller than the input ${x.join('x')}`);
        break;
      case 'pixel-shuffle':
        if (x.length !== 3) throw layerFailure('shape', layer, `PixelShuffle needs an image (height, width, channels) but receives ${x.join('x')}`);
        break;
      case 'permute':
        if (!out) throw layerFailure('unsupported', layer, 'the permutation is not a constant the probe can read');
        return out;
      case 'repeat-vector':
        if (!out) throw layerFailure('unsupported', layer, 'RepeatVector needs a constant n and a flat input');
        return out;
      case 'view':
        if (!config.dims) throw layerFailure('unsupported', layer, `the sizes passed to ${layer.className}(...) come from a splat the probe cannot read`);
        if (!out) {
          const receiver = layer.className.replace(/\.(view|reshape)$/, '');
          const problem = viewProblem(config.dims, x);
          throw layerFailure(problem.unreadable ? 'unsupported' : 'shape', layer, `${layer.className}(${config.dims.map((d) => describeViewDim(d, receiver)).join(', ')}) on an input of ${x.join('x')} per example: ${problem.text}`);
        }
        return out;
      case 'other':
        throw layerFailure('unsupported', layer, `the probe does not model what ${layer.className} does to the shape of its input; probe a model without it`);
      default:
        break;
    }
    if (!out) throw layerFailure('unsupported', layer, `the probe cannot read the sizes of ${layer.className}`);
    return out;
  }

  /**
   * Set while planning a torch concatenation of tensors in torch's axis order (no image layer made them,
   * see PlannedLayer.channelsLast): its `dim` counts axes as torch holds them, not moved channels-last.
   */
  concatInTorchOrder = false;

  /** The shared shape module's context for the probe's concrete, channels-last shapes. */
  private context(nextKind: LayerKind | null): ShapeContext {
    return { layout: this.concatInTorchOrder ? 'channels_first' : 'channels_last', framework: this.model.framework, honourDataFormat: false, nextKind };
  }

  /** The shared shape module on concrete, channels-last shapes: a complete shape, or null. */
  shapeOf(layer: LayerIR, inShapes: Shape[], nextKind: LayerKind | null): Shape | null {
    const flow = layerOutput(layer, inShapes.map(knownFlow), this.context(nextKind));
    return flow.shape && flow.shape.every((d): d is number => d !== null) ? flow.shape : null;
  }

  /**
   * Refuses a layer that cannot read its inputs by the shared shape rules (src/shared/shapes.ts), the
   * rules and words the analyzer's findings use: a window larger than its input, a channel or feature
   * count other than the declared one, merged shapes that differ, a sequence layer given no sequence.
   */
  private refuseShapeConflict(layer: LayerIR, inShapes: Shape[], nextKind: LayerKind | null): void {
    const ctx = this.context(nextKind);
    const inputs = inShapes.map(knownFlow);
    const reason = shapeConflict(layer, inputs, ctx, layerOutput(layer, inputs, ctx));
    if (reason !== null) throw layerFailure('shape', layer, reason);
  }

  /** Input edges: graph inputs by id; chains read the previous layer; the k-th Input layer reads model input k. */
  inputsOf(index: number, indexById: Map<string, number>, inputLayers: number[]): number[] {
    const layer = this.model.layers[index]!;
    const k = inputLayers.indexOf(index);
    if (layer.kind === 'input' && k > 0 && layer.inputs.length === 0) return [modelInputIndex(k)];
    if (!this.model.isGraph || layer.inputs.length === 0) return [index === 0 ? -1 : index - 1];
    return layer.inputs.map((id) => {
      const source = indexById.get(id);
      if (source === undefined) throw layerFailure('input', layer, `reads layer id ${id}, which the model does not have`);
      return source;
    });
  }

  /**
   * The shape of an Input layer after the first, from its declared shape; unknown dimensions take the
   * sequence length (a sequence or token input) or the default image side, named in a note.
   */
  extraInputShape(layer: LayerIR, consumer: LayerIR | undefined, position: string, planned: (id: string) => Shape | undefined, main: Shape): Shape {
    const declared = layer.kind === 'input' ? layer.shape : null;
    if (!declared && (this.torch || isNoiseInput(layer))) {
      const read = (isConstantInput(layer) ? this.constantShape(consumer, planned) : null) ?? this.readShape(consumer, planned, main, layer);
      const what = isNoiseInput(layer) ? `Noise ${layer.name} (input ${position})` : `Input ${position} ${describeLayer(layer)}`;
      if (!read) throw layerFailure('shape', layer, `cannot tell the shape of input ${position}: ${consumer ? `${describeLayer(consumer)}, which reads it, does not say it` : 'nothing reads it'}`);
      const tokens = consumer?.kind === 'embedding';
      const written = read.shape.length > 0 ? `${read.shape.join('x')}${tokens ? ' integer tokens' : ''}` : tokens ? 'one integer id' : 'one value';
      this.note(read.guessed ? 'warning' : 'information', `${what}: ${written} per example, ${read.why}.`, layer);
      return read.shape;
    }
    if (!declared || declared.length === 0) throw layerFailure('shape', layer, `the shape of input ${position} is not written (Input(shape=...))`);
    const sequence = consumer !== undefined && (readsSteps(consumer.kind) || consumer.kind === 'attention');
    const tokens = consumer?.kind === 'embedding';
    const steps = this.sequenceLengthBeside(main);
    const shape = declared.map((d, i) => d ?? (sequence && i === 0 ? steps.length : sequence ? REPRESENTATIVE_SIZES.sequenceFeatures : DEFAULT_IMAGE_SIDE));
    const what = `Input ${position} ${describeLayer(layer)}: ${shape.join('x')}${tokens ? ' integer tokens' : ''}`;
    if (declared.every((d) => d !== null)) this.note('information', `${what} from the model code.`, layer);
    else this.note('warning', `${what}: unknown dimensions of (${declared.map((d) => d ?? 'None').join(', ')}) set by default${sequence ? ` (${steps.why}, ${REPRESENTATIVE_SIZES.sequenceFeatures} features per step)` : ''}.`, layer);
    return shape;
  }

  /**
   * A constant the model maps into features and adds to them (`x + self.embedding(self.grid)`, a soft
   * position embedding): as many positions as the features it is added to, with the reading layer's
   * in_features. Null when the layer's output is not joined with a planned tensor.
   */
  constantShape(reader: LayerIR | undefined, planned: (id: string) => Shape | undefined): { shape: Shape; why: string; guessed: boolean } | null {
    if (!reader || reader.inFeatures === null) return null;
    const join = this.model.layers.find((l) => l.inputs.includes(reader.id));
    if (join?.kind !== 'add' && join?.kind !== 'multiply') return null;
    const partner = join.inputs.filter((id) => id !== reader.id).map(planned).find((shape) => shape !== undefined);
    if (!partner || partner.length < 2) return null;
    return { shape: [...partner.slice(0, -1), reader.inFeatures], why: `the positions of what ${describeLayer(join)} adds it to, with the in_features of ${describeLayer(reader)}; one draw shared by the batch`, guessed: false };
  }

  /**
   * The per-example shape of a torch input the code does not write (an argument of forward, noise drawn
   * in it), from the layer that reads it first: the other operand of the add, product or concatenation
   * it joins; one label id or a sequence of token ids for an Embedding; the features of a Linear, a
   * recurrent layer or a convolution (the image side of the first input). Null when the reader says nothing.
   */
  readShape(reader: LayerIR | undefined, planned: (id: string) => Shape | undefined, main: Shape, input?: LayerIR): { shape: Shape; why: string; guessed: boolean } | null {
    if (!reader) return null;
    const by = describeLayer(reader);
    // `features.unsqueeze(1)` joined with a sequence: what its reader asks of its output, undone.
    if (reader.kind === 'tensor-op' && reader.op?.op === 'unsqueeze') {
      const outer = this.readShape(this.model.layers.find((l) => l.inputs.includes(reader.id)), planned, main, input);
      const shape = outer ? undoTensorOp(reader.op, outer.shape) : null;
      return outer && shape ? { shape, why: `${outer.why}, through ${by}`, guessed: outer.guessed } : null;
    }
    const operands = reader.inputs.map(planned);
    const partner = operands.find((shape) => shape !== undefined);
    if ((reader.kind === 'add' || reader.kind === 'multiply') && partner) return { shape: partner, why: `as the other operand of ${by}`, guessed: false };
    if (reader.kind === 'concat' && partner) {
      // torch.cat((noise, labels, code), -1) before a Linear(74): the operands not known yet share what the Linear reads beyond the known ones.
      const axis = concatAxis(reader, partner.length, { layout: 'channels_last', framework: this.model.framework, honourDataFormat: false, nextKind: null });
      const after = this.model.layers.find((l) => l.inputs.includes(reader.id));
      const open = operands.filter((shape) => shape === undefined).length;
      const features = after?.inFeatures ?? null;
      const rest = after && features !== null && axis === partner.length - 1 ? features - operands.reduce((sum, shape) => sum + (shape?.[axis] ?? 0), 0) : null;
      if (after && rest !== null && rest >= open && axis !== null) {
        const share = open === 1 ? rest : Math.floor(rest / open);
        return { shape: partner.map((d, i) => (i === axis ? share : d)), why: `a share of the ${features ?? ''} features ${describeLayer(after)} reads after ${by} (the split is a guess; every input is N(0, 1) alike)`, guessed: true };
      }
      return { shape: partner, why: `as the other operand of ${by} (its size on the joined axis is a guess)`, guessed: true };
    }
    // attn(x, memory, memory): the memory an encoder made, as long and as wide as the query (a guess).
    if (reader.kind === 'attention' && partner) return { shape: partner, why: `the query's shape in ${by} (the memory's length is a guess)`, guessed: true };
    const { length: seq, why: seqWhy } = this.sequenceLengthBeside(main);
    switch (reader.kind) {
      case 'embedding': {
        // nn.Embedding(n_classes, d)(labels) mixed into a vector (a conditional GAN's label): one id per example.
        const readers = this.model.layers.filter((l) => l.inputs.includes(reader.id));
        const label = readers.length > 0 && readers.every((l) => l.kind === 'add' || l.kind === 'multiply' || l.kind === 'dense');
        return label ? { shape: [], why: `a label ${by} turns into a vector`, guessed: false } : { shape: [seq], why: `token ids ${by} reads (${seqWhy})`, guessed: true };
      }
      case 'dense':
        // in_features a constructor argument no call fixes (`nn.Linear(b_dim, hidden)`): as many features as the first input gets by default.
        if (reader.inFeatures === null) return { shape: [DEFAULT_IMAGE_SIDE * DEFAULT_IMAGE_SIDE], why: `the code does not fix the in_features of ${by}: a default`, guessed: true };
        // forward(q, k, v) of attention written by hand: the heads split after the Linear need positions, as many as the first input's.
        if (input && main.length === 2 && tensorOpsRank(this.model, input.id) === 2) return { shape: [main[0]!, reader.inFeatures], why: `${reader.inFeatures} features of ${by} at each of as many positions as the first input's (its tensor operations read (time, features))`, guessed: true };
        return { shape: [reader.inFeatures], why: `the in_features of ${by}`, guessed: false };
      case 'conv1d':
      case 'lstm':
      case 'gru':
      case 'simple-rnn':
        return reader.inFeatures !== null ? { shape: [seq, reader.inFeatures], why: `the features of ${by}, ${seqWhy}`, guessed: true } : null;
      case 'conv2d': {
        if (reader.inFeatures === null) return null;
        const side = main.length === 3 ? main.slice(0, 2) : [DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE];
        return { shape: [...side, reader.inFeatures], why: `the channels of ${by}, the image side of the first input`, guessed: true };
      }
      default:
        return null;
    }
  }

  /** Output shape and parameters of a 1-D or 2-D convolution (standard, grouped, depthwise, separable, transposed), or a standard 3-D one. */
  private convolution(layer: LayerIR, inShapes: Shape[], nextKind: LayerKind | null): { shape: Shape; params: number; lastStepOnly: boolean } {
    const x = inShapes[0]!;
    const last = x[x.length - 1]!;
    if (!isConv(layer)) throw layerFailure('unsupported', layer, 'not a convolution');
    const config = layer.conv;
    const rank = layer.kind === 'conv1d' ? 1 : layer.kind === 'conv2d' ? 2 : layer.kind === 'conv3d' ? 3 : (layer.kernelSize?.length ?? x.length - 1);
    // The input's rank and channels are the shared rules' (refuseShapeConflict); a 3-D transposed one is the probe's limit.
    if (rank > 2 && layer.kind !== 'conv3d') throw layerFailure('unsupported', layer, '3-D transposed convolutions are not supported by the probe');
    if (layer.units === null && config.variant !== 'depthwise') throw layerFailure('unsupported', layer, 'the number of filters is not a constant the probe can read');
    const depthwise = config.variant === 'depthwise' || config.variant === 'separable';
    const units = layer.units ?? last * config.depthMultiplier;
    const groups = depthwise ? last : config.groups;
    if (groups === null) throw layerFailure('unsupported', layer, 'its groups= is not a constant the probe can read');
    if (last % groups !== 0 || (!depthwise && units % groups !== 0)) throw layerFailure('shape', layer, `${groups} groups do not divide ${last} input and ${units} output channels`);
    if (config.variant === 'transpose' && groups !== 1) throw layerFailure('unsupported', layer, 'grouped transposed convolutions are not supported by the probe');
    if (rank === 3 && (config.variant !== 'standard' || groups !== 1)) throw layerFailure('unsupported', layer, 'grouped, depthwise or separable 3-D convolutions are not supported by the probe');
    if (config.variant === 'separable' && !config.pointwise) throw layerFailure('unsupported', layer, 'the pointwise kernel of this separable convolution is unknown');
    const { kernel, dilation, padding } = convWindow(layer, rank);
    if (rank === 3 && (dilation !== 1 || padding === 'causal')) throw layerFailure('unsupported', layer, 'dilated or causal 3-D convolutions are not supported by the probe');
    const out = this.shapeOf(layer, inShapes, nextKind);
    if (!out) throw unreadableOutput(layer);
    const taps = size(kernel);
    const bias = layer.useBias ? 1 : 0;
    const outChannels = out[out.length - 1]!;
    if (config.variant === 'depthwise') return { shape: out, params: taps * last * config.depthMultiplier + bias * outChannels, lastStepOnly: false };
    if (config.variant === 'separable') return { shape: out, params: taps * last * config.depthMultiplier + last * config.depthMultiplier * units + bias * units, lastStepOnly: false };
    return { shape: out, params: taps * (last / groups) * units + bias * units, lastStepOnly: false };
  }

  /**
   * Output shape of a torch tensor operation: its inputs taken to torch's axis order (channels first
   * where the probe keeps them last), the operation computed as torch defines it, the output moved
   * channels-last when its reader needs it so.
   */
  tensorOp(layer: LayerIR, inShapes: Shape[], inputsLast: boolean[], outputLast: boolean): Shape {
    if (layer.kind !== 'tensor-op') throw layerFailure('unsupported', layer, 'not a tensor operation');
    if (!layer.op) throw layerFailure('unsupported', layer, 'its axes or operands are not constants the probe can read');
    const torchShapes = inShapes.map((shape, i) => (inputsLast[i] ? channelsFirst(shape) : shape));
    const out = tensorOpOutput(layer.op, torchShapes);
    if (!out || out.some((d) => d === null)) throw layerFailure('shape', layer, `${describeTensorOp(layer.op)} does not fit ${torchShapes.map((s) => s.join('x')).join(' and ')} per example (in torch's order)`);
    return outputLast ? channelsLastOf(out as Shape) : (out as Shape);
  }

  outShape(layer: LayerIR, inShapes: Shape[], nextKind: LayerKind | null, readAsStateOnly = false): { shape: Shape; params: number; lastStepOnly: boolean; axis?: number } {
    this.refuseShapeConflict(layer, inShapes, nextKind);
    // inputsOf gives every layer at least one input, and every planned shape has at least one axis.
    const x = inShapes[0]!;
    const last = x[x.length - 1]!;
    const bias = layer.useBias ? 1 : 0;
    const plain = (shape: Shape, params = 0) => ({ shape, params, lastStepOnly: false });
    switch (layer.kind) {
      case 'input':
        return plain(x);
      case 'dense': {
        if (layer.units === null) throw layerFailure('unsupported', layer, 'the number of units is not a constant the probe can read');
        return plain([...x.slice(0, -1), layer.units], last * layer.units + bias * layer.units);
      }
      case 'conv1d':
      case 'conv2d':
      case 'conv3d':
      case 'conv-transpose':
        return this.convolution(layer, inShapes, nextKind);
      case 'maxpool':
      case 'avgpool': {
        const rank = x.length - 1;
        if (rank < 1 || rank > 3) throw layerFailure('shape', layer, `pooling needs a 2-d, 3-d or 4-d input per example but receives ${x.join('x')}`);
        poolWindow(layer, x.slice(0, rank));
        const out = this.shapeOf(layer, inShapes, nextKind);
        if (!out) throw unreadableOutput(layer);
        poolPadding(layer, x.slice(0, rank), out.slice(0, rank));
        return plain(out);
      }
      case 'global-pool':
        // keepdims (torch adaptive pooling, Keras keepdims=True): every spatial side becomes 1.
        return plain(layer.keepdims === true ? [...x.slice(0, -1).map(() => 1), last] : [last]);
      case 'flatten':
        return plain([size(x)]);
      case 'reshape':
        return plain(this.reshaped(layer, x, nextKind));
      case 'batchnorm':
        // As each framework counts: Keras' summary includes the moving mean and variance, torch's parameters() does not.
        return plain(x, (this.torch ? 2 : 4) * last);
      case 'layernorm':
        return plain(x, 2 * last);
      case 'groupnorm':
        groupsOf(layer, last);
        if (layer.inFeatures !== null && layer.inFeatures !== last) throw layerFailure('shape', layer, `expects ${layer.inFeatures} channels but receives ${last}`);
        return plain(x, layer.norm.affine === false ? 0 : 2 * last);
      case 'dropout':
      case 'alpha-dropout':
      case 'rescaling':
        return plain(x);
      case 'local-response-norm': {
        const { size: window, alpha, beta, k } = layer.lrn;
        if (window === null || alpha === null || beta === null || k === null) throw layerFailure('unsupported', layer, 'its size, alpha, beta or k is not a constant the probe can read');
        // TensorFlow.js sums a window of 2r + 1 channels around each one; PyTorch's even sizes take one more channel before it than after.
        if (window % 2 === 0) throw layerFailure('unsupported', layer, `an even size (${window}) makes PyTorch's channel window lopsided, which TensorFlow.js's local response normalization cannot reproduce; probe with an odd size`);
        return plain(x);
      }
      case 'activation':
        if (layer.activation?.name === 'prelu') {
          return plain(x, this.torch ? (layer.activation.params.num_parameters ?? 1) : size(x));
        }
        return plain(x);
      case 'embedding': {
        const vocabulary = vocabularyOf(layer);
        if (layer.units === null || vocabulary === null) throw layerFailure('unsupported', layer, 'vocabulary size or embedding dimension is not a constant the probe can read');
        return plain([...x, layer.units], vocabulary * layer.units);
      }
      case 'lstm':
      case 'gru':
      case 'simple-rnn': {
        if (layer.units === null) throw layerFailure('unsupported', layer, 'the hidden size is not a constant the probe can read');
        if (layer.recurrent.bidirectional && layer.recurrent.mergeMode === 'none') throw layerFailure('unsupported', layer, 'Bidirectional(merge_mode=None) returns two tensors, which the probe does not follow; probe with a merge mode');
        if (layer.recurrent.conv) throw layerFailure('unsupported', layer, 'convolutional recurrent layers are not supported by the probe');
        const gates = gatesOf(layer.kind);
        const layersCount = layer.recurrent.numLayers;
        if (layersCount === null) throw layerFailure('unsupported', layer, 'the number of stacked layers is not a constant the probe can read');
        const torch = this.torch;
        let params = 0;
        let inF = last;
        const directions = layer.recurrent.bidirectional ? 2 : 1;
        for (let i = 0; i < layersCount; i++) {
          const biases = layer.useBias ? (torch || layer.kind === 'gru' ? 2 : 1) : 0;
          params += directions * gates * layer.units * (inF + layer.units + biases);
          inF = layer.units * directions;
        }
        const lastStepOnly = !returnsSequences(layer, nextKind);
        if (layer.recurrent.returnSequences === null && lastStepOnly && !readAsStateOnly) this.note('information', `${describeLayer(layer)}: the next layer receives the last time step, as out[:, -1] does.`, layer);
        const features = recurrentFeatures(layer);
        if (features === null) throw layerFailure('unsupported', layer, 'the hidden size is not a constant the probe can read');
        return { shape: lastStepOnly ? [features] : [x[0]!, features], params, lastStepOnly };
      }
      case 'attention': {
        const sizes = attentionSizes(layer, inShapes);
        return plain([x[0]!, sizes.units], attentionParams(sizes, layer.useBias));
      }
      case 'position-embedding':
        return plain(x, positionEmbeddingParams(layer, x));
      case 'add':
        return plain(x);
      case 'multiply':
        // Broadcast as the frameworks do (a gate of 1x1xC times an HxWxC map); shapes that do not are a conflict refused before.
        return plain(broadcastShapes(inShapes)?.map((d, i) => d ?? x[i]!) ?? x);
      case 'concat': {
        const rank = x.length;
        // torch's dim=1 on NCHW is the channel axis, which is last in the probe's NHWC layout.
        const axis = concatAxis(layer, rank, this.context(nextKind));
        const out = [...x];
        // An axis that is not there, or inputs that do not fit, are shared conflicts (refuseShapeConflict).
        if (axis === null) throw unreadableOutput(layer);
        out[axis] = inShapes.reduce((sum, s) => sum + s[axis]!, 0);
        return { ...plain(out), axis };
      }
      case 'backbone': {
        const refusal = backboneNotModelled(layer);
        if (refusal) throw new ProbeFailure('unsupported', refusal, { name: layer.name, line: layerLine(layer) });
        const features = backboneOutput(layer.backbone, x);
        if (!features || features.some((d) => d === null)) throw layerFailure('shape', layer, `the image ${x.join('x')} is too small for it`);
        return plain(features as number[]);
      }
      default:
        // Augmentation and masking the reader knows to keep their input's shape (Keras RandomFlip, Masking).
        if (layer.kind === 'unknown' && layer.identity) return plain(x);
        throw layerFailure('unsupported', layer, unsupportedAdvice(layer, this.model.unsupported.find((u) => sameRange(u.range, layer.range))?.what));
    }
  }
}

/**
 * A recurrent layer started from other tensors (Keras `initial_state=`, torch `rnn(x, hidden)`): either
 * another recurrent layer of as many levels, whose final states (h, and c for an LSTM) it starts from
 * level by level, or one tensor per state of this single-level layer (inference decoders fed state
 * placeholders, a Linear computing h_0), each of `units` values per example. Anything else is refused,
 * rather than built on the first input alone with the state's source measured as dead.
 */
/**
 * Whether every layer that reads `layer` takes it as the initial state of a recurrent layer (a seq2seq
 * encoder whose outputs nobody reads): then which steps it returns does not matter, and no note says so.
 */
function readAsStateOnly(layers: readonly LayerIR[], layer: LayerIR): boolean {
  const readers = layers.filter((l) => l.inputs.includes(layer.id));
  return readers.length > 0 && readers.every((l) => isRecurrent(l) && l.inputs.indexOf(layer.id) > 0);
}

function checkInitialState(layer: LayerOf<RecurrentKind>, sources: (LayerIR | null)[], shapes: Shape[]): void {
  const units = recurrentFeatures(layer);
  if (units === null) throw layerFailure('unsupported', layer, 'the hidden size is not a constant the probe can read');
  if (layer.recurrent.bidirectional) throw layerFailure('unsupported', layer, 'a bidirectional recurrent layer started from initial states is not modelled by the probe');
  const levels = layer.recurrent.numLayers ?? 1;
  const fromLayer = sources.length === 1 && sources[0] !== null && sources[0] !== undefined && isRecurrent(sources[0]) ? sources[0] : null;
  if (fromLayer) {
    if (fromLayer.kind !== layer.kind || fromLayer.recurrent.bidirectional || recurrentFeatures(fromLayer) !== units || (fromLayer.recurrent.numLayers ?? 1) !== levels) {
      throw layerFailure('shape', layer, `starts from the state of ${describeLayer(fromLayer)}, whose states do not fit its ${levels > 1 ? `${levels} levels of ` : ''}${units} units`);
    }
    return;
  }
  if (levels !== 1) throw layerFailure('unsupported', layer, 'a stacked recurrent layer started from states another layer than a recurrent one computed is not modelled by the probe');
  const states = layer.kind === 'lstm' ? 2 : 1;
  const described = shapes.map((s) => s.join('x')).join(', ');
  if (shapes.length !== states || shapes.some((s) => s.length !== 1 || s[0] !== units)) {
    throw layerFailure('shape', layer, `initial_state= needs ${states} state${states > 1 ? 's' : ''} of ${units} values per example but receives ${described}`);
  }
}

/** The per-example input (torch's order) a one-input tensor operation makes `out` from; null when it cannot (a squeeze). */
function undoTensorOp(op: TensorOpConfig, out: Shape): Shape | null {
  const full = [0, ...out];
  switch (op.op) {
    case 'transpose':
      return tensorOpOutput(op, [out]) as Shape | null;
    case 'permute': {
      const order = op.order.map((k) => (k < 0 ? k + full.length : k));
      const x = [...full];
      order.forEach((k, i) => (x[k] = full[i]!));
      return order.length === full.length ? x.slice(1) : null;
    }
    case 'unsqueeze': {
      const k = op.axis < 0 ? op.axis + full.length : op.axis;
      // The new axis has one entry; whatever the reader asked there, the input has none.
      return k >= 1 && k < full.length ? [...full.slice(1, k), ...full.slice(k + 1)] : null;
    }
    default:
      return null;
  }
}

/** Leading axes of a layer's output that torch folded into the batch: a view's (its sizes after the batch are the rest), kept by layers that work per step. */
function foldedAxes(layer: LayerIR, out: Shape, foldedIn: number): number {
  if (layer.kind === 'reshape' && layer.reshape.op === 'view' && layer.reshape.dims) return Math.max(0, out.length - (layer.reshape.dims.length - 1));
  return ORDER_KEEPING_KINDS.has(layer.kind) || layer.kind === 'dense' ? foldedIn : 0;
}

/** The rank per example of a tensor operation's output, from its inputs' (the order of axes does not change it). */
function tensorOpRank(layer: LayerIR, inShapes: Shape[], inputsLast: boolean[]): number {
  const out = layer.kind === 'tensor-op' && layer.op ? tensorOpOutput(layer.op, inShapes.map((s, i) => (inputsLast[i] ? channelsFirst(s) : s))) : null;
  return out?.length ?? inShapes[0]?.length ?? 0;
}

/**
 * Plans the model. `inputOverride` replaces the resolved input shape (channels last) while keeping the
 * note that says where the shape came from: the budget's spatial scaling uses it.
 */
export function planModel(model: ModelIR, options: ProbeOptions, inputOverride: Shape | null = null): Plan {
  const planner = new Planner(model, options);
  if (model.layers.length === 0) throw new ProbeFailure('input', `model ${model.name} has no layers the analyzer could read`);
  if (model.truncated) throw new ProbeFailure('budget', `the analyzer read only a part of model ${model.name} (${model.truncated}); the probe does not measure a part as the whole`, null, false);
  for (const u of model.unsupported) planner.note('warning', `Not modelled by the analyzer: ${oneLine(u.what)} (line ${u.range.start.line + 1}).`);
  const resolved = planner.resolveInputShape();
  let inputShape = inputOverride ?? resolved;
  const inputLayers = model.isGraph ? model.layers.flatMap((l, i) => (l.kind === 'input' && l.inputs.length === 0 ? [i] : [])) : [];
  const consumerOf = (index: number) => model.layers.find((l) => l.inputs.includes(model.layers[index]!.id));
  const indexById = new Map(model.layers.map((l, i) => [l.id, i]));
  const layers: PlannedLayer[] = [];
  // The shape the other operand of `index`'s first reader has when it is planned before (a merge partner).
  const partnerOf = (index: number): Shape | undefined => {
    const reader = consumerOf(index);
    const other = reader?.inputs.map((id) => indexById.get(id)).find((i) => i !== undefined && i !== index && i < layers.length);
    return other === undefined ? undefined : layers[other]?.outShape;
  };
  const plannedShape = (id: string): Shape | undefined => {
    const i = indexById.get(id);
    return i === undefined ? undefined : layers[i]?.outShape;
  };
  // Extra inputs are planned where the model lists them (torch traces list each just before its first reader).
  const extraShapes: Shape[] = [];
  /** Per planned layer: its output leaves channels-last where torch has channels first (torch models). */
  const channelsLast: boolean[] = [];
  /** Per planned layer: leading axes of its output that torch has folded into the batch (see PlannedLayer.foldedAxes). */
  const folded: number[] = [];
  const outputs = new Set(modelOutputs(model));
  model.layers.forEach((written, index) => {
    const k = inputLayers.indexOf(index);
    if (k > 0) extraShapes[k - 1] = planner.extraInputShape(written, consumerOf(index), `${k + 1} of ${inputLayers.length}`, plannedShape, inputShape);
    // torch.mul(self.label_emb(labels), noise): a guessed first input takes the shape of what its first reader joins it with.
    const joined = inputLayers[0] === 0 && written === consumerOf(0) && inputOverride === null && planner.inputGuessed && (written.kind === 'add' || written.kind === 'multiply');
    // `features.unsqueeze(1)` of a guessed first input joined with a sequence: the shape the join asks of it.
    const reshapedFirst = inputLayers[0] === 0 && written === consumerOf(0) && inputOverride === null && planner.inputGuessed && written.kind === 'tensor-op' && written.inputs.length === 1;
    const read = reshapedFirst ? planner.readShape(written, plannedShape, inputShape) : null;
    const partner = joined ? partnerOf(0) : read?.shape;
    if (partner && partner.join('x') !== inputShape.join('x')) {
      if (planner.guessNotice !== null) planner.notices.splice(planner.guessNotice, 1);
      planner.note('information', `Input 1 of ${inputLayers.length}: ${partner.join('x')} per example, ${read ? read.why : `as the other operand of ${describeLayer(written)}`}.`);
      inputShape = partner;
      const head = layers[0];
      if (head) layers[0] = { ...head, inShapes: [partner], outShape: partner };
    }
    const inputsIdx = planner.inputsOf(index, indexById, inputLayers);
    const inShapes = inputsIdx.map((i) => (i >= 0 ? layers[i]!.outShape : i === -1 ? inputShape : extraShapes[-i - 2]!));
    const layer = planner.withKnownSizes(written, outputs.has(index), model.layers[index + 1], inShapes[0]);
    if (isRecurrent(layer) && inputsIdx.length > 1) checkInitialState(layer, inputsIdx.slice(1).map((i) => (i >= 0 ? layers[i]!.ir : null)), inShapes.slice(1));
    const next = readerKind(model.layers, index);
    const inputsLast = inputsIdx.map((i) => (i >= 0 ? (channelsLast[i] ?? false) : i === -1 && planner.inputChannelsLast));
    if (layer.kind === 'tensor-op') {
      const output = readChannelsLast(next, tensorOpRank(layer, inShapes, inputsLast));
      const shape = planner.tensorOp(layer, inShapes, inputsLast, output);
      channelsLast.push(output);
      folded.push(0);
      layers.push({ ir: layer, inputs: inputsIdx, inShapes, outShape: shape, params: 0, lastStepOnly: false, axis: null, channelsLast: { inputs: inputsLast, output } });
      return;
    }
    planner.concatInTorchOrder = layer.kind === 'concat' && model.framework === 'torch' && !inputsLast.some((last) => last);
    const { shape, params, lastStepOnly, axis } = planner.outShape(layer, inShapes, next, readAsStateOnly(model.layers, written));
    planner.concatInTorchOrder = false;
    // Any other unknown layer was refused by outShape.
    if (layer.kind === 'backbone') planner.note('information', frozenBackboneNote(layer, shape), layer);
    else if (layer.kind === 'unknown' && layer.identity) planner.note('information', `${describeLayer(layer)} augments or masks its input while training; it has no weights, and the probe passes its input through unchanged.`, layer);
    const leavesLast = model.framework === 'torch' && leavesChannelsLast(layer, shape.length, inputsLast[0] ?? false, next);
    channelsLast.push(leavesLast);
    // A torch softmax over `dim=` reads its axis in torch's order: it needs to know how its input is laid out.
    const normalizes = model.framework === 'torch' && (layer.activation?.name === 'softmax' || layer.activation?.name === 'log_softmax') && layer.kind === 'activation';
    const foldedIn = inputsIdx[0] !== undefined && inputsIdx[0] >= 0 ? (folded[inputsIdx[0]] ?? 0) : 0;
    folded.push(foldedAxes(layer, shape, foldedIn));
    layers.push({ ir: layer, inputs: inputsIdx, inShapes, outShape: shape, params, lastStepOnly, axis: axis ?? null, ...(normalizes ? { channelsLast: { inputs: inputsLast, output: leavesLast }, ...(foldedIn > 0 ? { foldedAxes: foldedIn } : {}) } : {}) });
  });
  const first = firstComputing(layers.map((l) => l.ir)); // with its representative sizes
  // Every Embedding that reads the model input looks its ids up: the smallest table bounds them all.
  const readsInput = (l: PlannedLayer) => l.inputs[0] === -1 || (layers[l.inputs[0] ?? 0]?.ir.kind === 'input' && layers[l.inputs[0] ?? 0]?.inputs[0] === -1);
  const tables = layers.filter((l) => l.ir.kind === 'embedding' && readsInput(l)).flatMap((l) => vocabularyOf(l.ir) ?? []);
  const vocabulary = first?.kind === 'embedding' ? (tables.length > 0 ? Math.min(...tables) : vocabularyOf(first)) : null;
  const extraInputs = inputLayers.slice(1).map((index, k): ExtraInput => {
    // The Embedding that reads it (with its representative sizes) makes it tokens.
    const reader = layers.find((l) => l.inputs.includes(index))?.ir;
    const readerVocabulary = reader?.kind === 'embedding' ? vocabularyOf(reader) : null;
    const written = model.layers[index]!;
    const input: InputKind = readerVocabulary !== null ? { kind: 'tokens', vocabulary: readerVocabulary } : isNoiseInput(written) ? { kind: 'noise' } : isConstantInput(written) ? { kind: 'constant' } : { kind: 'float' };
    return { layer: index, shape: extraShapes[k]!, input };
  });
  // Token ids exist only at a model input that is fed tokens: the first when it is an Embedding's, an extra one an Embedding reads.
  const fedTokens = (source: number): boolean => {
    if (source === -1) return vocabulary !== null;
    if (source < -1) return extraInputs[-source - 2]?.input.kind === 'tokens';
    const reader = layers[source];
    return reader?.ir.kind === 'input' && fedTokens(reader.inputs[0] ?? -1);
  };
  for (const planned of layers) {
    const source = planned.inputs[0] ?? -1;
    if (planned.ir.kind !== 'embedding' || fedTokens(source)) continue;
    const reader = source >= 0 ? layers[source] : undefined;
    const what = reader && reader.ir.kind !== 'input' ? `the output of ${describeLayer(reader.ir)}` : 'a model input that is not token ids here';
    throw layerFailure('unsupported', planned.ir, `an Embedding looks up integer token ids, but it reads ${what}; the probe cannot tell which ids the code feeds it`);
  }
  return {
    inputShape,
    input: vocabulary !== null ? { kind: 'tokens', vocabulary } : { kind: 'float' },
    extraInputs,
    layers,
    notices: planner.notices,
  };
}
