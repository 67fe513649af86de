/**
 * Upsampling by interpolation (torch nn.Upsample nearest / bilinear / linear with scale_factor or
 * size=, align_corners; Keras UpSampling2D(interpolation='bilinear')), built as one interpolation
 * matrix per spatial axis so that forward and gradient are exact matrix products on every backend.
 *
 * The index arithmetic is PyTorch's (aten upsample kernels): with `scale` = 1 / scale_factor when a
 * factor is given, else in / out,
 * - nearest: source floor(dst * scale), at most in - 1;
 * - linear, align_corners: source dst * (in - 1) / (out - 1);
 * - linear, otherwise: source max((dst + 0.5) * scale - 0.5, 0) (half-pixel centres, as TF's
 *   bilinear resize with half_pixel_centers, which Keras uses);
 * the output mixes the two neighbours floor(source) and the next one (clamped) by the fraction.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface Interpolation {
  mode: 'nearest' | 'bilinear';
  alignCorners: boolean;
}

/** Row-major (out x in) weights: output position `o` along the axis is sum_i m[o][i] * input[i]. */
export function interpolationMatrix(inSide: number, outSide: number, { mode, alignCorners }: Interpolation, factor: number | null): Float32Array {
  const m = new Float32Array(outSide * inSide);
  const scale = factor !== null ? 1 / factor : inSide / outSide;
  for (let o = 0; o < outSide; o++) {
    if (mode === 'nearest') {
      m[o * inSide + Math.min(Math.floor(o * scale), inSide - 1)] = 1;
      continue;
    }
    const source = alignCorners ? (outSide > 1 ? (o * (inSide - 1)) / (outSide - 1) : 0) : Math.max((o + 0.5) * scale - 0.5, 0);
    const low = Math.min(Math.floor(source), inSide - 1);
    const high = Math.min(low + 1, inSide - 1);
    const fraction = source - low;
    // low and high are in range; at the last position they coincide and the weights add up to 1.
    m[o * inSide + low] = m[o * inSide + low]! + 1 - fraction;
    m[o * inSide + high] = m[o * inSide + high]! + fraction;
  }
  return m;
}

/**
 * Resizes the spatial axes of a channels-last batch `x` ([batch, ...spatial, channels]) to `outSides`,
 * one axis at a time; `factors` are the scale factors as written (null: sizes given).
 */
export function interpolate(x: tf.Tensor, outSides: readonly number[], how: Interpolation, factors: readonly number[] | null): tf.Tensor {
  let y = x;
  outSides.forEach((outSide, i) => {
    const axis = i + 1;
    const inSide = y.shape[axis]!;
    if (inSide === outSide && how.mode === 'nearest') return;
    const weights = tf.tensor2d(interpolationMatrix(inSide, outSide, how, factors?.[i] ?? null), [outSide, inSide]);
    // Move the axis last, multiply by the transposed weights, move it back.
    const perm = [...y.shape.keys()].filter((d) => d !== axis).concat(axis);
    const moved = tf.transpose(y, perm);
    const mixed = tf.matMul(tf.reshape(moved, [-1, inSide]), weights, false, true);
    const back = perm.map((_, d) => perm.indexOf(d));
    y = tf.transpose(tf.reshape(mixed, [...moved.shape.slice(0, -1), outSide]), back);
  });
  return y;
}
