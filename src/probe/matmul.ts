/**
 * Matrix product (+ bias) for Dense layers and recurrent cells. tfjs-core's gradient of matMul uses
 * transposed products (dy·Wᵀ, xᵀ·dy), which the wasm backend computes 5-10x slower than plain ones;
 * on wasm this version transposes explicitly and multiplies plainly instead.
 */
import * as tf from '@tensorflow/tfjs-core';

export type MatMul = (a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor) => tf.Tensor2D;

const plain: MatMul = (a, b, bias) => tf.fused.matMul({ a, b, bias }) as tf.Tensor2D;

function withExplicitTransposes(): MatMul {
  const product = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x, w] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        return [tf.matMul(d, tf.transpose(w)), tf.matMul(tf.transpose(x), d)];
      },
    };
  });
  return (a, b, bias) => {
    const out = product(a, b) as tf.Tensor2D;
    return bias ? (tf.add(out, bias) as tf.Tensor2D) : out;
  };
}

/** The matMul to use on the current backend. */
export function makeMatMul(): MatMul {
  return tf.getBackend() === 'wasm' ? withExplicitTransposes() : plain;
}
