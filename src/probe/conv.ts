/**
 * 2-D convolution with explicit padding whose filter gradient works on every backend: the wasm backend
 * has no Conv2DBackpropFilter kernel, so there the filter gradient is computed as a convolution of the
 * input with the output gradient (batch and channel axes swapped), which wasm does have.
 */
import * as tf from '@tensorflow/tfjs-core';

/** TensorFlow's 'same' padding of one spatial dimension: [before, after]. */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

function withFilterGradByConvolution(strides: [number, number], dilation: number): Conv {
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, filter, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const value = tf.conv2d(input, filter, strides, 'valid', 'NHWC', [dilation, dilation]);
    // Keep the inputs alive for the backward pass (the tape may dispose them otherwise).
    save([input, filter]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [x, w] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      const dx = tf.conv2dTranspose(dy4, w, x.shape, strides, 'valid');
      // dW[kh,kw,ci,co] = sum_b,i,j x[b, i*s + kh*d, j*s + kw*d, ci] * dy[b,i,j,co]: a convolution of
      // x as [ci, H, W, batch] with dy as a [Ho, Wo, batch, co] filter, stride d, dilation s.
      const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
      const dyT = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D;
      const full = tf.conv2d(xT, dyT, [dilation, dilation], 'valid', 'NHWC', strides);
      const [kh, kw] = w.shape;
      const dw = tf.transpose(tf.slice(full, [0, 0, 0, 0], [-1, kh, kw, -1]), [1, 2, 0, 3]);
      return [dx, dw];
    };
    return { value, gradFunc };
  });
  return (x, w) => conv(x, w);
}

/**
 * A valid-padded 2-D convolution (pad first for anything else). Uses the backend's own gradient where
 * it has Conv2DBackpropFilter, else the convolution-based one.
 */
export function makeConv2d(strides: [number, number], dilation: number): Conv {
  const native = tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
  if (native) return (x, w) => tf.conv2d(x, w, strides, 'valid', 'NHWC', [dilation, dilation]);
  return withFilterGradByConvolution(strides, dilation);
}
