/**
 * Matrix product + bias (+ activation) for Dense layers and recurrent cells. tfjs-core's gradient of
 * matMul uses transposed products (dy·Wᵀ, xᵀ·dy), which the wasm backend computes 5-10x slower than
 * plain ones; on wasm this version transposes explicitly and multiplies plainly, and fuses the bias
 * and a linear/relu/sigmoid activation into the forward op (fewer ops: per-op overhead dominates
 * small layers).
 *
 * The wasm backend also repacks the right-hand operand of every product it has not seen before (XNNPACK
 * caches the packed operand by tensor), at about 4x the cost of transposing it; a probe's weights are new
 * tensors after every update. So a product whose right-hand operand is big is computed as (bᵀ·aᵀ)ᵀ when
 * that packs and transposes less (a 9.9 M-weight Dense at batch 2: 180 ms -> 40 ms per product).
 */
import * as tf from '@tensorflow/tfjs-core';
import { denseBackward, denseForward } from './wasm-kernels';
import { reduceLeading, transposeMatrix } from './reduce';

export type FusableActivation = 'linear' | 'relu' | 'sigmoid';

/**
 * `reused`: b is multiplied again within the step (a recurrent kernel over time), so wasm packs it once.
 * `inputGradient` false: a is the model's input, whose gradient nobody reads: it is zeros (not computed).
 */
export type MatMul = (a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor, activation?: FusableActivation, reused?: boolean, inputGradient?: boolean) => tf.Tensor2D;

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

/** A matrix as an operand: `t` itself, or its transpose when `transposed`. */
interface Operand {
  t: tf.Tensor2D;
  transposed: boolean;
}

/** Relative costs per element on wasm (measured: packing ~17 ns, transposing ~4 ns). */
const PACK_COST = 4;
const TRANSPOSE_COST = 1;
/** Below this many operand elements a product runs plainly: one op beats any saving. */
const SWAP_MIN_ELEMENTS = 1 << 16;

const materialize = (o: Operand): tf.Tensor2D => (o.transposed ? transposeMatrix(o.t) : o.t);
const transposeOf = (o: Operand): tf.Tensor2D => (o.transposed ? o.t : transposeMatrix(o.t));

/** A matrix operand's shape as stored and whether it enters the product transposed. */
interface Layout {
  shape: [number, number];
  transposed: boolean;
}

const layoutOf = (o: Operand): Layout => ({ shape: o.t.shape, transposed: o.transposed });

/** Whether a·b costs less as (bᵀ·aᵀ)ᵀ: fewer elements packed and transposed. */
function swapIsCheaper(a: Layout, b: Layout, bPacked: boolean): boolean {
  const sa = a.shape[0] * a.shape[1];
  const sb = b.shape[0] * b.shape[1];
  if (sa + sb < SWAP_MIN_ELEMENTS) return false;
  const rows = a.transposed ? a.shape[1] : a.shape[0];
  const cols = b.transposed ? b.shape[0] : b.shape[1];
  const plain = TRANSPOSE_COST * ((a.transposed ? sa : 0) + (b.transposed ? sb : 0)) + (bPacked ? 0 : PACK_COST * sb);
  const swapped = TRANSPOSE_COST * ((a.transposed ? 0 : sa) + (b.transposed ? 0 : sb) + rows * cols) + PACK_COST * sa;
  return swapped < plain;
}

/**
 * Whether the forward product and both gradient products (dz·wᵀ and xᵀ·dz, dz shaped like a·b) run
 * plainly: then the layer runs as the single kernels of wasm-kernels.ts.
 */
function allPlain(a: tf.Tensor2D, b: tf.Tensor2D, reused: boolean): boolean {
  const x: Layout = { shape: a.shape, transposed: false };
  const w: Layout = { shape: b.shape, transposed: false };
  const dz: Layout = { shape: [a.shape[0], b.shape[1]], transposed: false };
  return !swapIsCheaper(x, w, reused) && !swapIsCheaper(dz, { ...w, transposed: true }, false) && !swapIsCheaper({ ...x, transposed: true }, dz, false);
}

/** a·b with plain (untransposed) products only, in the orientation that costs least. */
function product(a: Operand, b: Operand, bPacked = false): tf.Tensor2D {
  if (swapIsCheaper(layoutOf(a), layoutOf(b), bPacked)) return transposeMatrix(tf.matMul<tf.Tensor2D>(transposeOf(b), transposeOf(a)));
  return tf.matMul<tf.Tensor2D>(materialize(a), materialize(b));
}

function withExplicitTransposes(): MatMul {
  const cache = new Map<string, (...args: tf.Tensor[]) => tf.Tensor>();
  const productFor = (activation: FusableActivation, withBias: boolean, reused: boolean, inputGradient: boolean) => {
    const key = `${activation}/${withBias}/${reused}/${inputGradient}`;
    let op = cache.get(key);
    if (!op) {
      op = tf.customGrad<tf.Tensor>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const save = args[args.length - 1] as tf.GradSaveFunc;
        const [a, b, bias] = args.slice(0, -1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor | undefined];
        const x = { t: a, transposed: false };
        const w = { t: b, transposed: false };
        if (allPlain(a, b, reused)) {
          const value = denseForward(a, b, bias, activation);
          // A variable is the same tensor at the backward pass (the update comes after it): not copied.
          const weightsSaved = !(b instanceof tf.Variable);
          save(weightsSaved ? [a, value, b] : [a, value]);
          return {
            value,
            gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => denseBackward(dy, saved[1]!, saved[0] as tf.Tensor2D, (weightsSaved ? saved[2] : b) as tf.Tensor2D, activation, withBias, inputGradient),
          };
        }
        let value: tf.Tensor2D;
        if (swapIsCheaper(layoutOf(x), layoutOf(w), reused)) {
          const z = product(x, w);
          const biased = bias ? tf.add(z, bias) : z;
          value = (activation === 'relu' ? tf.relu(biased) : activation === 'sigmoid' ? tf.sigmoid(biased) : biased) as tf.Tensor2D;
        } else {
          value = tf.fused.matMul({ a, b, bias, activation }) as tf.Tensor2D;
        }
        save([a, b, value]);
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [xs, ws, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
            const dz = throughActivation(dy, y, activation) as tf.Tensor2D;
            const dx = inputGradient ? product({ t: dz, transposed: false }, { t: ws, transposed: true }) : tf.zerosLike(xs);
            const grads = [dx, product({ t: xs, transposed: true }, { t: dz, transposed: false })];
            return withBias ? [...grads, reduceLeading(dz, 'sum')] : grads;
          },
        };
      });
      cache.set(key, op);
    }
    return op;
  };
  return (a, b, bias, activation = 'linear', reused = false, inputGradient = true) => {
    const op = productFor(activation, bias !== undefined, reused, inputGradient);
    return (bias !== undefined ? op(a, b, bias) : op(a, b)) as tf.Tensor2D;
  };
}

/** The matMul to use on the current backend. */
export function makeMatMul(): MatMul {
  return tf.getBackend() === 'wasm' ? withExplicitTransposes() : plain;
}
