/**
 * Max pooling whose gradient is right on every backend. The wasm backend's MaxPoolGrad and
 * MaxPool3DGrad (tfjs-backend-wasm 4.22) start each window's running maximum at FLT_MIN, the smallest
 * positive float, instead of at minus infinity: a window whose values are all <= 0 passes no gradient
 * back (in PyTorch and Keras its largest value gets it). Pooling after a tanh, a BatchNorm or a linear
 * layer has such windows in every batch. The forward pooling (XNNPACK) is right.
 *
 * On wasm the gradient is therefore taken in two passes of the backend's kernel: windows whose
 * maximum is above FLT_MIN as they are, and the other windows on -1/x, which orders negative values
 * as they are ordered (and maps zero and positives above every negative), so the kernel sees positive
 * values only there.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The wasm kernels' starting maximum: windows whose maximum is not above it lose their gradient. */
const WASM_POOL_START = 1.1754943508222875e-38;
/** Stands for zero and positive values in the second pass: not below -1/x of any negative float32. */
const ABOVE_ALL = Infinity;

type PoolTensor = tf.Tensor4D | tf.Tensor5D;

/** tfjs pooling padding: 'valid', 'same' or explicit. */
type PoolPad = 'valid' | 'same';

function forward(x: tf.Tensor, size: number[], strides: number[], pad: PoolPad): PoolTensor {
  if (x.rank === 4) return tf.maxPool(x as tf.Tensor4D, [size[0]!, size[1]!], [strides[0]!, strides[1]!], pad);
  return tf.maxPool3d(x as tf.Tensor5D, [size[0]!, size[1]!, size[2]!], [strides[0]!, strides[1]!, strides[2]!], pad);
}

/** The backend's own MaxPoolGrad / MaxPool3DGrad kernel. */
function backendGrad(dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor, size: number[], strides: number[], pad: PoolPad): tf.Tensor {
  const kernel = x.rank === 4 ? 'MaxPoolGrad' : 'MaxPool3DGrad';
  const attrs = { filterSize: size, strides, pad };
  return tf.engine().runKernel<tf.Tensor>(kernel, { dy, input: x, output: y }, attrs);
}

function withTwoPassGradient(size: number[], strides: number[], pad: PoolPad): (x: PoolTensor) => PoolTensor {
  const pool = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [PoolTensor, tf.GradSaveFunc];
    const value = forward(x, size, strides, pad);
    save([x, value]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const [input, output] = saved as [PoolTensor, PoolTensor];
      const reached = tf.greater(output, WASM_POOL_START);
      const zeros = tf.zerosLike(dy);
      const first = backendGrad(tf.where(reached, dy, zeros), input, output, size, strides, pad);
      // -1/x is increasing on the negatives and positive there; zero and positives go above all of them.
      const ordered = tf.where(tf.less(input, 0), tf.div(-1, input), tf.fill(input.shape, ABOVE_ALL));
      const second = backendGrad(tf.where(reached, zeros, dy), ordered, forward(ordered, size, strides, pad), size, strides, pad);
      return tf.add(first, second);
    };
    return { value, gradFunc };
  });
  return (x) => pool(x);
}

/**
 * Max pooling of an NHWC (rank 4) or NDHWC (rank 5) tensor with the gradient PyTorch and Keras give:
 * the backend's own where its gradient kernel is right, the two-pass one on wasm.
 */
export function maxPool(x: PoolTensor, size: number[], strides: number[], pad: PoolPad): PoolTensor {
  if (tf.getBackend() !== 'wasm') return forward(x, size, strides, pad);
  return withTwoPassGradient(size, strides, pad)(x);
}
