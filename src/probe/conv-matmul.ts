/**
 * A 2-D convolution as one matrix product of the input's patches (im2col) with the kernel, for layers
 * whose kernel outweighs their data: the last convolutions of a discriminator or an encoder on a 4x4
 * or 2x2 map, and networks the size budget scaled down to small images. The wasm backend packs a
 * convolution's filter anew for every call at ~35 ns per weight (a 4x4x1024x2048 kernel: 1.3 s per
 * call, at batch 1 for 16 output positions), and the probe's convolution-based input gradient also
 * transposes and flips it. As a product, the kernel is packed once per step by the forward product
 * (gemm packing, ~6 ns per weight) and is the unpacked left operand of the input gradient's product.
 *   forward:         y = P·W,            P: [positions, taps·in] patches of the padded input
 *   filter gradient: dW = Pᵀ·dy
 *   input gradient:  dP = (W·dyᵀ)ᵀ, each tap's patch gradient added back where it was read (col2im).
 */
import * as tf from '@tensorflow/tfjs-core';
import { insertZeros, type SpatialPads } from './conv';
import { transposeMatrix } from './reduce';

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/** Geometry of one call: padded input sides, output sides, taps. */
interface Geometry {
  padded: [number, number];
  out: [number, number];
  kernel: [number, number];
}

function geometryOf(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], dilation: number, pads: SpatialPads): Geometry {
  const padded: [number, number] = [x.shape[1] + pads[0][0] + pads[0][1], x.shape[2] + pads[1][0] + pads[1][1]];
  const kernel: [number, number] = [w.shape[0], w.shape[1]];
  const out = padded.map((side, i) => Math.floor((side - ((kernel[i]! - 1) * dilation + 1)) / strides[i]!) + 1) as [number, number];
  return { padded, out, kernel };
}

/** [batch·outH·outW, kh·kw·in]: tap (kh, kw)'s column block holds what it reads at every output position. */
function patches(xp: tf.Tensor4D, g: Geometry, strides: [number, number], dilation: number): tf.Tensor2D {
  const [batch, , , channels] = xp.shape;
  const taps: tf.Tensor4D[] = [];
  for (let kh = 0; kh < g.kernel[0]; kh++) {
    for (let kw = 0; kw < g.kernel[1]; kw++) {
      const begin = [0, kh * dilation, kw * dilation, 0];
      const end = [batch, kh * dilation + (g.out[0] - 1) * strides[0] + 1, kw * dilation + (g.out[1] - 1) * strides[1] + 1, channels];
      taps.push(tf.stridedSlice(xp, begin, end, [1, strides[0], strides[1], 1]) as tf.Tensor4D);
    }
  }
  const stacked = taps.length === 1 ? taps[0]! : tf.stack(taps, 3);
  return tf.reshape(stacked, [batch * g.out[0] * g.out[1], taps.length * channels]);
}

/** The padded input's gradient from its patches' gradient: each tap's block added back where it read. */
function unpatch(dP: tf.Tensor2D, g: Geometry, strides: [number, number], dilation: number, batch: number, channels: number): tf.Tensor4D {
  const taps = g.kernel[0] * g.kernel[1];
  const blocks = tf.reshape(dP, [batch, g.out[0], g.out[1], taps, channels]);
  const parts: tf.Tensor4D[] = [];
  for (let kh = 0; kh < g.kernel[0]; kh++) {
    for (let kw = 0; kw < g.kernel[1]; kw++) {
      const t = kh * g.kernel[1] + kw;
      const block = tf.reshape(tf.slice(blocks, [0, 0, 0, t, 0], [-1, -1, -1, 1, -1]), [batch, g.out[0], g.out[1], channels]);
      const spread = insertZeros(insertZeros(block, 1, strides[0] - 1), 2, strides[1] - 1);
      const top = kh * dilation;
      const left = kw * dilation;
      const pads: [number, number][] = [[0, 0], [top, g.padded[0] - top - spread.shape[1]!], [left, g.padded[1] - left - spread.shape[2]!], [0, 0]];
      parts.push(tf.pad(spread, pads) as tf.Tensor4D);
    }
  }
  return parts.length === 1 ? parts[0]! : tf.addN(parts);
}

/**
 * The convolution as a product; `inputGradient` false returns a zero input gradient (the model's input).
 * Same contract as conv.ts makeConv2d: NHWC input padded by `pads`, kernel [kh, kw, in, out], one group.
 */
export function makeConvAsProduct(strides: [number, number], dilation: number, pads: SpatialPads, inputGradient: boolean): Conv {
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const g = geometryOf(x, w, strides, dilation, pads);
    const padded = pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]]) : x;
    const p = patches(padded, g, strides, dilation);
    const [kh, kw, inChannels, outChannels] = w.shape;
    const wMatrix = tf.reshape<tf.Rank.R2>(w, [kh * kw * inChannels, outChannels]);
    const value = tf.reshape<tf.Rank.R4>(tf.matMul(p, wMatrix), [x.shape[0], g.out[0], g.out[1], outChannels]);
    save([x, w, p]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, ws, ps] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D];
      const dyMatrix = tf.reshape<tf.Rank.R2>(dy, [-1, outChannels]);
      const dw = tf.reshape(tf.matMul(transposeMatrix(ps), dyMatrix), ws.shape);
      if (!inputGradient) return [tf.zerosLike(xs), dw];
      const wm = tf.reshape<tf.Rank.R2>(ws, [kh * kw * inChannels, outChannels]);
      const dP = transposeMatrix(tf.matMul(wm, transposeMatrix(dyMatrix)));
      const dxp = unpatch(dP, g, strides, dilation, xs.shape[0], inChannels);
      const dx = dxp.shape[1] === xs.shape[1] && dxp.shape[2] === xs.shape[2] ? dxp : tf.slice(dxp, [0, pads[0][0], pads[1][0], 0], xs.shape);
      return [dx, dw];
    };
    return { value, gradFunc };
  });
  return (x, w) => conv(x, w);
}

/**
 * Whether a convolution costs less as a product: when its patches hold fewer values than its kernel
 * (fewer output positions than output channels), packing the kernel dominates the convolution.
 */
export function productIsCheaper(outPositions: number, outChannels: number): boolean {
  return outPositions < outChannels;
}
