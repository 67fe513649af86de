/**
 * Matrix product + bias (+ activation) for Dense layers and recurrent cells. tfjs-core's gradient of
 * matMul uses transposed products (dy·Wᵀ, xᵀ·dy), which the wasm backend computes 5-10x slower than
 * plain ones; on wasm this version transposes explicitly and multiplies plainly, and fuses the bias
 * and a linear/relu/sigmoid activation into the forward op (fewer ops: per-op overhead dominates
 * small layers).
 */
import * as tf from '@tensorflow/tfjs-core';

export type FusableActivation = 'linear' | 'relu' | 'sigmoid';

export type MatMul = (a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor, activation?: FusableActivation) => tf.Tensor2D;

/** Activations tfjs' own fused-matMul gradient handles. */
const NATIVE_FUSED_GRAD = new Set<FusableActivation>(['linear', 'relu']);

const plain: MatMul = (a, b, bias, activation = 'linear') => {
  if (NATIVE_FUSED_GRAD.has(activation)) return tf.fused.matMul({ a, b, bias, activation }) as tf.Tensor2D;
  const linear = tf.fused.matMul({ a, b, bias });
  return tf.sigmoid(linear) as tf.Tensor2D;
};

/** dL/dz from dL/dy for y = act(z), written with the output y. */
function throughActivation(dy: tf.Tensor, y: tf.Tensor, activation: FusableActivation): tf.Tensor {
  if (activation === 'relu') return tf.mul(dy, tf.step(y));
  if (activation === 'sigmoid') return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
  return dy;
}

function withExplicitTransposes(): MatMul {
  const cache = new Map<string, (...args: tf.Tensor[]) => tf.Tensor>();
  const productFor = (activation: FusableActivation, withBias: boolean) => {
    const key = `${activation}/${withBias}`;
    let product = cache.get(key);
    if (!product) {
      product = tf.customGrad<tf.Tensor>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const save = args[args.length - 1] as tf.GradSaveFunc;
        const [a, b, bias] = args.slice(0, -1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor | undefined];
        const value = tf.fused.matMul({ a, b, bias, activation });
        save([a, b, value]);
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [x, w, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
            const dz = throughActivation(dy, y, activation) as tf.Tensor2D;
            const grads = [tf.matMul(dz, tf.transpose(w)), tf.matMul(tf.transpose(x), dz)];
            return withBias ? [...grads, tf.sum(dz, 0)] : grads;
          },
        };
      });
      cache.set(key, product);
    }
    return product;
  };
  return (a, b, bias, activation = 'linear') => {
    const product = productFor(activation, bias !== undefined);
    return (bias !== undefined ? product(a, b, bias) : product(a, b)) as tf.Tensor2D;
  };
}

/** The matMul to use on the current backend. */
export function makeMatMul(): MatMul {
  return tf.getBackend() === 'wasm' ? withExplicitTransposes() : plain;
}
