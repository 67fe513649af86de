/**
 * The probe's plan of a model: which input to feed, which layer reads which, every layer's output shape
 * and parameter count, decided before any tensor exists. Unsupported layers, impossible shapes and
 * models over budget are refused here with a message naming the layer and its line.
 * Shapes exclude the batch dimension and are channels-last (NHWC), whatever the framework.
 */
import type { LayerIR, LayerKind, ModelIR } from '../shared/ir';
import type { ProbeNotice, ProbeOptions } from '../shared/probe';
import { describeLayer, layerFailure, layerLine, ProbeFailure } from './errors';

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
}

export interface Plan {
  inputShape: Shape;
  /** 'tokens' when the first layer is an Embedding: integer inputs in [0, vocabulary). */
  input: { kind: 'float' } | { kind: 'tokens'; vocabulary: number };
  layers: PlannedLayer[];
  notices: ProbeNotice[];
}

const RECURRENT: LayerKind[] = ['lstm', 'gru', 'simple-rnn'];
const SHAPE_PRESERVING_UNKNOWN = /^(?:.*\.)?(Identity|GaussianNoise|GaussianDropout|SpatialDropout[123]D|Dropout[123]d|ActivityRegularization|FeatureAlphaDropout|Masking)$/;
const DEFAULT_IMAGE_SIDE = 32;

function num(value: number | string | boolean | undefined): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** First numeric value among the given param spellings. */
export function numParam(layer: LayerIR, keys: string[]): number | null {
  for (const key of keys) {
    const value = num(layer.params[key]);
    if (value !== null) return value;
  }
  return null;
}

export function flagParam(layer: LayerIR, keys: string[]): boolean | null {
  for (const key of keys) {
    const value = layer.params[key];
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    if (value === 'True' || value === 'true') return true;
    if (value === 'False' || value === 'false') return false;
  }
  return null;
}

/** A tuple parameter as the analyzer records it ("[28,28,1]", "[[1,1],[2,2]]") or a single number. */
export function tupleParam(layer: LayerIR, key: string): number | number[] | number[][] | null {
  const raw = layer.params[key];
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(raw.replace(/\(/g, '[').replace(/\)/g, ']').replace(/,\s*\]/g, ']'));
    const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number');
    if (typeof parsed === 'number' || isNums(parsed)) return parsed;
    if (Array.isArray(parsed) && parsed.every(isNums)) return parsed;
  } catch {
    // not a tuple
  }
  return null;
}

/** [before, after] per spatial dimension from Keras' ZeroPadding/Cropping forms: n, (a, b) or ((a, b), (c, d)). */
export function pairsPerDim(value: number | number[] | number[][] | null, rank: number, fallback: number): [number, number][] {
  if (value === null) return new Array<[number, number]>(rank).fill([fallback, fallback]);
  if (typeof value === 'number') return new Array<[number, number]>(rank).fill([value, value]);
  if (value.length > 0 && Array.isArray(value[0])) return (value as number[][]).map((p) => [p[0], p[1] ?? p[0]]);
  const flat = value as number[];
  // 1-D layers take (before, after); 2-D layers take (symmetric height, symmetric width).
  return rank === 1 ? [[flat[0], flat[1] ?? flat[0]]] : flat.map((v) => [v, v]);
}

/** Which shape-only operation a 'reshape' layer is (the analyzer puts the class in params.op). */
export function reshapeOp(layer: LayerIR): string {
  const op = layer.params.op;
  return typeof op === 'string' ? op.replace(/[123]D$/, '') : 'Reshape';
}

function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

export function vocabularyOf(layer: LayerIR): number | null {
  return numParam(layer, ['input_dim', 'num_embeddings']) ?? layer.inFeatures;
}

/** Kernel size as one number per spatial dimension (a single number applies to all). */
export function spatialParam(values: number[] | null, rank: number, fallback: number): number[] {
  if (!values || values.length === 0) return new Array<number>(rank).fill(fallback);
  if (values.length === 1) return new Array<number>(rank).fill(values[0]);
  return values.slice(0, rank);
}

/** 'same' | 'valid' | an explicit symmetric pad per spatial dimension. */
export type Padding = 'same' | 'valid' | number;

export function paddingOf(layer: LayerIR): Padding {
  const raw = layer.params.padding;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') {
    const s = raw.replace(/['"]/g, '').toLowerCase();
    if (s === 'same') return 'same';
    if (s === 'valid') return 'valid';
    if (Number.isFinite(Number(s))) return Number(s);
  }
  return 'valid'; // Keras 'valid' and torch padding=0 are the same
}

export function stridesOf(layer: LayerIR, rank: number, fallback: number[]): number[] {
  const value = numParam(layer, ['strides', 'stride']);
  return value === null ? fallback : new Array<number>(rank).fill(value);
}

export function dilationOf(layer: LayerIR): number {
  return numParam(layer, ['dilation_rate', 'dilation']) ?? 1;
}

function convOutSide(side: number, kernel: number, stride: number, padding: Padding, dilation: number): number {
  if (padding === 'same') return Math.ceil(side / stride);
  const pad = padding === 'valid' ? 0 : padding;
  return Math.floor((side + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Pool size per spatial dimension: kernelSize, pool_size or kernel_size, default 2. */
export function poolSizeOf(layer: LayerIR, rank: number): number[] {
  const fromParam = numParam(layer, ['pool_size', 'kernel_size']);
  return spatialParam(layer.kernelSize ?? (fromParam === null ? null : [fromParam]), rank, 2);
}

function isGlobalMax(layer: LayerIR): boolean {
  return /max/i.test(layer.className);
}
export { isGlobalMax };

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
    return this.model.layers.find((l) => l.kind !== 'input') ?? null;
  }

  resolveInputShape(): Shape {
    const first = this.firstLayer();
    if (this.options.inputShape) {
      this.note('information', `Input shape ${this.options.inputShape.join('x')} from the --input-shape option.`);
      return this.options.inputShape;
    }
    const declared = this.model.inputShape;
    if (declared && declared.length > 0) {
      const filled = this.fillUnknown(declared, first);
      if (this.model.framework !== 'torch' || filled.length !== 3 || first?.kind !== 'conv2d') return filled;
      const channelsLast = [filled[1], filled[2], filled[0]];
      this.note('information', `PyTorch input (C, H, W) = (${filled.join(', ')}) is probed channels-last as ${channelsLast.join('x')}.`);
      return channelsLast;
    }
    if (!first) throw new ProbeFailure('input', `model ${this.model.name} has no layers to probe`);
    const seq = this.options.sequenceLength;
    switch (first.kind) {
      case 'embedding':
        this.note('information', `Input: ${seq} integer tokens per example (sequence length not in the code; set it with the sequence-length option).`, first);
        return [seq];
      case 'dense':
        if (first.inFeatures) {
          this.note('information', `Input shape [${first.inFeatures}] from the in_features of ${describeLayer(first)}.`);
          return [first.inFeatures];
        }
        break;
      case 'conv2d':
        if (first.inFeatures) {
          this.note('warning', `Input ${DEFAULT_IMAGE_SIDE}x${DEFAULT_IMAGE_SIDE}x${first.inFeatures}: channels from ${describeLayer(first)}, image size unknown (pass --input-shape H,W,C).`);
          return [DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE, first.inFeatures];
        }
        break;
      case 'conv1d':
      case 'lstm':
      case 'gru':
      case 'simple-rnn':
        if (first.inFeatures) {
          this.note('warning', `Input ${seq}x${first.inFeatures}: features from ${describeLayer(first)}, sequence length ${seq} assumed (pass --input-shape T,F).`);
          return [seq, first.inFeatures];
        }
        break;
      default:
        break;
    }
    throw new ProbeFailure('shape', `cannot tell the input shape of model ${this.model.name}: the code does not say it (no input_shape / Input(shape=) / in_features). Pass --input-shape, e.g. --input-shape 28,28,1.`);
  }

  private fillUnknown(declared: (number | null)[], first: LayerIR | null): Shape {
    if (declared.every((d): d is number => d !== null)) {
      this.note('information', `Input shape ${declared.join('x')} from the model code.`);
      return declared;
    }
    const recurrent = first !== null && (RECURRENT.includes(first.kind) || first.kind === 'embedding' || first.kind === 'conv1d');
    const fill = recurrent ? this.options.sequenceLength : DEFAULT_IMAGE_SIDE;
    const shape = declared.map((d) => d ?? fill);
    this.note('warning', `Input shape ${shape.join('x')}: unknown dimensions of (${declared.map((d) => d ?? 'None').join(', ')}) set to ${fill}.`);
    return shape;
  }

  /** Output shape of the shape-only layers the analyzer files under 'reshape'. */
  private reshaped(layer: LayerIR, x: Shape): Shape {
    const rank = x.length - 1;
    switch (reshapeOp(layer)) {
      case 'Reshape': {
        const target = tupleParam(layer, 'target_shape');
        if (!Array.isArray(target) || Array.isArray(target[0])) throw layerFailure('unsupported', layer, 'the target shape is not a constant the probe can read');
        const dims = target as number[];
        const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const out = dims.map((d) => (d === -1 ? size(x) / known : d));
        if (size(out) !== size(x) || out.some((d) => !Number.isInteger(d) || d < 1)) throw layerFailure('shape', layer, `cannot reshape ${x.join('x')} to (${dims.join(', ')})`);
        return out;
      }
      case 'ZeroPadding': {
        const pads = pairsPerDim(tupleParam(layer, 'padding'), rank, 1);
        return [...x.slice(0, rank).map((d, i) => d + pads[i][0] + pads[i][1]), x[rank]];
      }
      case 'Cropping': {
        const crops = pairsPerDim(tupleParam(layer, 'cropping'), rank, 0);
        const out = [...x.slice(0, rank).map((d, i) => d - crops[i][0] - crops[i][1]), x[rank]];
        if (out.some((d) => d < 1)) throw layerFailure('shape', layer, `cropping leaves nothing of ${x.join('x')}`);
        return out;
      }
      case 'UpSampling': {
        const factor = tupleParam(layer, 'size');
        const factors = typeof factor === 'number' ? new Array(rank).fill(factor) : Array.isArray(factor) && !Array.isArray(factor[0]) ? (factor as number[]) : new Array(rank).fill(2);
        if (rank > 2) throw layerFailure('unsupported', layer, '3-D upsampling is not supported by the probe');
        return [...x.slice(0, rank).map((d, i) => d * factors[i]), x[rank]];
      }
      case 'Permute': {
        const dims = tupleParam(layer, 'dims');
        if (!Array.isArray(dims) || Array.isArray(dims[0]) || dims.length !== x.length) throw layerFailure('unsupported', layer, 'the permutation is not a constant the probe can read');
        return (dims as number[]).map((d) => x[d - 1]);
      }
      case 'RepeatVector': {
        const n = numParam(layer, ['n']);
        if (n === null || x.length !== 1) throw layerFailure('unsupported', layer, 'RepeatVector needs a constant n and a flat input');
        return [n, x[0]];
      }
      default:
        throw layerFailure('unsupported', layer, `the probe cannot build ${layer.className}`);
    }
  }

  /** Input edges: graph inputs by id; chains read the previous layer. */
  inputsOf(index: number, indexById: Map<string, number>): number[] {
    const layer = this.model.layers[index];
    if (!this.model.isGraph || layer.inputs.length === 0) return [index === 0 ? -1 : index - 1];
    return layer.inputs.map((id) => {
      const source = indexById.get(id);
      if (source === undefined) throw layerFailure('input', layer, `reads layer id ${id}, which the model does not have`);
      return source;
    });
  }

  outShape(layer: LayerIR, inShapes: Shape[], nextKind: LayerKind | null): { shape: Shape; params: number; lastStepOnly: boolean; axis?: number } {
    const x = inShapes[0];
    const last = x[x.length - 1];
    const bias = layer.useBias ? 1 : 0;
    const plain = (shape: Shape, params = 0) => ({ shape, params, lastStepOnly: false });
    switch (layer.kind) {
      case 'input':
        return plain(x);
      case 'dense': {
        if (layer.units === null) throw layerFailure('unsupported', layer, 'the number of units is not a constant the probe can read');
        if (layer.inFeatures !== null && layer.inFeatures !== last) {
          throw layerFailure('shape', layer, `expects ${layer.inFeatures} input features but receives ${last} (input ${x.join('x')}); pass --input-shape to match the code`);
        }
        return plain([...x.slice(0, -1), layer.units], last * layer.units + bias * layer.units);
      }
      case 'conv1d':
      case 'conv2d': {
        const rank = layer.kind === 'conv1d' ? 1 : 2;
        if (x.length !== rank + 1) throw layerFailure('shape', layer, `needs a ${rank + 1}-d input per example (channels last) but receives ${x.join('x')}`);
        if (layer.units === null) throw layerFailure('unsupported', layer, 'the number of filters is not a constant the probe can read');
        if (layer.inFeatures !== null && layer.inFeatures !== last) {
          throw layerFailure('shape', layer, `expects ${layer.inFeatures} input channels but receives ${last}; pass --input-shape to match the code`);
        }
        if (numParam(layer, ['groups']) !== null && numParam(layer, ['groups']) !== 1) throw layerFailure('unsupported', layer, 'grouped convolutions are not supported by the probe');
        const kernel = spatialParam(layer.kernelSize, rank, 3);
        const strides = stridesOf(layer, rank, new Array<number>(rank).fill(1));
        const padding = paddingOf(layer);
        const dilation = dilationOf(layer);
        const sides = x.slice(0, rank).map((side, i) => convOutSide(side, kernel[i], strides[i], padding, dilation));
        if (sides.some((s) => s < 1)) throw layerFailure('shape', layer, `input ${x.join('x')} is too small for kernel ${kernel.join('x')}`);
        const k = size(kernel);
        return plain([...sides, layer.units], k * last * layer.units + bias * layer.units);
      }
      case 'maxpool':
      case 'avgpool': {
        const rank = x.length - 1;
        if (rank < 1 || rank > 2) throw layerFailure('shape', layer, `pooling needs a 2-d or 3-d input per example but receives ${x.join('x')}`);
        const pool = poolSizeOf(layer, rank);
        const strides = stridesOf(layer, rank, pool);
        const padding = paddingOf(layer) === 'same' ? 'same' : 'valid';
        const sides = x.slice(0, rank).map((side, i) => convOutSide(side, pool[i], strides[i], padding, 1));
        if (sides.some((s) => s < 1)) throw layerFailure('shape', layer, `input ${x.join('x')} is too small for pool ${pool.join('x')}`);
        return plain([...sides, last]);
      }
      case 'global-pool':
        return plain([last]);
      case 'flatten':
        return plain([size(x)]);
      case 'reshape':
        return plain(this.reshaped(layer, x));
      case 'batchnorm':
        return plain(x, 4 * last);
      case 'layernorm':
        return plain(x, 2 * last);
      case 'dropout':
      case 'alpha-dropout':
      case 'rescaling':
        return plain(x);
      case 'activation':
        if (layer.activation?.name === 'prelu') {
          return plain(x, this.torch ? (numParam(layer, ['num_parameters']) ?? 1) : size(x));
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
        if (x.length !== 2) throw layerFailure('shape', layer, `a recurrent layer needs a (time, features) input per example but receives ${x.join('x')}`);
        if (layer.units === null) throw layerFailure('unsupported', layer, 'the hidden size is not a constant the probe can read');
        if (flagParam(layer, ['bidirectional'])) throw layerFailure('unsupported', layer, 'bidirectional recurrent layers are not supported by the probe yet');
        if (layer.inFeatures !== null && layer.inFeatures !== last) throw layerFailure('shape', layer, `expects ${layer.inFeatures} input features but receives ${last}`);
        const gates = layer.kind === 'lstm' ? 4 : layer.kind === 'gru' ? 3 : 1;
        const layersCount = numParam(layer, ['num_layers']) ?? 1;
        const torch = this.torch;
        let params = 0;
        let inF = last;
        for (let i = 0; i < layersCount; i++) {
          const biases = layer.useBias ? (torch || layer.kind === 'gru' ? 2 : 1) : 0;
          params += gates * layer.units * (inF + layer.units + biases);
          inF = layer.units;
        }
        const returnSequences = flagParam(layer, ['return_sequences']);
        const lastStepOnly = returnSequences === null ? torch && !(nextKind !== null && RECURRENT.includes(nextKind)) : !returnSequences;
        if (returnSequences === null && torch && lastStepOnly) this.note('information', `${describeLayer(layer)}: the next layer receives the last time step, as out[:, -1] does.`, layer);
        return { shape: lastStepOnly ? [layer.units] : [x[0], layer.units], params, lastStepOnly };
      }
      case 'add':
      case 'multiply': {
        for (const other of inShapes.slice(1)) {
          if (other.join('x') !== x.join('x')) throw layerFailure('shape', layer, `inputs have different shapes: ${inShapes.map((s) => s.join('x')).join(' vs ')}`);
        }
        return plain(x);
      }
      case 'concat': {
        const rank = x.length;
        const axisRaw = numParam(layer, ['axis', 'dim']) ?? -1;
        // torch's dim=1 on NCHW is the channel axis, which is last in the probe's NHWC layout.
        const axis = this.torch && axisRaw === 1 ? rank - 1 : axisRaw < 0 ? rank + axisRaw : axisRaw - 1;
        const out = [...x];
        if (axis < 0 || axis >= rank) throw layerFailure('shape', layer, `cannot concatenate on axis ${axisRaw} of ${x.join('x')}`);
        for (const other of inShapes) {
          if (other.length !== rank || other.some((d, i) => i !== axis && d !== x[i])) throw layerFailure('shape', layer, `inputs do not fit together: ${inShapes.map((s) => s.join('x')).join(' vs ')}`);
        }
        out[axis] = inShapes.reduce((sum, s) => sum + s[axis], 0);
        return { ...plain(out), axis };
      }
      default:
        if (layer.kind === 'unknown' && SHAPE_PRESERVING_UNKNOWN.test(layer.className)) return plain(x);
        throw layerFailure('unsupported', layer, `the probe cannot build a '${layer.kind}' layer`);
    }
  }
}

function assertBudget(model: ModelIR, layers: PlannedLayer[], options: ProbeOptions): void {
  const total = layers.reduce((s, l) => s + l.params, 0);
  const budget = options.budget;
  if (total > budget.maxParams) {
    const biggest = [...layers].sort((a, b) => b.params - a.params)[0];
    throw new ProbeFailure(
      'budget',
      `model ${model.name} has ${fmt(total)} parameters, over the probe budget of ${fmt(budget.maxParams)}; the largest layer is ${describeLayer(biggest.ir)} with ${fmt(biggest.params)} (output ${biggest.outShape.join('x')}).`,
      { name: biggest.ir.name, line: layerLine(biggest.ir) },
    );
  }
  const activations = layers.reduce((s, l) => s + size(l.outShape), 0) * options.batchSize;
  if (activations > budget.maxActivations) {
    const biggest = [...layers].sort((a, b) => size(b.outShape) - size(a.outShape))[0];
    throw new ProbeFailure(
      'budget',
      `model ${model.name} needs ${fmt(activations)} activation values per step at batch ${options.batchSize}, over the probe budget of ${fmt(budget.maxActivations)}; the largest output is ${describeLayer(biggest.ir)} (${biggest.outShape.join('x')} per example). Lower --batch or --input-shape.`,
      { name: biggest.ir.name, line: layerLine(biggest.ir) },
    );
  }
}

export function planModel(model: ModelIR, options: ProbeOptions): Plan {
  const planner = new Planner(model, options);
  if (model.layers.length === 0) throw new ProbeFailure('input', `model ${model.name} has no layers the analyzer could read`);
  const inputs = model.layers.filter((l) => l.kind === 'input');
  if (inputs.length > 1) throw layerFailure('unsupported', inputs[1], 'models with several inputs are not supported by the probe');
  for (const u of model.unsupported) planner.note('warning', `Not modelled by the analyzer: ${u.what} (line ${u.range.start.line + 1}).`);
  const inputShape = planner.resolveInputShape();
  const indexById = new Map(model.layers.map((l, i) => [l.id, i]));
  const layers: PlannedLayer[] = [];
  model.layers.forEach((layer, index) => {
    const inputsIdx = planner.inputsOf(index, indexById);
    const inShapes = inputsIdx.map((i) => (i < 0 ? inputShape : layers[i].outShape));
    const next = model.layers[index + 1]?.kind ?? null;
    const { shape, params, lastStepOnly, axis } = planner.outShape(layer, inShapes, next);
    if (layer.kind === 'unknown') planner.note('warning', `${describeLayer(layer)} is not known to the probe; it is skipped as shape-preserving.`, layer);
    layers.push({ ir: layer, inputs: inputsIdx, inShapes, outShape: shape, params, lastStepOnly, axis: axis ?? null });
  });
  const first = model.layers.find((l) => l.kind !== 'input');
  const vocabulary = first?.kind === 'embedding' ? vocabularyOf(first) : null;
  assertBudget(model, layers, options);
  return {
    inputShape,
    input: vocabulary !== null ? { kind: 'tokens', vocabulary } : { kind: 'float' },
    layers,
    notices: planner.notices,
  };
}
