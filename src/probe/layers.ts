/**
 * Planned layers -> differentiable tfjs-core computations with tf.Variables initialized exactly as the
 * framework would. Written with core ops (not tfjs-layers objects) so that PyTorch semantics can be
 * reproduced where tfjs-layers has only Keras' (two recurrent biases, reset-after GRU, explicit conv
 * padding, per-framework epsilons) and so every layer's output is at hand for measuring.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Framework, InitializerIR, LayerIR, LrnConfig, MergeConfig, NormSpread } from '../shared/ir';
import type { ProbeNotice } from '../shared/probe';
import { buildActivation, measureOf, type OutputMeasure } from './activations';
import { insertZeros, makeConv3d, makeGroupedConv2d, padOrCrop, samePadding, tapsReadingData, type SpatialPads, type TapSpan } from './conv';
import { maxPool } from './max-pool';
import { makeConvAsProduct, productIsCheaper } from './conv-matmul';
import { makeBatchNorm } from './batch-norm';
import { addChannelBias } from './channels';
import { gatesOf, isConv, isNormalization, isRecurrent, normEpsilon } from '../shared/layers';
import { makeMatMul, type FusableActivation, type MatMul } from './matmul';
import { describeLayer, layerFailure, layerLine } from './errors';
import { init, initialValues, kernelFans, UnknownInitializerError, type Fans } from './initializers';
import { convWindow, groupsOf, isGlobalMax, poolPadding, size, type PlannedLayer } from './plan';
import { interpolate } from './resize';
import { backboneOutput, perDim } from '../shared/shapes';
import type { Rng } from './rng';
import { attentionNode, positionEmbeddingNode, type WeightSource } from './attention';
import { softmaxAxis, tensorOpApply } from './tensor-ops';
import { affineInitializers } from '../shared/knowledge/initializers';

export interface StepContext {
  training: boolean;
  /** Seed source for this step's dropout masks. */
  rng: Rng;
}

export interface ProbeNode {
  planned: PlannedLayer;
  /** Trainable variables, in a fixed order. */
  vars: tf.Variable[];
  /** Weights of a frozen layer (LayerIR.frozen): used as constants, never differentiated, measured or updated. */
  held?: tf.Variable[];
  /** The main weight matrix (columns = units), checked for unbroken symmetry; null when weightless. */
  kernel: tf.Variable | null;
  /** The kernel's bias (one value per unit), part of a unit's identity for the symmetry check. */
  bias: tf.Variable | null;
  measure: OutputMeasure;
  apply(inputs: tf.Tensor[], ctx: StepContext): tf.Tensor;
  /**
   * Set on a later application of a layer object (LayerIR.sharesWeightsWith): the node of its first
   * application, whose computation and variables it reuses. It has no variables of its own, so the
   * gradient of the one set of variables is tfjs's gradient of the whole graph: the sum over applications.
   */
  reuses?: ProbeNode;
}

type InitSpec = Pick<InitializerIR, 'name' | 'params' | 'options'>;

/** Alpha dropout constants (Klambauer et al. 2017): -scale * alpha of SELU. */
const ALPHA_PRIME = -1.7580993408473766;

/** A one-input layer's `apply`: the planner gives every layer at least one input (merges read them all). */
/**
 * A value the planner has already required (units, pads, a factor): a missing one here is reported as
 * the layer's failure, like the planner would, never as a crash on null.
 */
function required<T>(value: T | null, layer: LayerIR, what: string): T {
  if (value === null) throw layerFailure('unsupported', layer, `${what} is not a constant the probe can read`);
  return value;
}

function single(apply: (x: tf.Tensor, ctx: StepContext) => tf.Tensor): ProbeNode['apply'] {
  return (inputs, ctx) => apply(inputs[0]!, ctx);
}

class NodeBuilder implements WeightSource {
  private counter = 0;
  private readonly matMul: MatMul = makeMatMul();
  constructor(
    readonly framework: Framework,
    private readonly rng: Rng,
    private readonly notices: ProbeNotice[],
    /** Unique per run: tfjs refuses two live variables with one name. */
    private readonly prefix: string,
    /** Ids of the layers whose every application reads only model inputs: they need no input gradient. */
    private readonly readingModelInputs: ReadonlySet<string> = new Set(),
  ) {}

  private get keras(): boolean {
    return this.framework === 'keras';
  }

  /** The IR's explicit initializer, else the framework default. */
  choose(layer: LayerIR, explicit: InitializerIR | null, fallback: InitSpec, role: string): InitSpec {
    if (!explicit || !explicit.explicit) return fallback;
    if (explicit.name === 'unknown') {
      this.notices.push({ severity: 'warning', message: `${describeLayer(layer)}: ${role} initializer ${explicit.spelling} is unknown to the probe; the framework default is used.`, line: layerLine(layer) });
      return fallback;
    }
    return explicit;
  }

  variable(layer: LayerIR, spec: InitSpec, shape: number[], fans: Fans, role: string): tf.Variable {
    let values: Float32Array;
    try {
      values = initialValues(spec, this.framework, shape, fans, this.rng);
    } catch (error) {
      if (error instanceof UnknownInitializerError) throw layerFailure('unsupported', layer, `cannot draw the ${role} initializer`);
      throw error;
    }
    // The variable shares the initial tensor's data; the tensor itself is not needed after.
    return tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `${this.prefix}/${layer.id}/${role}/${this.counter++}`));
  }

  kernelDefault(): InitSpec {
    return this.keras ? init('glorot_uniform') : init('kaiming_uniform', { a: Math.sqrt(5) }, { nonlinearity: 'leaky_relu', mode: 'fan_in' });
  }

  biasDefault(): InitSpec {
    return this.keras ? init('zeros') : init('torch_default_bias');
  }

  /** Kernel + optional bias + fused activation: Dense and Conv share this shape of layer. */
  /** `activationFused`: `compute` already applies the layer's activation. */
  private weighted(planned: PlannedLayer, kernelShape: number[], compute: (x: tf.Tensor, kernel: tf.Variable, bias: tf.Variable | null) => tf.Tensor, activationFused = false): ProbeNode {
    const layer = planned.ir;
    const fans = kernelFans(kernelShape);
    const kernel = this.variable(layer, this.choose(layer, layer.kernelInit, this.kernelDefault(), 'kernel'), kernelShape, fans, 'kernel');
    const units = kernelShape[kernelShape.length - 1]!;
    const bias = layer.useBias ? this.variable(layer, this.choose(layer, layer.biasInit, this.biasDefault(), 'bias'), [units], fans, 'bias') : null;
    const activation = buildActivation(layer.activation, this.framework, layer, planned.outShape, `${this.prefix}/${layer.id}`);
    return {
      planned,
      vars: [kernel, ...(bias ? [bias] : []), ...activation.vars],
      kernel,
      bias,
      measure: measureOf(layer.activation),
      apply: single((x) => (activationFused ? compute(x, kernel, bias) : activation.apply(compute(x, kernel, bias)))),
    };
  }

  /** Whether the layer (every application of it) reads only model inputs: no gradient flows out of it. */
  private readsModelInput(planned: PlannedLayer): boolean {
    return this.readingModelInputs.has(planned.ir.id);
  }

  private weightless(planned: PlannedLayer, apply: ProbeNode['apply'], measure: OutputMeasure = null): ProbeNode {
    return { planned, vars: [], kernel: null, bias: null, measure, apply };
  }

  build(planned: PlannedLayer): ProbeNode {
    const layer = planned.ir;
    const x0 = planned.inShapes[0]!;
    const last = x0[x0.length - 1]!;
    switch (layer.kind) {
      case 'input':
        return this.weightless(planned, single((x) => x));
      case 'dense': {
        // linear/relu/sigmoid are fused into the product (one op); other activations follow it.
        const name = layer.activation?.name ?? 'linear';
        const fused: FusableActivation | undefined = name === 'linear' || name === 'relu' || name === 'sigmoid' ? name : undefined;
        const units = required(layer.units, layer, 'the number of units');
        const inputGradient = !this.readsModelInput(planned);
        const dense = (x: tf.Tensor, kernel: tf.Variable, bias: tf.Variable | null) => {
          const flat = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape<tf.Rank.R2>(x, [-1, last]);
          const out = this.matMul(flat, kernel as tf.Tensor2D, bias ?? undefined, fused, false, inputGradient);
          return x.rank === 2 ? out : tf.reshape(out, [...x.shape.slice(0, -1), units]);
        };
        return this.weighted(planned, [last, units], dense, fused !== undefined);
      }
      case 'conv1d':
      case 'conv2d':
      case 'conv-transpose':
        return this.conv(planned, last);
      case 'conv3d':
        return this.conv3d(planned, last);
      case 'maxpool':
      case 'avgpool':
        return this.weightless(planned, single((x) => this.pool(planned, x)));
      case 'global-pool': {
        const axes = x0.slice(0, -1).map((_, i) => i + 1);
        const keep = layer.keepdims === true;
        return this.weightless(planned, single((x) => (isGlobalMax(layer) ? tf.max(x, axes, keep) : tf.mean(x, axes, keep))));
      }
      case 'flatten':
        return this.weightless(planned, single((x) => tf.reshape(x, [x.shape[0], -1])));
      case 'reshape':
        return this.weightless(planned, single((x) => this.reshape(planned, x)));
      case 'batchnorm':
      case 'layernorm':
        return this.normalization(planned, last);
      case 'groupnorm':
        return this.groupNormalization(planned, last);
      case 'dropout': {
        // Additive Gaussian noise has no drop rate; at the probe's scale it is left out.
        const rate = layer.noise === 'gaussian-noise' ? 0 : (layer.rate ?? 0.5);
        return this.weightless(planned, single((x, ctx) => (ctx.training && rate > 0 ? tf.dropout(x, rate, undefined, ctx.rng.seed()) : x)));
      }
      case 'alpha-dropout': {
        const rate = layer.rate ?? 0.5;
        const a = 1 / Math.sqrt((1 - rate) * (1 + rate * ALPHA_PRIME * ALPHA_PRIME));
        const b = -a * ALPHA_PRIME * rate;
        return this.weightless(planned, single((x, ctx) => {
          if (!ctx.training || rate <= 0) return x;
          const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', ctx.rng.seed()), rate), 'float32');
          const dropped = tf.add(tf.mul(x, keep), tf.mul(ALPHA_PRIME, tf.sub(1, keep)));
          return tf.add(tf.mul(a, dropped), b);
        }));
      }
      case 'rescaling': {
        const scale = layer.op === 'lambda' ? 1 / 255 : (layer.scale ?? 1);
        const offset = layer.offset ?? 0;
        return this.weightless(planned, single((x) => tf.add(tf.mul(x, scale), offset)));
      }
      case 'local-response-norm':
        return this.weightless(planned, single((x) => localResponseNorm(x, layer.lrn)));
      case 'activation': {
        if (!layer.activation) this.notices.push({ severity: 'warning', message: `${describeLayer(layer)}: activation not known; treated as linear.`, line: layerLine(layer) });
        const activation = buildActivation(layer.activation, this.framework, layer, x0, `${this.prefix}/${layer.id}`, softmaxAxis(planned));
        return { planned, vars: activation.vars, kernel: null, bias: null, measure: measureOf(layer.activation), apply: single((x) => activation.apply(x)) };
      }
      case 'embedding':
        return this.embedding(planned);
      case 'lstm':
      case 'gru':
      case 'simple-rnn':
        return this.recurrent(planned, last);
      case 'attention':
        return attentionNode(this, planned);
      case 'position-embedding':
        return positionEmbeddingNode(this, planned);
      case 'tensor-op':
        return this.weightless(planned, tensorOpApply(planned));
      case 'add':
        return this.weightless(planned, (xs) => (xs.length === 1 ? xs[0]! : mergeElementwise(layer.merge.op, xs)));
      case 'multiply':
        return this.weightless(planned, (xs) => xs.reduce((a, b) => tf.mul(a, b)));
      case 'concat': {
        const axis = (planned.axis ?? planned.outShape.length - 1) + 1; // + the batch axis
        return this.weightless(planned, (xs) => (xs.length === 1 ? xs[0]! : tf.concat(xs, axis)));
      }
      case 'backbone': {
        // A frozen pre-trained base (shared/backbone.ts): a fresh feature map max(0, N(0, 1)) every step,
        // whatever the image, pooled as the base pools it; nothing before it trains, so no gradient goes back.
        const map = required(backboneOutput({ ...layer.backbone, pooling: null }, x0), layer, 'its feature map');
        const spatial = map.slice(0, -1).map((_, i) => i + 1);
        return this.weightless(planned, single((x, ctx) => {
          const features = tf.relu(tf.randomNormal([x.shape[0], ...map.map((d) => d ?? 1)], 0, 1, 'float32', ctx.rng.seed()));
          if (layer.backbone.pooling === null) return features;
          return layer.backbone.pooling === 'avg' ? tf.mean(features, spatial) : tf.max(features, spatial);
        }));
      }
      default:
        return this.weightless(planned, single((x) => x)); // shape-preserving unknown layer, announced by the planner
    }
  }

  /**
   * Convolutions of rank 1 and 2: standard, grouped (torch `groups=`), depthwise (Keras
   * DepthwiseConv, a grouped convolution with one group per input channel), separable (depthwise then a
   * 1x1 pointwise kernel) and transposed (a convolution of the input spread by the stride, padded so
   * that it is the adjoint of the forward convolution). Kernels are stored as the probe convolves them,
   * [k..., in / groups, out]; a transposed kernel is the framework's flipped, with the framework's fans.
   */
  private conv(planned: PlannedLayer, inChannels: number): ProbeNode {
    const layer = planned.ir;
    if (!isConv(layer)) throw layerFailure('unsupported', layer, 'not a convolution');
    const config = layer.conv;
    const rank = planned.inShapes[0]!.length - 1;
    const { kernel: kernelSize, strides, padding, dilation } = convWindow(layer, rank);
    const transpose = config.variant === 'transpose';
    const depthwise = config.variant === 'depthwise' || config.variant === 'separable';
    const groups = depthwise ? inChannels : (config.groups ?? 1);
    const inSides = planned.inShapes[0]!.slice(0, rank);
    const outSides = planned.outShape.slice(0, rank);
    const effective = kernelSize.map((k) => (k - 1) * dilation + 1);
    // Explicit [before, after] per spatial dimension (negative: crop), so every spelling shares one path.
    const pads = inSides.map((side, i): [number, number] => {
      if (!transpose) {
        if (padding === 'same') return samePadding(side, kernelSize[i]!, strides[i]!, dilation);
        if (padding === 'causal') return [effective[i]! - 1, 0];
        return padding === 'valid' ? [0, 0] : [padding[i]!, padding[i]!];
      }
      if (padding === 'causal') throw layerFailure('unsupported', layer, 'causal padding on a transposed convolution');
      // The forward convolution this one is the adjoint of maps outSides -> inSides with padding `before`.
      const before = padding === 'same' ? Math.floor(Math.max(effective[i]! - strides[i]!, 0) / 2) : padding === 'valid' ? 0 : padding[i]!;
      return [effective[i]! - 1 - before, outSides[i]! + before - (side - 1) * strides[i]! - 1];
    });
    // Rank 1 runs as rank 2 over a height of 1.
    const pads2d: [number, number][] = rank === 1 ? [[0, 0], pads[0]!] : pads;
    const strides2d: [number, number] = transpose ? [1, 1] : rank === 1 ? [1, strides[0]!] : [strides[0]!, strides[1]!];
    const spread: [number, number] = transpose ? (rank === 1 ? [1, strides[0]!] : [strides[0]!, strides[1]!]) : [1, 1];
    // Zero pads go into the convolution (no padded copy, no cropped gradient); crops are cut beforehand.
    const padInConv = pads2d.every(([a, b]) => a >= 0 && b >= 0);
    // Taps that only ever read those pads are left out (the same numbers, fewer multiply-adds).
    const kernel2d = rank === 1 ? [1, kernelSize[0]!] : kernelSize;
    const sides2d = (rank === 1 ? [1, inSides[0]!] : inSides).map((side, i) => (side - 1) * spread[i]! + 1);
    const taps = sides2d.map((side, i): TapSpan => (padInConv ? tapsReadingData(side, kernel2d[i]!, strides2d[i]!, dilation, pads2d[i]!) : { first: 0, count: kernel2d[i]!, pads: [0, 0] }));
    const cropTaps = taps.some((t, i) => t.count < kernel2d[i]!);
    const convPads: SpatialPads = [taps[0]!.pads, taps[1]!.pads];
    const readsModelInput = this.readsModelInput(planned);
    const conv = makeGroupedConv2d(strides2d, dilation, groups, convPads, !readsModelInput);
    // On wasm a convolution whose kernel outweighs its data runs as one product (conv-matmul.ts).
    const product = groups === 1 && !transpose && tf.getBackend() === 'wasm' ? makeConvAsProduct(strides2d, dilation, convPads, !readsModelInput) : null;
    const outPositions = size(rank === 1 ? [1, outSides[0]!] : outSides);
    const pointwiseConv = makeGroupedConv2d([1, 1], 1, 1);
    const perGroupIn = depthwise ? 1 : inChannels / groups;
    const outChannels = depthwise ? inChannels * config.depthMultiplier : required(layer.units, layer, 'the number of filters');
    const kernelShape = depthwise ? [...kernelSize, inChannels, config.depthMultiplier] : [...kernelSize, perGroupIn, outChannels];
    // The framework's fans: a transposed kernel is stored with its channel axes swapped.
    const fans = transpose ? { fanIn: (outChannels / groups) * size(kernelSize), fanOut: inChannels * size(kernelSize) } : kernelFans(kernelShape);
    const kernel = this.variable(layer, this.choose(layer, layer.kernelInit, this.kernelDefault(), 'kernel'), kernelShape, fans, 'kernel');
    const pointwise = config.variant === 'separable' && config.pointwise ? this.pointwiseKernel(layer, config.pointwise.init, outChannels) : null;
    const units = pointwise ? required(layer.units, layer, 'the number of filters') : outChannels;
    const bias = layer.useBias ? this.variable(layer, this.choose(layer, layer.biasInit, this.biasDefault(), 'bias'), [units], fans, 'bias') : null;
    const activation = buildActivation(layer.activation, this.framework, layer, planned.outShape, `${this.prefix}/${layer.id}`);
    const convolve = (x: tf.Tensor): tf.Tensor => {
      let input = (rank === 1 ? tf.expandDims(x, 1) : x) as tf.Tensor4D;
      if (transpose) input = insertZeros(insertZeros(input, 1, spread[0] - 1), 2, spread[1] - 1) as tf.Tensor4D;
      if (!padInConv) input = padOrCrop(input, pads2d);
      let filter = (rank === 1 ? tf.expandDims(kernel, 0) : kernel) as tf.Tensor4D;
      if (cropTaps) filter = tf.slice(filter, [taps[0]!.first, taps[1]!.first, 0, 0], [taps[0]!.count, taps[1]!.count, -1, -1]);
      // Depthwise [k, k, in, multiplier] -> one group per input channel, outputs in tf's order (channel-major).
      if (depthwise) filter = tf.reshape(filter, [filter.shape[0], filter.shape[1], 1, outChannels]);
      let out: tf.Tensor = product && productIsCheaper(input.shape[0] * outPositions, filter.shape[3]) ? product(input, filter) : conv(input, filter);
      if (pointwise) out = pointwiseConv(out as tf.Tensor4D, pointwise as tf.Tensor4D);
      if (rank === 1) out = tf.squeeze(out, [1]);
      return bias ? addChannelBias(out, bias) : out;
    };
    return {
      planned,
      vars: [kernel, ...(pointwise ? [pointwise] : []), ...(bias ? [bias] : []), ...activation.vars],
      kernel,
      bias,
      measure: measureOf(layer.activation),
      apply: single((x) => activation.apply(convolve(x))),
    };
  }

  /**
   * A standard 3-D convolution (Keras Conv3D, torch Conv3d): kernel [kd, kh, kw, in, out] with the
   * framework's default init and fans, explicit or 'same' padding applied as pads, then a valid convolution.
   */
  private conv3d(planned: PlannedLayer, inChannels: number): ProbeNode {
    const layer = planned.ir;
    const { kernel: kernelSize, strides, padding } = convWindow(layer, 3);
    const sides = planned.inShapes[0]!.slice(0, 3);
    const pads = sides.map((side, i): [number, number] => {
      if (padding === 'same') return samePadding(side, kernelSize[i]!, strides[i]!, 1);
      return padding === 'valid' || padding === 'causal' ? [0, 0] : [padding[i]!, padding[i]!];
    });
    const units = required(layer.units, layer, 'the number of filters');
    const conv = makeConv3d([strides[0]!, strides[1]!, strides[2]!]);
    const padded = pads.some(([a, b]) => a > 0 || b > 0);
    return this.weighted(planned, [...kernelSize, inChannels, units], (x, kernel, bias) => {
      const input = (padded ? tf.pad(x, [[0, 0], ...pads, [0, 0]]) : x) as tf.Tensor5D;
      const out = conv(input, kernel as tf.Tensor5D);
      return bias ? tf.add(out, bias) : out;
    });
  }

  /** A separable convolution's 1x1 kernel, [1, 1, in, filters], with its own initializer. */
  private pointwiseKernel(layer: LayerIR, written: InitializerIR, inChannels: number): tf.Variable {
    const shape = [1, 1, inChannels, required(layer.units, layer, 'the number of filters')];
    return this.variable(layer, this.choose(layer, written, this.kernelDefault(), 'pointwise'), shape, kernelFans(shape), 'pointwise');
  }

  /** The shape-only layers; their output shapes were checked by the planner. */
  private reshape(planned: PlannedLayer, x: tf.Tensor): tf.Tensor {
    const layer = planned.ir;
    const out = planned.outShape;
    if (layer.kind !== 'reshape') return x;
    const config = layer.reshape;
    switch (config.op) {
      case 'zero-padding':
        return tf.pad(x, [[0, 0], ...required(config.pads, layer, 'the padding'), [0, 0]]);
      case 'edge-padding':
        return edgePad(x, required(config.pads, layer, 'the padding'), config.mode);
      case 'pixel-shuffle': {
        // torch's channel c*r*r + i*r + j goes to row h*r + i, column w*r + j of channel c.
        const r = required(config.factor, layer, 'the upscale factor');
        const [batch, height, width, channels] = x.shape as [number, number, number, number];
        const split = tf.reshape(x, [batch, height, width, channels / (r * r), r, r]);
        return tf.reshape(tf.transpose(split, [0, 1, 4, 2, 5, 3]), [batch, height * r, width * r, channels / (r * r)]);
      }
      case 'cropping':
        return tf.slice(x, [0, ...required(config.crops, layer, 'the cropping').map((c) => c[0]), 0], [-1, ...out]);
      case 'upsampling': {
        const how = { mode: config.mode ?? 'nearest', alignCorners: config.alignCorners ?? false };
        const factors = config.size ? null : perDim(config.factors, out.length - 1);
        if (how.mode !== 'nearest' || !factors?.every((f) => Number.isInteger(f))) return interpolate(x, out.slice(0, -1), how, factors);
        // Repeat positions one spatial axis at a time (tfjs tiles gradients up to rank 4 only; its
        // resizeNearestNeighbor gradient on the cpu backend disagrees with finite differences).
        let y = x;
        const sides = x.shape.slice(1, -1);
        sides.forEach((side, axis) => {
          const factor = out[axis]! / side;
          const before = y.shape.slice(0, axis + 1).reduce((p, d) => p * d, 1);
          const after = y.shape.slice(axis + 2).reduce((p, d) => p * d, 1);
          const tiled = tf.tile(tf.reshape(y, [before, side, 1, after]), [1, 1, factor, 1]);
          y = tf.reshape(tiled, y.shape.map((d, i) => (i === axis + 1 ? d * factor : d)));
        });
        return y;
      }
      case 'permute':
        return tf.transpose(x, [0, ...required(config.dims, layer, 'the permutation')]);
      case 'repeat-vector':
        return tf.tile(tf.expandDims(x, 1), [1, out[0]!, 1]);
      default:
        return tf.reshape(x, [x.shape[0], ...out]);
    }
  }

  private pool(planned: PlannedLayer, x: tf.Tensor): tf.Tensor {
    const layer = planned.ir;
    const rank = x.rank - 2;
    const { windows, pads, mode } = poolPadding(layer, planned.inShapes[0]!.slice(0, rank), planned.outShape.slice(0, rank));
    const size = windows.map((w) => w.kernel);
    const strides = windows.map((w) => w.stride);
    const max = layer.kind === 'maxpool';
    // Explicit (torch) padding: max pooling never picks a pad, average pooling counts it (count_include_pad).
    const padded = pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(x, [[0, 0], ...pads, [0, 0]], max ? -3.4e38 : 0) : x;
    if (rank === 1) {
      const wide = tf.expandDims<tf.Tensor4D>(padded, 1);
      const pooled = max ? maxPool(wide, [1, size[0]!], [1, strides[0]!], mode) : tf.avgPool(wide, [1, size[0]!], [1, strides[0]!], mode);
      return tf.squeeze(pooled, [1]);
    }
    if (max) return maxPool(padded as tf.Tensor4D | tf.Tensor5D, size, strides, mode);
    if (rank === 2) return tf.avgPool(padded as tf.Tensor4D, [size[0]!, size[1]!], [strides[0]!, strides[1]!], mode);
    return tf.avgPool3d(padded as tf.Tensor5D, [size[0]!, size[1]!, size[2]!], [strides[0]!, strides[1]!, strides[2]!], mode);
  }

  /**
   * A normalization's γ (`scale`) or β (`shift`) as the code initializes it (`nn.init.zeros_(bn.weight)`,
   * `gamma_initializer='zeros'`: affineInitializers), else the frameworks' ones and zeros.
   */
  private affineInitial(layer: LayerIR, part: 'scale' | 'shift', channels: number): tf.Tensor1D {
    const written = affineInitializers(layer)[part];
    if (!written) return part === 'scale' ? tf.ones([channels]) : tf.zeros([channels]);
    return tf.tensor1d(initialValues(written, this.framework, [channels], { fanIn: channels, fanOut: channels }, this.rng));
  }

  private normalization(planned: PlannedLayer, channels: number): ProbeNode {
    const layer = planned.ir;
    const epsilon = normEpsilon(layer, this.framework);
    const gamma = tf.variable(this.affineInitial(layer, 'scale', channels), true, `${this.prefix}/${layer.id}/gamma`);
    const beta = tf.variable(this.affineInitial(layer, 'shift', channels), true, `${this.prefix}/${layer.id}/beta`);
    // Training mode: BatchNorm's batch statistics over every axis but channels; LayerNorm over features.
    const batchNorm = layer.kind === 'batchnorm' ? makeBatchNorm(epsilon) : null;
    const spread = isNormalization(layer) ? layer.norm.spread : undefined;
    return {
      planned,
      vars: [gamma, beta],
      kernel: null,
      bias: null,
      measure: null,
      apply: single((x) => {
        if (batchNorm) return batchNorm(x, gamma, beta);
        const { mean, variance } = tf.moments(x, [x.rank - 1], true);
        const normalized = tf.mul(tf.sub(x, mean), spread ? handWrittenSpread(spread, variance, epsilon, channels) : tf.rsqrt(tf.add(variance, epsilon)));
        return tf.add(tf.mul(normalized, gamma), beta);
      }),
    };
  }

  /**
   * GroupNorm (torch, Keras GroupNormalization) and InstanceNorm (one group per channel): statistics per
   * example over the spatial positions and the channels of a group, then a per-channel scale and shift
   * when the layer learns them (torch InstanceNorm does not by default).
   */
  private groupNormalization(planned: PlannedLayer, channels: number): ProbeNode {
    const layer = planned.ir;
    const norm = isNormalization(layer) ? layer.norm : null;
    const groups = groupsOf(layer, channels);
    const epsilon = normEpsilon(layer, this.framework);
    const affine = norm?.affine !== false;
    const gamma = affine ? tf.variable(this.affineInitial(layer, 'scale', channels), true, `${this.prefix}/${layer.id}/gamma`) : null;
    const beta = affine ? tf.variable(this.affineInitial(layer, 'shift', channels), true, `${this.prefix}/${layer.id}/beta`) : null;
    return {
      planned,
      vars: gamma && beta ? [gamma, beta] : [],
      kernel: null,
      bias: null,
      measure: null,
      apply: single((x) => {
        const shape = x.shape;
        const grouped = tf.reshape(x, [shape[0], -1, groups, channels / groups]);
        const { mean, variance } = tf.moments(grouped, [1, 3], true);
        const normalized = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon))), shape);
        return gamma && beta ? tf.add(tf.mul(normalized, gamma), beta) : normalized;
      }),
    };
  }

  private embedding(planned: PlannedLayer): ProbeNode {
    const layer = planned.ir;
    const units = required(layer.units, layer, 'the embedding dimension');
    const vocabulary = planned.params / units;
    const shape = [vocabulary, units];
    // torch's weight is [num_embeddings, dim] and its fan_in is dim; Keras' fan_in is the vocabulary.
    const fans = this.keras ? { fanIn: vocabulary, fanOut: units } : { fanIn: units, fanOut: vocabulary };
    const fallback = this.keras ? init('random_uniform', { minval: -0.05, maxval: 0.05 }) : init('random_normal', { mean: 0, std: 1 });
    const table = this.variable(layer, this.choose(layer, layer.kernelInit, fallback, 'embeddings'), shape, fans, 'embeddings');
    // tf.gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks: scatter-add instead.
    const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [weights, indices, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const flat = tf.reshape(indices, [-1]);
      save([flat]);
      const value = tf.reshape(tf.gather(weights, flat), [...indices.shape, units]);
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(tf.reshape(saved[0]!, [-1, 1]), tf.reshape(dy, [-1, units]), shape), tf.reshape(tf.zerosLike(saved[0]!), indices.shape)];
      return { value, gradFunc };
    });
    return { planned, vars: [table], kernel: table, bias: null, measure: null, apply: single((tokens) => lookup(table, tokens)) };
  }

  private recurrent(planned: PlannedLayer, inFeatures: number): ProbeNode {
    const layer = planned.ir;
    const units = required(layer.units, layer, 'the hidden size');
    if (!isRecurrent(layer)) throw layerFailure('unsupported', layer, 'not a recurrent layer');
    const gates = gatesOf(layer.kind);
    const stack = layer.recurrent.numLayers ?? 1;
    const torchBound = 1 / Math.sqrt(units);
    const torchUniform = init('random_uniform', { a: -torchBound, b: torchBound });
    const kernelFallback = this.keras ? init('glorot_uniform') : torchUniform;
    const recurrentFallback = this.keras ? init('orthogonal', { gain: 1 }) : torchUniform;
    const twoBiases = !this.keras || layer.kind === 'gru'; // torch b_ih + b_hh; Keras GRU reset_after
    const activationName = layer.kind === 'simple-rnn' ? (layer.activation?.name === 'relu' ? 'relu' : 'tanh') : 'tanh';
    const vars: tf.Variable[] = [];
    const cells: { kernel: tf.Variable; recurrent: tf.Variable; biasIn: tf.Variable | null; biasHidden: tf.Variable | null }[] = [];
    // Bidirectional: a second cell per stacked layer reads the sequence backwards; the next layer reads both, concatenated (torch).
    const directions = layer.recurrent.bidirectional ? 2 : 1;
    const mergeMode = layer.recurrent.mergeMode;
    let inF = inFeatures;
    for (let cellIndex = 0; cellIndex < stack * directions; cellIndex++) {
      const kernelShape = [inF, gates * units];
      const kernel = this.variable(layer, this.choose(layer, layer.kernelInit, kernelFallback, 'kernel'), kernelShape, kernelFans(kernelShape), 'kernel');
      const recurrentShape = [units, gates * units];
      const recurrent = this.variable(layer, this.choose(layer, layer.recurrentInit, recurrentFallback, 'recurrent'), recurrentShape, kernelFans(recurrentShape), 'recurrent');
      let biasIn: tf.Variable | null = null;
      let biasHidden: tf.Variable | null = null;
      if (layer.useBias) {
        const biasSpec = this.choose(layer, layer.biasInit, this.keras ? init('zeros') : torchUniform, 'bias');
        biasIn = this.variable(layer, biasSpec, [gates * units], kernelFans(kernelShape), 'bias');
        if (this.keras && layer.kind === 'lstm' && !(layer.biasInit?.explicit ?? false) && layer.recurrent.unitForgetBias) {
          // Keras unit_forget_bias=True: the forget gate's bias starts at 1 (gate order i, f, c, o).
          const values = new Float32Array(gates * units);
          values.fill(1, units, 2 * units);
          biasIn.assign(tf.tensor(values));
        }
        if (twoBiases) biasHidden = this.variable(layer, biasSpec, [gates * units], kernelFans(kernelShape), 'bias_hidden');
      }
      cells.push({ kernel, recurrent, biasIn, biasHidden });
      vars.push(kernel, recurrent, ...(biasIn ? [biasIn] : []), ...(biasHidden ? [biasHidden] : []));
      if (cellIndex % directions === directions - 1) inF = units * directions;
    }
    const kind = layer.kind;
    const step = (cell: (typeof cells)[number], xt: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] => {
      if (kind === 'lstm') {
        const z = tf.add(xt, this.matMul(h, cell.recurrent as tf.Tensor2D, undefined, 'linear', true));
        const [i, f, g, o] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]; // 4 gates
        const cNext = tf.add<tf.Tensor2D>(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        return [tf.mul<tf.Tensor2D>(tf.sigmoid(o), tf.tanh(cNext)), cNext];
      }
      if (kind === 'gru') {
        const hz = this.matMul(h, cell.recurrent as tf.Tensor2D, cell.biasHidden ?? undefined, 'linear', true);
        const [xr, xzg, xn] = tf.split(xt, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor]; // 3 gates
        const [hr, hzg, hn] = tf.split(hz, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const r = tf.sigmoid(tf.add(xr, hr));
        const zg = tf.sigmoid(tf.add(xzg, hzg));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        return [tf.add<tf.Tensor2D>(tf.mul(tf.sub(1, zg), n), tf.mul(zg, h)), c];
      }
      const pre = tf.add(xt, this.matMul(h, cell.recurrent as tf.Tensor2D, undefined, 'linear', true));
      return [(activationName === 'relu' ? tf.relu(pre) : tf.tanh(pre)) as tf.Tensor2D, c];
    };
    const apply = (inputs: tf.Tensor[]): tf.Tensor => {
      const x = inputs[0]!;
      const batch = x.shape[0];
      const time = x.shape[1]!;
      // initial_state=: another recurrent layer's final states level by level (planned with as many
      // levels, one direction), else one tensor per state (planned single-level, one direction).
      const fromLayer = inputs.length > 1 ? finalStates.get(inputs[1]!) : undefined;
      const initialAt = (level: number): tf.Tensor2D[] | null => (inputs.length > 1 ? (fromLayer?.[level] ?? (inputs.slice(1) as tf.Tensor2D[])) : null);
      const levelStates: tf.Tensor2D[][] = [];
      let sequence = x;
      let last: tf.Tensor2D[] = [];
      for (let level = 0; level < stack; level++) {
        const features = sequence.shape[2]!;
        const runs = cells.slice(level * directions, (level + 1) * directions).map((cell, direction) => {
          // Project every time step through the input kernel in one matMul; biases of the input side fold in here.
          let bias: tf.Tensor | undefined = cell.biasIn ?? undefined;
          if (kind !== 'gru' && cell.biasHidden && bias) bias = tf.add(bias, cell.biasHidden);
          const projected = tf.reshape(this.matMul(tf.reshape<tf.Rank.R2>(sequence, [-1, features]), cell.kernel as tf.Tensor2D, bias), [batch, time, gates * units]);
          // One step: a reshape, since tfjs's unstack gradient fails on a single output.
          const unstacked = (time === 1 ? [tf.reshape(projected, [batch, gates * units])] : tf.unstack(projected, 1)) as tf.Tensor2D[];
          // A reversed copy: the array unstack returns is the gradient tape's record of its outputs.
          const steps = direction === 1 ? [...unstacked].reverse() : unstacked;
          const initial = initialAt(level);
          let h = initial?.[0] ?? tf.zeros<tf.Rank.R2>([batch, units]);
          let c = initial?.[1] ?? tf.zeros<tf.Rank.R2>([batch, units]);
          const outputs: tf.Tensor2D[] = [];
          for (const xt of steps) {
            [h, c] = step(cell, xt, h, c);
            outputs.push(h);
          }
          if (direction === 1) outputs.reverse();
          levelStates[level] = kind === 'lstm' ? [h, c] : [h];
          return { outputs, final: h };
        });
        sequence = runs.length === 1 ? tf.stack(runs[0]!.outputs, 1) : tf.concat(runs.map((r) => tf.stack(r.outputs, 1)), 2);
        // Keras reads each direction's final state; torch's out[:, -1] is the backward direction's first step.
        last = runs.map((r, direction) => (direction === 1 && !this.keras ? r.outputs[time - 1]! : r.final));
      }
      if (directions === 1) {
        const output = planned.lastStepOnly ? last[0]! : sequence;
        finalStates.set(output, levelStates);
        return output;
      }
      if (!this.keras || mergeMode === 'concat') return planned.lastStepOnly ? tf.concat(last, 1) : sequence;
      const halves = planned.lastStepOnly ? last : tf.split(sequence, 2, 2);
      return mergeDirections(halves[0]!, halves[1]!, mergeMode);
    };
    return { planned, vars, kernel: cells[0]!.kernel, bias: cells[0]!.biasIn, measure: 'tanh', apply };
  }
}

/**
 * 1 / spread of a layer normalization written by hand, from the biased variance of its `features`:
 * torch's x.std / x.var scale it by n / (n - 1) unless told otherwise, and `std + eps` adds eps
 * outside the root (see NormSpread).
 */
function handWrittenSpread(spread: NormSpread, variance: tf.Tensor, epsilon: number, features: number): tf.Tensor {
  const v = spread.unbiased && features > 1 ? tf.mul(variance, features / (features - 1)) : variance;
  return spread.epsInsideRoot ? tf.rsqrt(tf.add(v, epsilon)) : tf.reciprocal(tf.add(tf.sqrt(v), epsilon));
}

/**
 * The final states (h, and c for an LSTM) of each level of a one-direction recurrent layer, by the
 * output tensor it returned: a layer started from it (`initial_state=`, torch's `decoder(y, hidden)`)
 * reads them there, level by level, inside the same gradient tape.
 */
const finalStates = new WeakMap<tf.Tensor, tf.Tensor2D[][]>();

/**
 * An elementwise merge of same-shaped tensors as each framework computes it: Keras Add/Subtract/Average/
 * Maximum/Minimum (one 'add' layer kind), torch `a + b` and `a - b`. Subtract is the first minus the rest.
 */
function mergeElementwise(op: MergeConfig['op'], xs: tf.Tensor[]): tf.Tensor {
  switch (op) {
    case 'subtract':
      return tf.sub(xs[0]!, tf.addN(xs.slice(1)));
    case 'average':
      return tf.div(tf.addN(xs), xs.length);
    case 'maximum':
      return xs.reduce((a, b) => tf.maximum(a, b));
    case 'minimum':
      return xs.reduce((a, b) => tf.minimum(a, b));
    default:
      return tf.addN(xs);
  }
}

/** Keras Bidirectional merge_mode other than concat: the two directions' outputs combined elementwise. */
function mergeDirections(forward: tf.Tensor, backward: tf.Tensor, mode: 'sum' | 'mul' | 'ave' | 'none'): tf.Tensor {
  if (mode === 'sum') return tf.add(forward, backward);
  if (mode === 'mul') return tf.mul(forward, backward);
  if (mode === 'ave') return tf.mul(tf.add(forward, backward), 0.5);
  throw new Error("merge_mode=None returns two tensors; the planner refuses it");
}

/**
 * torch ReflectionPad (mirror without the edge) and ReplicationPad (the edge repeated) on the spatial
 * axes of a channels-last tensor, from slices, reversals and concatenations: differentiable on every backend.
 */
function edgePad(x: tf.Tensor, pads: [number, number][], mode: 'reflect' | 'replicate'): tf.Tensor {
  let y = x;
  pads.forEach(([before, after], i) => {
    const axis = i + 1;
    const side = y.shape[axis]!;
    const take = (start: number, length: number) => tf.slice(y, y.shape.map((_, a) => (a === axis ? start : 0)), y.shape.map((d, a) => (a === axis ? length : d)));
    const parts: tf.Tensor[] = [];
    if (before > 0) parts.push(mode === 'reflect' ? tf.reverse(take(1, before), axis) : tf.concat(Array.from({ length: before }, () => take(0, 1)), axis));
    parts.push(y);
    if (after > 0) parts.push(mode === 'reflect' ? tf.reverse(take(side - 1 - after, after), axis) : tf.concat(Array.from({ length: after }, () => take(side - 1, 1)), axis));
    y = parts.length === 1 ? y : tf.concat(parts, axis);
  });
  return y;
}

let runCounter = 0;

/**
 * The identity whose gradient is zero: the output of a layer applied under torch.no_grad(), which has
 * no grad_fn in PyTorch, so neither its weights nor anything upstream gets gradient through it.
 */
const blockGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

/**
 * A later application of the layer `first` built: the same computation on the same variables, or null
 * when the shapes differ (the computation was made for the first application's shapes).
 */
function reapplied(first: ProbeNode, compute: ProbeNode['apply'], planned: PlannedLayer): ProbeNode | null {
  const same = (a: number[] | undefined, b: number[] | undefined) => a !== undefined && b !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(first.planned.inShapes[0], planned.inShapes[0]) || !same(first.planned.outShape, planned.outShape)) return null;
  return { planned, vars: [], kernel: null, bias: null, measure: first.measure, apply: compute, reuses: first };
}

export function buildNodes(layers: PlannedLayer[], framework: Framework, rng: Rng, notices: ProbeNotice[]): ProbeNode[] {
  const inputLayers = new Set(layers.flatMap((l, i) => (l.ir.kind === 'input' ? [i] : [])));
  const readsInputs = (l: PlannedLayer) => l.inputs.every((i) => i < 0 || inputLayers.has(i));
  // A later application of a layer object runs the first one's computation: its input gradient is
  // skipped only when every application reads model inputs.
  const appliedToHidden = new Set(layers.flatMap((l) => (l.ir.sharesWeightsWith !== null && !readsInputs(l) ? [l.ir.sharesWeightsWith] : [])));
  const readingModelInputs = new Set(layers.flatMap((l) => (readsInputs(l) && !appliedToHidden.has(l.ir.id) ? [l.ir.id] : [])));
  const builder = new NodeBuilder(framework, rng, notices, `probe${runCounter++}`, readingModelInputs);
  const frozen: LayerIR[] = [];
  /** Later applications of a layer object that the probe cannot give the first one's weights. */
  const unshared: LayerIR[] = [];
  /** Each first application's node and its computation (before a no_grad application's gradient stop). */
  const byId = new Map<string, { node: ProbeNode; compute: ProbeNode['apply'] }>();
  // The gradient is stopped where a no_grad block's output leaves it (read outside it, or the model's
  // output): nothing inside gets gradient but through those, so one stop per exit is exact, and a
  // frozen trunk of hundreds of layers gets one stop, not one per layer.
  const readOutside = new Set(layers.flatMap((l) => (l.ir.noGrad ? [] : l.inputs)));
  const exits = (i: number) => layers[i]!.ir.noGrad && (readOutside.has(i) || i === layers.length - 1);
  const nodes = layers.map((planned, index): ProbeNode => {
    const first = planned.ir.sharesWeightsWith === null ? undefined : byId.get(planned.ir.sharesWeightsWith);
    const again = first ? reapplied(first.node, first.compute, planned) : null;
    if (first && !again) unshared.push(planned.ir);
    const made = again ?? builder.build(planned);
    const built = exits(index) ? { ...made, apply: (inputs: tf.Tensor[], ctx: StepContext) => blockGradient(made.apply(inputs, ctx)) } : made;
    if (again) return built;
    const node = !planned.ir.frozen || built.vars.length === 0 ? built : { ...built, vars: [], kernel: null, bias: null, held: built.vars };
    if (node !== built) frozen.push(planned.ir);
    byId.set(planned.ir.id, { node, compute: (inputs, ctx) => made.apply(inputs, ctx) });
    return node;
  });
  const [firstUnshared] = unshared;
  if (firstUnshared) {
    notices.push({ severity: 'warning', message: `${describeLayer(firstUnshared)}${unshared.length > 1 ? ` and ${unshared.length - 1} more application(s) of a layer` : ''} reuses the weights of an earlier application on other shapes (input or output), which the probe cannot compute with the same variables: it is probed with weights of its own, so its gradient is not the sum over applications.`, line: layerLine(firstUnshared) });
  }
  const [first] = frozen;
  if (first) {
    // One note for a frozen trunk of a hundred layers, naming the first few.
    const named = frozen.slice(0, 3).map(describeLayer).join(', ') + (frozen.length > 3 ? ` and ${frozen.length - 3} more` : '');
    const what = frozen.length === 1 ? `${named} is frozen` : `${frozen.length} layers are frozen (${named})`;
    const why =
      framework === 'keras'
        ? 'the code sets trainable = False on them before this model is built (a GAN\'s combined model trains its generator only)'
        : 'their parameters do not require grad, or forward runs them under torch.no_grad() (or feeds them only to such a block)';
    notices.push({ severity: 'information', message: `${what}: ${why}. The signal passes, but no gradient reaches their weights and the optimizer leaves them.`, line: layerLine(first) });
  }
  return nodes;
}

/**
 * torch nn.LocalResponseNorm over the channels (the last axis here): x / (k + alpha / size * the sum of
 * squares over `size` channels around each one)^beta. TensorFlow.js's kernel sums 2r + 1 channels with
 * its alpha not divided by the window, on 4-D tensors: any tensor is seen as [batch, positions, 1,
 * channels]. The planner refused unknown constants and even sizes.
 */
export function localResponseNorm(x: tf.Tensor, lrn: LrnConfig): tf.Tensor {
  const window = lrn.size ?? 1;
  const channels = x.shape[x.rank - 1]!;
  const batch = x.shape[0];
  const positions = x.size / (batch * channels);
  const seen = tf.reshape<tf.Rank.R4>(x, [batch, positions, 1, channels]);
  const normalized = tf.localResponseNormalization(seen, (window - 1) / 2, lrn.k ?? 1, (lrn.alpha ?? 0) / window, lrn.beta ?? 0);
  return tf.reshape(normalized, x.shape);
}
